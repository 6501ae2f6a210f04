"""The assumptions table of the investment calculation: every price, rate and setting with its year and source.

- :func:`assumptions_table`: per-category pricing (a price per analysis category).
- :func:`code_assumptions_table`: per-code pricing: prices per code (codes sharing a rate
  grouped, :func:`code_ranges`), the flexjob rule, the municipality/state split, the tax
  rates and the earnings assumption.
- :func:`general_assumption_rows`: the rows both share (discounting, horizon, costs, effect,
  uncertainty, one-way sensitivity).

Words come from the catalogue (``investment.assumption.*``); numbers are printed with the
language's separators (:mod:`helpers.report.investment_format`).
"""

from __future__ import annotations

import pandas as pd

from helpers.config.schema.investment import InvestmentConfig
from helpers.core.i18n import localise, tr
from helpers.investment.analysis import InvestmentAnalysis
from helpers.investment.refusion import STEPS_2016
from helpers.report.investment_format import (
    SOURCE_DISCOUNT,
    SOURCE_REFUSION,
    actor_label,
    col,
    fmt_number,
    fmt_pct,
)

Row = tuple[str, str, str, str]


def _a(key: str, language: str, **fields) -> str:
    return tr(f"investment.assumption.{key}", language, **fields)


def _frame(rows: list[Row], language: str) -> pd.DataFrame:
    cols = [col(c, language) for c in ("assumption", "value", "year", "source")]
    return pd.DataFrame(rows, columns=cols)


def _steps() -> str:
    return "/".join(f"{s[1]:.0%}" for s in STEPS_2016)


def _source(source: str, url: str) -> str:
    return source + (f" ({url})" if url else "")


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


# --------------------------------------------------------------------------- per category
def assumptions_table(inv: InvestmentConfig, prices: pd.DataFrame, costs: pd.DataFrame, language: str,
                      *, n_participants: int | None = None) -> pd.DataFrame:
    """Every assumption of the calculation: prices with year and source, refusion, discounting,
    horizon, costs, uncertainty and sensitivity settings."""
    L = language
    rows: list[Row] = []
    priced = prices[prices["annual_dkk"] > 0]
    for cat, p in priced.iterrows():
        source = _source(p["source"], p.get("source_url"))
        year = str(int(p["year"])) + (f" ({p['year_note']})" if p.get("year_note") else "")
        rows.append((_a("price_category", L, category=cat),
                     _a("price_category_value", L, benefit=p[f"benefit_{L}"], amount=fmt_number(p["annual_dkk"], L)),
                     year, source))
    unpriced = [c for c in prices.index if prices.loc[c, "annual_dkk"] <= 0]
    rows.append((_a("not_priced_zero", L), ", ".join(unpriced), "", _a("price_table", L)))
    rows.append((_a("prices_nature", L), _a("prices_nature_value", L), "", ""))
    if inv.refusion:
        covered = ", ".join(c for c in prices.index if bool(prices.loc[c, "refusion"]))
        rows.append((_a("refusion", L),
                     _a("refusion_value", L, steps=_steps(), history=inv.refusion_history_weeks, covered=covered),
                     "2016", SOURCE_REFUSION))
    else:
        rows.append((_a("refusion_off", L), _a("refusion_off_value", L), "", ""))
    rows += general_assumption_rows(inv, costs, L, n_participants=n_participants)
    return _frame(rows, L)


def general_assumption_rows(inv: InvestmentConfig, costs: pd.DataFrame, language: str, *,
                            n_participants: int | None = None, effect: str = "effect_benefits") -> list[Row]:
    """Rows of the assumptions table that do not depend on how weeks are priced: discounting,
    horizon, costs, effect (``investment.assumption.<effect>``), uncertainty and one-way
    sensitivity (assumption, value, year, source)."""
    L = language
    rows: list[Row] = []
    steps_txt = []
    last = 0
    for upto, rate in inv.discount_rates:
        span = f"{last + 1}-{int(upto)}" if upto < 1000 else f"{last + 1}+"
        steps_txt.append(_a("discount_step", L, rate=fmt_number(100 * rate, L, 1), span=span))
        last = int(upto)
    rows.append((_a("discount", L), _a("discount_value", L, steps=", ".join(steps_txt)), "2021/2023",
                 SOURCE_DISCOUNT))
    horizon = (_a("horizon_extrapolated", L, observed=inv.horizon_years, extrapolated=inv.extrapolate_years,
                  retention=fmt_number(inv.retention, L, 2)) if inv.extrapolate_years
               else _a("horizon_observed", L, observed=inv.horizon_years))
    rows.append((_a("horizon", L), horizon, "", ""))
    total = float(costs["total_dkk"].sum()) if len(costs) else 0.0
    per = _a("costs_per_participant", L, amount=fmt_number(total / n_participants, L)) if n_participants else ""
    years = ", ".join(str(int(y)) for y in sorted(costs["analysis_year"].unique())) if len(costs) else ""
    rows.append((_a("costs", L),
                 _a("costs_value", L, total=fmt_number(total, L), per=per, years=years,
                    bearer=actor_label(inv.cost_bearer, L).lower()),
                 "", ", ".join(sorted(set(costs["source"]))) if len(costs) else ""))
    rows.append((_a("effect", L), _a(effect, L), "", ""))
    s = inv.sensitivity
    retention = inv.extrapolate_years > 0
    rows.append((_a("uncertainty", L),  # the settings are floats: localise gives 0,8 in Danish
                 localise(_a("uncertainty_value", L, bootstrap=inv.bootstrap_draws, monte_carlo=inv.monte_carlo_draws,
                    p_low=s.prices[0], p_high=s.prices[1], c_low=s.costs[0], c_high=s.costs[1])
                 + (_a("uncertainty_retention", L, low=s.retention[0], high=s.retention[1]) if retention else ""), L),
                 "", ""))
    rows.append((_a("one_way", L),
                 localise(_a("one_way_value", L, p_low=s.prices[0], p_high=s.prices[1], c_low=s.costs[0], c_high=s.costs[1],
                    d_low=s.discount_rate[0], d_high=s.discount_rate[1], level=s.effect_level)
                 + (_a("one_way_retention", L, low=s.retention[0], high=s.retention[1]) if retention else ""), L),
                 "", ""))
    return rows


