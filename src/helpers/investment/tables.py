"""Report tables of the investment calculation, in the study's language, with disclosure checks.

Amounts are shown in 1,000 DKK (rounded); every table is an aggregate over groups of
persons, and :func:`disclosure_check` / :func:`yearly_table` verify (and, per year, mask)
groups smaller than ``min_cell``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.config.schema.investment import InvestmentConfig
from helpers.disclosure import MASK, Check, check_counts
from helpers.investment.analysis import InvestmentAnalysis
from helpers.investment.discounting import normalise_steps
from helpers.investment.projection import (
    Reconciliation,
    project,
    projection_cash_flows,
    round_half_up,
)
from helpers.investment.refusion import STEPS_2016

ACTOR_LABELS = {
    "municipality": ("Municipality", "Kommune"),
    "state": ("State", "Stat"),
    "public": ("Public sector, total", "Offentligt i alt"),
}


def _t(language: str, en: str, da: str) -> str:
    return da if language == "da" else en


def actor_label(actor: str, language: str) -> str:
    """Label of an actor in ``language``."""
    en, da = ACTOR_LABELS[actor]
    return _t(language, en, da)


def fmt_number(x, language: str, decimals: int = 0) -> str:
    """Format a number with the language's separators (da: 1.234,5; en: 1,234.5)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    s = f"{x:,.{decimals}f}"
    if language == "da":
        s = s.replace(",", "_").replace(".", ",").replace("_", ".")
    return s


def fmt_pct(x: float, language: str, decimals: int = 1) -> str:
    """Format a share as a percentage."""
    return fmt_number(100 * x, language, decimals) + (" %" if language == "da" else "%")


def kdkk(x):
    """DKK to whole 1,000 DKK, halves rounded up (nullable integers; NaN becomes missing)."""
    a = round_half_up(np.asarray(x, dtype=float) / 1000.0) + 0.0
    if a.ndim == 0:
        return int(a) if np.isfinite(a) else None
    return pd.array(np.where(np.isfinite(a), a, np.nan), dtype="Float64").round(0).astype("Int64")


def _unit(language: str) -> str:
    return _t(language, "1,000 DKK", "1.000 kr.")


# --------------------------------------------------------------------------- assumptions
def assumptions_table(inv: InvestmentConfig, prices: pd.DataFrame, costs: pd.DataFrame, language: str,
                      *, n_participants: int | None = None) -> pd.DataFrame:
    """Every assumption of the calculation: prices with year and source, refusion, discounting,
    horizon, costs, uncertainty and sensitivity settings."""
    L = language
    rows = []
    priced = prices[prices["annual_dkk"] > 0]
    for cat, p in priced.iterrows():
        benefit = p["benefit_da"] if L == "da" else p["benefit_en"]
        source = p["source"] + (f" ({p['source_url']})" if p.get("source_url") else "")
        year = str(int(p["year"])) + (f" ({p['year_note']})" if p.get("year_note") else "")
        rows.append((_t(L, f"Price: {cat}", f"Pris: {cat}"),
                     _t(L, f"{benefit}: {fmt_number(p['annual_dkk'], L)} DKK per full-time person-year",
                        f"{benefit}: {fmt_number(p['annual_dkk'], L)} kr. pr. helårsperson"),
                     year, source))
    unpriced = [c for c in prices.index if prices.loc[c, "annual_dkk"] <= 0]
    rows.append((_t(L, "Not priced (0 DKK)", "Ikke prissat (0 kr.)"), ", ".join(unpriced), "",
                 _t(L, "price table", "pristabel")))
    rows.append((_t(L, "Nature of the prices", "Priserne"),
                 _t(L, "Statutory rates (satser), gross; not average payments. Tax revenue, equalisation and "
                       "administration are not counted.",
                    "Lovbestemte satser, brutto; ikke gennemsnitlige udbetalinger. Skat, udligning og administration "
                    "er ikke medregnet."), "", ""))
    if inv.refusion:
        steps = "/".join(f"{s[1]:.0%}" for s in STEPS_2016)
        covered = ", ".join(c for c in prices.index if bool(prices.loc[c, "refusion"]))
        rows.append((_t(L, "Refusion (state share)", "Refusion (statens andel)"),
                     _t(L, f"{steps} in cumulative benefit weeks 1-4/5-26/27-52/53+ (2016 refusion steps); count "
                           f"from {inv.refusion_history_weeks} weeks before the index week, restarts after 52 "
                           f"self-supported weeks within 3 years; covered: {covered}",
                        f"{steps} i kumulerede ydelsesuger 1-4/5-26/27-52/53+ (refusionstrappen 2016); optælling fra "
                        f"{inv.refusion_history_weeks} uger før indeksugen, starter forfra efter 52 selvforsørgede "
                        f"uger "
                        f"inden for 3 år; omfattet: {covered}"),
                     "2016", "LBK 221 af 12/02/2021 §§ 5-6; STAR, nøgletal for refusionsreformen"))
    else:
        rows.append((_t(L, "Refusion", "Refusion"),
                     _t(L, "not applied: each category's payer bears it all", "ikke anvendt: udbetaler bærer det hele"),
                     "", ""))
    rows += general_assumption_rows(inv, costs, L, n_participants=n_participants)
    cols = [_t(L, "Assumption", "Forudsætning"), _t(L, "Value", "Værdi"), _t(L, "Year", "År"), _t(L, "Source", "Kilde")]
    return pd.DataFrame(rows, columns=cols)


