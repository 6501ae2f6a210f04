"""Who is followed to each follow-up point: counts per group for the flow diagram's follow-up boxes.

A person is *followed to* a follow-up point of ``h`` weeks (``outcomes.horizons``) when the
register holds every week ``index .. index + h`` and none of them is an exit (emigration 997,
state pension 998, death 999, :func:`helpers.outcomes.status.first_exit`). With matching with
replacement a control person has several rows; it counts once, as followed when any of its
rows is. Nobody is removed here: the outcome stages apply ``outcomes.exit_rule``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.cohort.register import Register
from helpers.core.store import NO_DATA
from helpers.outcomes import status

#: Columns of :func:`followed_by_horizon`.
FOLLOW_UP_COLUMNS = ["horizon", "weeks", "group", "n_persons", "n_followed", "n_exit", "n_data_end"]


def followed_by_horizon(reg: Register, cohort: pd.DataFrame, horizons: Sequence) -> pd.DataFrame:
    """Persons per group followed to each follow-up point, and why the others are not.

    Parameters
    ----------
    reg : Register
    cohort : DataFrame
        Matched rows with ``person_id``, ``group``, ``index_week``.
    horizons : sequence of Horizon
        ``key`` and ``weeks`` of each follow-up point (``study.outcomes.horizons``).

    Returns
    -------
    DataFrame
        :data:`FOLLOW_UP_COLUMNS`, one row per horizon x group (distinct persons):
        ``n_exit`` exited first, ``n_data_end`` the data end first (no exit seen).
    """
    if not len(horizons) or cohort.empty:
        return pd.DataFrame(columns=FOLLOW_UP_COLUMNS)
    rows = pd.Index(reg.weekly.person_id).get_indexer(cohort["person_id"])
    h_max = max(h.weeks for h in horizons)
    window = reg.weekly.aligned(rows, cohort["index_week"].to_numpy(), 0, h_max + 1)
    exit_col, _ = status.first_exit(window)
    end_col = status.first_true(window == NO_DATA)
    big = h_max + 1
    exit_at = np.where(exit_col < 0, big, exit_col)
    end_at = np.where(end_col < 0, big, end_col)
    out = []
    for h in horizons:
        followed = (exit_at > h.weeks) & (end_at > h.weeks)
        exited = ~followed & (exit_at <= end_at)
        for grp in ("intervention", "control"):
            sel = (cohort["group"] == grp).to_numpy()
            ids = cohort["person_id"].to_numpy()[sel]
            f = pd.Series(followed[sel]).groupby(ids).any()
            e = pd.Series(exited[sel]).groupby(ids).all() & ~f
            out.append({"horizon": h.key, "weeks": int(h.weeks), "group": grp, "n_persons": int(len(f)),
                        "n_followed": int(f.sum()), "n_exit": int(e.sum()), "n_data_end": int((~f & ~e).sum())})
    return pd.DataFrame(out, columns=FOLLOW_UP_COLUMNS)
