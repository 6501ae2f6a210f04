"""Figures of the ingest notebook: what the weekly codes look like over time."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from helpers.core.codes import CATEGORIES
from helpers.core.i18n import catalogue, tr
from helpers.disclosure.ingest import OTHER_MERGED

#: One colour per analysis category (stable across studies), plus the merged group.
CATEGORY_COLOURS = {
    "self_support": "#d9d9d9",
    "cash_benefit": "#1f77b4",
    "ui_benefit": "#aec7e8",
    "sickness": "#ff7f0e",
    "flexjob": "#2ca02c",
    "rehab_clarification": "#98df8a",
    "disability_pension": "#9467bd",
    "education": "#8c564b",
    "retirement": "#c5b0d5",
    "other": "#e377c2",
    "emigrated": "#7f7f7f",
    "dead": "#393b79",
    "unknown": "#d62728",
    OTHER_MERGED: "#bcbd22",
}


def category_label(category: str, language: str = "en") -> str:
    """Readable label of an analysis category (catalogue ``category.<name>``) or of the merged group."""
    if category == OTHER_MERGED:
        return tr("ingest.figure.merged", language)
    key = f"category.{category}"
    return tr(key, language) if key in catalogue() else category


def category_shares_area(shares: pd.DataFrame, ax=None, *, language: str = "en"):
    """Stacked area of the share of person-weeks in each category, per ISO year.

    Parameters
    ----------
    shares : DataFrame
        ``year, category, share`` from :func:`helpers.disclosure.ingest.category_shares`
        (already disclosure-safe: small groups merged).
    ax : matplotlib Axes, optional
    language : {"en", "da"}

    Returns
    -------
    ax : matplotlib Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    wide = shares.pivot_table(index="year", columns="category", values="share", aggfunc="sum", fill_value=0.0)
    order = [c for c in (*CATEGORIES, OTHER_MERGED) if c in wide.columns]
    wide = wide[order]
    ax.stackplot(
        wide.index.to_numpy(), *[100 * wide[c].to_numpy() for c in order],
        labels=[category_label(c, language) for c in order],
        colors=[CATEGORY_COLOURS.get(c, "#999999") for c in order], linewidth=0.3, edgecolor="white",
    )
    ax.set_xlim(wide.index.min(), wide.index.max())
    ax.set_ylim(0, 100)
    ax.set_xlabel(tr("ingest.figure.xlabel", language))
    ax.set_ylabel(tr("ingest.figure.ylabel", language))
    ax.xaxis.get_major_locator().set_params(integer=True)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False,
              fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)
    return ax