def general_assumption_rows(inv: InvestmentConfig, costs: pd.DataFrame, language: str, *,
                            n_participants: int | None = None) -> list[tuple[str, str, str, str]]:
    """Rows of the assumptions table that do not depend on how weeks are priced: discounting,
    horizon, costs, effect, uncertainty and one-way sensitivity (assumption, value, year, source)."""
    L = language
    rows = []
    steps_txt = []
    last = 0
    for upto, rate in inv.discount_rates:
        span = f"{last + 1}-{int(upto)}" if upto < 1000 else f"{last + 1}+"
        steps_txt.append(f"{fmt_number(100 * rate, L, 1)} % ({_t(L, 'years', 'år')} {span})")
        last = int(upto)
    rows.append((_t(L, "Discount rate", "Diskonteringsrente"),
                 ", ".join(steps_txt) + _t(L, "; compounded year by year, end-of-year amounts",
                                           "; akkumuleret år for år, beløb ultimo året"),
                 "2021/2023", "Finansministeriet, Vejledning i samfundsøkonomiske konsekvensvurderinger (2023)"))
    rows.append((_t(L, "Horizon", "Tidshorisont"),
                 _t(L, f"{inv.horizon_years} observed years after the index week"
                       + (f" + {inv.extrapolate_years} extrapolated years (last observed saving x "
                          f"{fmt_number(inv.retention, L, 2)} per year)" if inv.extrapolate_years else ""),
                    f"{inv.horizon_years} observerede år efter indeksugen"
                       + (f" + {inv.extrapolate_years} fremskrevne år (sidste observerede besparelse x "
                          f"{fmt_number(inv.retention, L, 2)} pr. år)" if inv.extrapolate_years else "")), "", ""))
    total = float(costs["total_dkk"].sum()) if len(costs) else 0.0
    per = f"; {fmt_number(total / n_participants, L)} {_t(L, 'DKK per participant', 'kr. pr. deltager')}" \
        if n_participants else ""
    years = ", ".join(str(int(y)) for y in sorted(costs["analysis_year"].unique())) if len(costs) else ""
    rows.append((_t(L, "Intervention costs", "Indsatsens omkostninger"),
                 f"{fmt_number(total, L)} {_t(L, 'DKK', 'kr.')}{per}; {_t(L, 'analysis year', 'analyseår')} {years}; "
                 f"{_t(L, 'borne by', 'afholdes af')} {actor_label(inv.cost_bearer, L).lower()}",
                 "", ", ".join(sorted(set(costs["source"]))) if len(costs) else ""))
    rows.append((_t(L, "Effect", "Effekt"),
                 _t(L, "Difference in benefit costs per person-year, matched controls minus participants; the "
                       "controls give the counterfactual (deadweight)",
                    "Forskel i ydelsesudgifter pr. personår, matchede kontroller minus deltagere; kontrolgruppen "
                    "giver det kontrafaktiske forløb (dødvægt)"), "", ""))
    s = inv.sensitivity
    rows.append((_t(L, "Uncertainty", "Usikkerhed"),
                 _t(L, f"bootstrap over matched sets ({inv.bootstrap_draws} draws, seed + 2); Monte Carlo "
                       f"({inv.monte_carlo_draws} draws, seed + 3): effect from the bootstrap, prices triangular "
                       f"{s.prices[0]}-{s.prices[1]}, costs triangular {s.costs[0]}-{s.costs[1]}"
                       + (f", retention uniform {s.retention[0]}-{s.retention[1]}" if inv.extrapolate_years else ""),
                    f"bootstrap over matchede sæt ({inv.bootstrap_draws} træk, seed + 2); Monte Carlo "
                    f"({inv.monte_carlo_draws} træk, seed + 3): effekt fra bootstrap, priser trekantfordelt "
                    f"{s.prices[0]}-{s.prices[1]}, omkostninger trekantfordelt {s.costs[0]}-{s.costs[1]}"
                    + (f", fastholdelse ligefordelt {s.retention[0]}-{s.retention[1]}" if inv.extrapolate_years
                       else "")), "", ""))
    rows.append((_t(L, "One-way sensitivity", "Enkeltvis følsomhed"),
                 _t(L, f"prices x{s.prices[0]}-{s.prices[1]}, costs x{s.costs[0]}-{s.costs[1]}, flat discount rate "
                       f"{s.discount_rate[0]:.0%}-{s.discount_rate[1]:.0%}, effect at its {s.effect_level:.0%} CI"
                       + (f", retention {s.retention[0]}-{s.retention[1]}" if inv.extrapolate_years else ""),
                    f"priser x{s.prices[0]}-{s.prices[1]}, omkostninger x{s.costs[0]}-{s.costs[1]}, fast "
                    f"diskonteringsrente {s.discount_rate[0]:.0%}-{s.discount_rate[1]:.0%}, effekt ved "
                    f"{s.effect_level:.0%}-konfidensinterval"
                    + (f", fastholdelse {s.retention[0]}-{s.retention[1]}" if inv.extrapolate_years else "")),
                 "", ""))
    return rows


