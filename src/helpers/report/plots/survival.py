"""Figures of time to lasting self-support.

Every function takes disclosure-safe tidy frames from :mod:`helpers.stats.survival`
(:func:`~helpers.stats.survival.km_curve`, :func:`~helpers.stats.survival.cif_curves`,
:func:`~helpers.stats.survival.mask_risk_table`, :func:`~helpers.stats.survival.schoenfeld_bins`)
and draws them; nothing here estimates anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from mpl_toolkits.axes_grid1 import make_axes_locatable

GROUP_COLORS = {"control": "#7f7f7f", "intervention": "#1f77b4"}
EVENT_STYLES = {1: "-", 2: "--", 3: ":"}


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
    group_labels: Mapping[str, str] | None = None,
    measure_labels: Mapping[str, str] | None = None,
    xlabel: str = "Weeks after index week",
    ylabel: str = "Share reached lasting self-support",
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

    Returns
    -------
    Axes
        The curve's axes (the risk table lives in an axes appended below it).
    """
    colors = {**GROUP_COLORS, **(colors or {})}
    group_labels = dict(group_labels or {})
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 5.2))
    for g, c in curve.groupby("group", sort=False):
        _steps(ax, c, colors.get(g, None), group_labels.get(g, str(g)))
    times = [] if risk_table is None else [t for t in risk_table.columns if t not in ("group", "measure")]
    right = xmax if xmax is not None else max([float(curve["time"].max()), *[float(t) for t in times]] + [1.0])
    ax.set_xlim(0, right * 1.02)
    ax.set_ylim(0, max(0.05, min(1.0, float(np.nanmax(curve[["estimate", "upper"]].to_numpy(dtype=float),
                                                         initial=0.0)) * 1.15)))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)
    if risk_table is None:
        ax.set_xlabel(xlabel)
        return ax
    # risk-table times as ticks, then yearly ticks beyond the last one
    last = max(float(t) for t in times)
    extra = [float(t) for t in np.arange(52.0 * (last // 52 + 1), right * 1.02, 52.0) if t - last >= 40]
    ax.set_xticks([float(t) for t in times] + extra)
    ax.tick_params(labelbottom=True)
    ax.set_xlabel(xlabel)
    n_rows = len(risk_table)
    divider = make_axes_locatable(ax)
    tab = divider.append_axes("bottom", size=f"{8 * n_rows}%", pad=0.75, sharex=ax)
    tab.set_ylim(n_rows - 0.5, -0.5)
    labels = []
    measure_labels = dict(measure_labels or {})
    for i, (_, row) in enumerate(risk_table.iterrows()):
        g = row["group"]
        labels.append(f"{group_labels.get(g, g)}: {measure_labels.get(row['measure'], row['measure'])}")
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
    event_labels: Mapping[int, str] | None = None,
    group_labels: Mapping[str, str] | None = None,
    xlabel: str = "Weeks after index week",
    ylabel: str = "Cumulative incidence",
    colors: Mapping[str, str] | None = None,
):
    """Aalen-Johansen cumulative incidence of each event type by group, one panel per event.

    Parameters
    ----------
    curve : DataFrame
        ``event, group, time, estimate, lower, upper`` (disclosure-safe steps).
    axes : sequence of Axes, optional
        One axes per event type (a new figure with a row of panels when None).

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
    event_labels = dict(event_labels or {})
    group_labels = dict(group_labels or {})
    top = float(np.nanmax(curve[["estimate", "upper"]].to_numpy(dtype=float), initial=0.05)) if len(curve) else 0.05
    for ax, k in zip(axes, events, strict=False):
        sub = curve[curve["event"] == k]
        for g, c in sub.groupby("group", sort=False):
            _steps(ax, c, colors.get(g), group_labels.get(g, str(g)), linestyle=EVENT_STYLES.get(int(k), "-"))
        ax.set_title(event_labels.get(int(k), str(k)), fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_xlim(0, None)
        ax.set_ylim(0, min(1.0, top * 1.15))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
        ax.grid(alpha=0.3)
    if len(events):
        axes[0].set_ylabel(ylabel)
        axes[0].legend(loc="upper left", frameon=False)
    return axes


def plot_schoenfeld(
    bins: pd.DataFrame,
    coef: float,
    *,
    ax=None,
    xlabel: str = "Weeks after index week (mean of the events in each bin)",
    ylabel: str = "Log hazard ratio over time, beta(t)",
    label_constant: str = "Cox estimate (constant over time)",
):
    """Binned scaled Schoenfeld residuals (beta(t)) with 95% CI against the constant estimate.

    A flat pattern around the horizontal line supports proportional hazards.

    Parameters
    ----------
    bins : DataFrame
        ``time, beta_t, lower, upper, events`` from :func:`helpers.stats.survival.schoenfeld_bins`.
    coef : float
        The Cox coefficient (log hazard ratio).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.0))
    if len(bins):
        x = bins["time"].to_numpy(dtype=float)
        y = bins["beta_t"].to_numpy(dtype=float)
        err = np.vstack([y - bins["lower"].to_numpy(dtype=float), bins["upper"].to_numpy(dtype=float) - y])
        ax.errorbar(x, y, yerr=np.where(np.isfinite(err), err, 0), fmt="o-", color="#1f77b4", capsize=3)
    if np.isfinite(coef):
        ax.axhline(coef, color="#d62728", linestyle="--", label=label_constant)
    ax.axhline(0, color="k", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if np.isfinite(coef):
        ax.legend(loc="best", frameon=False)
    return ax


def group_names(language: str, groups: Sequence[str] = ("control", "intervention")) -> dict[str, str]:
    """Group labels in the report language."""
    from helpers.stats.survival import GROUP_LABELS

    return {g: GROUP_LABELS[language].get(g, g) for g in groups}
