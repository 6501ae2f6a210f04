"""The investment section's tables as printed: frames in the study's language, money in 1,000 DKK.

Each function takes the unmasked :class:`~helpers.investment.analysis.InvestmentAnalysis`
(or the projection's results) and returns the frame the report shows; the ones that show
money of groups of persons mask through :mod:`helpers.disclosure.investment` and return
the :class:`~helpers.disclosure.Check` with it. Column names and values come from the
catalogue (``investment.column.*``, ``investment.projection.*``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.config.schema.investment import InvestmentConfig, ProjectionConfig
from helpers.core.i18n import tr
from helpers.disclosure import MASK, Check, is_small
from helpers.disclosure import investment as disclosure
from helpers.investment.analysis import InvestmentAnalysis
from helpers.investment.projection import ProjectionResult, Reconciliation
from helpers.report.investment_format import actor_label, col, fmt_number, fmt_pct, kdkk, unit
from helpers.stages.investment import unpriced_frame

ACTORS = ("municipality", "state", "public")
#: Rows of the public balance per actor, in order (labels ``investment.balance_item.<item>``).
BALANCE_ITEMS = ("gross_benefit_savings", "lost_tax_on_benefits", "gained_tax_on_earnings", "programme_cost", "net",
                 "cumulative_net_pv")


def _range(low: str, high: str) -> str:
    return f"{low} - {high}"


def _ci(analysis: InvestmentAnalysis, language: str) -> str:
    return tr("investment.ci", language, level=analysis.settings["level"])


def year_labels(cfg: ProjectionConfig, language: str) -> list[str]:
    """Column labels of a projection's years: the study file's, else ``Year 1``, ``Year 2``, ..."""
    if cfg.year_labels:
        return [lab(language) for lab in cfg.year_labels]
    return [tr("investment.year_n", language, year=y) for y in range(1, cfg.horizon_years + 1)]


# ---------------------------------------------------------------------------- realised
def yearly_table(analysis: InvestmentAnalysis, language: str, min_cell: int, *, actors=ACTORS,
                 item: str = "investment_yearly") -> tuple[pd.DataFrame, Check]:
    """Savings per year and actor (1,000 DKK) with CI; years with a group below ``min_cell`` masked."""
    L = language
    y = analysis.yearly[analysis.yearly["actor"].isin(actors)].copy()
    small = disclosure.small_years(y, min_cell)
    lab = MASK.format(min_cell=min_cell)
    out = pd.DataFrame({
        col("year", L): y["year"].to_numpy(),
        col("actor", L): [actor_label(a, L) for a in y["actor"]],
        col("observed", L): [tr("word.yes" if o else "investment.extrapolated", L) for o in y["observed"]],
        col("cost_intervention", L): kdkk(y["cost_intervention"]),
        col("cost_control", L): kdkk(y["cost_control"]),
        col("saving_per_participant", L): kdkk(y["saving_per_participant"]),
        col("saving_total", L): kdkk(y["saving_total"]),
        col("ci_low", L): kdkk(y["total_low"]),
        col("ci_high", L): kdkk(y["total_high"]),
        col("n_intervention", L): y["n_intervention"].to_numpy(),
        col("n_control", L): y["n_control"].to_numpy(),
    })
    money = out.columns[3:9]
    for c in money:
        out[c] = pd.Series([("" if pd.isna(v) else int(v)) for v in out[c]], index=out.index, dtype=object)
    out.loc[small, list(money)] = lab
    for c in out.columns[9:11]:
        vals = pd.to_numeric(out[c], errors="coerce").astype(float)
        shown = [("" if not np.isfinite(v) else lab if is_small(v, min_cell) else int(v)) for v in vals]
        out[c] = pd.Series(shown, index=out.index, dtype=object)
    check = disclosure.yearly_check(int(small.sum()), analysis.n_intervention, analysis.n_control, min_cell, item=item)
    return out, check


def summary_table(analysis: InvestmentAnalysis, language: str, actors=ACTORS) -> pd.DataFrame:
    """NPV, return per krone and payback by actor, with bootstrap CIs."""
    L = language
    s = analysis.summary[analysis.summary["actor"].isin(actors)]
    ci, u = _ci(analysis, L), unit(L)

    def year(x):
        return "" if x is None or not math.isfinite(x) else fmt_number(x, L)

    def ci_year(lo, hi):
        hi_txt = tr("investment.beyond_horizon", L) if not math.isfinite(hi) else fmt_number(hi, L)
        lo_txt = tr("investment.beyond_horizon", L) if not math.isfinite(lo) else fmt_number(lo, L)
        return "" if (isinstance(lo, float) and math.isnan(lo)) else _range(lo_txt, hi_txt)

    return pd.DataFrame({
        col("actor", L): [actor_label(a, L) for a in s["actor"]],
        col("savings_pv", L, unit=u): kdkk(s["savings_pv"]),
        col("costs_pv", L, unit=u): kdkk(s["costs_pv"]),
        col("npv", L, unit=u): kdkk(s["npv"]),
        col("npv_ci", L, ci=ci): [_range(fmt_number(lo / 1000, L), fmt_number(hi / 1000, L))
                                  for lo, hi in zip(s["npv_low"], s["npv_high"], strict=True)],
        col("npv_observed", L, unit=u): kdkk(s["npv_observed"]),
        col("return_per_krone", L): [fmt_number(v, L, 2) for v in s["return_per_krone"]],
        col("return_ci", L, ci=ci): [_range(fmt_number(lo, L, 2), fmt_number(hi, L, 2)) if math.isfinite(lo) else ""
                                     for lo, hi in zip(s["return_low"], s["return_high"], strict=True)],
        col("payback_year", L): [year(v) for v in s["payback_year"]],
        col("payback_year_pv", L): [year(v) for v in s["payback_year_pv"]],
        col("payback_ci", L, ci=ci): [ci_year(lo, hi) for lo, hi in zip(s["payback_low"], s["payback_high"],
                                                                          strict=True)],
    })


def break_even_table(analysis: InvestmentAnalysis, language: str, actors=ACTORS) -> pd.DataFrame:
    """Break-even effect: extra persons in lasting self-support needed, vs. the observed equivalent."""
    L = language
    b = analysis.break_even[analysis.break_even["actor"].isin(actors)]
    ci = _ci(analysis, L)
    return pd.DataFrame({
        col("actor", L): [actor_label(a, L) for a in b["actor"]],
        col("pv_per_person", L, unit=unit(L)): kdkk(b["pv_per_person"]),
        col("persons_needed", L): [fmt_number(v, L, 1) for v in b["persons_needed"]],
        ci: [_range(fmt_number(lo, L, 1), fmt_number(hi, L, 1))
             for lo, hi in zip(b["persons_needed_low"], b["persons_needed_high"], strict=True)],
        col("share_of_participants", L): [fmt_pct(v, L) for v in b["share_of_participants"]],
        col("observed_equivalent", L): [fmt_number(v, L, 1) for v in b["observed_equivalent"]],
        col("observed_ci", L, ci=ci): [_range(fmt_number(lo, L, 1), fmt_number(hi, L, 1))
                                       for lo, hi in zip(b["observed_equivalent_low"], b["observed_equivalent_high"],
                                                         strict=True)],
    })


def tornado_table(analysis: InvestmentAnalysis, language: str) -> pd.DataFrame:
    """One-way sensitivity: NPV at the low and high end of each input (1,000 DKK)."""
    L = language
    t = analysis.tornado
    u = unit(L)

    def tested(row):
        if row.parameter == "effect":
            return tr("investment.bootstrap_ci", L)
        if row.parameter == "discount_rate":
            return _range(fmt_pct(row.low, L), fmt_pct(row.high, L))
        return _range(fmt_number(row.low, L, 2), fmt_number(row.high, L, 2))

    return pd.DataFrame({
        col("input", L): [tr(f"investment.parameter.{p}", L) for p in t["parameter"]],
        col("values_tested", L): [tested(r) for r in t.itertuples()],
        col("npv_at_low", L, unit=u): kdkk(t["npv_low"]),
        col("npv_at_high", L, unit=u): kdkk(t["npv_high"]),
        col("npv_base", L, unit=u): kdkk(t["npv_base"]),
    })


def monte_carlo_table(analysis: InvestmentAnalysis, language: str) -> pd.DataFrame:
    """Monte Carlo summary: draws, P(NPV > 0), NPV quantiles."""
    L = language
    mc = analysis.monte_carlo
    u = unit(L)
    return pd.DataFrame({
        col("draws", L): [len(mc.npv)],
        col("p_positive", L): [fmt_pct(mc.p_positive, L)],
        col("npv_median", L, unit=u): [kdkk(mc.quantiles["50"])],
        col("npv_q2_5", L, unit=u): [kdkk(mc.quantiles["2.5"])],
        col("npv_q97_5", L, unit=u): [kdkk(mc.quantiles["97.5"])],
    })


# ----------------------------------------------------------------------- public balance
def balance_table(analysis: InvestmentAnalysis, language: str, min_cell: int, actors=ACTORS
                  ) -> tuple[pd.DataFrame, Check]:
    """Per actor and item (rows) and year (columns), 1,000 DKK; total and present value at the end."""
    L = language
    b = analysis.balance
    hidden = disclosure.masked_years(analysis.yearly, min_cell)
    lab = MASK.format(min_cell=min_cell)
    years = sorted(b["year"].unique())
    rows = []
    for actor in actors:
        f = b[b["actor"] == actor].set_index("year").loc[years]
        for item in BALANCE_ITEMS:
            vals = kdkk(f[item].to_numpy())
            cells = [lab if (y in hidden or (item == "cumulative_net_pv" and hidden and y >= min(hidden)))
                     else int(v) for y, v in zip(years, vals, strict=True)]
            total = "" if item == "cumulative_net_pv" else (lab if hidden else kdkk(float(f[item].sum())))
            pv = ("" if item == "cumulative_net_pv"
                  else lab if hidden else kdkk(float((f[item] * f["discount_factor"]).sum())))
            rows.append([actor_label(actor, L), tr(f"investment.balance_item.{item}", L), *cells, total, pv])
    extrap = [y for y in years if not bool(b.loc[(b["actor"] == actors[0]) & (b["year"] == y), "observed"].iloc[0])]
    heads = [tr("investment.year_n", L, year=y) + ("*" if y in extrap else "") for y in years]
    cols = [col("actor", L), col("item", L), *heads, col("total", L), col("present_value", L)]
    frame = pd.DataFrame(rows, columns=cols).astype(object)
    return frame, disclosure.balance_check(hidden, analysis.n_intervention, analysis.n_control, min_cell)


def unpriced_table(analysis: InvestmentAnalysis, language: str, min_cell: int) -> tuple[pd.DataFrame, Check]:
    """Codes met in follow-up without a price, with person-weeks by group (masked below ``min_cell`` persons)."""
    L = language
    u, check = disclosure.mask_unpriced(unpriced_frame(analysis.ledger.code_weeks, analysis.ledger.prices.table),
                                        min_cell)
    counts = ("person_weeks_intervention", "persons_intervention", "person_weeks_control", "persons_control")
    rows = [[int(r.code), getattr(r, f"benefit_{L}"),
             *(v if isinstance(v, str) else int(v) for v in (getattr(r, c) for c in counts))] for r in u.itertuples()]
    cols = [col(c, L) for c in ("code", "benefit", *counts)]
    return pd.DataFrame(rows, columns=cols).astype(object), check


def scenario_table(analysis: InvestmentAnalysis, inv: InvestmentConfig, language: str, actors=ACTORS) -> pd.DataFrame:
    """One row per scenario and actor: participants, cost, PV savings, NPV with interval, payback, P(NPV > 0)."""
    L = language
    s = analysis.scenarios
    labels = {sc.name: sc.label(L) for sc in inv.scenarios}
    s = s[s["actor"].isin(actors)]
    u = unit(L)

    def pay(v, horizon, cost):
        if cost <= 0:
            return tr("investment.scenario.no_cost", L)
        return tr("investment.scenario.not_within", L, years=horizon) if not math.isfinite(v) else fmt_number(v, L)

    return pd.DataFrame({
        col("scenario", L): [labels[n] for n in s["scenario"]],
        col("actor", L): [actor_label(a, L) for a in s["actor"]],
        col("persons", L): s["persons"].astype(int).to_numpy(),
        col("programme_cost", L, unit=u): kdkk(s["costs"]),
        col("savings_pv", L, unit=u): kdkk(s["savings_pv"]),
        col("npv", L, unit=u): kdkk(s["npv"]),
        col("npv_interval", L, level=analysis.settings["level"]):
            [_range(fmt_number(lo / 1000, L), fmt_number(hi / 1000, L))
             for lo, hi in zip(s["npv_low"], s["npv_high"], strict=True)],
        col("pays_back_in", L): [pay(v, int(h), c) for v, h, c in zip(s["payback_year"], s["horizon_years"], s["costs"],
                                                                     strict=True)],
        col("chance_positive", L): [fmt_pct(p, L, 0) for p in s["p_npv_positive"]],
    })


# --------------------------------------------------------------------------- projection
def _p(key: str, language: str) -> str:
    return tr(f"investment.projection.{key}", language)


def projection_table(result: ProjectionResult, cfg: ProjectionConfig, language: str = "en") -> pd.DataFrame:
    """The projection laid out like seed 002's table: one row per hold and outcome, a total row.

    Cells before a group's intake year are blank, as in the printed table.
    """
    labels = year_labels(cfg, language)
    cells = result.cells.assign(value_table=result.cells["value_table"].where(
        result.cells["year"] >= result.cells["intake_year"]))     # blank before the group's intake year
    m = cells.pivot_table(index=["hold", "outcome"], columns="year", values="value_table", sort=False,
                          dropna=False)
    m.columns = labels
    m = m.reset_index()
    hold_word = _p("column.group", language)
    m.insert(0, hold_word, m.pop("hold"))
    m.insert(1, _p("column.outcome", language), [cfg.outcomes[o].label(language) for o in m.pop("outcome")])
    total = {hold_word: _p("total", language), m.columns[1]: ""}
    total.update(dict(zip(labels, result.totals["value_table"], strict=True)))
    out = pd.concat([m, pd.DataFrame([total])], ignore_index=True)
    for c in labels:
        out[c] = out[c].astype("Int64")
    return out


def reconciliation_tables(rec: Reconciliation, cfg: ProjectionConfig, language: str
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The printed projection's departures (cells) and the year totals under each reading."""
    L = language
    labels = year_labels(cfg, L)
    cells = pd.DataFrame({
        _p("column.issue", L): rec.cells["issue"].map(lambda i: _p(f"issue.{i}", L)),
        _p("column.group", L): rec.cells["hold"].astype(int),
        _p("column.outcome_short", L): [cfg.outcomes[o].label(L) for o in rec.cells["outcome"]],
        col("year", L): [labels[y - 1] for y in rec.cells["year"]],
        _p("column.printed", L): rec.cells["printed"].astype(int),
        _p("column.by_assumptions", L): rec.cells["model"].astype(int),
    })
    readings = ("printed", "as_printed", "stated", "own_hold", "deadweight", "corrected")
    tot = rec.totals.set_index("year")[list(readings)].T
    tot.index = [_p(f"reading.{i}", L) for i in tot.index]
    tot.columns = labels
    tot = tot.astype(int).reset_index().rename(columns={"index": _p("column.reading", L)})
    return cells, tot


def projection_flows_table(flows: dict[str, pd.DataFrame], cfg: ProjectionConfig, language: str) -> pd.DataFrame:
    """Savings, costs and cumulative net per year for both readings of a projection (1,000 DKK)."""
    L = language
    a, c = flows["as_printed"], flows["corrected"]
    rows = {
        _p("flow.savings_as_printed", L): kdkk(a["savings"]),
        _p("flow.savings_corrected", L): kdkk(c["savings"]),
        _p("flow.costs", L): kdkk(a["costs"]),
        _p("flow.cumulative_as_printed", L): kdkk(a["cumulative_net"]),
        _p("flow.cumulative_corrected", L): kdkk(c["cumulative_net"]),
        _p("flow.cumulative_corrected_pv", L): kdkk(c["cumulative_net_pv"]),
    }
    return pd.DataFrame(rows, index=year_labels(cfg, L)).T.reset_index().rename(columns={"index": unit(L)})
