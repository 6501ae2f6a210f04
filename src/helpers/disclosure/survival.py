"""Disclosure control of stage 04 (time to lasting self-support): curves, risk tables, estimates.

Takes computed numbers (:mod:`helpers.stats.survival`) and ``min_cell`` and returns masked
frames and :class:`~helpers.disclosure.Check` objects; the generic rules are in
:mod:`helpers.disclosure`.

- Curves (:mod:`helpers.disclosure.survival_curves`, re-exported here: :func:`safe_curve`,
  :func:`km_curve`, :func:`cif_curves`) step only on a grid of weeks and only when at least
  ``min_cell`` events happened since the previous step, and at the weeks whose value a table
  prints (so every printed value lies on its curve); they end where fewer than ``min_cell``
  persons are at risk (:func:`check_curve` verifies).
- Marks: ``"<min_cell"`` only on a count of persons that is 1..min_cell-1; every other hidden
  cell (a count hidden to protect another, a share or interval resting on a small count) shows
  :data:`helpers.disclosure.SECONDARY_MASK` (``"x"``).
- The tables agree with each other (:func:`published_estimates`): a value of the fixed-weeks
  or cumulative-incidence table that would pin down a count the events table hides
  (:func:`mask_event_counts`) is hidden too.
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

from helpers.disclosure import (
    MASK,
    SECONDARY_MASK,
    Check,
    check_counts,
    is_small,
    suppress,
)
from helpers.disclosure.survival_curves import (  # noqa: F401  (the curves are part of this stage's rules)
    check_curve,
    cif_curves,
    first_time_at_or_above,
    km_curve,
    safe_curve,
    step_plan,
    value_at,
)
from helpers.stats.survival.tte import CENSORED, EVENT_NAMES, SELF_SUPPORT, counts_at

#: Columns of the events table (:func:`helpers.stats.survival.tte.event_counts`) and their event codes.
KIND_CODE = {**{name: code for code, name in EVENT_NAMES.items()}, "censored": None}
EVENT_KINDS = tuple(KIND_CODE)


def mask_risk_table(table: pd.DataFrame, min_cell: int, *, item: str,
                    keep: Mapping | None = None) -> tuple[pd.DataFrame, Check]:
    """Disclosure control of a :func:`helpers.stats.survival.tte.risk_table`.

    1. counts 1..min_cell-1 are masked (shown as ``"<min_cell"``);
    2. along each row (time order), a count is masked when its change from the last shown
       count of that row is 1..min_cell-1 (no small count recoverable by differencing);
    3. per group and time, at risk + events + censored = group size (shown at t = 0), so
       when exactly one of the three is masked, the smallest other one is masked too;
    repeated until nothing changes. Cells masked by rules 2-3 may hold large numbers, so
    they are shown as :data:`SECONDARY_MASK` (``"x"``), not as ``"<min_cell"``.

    ``keep`` (``{group: weeks}``): weeks at which a table prints the group's share with the
    event (so the events count is public in effect). Rule 3 then hides another of the three
    counts rather than that one: hiding it would protect nothing, as the masked count could be
    recovered from the printed share.
    """
    times = [c for c in table.columns if c not in ("group", "measure")]
    values = table[times].to_numpy(dtype=float)
    primary = is_small(values, min_cell)
    kept = {g: {float(t) for t in weeks} for g, weeks in (keep or {}).items()}

    def printed(r: int, t) -> bool:
        return table["measure"].iloc[r] == "events" and float(t) in kept.get(table["group"].iloc[r], set())

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
                    free = [r for r in positive if not printed(r, times[j])]
                    positive = free or positive
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


def event_count_masks(events: pd.DataFrame, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Which counts of :func:`helpers.stats.survival.tte.event_counts` the events table hides.

    Primary: counts 1..min_cell-1. Secondary: complementary cells (:func:`helpers.disclosure.suppress`
    with the row total ``n``), so no hidden count can be recovered from the group size.

    Returns
    -------
    primary, secondary : DataFrame of bool
        Indexed like ``events``, one column per kind (``self_support``, ``disability_pension``,
        ``exit``, ``censored``, ``n``).
    """
    cols = [*EVENT_KINDS, "n"]
    mask, _ = suppress(events[cols], min_cell, row_total="n")
    primary = pd.DataFrame(is_small(events[cols].to_numpy(dtype=float), min_cell), index=events.index, columns=cols)
    return primary, mask & ~primary


