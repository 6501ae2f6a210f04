"""Figures of the design's power."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.core.i18n import number, tr


def power_curve_plot(
    curve: pd.DataFrame,
    ax: plt.Axes | None = None,
    *,
    target: float | None = 0.8,
    planned_n: int | None = None,
    title: str | None = None,
    language: str = "en",
) -> plt.Axes:
    """Power by persons per group: exact Fisher (saw-tooth) against the approximations.

    Parameters
    ----------
    curve : DataFrame
        :func:`helpers.stats.power.power_curve` output (``n, fisher, arcsine, normal``).
    ax : Axes, optional
    target : float, optional
        Horizontal reference line (target power).
    planned_n : int, optional
        Vertical reference line (planned n per group).
    title : str, optional
    language : {"en", "da"}

    Returns
    -------
    Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(curve["n"], curve["fisher"], "-o", ms=2.5, lw=1.2, color="#1f4e79",
            label=tr("power.figure.fisher", language))
    ax.plot(curve["n"], curve["arcsine"], "--", lw=1.2, color="#c55a11",
            label=tr("power.figure.arcsine", language))
    if "normal" in curve:
        ax.plot(curve["n"], curve["normal"], ":", lw=1.4, color="#548235",
                label=tr("power.figure.normal", language))
    if target is not None:  # every line is in the legend (issue 18.8: no unexplained line style)
        ax.axhline(target, color="black", lw=0.8, label=tr("power.figure.target", language,
                                                           target=number(target, 2, language)))
    if planned_n is not None:
        ax.axvline(planned_n, color="#888888", lw=0.8, ls="-.",
                   label=tr("power.figure.planned_n", language, n=planned_n))
    ax.set_xlabel(tr("power.figure.xlabel", language))
    ax.set_ylabel(tr("power.figure.ylabel", language))
    ax.set_ylim(0, 1.01)
    if title:
        ax.set_title(title, fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(color="#eeeeee", lw=0.8)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax


def power_curve_panels(
    curves: pd.DataFrame,
    axes=None,
    *,
    target: float | None = 0.8,
    planned_n: int | None = None,
    language: str = "en",
    ncols: int = 3,
):
    """One :func:`power_curve_plot` panel per scenario of :func:`helpers.stats.power.scenario_curves`.

    Returns
    -------
    ndarray of Axes
    """
    names = list(dict.fromkeys(curves["scenario"]))
    if axes is None:
        nrows = max(1, -(-len(names) // ncols))
        _, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False,
                               layout="constrained")
    flat = np.ravel(axes)
    for ax, name in zip(flat, names, strict=False):
        power_curve_plot(curves[curves["scenario"] == name], ax, target=target, planned_n=planned_n,
                         title=name, language=language)
    for ax in flat[len(names):]:
        ax.set_visible(False)
    for ax in flat[1:len(names)]:
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    return axes
