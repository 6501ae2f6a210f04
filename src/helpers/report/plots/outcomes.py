"""Figures of binary outcomes at follow-up points."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from helpers.core.i18n import tr

COLOURS = {"primary": "#1f4e79", "secondary": "#6b6b6b"}
#: Opacity of a masked row's bound, in the row's colour: the range of the estimate, and the widest 95% CI.
BOUND_RANGE, BOUND_CI = 0.6, 0.2
#: The bound drawn for each estimate (the weighted analysis has none: the unweighted one is drawn).
BOUNDS = {"rd": "bound_rd", "paired": "bound_paired", "w": "bound_rd"}


def _masked(results: pd.DataFrame) -> np.ndarray:
    if "masked_int" not in results:
        return np.zeros(len(results), dtype=bool)
    return (results["masked_int"].astype(bool) | results["masked_ctl"].astype(bool)).to_numpy()


def _bound(results: pd.DataFrame, prefix: str, scale: float) -> np.ndarray:
    """(low, high, lower, upper) per row, NaN where the row has no bound."""
    cols = [f"{prefix}_{k}" for k in ("low", "high", "lower", "upper")]
    if not all(c in results for c in cols):
        return np.full((len(results), 4), np.nan)
    return results[cols].to_numpy(float) * scale


def forest_plot(
    results: pd.DataFrame,
    ax: plt.Axes | None = None,
    *,
    estimate: str = "rd",
    language: str = "en",
    scale: float = 100.0,
) -> plt.Axes:
    """Forest plot of risk differences with 95% CIs, one line per outcome x horizon.

    A row whose counts are masked has no estimate; it is labelled "counts masked" and, when
    its bound is known (the ``bound_*`` columns of
    :func:`helpers.disclosure.outcomes.masked_bounds`), drawn as the range of the estimate
    (dark bar) and the widest 95% CI (light bar) over every count the mask allows; a legend
    under the axes explains both.

    Parameters
    ----------
    results : DataFrame
        :func:`helpers.stats.outcome_comparison.outcome_table` output or its masked rows (in
        its row order: primary outcome first). Uses ``outcome_label, horizon_label, role``,
        the columns ``<estimate>, <estimate>_lower, <estimate>_upper``, and where present
        ``masked_int, masked_ctl`` and the bounds.
    ax : Axes, optional
        Where to draw (a new figure sized to the rows when None).
    estimate : {"rd", "paired", "w"}
        Which difference: unmatched (``rd``), paired (``paired_rd``) or weighted (``w_rd``;
        masked rows then show the unweighted bound).
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
    masked = _masked(results) & ~np.isfinite(results[col].to_numpy(float))
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.32 * n + 1.2 + (0.6 if masked.any() else 0.0)))
    y = np.arange(n)[::-1]
    est = results[col].to_numpy(float) * scale
    lo = results[lo_col].to_numpy(float) * scale
    hi = results[hi_col].to_numpy(float) * scale
    bounds = _bound(results, BOUNDS[estimate], scale)
    own_bound = False  # the clustered difference of 1:1 pairs has its own bound (bound_w_*)
    if estimate == "w" and "bound_w_low" in results:
        clustered = _bound(results, "bound_w", scale)
        own_bound = bool(np.isfinite(clustered).all(axis=1).any())
        bounds = np.where(np.isfinite(clustered).all(axis=1)[:, None], clustered, bounds)
    roles = results["role"].to_numpy() if "role" in results else np.array(["secondary"] * n)
    for i, (yi, e, a, b, role) in enumerate(zip(y, est, lo, hi, roles)):
        colour = COLOURS.get(role, "#6b6b6b")
        if masked[i] and np.isfinite(bounds[i]).all():
            low, high, lower, upper = bounds[i]
            ax.barh(yi, upper - lower, left=lower, height=0.36, color=colour, alpha=BOUND_CI, lw=0)
            ax.barh(yi, max(high - low, 0.4), left=low, height=0.36, color=colour, alpha=BOUND_RANGE, lw=0)
            continue
        if np.isfinite(a) and np.isfinite(b):
            ax.plot([a, b], [yi, yi], color=colour, lw=1.6, solid_capstyle="butt")
        if np.isfinite(e):
            ax.plot(e, yi, "s" if role == "primary" else "o", color=colour, ms=5.5)
    ax.axvline(0, color="black", lw=0.8)
    labels = [tr("outcomes.figure.row_masked" if m else "outcomes.figure.row", language, outcome=o, horizon=h)
              for o, h, m in zip(results["outcome_label"], results["horizon_label"], masked, strict=True)]
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
    if masked.any():
        handles = [Line2D([], [], color=COLOURS["secondary"], marker="o", lw=1.6, ms=5.5),
                   Patch(color=COLOURS["secondary"], alpha=BOUND_RANGE), Patch(color=COLOURS["secondary"], alpha=BOUND_CI)]
        names = [tr(f"outcomes.figure.legend.{k}", language)
                 for k in ("estimate", "range_unweighted" if estimate == "w" and not own_bound else "range",
                           "widest_ci")]
        height = ax.get_position().height * ax.figure.get_figheight()  # axes height in inches
        ax.legend(handles, names, loc="upper left", bbox_to_anchor=(0.0, -0.5 / height), frameon=False, fontsize=8)
    return ax
