"""Disclosure control of stage 04 (time to lasting self-support): curves, risk tables, estimates.

Takes computed numbers (:mod:`helpers.stats.survival`) and ``min_cell`` and returns masked
frames and :class:`~helpers.disclosure.Check` objects; the generic rules are in
:mod:`helpers.disclosure`.

- Curves (:func:`safe_curve`, :func:`km_curve`, :func:`cif_curves`) step only on a grid of
  weeks and only when at least ``min_cell`` events happened since the previous step; they
  end where fewer than ``min_cell`` persons are at risk (:func:`check_curve` verifies).
- Risk tables (:func:`mask_risk_table`) mask small counts, small differences along a row
  and a count recoverable from the group size (:func:`check_risk_table` verifies).
- Estimates at fixed times rest on events, non-events and persons at risk that are 0 or at
  least ``min_cell`` (:func:`small_estimate`, :func:`mask_rows`, :func:`fixed_times_masked`);
  restricted means on at least ``min_cell`` events per group before the horizon
  (:func:`rmst_masked`).
- Binned Schoenfeld residuals average at least ``min_cell`` events (:func:`check_bins`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.disclosure import MASK, SECONDARY_MASK, Check, check_counts, check_steps, is_small, km_step_times
from helpers.stats.survival.competing import cif_at
from helpers.stats.survival.km import km_at
from helpers.stats.survival.tte import GROUPS, SELF_SUPPORT, counts_at


def mask_risk_table(table: pd.DataFrame, min_cell: int, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Disclosure control of a :func:`helpers.stats.survival.tte.risk_table`.

    1. counts 1..min_cell-1 are masked (shown as ``"<min_cell"``);
    2. along each row (time order), a count is masked when its change from the last shown
       count of that row is 1..min_cell-1 (no small count recoverable by differencing);
    3. per group and time, at risk + events + censored = group size (shown at t = 0), so
       when exactly one of the three is masked, the smallest other one is masked too;
    repeated until nothing changes. Cells masked by rules 2-3 may hold large numbers, so
    they are shown as :data:`SECONDARY_MASK` (``"x"``), not as ``"<min_cell"``.
    """
    times = [c for c in table.columns if c not in ("group", "measure")]
    values = table[times].to_numpy(dtype=float)
    primary = is_small(values, min_cell)
    mask = primary.copy()
    changed = True
    while changed:
        changed = False
        for i in range(values.shape[0]):
            last = None
            for j in range(values.shape[1]):
                if mask[i, j]:
                    continue
                if last is not None and 0 < abs(values[i, j] - last) < min_cell:
                    mask[i, j] = True
                    changed = True
                    continue
                last = values[i, j]
        for g in table["group"].unique():
            idx = np.flatnonzero(table["group"].to_numpy() == g)
            for j in range(values.shape[1]):
                if mask[idx, j].sum() == 1:
                    others = [r for r in idx if not mask[r, j]]
                    positive = [r for r in others if values[r, j] > 0] or others
                    victim = min(positive, key=lambda r: values[r, j])
                    mask[victim, j] = True
                    changed = True
    out = table.copy()
    label = MASK.format(min_cell=min_cell)
    for j, t in enumerate(times):
        out[t] = [label if primary[i, j] else SECONDARY_MASK if mask[i, j] else int(values[i, j])
                  for i in range(values.shape[0])]
    n_masked = int(mask.sum())
    check = check_risk_table(out, min_cell, item=item)
    if check.passed:
        check.masked = n_masked
        shown = values[~mask]
        check.min_shown = float(shown[shown > 0].min()) if (shown > 0).any() else None
        n_secondary = int((mask & ~primary).sum())
        check.detail = (f"risk table: {n_masked} count(s) masked ({n_secondary} because a small number could be "
                        f"derived by subtraction)" if n_masked else
                        f"risk table: all counts and differences 0 or >= {min_cell}")
        check.detail_da = (f"risikotabel: {n_masked} antal skjult ({n_secondary} fordi et lille antal ellers kunne "
                           f"udledes ved subtraktion)" if n_masked else
                           f"risikotabel: alle antal og differenser er 0 eller >= {min_cell}")
    return out, check


