"""Stage 03 in the report: the outcome rules, the outcome table, the primary result, the forest plot.

Every function taking an :class:`~helpers.stages.outcomes.OutcomesResult` and the study
returns a report item in the requested language (default: the study's). The outcome table
needs the unmasked results of a fresh :func:`helpers.stages.outcomes.run` (it masks them
itself, :mod:`helpers.disclosure.outcomes`); the sentences and the forest plot use the
result's masked rows, so they also work on a result read back with ``OutcomesResult.load``.
The questionnaire table is in :mod:`helpers.report.questionnaires`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.core.i18n import tr
from helpers.disclosure import Check
from helpers.disclosure.outcomes import (
    differences_only_check,
    group_cell,
    mask_label,
    outcome_table_check,
    safe_count,
)
from helpers.report.items import Figure, Table, Text
from helpers.report.outcome_rules import outcome_rules_text
from helpers.report.plots.outcomes import forest_plot
from helpers.stages.outcomes import OutcomesResult
from helpers.stats.outcome_comparison import HEADLINE


def _lang(study, language: str | None) -> str:
    return language or study.study.language


def format_p(p: float) -> str:
    """p-value as printed: ``<0.001``, three decimals below 0.1, else two; ``–`` if missing."""
    if p is None or not np.isfinite(p):
        return "–"
    if p < 0.001:
        return "<0.001"
    if p < 0.1:
        return f"{p:.3f}"
    return f"{p:.2f}"


def _fmt_ci(est: float, low: float, upp: float, scale: float = 1.0, digits: int = 1, sep: str = " to ") -> str:
    """``est (low to upp)``; ``–`` when not estimable, ``∞`` for an infinite ratio."""

    def f(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        return f"{v * scale:.{digits}f}"

    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "–"
    if all(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low, upp)):
        return f(est)
    return f"{f(est)} ({f(low)}{sep}{f(upp)})"


def _fmt_rr(r, sep: str = " to ") -> str:
    return _fmt_ci(float(r["rr"]), float(r["rr_lower"]), float(r["rr_upper"]), 1.0, 2, sep)


# --------------------------------------------------------------------------- the outcome table


def format_outcome_table(
    results: pd.DataFrame,
    min_cell: int,
    *,
    language: str = "en",
    item: str = "outcome_table",
    keep_estimates: bool = False,
    note: str = "",
) -> Table:
    """The outcome table as printed, masked for disclosure control.

    A group's ``n/N (%)`` is masked when n or N - n is 1 .. ``min_cell`` - 1
    (:func:`helpers.disclosure.unsafe_proportion`); N is masked when it is itself small.
    The number of persons left out at a follow-up point (exits, no data) is not a column:
    it equals the group size minus N, and the group sizes are published in the cohort
    section, so a masked column would not protect it. By default (``keep_estimates=False``,
    study key ``outcomes.estimates_with_masked_counts: false``) every estimate and p-value
    in a row with a masked cell is masked too: together with the other group's n/N, a risk
    difference would let a reader recover the masked count exactly. ``keep_estimates=True``
    keeps them (internal use; the methods note then says the masked counts are recoverable).

    Parameters
    ----------
    results : DataFrame
        Unmasked output of :func:`helpers.stats.outcome_comparison.outcome_table`.
    min_cell : int
        Smallest count that may be shown.
    language : {"en", "da"}
        Column headings.
    item : str
        Key of the table (file name, caption, disclosure checklist).
    keep_estimates : bool
        See above.
    note : str
        Footnote.

    Returns
    -------
    Table
        Strings, one row per outcome x horizon, primary outcome first, and the disclosure check.
    """
    lang = language
    sep = tr("outcomes.ci_to", lang)
    mask = mask_label(min_cell)
    paired = (results["design"] == "pairs").any() if "design" in results else False
    weighted = (results["design"] == "weighted").any() if "design" in results else False
    # 1:1 pairs whose headline is the pair-clustered difference show it as its own column
    pair_clustered = paired and "test" in results and results["test"].eq(HEADLINE["clustered"]["pairs"]["test"]).any()

    def col(name: str) -> str:
        return tr(f"outcomes.column.{name}", lang)

    out_rows = []
    for _, r in results.iterrows():
        cells = {}
        row_masked = False
        for tag, group in (("int", "intervention"), ("ctl", "control")):
            n, N = r[f"n_{tag}"], r[f"N_{tag}"]
            cell = group_cell(n, N, min_cell)
            if cell == "small_total":
                text = f"{mask} / {mask}"
            elif cell == "small_share":
                text = f"{mask} / {int(N)}"
            elif cell == "empty":
                text = "0 / 0"
            else:
                text = f"{int(n)} / {int(N)} ({r[f'pct_{tag}']:.0f}%)"
            cells[tr(f"group.{group}", lang)] = text
            row_masked |= cell in ("small_total", "small_share")
        hide = row_masked and not keep_estimates
        row = {
            tr("column.outcome", lang): r["outcome_label"],
            tr("column.follow_up", lang): r["horizon_label"],
            col("role"): tr(f"outcomes.role.{r['role']}", lang),
            **cells,
            col("rd"): mask if hide else _fmt_ci(r["rd"], r["rd_lower"], r["rd_upper"], 100, 1, sep),
            col("rr"): mask if hide else _fmt_rr(r, sep),
            col("p_fisher"): mask if hide else format_p(r["p_fisher"]),
        }
        if paired:
            row[col("n_pairs")] = safe_count(r["n_pairs"], min_cell, mask)
            row[col("paired_rd")] = (
                mask if hide else _fmt_ci(r["paired_rd"], r["paired_lower"], r["paired_upper"], 100, 1, sep))
            row[col("p_mcnemar")] = mask if hide else format_p(r["p_mcnemar"])
        if pair_clustered:
            row[col("pair_clustered_rd")] = mask if hide else _fmt_ci(r["w_rd"], r["w_lower"], r["w_upper"], 100, 1, sep)
            row[col("p_pair_clustered")] = mask if hide else format_p(r["p_weighted"])
        if weighted:
            row[col("w_rd")] = mask if hide else _fmt_ci(r["w_rd"], r["w_lower"], r["w_upper"], 100, 1, sep)
            row[col("p_weighted")] = mask if hide else format_p(r["p_weighted"])
        row[col("p_adjusted")] = mask if hide else ("–" if r["role"] == "primary" else format_p(r["p_adjusted"]))
        out_rows.append(row)
    check = outcome_table_check(results, min_cell, keep_estimates=keep_estimates, item=item)
    return Table(item, pd.DataFrame(out_rows), check, note=note)


def outcome_table(result: OutcomesResult, study, language: str | None = None) -> Table:
    """The outcome table with its methods note (needs the result of :func:`helpers.stages.outcomes.run`)."""
    lang = _lang(study, language)
    results = result.results
    if results is None:
        raise ValueError("OutcomesResult.results is empty: the outcome table needs the result of "
                         "stages.outcomes.run, not a result read back from outcome_results.json")
    table = format_outcome_table(results, result.min_cell, language=lang,
                                 keep_estimates=result.estimates_with_masked_counts)
    return Table("outcome_table", table.frame, table.check, note=methods_note(results, study, lang))


# --------------------------------------------------------------------------- methods note


def methods_note(results: pd.DataFrame, study=None, language: str = "en", *, min_cell: int | None = None) -> str:
    """The methods sentence for the outcome table.

    States the primary outcome, the multiplicity adjustment, the intervals and tests, the
    matched analysis used and the disclosure rule (whether effect estimates are shown in
    rows whose counts are masked, ``outcomes.estimates_with_masked_counts``).

    Parameters
    ----------
    results : DataFrame
        :func:`helpers.stats.outcome_comparison.outcome_table` output (or its masked rows;
        the number of secondary tests counts the finite p-values of the unmasked table).
    study : Study, optional
    language : {"en", "da"}
    min_cell : int, optional
        Default: the study's (5 without a study).
    """
    lang = language
    primary = study.outcomes.primary if study is not None else (
        results.loc[results["role"] == "primary", "outcome"].iloc[0] if (results["role"] == "primary").any() else "?")
    plabel = results.loc[results["outcome"] == primary, "outcome_label"]
    plabel_s = plabel.iloc[0] if len(plabel) else primary
    mult = study.outcomes.multiplicity if study is not None else "holm"
    n_sec = int(((results["role"] == "secondary") & np.isfinite(results["p_value"])).sum())
    design = results["design"].iloc[0] if len(results) else "independent"
    keep = bool(study is not None and study.outcomes.estimates_with_masked_counts)
    min_cell = min_cell if min_cell is not None else (study.study.min_cell if study is not None else 5)
    exit_rule = study.outcomes.exit_rule if study is not None else "exclude"
    n_prim = int((results["role"] == "primary").sum())
    if design == "pairs" and "test" in results and results["test"].eq(HEADLINE["clustered"]["pairs"]["test"]).any():
        design = "pairs_clustered"
    adjustment = (tr("outcomes.note.adjusted", lang, method=tr(f"outcomes.multiplicity.{mult}", lang))
                  if mult != "none" else tr("outcomes.note.not_adjusted", lang))
    return " ".join([
        tr("outcomes.note.primary", lang, label=plabel_s, n=n_prim),
        tr("outcomes.note.secondary", lang, n=n_sec, adjustment=adjustment),
        tr("outcomes.note.shares.failure" if exit_rule == "failure" else "outcomes.note.shares.exclude", lang),
        tr("outcomes.note.estimators", lang),
        tr(f"outcomes.note.design.{design}", lang),
        tr("outcomes.note.masked_estimates_kept" if keep else "outcomes.note.masked", lang, min_cell=min_cell),
    ])


# --------------------------------------------------------------------------- primary outcome, figure, rules


def primary_sentence(results: pd.DataFrame, language: str = "en") -> str:
    """Plain-language result for the primary outcome at each follow-up point (no counts shown).

    Parameters
    ----------
    results : DataFrame
        Masked rows (:func:`helpers.disclosure.outcomes.masked_results`, or
        :meth:`OutcomesResult.table`); uses the headline analysis of the design
        (:func:`helpers.stats.outcome_comparison.headline_columns`: ``headline_rd`` with its CI
        and ``p_value``).
    language : {"en", "da"}

    Returns
    -------
    str
        Markdown.
    """
    lang = language
    prim = results[results["role"] == "primary"]
    if prim.empty:
        return tr("outcomes.primary.none", lang)
    col, lo, hi = "headline_rd", "headline_lower", "headline_upper"
    parts = []
    for _, r in prim.iterrows():
        if bool(r.get("masked_int", False)) or bool(r.get("masked_ctl", False)):
            parts.append(tr("outcomes.primary.masked", lang, horizon=r["horizon_label"].lower()))
            continue
        if not np.isfinite(r[col]):
            parts.append(tr("outcomes.primary.not_estimable", lang, horizon=r["horizon_label"]))
            continue
        ci = _fmt_ci(r[col], r[lo], r[hi], 100, 1, tr("outcomes.ci_to", lang))
        p = format_p(r["p_value"])
        p = f"p {p}" if p.startswith("<") else f"p = {p}"
        parts.append(tr("outcomes.primary.difference", lang, horizon=r["horizon_label"].lower(), ci=ci, p=p))
    return tr("outcomes.primary.sentence", lang, label=prim["outcome_label"].iloc[0], parts="; ".join(parts))


def primary_text(result: OutcomesResult, study, language: str | None = None) -> Text:
    """The primary outcome's differences at every follow-up point, as a sentence."""
    return Text(primary_sentence(result.table(), _lang(study, language)))


def figure_check(item: str = "outcome_forest") -> Check:
    """Disclosure check of a figure that shows only differences and their CIs (no counts)."""
    return differences_only_check(item)


def forest_figure(result: OutcomesResult, study, language: str | None = None) -> Figure:
    """Forest plot of the headline differences (the clustered difference of a matched design), masked rows left out."""
    shown = result.table()
    estimate = "w" if shown["test"].str.contains("clustered").any() else "rd"
    ax = forest_plot(shown, estimate=estimate, language=_lang(study, language))
    return Figure("outcome_forest", ax.figure, figure_check("outcome_forest"))


def rules_text(study, language: str | None = None) -> Text:
    """How the outcomes are counted (:func:`helpers.report.outcome_rules.outcome_rules_text`)."""
    return Text(outcome_rules_text(study, _lang(study, language)))
