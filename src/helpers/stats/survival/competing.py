"""Competing risks: Aalen-Johansen cumulative incidence of each event type by group.

Unlike one minus Kaplan-Meier, the Aalen-Johansen incidence does not treat disability
pension, death, emigration or state pension as censoring: a person who leaves that way can
no longer reach lasting self-support first.

Randomness: lifelines jitters tied event times of different types with ``study seed + 4``
(docs/architecture.md, "Randomness").
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter

from helpers.stats.survival.km import step_value, weights_of
from helpers.stats.survival.tte import CENSORED, GROUPS


def cif_by_group(
    tte: pd.DataFrame,
    seed: int,
    *,
    event_types: Sequence[int] | None = None,
    groups: Sequence = GROUPS,
    weight_col: str | None = "weight",
    calculate_variance: bool = True,
) -> dict:
    """Aalen-Johansen cumulative incidence per (group, event type).

    ``seed`` should be ``study seed + 4``: lifelines jitters tied event times of different
    types at random. No custom ``timeline`` is passed (lifelines bug, PR #1699).
    Returns ``{(group, event): AalenJohansenFitter or None}`` (None: no such events in the group).
    """
    if event_types is None:
        event_types = sorted(int(e) for e in tte["event"].unique() if e != CENSORED)
    fits = {}
    for g in groups:
        sub = tte[tte["group"] == g]
        w = weights_of(sub, weight_col)
        for k in event_types:
            if not (sub["event"] == k).any():
                fits[(g, k)] = None
                continue
            aj = AalenJohansenFitter(seed=seed, calculate_variance=calculate_variance)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the tie-jitter warning is expected and seeded
                aj.fit(sub["duration"].to_numpy(dtype=float), sub["event"].to_numpy(dtype=int),
                       event_of_interest=int(k), weights=w)
            fits[(g, k)] = aj
    return fits


def cif_at(fits: dict, times: Sequence[float]) -> pd.DataFrame:
    """Cumulative incidence at ``times`` (evaluated at t + 0.5 so jittered ties at t count).

    Returns ``group, event, time, cif, lower, upper``.
    """
    rows = []
    for (g, k), aj in fits.items():
        for t in times:
            if aj is None:
                rows.append({"group": g, "event": k, "time": t, "cif": 0.0, "lower": np.nan, "upper": np.nan})
                continue
            last = float(aj.durations.max())
            if t > last:
                rows.append({"group": g, "event": k, "time": t, "cif": np.nan, "lower": np.nan, "upper": np.nan})
                continue
            cif = float(step_value(aj.cumulative_density_, t + 0.5)[0])
            lo = hi = np.nan
            if aj.confidence_interval_ is not None:
                # lifelines 0.30.3 labels the AJ bounds the wrong way round; take min and max
                a, b = step_value(aj.confidence_interval_, t + 0.5)[:2]
                lo, hi = float(np.fmin(a, b)), float(np.fmax(a, b))
                if cif == 0:
                    lo, hi = 0.0, 0.0
            rows.append({"group": g, "event": k, "time": t, "cif": cif, "lower": lo, "upper": hi})
    return pd.DataFrame(rows)


def cif_area(aj: AalenJohansenFitter | None, horizon: float) -> float:
    """Integral of the cumulative incidence from 0 to ``horizon`` (weeks after the event)."""
    if aj is None:
        return 0.0
    cd = aj.cumulative_density_.iloc[:, 0]
    t = cd.index.values.astype(float)
    inside = t <= horizon
    t_in, v_in = t[inside], cd.to_numpy(dtype=float)[inside]
    widths = np.diff(np.append(t_in, horizon))
    return float(np.sum(v_in * widths))