def mask_event_counts(events: pd.DataFrame, min_cell: int, *, item: str) -> tuple[pd.DataFrame, Check]:
    """The events table (persons and first events by group) with ``"<min_cell"`` and ``"x"`` marks.

    A count 1..min_cell-1 shows ``"<min_cell"``; a count hidden only because it would reveal
    one (the group size is shown) shows :data:`SECONDARY_MASK`.
    """
    primary, secondary = event_count_masks(events, min_cell)
    out = events.copy()
    label = MASK.format(min_cell=min_cell)
    for col in primary.columns:
        out[col] = [label if p else SECONDARY_MASK if q else int(v)
                    for v, p, q in zip(events[col], primary[col], secondary[col], strict=True)]
    n_primary, n_secondary = int(primary.to_numpy().sum()), int(secondary.to_numpy().sum())
    hidden = primary | secondary
    shown = events[primary.columns].to_numpy(dtype=float)[~hidden.to_numpy()]
    if n_primary + n_secondary:
        detail = (f"{n_primary + n_secondary} count(s) masked ({n_primary} below {min_cell} as <{min_cell}, "
                  f"{n_secondary} complementary as {SECONDARY_MASK})")
        detail_da = (f"{n_primary + n_secondary} antal skjult ({n_primary} under {min_cell} som <{min_cell}, "
                     f"{n_secondary} sekundært som {SECONDARY_MASK})")
    else:
        detail, detail_da = f"all counts 0 or >= {min_cell}", f"alle antal er 0 eller >= {min_cell}"
    return out, Check(item=item, status="PASS", detail=detail, detail_da=detail_da,
                      masked=n_primary + n_secondary,
                      min_shown=float(shown[shown > 0].min()) if (shown > 0).any() else None)


def published_estimates(tte: pd.DataFrame, times: Sequence[float], events: pd.DataFrame,
                        min_cell: int) -> pd.DataFrame:
    """Which shares of the tables of fixed weeks may be printed, per group, event type and week.

    The fixed-weeks table (1 - Kaplan-Meier) and the cumulative-incidence table read this one
    frame, and so do the curves' anchors, so the tables and figures print the same values.

    1. A share rests on its counts: hidden (reason ``"small"``) when the events by the week,
       the persons without them or the persons at risk are 1..min_cell-1
       (:func:`small_estimate`).
    2. The tables agree with the events table (reason ``"derivable"``): the events table hides
       some counts of a group (:func:`event_count_masks`); their sum is known from the group
       size, each is at least 1, a ``"<min_cell"`` count at most ``min_cell - 1``, and the
       printed share of an event type by a week tells at least how many had it. When these
       bounds leave a hidden count only one possible value, the latest printed share of the
       hidden event type that gives the largest lower bound is hidden, until none is pinned.

    Parameters
    ----------
    tte : DataFrame
    times : sequence of float
        The fixed weeks.
    events : DataFrame
        :func:`helpers.stats.survival.tte.event_counts` of ``tte``.
    min_cell : int

    Returns
    -------
    DataFrame
        ``group, event, time, events, shown, reason`` (reason ``""`` when shown).
    """
    kinds = sorted({SELF_SUPPORT, *(int(e) for e in tte["event"].unique() if int(e) != CENSORED)})
    frames = [counts_at(tte, list(times), event_of_interest=k).assign(event=k) for k in kinds]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["group", "time", "events", "n", "at_risk", "event"])
    small = small_estimate(out, min_cell) if len(out) else np.zeros(0, dtype=bool)
    out["shown"] = ~small
    out["reason"] = np.where(small, "small", "")
    primary, secondary = event_count_masks(events, min_cell)
    for i, row in events.iterrows():
        hidden = [c for c in EVENT_KINDS if primary.at[i, c] or secondary.at[i, c]]
        if not hidden or primary.at[i, "n"] or secondary.at[i, "n"]:
            continue
        total = int(sum(row[c] for c in hidden))  # known to a reader: n minus the shown counts
        while True:
            sel = (out["group"] == row["group"]) & out["shown"]
            lower = {c: max(1, int(out.loc[sel & (out["event"] == KIND_CODE[c]), "events"].max())
                            if (sel & (out["event"] == KIND_CODE[c])).any() else 1) for c in hidden}
            cap = {c: (min_cell - 1 if primary.at[i, c] else total) for c in hidden}
            pinned = [c for c in hidden if min(cap[c], total - sum(lower[o] for o in hidden if o != c)) <= lower[c]]
            sources = [c for c in hidden if KIND_CODE[c] is not None and lower[c] > 1]
            if not pinned or not sources:
                break
            worst = max(sources, key=lambda c: lower[c])
            rows = out.index[sel & (out["event"] == KIND_CODE[worst])]
            last = out.loc[rows, "time"].idxmax()
            out.loc[last, ["shown", "reason"]] = [False, "derivable"]
    return out[["group", "event", "time", "events", "shown", "reason"]]