def check_risk_table(table: pd.DataFrame, min_cell: int, *, item: str) -> Check:
    """Verify a shown risk table: no count, and no difference of two shown counts in a row, is 1..min_cell-1."""
    times = [c for c in table.columns if c not in ("group", "measure")]
    problems = 0
    for _, row in table.iterrows():
        shown = [float(v) for v in row[times] if not isinstance(v, str)]
        problems += int(sum(0 < v < min_cell for v in shown))
        problems += int(sum(0 < abs(b - a) < min_cell for a, b in zip(shown[:-1], shown[1:], strict=True)))
    if problems:
        return Check(item=item, status="FAIL", detail=f"{problems} shown count(s) or differences below {min_cell}",
                     detail_da=f"{problems} viste antal eller differenser under {min_cell}")
    return Check(item=item, status="PASS", detail=f"all counts and differences 0 or >= {min_cell}",
                 detail_da=f"alle antal og differenser er 0 eller >= {min_cell}")


def safe_curve(
    tte: pd.DataFrame,
    estimate,
    *,
    event_of_interest: int,
    min_cell: int,
    grid: int,
    group_col: str = "group",
    groups: Sequence = GROUPS,
) -> pd.DataFrame:
    """A cumulative-incidence curve fit to publish: coarse steps of at least ``min_cell`` events.

    Events are counted in bins of ``grid`` weeks; :func:`helpers.disclosure.km_step_times`
    groups consecutive bins until each group holds at least ``min_cell`` events (a final
    smaller group joins the step before it), and the curve steps only at the end of a
    group. So step *times* are multiples of ``grid`` (never a person's event time) and each
    step reflects at least ``min_cell`` events (OpenSAFELY's idea, on a time grid). The
    value shown at a step is the estimate at that time (shown values are exact; between
    steps the curve lags by fewer than ``min_cell`` events). The curve ends at the last
    grid time with at least ``min_cell`` persons at risk (duration >= t).

    Parameters
    ----------
    tte : DataFrame
        Time-to-event data (``duration``, ``event``, ``group``).
    estimate : callable
        ``estimate(group, times) -> DataFrame`` with ``estimate``, ``lower``, ``upper``
        (cumulative incidence at ``times``), e.g. from :func:`helpers.stats.survival.km.km_at` or
        :func:`helpers.stats.survival.competing.cif_at`.

    Returns
    -------
    DataFrame
        ``group, time, estimate, lower, upper, kind`` (``start``, ``step`` or ``end``).
    """
    frames = []
    for g in groups:
        sub = tte[tte[group_col] == g]
        d = sub["duration"].to_numpy(dtype=float)
        e = sub["event"].to_numpy() == event_of_interest
        last = float(d.max()) if len(d) else 0.0
        grid_times = []
        for t in np.arange(grid, last + grid, grid, dtype=float):
            if (d >= t).sum() < min_cell:
                break
            grid_times.append(t)
        per_bin = [int(((d > t - grid) & (d <= t) & e).sum()) for t in grid_times]
        shown = [float(t) for t in km_step_times(grid_times, per_bin, min_cell)] if grid_times else []
        end = grid_times[-1] if grid_times else 0.0
        rows = [{"group": g, "time": 0.0, "estimate": 0.0, "lower": 0.0, "upper": 0.0, "kind": "start"}]
        if shown:
            est = estimate(g, shown).reset_index(drop=True)
            for i, t in enumerate(shown):
                rows.append({"group": g, "time": t, "estimate": float(est["estimate"][i]),
                             "lower": float(est["lower"][i]), "upper": float(est["upper"][i]), "kind": "step"})
        if end > rows[-1]["time"]:
            rows.append({**rows[-1], "time": end, "kind": "end"})
        frames.append(pd.DataFrame(rows))
    return pd.concat(frames, ignore_index=True)


