"""Disclosure-safe Kaplan-Meier and cumulative-incidence curves that agree with the tables.

A curve may step only on a grid of weeks, and each step must reflect at least ``min_cell``
events since the previous one, so no step shows an individual's event week (OpenSAFELY's
rule, on a time grid). Left at that, the coarsened curve lags the estimate: at week 52 it
shows the value of the last step before 52, not the value that the table of fixed weeks
prints, and it crosses 50% later than the printed median.

So the curve is built around **anchors**: the weeks at which a table prints a value of that
curve (the fixed weeks whose value is shown, and the week of the printed median). The curve
steps at every anchor to the exact estimate there, so every printed value lies on the curve.
Between anchors it steps on the grid when at least ``min_cell`` events have accumulated; a
remainder of fewer than ``min_cell`` events before an anchor is merged into the anchor's step
(the last grid step before it is dropped). Only where two anchors follow each other with
fewer than ``min_cell`` events between them does a step reflect fewer events; both values are
then printed in the tables already, and the check says so. After the last anchor, a
remainder of fewer than ``min_cell`` events is not drawn (the curve stays flat). Where a table
hides a share because it would pin down a count hidden in the events table, the curve stops
stepping after the last printed share before it (``freeze``). Curves end at the last grid week
with at least ``min_cell`` persons at risk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.disclosure import Check, check_steps
from helpers.stats.survival.competing import cif_at
from helpers.stats.survival.km import km_at
from helpers.stats.survival.tte import GROUPS, SELF_SUPPORT, last_grid_time_at_risk


def step_plan(durations, is_event, *, grid: int, min_cell: int, anchors: Sequence[float] = (),
              freeze: float | None = None) -> pd.DataFrame:
    """Where a disclosure-safe curve of one group steps.

    Parameters
    ----------
    durations, is_event : array-like
        Follow-up time and whether it ended in the event of interest, one per person.
    grid : int
        Weeks between the candidate step times.
    min_cell : int
    anchors : sequence of float
        Weeks at which the curve must show its exact value (printed in a table). Anchors
        where fewer than ``min_cell`` are at risk, or beyond the curve's end, are ignored.
    freeze : float, optional
        No step after this week (the curve stays flat): where a table hides a later value
        because it would pin down a count hidden elsewhere, the curve must not show it either.

    Returns
    -------
    DataFrame
        ``time, events, kind``: one row per step (``events`` since the previous step; kind
        ``step`` on the grid or ``anchor``), and a last row ``kind="end"`` at the curve's end
        (``events`` = the remainder not drawn).
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(is_event, dtype=bool)
    end = last_grid_time_at_risk(d, min_cell, grid)
    fixed = sorted({float(a) for a in anchors if 0 < a and (d >= a).sum() >= min_cell})
    end = max([end, *fixed])
    bounds = sorted({*(float(t) for t in np.arange(grid, end + grid / 2, grid)), *fixed})
    steps: list[dict] = []
    free_since_anchor = 0  # grid steps since the last anchor (at the end of ``steps``)
    pending, previous = 0, 0.0
    for b in bounds:
        pending += int(((d > previous) & (d <= b) & e).sum())
        previous = b
        if freeze is not None and b > freeze:
            continue
        if b in fixed:
            if pending == 0:
                free_since_anchor = 0
                continue  # no event since the last step: the curve already shows the value
            if pending < min_cell and free_since_anchor:
                pending += steps.pop()["events"]  # merge the remainder into this step
            steps.append({"time": b, "events": pending, "kind": "anchor"})
            pending, free_since_anchor = 0, 0
        elif pending >= min_cell:
            steps.append({"time": b, "events": pending, "kind": "step"})
            pending, free_since_anchor = 0, free_since_anchor + 1
    steps.append({"time": end, "events": pending, "kind": "end"})
    return pd.DataFrame(steps, columns=["time", "events", "kind"])


