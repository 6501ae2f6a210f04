"""The city council's page: the business case in plain language (presentation only).

Everything is read from ``investment_results.json`` (the results contract written by
notebook 05), so notebook 90 can place the page in the report's front matter. Texts exist
in English and Danish (:data:`TEXT`, checked by ``tests/test_language.py``); numbers are
formatted in the study's language. Words a councillor may not know are explained in the
glossary line at the bottom of the page.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from helpers.disclosure import Check, check_counts
from helpers.investment.tables import fmt_number, fmt_pct

ACTOR_NAMES = {"municipality": ("the municipality", "kommunen"), "state": ("the state", "staten"),
               "public": ("the public sector as a whole", "det offentlige samlet")}
ACTOR_ROWS = {"municipality": ("Municipality", "Kommunen"), "state": ("State", "Staten"),
              "public": ("Public sector, total", "Det offentlige i alt")}

#: Every fixed text of the page, (en, da).
TEXT = {
    "heading": ("## For the city council: does the programme pay?", "## Til byrådet: Kan indsatsen betale sig?"),
    "no_results": ("The investment calculation did not run, so this page has no figures.",
                   "Investeringsberegningen er ikke kørt, så denne side har ingen tal."),
    "cost": ("**What it cost.** The programme cost DKK {cost} million for {n} participants (DKK {pp} per "
             "participant), paid by {bearer}.",
             "**Hvad det kostede.** Indsatsen kostede {cost} mio. kr. for {n} deltagere ({pp} kr. pr. deltager), "
             "betalt af {bearer}."),
    "saved": ("**What it saved, and for whom.** We compare the participants with {n_ctl} similar citizens who did not "
              "take part. Over {years} years ({measured} measured, the rest estimated forward), counted in today's "
              "money and after paying for the programme, {whole}: {parts}. The savings come from less spending on "
              "benefits and from more tax paid by participants who work.",
              "**Hvad det sparede, og for hvem.** Vi sammenligner deltagerne med {n_ctl} lignende borgere, som ikke "
              "deltog. Over {years} år ({measured} målt, resten fremskrevet), regnet i dagens penge og efter at "
              "indsatsen er betalt, {whole}: {parts}. Besparelserne kommer af færre udgifter til ydelser og af mere "
              "skat fra deltagere, der arbejder."),
    "ahead": ("{who} comes out DKK {x} million ahead", "står {who} {x} mio. kr. bedre"),
    "behind": ("{who} comes out DKK {x} million behind", "står {who} {x} mio. kr. dårligere"),
    "part_ahead": ("{who} DKK {x} million ahead", "{who} {x} mio. kr. bedre"),
    "part_behind": ("{who} DKK {x} million behind", "{who} {x} mio. kr. dårligere"),
    "payback": ("**When it pays back.** {parts}.", "**Hvornår det er tjent hjem.** {parts}."),
    "pays_in": ("for {who} in year {year}", "for {who} i år {year}"),
    "pays_not": ("for {who} not within {years} years", "for {who} ikke inden for {years} år"),
    "break_even": ("**What it takes to break even.** The programme pays for itself for {who} if it brings {need} more "
                   "of the {n} participants off public support for good; what we measured corresponds to {seen}.",
                   "**Hvad der skal til for at gå i nul.** Indsatsen betaler sig for {who}, hvis den får {need} flere "
                   "af de {n} deltagere varigt ud af offentlig forsørgelse; det målte svarer til {seen}."),
    "sure": ("**How sure we are.** Allowing for chance and for uncertain prices, costs and how long the effect lasts, "
             "the chance that the programme pays off is {parts}.",
             "**Hvor sikre vi er.** Når der tages højde for tilfældigheder og for usikre priser, udgifter og hvor "
             "længe effekten holder, er chancen for at indsatsen betaler sig {parts}."),
    "sure_part": ("{p} for {who}", "{p} for {who}"),
    "figure": ("The figure shows the accumulated net saving year by year; the shaded band shows how much the line "
               "could differ by chance, given the uncertainty of the measured effect (a 95 % interval).",
               "Figuren viser den akkumulerede nettobesparelse år for år; det skraverede bånd viser, hvor meget kurven "
               "kunne afvige ved tilfældigheder ud fra usikkerheden på den målte effekt (et 95 %-interval)."),
    "not_included": ("**Not included.** Equalisation between municipalities (udligning): part of the municipality's "
                     "extra tax income is passed on to other municipalities, so its real gain from tax is smaller. "
                     "Health, crime and quality of life are not counted.",
                     "**Ikke medregnet.** Udligningen mellem kommunerne: en del af kommunens ekstra skatteindtægt "
                     "gives videre til andre kommuner, så dens reelle gevinst af skatten er mindre. Sundhed, "
                     "kriminalitet og livskvalitet er ikke regnet med."),
    "glossary": ("*Words used.* Today's money (present value): future kroner count for less than kroner today, by the "
                 "Finance Ministry's rate of 3.5 % a year. Pays back: the first year from which the accumulated "
                 "saving stays above the cost. Refusion: the state's share of the municipality's spending on benefits.",
                 "*Ord brugt.* Dagens penge (nutidsværdi): fremtidige kroner tæller mindre end kroner i dag, med "
                 "Finansministeriets rente på 3,5 % om året. Tjent hjem: det første år, fra hvilket den akkumulerede "
                 "besparelse bliver over udgiften. Refusion: statens andel af kommunens udgifter til ydelser."),
    "synthetic": ("*The numbers come from synthetic data; they show the method, not the programme.*",
                  "*Tallene kommer fra syntetiske data; de viser metoden, ikke indsatsen.*"),
    "persons": ("{x} citizens", "{x} borgere"),
    "col_who": ("Who", "Hvem"),
    "col_net": ("Net saving, today's money (DKK million)", "Nettobesparelse, dagens penge (mio. kr.)"),
    "col_range": ("95 % interval", "95 %-interval"),
    "col_pays": ("Pays back", "Tjent hjem"),
    "col_chance": ("Chance it pays off", "Chance for at det betaler sig"),
    "year_n": ("year {year}", "år {year}"),
    "not_within": ("not within {years} years", "ikke inden for {years} år"),
    "no_cost": ("no cost to pay back", "ingen udgift at tjene hjem"),
}


def _t(key: str, language: str, **kw) -> str:
    en, da = TEXT[key]
    return (da if language == "da" else en).format(**kw)


def _who(actor: str, language: str) -> str:
    en, da = ACTOR_NAMES[actor]
    return da if language == "da" else en


def _mio(x: float, language: str) -> str:
    return fmt_number(abs(x) / 1e6, language, 1)


def _ok(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _payback(actor: dict, years: int, language: str) -> str:
    if not actor.get("costs"):
        return _t("no_cost", language)
    pb = actor.get("payback_year_pv")
    return _t("year_n", language, year=int(pb)) if _ok(pb) else _t("not_within", language, years=years)


def paragraphs(results: dict | None, language: str, *, perspective=("municipality", "state", "public"),
               synthetic: bool = False) -> list[str]:
    """The page's text as Markdown paragraphs (heading first)."""
    L = language
    out = [_t("heading", L)]
    if not results or "actors" not in results:
        return out + [_t("no_results", L)]
    actors, years = results["actors"], int(results.get("horizon_total_years") or 0)
    n, n_ctl = int(results.get("n_intervention") or 0), int(results.get("n_control") or 0)
    bearer = results.get("settings", {}).get("cost_bearer", "municipality")
    cost = float(actors.get("public", {}).get("costs") or 0.0)
    out.append(_t("cost", L, cost=_mio(cost, L), n=n, pp=fmt_number(cost / n if n else 0, L), bearer=_who(bearer, L)))
    shown = [a for a in perspective if a in actors]
    whole = actors.get("public", actors[shown[-1]])
    key = "ahead" if whole["npv"] >= 0 else "behind"
    parts = [_t("part_ahead" if actors[a]["npv"] >= 0 else "part_behind", L, who=_who(a, L),
                x=_mio(actors[a]["npv"], L)) for a in shown if a != "public"]
    measured = int(results.get("settings", {}).get("horizon_years") or years)
    out.append(_t("saved", L, n_ctl=n_ctl, years=years, measured=measured,
                  whole=_t(key, L, who=_who("public", L), x=_mio(whole["npv"], L)), parts="; ".join(parts)))
    pay = [(_t("pays_in", L, who=_who(a, L), year=int(actors[a]["payback_year_pv"]))
            if _ok(actors[a].get("payback_year_pv")) else _t("pays_not", L, who=_who(a, L), years=years))
           for a in shown if actors[a].get("costs")]
    if pay:
        text = "; ".join(pay)
        out.append(_t("payback", L, parts=text[0].upper() + text[1:]))
    be = {r["actor"]: r for r in results.get("break_even", []) if r.get("actor") in shown}
    for a in [x for x in ("municipality", "public") if x in be][:1]:
        r = be[a]
        if _ok(r.get("persons_needed")) and _ok(r.get("observed_equivalent")):
            out.append(_t("break_even", L, who=_who(a, L), need=fmt_number(r["persons_needed"], L, 1), n=n,
                          seen=_t("persons", L, x=fmt_number(r["observed_equivalent"], L, 1))))
    p = results.get("p_npv_positive_by_actor") or {}
    sure = [_t("sure_part", L, p=fmt_pct(p[a], L, 0), who=_who(a, L)) for a in ("municipality", "public")
            if a in shown and _ok(p.get(a))]
    if sure:
        out.append(_t("sure", L, parts=" and ".join(sure) if L != "da" else " og ".join(sure)))
    out += [_t("figure", L), _t("not_included", L)]
    return out