# ---------------------------------------------------------------------------- results
def disclosure_check(analysis: InvestmentAnalysis, min_cell: int, *, item: str) -> Check:
    """PASS when both groups hold 0 or at least ``min_cell`` persons (money is aggregated over them)."""
    return check_counts([analysis.n_intervention, analysis.n_control], min_cell, item=item, what="group sizes")


def yearly_table(analysis: InvestmentAnalysis, language: str, min_cell: int, *,
                 actors=("municipality", "state", "public"), item: str = "investment_yearly"
                 ) -> tuple[pd.DataFrame, Check]:
    """Savings per year and actor (1,000 DKK) with CI; years with a group below ``min_cell`` masked."""
    L = language
    y = analysis.yearly[analysis.yearly["actor"].isin(actors)].copy()
    small = (((y["n_intervention"] > 0) & (y["n_intervention"] < min_cell))
             | ((y["n_control"] > 0) & (y["n_control"] < min_cell))).to_numpy()
    lab = MASK.format(min_cell=min_cell)
    out = pd.DataFrame({
        _t(L, "Year", "År"): y["year"].to_numpy(),
        _t(L, "Actor", "Aktør"): [actor_label(a, L) for a in y["actor"]],
        _t(L, "Observed", "Observeret"): [_t(L, "yes", "ja") if o else _t(L, "extrapolated", "fremskrevet")
                                         for o in y["observed"]],
        _t(L, "Cost per person-year, participants", "Udgift pr. personår, deltagere"): kdkk(y["cost_intervention"]),
        _t(L, "Cost per person-year, controls", "Udgift pr. personår, kontroller"): kdkk(y["cost_control"]),
        _t(L, "Saving per participant", "Besparelse pr. deltager"): kdkk(y["saving_per_participant"]),
        _t(L, "Saving, all participants", "Besparelse, alle deltagere"): kdkk(y["saving_total"]),
        _t(L, "95% CI low", "95%-KI nedre"): kdkk(y["total_low"]),
        _t(L, "95% CI high", "95%-KI øvre"): kdkk(y["total_high"]),
        _t(L, "n participants", "n deltagere"): y["n_intervention"].to_numpy(),
        _t(L, "n controls", "n kontroller"): y["n_control"].to_numpy(),
    })
    money = out.columns[3:9]
    for c in money:
        out[c] = pd.Series([("" if pd.isna(v) else int(v)) for v in out[c]], index=out.index, dtype=object)
    out.loc[small, list(money)] = lab
    counts = out.columns[9:11]
    for c in counts:
        vals = pd.to_numeric(out[c], errors="coerce").astype(float)
        shown = [("" if not np.isfinite(v) else lab if 0 < v < min_cell else int(v)) for v in vals]
        out[c] = pd.Series(shown, index=out.index, dtype=object)
    n_masked = int(small.sum())
    check = Check(item=item, status="PASS",
                  detail=(f"{n_masked} year(s) with a group below {min_cell} masked" if n_masked
                          else f"all groups per year 0 or >= {min_cell}"),
                  detail_da=(f"{n_masked} år med en gruppe under {min_cell} skjult" if n_masked
                             else f"alle grupper pr. år er 0 eller >= {min_cell}"))
    base = disclosure_check(analysis, min_cell, item=item)
    if not base.passed:
        check = base
    return out, check


