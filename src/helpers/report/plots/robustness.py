"""Figure of the robustness stage: a forest plot of the primary difference and the hazard ratio by subgroup."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator
import numpy as np
import pandas as pd

from helpers.core.i18n import short, tr

POINT_COLOUR = "#2166ac"
OVERALL_COLOUR = "#b2182b"
#: Ticks of the hazard-ratio axis (log scale).
HR_TICKS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def subgroup_forest(frame: pd.DataFrame, axes=None, *, language: str = "en", overall: dict | None = None):
    """Two-panel forest plot: risk difference (percentage points) and hazard ratio (log scale) per subgroup level.

    Parameters
    ----------
    frame : DataFrame
        One row per level: ``label`` (y-axis text), ``rd, rd_lower, rd_upper`` (shares) and
        ``hr, hr_lower, hr_upper``; NaN where masked or not estimable (the row is then labelled
        but has no point).
    axes : pair of Axes, optional
    language : {"en", "da"}
    overall : dict, optional
        ``rd, rd_lower, rd_upper, hr, hr_lower, hr_upper`` of the whole cohort, drawn as a red first row.

    Returns
    -------
    ndarray of Axes
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.5, 0.42 * (len(frame) + 2) + 1.2), sharey=True)
    rows = frame.reset_index(drop=True)
    labels = list(rows["label"])
    if overall is not None:
        rows = pd.concat([pd.DataFrame([{**overall, "label": tr("robustness.figure.overall", language)}]), rows],
                         ignore_index=True)
        labels = list(rows["label"])
    y = np.arange(len(rows))[::-1]
    panels = (("rd", 100.0, 0.0, "robustness.figure.rd"), ("hr", 1.0, 1.0, "robustness.figure.hr"))
    for ax, (col, scale, null, xlabel) in zip(axes, panels, strict=True):
        est = rows[col].astype(float).to_numpy() * scale
        lo = rows[f"{col}_lower"].astype(float).to_numpy() * scale
        hi = rows[f"{col}_upper"].astype(float).to_numpy() * scale
        colours = [OVERALL_COLOUR if (overall is not None and i == 0) else POINT_COLOUR for i in range(len(rows))]
        for yi, e, a, b, c in zip(y, est, lo, hi, colours, strict=True):
            if np.isfinite(a) and np.isfinite(b):
                ax.plot([a, b], [yi, yi], color=c, lw=1.5)
            if np.isfinite(e):
                ax.plot([e], [yi], "s", color=c, ms=5)
        ax.axvline(null, color="#555555", lw=0.8, ls="--")
        if col == "hr":
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(FixedLocator(HR_TICKS))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_minor_formatter(NullFormatter())
            finite = np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)], [null]])
            ax.set_xlim(min(finite.min(), 0.9) * 0.9, max(finite.max(), 1.1) * 1.1)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: short(round(v, 2), language)))
        ax.set_xlabel(tr(xlabel, language))
        ax.grid(axis="x", color="#dddddd", lw=0.5)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(labels)
    axes[0].figure.tight_layout()
    return axes