def closing(language: str, *, synthetic: bool = False) -> list[str]:
    """The lines after the figure and table: glossary (and the synthetic-data note)."""
    return [_t("glossary", language)] + ([_t("synthetic", language)] if synthetic else [])


def key_figures(results: dict, language: str, perspective=("municipality", "state", "public")) -> pd.DataFrame:
    """One row per actor: net saving in today's money, its 95 % range, payback, chance it pays off."""
    L = language
    actors, years = results["actors"], int(results.get("horizon_total_years") or 0)
    p = results.get("p_npv_positive_by_actor") or {}
    rows = []
    for a in perspective:
        if a not in actors:
            continue
        r = actors[a]
        rng = (f"{fmt_number(r['npv_low'] / 1e6, L, 1)} {'til' if L == 'da' else 'to'} "
               f"{fmt_number(r['npv_high'] / 1e6, L, 1)}") if _ok(r.get("npv_low")) and _ok(r.get("npv_high")) else ""
        rows.append([ACTOR_ROWS[a][1 if L == "da" else 0], fmt_number(r["npv"] / 1e6, L, 1), rng,
                     _payback(r, years, L), fmt_pct(p[a], L, 0) if _ok(p.get(a)) else ""])
    return pd.DataFrame(rows, columns=[_t(k, L) for k in ("col_who", "col_net", "col_range", "col_pays",
                                                          "col_chance")])


def balance_frame(results: dict) -> pd.DataFrame:
    """The yearly balance records of the results contract as a frame (for the figure)."""
    return pd.DataFrame(results.get("balance") or [])


def load_results(processed_dir, output_dir=None) -> dict | None:
    """``investment_results.json`` from ``output_dir`` or ``processed_dir`` (None when the stage did not run)."""
    for folder in [f for f in (output_dir, processed_dir) if f is not None]:
        path = Path(folder) / "investment_results.json"
        if path.exists():
            res = json.loads(path.read_text(encoding="utf-8"))
            return res if "actors" in res else None
    return None


def disclosure(results: dict, min_cell: int, *, item: str) -> Check:
    """PASS when both groups hold 0 or at least ``min_cell`` persons (the page shows sums over them)."""
    return check_counts([int(results.get("n_intervention") or 0), int(results.get("n_control") or 0)], min_cell,
                        item=item, what="group sizes")