def check_curve(curve: pd.DataFrame, tte: pd.DataFrame, *, event_of_interest: int, min_cell: int,
                item: str, group_col: str = "group") -> Check:
    """Verify a shown curve against the data.

    FAIL when a change of the shown value reflects fewer than ``min_cell`` events of
    interest since the previous change (:func:`helpers.disclosure.check_steps`), or when
    a point is shown where fewer than ``min_cell`` persons are at risk.
    """
    step_events, thin = [], []
    for g, c in curve.groupby("group", sort=False):
        sub = tte[tte[group_col] == g]
        d = sub["duration"].to_numpy(dtype=float)
        e = sub["event"].to_numpy() == event_of_interest
        c = c.sort_values("time")
        times = c["time"].to_numpy(dtype=float)
        vals = c["estimate"].to_numpy(dtype=float)
        since = times[0]
        for t1, v0, v1 in zip(times[1:], vals[:-1], vals[1:], strict=True):
            if v1 != v0:
                step_events.append(int(((d > since) & (d <= t1) & e).sum()))
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
    return check


def km_curve(tte: pd.DataFrame, fits: dict, min_cell: int, grid: int, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Disclosure-safe cumulative share reaching lasting self-support (1 - KM) per group."""

    def estimate(g, times):
        est = km_at({g: fits[g]}, times)
        return est.rename(columns={"cumulative": "estimate"})[["estimate", "lower", "upper"]]

    curve = safe_curve(tte, estimate, event_of_interest=SELF_SUPPORT, min_cell=min_cell, grid=grid)
    return curve, check_curve(curve, tte, event_of_interest=SELF_SUPPORT, min_cell=min_cell, item=item)


def cif_curves(tte: pd.DataFrame, fits: dict, min_cell: int, grid: int, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Disclosure-safe Aalen-Johansen curves for every event type and group (column ``event``)."""
    frames, checks = [], []
    for k in sorted({k for (_, k) in fits}):
        def estimate(g, times, k=k):
            est = cif_at({(g, k): fits[(g, k)]}, times)
            return est.rename(columns={"cif": "estimate"})[["estimate", "lower", "upper"]]

        curve = safe_curve(tte, estimate, event_of_interest=k, min_cell=min_cell, grid=grid)
        checks.append(check_curve(curve, tte, event_of_interest=k, min_cell=min_cell, item=item))
        frames.append(curve.assign(event=k))
    curve = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    failed = [c for c in checks if not c.passed]
    if failed:
        check = failed[0]
    elif checks:
        check = checks[0]
    else:
        check = Check(item=item, status="PASS", detail="no curves", detail_da="ingen kurver")
    return curve, check


def mask_rows(frame: pd.DataFrame, bad: np.ndarray, min_cell: int, *, value_cols: Sequence[str],
              item: str) -> tuple[pd.DataFrame, Check]:
    """Replace ``value_cols`` of the rows flagged in ``bad`` by ``"<min_cell"``."""
    bad = np.asarray(bad, dtype=bool)
    out = frame.copy()
    label = MASK.format(min_cell=min_cell)
    for col in value_cols:
        out[col] = out[col].astype(object).where(~bad, label)
    k = int(bad.sum())
    detail = (f"{k} row(s) masked: estimate rests on fewer than {min_cell} events, non-events or persons at risk"
              if k else f"every estimate rests on 0 or >= {min_cell} events, non-events and persons at risk")
    detail_da = (f"{k} række(r) skjult: estimatet hviler på færre end {min_cell} hændelser, ikke-hændelser eller "
                 f"personer i risiko" if k else
                 f"alle estimater hviler på 0 eller >= {min_cell} hændelser, ikke-hændelser og personer i risiko")
    return out, Check(item=item, status="PASS", detail=detail, masked=k, detail_da=detail_da)


def small_estimate(counts: pd.DataFrame, min_cell: int) -> np.ndarray:
    """Rows whose estimate rests on small counts: events, n - events or at_risk in 1..min_cell-1."""
    ev = counts["events"].to_numpy(dtype=float)
    n = counts["n"].to_numpy(dtype=float)
    risk = counts["at_risk"].to_numpy(dtype=float)
    return is_small(ev, min_cell) | is_small(n - ev, min_cell) | is_small(risk, min_cell)


def cif_rows_masked(tte: pd.DataFrame, cif_table: pd.DataFrame, min_cell: int) -> np.ndarray:
    """Per row of :func:`helpers.stats.survival.competing.cif_at` output: whether it rests on small counts.

    The counts are those of the row's event type in the row's group at the row's time
    (:func:`small_estimate`).
    """
    flags = [counts_at(tte, [r["time"]], groups=[r["group"]], event_of_interest=int(r["event"])).iloc[0]
             for _, r in cif_table.iterrows()]
    return small_estimate(pd.DataFrame([{k: c[k] for k in ("events", "n", "at_risk")} for c in flags]), min_cell)


def fixed_times_masked(tte: pd.DataFrame, times: Sequence[float], min_cell: int) -> list[bool]:
    """Per time in ``times``: whether either group's estimate rests on small counts (:func:`small_estimate`)."""
    counts = counts_at(tte, times)
    return [bool(small_estimate(counts[counts["time"] == t], min_cell).any()) for t in times]


def rmst_masked(rmst_table: pd.DataFrame, min_cell: int) -> bool:
    """Whether a group has 1..min_cell-1 events before the horizon (``events_before_horizon``)."""
    return bool(is_small(rmst_table["events_before_horizon"].to_numpy(), min_cell).any())


def mask_label(min_cell: int) -> str:
    """How a masked count is shown (``"<5"``)."""
    return MASK.format(min_cell=min_cell)


def mask_small(counts: Mapping[str, int], min_cell: int) -> dict[str, int | str]:
    """Counts 1..min_cell-1 replaced by ``"<min_cell"`` (no complementary suppression)."""
    label = mask_label(min_cell)
    return {k: (label if 0 < v < min_cell else int(v)) for k, v in counts.items()}


def mask_count_columns(frame: pd.DataFrame, columns: Sequence[str], min_cell: int, *,
                       item: str) -> tuple[pd.DataFrame, Check]:
    """Counts 1..min_cell-1 in ``columns`` replaced by ``"<min_cell"`` (the counts of a model table)."""
    label = mask_label(min_cell)
    out = frame.copy()
    small = is_small(out[list(columns)].to_numpy(dtype=float), min_cell)
    for j, col in enumerate(columns):
        out[col] = out[col].astype(object).where(~small[:, j], label)
    k = int(small.sum())
    return out, Check(item=item, status="PASS", masked=k,
                      detail=f"{k} count(s) below {min_cell} masked" if k else f"all counts 0 or >= {min_cell}",
                      detail_da=f"{k} antal under {min_cell} skjult" if k else f"alle antal er 0 eller >= {min_cell}")


def check_rmst(masked: bool, min_cell: int, *, item: str) -> Check:
    """The check of the restricted-mean table (masked when :func:`rmst_masked`)."""
    detail = (f"masked: fewer than {min_cell} events before the horizon in a group" if masked
              else f"restricted means rest on >= {min_cell} events per group")
    detail_da = (f"skjult: færre end {min_cell} hændelser før horisonten i en gruppe" if masked
                 else f"middeltiderne hviler på >= {min_cell} hændelser i hver gruppe")
    return Check(item=item, status="PASS", detail=detail, masked=int(masked), detail_da=detail_da)


def check_statistics_only(item: str) -> Check:
    """The check of a table of test statistics (no counts of persons)."""
    return Check(item=item, status="PASS", detail="test statistics only; no counts",
                 detail_da="kun teststørrelser; ingen antal")


def check_medians(grid: int, *, item: str) -> Check:
    """The check of the median table: medians rounded to the curve grid, no counts."""
    return Check(item=item, status="PASS", detail=f"medians rounded to a {grid}-week grid; no counts",
                 detail_da=f"medianer rundet til et gitter på {grid} uger; ingen antal")


def check_no_rows(item: str) -> Check:
    """The check of an empty table."""
    return Check(item=item, status="PASS", detail="no rows", detail_da="ingen rækker")


def check_bins(bins: pd.DataFrame, min_cell: int, *, item: str) -> Check:
    """PASS when every bin of :func:`helpers.stats.survival.cox.schoenfeld_bins` averages at least ``min_cell`` events."""
    return check_counts(bins["events"] if len(bins) else [], min_cell, item=item, what="events per residual bin",
                        what_da="hændelser pr. residualgruppe")

