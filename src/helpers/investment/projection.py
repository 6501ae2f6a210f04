"""Ex-ante projection of savings: holds of participants entering over time.

The model generalises the projected-savings table of seed 002 (Fundamentet+, Ishøj 2020,
"Besparelse i hele 1.000 kr."). Holds (groups) start in given quarters of each intake
year; after the course (``outcome_delay_quarters``) a number of persons per hold reach
each outcome (ordinary job/education, flexjob, ...), each saving a fixed amount per
person-year; given shares fall back after given years (retention). The saving of hold
:math:`h`, outcome :math:`o`, in year :math:`y` (the interval :math:`[y-1, y)` from the
start of the first intake year) is

.. math::

    S_{h,o,y} = u_o \\, n_{h,o} \\int_{\\max(y-1,\\, t_h)}^{y}
        \\Big(1 - \\sum_i s_{o,i}\\, \\mathbf{1}[t \\ge c_h + a_{o,i}]\\Big)\\, dt,

with :math:`u_o` the saving per person-year, :math:`n_{h,o}` the persons (less deadweight
when deducted), :math:`t_h` the outcome start, :math:`(s_{o,i}, a_{o,i})` the retention
pairs (share falling back, years after the start) and :math:`c_h` the fall-back clock:
:math:`c_h = t_h` (``fallback_timing="own_hold"``, the literal reading) or the outcome
start of the first hold of the same intake year (``"first_hold"``, as seed 002's sheet
does). Totals are the rounded sums of unrounded cells; rounding is half-up (as a
spreadsheet's ROUND), not Python's half-to-even.

:func:`reconcile` compares a printed table with the model and lists where the printed
table departs from its stated assumptions instead of copying it silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.config.schema.investment import ProjectionConfig
from helpers.investment.discounting import discount_factors, normalise_steps
from helpers.investment.notes import Note


def round_half_up(x) -> np.ndarray:
    """Round to whole numbers, halves away from zero (spreadsheet ROUND).

    Values are first rounded to 6 decimals so that a sum such as 3170.4999999998 of
    exact halves rounds like the spreadsheet's 3170.5.

    Examples
    --------
    >>> round_half_up([328.5, 109.5, 2.4, -0.5]).tolist()
    [329.0, 110.0, 2.0, -1.0]
    """
    x = np.round(np.asarray(x, dtype=float), 6)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def hold_schedule(cfg: ProjectionConfig, fallback_timing: str | None = None) -> pd.DataFrame:
    """Holds with their intake year, start quarter, outcome start and fall-back clock (years)."""
    timing = fallback_timing or cfg.fallback_timing
    rows = []
    per_year = len(cfg.start_quarters)
    for iy in range(1, cfg.intake_years + 1):
        starts = [(iy - 1) + (q - 1 + cfg.outcome_delay_quarters) / 4 for q in cfg.start_quarters]
        for k, (q, t0) in enumerate(zip(cfg.start_quarters, starts, strict=True)):
            clock = t0 if timing == "own_hold" else min(starts)
            rows.append({"hold": (iy - 1) * per_year + k + 1, "intake_year": iy, "start_quarter": q,
                         "outcome_start": t0, "fallback_clock": clock})
    return pd.DataFrame(rows)


def active_share(year: int, start: float, clock: float, retention) -> float:
    """Person-years in the outcome per person in year ``year`` ([year-1, year))."""
    a, b = max(year - 1.0, start), float(year)
    if b <= a:
        return 0.0
    share = b - a
    for s, after in retention:
        share -= s * max(0.0, b - max(a, clock + after))
    return share


@dataclass
class ProjectionResult:
    """Projected savings.

    Attributes
    ----------
    cells : DataFrame
        ``hold, intake_year, outcome, year, persons, person_years, value_dkk, overridden,
        value_table`` (``value_table`` = rounded in table units).
    totals : DataFrame
        ``year, value_dkk, value_table`` (rounded sum of unrounded cells).
    unit_dkk : float
        Table unit (1000 = "i hele 1.000 kr.").
    settings : dict
        ``fallback_timing``, ``apply_deadweight``, ``use_overrides`` used.
    """

    cells: pd.DataFrame
    totals: pd.DataFrame
    unit_dkk: float
    settings: dict = field(default_factory=dict)

    def matrix(self) -> pd.DataFrame:
        """Rounded cells as a (hold, outcome) x year table."""
        return self.cells.pivot_table(index=["hold", "outcome"], columns="year", values="value_table", sort=False)


def project(cfg: ProjectionConfig, *, fallback_timing: str | None = None,
            apply_deadweight: bool | None = None, use_overrides: bool = True) -> ProjectionResult:
    """Project savings by hold, outcome and year.

    Parameters
    ----------
    cfg : ProjectionConfig
        The study's ``investment.projection`` block.
    fallback_timing : {"own_hold", "first_hold"}, optional
        Overrides ``cfg.fallback_timing``.
    apply_deadweight : bool, optional
        Overrides ``cfg.apply_deadweight``.
    use_overrides : bool
        Apply ``cfg.cell_overrides`` (the printed table's departures).

    Returns
    -------
    ProjectionResult
    """
    timing = fallback_timing or cfg.fallback_timing
    deadweight = cfg.apply_deadweight if apply_deadweight is None else apply_deadweight
    holds = hold_schedule(cfg, timing)
    overrides = {(o.hold, o.outcome, o.year): o.value_dkk for o in cfg.cell_overrides} if use_overrides else {}
    rows = []
    for h in holds.itertuples(index=False):
        for name, oc in cfg.outcomes.items():
            persons = oc.persons_per_hold[(h.hold - 1) % len(oc.persons_per_hold)]
            if deadweight:
                persons = max(persons - oc.deadweight_per_hold, 0.0)
            for y in range(1, cfg.horizon_years + 1):
                py = persons * active_share(y, h.outcome_start, h.fallback_clock, oc.retention)
                value = py * oc.saving_per_person_year_dkk
                key = (h.hold, name, y)
                rows.append({"hold": h.hold, "intake_year": h.intake_year, "outcome": name, "year": y,
                             "persons": persons, "person_years": py,
                             "value_dkk": overrides.get(key, value), "overridden": key in overrides})
    cells = pd.DataFrame(rows)
    unit = cfg.table_unit_dkk
    cells["value_table"] = round_half_up(cells["value_dkk"] / unit)
    totals = cells.groupby("year", as_index=False)["value_dkk"].sum()
    totals["value_table"] = round_half_up(totals["value_dkk"] / unit)
    return ProjectionResult(cells, totals, unit, {"fallback_timing": timing, "apply_deadweight": deadweight,
                                                  "use_overrides": use_overrides})


def printed_matrix(cfg: ProjectionConfig) -> tuple[pd.DataFrame, np.ndarray]:
    """The printed table of ``cfg.printed`` as tidy cells (blank = 0) and its totals."""
    if cfg.printed is None:
        raise ValueError("investment.projection.printed: no printed table to compare with")
    rows = []
    for r in cfg.printed.rows:
        for y, v in enumerate(r.values, start=1):
            rows.append({"hold": r.hold, "outcome": r.outcome, "year": y,
                         "printed": 0.0 if v is None else float(v), "blank": v is None})
    return pd.DataFrame(rows), np.asarray(cfg.printed.totals, dtype=float)


@dataclass
class Reconciliation:
    """Where a printed projection departs from its stated assumptions.

    Attributes
    ----------
    reproduced : bool
        The model with the configured settings (overrides included) equals the printed
        table in every cell and total.
    mismatches : DataFrame
        Cells/totals where that model and the printed table differ (empty when reproduced).
    cells : DataFrame
        ``issue, hold, outcome, year, printed, model, difference, note``: cells where
        the printed table departs from the stated assumptions (``issue`` "override": the
        printed cell itself, ``note`` its reason from the study file; "fallback_timing": the
        printed timing of fall-backs, ``model`` timed from each group's own outcome start).
    totals : DataFrame
        Year totals (table units): printed; ``as_printed`` (the reproduction);
        ``stated`` (no overrides); ``own_hold`` (stated, fall-backs from each hold's own
        start); ``deadweight`` (stated, deadweight deducted); ``corrected`` (own-hold
        timing and deadweight deducted).
    notes : list of Note
        What the report says, in order (catalogue ``investment.projection.note.<key>``):
        ``reproduced`` (``n_numbers, n_blank, n_totals``) or ``differs`` (``n``); one ``override``
        per departing printed cell (``hold, outcome, year, printed, model, printed_total,
        stated_total``); ``timing`` (``cells, totals``) when fall-backs are timed from the first
        group; ``deadweight`` (``persons`` by outcome, ``totals``, ``total``, ``stated_total``,
        in table units) when the stated deadweight is not deducted.
    """

    reproduced: bool
    mismatches: pd.DataFrame
    cells: pd.DataFrame
    totals: pd.DataFrame
    notes: list[Note]


def reconcile(cfg: ProjectionConfig) -> Reconciliation:
    """Compare the printed table with the model and list its departures from the stated assumptions."""
    printed, printed_totals = printed_matrix(cfg)
    key = ["hold", "outcome", "year"]
    as_printed = project(cfg)
    stated = project(cfg, use_overrides=False)
    own = project(cfg, fallback_timing="own_hold", use_overrides=False)
    dead = project(cfg, apply_deadweight=True, use_overrides=False)
    corrected = project(cfg, fallback_timing="own_hold", apply_deadweight=True, use_overrides=False)

    merged = printed.merge(as_printed.cells[key + ["value_table"]], on=key, how="outer")
    mism = merged[merged["printed"].fillna(-1) != merged["value_table"].fillna(-1)].assign(what="cell")
    tot_diff = np.flatnonzero(as_printed.totals["value_table"].to_numpy() != printed_totals)
    mism_tot = pd.DataFrame({"what": "total", "year": tot_diff + 1, "printed": printed_totals[tot_diff],
                             "value_table": as_printed.totals["value_table"].to_numpy()[tot_diff]})
    mismatches = pd.concat([mism, mism_tot], ignore_index=True)

    reasons = {(o.hold, o.outcome, o.year): o.reason for o in cfg.cell_overrides}
    s = printed.merge(stated.cells[key + ["value_table"]], on=key)
    dep = s[s["printed"] != s["value_table"]]
    issues = [{"issue": "override", "hold": r.hold, "outcome": r.outcome, "year": r.year, "printed": r.printed,
               "model": r.value_table, "difference": r.printed - r.value_table,
               "note": reasons.get((r.hold, r.outcome, r.year), "")} for r in dep.itertuples()]
    timing_cells = 0
    if cfg.fallback_timing != "own_hold":
        t = stated.cells[key + ["value_table"]].merge(own.cells[key + ["value_table"]], on=key, suffixes=("", "_own"))
        t = t.merge(printed, on=key)
        t = t[(t["value_table"] != t["value_table_own"]) & ~t.set_index(key).index.isin(dep.set_index(key).index)]
        timing_cells = len(t)
        issues += [{"issue": "fallback_timing", "hold": r.hold, "outcome": r.outcome, "year": r.year,
                    "printed": r.printed, "model": r.value_table_own, "difference": r.printed - r.value_table_own,
                    "note": ""} for r in t.itertuples()]
    cells = pd.DataFrame(issues, columns=["issue", "hold", "outcome", "year", "printed", "model", "difference", "note"])

    totals = pd.DataFrame({
        "year": np.arange(1, cfg.horizon_years + 1),
        "printed": printed_totals,
        "as_printed": as_printed.totals["value_table"].to_numpy(),
        "stated": stated.totals["value_table"].to_numpy(),
        "own_hold": own.totals["value_table"].to_numpy(),
        "deadweight": dead.totals["value_table"].to_numpy(),
        "corrected": corrected.totals["value_table"].to_numpy(),
    })

    notes: list[Note] = []
    unit = cfg.table_unit_dkk
    if len(mismatches) == 0:
        notes.append(Note("reproduced", {"n_numbers": int((~printed["blank"]).sum()),
                                         "n_blank": int(printed["blank"].sum()), "n_totals": len(printed_totals)}))
    else:
        notes.append(Note("differs", {"n": len(mismatches)}))
    for r in dep.itertuples():
        y = r.year - 1
        notes.append(Note("override", {"hold": int(r.hold), "outcome": r.outcome, "year": int(r.year),
                                       "printed": float(r.printed), "model": float(r.value_table),
                                       "printed_total": float(printed_totals[y]),
                                       "stated_total": float(totals.loc[y, "stated"])}))
    if timing_cells:
        notes.append(Note("timing", {"cells": timing_cells, "totals": [float(v) for v in totals["own_hold"]]}))
    if not cfg.apply_deadweight and any(o.deadweight_per_hold > 0 for o in cfg.outcomes.values()):
        notes.append(Note("deadweight", {
            "persons": {n: o.deadweight_per_hold for n, o in cfg.outcomes.items() if o.deadweight_per_hold > 0},
            "totals": [float(v) for v in totals["deadweight"]], "total": float(dead.totals["value_dkk"].sum() / unit),
            "stated_total": float(stated.totals["value_dkk"].sum() / unit)}))
    return Reconciliation(len(mismatches) == 0, mismatches, cells, totals, notes)


def projection_cash_flows(result: ProjectionResult, costs_dkk: float, cost_shares: list[float] | None = None,
                          steps=None) -> pd.DataFrame:
    """Yearly savings, costs, net and cumulative net of a projection, nominal and discounted.

    Costs fall in years 1.. by ``cost_shares`` (default: all in year 1); every amount in
    year ``t`` is discounted with :math:`D(t)` (:func:`~helpers.investment.discounting.discount_factors`).
    """
    years = result.totals["year"].to_numpy()
    savings = result.totals["value_dkk"].to_numpy(dtype=float)
    shares = np.zeros(len(years))
    cs = list(cost_shares or [1.0])
    shares[: len(cs)] = cs[: len(years)]
    costs = costs_dkk * shares
    d = discount_factors(years, normalise_steps(steps))
    out = pd.DataFrame({"year": years, "savings": savings, "costs": costs, "net": savings - costs,
                        "discount_factor": d})
    out["net_pv"] = out["net"] * d
    out["cumulative_net"] = out["net"].cumsum()
    out["cumulative_net_pv"] = out["net_pv"].cumsum()
    return out


def projection_readings(cfg: ProjectionConfig, costs_dkk: float, steps=None) -> dict[str, pd.DataFrame]:
    """Cash flows of a projection under two readings: ``as_printed``, and ``corrected`` (each
    group's own fall-back timing, deadweight deducted, no overrides); see :func:`projection_cash_flows`."""
    shares = cfg.cost_shares_by_year or [1.0 / cfg.intake_years] * cfg.intake_years
    steps = normalise_steps(steps)
    return {
        "as_printed": projection_cash_flows(project(cfg), costs_dkk, shares, steps),
        "corrected": projection_cash_flows(project(cfg, fallback_timing="own_hold", apply_deadweight=True,
                                                   use_overrides=False), costs_dkk, shares, steps),
    }


@dataclass(frozen=True)
class ProjectionAnalysis:
    """The ex-ante projection of a study, reproduced, reconciled and read two ways.

    Attributes
    ----------
    config : ProjectionConfig
    result : ProjectionResult
        :func:`project` with the configured settings.
    reconciliation : Reconciliation or None
        :func:`reconcile` (None when the study file holds no printed table).
    readings : dict of DataFrame
        :func:`projection_readings`.
    """

    config: ProjectionConfig
    result: ProjectionResult
    reconciliation: Reconciliation | None
    readings: dict[str, pd.DataFrame]


def analyse_projection(cfg: ProjectionConfig, costs_dkk: float, steps=None) -> ProjectionAnalysis:
    """Project, reconcile with the printed table and compute both readings' cash flows."""
    return ProjectionAnalysis(cfg, project(cfg), reconcile(cfg) if cfg.printed is not None else None,
                              projection_readings(cfg, costs_dkk, steps))