# ------------------------------------------------------------------------------- per code
def _price_rows(table: pd.DataFrame, L: str) -> list[Row]:
    rows: list[Row] = []
    t = table.reset_index()
    paid = t[(t["priced"] == 1) & ((t["weekly_gross_dkk"] > 0) | (t["amount_rule"] == "flexjob_subsidy"))]
    keys = ["benefit_en", "benefit_da", "weekly_gross_dkk", "rate_dkk", "rate_unit", "year", "source", "payer",
            "refusion_rule", "amount_rule"]
    for _, g in paid.groupby(keys, sort=False):
        r = g.iloc[0]
        unit = _a(f"rate_unit.{r['rate_unit']}", L)
        fields = {"payer": _a(f"payer.{r['payer']}", L),
                  "refusion": _a("refusion_steps", L) if r["refusion_rule"] == "trappe_2016" else ""}
        if r["amount_rule"] == "flexjob_subsidy":
            value = _a("price_flexjob", L, rate=fmt_number(r["rate_dkk"], L), unit=unit, **fields)
        else:
            rate = ("" if r["rate_unit"] == "week" and r["share"] == 1
                    else _a("price_rate", L, rate=fmt_number(r["rate_dkk"], L), unit=unit))
            value = _a("price_flat", L, weekly=fmt_number(r["weekly_gross_dkk"], L), rate=rate, **fields)
        label = _a("price_code_many" if len(g) > 1 else "price_code_one", L, codes=code_ranges(g["code"]),
                   benefit=r[f"benefit_{L}"])
        rows.append((label, value, str(int(r["year"])), _source(r["source"], r["source_url"])))
    zero = t[(t["priced"] == 1) & (t["weekly_gross_dkk"] == 0) & (t["amount_rule"] != "flexjob_subsidy")]
    rows.append((_a("no_payment", L), _a("no_payment_value", L, codes=code_ranges(zero["code"])), "",
                 _a("definition", L)))
    none = t[t["priced"] == 0]
    rows.append((_a("not_priced", L), _a("not_priced_value", L, codes=code_ranges(none["code"])), "",
                 _a("price_table", L)))
    return rows


def code_assumptions_table(analysis: InvestmentAnalysis, inv: InvestmentConfig, costs: pd.DataFrame,
                           language: str) -> pd.DataFrame:
    """Every assumption of the per-code calculation, with year and source."""
    L = language
    led = analysis.ledger
    rows = _price_rows(led.prices.table, L)
    f = led.flex
    rows.append((_a("flexjob", L),
                 _a("flexjob_value", L, share=fmt_pct(f.share_of_highest, L, 0), below=fmt_pct(f.reduction_below, L, 0),
                    threshold=fmt_number(f.threshold_month_dkk, L), above=fmt_pct(f.reduction_above, L, 0)),
                 str(f.year), "; ".join(dict.fromkeys(f.sources["source"])) if f.sources is not None else ""))
    rows.append((_a("split", L), _a("split_value", L, steps=_steps(), history=inv.refusion_history_weeks), "2016",
                 SOURCE_REFUSION))
    if led.tax is not None:
        for r in led.tax.sources.itertuples():
            v = fmt_pct(r.value, L, 2) if r.unit == "share" else tr("investment.amount_dkk", L,
                                                                      amount=fmt_number(r.value, L))
            rows.append((_a(f"tax.{r.parameter}", L, municipality=led.tax.municipality), v, str(int(r.year)),
                         _source(r.source, r.source_url)))
    else:
        rows.append((_a("tax_off", L), _a("tax_off_value", L), "", ""))
    e = led.earnings
    rows.append((_a("earnings", L),
                 _a("earnings_value", L, wage=fmt_number(e.hourly_wage_dkk, L), hours=fmt_number(e.hours_per_week, L),
                    w_low=fmt_number(inv.sensitivity.wage[0], L, 2), w_high=fmt_number(inv.sensitivity.wage[1], L, 2)),
                 str(inv.price_year), inv.earnings.source))
    rows += general_assumption_rows(inv, costs, L, n_participants=analysis.n_intervention, effect="effect_net_cost")
    return _frame(rows, L)
