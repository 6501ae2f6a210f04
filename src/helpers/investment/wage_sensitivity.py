"""One-way sensitivity of the NPV to the wage assumption (per-code ledger with tax).

Earnings enter the ledger non-linearly (the personal allowance, the employment
deductions and the flexjob wage subsidy, which falls with the wage), so the NPV at another
hourly wage is recomputed from the weekly ledger (:meth:`CodeLedger.at_wage`), not scaled.
Everything else stays at the base case; the result is one tornado row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.investment import realised as R
from helpers.investment.by_code import CodeLedger
from helpers.investment.sensitivity import NPVModel


def savings_at_wage(ledger: CodeLedger, hourly_wage_dkk: float, horizon: int) -> np.ndarray:
    """Observed-year savings (H, 3 actors) for all participants at ``hourly_wage_dkk``."""
    panel = R.make_panel(ledger.at_wage(hourly_wage_dkk), horizon)
    mean_i, mean_c = (m[0] for m in R.group_means(panel))
    return int(panel.intervention.sum()) * (mean_c - mean_i)


def wage_row(ledger: CodeLedger, model: NPVModel, actor: str, multipliers: tuple[float, float],
             horizon: int) -> pd.DataFrame:
    """The tornado row for the hourly wage (``low``/``high`` in DKK per hour).

    ``model`` is the actor's base :class:`~helpers.investment.sensitivity.NPVModel`; only its
    savings are replaced (price-dependent and fixed parts together, at base prices).
    """
    a = R.ACTORS.index(actor)
    base_wage = ledger.earnings.hourly_wage_dkk
    lo, hi = (base_wage * m for m in multipliers)
    npv = []
    for w in (lo, hi):
        s = savings_at_wage(ledger, w, horizon)[:, a]
        npv.append(float(model.npv(savings=s, fixed=np.zeros_like(s))))
    base = float(model.npv())
    return pd.DataFrame([{"parameter": "wage", "low": lo, "high": hi, "base": base_wage, "npv_low": npv[0],
                          "npv_high": npv[1], "npv_base": base, "swing": abs(npv[1] - npv[0])}])


def add_row(tornado: pd.DataFrame, row: pd.DataFrame) -> pd.DataFrame:
    """``tornado`` with ``row`` added, sorted by swing as :func:`~helpers.investment.sensitivity.one_way` does."""
    out = pd.concat([tornado, row[tornado.columns]], ignore_index=True)
    return out.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
