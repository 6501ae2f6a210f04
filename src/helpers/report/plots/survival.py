"""Figures of time to lasting self-support.

Every function takes disclosure-safe tidy frames (:func:`helpers.disclosure.survival.km_curve`,
:func:`~helpers.disclosure.survival.cif_curves`, :func:`~helpers.disclosure.survival.mask_risk_table`,
:func:`helpers.stats.survival.cox.schoenfeld_bins`) and draws them; nothing here estimates
anything. Labels (groups, events, measures, axis titles) come from the catalogue in the
requested ``language`` (``survival.figure.*``, ``survival.event.*``, ``group.*``).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from mpl_toolkits.axes_grid1 import make_axes_locatable

from helpers.core.i18n import group_label, tr
from helpers.stats.survival.tte import CENSORED, EVENT_NAMES

GROUP_COLORS = {"control": "#7f7f7f", "intervention": "#1f77b4"}


def _steps(ax, curve: pd.DataFrame, color: str, label: str, linestyle: str = "-", band: bool = True) -> None:
    c = curve.sort_values("time")
    x = c["time"].to_numpy(dtype=float)
    ax.step(x, c["estimate"].to_numpy(dtype=float), where="post", color=color, label=label, linestyle=linestyle,
            linewidth=1.8)
    if band:
        lo = c["lower"].to_numpy(dtype=float)
        hi = c["upper"].to_numpy(dtype=float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        if ok.any():
            ax.fill_between(x, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan), step="post", color=color,
                            alpha=0.18, linewidth=0)


def plot_cumulative_share(
    curve: pd.DataFrame,
    risk_table: pd.DataFrame | None = None,
    *,
    ax=None,
    language: str = "en",
    xmax: float | None = None,
    colors: Mapping[str, str] | None = None,
):
    """Cumulative share reaching the event by group with 95% CI bands and a risk table below.

    Parameters
    ----------
    curve : DataFrame
        ``group, time, estimate, lower, upper`` (steps; already disclosure-safe).
    risk_table : DataFrame, optional
        Wide masked table ``group, measure, <time>...`` drawn under the axis; its columns are
        placed at the same x positions as the curve's axis (shared x axis).
    ax : Axes, optional
        Axes to draw on (a new figure when None).
    language : {"en", "da"}
        Language of the labels.

    Returns
    -------
    Axes
        The curve's axes (the risk table lives in an axes appended below it).
    """
    colors = {**GROUP_COLORS, **(colors or {})}
    xlabel = tr("survival.figure.weeks_after_index_week", language)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 5.2))
    for g, c in curve.groupby("group", sort=False):
        _steps(ax, c, colors.get(g, None), group_label(g, language))
    times = [] if risk_table is None else [t for t in risk_table.columns if t not in ("group", "measure")]
    right = xmax if xmax is not None else max([float(curve["time"].max()), *[float(t) for t in times]] + [1.0])
    ax.set_xlim(0, right * 1.02)
    ax.set_ylim(0, max(0.05, min(1.0, float(np.nanmax(curve[["estimate", "upper"]].to_numpy(dtype=float),
                                                         initial=0.0)) * 1.15)))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    ax.set_ylabel(tr("survival.figure.reached", language))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)
    if risk_table is None:
        ax.set_xlabel(xlabel)
        return ax
    # the risk table's times are the ticks (week 0, every follow-up point, yearly up to the curves' end)
    ax.set_xticks([float(t) for t in times])
    ax.tick_params(labelbottom=True)
    ax.set_xlabel(xlabel)
    n_rows = len(risk_table)
    divider = make_axes_locatable(ax)
    tab = divider.append_axes("bottom", size=f"{8 * n_rows}%", pad=0.75, sharex=ax)
    tab.set_ylim(n_rows - 0.5, -0.5)
    labels = []
    for i, (_, row) in enumerate(risk_table.iterrows()):
        g = row["group"]
        labels.append(tr("survival.figure.risk_row", language, group=group_label(g, language),
                         measure=tr(f"survival.figure.measure.{row['measure']}", language)))
        for t in times:
            tab.text(float(t), i, str(row[t]), ha="center", va="center", fontsize=8, color=colors.get(g, "k"))
    tab.set_yticks(range(n_rows))
    tab.set_yticklabels(labels, fontsize=8)
    tab.tick_params(axis="x", labelbottom=False, bottom=False)
    tab.tick_params(axis="y", left=False)
    for side in ("top", "right", "bottom", "left"):
        tab.spines[side].set_visible(False)
    return ax


def plot_cif(
    curve: pd.DataFrame,
    *,
    axes=None,
    language: str = "en",
    colors: Mapping[str, str] | None = None,
    ticks=None,
):
    """Aalen-Johansen cumulative incidence of each event type by group, one panel per event.

    Every panel uses the same solid line per group (the panel's title names the event); the
    legend names the groups.

    Parameters
    ----------
    curve : DataFrame
        ``event, group, time, estimate, lower, upper`` (disclosure-safe steps), only the event
        types to draw.
    axes : sequence of Axes, optional
        One axes per event type (a new figure with a row of panels when None).
    language : {"en", "da"}
        Language of the labels.
    ticks : sequence of float, optional
        x ticks (week 0 and the follow-up points); matplotlib's own when None.

    Returns
    -------
    ndarray of Axes
    """
    colors = {**GROUP_COLORS, **(colors or {})}
    events = sorted(curve["event"].unique()) if len(curve) else []
    if axes is None:
        _, axes = plt.subplots(1, max(len(events), 1), figsize=(4.2 * max(len(events), 1), 4.0), sharey=True,
                               squeeze=False)
        axes = axes[0]
    axes = np.atleast_1d(axes)
    top = float(np.nanmax(curve[["estimate", "upper"]].to_numpy(dtype=float), initial=0.05)) if len(curve) else 0.05
    for ax, k in zip(axes, events, strict=False):
        sub = curve[curve["event"] == k]
        for g, c in sub.groupby("group", sort=False):
            _steps(ax, c, colors.get(g), group_label(g, language))
        ax.set_title(event_label(int(k), language), fontsize=10)
        ax.set_xlabel(tr("survival.figure.weeks_after_index_week", language))
        right = max([float(sub["time"].max()), *(float(t) for t in (ticks or []))] + [1.0])
        ax.set_xlim(0, right * 1.02)
        if ticks is not None:
            ax.set_xticks([float(t) for t in ticks])
            ax.tick_params(axis="x", labelsize=7)
        ax.set_ylim(0, min(1.0, top * 1.15))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
        ax.grid(alpha=0.3)
    if len(events):
        axes[0].set_ylabel(tr("survival.figure.cumulative_incidence", language))
        axes[0].legend(loc="upper left", frameon=False)
    return axes


def plot_schoenfeld(
    bins: pd.DataFrame,
    coef: float,
    *,
    ax=None,
    language: str = "en",
):
    """Binned scaled Schoenfeld residuals (beta(t)) with 95% CI against the constant estimate.

    A flat pattern around the horizontal line supports proportional hazards.

    Parameters
    ----------
    bins : DataFrame
        ``time, beta_t, lower, upper, events`` from :func:`helpers.stats.survival.cox.schoenfeld_bins`.
    coef : float
        The Cox coefficient (log hazard ratio).
    ax : Axes, optional
    language : {"en", "da"}
        Language of the labels.

    Returns
    -------
    Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.0))
    if len(bins):
        x = bins["time"].to_numpy(dtype=float)
        y = bins["beta_t"].to_numpy(dtype=float)
        err = np.vstack([y - bins["lower"].to_numpy(dtype=float), bins["upper"].to_numpy(dtype=float) - y])
        ax.errorbar(x, y, yerr=np.where(np.isfinite(err), err, 0), fmt="o-", color="#1f77b4", capsize=3)
    if np.isfinite(coef):
        ax.axhline(coef, color="#d62728", linestyle="--", label=tr("survival.figure.cox_constant", language))
    ax.axhline(0, color="k", linewidth=0.8)
    ax.set_xlabel(tr("survival.figure.schoenfeld_x", language))
    ax.set_ylabel(tr("survival.figure.schoenfeld_y", language))
    ax.grid(alpha=0.3)
    if np.isfinite(coef):
        ax.legend(loc="best", frameon=False)
    return ax


def event_label(event: int, language: str) -> str:
    """Display name of an event code (:data:`helpers.stats.survival.tte.EVENT_NAMES`, 0 = censored)."""
    name = "censored" if event == CENSORED else EVENT_NAMES[event]
    return tr(f"survival.event.{name}", language)
