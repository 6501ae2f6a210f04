"""Stage 04: trajectories around the index week, and weeks in self-support, employment and each benefit.

:func:`run` reads the cohort and its weekly and monthly data, gives every week from
``trajectories.weeks_before`` before the index week to the end of the data an analysis
state (:func:`helpers.outcomes.trajectories.state_matrix`), and computes

1. the state distribution per group on a grid of weeks (TraMineR's ``seqstatd``; weighted
   by the matching weights), merged for disclosure
   (:func:`helpers.disclosure.trajectories.merge_distribution`);
2. the difference in the share self-supported per grid week with a pointwise 95 % band;
3. weeks in self-support, employment and each state in the first 1, 2, 5 (``trajectories.years``
   and the investment's ``horizon_years``) years after the index week, and in as many years
   before it (a balance check): weighted means per group and their difference with a 95 %
   interval.

Every interval is a percentile interval of one cluster bootstrap over matched sets
(:mod:`helpers.stats.matched_bootstrap`; ``trajectories.bootstrap_draws`` replicates drawn
with ``numpy.random.default_rng(study.seed + 2)``), shared by all estimates. It writes
``trajectories_distribution.parquet`` (the masked distribution), ``trajectories_results.json``
(the :class:`TrajectoriesResult`) and returns the result.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, PrivateAttr

from helpers.core import atomic, store
from helpers.disclosure import MASK
from helpers.disclosure import trajectories as disclosure
from helpers.outcomes import trajectories as traj
from helpers.stages.base import StageResult
from helpers.stats.matched_bootstrap import MatchedDesign, mean_difference, multiplicities

#: Offset of the bootstrap's random stream (docs/architecture.md, "Randomness").
BOOTSTRAP_OFFSET = 2
GROUPS = ("intervention", "control")
Count = int | str


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class WindowRow(_Row):
    """Weeks in one measure over one window, per group, as published (masked estimates are None).

    Attributes
    ----------
    period : {"after", "before"}
        Weeks ``0 .. 52 years - 1`` from the index week, or the ``52 years`` weeks before it.
    years, window_weeks : int
    measure : str
        ``self_support`` or an analysis state (:data:`helpers.outcomes.trajectories.MEASURES`).
    n_int, n_ctl : int or str
        Persons with the whole window observed (the mask string when 1 .. min_cell - 1).
    mean_int, mean_ctl : float or None
        Weighted mean weeks per person.
    difference, ci_low, ci_high : float or None
        Intervention minus control, weeks; 95 % bootstrap percentile interval.
    masked_int, masked_ctl : bool
        The group's mean is hidden by disclosure control.
    """

    period: Literal["after", "before"]
    years: int
    window_weeks: int
    measure: str
    n_int: Count
    n_ctl: Count
    mean_int: float | None
    mean_ctl: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    masked_int: bool
    masked_ctl: bool


class WeekRow(_Row):
    """The share self-supported in one grid week (relative to the index week), as published."""

    week: int
    share_int: float | None
    share_ctl: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    shown: bool


class TrajectoriesResult(StageResult):
    """What stage 04 (trajectories) found.

    Attributes
    ----------
    study : str
    min_cell, grid_weeks, weeks_before : int
        Disclosure threshold, grid of shown weeks, weeks shown before the index week.
    last_week : int
        Last week after the index week shown in the distribution (the end of follow-up, or
        ``trajectories.weeks_after``).
    windows : list of int
        Years of the weeks-in-states windows.
    require_employment : bool
        The study's self-support rule (``data.self_support.require_employment``).
    n_int, n_ctl : int
        Persons in the groups (a control used in several matched sets counts once).
    n_sets : int
        Matched sets (clusters of the bootstrap).
    with_replacement : bool
        A control serves in more than one matched set.
    bootstrap_draws, bootstrap_seed : int
    states : list of str
        The analysis states (:data:`helpers.outcomes.trajectories.STATES`).
    bands : list of str
        Bands of the published distribution after the whole-figure merge (states joined by ``+``).
    weeks_merged : int
        Group-weeks of the distribution in which small cells were merged.
    weeks_hidden : int
        Grid weeks of the self-support difference hidden by disclosure control.
    self_support : list of WeekRow
    rows : list of WindowRow
    """

    FILE = "trajectories_results.json"

    study: str
    min_cell: int
    grid_weeks: int
    weeks_before: int
    last_week: int
    windows: list[int]
    require_employment: bool
    n_int: int
    n_ctl: int
    n_sets: int
    with_replacement: bool
    bootstrap_draws: int
    bootstrap_seed: int
    states: list[str]
    bands: list[str]
    weeks_merged: int
    weeks_hidden: int
    self_support: list[WeekRow]
    rows: list[WindowRow]
    _distribution: pd.DataFrame | None = PrivateAttr(default=None)
    _counts: pd.DataFrame | None = PrivateAttr(default=None)
    _windows_unmasked: pd.DataFrame | None = PrivateAttr(default=None)
    _difference_unmasked: pd.DataFrame | None = PrivateAttr(default=None)

    @property
    def distribution(self) -> pd.DataFrame | None:
        """The published (merged) distribution of ``trajectories_distribution.parquet`` (only after :func:`run`)."""
        return self._distribution

    @property
    def counts(self) -> pd.DataFrame | None:
        """Unmerged persons and shares per group, grid week and state (only after :func:`run`; never published)."""
        return self._counts

    @property
    def windows_unmasked(self) -> pd.DataFrame | None:
        """The weeks-in-states estimates before masking (only after :func:`run`)."""
        return self._windows_unmasked

    @property
    def difference_unmasked(self) -> pd.DataFrame | None:
        """The weekly self-support difference before masking (only after :func:`run`)."""
        return self._difference_unmasked

    def table(self) -> pd.DataFrame:
        """The window rows as a data frame (masked counts and estimates NaN)."""
        frame = pd.DataFrame([r.model_dump() for r in self.rows], columns=list(WindowRow.model_fields))
        for col in ("n_int", "n_ctl"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        for col in ("mean_int", "mean_ctl", "difference", "ci_low", "ci_high"):
            frame[col] = frame[col].astype(float)
        return frame

    def self_support_frame(self) -> pd.DataFrame:
        """The weekly self-support rows as a data frame (hidden weeks NaN)."""
        frame = pd.DataFrame([r.model_dump() for r in self.self_support], columns=list(WeekRow.model_fields))
        for col in ("share_int", "share_ctl", "difference", "ci_low", "ci_high"):
            frame[col] = frame[col].astype(float)
        return frame

    def row(self, measure: str, years: int, period: str = "after") -> WindowRow:
        """The row of ``measure`` over the window of ``years`` (``period`` after or before the index week).

        Raises
        ------
        KeyError
            When the stage did not compute that window.
        """
        for r in self.rows:
            if r.measure == measure and r.years == years and r.period == period:
                return r
        raise KeyError(f"no {period}-index window of {years} year(s) for {measure!r} in {self.FILE}")


# --------------------------------------------------------------------------- computation


def _float(x) -> float | None:
    if x is None or x is pd.NA:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _distinct(persons: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Distinct persons with ``mask`` True, per column of ``mask`` (rows = cohort rows)."""
    codes, uniques = pd.factorize(pd.Series(persons, dtype=object))
    out = np.zeros(mask.shape[1], dtype=np.int64)
    if not len(uniques):
        return out
    hit = np.zeros((len(uniques), mask.shape[1]), dtype=bool)
    np.logical_or.at(hit, codes, mask)
    return hit.sum(axis=0)


