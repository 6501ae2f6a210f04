"""Figures of stage 02: the CONSORT-style flow diagram, the love plot and the propensity-score overlap.

All draw precomputed content: :func:`helpers.report.cohort.flow_boxes` (from the masked attrition
log), :func:`helpers.report.cohort.love_data` (SMDs before/after with labels) and
:func:`helpers.report.cohort.overlap_data` (masked histogram counts); titles, legends and axis
labels come from the catalogue (``cohort.flow.*``, ``cohort.figure.*``).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import FancyBboxPatch

from helpers.core.i18n import tr


def _decimal_formatter(language: str):
    """Tick labels with a decimal comma in Danish."""
    def fmt(v, _):
        text = f"{v:g}"
        return text.replace(".", ",").replace("-", "−") if language == "da" else text.replace("-", "−")
    return plt.FuncFormatter(fmt)


def flow_diagram(boxes: Sequence, *, ax=None, language: str = "en", fontsize: float = 7.5):
    """Draw a two-column flow diagram (intervention left, controls right).

    Parameters
    ----------
    boxes : sequence of FlowBox
        From :func:`helpers.report.cohort.flow_boxes`: ``group``, ``slot`` (row), ``kind``
        ("main" boxes form the vertical chain, "side" boxes hold exclusions), ``text``.
    ax : matplotlib Axes, optional
        Created (with a size fitted to the content) when not given.
    language : {"en", "da"}
        Language of the column titles.

    Returns
    -------
    Axes
    """
    slots = sorted({b.slot for b in boxes})
    # each slot has up to two rows: side box (upper) and main box (lower); slot 0 only a main box
    row_of: dict[tuple[int, str], int] = {}
    r = 0
    for s in slots:
        if s == 0:
            row_of[(s, "main")] = r
            r += 1
            continue
        if any(b.slot == s and b.kind == "side" for b in boxes):
            row_of[(s, "side")] = r
            r += 1
        if any(b.slot == s and b.kind == "main" for b in boxes):
            row_of[(s, "main")] = r
            r += 1
    # vertical unit = one line of text; each box is its lines plus padding
    n_rows = max(r, 1)
    heights = np.full(n_rows, 2.0)
    for b in boxes:
        lines = b.text.count("\n") + 1
        heights[row_of[(b.slot, b.kind)]] = max(heights[row_of[(b.slot, b.kind)]], lines + 1.2)
    gap = 1.0
    tops = np.r_[0, np.cumsum(heights + gap)][:-1]
    total = float(tops[-1] + heights[-1]) if n_rows else 1.0
    if ax is None:
        line_in = fontsize * 1.32 / 72
        fig = plt.figure(figsize=(11, (total + 3.0) * line_in))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, 1)
    ax.set_ylim(total + 0.3, -2.7)
    ax.axis("off")
    x_main = {"intervention": 0.16, "control": 0.62}
    x_side = {"intervention": 0.42, "control": 0.88}
    width_main, width_side = 0.27, 0.23
    for grp, x in x_main.items():
        if any(b.group == grp for b in boxes):
            ax.text(x, -1.4, tr(f"cohort.flow.group_title.{grp}", language), ha="center", va="center",
                    fontsize=fontsize + 2, weight="bold")
    centres: dict[str, list[tuple[float, float, float]]] = {g: [] for g in x_main}
    for b in boxes:
        row = row_of[(b.slot, b.kind)]
        y = tops[row] + heights[row] / 2
        h = heights[row]
        if b.kind == "main":
            x, w = x_main[b.group], width_main
            face = "#eef3f8"
        else:
            x, w = x_side[b.group], width_side
            face = "#ffffff"
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.005,rounding_size=0.01",
                                    linewidth=0.8, edgecolor="#333333", facecolor=face))
        ax.text(x - w / 2 + 0.008 if b.kind == "side" else x, y, b.text, ha="left" if b.kind == "side" else "center",
                va="center", fontsize=fontsize, linespacing=1.25)
        if b.kind == "main":
            centres[b.group].append((y, y - h / 2, y + h / 2))
        else:
            ax.annotate("", xy=(x - w / 2, y), xytext=(x_main[b.group], y),
                        arrowprops={"arrowstyle": "-|>", "lw": 0.8, "color": "#333333"})
    for grp, cs in centres.items():
        cs.sort()
        for (_, _, bottom), (_, top, _) in zip(cs, cs[1:], strict=False):
            ax.annotate("", xy=(x_main[grp], top), xytext=(x_main[grp], bottom),
                        arrowprops={"arrowstyle": "-|>", "lw": 0.8, "color": "#333333"})
    return ax


def love_plot(data: pd.DataFrame, *, threshold: float = 0.1, ax=None, language: str = "en",
              absolute: bool = True):
    """Standardized mean differences before and after matching, one row per term.

    Parameters
    ----------
    data : DataFrame
        Columns ``label``, ``smd_before``, ``smd_after`` (e.g. :func:`helpers.report.cohort.love_data`).
    threshold : float
        Dashed reference line(s) at this |SMD| (default 0.1).
    language : {"en", "da"}
        Language of the legend and the axis label.
    absolute : bool
        Plot |SMD| (default) or signed SMDs.

    Returns
    -------
    Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.32 * len(data) + 1.4))
    before = data["smd_before"].to_numpy(dtype=float)
    after = data["smd_after"].to_numpy(dtype=float)
    if absolute:
        before, after = np.abs(before), np.abs(after)
    y = np.arange(len(data))[::-1]
    ax.hlines(y, np.minimum(before, after), np.maximum(before, after), color="#bbbbbb", lw=0.8, zorder=1)
    ax.scatter(before, y, marker="o", facecolors="white", edgecolors="#b2182b",
               label=tr("cohort.figure.before", language), zorder=2)
    ax.scatter(after, y, marker="o", color="#2166ac", label=tr("cohort.figure.after", language), zorder=3)
    for t in ([threshold] if absolute else [-threshold, threshold]):
        ax.axvline(t, color="#555555", ls="--", lw=0.8)
    ax.axvline(0, color="#999999", lw=0.6)
    ax.set_yticks(y)
    ax.set_yticklabels(data["label"].tolist(), fontsize=8)
    ax.set_xlabel(tr("cohort.figure.smd_abs" if absolute else "cohort.figure.smd", language))
    ax.xaxis.set_major_formatter(_decimal_formatter(language))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    ax.set_ylim(-0.7, len(data) - 0.3)
    ax.grid(axis="x", color="#eeeeee", lw=0.6)
    ax.set_axisbelow(True)
    return ax