def summary_table(analysis: InvestmentAnalysis, language: str,
                  actors=("municipality", "state", "public")) -> pd.DataFrame:
    """NPV, return per krone and payback by actor, with bootstrap CIs."""
    L = language
    s = analysis.summary[analysis.summary["actor"].isin(actors)]
    level = analysis.settings["level"]
    ci = _t(L, f"{level:.0%} CI", f"{level:.0%}-KI")

    def year(x):
        return "" if x is None or not math.isfinite(x) else fmt_number(x, L)

    def ci_year(lo, hi):
        hi_txt = _t(L, "beyond horizon", "efter horisonten") if not math.isfinite(hi) else fmt_number(hi, L)
        lo_txt = _t(L, "beyond horizon", "efter horisonten") if not math.isfinite(lo) else fmt_number(lo, L)
        return "" if (isinstance(lo, float) and math.isnan(lo)) else f"{lo_txt} - {hi_txt}"

    return pd.DataFrame({
        _t(L, "Actor", "Aktør"): [actor_label(a, L) for a in s["actor"]],
        _t(L, f"PV savings ({_unit(L)})", f"Nutidsværdi besparelser ({_unit(L)})"): kdkk(s["savings_pv"]),
        _t(L, f"PV costs ({_unit(L)})", f"Nutidsværdi omkostninger ({_unit(L)})"): kdkk(s["costs_pv"]),
        _t(L, f"NPV ({_unit(L)})", f"Nettonutidsværdi ({_unit(L)})"): kdkk(s["npv"]),
        f"NPV {ci}" if L != "da" else f"Nettonutidsværdi {ci}":
            [f"{fmt_number(lo / 1000, L)} - {fmt_number(hi / 1000, L)}" for lo, hi in zip(s["npv_low"], s["npv_high"],
                                                                                          strict=True)],
        _t(L, f"NPV, observed years only ({_unit(L)})", f"Nettonutidsværdi, kun observerede år ({_unit(L)})"):
            kdkk(s["npv_observed"]),
        _t(L, "Return per krone", "Afkast pr. krone"): [fmt_number(v, L, 2) for v in s["return_per_krone"]],
        _t(L, f"Return {ci}", f"Afkast {ci}"):
            [f"{fmt_number(lo, L, 2)} - {fmt_number(hi, L, 2)}" if math.isfinite(lo) else ""
             for lo, hi in zip(s["return_low"], s["return_high"], strict=True)],
        _t(L, "Payback year", "Tilbagebetalingsår"): [year(v) for v in s["payback_year"]],
        _t(L, "Payback year (discounted)", "Tilbagebetalingsår (diskonteret)"): [year(v) for v in s["payback_year_pv"]],
        _t(L, f"Payback {ci}", f"Tilbagebetaling {ci}"):
            [ci_year(lo, hi) for lo, hi in zip(s["payback_low"], s["payback_high"], strict=True)],
    })