def _last_week(states: np.ndarray, start: int, groups: np.ndarray, persons: np.ndarray, min_cell: int,
               cap: int | None) -> int:
    """Last relative week in which every group has at least ``min_cell`` distinct persons observed."""
    observed = states != traj.NO_STATE
    ok = np.ones(states.shape[1], dtype=bool)
    for g in GROUPS:
        sel = groups == g
        ok &= _distinct(persons[sel], observed[sel]) >= min_cell
    after = np.flatnonzero(ok & (np.arange(states.shape[1]) + start >= 0))
    last = int(after.max() + start) if len(after) else 0
    return min(last, cap) if cap is not None else last


def grid(weeks_before: int, last_week: int, step: int) -> np.ndarray:
    """Relative weeks shown: the multiples of ``step`` from ``-weeks_before`` to ``last_week`` (week 0 included)."""
    first = -(weeks_before // step) * step
    return np.arange(first, last_week + 1, step, dtype=np.int64)


def self_support_series(states, start, weeks, persons, groups, design, multipliers, require_employment):
    """Shares self-supported per group and grid week, the difference and its band, and the persons behind them."""
    cols = weeks - start
    sub = states[:, cols]
    observed = sub != traj.NO_STATE
    ss = traj.indicator(sub, traj.SELF_SUPPORT, require_employment)
    est = mean_difference(ss.astype(float), observed, design, multipliers)
    frame = pd.DataFrame({"week": weeks, "share_int": est.mean_treated, "share_ctl": est.mean_control,
                          "difference": est.difference, "lower": est.lower, "upper": est.upper})
    for g, tag in zip(GROUPS, ("int", "ctl"), strict=True):
        sel = groups == g
        frame[f"ss_{tag}"] = _distinct(persons[sel], ss[sel] & observed[sel])
        frame[f"observed_{tag}"] = _distinct(persons[sel], observed[sel])
    return frame


def window_estimates(states, start, windows, persons, groups, design, multipliers, require_employment):
    """Weeks in each measure per window: group means, difference, interval, and the persons behind each mean."""
    tidy = traj.weeks_in_windows(states, start, windows, require_employment=require_employment)
    keys = tidy[["period", "years", "window_weeks", "measure"]].drop_duplicates().reset_index(drop=True)
    n = states.shape[0]
    values = tidy["weeks"].to_numpy().reshape(len(keys), n).T
    complete = tidy["complete"].to_numpy().reshape(len(keys), n).T
    est = mean_difference(values.astype(float), complete, design, multipliers)
    frame = keys.assign(mean_int=est.mean_treated, mean_ctl=est.mean_control, difference=est.difference,
                        lower=est.lower, upper=est.upper, n_draws=est.n_draws)
    full = values == keys["window_weeks"].to_numpy()[None, :]
    for g, tag in zip(GROUPS, ("int", "ctl"), strict=True):
        sel = groups == g
        frame[f"n_{tag}"] = _distinct(persons[sel], complete[sel])
        frame[f"positive_{tag}"] = _distinct(persons[sel], complete[sel] & (values[sel] > 0))
        frame[f"full_{tag}"] = _distinct(persons[sel], complete[sel] & full[sel])
    return frame


def _count(x, min_cell: int) -> Count:
    x = int(x)
    return MASK.format(min_cell=min_cell) if 0 < x < min_cell else x


def from_frames(study, *, distribution, counts, difference, windows, n_int, n_ctl, n_sets, with_replacement,
                last_week) -> TrajectoriesResult:
    """A :class:`TrajectoriesResult` from the stage's unmasked frames (masks them)."""
    cfg = study.trajectories
    m = study.study.min_cell
    shown_diff = disclosure.mask_difference(difference, m)
    shown_win = disclosure.mask_windows(windows, m)
    bands = [b for b in dict.fromkeys(distribution["band"]) if b != disclosure.MERGED]
    result = TrajectoriesResult(
        study=study.name, min_cell=m, grid_weeks=cfg.grid_weeks, weeks_before=cfg.weeks_before, last_week=last_week,
        windows=sorted(set(windows["years"].astype(int))), require_employment=study.data.self_support.require_employment,
        n_int=n_int, n_ctl=n_ctl, n_sets=n_sets, with_replacement=with_replacement,
        bootstrap_draws=cfg.bootstrap_draws, bootstrap_seed=study.study.seed + BOOTSTRAP_OFFSET,
        states=list(traj.STATES), bands=bands,
        weeks_merged=int(((distribution["band"] == disclosure.MERGED) & (distribution["persons"] > 0)).sum()),
        weeks_hidden=int((~shown_diff["shown"]).sum()),
        self_support=[WeekRow(week=int(r.week), share_int=_float(r.share_int), share_ctl=_float(r.share_ctl),
                              difference=_float(r.difference), ci_low=_float(r.lower), ci_high=_float(r.upper),
                              shown=bool(r.shown)) for r in shown_diff.itertuples()],
        rows=[WindowRow(period=r.period, years=int(r.years), window_weeks=int(r.window_weeks), measure=r.measure,
                        n_int=_count(r.n_int, m), n_ctl=_count(r.n_ctl, m), mean_int=_float(r.mean_int),
                        mean_ctl=_float(r.mean_ctl), difference=_float(r.difference), ci_low=_float(r.lower),
                        ci_high=_float(r.upper), masked_int=bool(r.masked_int), masked_ctl=bool(r.masked_ctl))
              for r in shown_win.itertuples()],
    )
    result._distribution = distribution
    result._counts = counts
    result._windows_unmasked = windows
    result._difference_unmasked = difference
    return result


def run(study, *, write: bool = True) -> TrajectoriesResult:
    """State distributions, the self-support difference per week and weeks in each state, by group.

    Parameters
    ----------
    study : Study
    write : bool
        Write ``trajectories_distribution.parquet`` and ``trajectories_results.json`` to the
        study's processed folder.

    Returns
    -------
    TrajectoriesResult
        With the published distribution (:attr:`TrajectoriesResult.distribution`) and the
        unmasked frames attached for the report.

    Raises
    ------
    ValueError
        When the study switched the stage off (``trajectories.enabled: false``).
    """
    cfg = study.trajectories
    if not cfg.enabled:
        raise ValueError(f"{study.name}: trajectories.enabled is false in the study YAML; the stage does not run")
    m = study.study.min_cell
    cohort = store.load_cohort(study)
    index = cohort["index_week"].to_numpy(dtype=np.int64)
    windows = cfg.windows(study.investment.horizon_years)
    back = max(cfg.weeks_before, traj.WEEKS_PER_YEAR * max(windows))
    ids = pd.unique(cohort["person_id"])
    weekly = store.load_weekly(study, first_week=int(index.min()) - back, person_ids=ids)
    monthly = store.load_monthly(study, person_ids=ids)
    stop = max(int(weekly.last_week - index.min()) + 1, traj.WEEKS_PER_YEAR * max(windows))
    rows = weekly.rows_of(cohort["person_id"].to_numpy())
    states = traj.state_matrix(weekly, monthly, rows, index, -back, stop, study)
    persons = cohort["person_id"].to_numpy(dtype=object)
    groups = cohort["group"].to_numpy(dtype=object)
    design = MatchedDesign.from_cohort(cohort)
    draws = multiplicities(design.n_clusters, cfg.bootstrap_draws,
                           np.random.default_rng(study.study.seed + BOOTSTRAP_OFFSET))
    rule = study.data.self_support.require_employment

    last = _last_week(states, -back, groups, persons, m, cfg.weeks_after)
    weeks = grid(cfg.weeks_before, last, cfg.grid_weeks)
    counts = traj.state_counts(states, groups, cohort["weight"].to_numpy(dtype=float), persons, weeks + back, GROUPS)
    counts.insert(2, "week", counts.pop("column") - back)
    distribution = disclosure.merge_distribution(counts, m, list(traj.STATES))
    difference = self_support_series(states, -back, weeks, persons, groups, design, draws, rule)
    estimates = window_estimates(states, -back, windows, persons, groups, design, draws, rule)
    ctl = cohort[cohort["group"] == "control"]
    result = from_frames(
        study, distribution=distribution, counts=counts, difference=difference, windows=estimates,
        n_int=int(cohort.loc[cohort["group"] == "intervention", "person_id"].nunique()),
        n_ctl=int(ctl["person_id"].nunique()), n_sets=int(cohort["matched_set"].nunique()),
        with_replacement=bool(ctl["person_id"].duplicated().any()), last_week=int(last))
    if write:
        folder = study.processed_dir
        atomic.write_parquet(folder / "trajectories_distribution.parquet",
                             distribution.assign(states=distribution["states"].map(",".join)))
        result.save(folder)
    return result
