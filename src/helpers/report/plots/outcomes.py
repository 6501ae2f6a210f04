"""Figures of binary outcomes at follow-up points."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.core.i18n import tr

COLOURS = {"primary": "#1f4e79", "secondary": "#6b6b6b"}


def forest_plot(
    results: pd.DataFrame,
    ax: plt.Axes | None = None,
    *,
    estimate: str = "rd",
    language: str = "en",
    scale: float = 100.0,
) -> plt.Axes:
    """Forest plot of risk differences with 95% CIs, one line per outcome x horizon.

    Parameters
    ----------
    results : DataFrame
        :func:`helpers.stats.outcome_comparison.outcome_table` output or its masked rows (in
        its row order: primary outcome first; masked rows have NaN estimates and are left out). Uses ``outcome_label, horizon_label, role`` and the columns
        ``<estimate>, <estimate>_lower, <estimate>_upper``.
    ax : Axes, optional
        Where to draw (a new figure sized to the rows when None).
    estimate : {"rd", "paired", "w"}
        Which difference: unmatched (``rd``), paired (``paired_rd``) or weighted (``w_rd``).
    language : {"en", "da"}
        Axis text (from the catalogue, ``outcomes.figure``).
    scale : float
        100 shows percentage points.

    Returns
    -------
    Axes
    """
    col = {"rd": "rd", "paired": "paired_rd", "w": "w_rd"}[estimate]
    lo_col, hi_col = {"rd": ("rd_lower", "rd_upper"), "paired": ("paired_lower", "paired_upper"),
                      "w": ("w_lower", "w_upper")}[estimate]
    n = len(results)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.32 * n + 1.2))
    y = np.arange(n)[::-1]
    est = results[col].to_numpy(float) * scale
    lo = results[lo_col].to_numpy(float) * scale
    hi = results[hi_col].to_numpy(float) * scale
    roles = results["role"].to_numpy() if "role" in results else np.array(["secondary"] * n)
    for yi, e, a, b, role in zip(y, est, lo, hi, roles):
        colour = COLOURS.get(role, "#6b6b6b")
        if np.isfinite(a) and np.isfinite(b):
            ax.plot([a, b], [yi, yi], color=colour, lw=1.6, solid_capstyle="butt")
        if np.isfinite(e):
            ax.plot(e, yi, "s" if role == "primary" else "o", color=colour, ms=5.5)
    ax.axvline(0, color="black", lw=0.8)
    labels = [tr("outcomes.figure.row", language, outcome=o, horizon=h)
              for o, h in zip(results["outcome_label"], results["horizon_label"], strict=True)]
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.7, n - 0.3)
    # separate outcomes with faint lines
    outcomes = results["outcome"].to_numpy()
    for i in range(1, n):
        if outcomes[i] != outcomes[i - 1]:
            ax.axhline(y[i] + 0.5, color="#dddddd", lw=0.8)
    ax.set_xlabel(tr("outcomes.figure.xlabel", language))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#eeeeee", lw=0.8)
    ax.set_axisbelow(True)
    return ax