def safe_curve(
    tte: pd.DataFrame,
    estimate,
    *,
    event_of_interest: int,
    min_cell: int,
    grid: int,
    anchors: Mapping | None = None,
    freeze: Mapping | None = None,
    group_col: str = "group",
    groups: Sequence = GROUPS,
) -> pd.DataFrame:
    """A cumulative-incidence curve fit to publish (see the module's description).

    Parameters
    ----------
    tte : DataFrame
        Time-to-event data (``duration``, ``event``, ``group``).
    estimate : callable
        ``estimate(group, times) -> DataFrame`` with ``estimate``, ``lower``, ``upper``
        (cumulative incidence at ``times``), e.g. from :func:`helpers.stats.survival.km.km_at` or
        :func:`helpers.stats.survival.competing.cif_at`.
    anchors : mapping, optional
        ``{group: weeks}`` at which the curve must show its exact value (:func:`step_plan`).
    freeze : mapping, optional
        ``{group: week}`` after which the curve does not step (:func:`step_plan`).

    Returns
    -------
    DataFrame
        ``group, time, estimate, lower, upper, kind`` (``start``, ``step``, ``anchor`` or
        ``end``). The values at steps and anchors are the estimate at that week.
    """
    frames = []
    for g in groups:
        sub = tte[tte[group_col] == g]
        plan = step_plan(sub["duration"], sub["event"].to_numpy() == event_of_interest, grid=grid,
                         min_cell=min_cell, anchors=(anchors or {}).get(g, ()), freeze=(freeze or {}).get(g))
        shown = plan[plan["kind"] != "end"]
        rows = [{"group": g, "time": 0.0, "estimate": 0.0, "lower": 0.0, "upper": 0.0, "kind": "start"}]
        if len(shown):
            est = estimate(g, [float(t) for t in shown["time"]]).reset_index(drop=True)
            for i, (t, kind) in enumerate(zip(shown["time"], shown["kind"], strict=True)):
                rows.append({"group": g, "time": float(t), "estimate": float(est["estimate"][i]),
                             "lower": float(est["lower"][i]), "upper": float(est["upper"][i]), "kind": kind})
        end = float(plan["time"].iloc[-1])
        if end > rows[-1]["time"]:
            rows.append({**rows[-1], "time": end, "kind": "end"})
        frames.append(pd.DataFrame(rows))
    return pd.concat(frames, ignore_index=True)


def value_at(curve: pd.DataFrame, group, t: float) -> float:
    """The value a drawn step curve shows at week ``t`` (right-continuous); NaN beyond its end."""
    c = curve[curve["group"] == group].sort_values("time")
    if not len(c) or t > float(c["time"].max()):
        return float("nan")
    return float(c.loc[c["time"] <= t, "estimate"].iloc[-1])


def first_time_at_or_above(curve: pd.DataFrame, group, level: float = 0.5) -> float:
    """The first week at which a drawn step curve reaches ``level`` (the median read off it); NaN if never."""
    c = curve[curve["group"] == group].sort_values("time")
    hit = c.loc[c["estimate"] >= level, "time"]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def check_curve(curve: pd.DataFrame, tte: pd.DataFrame, *, event_of_interest: int, min_cell: int,
                item: str, group_col: str = "group", anchors: Mapping | None = None) -> Check:
    """Verify a shown curve against the data.

    FAIL when a change of the shown value reflects fewer than ``min_cell`` events of
    interest since the previous change (:func:`helpers.disclosure.check_steps`), or when
    a point is shown where fewer than ``min_cell`` persons are at risk. A change at one of
    ``anchors`` (``{group: weeks}`` whose values a table prints) from a value that is also
    printed (the curve has not changed since the previous anchor) adds nothing to the tables
    and is counted in the detail instead.
    """
    step_events, thin, printed = [], [], 0
    for g, c in curve.groupby("group", sort=False):
        sub = tte[tte[group_col] == g]
        d = sub["duration"].to_numpy(dtype=float)
        e = sub["event"].to_numpy() == event_of_interest
        fixed = {float(a) for a in (anchors or {}).get(g, ())}
        c = c.sort_values("time")
        times = c["time"].to_numpy(dtype=float)
        vals = c["estimate"].to_numpy(dtype=float)
        since = times[0]
        for t1, v0, v1 in zip(times[1:], vals[:-1], vals[1:], strict=True):
            if v1 != v0:
                n = int(((d > since) & (d <= t1) & e).sum())
                before = max([a for a in fixed if a < t1], default=float(times[0]))  # last printed week
                if (0 < n < min_cell and t1 in fixed and since <= before
                        and not ((d > since) & (d <= before) & e).any()):
                    printed += 1  # both ends of the step are printed values
                else:
                    step_events.append(n)
                since = t1
        thin += [f"{g}: week {t:g}" for t in times[1:] if (d >= t).sum() < min_cell]
    check = check_steps(step_events, min_cell, item=item)
    if thin:
        return Check(item=item, status="FAIL", detail=f"curve shown where fewer than {min_cell} are at risk "
                     f"({'; '.join(thin[:3])})", detail_da=f"kurve vist hvor færre end {min_cell} er i risiko")
    if check.passed:
        check.detail = (f"each step reflects >= {min_cell} events on a grid of weeks; curves end where fewer than "
                        f"{min_cell} are at risk")
        check.detail_da = (f"hvert trin afspejler >= {min_cell} hændelser på et gitter af uger; kurverne slutter, "
                           f"hvor færre end {min_cell} er i risiko")
        if printed:
            check.detail += (f"; {printed} step(s) between two values printed in the tables reflect fewer events "
                             f"(they show nothing the tables do not)")
            check.detail_da += (f"; {printed} trin mellem to værdier, som tabellerne viser, afspejler færre "
                                f"hændelser (de viser intet ud over tabellerne)")
    return check