#: Samples of the overlap plot, their colours and line styles.
OVERLAP_STYLE = {"intervention": ("#b2182b", "-"), "pool": ("#999999", ":"), "control": ("#2166ac", "--")}


def ps_overlap(data: pd.DataFrame, *, ax=None, language: str = "en"):
    """Share of each sample per propensity-score bin: intervention, the pool before matching, matched controls.

    Parameters
    ----------
    data : DataFrame
        ``left, right`` and one share column per sample in :data:`OVERLAP_STYLE` (NaN: a bar
        hidden for disclosure), e.g. :func:`helpers.report.cohort.overlap_data`.
    language : {"en", "da"}

    Returns
    -------
    Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    edges = np.r_[data["left"].to_numpy(dtype=float), data["right"].to_numpy(dtype=float)[-1:]]
    for name, (colour, style) in OVERLAP_STYLE.items():
        if name not in data:
            continue
        share = data[name].to_numpy(dtype=float)
        ax.stairs(np.nan_to_num(share, nan=0.0), edges, color=colour, ls=style, lw=1.4,
                  label=tr(f"cohort.figure.sample.{name}", language))
    ax.set_xlabel(tr("cohort.figure.ps_axis", language))
    ax.set_ylabel(tr("cohort.figure.share", language))
    ax.xaxis.set_major_formatter(_decimal_formatter(language))
    pct = " %" if language == "da" else "%"
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{100 * v:.0f}{pct}"))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8, frameon=False)
    ax.grid(axis="y", color="#eeeeee", lw=0.6)
    ax.set_axisbelow(True)
    return ax
