"""Latent outcome measures on simulated trajectories (the ground truth of the demo).

All measures work on latent states (not on the DREAM codes the pipeline sees), aligned on
each row's index week: column 0 is the week after the index week. Definitions (documented
in ``truth.json``):

- ``employment`` at horizon ``h``: latent state employed or flexjob in week index + h;
- ``praktik`` by ``h``: any virksomhedspraktik week in index+1 .. index+h;
- ``lasting_outcome`` by ``h``: a block of at least 13 consecutive weeks employed, flexjob
  or disability pension that starts in index+1 .. index+h;
- ``exited`` by ``h``: dead or on state pension in any week up to index + h, or abroad in
  week index + h (rows excluded from the shares, as ``outcomes.exit_rule: exclude``);
- time to lasting self-support: first week ``t >= index + 1`` that starts a run of
  ``lasting_weeks`` self-supported weeks (employed or not); competing events are disability
  pension (2) and death/state pension/emigration (3); censored at the end of the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.synth.coding import (
    DEAD,
    DP,
    EMIG,
    FLEX,
    PENSION,
    SELF_EMP,
    SELF_OUT,
    STATE_NAMES,
)
from helpers.synth.model import praktik_mask

OUT = -1  # aligned weeks outside the data


def aligned(matrix: np.ndarray, first_week: int, index_weeks: np.ndarray, length: int, fill: int = OUT) -> np.ndarray:
    """Columns index+1 .. index+length of ``matrix`` (rows x weeks from ``first_week``) per row."""
    offs = np.asarray(index_weeks, dtype=np.int64) + 1 - first_week
    cols = offs[:, None] + np.arange(length)[None, :]
    inside = (cols >= 0) & (cols < matrix.shape[1])
    vals = matrix[np.arange(len(offs))[:, None], np.clip(cols, 0, matrix.shape[1] - 1)]
    return np.where(inside, vals, fill)


def first_run_start(mask: np.ndarray, n: int) -> np.ndarray:
    """First column starting ``n`` consecutive True values (-1 if none)."""
    k = mask.shape[1] - n + 1
    if k <= 0:
        return np.full(len(mask), -1)
    cs = np.zeros((len(mask), mask.shape[1] + 1), dtype=np.int32)
    np.cumsum(mask, axis=1, out=cs[:, 1:])
    full = (cs[:, n:n + k] - cs[:, :k]) == n
    return np.where(full.any(axis=1), full.argmax(axis=1), -1)


def outcome_flags(states: np.ndarray, codes: np.ndarray, horizons: dict[str, int]) -> pd.DataFrame:
    """Per row and horizon: employment, praktik, lasting outcome and exit flags.

    ``states``/``codes`` are aligned (column 0 = index + 1) and at least
    ``max(horizons) + 13`` columns long.
    """
    rows = []
    employed = (states == SELF_EMP) | (states == FLEX)
    lasting = employed | (states == DP)
    prak = praktik_mask(np.where(codes < 0, 0, codes))
    gone = (states == DEAD) | (states == PENSION)
    n = len(states)
    for key, h in horizons.items():
        col = h - 1
        start13 = first_run_start(lasting[:, : col + 13], 13)
        exited = gone[:, : col + 1].any(axis=1) | (states[:, col] == EMIG) | (states[:, col] == OUT)
        rows.append(
            pd.DataFrame(
                {
                    "row": np.arange(n),
                    "horizon": key,
                    "weeks": h,
                    "employment": employed[:, col],
                    "praktik": prak[:, : col + 1].any(axis=1),
                    "lasting_outcome": (start13 >= 0) & (start13 <= col),
                    "exited": exited,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def time_to_self_support(states: np.ndarray, lasting_weeks: int) -> pd.DataFrame:
    """Weeks from the index week to lasting self-support, with the event type (see module docstring)."""
    selfsup = (states == SELF_EMP) | (states == SELF_OUT)
    t_ss = first_run_start(selfsup, lasting_weeks)
    dp = states == DP
    t_dp = np.where(dp.any(axis=1), dp.argmax(axis=1), -1)
    ex = (states == DEAD) | (states == PENSION) | (states == EMIG)
    t_ex = np.where(ex.any(axis=1), ex.argmax(axis=1), -1)
    observed = states != OUT
    t_end = observed.sum(axis=1) - 1
    big = states.shape[1] + 10
    cand = np.stack([np.where(t_ss >= 0, t_ss, big), np.where(t_dp >= 0, t_dp, big), np.where(t_ex >= 0, t_ex, big)])
    first = cand.min(axis=0)
    kind = cand.argmin(axis=0) + 1
    # a self-support run must be complete inside the data to count
    event = np.where(first < big, kind, 0)
    duration = np.where(event > 0, first + 1, t_end + 1)
    return pd.DataFrame({"duration": duration.astype(int), "event": event.astype(int)})


def share_table(flags: pd.DataFrame, arm: np.ndarray, arms: tuple[str, str]) -> dict:
    """Shares by arm and horizon, excluding rows that exited before the horizon."""
    out: dict[str, dict] = {}
    f = flags.assign(arm=np.asarray(arm)[flags["row"].to_numpy()])
    for key, part in f.groupby("horizon", sort=False):
        entry = {"weeks": int(part["weeks"].iloc[0])}
        for a in arms:
            p = part[(part["arm"] == a) & ~part["exited"]]
            entry[a] = {
                "n": int(len(p)),
                "employment": round(float(p["employment"].mean()), 4) if len(p) else None,
                "praktik": round(float(p["praktik"].mean()), 4) if len(p) else None,
                "lasting_outcome": round(float(p["lasting_outcome"].mean()), 4) if len(p) else None,
            }
        out[str(key)] = entry
    return out


def spells(states: np.ndarray, first_week: int) -> pd.DataFrame:
    """Run-length encode a state matrix: one row per (row, spell) with DREAM start/end weeks."""
    n, w = states.shape
    change = np.ones((n, w), dtype=bool)
    change[:, 1:] = states[:, 1:] != states[:, :-1]
    r, c = np.nonzero(change)
    same_row_next = np.r_[r[1:] == r[:-1], False]
    nxt = np.r_[c[1:], 0]
    end = np.where(same_row_next, nxt - 1, w - 1)
    names = np.asarray(STATE_NAMES, dtype=object)
    return pd.DataFrame(
        {
            "row": r.astype(np.int32),
            "state": pd.Categorical(names[states[r, c]], categories=list(STATE_NAMES)),
            "start_week": (c + first_week).astype(np.int32),
            "end_week": (end + first_week).astype(np.int32),
        }
    )