def km_curve(tte: pd.DataFrame, fits: dict, min_cell: int, grid: int, *, item: str,
             anchors: Mapping | None = None, freeze: Mapping | None = None) -> tuple[pd.DataFrame, Check]:
    """Disclosure-safe cumulative share reaching lasting self-support (1 - KM) per group.

    ``anchors``: ``{group: weeks}`` whose value a table prints; ``freeze``: ``{group: week}``
    after which the curve stays flat (see the module).
    """

    def estimate(g, times):
        est = km_at({g: fits[g]}, times)
        return est.rename(columns={"cumulative": "estimate"})[["estimate", "lower", "upper"]]

    curve = safe_curve(tte, estimate, event_of_interest=SELF_SUPPORT, min_cell=min_cell, grid=grid, anchors=anchors,
                       freeze=freeze)
    return curve, check_curve(curve, tte, event_of_interest=SELF_SUPPORT, min_cell=min_cell, item=item,
                              anchors=anchors)


def cif_curves(tte: pd.DataFrame, fits: dict, min_cell: int, grid: int, *, item: str,
               anchors: Mapping | None = None, freeze: Mapping | None = None) -> tuple[pd.DataFrame, Check]:
    """Disclosure-safe Aalen-Johansen curves for every event type and group (column ``event``).

    ``anchors``: ``{(group, event): weeks}`` whose value a table prints; ``freeze``:
    ``{(group, event): week}`` after which the curve stays flat (see the module).
    """
    frames, checks = [], []
    for k in sorted({k for (_, k) in fits}):
        def estimate(g, times, k=k):
            est = cif_at({(g, k): fits[(g, k)]}, times)
            return est.rename(columns={"cif": "estimate"})[["estimate", "lower", "upper"]]

        by_group = {g: weeks for (g, kk), weeks in (anchors or {}).items() if kk == k}
        frozen = {g: week for (g, kk), week in (freeze or {}).items() if kk == k}
        curve = safe_curve(tte, estimate, event_of_interest=k, min_cell=min_cell, grid=grid, anchors=by_group,
                           freeze=frozen)
        checks.append(check_curve(curve, tte, event_of_interest=k, min_cell=min_cell, item=item, anchors=by_group))
        frames.append(curve.assign(event=k))
    curve = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    failed = [c for c in checks if not c.passed]
    if failed:
        check = failed[0]
    elif checks:
        check = max(checks, key=lambda c: len(c.detail))  # the one that mentions printed steps, if any
    else:
        check = Check(item=item, status="PASS", detail="no curves", detail_da="ingen kurver")
    return curve, check