def break_even_table(analysis: InvestmentAnalysis, language: str,
                     actors=("municipality", "state", "public")) -> pd.DataFrame:
    """Break-even effect: extra persons in lasting self-support needed, vs. the observed equivalent."""
    L = language
    b = analysis.break_even[analysis.break_even["actor"].isin(actors)]
    level = analysis.settings["level"]
    ci = _t(L, f"{level:.0%} CI", f"{level:.0%}-KI")
    return pd.DataFrame({
        _t(L, "Actor", "Aktør"): [actor_label(a, L) for a in b["actor"]],
        _t(L, f"PV saved per person in lasting self-support ({_unit(L)})",
           f"Nutidsværdi sparet pr. person i varig selvforsørgelse ({_unit(L)})"): kdkk(b["pv_per_person"]),
        _t(L, "Extra persons needed to break even", "Ekstra personer for at gå i nul"):
            [fmt_number(v, L, 1) for v in b["persons_needed"]],
        ci: [f"{fmt_number(lo, L, 1)} - {fmt_number(hi, L, 1)}"
             for lo, hi in zip(b["persons_needed_low"], b["persons_needed_high"], strict=True)],
        _t(L, "Share of participants", "Andel af deltagerne"): [fmt_pct(v, L) for v in b["share_of_participants"]],
        _t(L, "Observed effect, person equivalents", "Observeret effekt, personækvivalenter"):
            [fmt_number(v, L, 1) for v in b["observed_equivalent"]],
        _t(L, f"Observed {ci}", f"Observeret {ci}"):
            [f"{fmt_number(lo, L, 1)} - {fmt_number(hi, L, 1)}"
             for lo, hi in zip(b["observed_equivalent_low"], b["observed_equivalent_high"], strict=True)],
    })


def tornado_table(analysis: InvestmentAnalysis, language: str) -> pd.DataFrame:
    """One-way sensitivity: NPV at the low and high end of each input (1,000 DKK)."""
    L = language
    t = analysis.tornado

    def rng(row):
        if row.parameter == "effect":
            return _t(L, "bootstrap CI", "bootstrap-KI")
        if row.parameter == "discount_rate":
            return f"{row.low:.1%} - {row.high:.1%}"
        return f"{fmt_number(row.low, L, 2)} - {fmt_number(row.high, L, 2)}"

    return pd.DataFrame({
        _t(L, "Input", "Input"): t["label_da"] if L == "da" else t["label_en"],
        _t(L, "Values tested", "Afprøvede værdier"): [rng(r) for r in t.itertuples()],
        _t(L, f"NPV at low ({_unit(L)})", f"NNV ved lav ({_unit(L)})"): kdkk(t["npv_low"]),
        _t(L, f"NPV at high ({_unit(L)})", f"NNV ved høj ({_unit(L)})"): kdkk(t["npv_high"]),
        _t(L, f"NPV base ({_unit(L)})", f"NNV basis ({_unit(L)})"): kdkk(t["npv_base"]),
    })


def monte_carlo_table(analysis: InvestmentAnalysis, language: str) -> pd.DataFrame:
    """Monte Carlo summary: draws, P(NPV > 0), NPV quantiles."""
    L = language
    mc = analysis.monte_carlo
    return pd.DataFrame({
        _t(L, "Draws", "Træk"): [len(mc.npv)],
        _t(L, "P(NPV > 0)", "P(NNV > 0)"): [fmt_pct(mc.p_positive, L)],
        _t(L, f"NPV median ({_unit(L)})", f"NNV median ({_unit(L)})"): [kdkk(mc.quantiles["50"])],
        _t(L, f"NPV 2.5% ({_unit(L)})", f"NNV 2,5 % ({_unit(L)})"): [kdkk(mc.quantiles["2.5"])],
        _t(L, f"NPV 97.5% ({_unit(L)})", f"NNV 97,5 % ({_unit(L)})"): [kdkk(mc.quantiles["97.5"])],
    })


