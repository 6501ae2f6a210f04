"""Time-to-event data of lasting self-support: durations and event types from the weekly store.

Definitions (chosen here and printed in the report)
---------------------------------------------------
Time origin
    Follow-up starts the week **after** the index week: ``t = 1`` is the first week after
    inclusion, so the index week itself never counts (it is the week the person met the
    inclusion rule, on benefits by construction).
Event 1, lasting self-support
    The first week ``t`` that starts a run of ``survival.lasting_weeks`` (N, default 4)
    consecutive self-supported weeks (:func:`helpers.outcomes.status.self_supported`: no public
    transfer or holiday pay from work; with ``survival.require_employment`` or
    ``data.self_support.require_employment`` the week must also fall in a month with
    employment). ``duration`` is the first week of the run, not its last.
Event 2, disability pension (competing, when ``survival.competing_disability_pension``)
    The first week with a code of category ``disability_pension``. When the option is off,
    disability-pension weeks are simply not self-supported and the person stays at risk.
Event 3, exit (when ``survival.exits == "competing"``)
    The first week with emigration (997), state pension (998) or death (999). Follow-up
    ends at the **first** such week: a person who returns after emigrating is not followed
    again (re-entry is ignored). With ``exits == "censor"`` the exit censors instead.
Censoring (event 0)
    Every person has a last observed week ``E``: the last week inside the data (or
    ``max_weeks``), or the week before an exit that censors. A run that starts in week
    ``t`` can only be seen complete when ``t + N - 1 <= E``, so follow-up for *every* event
    type is censored at ``c = E - (N - 1)``; events after ``c`` are not counted. Using one
    censoring time for all event types keeps the risk sets of the competing events equal.
    A run cut off by the end of data is therefore censored, never counted.

Event in the index week
    A disability-pension or exit code already in the index week (week 0) leaves no
    follow-up: duration 0, censored (the cohort rules should exclude such persons).

The weeks come from :func:`helpers.outcomes.status.lasting_self_support` (run detection, exits,
disability pension, last observed week); :func:`events_from_weeks` applies the rules above.

Counts (unweighted, unmasked; :mod:`helpers.disclosure.survival` masks them before they
are shown): :func:`event_counts`, :func:`counts_at`, :func:`risk_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from helpers.core.codes import CodeBook
from helpers.core.store import MonthlyEmployment, WeeklyStatus
from helpers.outcomes import status

CENSORED, SELF_SUPPORT, DISABILITY_PENSION, EXIT = 0, 1, 2, 3
#: Event code -> name (the report's labels are ``survival.event.<name>`` in the catalogue).
EVENT_NAMES = {SELF_SUPPORT: "self_support", DISABILITY_PENSION: "disability_pension", EXIT: "exit"}
GROUPS = ("control", "intervention")
TTE_COLUMNS = ["person_id", "group", "matched_set", "weight", "duration", "event"]
COHORT_COLUMNS = ("person_id", "group", "index_week", "matched_set", "weight")


def events_from_weeks(
    weeks: pd.DataFrame,
    *,
    lasting_weeks: int = 4,
    exits: Literal["censor", "competing"] = "competing",
    competing_disability_pension: bool = True,
    max_weeks: int | None = None,
) -> pd.DataFrame:
    """Duration and event type from the per-person weeks of :func:`helpers.outcomes.status.lasting_self_support`.

    Parameters
    ----------
    weeks : DataFrame
        ``lasting_week``, ``disability_pension_week``, ``exit_week``, ``last_week``
        (weeks after the index week; -1 = none).
    lasting_weeks : int
        N, the run length that made self-support lasting (for the censoring rule).
    exits : {"competing", "censor"}
        Whether the first emigration/state-pension/death week is event 3 or censors.
    competing_disability_pension : bool
        Whether the first disability-pension week is event 2.
    max_weeks : int, optional
        Administrative end of follow-up (weeks after the index week).

    Returns
    -------
    DataFrame
        ``duration`` (int, weeks) and ``event`` (0 censored, 1 lasting self-support,
        2 disability pension, 3 exit), same row order. The first of the events counts;
        every event type is censored at ``c = E - (N - 1)`` (module docstring), where ``E``
        is ``last_week`` or, when exits censor, the week before the first exit. An exit or
        disability pension in the index week itself (week 0) leaves no follow-up:
        duration 0, censored.

    Examples
    --------
    >>> w = pd.DataFrame({"lasting_week": [5, -1, 9], "disability_pension_week": [-1, -1, 3],
    ...                   "exit_week": [-1, 7, -1], "last_week": [100, 100, 100]})
    >>> events_from_weeks(w, lasting_weeks=4).to_dict("list")
    {'duration': [5, 7, 3], 'event': [1, 3, 2]}
    >>> events_from_weeks(w, lasting_weeks=4, exits="censor").to_dict("list")
    {'duration': [5, 3, 3], 'event': [1, 0, 2]}
    """
    n_lasting = int(lasting_weeks)
    if n_lasting < 1:
        raise ValueError("lasting_weeks must be at least 1")
    if exits not in ("censor", "competing"):
        raise ValueError(f"exits must be 'censor' or 'competing', got {exits!r}")
    never = np.iinfo(np.int64).max

    def when(col: str) -> np.ndarray:
        w = weeks[col].to_numpy(dtype=np.int64)
        return np.where(w >= 0, w, never)

    t_ss = when("lasting_week")
    t_dp = when("disability_pension_week") if competing_disability_pension else np.full(len(weeks), never)
    t_exit = when("exit_week")
    last_seen = weeks["last_week"].to_numpy(dtype=np.int64)
    if exits == "censor":
        last_seen = np.where(t_exit < never, np.minimum(last_seen, t_exit - 1), last_seen)
    censor_at = last_seen - (n_lasting - 1)
    if max_weeks is not None:
        censor_at = np.minimum(censor_at, int(max_weeks))

    t_comp = t_exit if exits == "competing" else np.full(len(weeks), never)
    candidates = np.vstack([t_ss, t_dp, t_comp])
    first = candidates.min(axis=0)
    kind = np.array([SELF_SUPPORT, DISABILITY_PENSION, EXIT])[candidates.argmin(axis=0)]
    no_follow_up = (np.minimum(t_dp, t_comp) < 1) | (censor_at < 1)
    observed = (first <= censor_at) & ~no_follow_up
    duration = np.where(observed, first, np.where(no_follow_up, 0, np.maximum(censor_at, 0)))
    event = np.where(observed, kind, CENSORED)
    return pd.DataFrame({"duration": duration.astype(np.int64), "event": event.astype(np.int8)})


def requires_employment(study) -> bool:
    """Whether self-supported weeks must fall in a month with employment (either YAML switch)."""
    return bool(study.survival.require_employment or study.data.self_support.require_employment)


def check_cohort(cohort: pd.DataFrame, source: str = "cohort.parquet") -> None:
    """Raise ValueError naming file, column and row when the cohort frame breaks the contract."""
    missing = [c for c in COHORT_COLUMNS if c not in cohort.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; notebook 02 writes them (docs/architecture.md)")
    bad_group = ~cohort["group"].isin(GROUPS)
    if bad_group.any():
        row = int(np.flatnonzero(bad_group.to_numpy())[0])
        raise ValueError(f"{source}: column 'group', row {row}: {cohort['group'].iloc[row]!r} is not "
                         f"'intervention' or 'control'; fix the cohort step")
    for col in ("index_week", "matched_set", "weight"):
        values = pd.to_numeric(cohort[col], errors="coerce")
        bad = values.isna() | (values < 0) if col != "weight" else values.isna() | (values <= 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"{source}: column {col!r}, row {row}: missing or invalid value; "
                             f"every cohort member needs a {col} ({'> 0' if col == 'weight' else '>= 0'})")


def time_to_event(
    cohort: pd.DataFrame,
    weekly: WeeklyStatus,
    monthly: MonthlyEmployment | None,
    study,
) -> pd.DataFrame:
    """Build the time-to-event frame of a study's cohort from the weekly store.

    Parameters
    ----------
    cohort : DataFrame
        ``cohort.parquet``: person_id, group, index_week (DREAM week), matched_set, weight.
    weekly : WeeklyStatus
        Weekly codes covering at least the index weeks and the follow-up.
    monthly : MonthlyEmployment or None
        Monthly employment; needed only when employment is required.
    study : Study
        The study (``survival``, ``data.self_support``, ``data.category_overrides``).

    Returns
    -------
    DataFrame
        ``person_id, group, matched_set, weight, duration, event`` (see the module docstring).
    """
    check_cohort(cohort)
    cfg = study.survival
    index_weeks = cohort["index_week"].to_numpy(dtype=np.int64)
    outside = (index_weeks < weekly.first_week) | (index_weeks > weekly.last_week)
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise ValueError(f"cohort.parquet: column 'index_week', row {row}: week {index_weeks[row]} is outside the "
                         f"weekly store ({weekly.first_week}-{weekly.last_week}); reload the store with these weeks")
    require_employment = requires_employment(study)
    if require_employment and monthly is None:
        raise ValueError("the study requires employment in self-supported weeks "
                         "(survival.require_employment or data.self_support.require_employment) "
                         "but no monthly employment (monthly.parquet) was given")
    weeks = status.lasting_self_support(
        weekly, monthly, weekly.rows_of(cohort["person_id"]), index_weeks, n=cfg.lasting_weeks,
        require_employment=require_employment, codebook=CodeBook.default(study.data.category_overrides),
        extra_codes=study.data.self_support.extra_codes,
    )
    tte = events_from_weeks(weeks, lasting_weeks=cfg.lasting_weeks, exits=cfg.exits,
                            competing_disability_pension=cfg.competing_disability_pension, max_weeks=cfg.max_weeks)
    out = cohort[["person_id", "group", "matched_set", "weight"]].reset_index(drop=True).copy()
    out["matched_set"] = out["matched_set"].astype(np.int64)
    out["weight"] = out["weight"].astype(float)
    out["duration"] = tte["duration"].to_numpy()
    out["event"] = tte["event"].to_numpy()
    return out[TTE_COLUMNS]


def event_counts(tte: pd.DataFrame, *, group_col: str = "group", groups: Sequence = GROUPS) -> pd.DataFrame:
    """Persons, events by type and censored per group (unmasked; mask before showing)."""
    rows = []
    for g in groups:
        sub = tte[tte[group_col] == g]
        row = {"group": g, "n": len(sub)}
        for code, name in EVENT_NAMES.items():
            row[name] = int((sub["event"] == code).sum())
        row["censored"] = int((sub["event"] == CENSORED).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def counts_at(tte: pd.DataFrame, times: Sequence[float], groups: Sequence = GROUPS,
              event_of_interest: int = SELF_SUPPORT) -> pd.DataFrame:
    """Per group and time: ``events`` by t, ``n`` and ``at_risk`` (duration >= t), unweighted."""
    rows = []
    for g in groups:
        sub = tte[tte["group"] == g]
        d = sub["duration"].to_numpy(dtype=float)
        e = sub["event"].to_numpy() == event_of_interest
        for t in times:
            rows.append({"group": g, "time": t, "events": int(((d <= t) & e).sum()), "n": len(sub),
                         "at_risk": int((d >= t).sum())})
    return pd.DataFrame(rows)



def risk_table(
    tte: pd.DataFrame,
    times: Sequence[float],
    *,
    event_of_interest=SELF_SUPPORT,
    duration_col: str = "duration",
    event_col: str = "event",
    group_col: str = "group",
    groups: Sequence = GROUPS,
) -> pd.DataFrame:
    """Numbers at risk, cumulative events and cumulative censored at ``times`` (persons, unweighted).

    Follows lifelines' ``add_at_risk_counts``: at time t, *at risk* = persons with
    duration > t (0 at t = 0 gives everyone), *events* = events of interest with
    duration <= t, *censored* = everybody else who left by t (competing events included),
    so at risk + events + censored = group size. Returns a wide frame with ``group``,
    ``measure`` (``at_risk``, ``events``, ``censored``) and one column per time.
    """
    rows = []
    for g in groups:
        sub = tte[tte[group_col] == g]
        d = sub[duration_col].to_numpy(dtype=float)
        e = sub[event_col].to_numpy() == event_of_interest
        at_risk = {t: int((d > t).sum()) for t in times}
        events = {t: int(((d <= t) & e).sum()) for t in times}
        cens = {t: int(((d <= t) & ~e).sum()) for t in times}
        for name, values in (("at_risk", at_risk), ("events", events), ("censored", cens)):
            rows.append({"group": g, "measure": name, **{t: values[t] for t in times}})
    return pd.DataFrame(rows)



def last_grid_time_at_risk(durations, at_least: int, grid: int) -> float:
    """The last multiple of ``grid`` weeks at which at least ``at_least`` persons are at risk (duration >= t).

    0 when even the first grid time has fewer. The disclosure-safe curves end here: no curve is
    drawn where fewer than ``min_cell`` persons remain under follow-up.
    """
    d = np.sort(np.asarray(durations, dtype=float))
    if len(d) < at_least or at_least <= 0:
        return 0.0
    t_max = d[len(d) - at_least]  # the largest t with #(d >= t) >= at_least
    return float(np.floor(t_max / grid) * grid)


def plotted_range(tte: pd.DataFrame, min_cell: int, grid: int, *, group_col: str = "group",
                  groups: Sequence = GROUPS) -> float:
    """How far the curves of any group reach: the latest :func:`last_grid_time_at_risk` over the groups."""
    ends = [last_grid_time_at_risk(tte.loc[tte[group_col] == g, "duration"], min_cell, grid) for g in groups]
    return max(ends, default=0.0)


def follow_up_ticks(times: Sequence[float], end: float, *, every: float = 52.0, gap: float = 40.0) -> list[float]:
    """Week 0, every follow-up point of ``times``, then every ``every`` weeks up to ``end``.

    The yearly ticks beyond the last follow-up point start at least ``gap`` weeks after it (so
    labels do not overlap). These are the columns of the risk table under the curves and the
    ticks of the curves' x axis.
    """
    shown = sorted({float(t) for t in times if t > 0})
    last = max(shown, default=0.0)
    extra = [float(t) for t in np.arange(every * (last // every + 1), end + 1e-9, every) if t - last >= gap]
    return [0.0, *shown, *extra]
