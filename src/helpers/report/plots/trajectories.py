"""Figures of the trajectories stage: stacked state distributions (TraMineR's seqdplot) and the self-support difference."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.core.i18n import tr

#: Colour of each analysis state (a merged band takes the colour of its first state).
STATE_COLOURS = {
    "employed": "#1b7837",
    "no_wage": "#a6dba0",
    "cash_benefit": "#d6604d",
    "education_benefit": "#f4a582",
    "ressourceforloeb": "#8073ac",
    "sickness": "#de77ae",
    "flexjob": "#4393c3",
    "disability_pension": "#053061",
    "other_benefit": "#bababa",
    "exit": "#404040",
}
#: Colour of the residual band of cells merged week by week.
MERGED_COLOUR = "#f0f0f0"
MERGED = "merged"


def band_label(band: str, language: str, *, min_cell: int, partial: bool = False) -> str:
    """Legend text of a band: a state's label, a family's label (``partial``: only in some weeks), or the residual."""
    if band == MERGED:
        return tr("trajectories.band.merged", language, min_cell=min_cell)
    if "+" not in band:
        return tr(f"trajectories.state.{band}", language)
    label = tr(f"trajectories.family.{band.replace('+', '__')}", language)
    return tr("trajectories.band.partial", language, family=label) if partial else label


def state_distribution_plot(
    frame: pd.DataFrame,
    ax: plt.Axes | None = None,
    *,
    language: str = "en",
    min_cell: int = 5,
    grid_weeks: int = 1,
    title: str | None = None,
) -> plt.Axes:
    """Stacked shares of the bands of one group by week relative to the index week.

    Parameters
    ----------
    frame : DataFrame
        One group's rows of the published distribution (``week, band, share``; see
        :func:`helpers.disclosure.trajectories.merge_distribution`), bands in stacking order.
    grid_weeks : int
        Width of each shown week's step.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    bands = list(dict.fromkeys(frame["band"]))
    wide = frame.pivot_table(index="week", columns="band", values="share", aggfunc="sum").reindex(columns=bands)
    wide = wide.fillna(0.0).sort_index()
    x = wide.index.to_numpy(dtype=float)
    x = np.append(x, x[-1] + grid_weeks) if len(x) else x
    ys = [np.append(wide[b].to_numpy(), wide[b].to_numpy()[-1:]) for b in bands] if len(x) else [[] for _ in bands]
    colours = [MERGED_COLOUR if b == MERGED else STATE_COLOURS[b.split("+")[0]] for b in bands]
    singles = {b for b in bands if "+" not in b}
    partial = {b: "+" in b and bool(set(b.split("+")) & singles) for b in bands}
    polys = ax.stackplot(x, *ys, colors=colours, step="post", linewidth=0,
                         labels=[band_label(b, language, min_cell=min_cell, partial=partial[b]) for b in bands])
    for band, poly in zip(bands, polys, strict=True):
        if band == MERGED:
            poly.set_hatch("///")
            poly.set_edgecolor("#bdbdbd")
        elif partial[band]:
            # a family shown as one band only in the weeks where one of its states is small
            poly.set_hatch("...")
            poly.set_edgecolor("white")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_ylim(0, 1)
    ax.set_xlim(x.min() if len(x) else 0, x.max() if len(x) else 1)
    ax.set_ylabel(tr("trajectories.figure.share", language))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def difference_plot(frame: pd.DataFrame, ax: plt.Axes | None = None, *, language: str = "en") -> plt.Axes:
    """Difference in the share self-supported (intervention minus control, percentage points) with its band.

    Parameters
    ----------
    frame : DataFrame
        ``week, difference, ci_low, ci_high`` (shares; hidden weeks NaN, drawn as gaps).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    x = frame["week"].to_numpy(dtype=float)
    d = 100 * frame["difference"].to_numpy(dtype=float)
    lo = 100 * frame["ci_low"].to_numpy(dtype=float)
    hi = 100 * frame["ci_high"].to_numpy(dtype=float)
    ok = np.isfinite(d) & np.isfinite(lo) & np.isfinite(hi)
    ax.fill_between(x, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan), color="#9ecae1", alpha=0.7, lw=0,
                    label=tr("trajectories.figure.band", language))
    ax.plot(x, np.where(np.isfinite(d), d, np.nan), color="#08519c", lw=1.4,
            label=tr("trajectories.figure.difference", language))
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8, ls="--")
    ax.set_xlabel(tr("trajectories.figure.xlabel", language))
    ax.set_ylabel(tr("trajectories.figure.difference_ylabel", language))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(color="#eeeeee", lw=0.8)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def state_distribution_panels(frame: pd.DataFrame, groups, *, language: str = "en", min_cell: int = 5,
                              grid_weeks: int = 1, titles=None):
    """One :func:`state_distribution_plot` per group, one above the other, with one legend.

    Returns
    -------
    ndarray of Axes
    """
    groups = list(groups)
    fig, axes = plt.subplots(len(groups), 1, figsize=(8, 2.4 * len(groups) + 2.2), sharex=True, squeeze=False,
                             layout="constrained")
    for ax, g, title in zip(axes[:, 0], groups, titles or groups, strict=True):
        state_distribution_plot(frame[frame["group"] == g], ax, language=language, min_cell=min_cell,
                                grid_weeks=grid_weeks, title=title)
    axes[-1, 0].set_xlabel(tr("trajectories.figure.xlabel", language))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False, fontsize=7.5)
    return axes[:, 0]