def reconciliation_tables(rec: Reconciliation, cfg, language: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The printed projection's departures (cells) and the year totals under each reading."""
    L = language
    labels = [lab(L) for lab in cfg.year_labels] if cfg.year_labels else [
        f"{_t(L, 'Year', 'År')} {y}" for y in range(1, cfg.horizon_years + 1)]
    issue = {"override": _t(L, "printed cell departs from the stated assumptions",
                            "trykt celle afviger fra forudsætningerne"),
             "fallback_timing": _t(L, "fall-back timing (own group's start)",
                                   "tilbagefaldstidspunkt (holdets egen start)")}
    cells = pd.DataFrame({
        _t(L, "Issue", "Forhold"): rec.cells["issue"].map(issue),
        "Hold" if L == "da" else "Group": rec.cells["hold"].astype(int),
        _t(L, "Outcome", "Udfald"): [cfg.outcomes[o].label(L) for o in rec.cells["outcome"]],
        _t(L, "Year", "År"): [labels[y - 1] for y in rec.cells["year"]],
        _t(L, "Printed", "Trykt"): rec.cells["printed"].astype(int),
        _t(L, "By the assumptions", "Efter forudsætningerne"): rec.cells["model"].astype(int),
    })
    names = {"printed": _t(L, "Printed", "Trykt"),
             "as_printed": _t(L, "Model, as printed", "Model, som trykt"),
             "stated": _t(L, "Stated assumptions", "Angivne forudsætninger"),
             "own_hold": _t(L, "+ fall-backs from own start", "+ tilbagefald fra egen start"),
             "deadweight": _t(L, "Stated + deadweight deducted", "Angivne + dødvægt fratrukket"),
             "corrected": _t(L, "Own start + deadweight", "Egen start + dødvægt")}
    tot = rec.totals.set_index("year")[list(names)].T
    tot.index = [names[i] for i in tot.index]
    tot.columns = labels
    tot = tot.astype(int).reset_index().rename(columns={"index": _t(L, "Reading", "Læsning")})
    return cells, tot


def no_person_data(item: str) -> Check:
    """Check of a table built from assumptions only (no person data)."""
    return Check(item=item, status="PASS", detail="assumptions and published figures only; no person data",
                 detail_da="kun forudsætninger og offentliggjorte tal; ingen persondata")


def narrative(analysis: InvestmentAnalysis, language: str) -> list[tuple[str, str]]:
    """Sentences summarising the result (both languages; ``language`` picks number formats)."""
    L = language
    s = analysis.summary.set_index("actor")
    out = []
    H, E = analysis.settings["horizon_years"], analysis.settings["extrapolate_years"]
    span_en = f"{H} observed" + (f" and {E} extrapolated" if E else "") + " years"
    span_da = f"{H} observerede" + (f" og {E} fremskrevne" if E else "") + " år"
    for actor in ("public", "municipality"):
        r = s.loc[actor]
        npv = fmt_number(r["npv"] / 1e6, L, 1)
        lo, hi = fmt_number(r["npv_low"] / 1e6, L, 1), fmt_number(r["npv_high"] / 1e6, L, 1)
        pb = r["payback_year_pv"]
        ae, ad = ACTOR_LABELS[actor]
        if math.isfinite(pb):
            pay_en = f"it pays back (discounted) in year {int(pb)}"
            pay_da = f"den tjener sig hjem (diskonteret) i år {int(pb)}"
        else:
            pay_en, pay_da = "it does not pay back within the horizon", "den tjener sig ikke hjem inden for horisonten"
        ret = fmt_number(r["return_per_krone"], L, 2)
        out.append((
            f"**{ae}:** over {span_en}, the net present value is DKK {npv} million (95% CI {lo} to {hi}); "
            f"each krone invested returns {ret} kroner and {pay_en}.",
            f"**{ad}:** over {span_da} er nettonutidsværdien {npv} mio. kr. (95%-KI {lo} til {hi}); "
            f"hver investeret krone giver {ret} kr. tilbage, og {pay_da}.",
        ))
    b = analysis.break_even.set_index("actor")
    if "public" in b.index:
        r = b.loc["public"]
        out.append((
            f"To pay for itself for the public sector, the intervention needs {fmt_number(r['persons_needed'], L, 1)} "
            f"extra persons in lasting self-support ({fmt_pct(r['share_of_participants'], L)} of the "
            f"{analysis.n_intervention} participants); the observed effect equals "
            f"{fmt_number(r['observed_equivalent'], L, 1)} such persons.",
            f"For at betale sig for det offentlige skal indsatsen give {fmt_number(r['persons_needed'], L, 1)} "
            f"ekstra personer i varig selvforsørgelse ({fmt_pct(r['share_of_participants'], L)} af de "
            f"{analysis.n_intervention} deltagere); den observerede effekt svarer til "
            f"{fmt_number(r['observed_equivalent'], L, 1)} sådanne personer.",
        ))
    mc = analysis.monte_carlo
    out.append((
        f"In {len(mc.npv)} Monte Carlo draws the investment pays off (NPV > 0) with probability "
        f"{fmt_pct(mc.p_positive, L)}.",
        f"I {len(mc.npv)} Monte Carlo-træk betaler investeringen sig (NNV > 0) med sandsynlighed "
        f"{fmt_pct(mc.p_positive, L)}.",
    ))
    if analysis.rmst is not None:
        r = analysis.rmst
        out.append((
            f"Cross-check: the survival analysis' RMST difference of {fmt_number(r['rmst_difference_weeks'], L, 1)} "
            f"weeks in lasting self-support, priced at the controls' average weekly cost, corresponds to DKK "
            f"{fmt_number(r['savings_from_rmst'] / 1e6, L, 1)} million over {r['years']} year(s), against "
            f"{fmt_number(r['savings_observed'] / 1e6, L, 1)} million estimated from the weeks on benefit (the RMST "
            f"figure is an upper bound: persons can fall back onto benefits after reaching self-support).",
            f"Krydstjek: overlevelsesanalysens RMST-forskel på {fmt_number(r['rmst_difference_weeks'], L, 1)} uger "
            f"i varig selvforsørgelse, prissat med kontrolgruppens gennemsnitlige ugeudgift, svarer til "
            f"{fmt_number(r['savings_from_rmst'] / 1e6, L, 1)} mio. kr. over {r['years']} år mod "
            f"{fmt_number(r['savings_observed'] / 1e6, L, 1)} mio. kr. beregnet fra ydelsesugerne (RMST-tallet er en "
            f"øvre grænse: personer kan vende tilbage til ydelse efter at være blevet selvforsørgende).",
        ))
    return out


def projection_flows(cfg, costs_dkk: float, steps=None) -> dict[str, pd.DataFrame]:
    """Cash flows of a projection under two readings: as printed, and corrected (own-group
    fall-back timing, deadweight deducted, no overrides)."""
    shares = cfg.cost_shares_by_year or [1.0 / cfg.intake_years] * cfg.intake_years
    steps = normalise_steps(steps)
    return {
        "as_printed": projection_cash_flows(project(cfg), costs_dkk, shares, steps),
        "corrected": projection_cash_flows(project(cfg, fallback_timing="own_hold", apply_deadweight=True,
                                                   use_overrides=False), costs_dkk, shares, steps),
    }


def projection_flows_table(flows: dict[str, pd.DataFrame], cfg, language: str) -> pd.DataFrame:
    """Savings, costs and cumulative net per year for both readings of a projection (1,000 DKK)."""
    L = language
    labels = [lab(L) for lab in cfg.year_labels] if cfg.year_labels else [
        f"{_t(L, 'Year', 'År')} {y}" for y in range(1, cfg.horizon_years + 1)]
    a, c = flows["as_printed"], flows["corrected"]
    rows = {
        _t(L, "Savings, as printed", "Besparelse, som trykt"): kdkk(a["savings"]),
        _t(L, "Savings, corrected", "Besparelse, korrigeret"): kdkk(c["savings"]),
        _t(L, "Intervention costs", "Indsatsens omkostninger"): kdkk(a["costs"]),
        _t(L, "Cumulative net, as printed", "Akkumuleret netto, som trykt"): kdkk(a["cumulative_net"]),
        _t(L, "Cumulative net, corrected", "Akkumuleret netto, korrigeret"): kdkk(c["cumulative_net"]),
        _t(L, "Cumulative net, corrected, discounted", "Akkumuleret netto, korrigeret, diskonteret"):
            kdkk(c["cumulative_net_pv"]),
    }
    out = pd.DataFrame(rows, index=labels).T.reset_index().rename(columns={"index": _t(L, "1,000 DKK", "1.000 kr.")})
    return out
