"""Report tables of the per-code public balance (presentation only; numbers come from the analysis).

- :func:`code_assumptions_table`: prices per code (grouped), the flexjob rule, refusion and
  the municipality/state split, tax rates, the earnings assumption, then the general rows.
- :func:`balance_table`: per actor, the yearly gross benefit savings, lost tax on benefits,
  gained tax on earnings, programme cost and net (1,000 DKK).
- :func:`unpriced_table`: codes met in follow-up without a price, with person-weeks.
- :func:`scenario_table`: the scale-up scenarios.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.disclosure import MASK, Check
from helpers.investment.analysis import InvestmentAnalysis
from helpers.investment.balance import unpriced_codes
from helpers.investment.refusion import STEPS_2016
from helpers.investment.tables import (
    _t,
    actor_label,
    fmt_number,
    fmt_pct,
    general_assumption_rows,
    kdkk,
)

ITEMS = {
    "gross_benefit_savings": ("Gross benefit savings", "Sparede ydelser (brutto)"),
    "lost_tax_on_benefits": ("Lost tax on benefits", "Tabt skat af ydelser"),
    "gained_tax_on_earnings": ("Gained tax on earnings", "Øget skat af lønindkomst"),
    "programme_cost": ("Programme cost", "Indsatsens omkostninger"),
    "net": ("Net", "Netto"),
    "cumulative_net_pv": ("Cumulative net, discounted", "Akkumuleret netto, diskonteret"),
}


def code_ranges(codes) -> str:
    """``[130, 131, 133, 730]`` -> ``"130-131, 133, 730"``."""
    codes = sorted(int(c) for c in codes)
    parts, start, prev = [], None, None
    for c in codes:
        if start is None:
            start = prev = c
        elif c == prev + 1:
            prev = c
        else:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = c
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


def _price_rows(table: pd.DataFrame, L: str) -> list[tuple[str, str, str, str]]:
    rows = []
    t = table.reset_index()
    paid = t[(t["priced"] == 1) & ((t["weekly_gross_dkk"] > 0) | (t["amount_rule"] == "flexjob_subsidy"))]
    keys = ["benefit_en", "benefit_da", "weekly_gross_dkk", "rate_dkk", "rate_unit", "year", "source", "payer",
            "refusion_rule", "amount_rule"]
    for _, g in paid.groupby(keys, sort=False):
        r = g.iloc[0]
        benefit = r["benefit_da"] if L == "da" else r["benefit_en"]
        unit = {"week": _t(L, "a week", "pr. uge"), "month": _t(L, "a month", "pr. md."),
                "year": _t(L, "a year", "pr. år")}[r["rate_unit"]]
        payer = {"municipality": _t(L, "municipality", "kommunen"), "state": _t(L, "state", "staten")}[r["payer"]]
        ref = _t(L, "; refusion steps", "; refusionstrappe") if r["refusion_rule"] == "trappe_2016" else ""
        if r["amount_rule"] == "flexjob_subsidy":
            value = _t(L, f"wage subsidy computed from the wage (highest a-dagpenge {fmt_number(r['rate_dkk'], L)} "
                          f"DKK {unit}); paid by the {payer}{ref}",
                       f"løntilskud beregnet ud fra lønnen (højeste dagpengesats {fmt_number(r['rate_dkk'], L)} kr. "
                       f"{unit}); betales af {payer}{ref}")
        else:
            rate = "" if r["rate_unit"] == "week" and r["share"] == 1 else f" ({fmt_number(r['rate_dkk'], L)} {unit})"
            value = _t(L, f"{fmt_number(r['weekly_gross_dkk'], L)} DKK a week{rate}; paid by the {payer}{ref}",
                       f"{fmt_number(r['weekly_gross_dkk'], L)} kr. pr. uge{rate}; betales af {payer}{ref}")
        src = r["source"] + (f" ({r['source_url']})" if r["source_url"] else "")
        many = len(g) > 1
        rows.append((_t(L, f"Price, code{'s' if many else ''} {code_ranges(g['code'])}: {benefit}",
                        f"Pris, kode{'r' if many else ''} {code_ranges(g['code'])}: {benefit}"), value,
                     str(int(r["year"])), src))
    zero = t[(t["priced"] == 1) & (t["weekly_gross_dkk"] == 0) & (t["amount_rule"] != "flexjob_subsidy")]
    rows.append((_t(L, "No public payment (0 DKK by definition)", "Ingen offentlig ydelse (0 kr. pr. definition)"),
                 _t(L, f"codes {code_ranges(zero['code'])} and the empty week",
                    f"koder {code_ranges(zero['code'])} og den tomme uge"), "", _t(L, "definition", "definition")))
    none = t[t["priced"] == 0]
    rows.append((_t(L, "Not priced (rate not retrieved)", "Ikke prissat (sats ikke fundet)"),
                 _t(L, f"codes {code_ranges(none['code'])} and codes outside the dictionary; listed with their "
                       "person-weeks in the table of unpriced codes",
                    f"koder {code_ranges(none['code'])} og koder uden for kodelisten; vist med personuger i tabellen "
                    "over ikke-prissatte koder"), "", _t(L, "price table", "pristabel")))
    return rows


def code_assumptions_table(analysis: InvestmentAnalysis, inv, costs: pd.DataFrame, language: str) -> pd.DataFrame:
    """Every assumption of the per-code calculation, with year and source."""
    L = language
    led = analysis.ledger
    rows = _price_rows(led.prices.table, L)
    f = led.flex
    rows.append((_t(L, "Flexjob wage subsidy (fleksløntilskud)", "Fleksløntilskud"),
                 _t(L, f"{fmt_pct(f.share_of_highest, L, 0)} of the highest a-dagpenge rate, less "
                       f"{fmt_pct(f.reduction_below, L, 0)} of the monthly wage up to {fmt_number(f.threshold_month_dkk, L)}"
                       f" DKK and {fmt_pct(f.reduction_above, L, 0)} above; the wage is earnings",
                    f"{fmt_pct(f.share_of_highest, L, 0)} af højeste dagpengesats, fratrukket "
                    f"{fmt_pct(f.reduction_below, L, 0)} af månedslønnen op til {fmt_number(f.threshold_month_dkk, L)} "
                    f"kr. og {fmt_pct(f.reduction_above, L, 0)} derover; lønnen er lønindkomst"),
                 str(f.year), "; ".join(dict.fromkeys(f.sources["source"])) if f.sources is not None else ""))
    steps = "/".join(f"{s[1]:.0%}" for s in STEPS_2016)
    rows.append((_t(L, "Municipality/state split", "Fordeling kommune/stat"),
                 _t(L, f"codes under the 2016 refusion steps: the state pays {steps} of the benefit in cumulative benefit "
                       f"weeks 1-4/5-26/27-52/53+ (count from {inv.refusion_history_weeks} weeks before the index "
                       "week, restarted after 52 self-supported weeks within 3 years), the municipality the rest; "
                       "a-dagpenge: the state pays, the municipality co-finances by the same steps; SU, state pension, "
                       "efterløn, fleksydelse, barselsdagpenge: the state. Municipal income tax goes to the "
                       "municipality, bundskat and AM-bidrag to the state. Equalisation between municipalities "
                       "(udligning) and the block grant are not modelled: in reality much of the municipality's "
                       "extra tax base is passed on.",
                    f"koder under refusionstrappen 2016: staten betaler {steps} af ydelsen i kumulerede ydelsesuger "
                    f"1-4/5-26/27-52/53+ (optælling fra {inv.refusion_history_weeks} uger før indeksugen, forfra efter "
                    "52 selvforsørgede uger inden for 3 år), kommunen resten; a-dagpenge: staten betaler, kommunen "
                    "medfinansierer efter samme trin; SU, folkepension, efterløn, fleksydelse, barselsdagpenge: staten. "
                    "Kommuneskat går til kommunen, bundskat og AM-bidrag til staten. Udligning og bloktilskud er ikke "
                    "modelleret: i virkeligheden gives en stor del af kommunens øgede skattegrundlag videre."),
                 "2016", "LBK 221 af 12/02/2021 §§ 5-6; STAR, nøgletal for refusionsreformen"))
    if led.tax is not None:
        names = {"am_bidrag_rate": ("AM-bidrag (on earnings, state)", "AM-bidrag (af lønindkomst, stat)"),
                 "bundskat_rate": ("State tax (bundskat)", "Bundskat (stat)"),
                 "kommuneskat_rate": (f"Municipal tax (kommuneskat), municipality {led.tax.municipality}",
                                      f"Kommuneskat, kommune {led.tax.municipality}"),
                 "personfradrag_dkk": ("Personal allowance (personfradrag)", "Personfradrag"),
                 "beskaeftigelsesfradrag_rate": ("Employment deduction, rate", "Beskæftigelsesfradrag, sats"),
                 "beskaeftigelsesfradrag_ceiling_dkk": ("Employment deduction, ceiling", "Beskæftigelsesfradrag, loft"),
                 "jobfradrag_rate": ("Job deduction, rate", "Jobfradrag, sats"),
                 "jobfradrag_threshold_dkk": ("Job deduction, threshold", "Jobfradrag, bundgrænse"),
                 "jobfradrag_ceiling_dkk": ("Job deduction, ceiling", "Jobfradrag, loft"),
                 "topskat_threshold_dkk": ("Top tax threshold (top tax not counted)",
                                           "Topskattegrænse (topskat ikke medregnet)")}
        for r in led.tax.sources.itertuples():
            v = fmt_pct(r.value, L, 2) if r.unit == "share" else f"{fmt_number(r.value, L)} {_t(L, 'DKK', 'kr.')}"
            src = r.source + (f" ({r.source_url})" if r.source_url else "")
            rows.append((_t(L, *names[r.parameter]) if L != "da" else names[r.parameter][1], v, str(int(r.year)), src))
    else:
        rows.append((_t(L, "Tax", "Skat"), _t(L, "not counted (gross benefits only)",
                                              "ikke medregnet (kun bruttoydelser)"), "", ""))
    e = led.earnings
    rows.append((_t(L, "Earnings of employed weeks", "Lønindkomst i beskæftigede uger"),
                 _t(L, f"{fmt_number(e.hourly_wage_dkk, L)} DKK an hour x {fmt_number(e.hours_per_week, L)} hours x the "
                       "month's employment degree (grad), in weeks without benefits, on fleksjob or skånejob; varied "
                       f"x{inv.sensitivity.wage[0]}-{inv.sensitivity.wage[1]} in the one-way sensitivity",
                    f"{fmt_number(e.hourly_wage_dkk, L)} kr. i timen x {fmt_number(e.hours_per_week, L)} timer x "
                    "månedens beskæftigelsesgrad (grad) i uger uden ydelse, i fleksjob eller skånejob; varieres "
                    f"x{inv.sensitivity.wage[0]}-{inv.sensitivity.wage[1]} i den enkeltvise følsomhedsanalyse"),
                 str(inv.price_year), inv.earnings.source))
    effect = _t(L, "Difference in the public sector's net cost per person-year (benefits paid less the tax received), "
                   "matched controls minus participants; the controls give the counterfactual (deadweight)",
                "Forskel i det offentliges nettoudgift pr. personår (udbetalte ydelser fratrukket skat), matchede "
                "kontroller minus deltagere; kontrolgruppen giver det kontrafaktiske forløb (dødvægt)")
    rows += [(a, effect, y, src) if a == _t(L, "Effect", "Effekt") else (a, v, y, src)
             for a, v, y, src in general_assumption_rows(inv, costs, L, n_participants=analysis.n_intervention)]
    cols = [_t(L, "Assumption", "Forudsætning"), _t(L, "Value", "Værdi"), _t(L, "Year", "År"), _t(L, "Source", "Kilde")]
    return pd.DataFrame(rows, columns=cols)


def masked_years(analysis: InvestmentAnalysis, min_cell: int) -> set[int]:
    """Observed years in which a group has 1..min_cell-1 persons with data (their money is masked)."""
    y = analysis.yearly[analysis.yearly["actor"] == "public"]
    small = ((y["n_intervention"] > 0) & (y["n_intervention"] < min_cell)) | (
        (y["n_control"] > 0) & (y["n_control"] < min_cell))
    return set(y.loc[small.fillna(False), "year"].astype(int))


def balance_table(analysis: InvestmentAnalysis, language: str, min_cell: int,
                  actors=("municipality", "state", "public")) -> tuple[pd.DataFrame, Check]:
    """Per actor and item (rows) and year (columns), 1,000 DKK; total and present value at the end."""
    L = language
    b = analysis.balance
    hidden = masked_years(analysis, min_cell)
    lab = MASK.format(min_cell=min_cell)
    years = sorted(b["year"].unique())
    rows = []
    for actor in actors:
        f = b[b["actor"] == actor].set_index("year").loc[years]
        for item, (en, da) in ITEMS.items():
            vals = kdkk(f[item].to_numpy())
            cells = [lab if (y in hidden or (item == "cumulative_net_pv" and hidden and y >= min(hidden)))
                     else int(v) for y, v in zip(years, vals, strict=True)]
            total = "" if item == "cumulative_net_pv" else (lab if hidden else kdkk(float(f[item].sum())))
            pv = "" if item == "cumulative_net_pv" else (lab if hidden else kdkk(float((f[item] * f["discount_factor"]).sum())))
            rows.append([actor_label(actor, L), _t(L, en, da), *cells, total, pv])
    extrap = [y for y in years if not bool(b.loc[(b["actor"] == actors[0]) & (b["year"] == y), "observed"].iloc[0])]
    heads = [f"{_t(L, 'Year', 'År')} {y}" + ("*" if y in extrap else "") for y in years]
    cols = [_t(L, "Actor", "Aktør"), _t(L, "Item", "Post"), *heads, _t(L, "Total", "I alt"),
            _t(L, "Present value", "Nutidsværdi")]
    frame = pd.DataFrame(rows, columns=cols).astype(object)
    check = Check(item="investment_balance", status="PASS",
                  detail=(f"money of {len(hidden)} year(s) with a group below {min_cell} masked" if hidden
                          else f"aggregates over groups of >= {min_cell} persons in every year"),
                  detail_da=(f"beløb for {len(hidden)} år med en gruppe under {min_cell} skjult" if hidden
                             else f"summer over grupper på >= {min_cell} personer i alle år"))
    if min(analysis.n_intervention, analysis.n_control) < min_cell:
        check = Check(item="investment_balance", status="FAIL", detail=f"a group has fewer than {min_cell} persons",
                      detail_da=f"en gruppe har færre end {min_cell} personer")
    return frame, check


def unpriced_table(analysis: InvestmentAnalysis, language: str, min_cell: int) -> tuple[pd.DataFrame, Check]:
    """Codes met in follow-up without a price, with person-weeks by group (masked below ``min_cell`` persons)."""
    L = language
    u = unpriced_codes(analysis.ledger.code_weeks, analysis.ledger.prices.table)
    lab = MASK.format(min_cell=min_cell)
    n_masked = 0
    rows = []
    for r in u.itertuples():
        cells = []
        for g in ("intervention", "control"):
            persons, weeks = getattr(r, f"persons_{g}"), getattr(r, f"person_weeks_{g}")
            if 0 < persons < min_cell:
                cells += [lab, lab]
                n_masked += 1
            else:
                cells += [int(weeks), int(persons)]
        rows.append([int(r.code), r.benefit_da if L == "da" else r.benefit_en, *cells])
    cols = [_t(L, "Code", "Kode"), _t(L, "Benefit", "Ydelse"),
            _t(L, "Person-weeks, participants", "Personuger, deltagere"),
            _t(L, "Persons, participants", "Personer, deltagere"),
            _t(L, "Person-weeks, controls", "Personuger, kontroller"),
            _t(L, "Persons, controls", "Personer, kontroller")]
    frame = pd.DataFrame(rows, columns=cols).astype(object)
    check = Check(item="investment_unpriced_codes", status="PASS",
                  detail=(f"{n_masked} cell pair(s) from fewer than {min_cell} persons masked" if n_masked
                          else f"every shown cell from 0 or >= {min_cell} persons"),
                  detail_da=(f"{n_masked} cellepar fra færre end {min_cell} personer skjult" if n_masked
                             else f"alle viste celler fra 0 eller >= {min_cell} personer"))
    return frame, check


def scenario_table(analysis: InvestmentAnalysis, inv, language: str,
                   actors=("municipality", "state", "public")) -> pd.DataFrame:
    """One row per scenario and actor: participants, cost, PV savings, NPV with interval, payback, P(NPV > 0)."""
    L = language
    s = analysis.scenarios
    labels = {sc.name: sc.label(L) for sc in inv.scenarios}
    s = s[s["actor"].isin(actors)]
    unit = _t(L, "1,000 DKK", "1.000 kr.")
    level = analysis.settings["level"]

    def pay(v, horizon, cost):
        if cost <= 0:
            return _t(L, "no programme cost", "ingen udgift til indsatsen")
        return (_t(L, f"not within {horizon} years", f"ikke inden for {horizon} år") if not math.isfinite(v)
                else fmt_number(v, L))

    return pd.DataFrame({
        _t(L, "Scenario", "Scenarie"): [labels[n] for n in s["scenario"]],
        _t(L, "Actor", "Aktør"): [actor_label(a, L) for a in s["actor"]],
        _t(L, "Participants in all", "Deltagere i alt"): s["persons"].astype(int).to_numpy(),
        _t(L, f"Programme cost ({unit})", f"Omkostninger ({unit})"): kdkk(s["costs"]),
        _t(L, f"PV savings ({unit})", f"Nutidsværdi besparelser ({unit})"): kdkk(s["savings_pv"]),
        _t(L, f"NPV ({unit})", f"Nettonutidsværdi ({unit})"): kdkk(s["npv"]),
        _t(L, f"NPV {level:.0%} interval", f"Nettonutidsværdi {level:.0%}-interval"):
            [f"{fmt_number(lo / 1000, L)} - {fmt_number(hi / 1000, L)}" for lo, hi in zip(s["npv_low"], s["npv_high"],
                                                                                          strict=True)],
        _t(L, "Pays back (discounted) in year", "Tjent hjem (diskonteret) i år"):
            [pay(v, int(h), c) for v, h, c in zip(s["payback_year"], s["horizon_years"], s["costs"], strict=True)],
        _t(L, "Chance of a positive NPV", "Chance for positiv nettonutidsværdi"):
            [fmt_pct(p, L, 0) for p in s["p_npv_positive"]],
    })


def scenario_notes(inv, language: str) -> list[str]:
    """The scenarios' notes (sources and assumptions) in ``language``, plus the model's own assumptions."""
    L = language
    out = [f"{sc.label(L)}: {sc.note(L)}" for sc in inv.scenarios if sc.note is not None]
    out.append(_t(L, "Each year's participants start at the start of the year and cost their programme cost in that "
                     "year; the saving per participant is the estimated one (times the scenario's effect scale), "
                     "whatever the number of participants; the interval and chance reflect the effect's sampling "
                     "uncertainty only.",
                  "Årets deltagere starter ved årets begyndelse og koster deres indsats det år; besparelsen pr. "
                  "deltager er den estimerede (gange scenariets effektfaktor) uanset antallet af deltagere; interval "
                  "og chance afspejler kun den statistiske usikkerhed på effekten."))
    return out


def earnings_share_note(analysis: InvestmentAnalysis, language: str) -> tuple[str, str] | None:
    """Sentence on how much of the public saving comes from tax on earnings (None without a balance)."""
    if analysis.balance is None:
        return None
    pub = analysis.balance[analysis.balance["actor"] == "public"]
    d = pub["discount_factor"].to_numpy()
    parts = {k: float(pub[k].to_numpy() @ d) for k in ("gross_benefit_savings", "lost_tax_on_benefits",
                                                        "gained_tax_on_earnings")}
    if not np.isfinite(list(parts.values())).all():
        return None
    g, lt, ge = (fmt_number(parts[k] / 1e6, "en", 1) for k in parts)
    gd, ltd, ged = (fmt_number(parts[k] / 1e6, "da", 1) for k in parts)
    return (f"For the public sector as a whole, in present value: benefit savings DKK {g} million, tax lost on those "
            f"benefits DKK {lt} million, tax gained on earnings DKK {ge} million.",
            f"For det offentlige i alt, i nutidsværdi: sparede ydelser {gd} mio. kr., tabt skat af ydelserne {ltd} "
            f"mio. kr., øget skat af lønindkomst {ged} mio. kr.")