def frozen_after(published: pd.DataFrame) -> dict:
    """``{(group, event): week}``: curves that must stop stepping after that week.

    Where a share is hidden because it would pin down a count the events table hides
    (reason ``"derivable"``), the curve may show nothing beyond the last printed share before
    it (week 0 when there is none).
    """
    out = {}
    for (g, k), s in published.groupby(["group", "event"], sort=False):
        bad = s.loc[s["reason"] == "derivable", "time"]
        if len(bad):
            before = s.loc[s["shown"] & (s["time"] < bad.min()), "time"]
            out[(g, int(k))] = float(before.max()) if len(before) else 0.0
    return out


def shown_weeks(published: pd.DataFrame, event: int = SELF_SUPPORT) -> dict:
    """``{group: weeks}`` whose share of ``event`` the tables print (the curves' anchors)."""
    sub = published[(published["event"] == event) & published["shown"]]
    return {g: [float(t) for t in s["time"]] for g, s in sub.groupby("group", sort=False)}


def is_shown(published: pd.DataFrame, group, event: int, time: float) -> bool:
    """Whether the share of ``event`` in ``group`` by ``time`` is printed (:func:`published_estimates`)."""
    hit = published[(published["group"] == group) & (published["event"] == event) & (published["time"] == time)]
    return bool(len(hit)) and bool(hit["shown"].iloc[0])


def mask_cells(frame: pd.DataFrame, hidden: Mapping[str, Sequence[bool]], *, item: str,
               min_cell: int) -> tuple[pd.DataFrame, Check]:
    """Replace the hidden cells of shares, intervals and p-values by :data:`SECONDARY_MASK`.

    ``hidden`` maps a column to one flag per row. A share is never shown as ``"<min_cell"``:
    it is not a count below ``min_cell``.
    """
    out = frame.copy()
    k = 0
    for col, flags in hidden.items():
        flags = np.asarray(flags, dtype=bool)
        out[col] = out[col].astype(object).where(~flags, SECONDARY_MASK)
        k += int(flags.sum())
    detail = (f"{k} cell(s) masked as {SECONDARY_MASK}: the share rests on fewer than {min_cell} events, "
              f"non-events or persons at risk, or would reveal a count hidden in another table" if k else
              f"every share rests on 0 or >= {min_cell} events, non-events and persons at risk")
    detail_da = (f"{k} celle(r) skjult som {SECONDARY_MASK}: andelen hviler på færre end {min_cell} hændelser, "
                 f"ikke-hændelser eller personer i risiko, eller ville afsløre et antal, der er skjult i en anden "
                 f"tabel" if k else
                 f"alle andele hviler på 0 eller >= {min_cell} hændelser, ikke-hændelser og personer i risiko")
    return out, Check(item=item, status="PASS", detail=detail, masked=k, detail_da=detail_da)


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

