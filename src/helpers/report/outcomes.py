"""Stage 03 in the report: the outcome rules, the shares and comparison tables, the primary result, the forest plot.

Every function taking an :class:`~helpers.stages.outcomes.OutcomesResult` and the study
returns a report item in the requested language (default: the study's). The shares table
(``outcome_table``) needs the unmasked results of a fresh :func:`helpers.stages.outcomes.run`
(it masks them itself, :mod:`helpers.disclosure.outcomes`); the comparison table
(``outcome_comparison``), the sentences and the forest plot use the result's masked rows,
so they also work on a result read back with ``OutcomesResult.load``. Where a row's counts
are masked they show what holds for every count the mask allows (the ``bound_*`` columns;
:func:`helpers.disclosure.outcomes.masked_bounds`). The questionnaire tables are in
:mod:`helpers.report.questionnaires`; the wording of p-values, bounds and claims in
:mod:`helpers.report.outcome_claims`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.core.i18n import localise_frame, tr
from helpers.disclosure import SECONDARY_MASK, Check
from helpers.disclosure.outcomes import (
    comparison_check,
    differences_only_check,
    mask_label,
    outcome_table_check,
    safe_count,
    share_text,
)
from helpers.report.items import Figure, Table, Text
from helpers.report.outcome_claims import (
    BOUND_PAIRED,
    BOUND_RD,
    BOUND_W,
    bound_points,
    claim_text,
    format_p,
    has_bound,
    is_masked,
    main_columns,
    p_text,
    points,
    table_bound,
    table_p_bound,
)
from helpers.report.outcome_rules import outcome_rules_text
from helpers.report.plots.outcomes import forest_plot
from helpers.stages.outcomes import OutcomesResult
from helpers.stats.outcome_comparison import HEADLINE

__all__ = ["format_p", "format_outcome_table", "format_comparison_table", "outcome_table", "comparison_table",
           "shares_note", "methods_note", "primary_sentence", "primary_text", "forest_figure", "rules_text"]


def _lang(study, language: str | None) -> str:
    return language or study.study.language


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


def _col(name: str, lang: str) -> str:
    return tr(f"outcomes.column.{name}", lang)


# --------------------------------------------------------------------------- the shares table


def format_outcome_table(results: pd.DataFrame, min_cell: int, *, language: str = "en", item: str = "outcome_table",
                         note: str = "") -> Table:
    """The shares by group as printed, masked for disclosure control (the table ``outcome_table``).

    A group's ``n / N (%)`` is masked when n or N - n is 1 .. ``min_cell`` - 1
    (:func:`helpers.disclosure.unsafe_proportion`); N is masked when it is itself small.
    ``<5`` marks only a count that is 1 .. min_cell - 1; a count hidden because N - n or N is
    small is marked ``x`` (:func:`helpers.disclosure.outcomes.share_text`). The number of
    persons left out at a follow-up point (exits, no data) is not a column: it equals the group
    size minus N, and the group sizes are published in the cohort section. In 1:1 pairs the
    complete pairs of the paired analysis are a column. The differences and tests are in
    :func:`format_comparison_table`.

    Parameters
    ----------
    results : DataFrame
        Unmasked output of :func:`helpers.stats.outcome_comparison.outcome_table`.
    min_cell : int
        Smallest count that may be shown.
    language : {"en", "da"}
    item : str
        Key of the table (file name, caption, disclosure checklist).
    note : str
        Footnote.

    Returns
    -------
    Table
        Strings, one row per outcome x horizon, primary outcome first, and the disclosure check.
    """
    lang = language
    paired = bool((results["design"] == "pairs").any()) if "design" in results else False
    out_rows = []
    for _, r in results.iterrows():
        row = {
            tr("column.outcome", lang): r["outcome_label"],
            tr("column.follow_up", lang): r["horizon_label"],
            _col("role", lang): tr(f"outcomes.role.{r['role']}", lang),
        }
        for tag, group in (("int", "intervention"), ("ctl", "control")):
            row[tr(f"group.{group}", lang)] = share_text(r[f"n_{tag}"], r[f"N_{tag}"], r[f"pct_{tag}"], min_cell)
        if paired:
            row[_col("n_pairs", lang)] = safe_count(r["n_pairs"], min_cell)
        out_rows.append(row)
    return Table(item, pd.DataFrame(out_rows), outcome_table_check(results, min_cell, item=item), note=note)


def outcome_table(result: OutcomesResult, study, language: str | None = None) -> Table:
    """The shares table with its note (needs the result of :func:`helpers.stages.outcomes.run`)."""
    lang = _lang(study, language)
    results = result.results
    if results is None:
        raise ValueError("OutcomesResult.results is empty: the outcome table needs the result of "
                         "stages.outcomes.run, not a result read back from outcome_results.json")
    table = format_outcome_table(results, result.min_cell, language=lang)
    return Table("outcome_table", table.frame, table.check, note=shares_note(study, lang, min_cell=result.min_cell))


# --------------------------------------------------------------------------- the comparison table


def _hidden_cells(r, lang: str, sep: str, weighted: bool, pair_clustered: bool = False) -> dict[str, str]:
    """The comparison cells of a row whose estimates are masked: bounds (†) where they exist, else x."""
    x = SECONDARY_MASK

    def bound(columns):
        return table_bound(r, columns, sep) if has_bound(r, columns) else x

    def p_bound(column):
        return table_p_bound(r.get(column)) if np.isfinite(float(r.get(column, np.nan))) else x

    cells = {_col("rd", lang): bound(BOUND_RD), _col("rr", lang): x, _col("p_fisher", lang): p_bound("bound_p_fisher")}
    if r["design"] == "pairs":
        cells[_col("paired_rd", lang)] = bound(BOUND_PAIRED)
        cells[_col("p_mcnemar", lang)] = p_bound("bound_p_mcnemar")
    if pair_clustered:
        cells[_col("pair_clustered_rd", lang)] = bound(BOUND_W)
        cells[_col("p_pair_clustered", lang)] = p_bound("bound_p_weighted")
    if weighted:
        cells[_col("w_rd", lang)] = x
        cells[_col("p_weighted", lang)] = x
    cells[_col("p_adjusted", lang)] = "–" if r["role"] == "primary" else p_bound("bound_p_adjusted")
    return cells


def format_comparison_table(rows: pd.DataFrame, min_cell: int, *, language: str = "en",
                            item: str = "outcome_comparison", keep_estimates: bool = False, note: str = "") -> Table:
    """The differences between the groups and their tests as printed (the table ``outcome_comparison``).

    One row per outcome x follow-up point: the difference in percentage points and the risk
    ratio with 95% CIs, Fisher's p, the paired (1:1) or weighted analysis, the adjusted p.
    In a row whose counts are masked the estimates would give the masked count back; unless
    ``keep_estimates`` they are replaced by what holds for every count the mask allows,
    marked † (``29.5…35.5 (13.1 to 49.7)†``: the range of the difference and the widest CI;
    ``≤0.004†``: the largest p), and by ``x`` where no such bound exists (the risk ratio, the
    weighted analysis).

    Parameters
    ----------
    rows : DataFrame
        Masked rows with their bounds (:meth:`OutcomesResult.table`, or
        :func:`helpers.disclosure.outcomes.masked_results`).
    min_cell : int
    language : {"en", "da"}
    item : str
    keep_estimates : bool
        The rows keep their estimates where counts are masked
        (``outcomes.estimates_with_masked_counts``): shown as computed.
    note : str

    Returns
    -------
    Table
    """
    lang = language
    sep = tr("outcomes.ci_to", lang)
    paired = bool((rows["design"] == "pairs").any())
    weighted = bool((rows["design"] == "weighted").any())
    # 1:1 pairs whose headline is the pair-clustered difference (issue 17.7) show it as its own column
    pair_clustered = paired and "test" in rows and bool(rows["test"].eq(HEADLINE["clustered"]["pairs"]["test"]).any())
    out_rows = []
    for _, r in rows.iterrows():
        row = {tr("column.outcome", lang): r["outcome_label"], tr("column.follow_up", lang): r["horizon_label"]}
        if is_masked(r) and not keep_estimates:
            row.update(_hidden_cells(r, lang, sep, weighted, pair_clustered))
            out_rows.append(row)
            continue
        row[_col("rd", lang)] = _fmt_ci(r["rd"], r["rd_lower"], r["rd_upper"], 100, 1, sep)
        row[_col("rr", lang)] = _fmt_rr(r, sep)
        row[_col("p_fisher", lang)] = format_p(r["p_fisher"])
        if paired:
            row[_col("paired_rd", lang)] = _fmt_ci(r["paired_rd"], r["paired_lower"], r["paired_upper"], 100, 1, sep)
            row[_col("p_mcnemar", lang)] = format_p(r["p_mcnemar"])
        if pair_clustered:
            row[_col("pair_clustered_rd", lang)] = _fmt_ci(r["w_rd"], r["w_lower"], r["w_upper"], 100, 1, sep)
            row[_col("p_pair_clustered", lang)] = format_p(r["p_weighted"])
        if weighted:
            row[_col("w_rd", lang)] = _fmt_ci(r["w_rd"], r["w_lower"], r["w_upper"], 100, 1, sep)
            row[_col("p_weighted", lang)] = format_p(r["p_weighted"])
        row[_col("p_adjusted", lang)] = "–" if r["role"] == "primary" else format_p(r["p_adjusted"])
        out_rows.append(row)
    frame = localise_frame(pd.DataFrame(out_rows), lang)  # decimal comma in Danish
    return Table(item, frame, comparison_check(rows, keep_estimates=keep_estimates, item=item), note=note)


def comparison_table(result: OutcomesResult, study, language: str | None = None) -> Table:
    """The comparison table with its methods note (works on a loaded result too)."""
    lang = _lang(study, language)
    rows = result.table()
    table = format_comparison_table(rows, result.min_cell, language=lang,
                                    keep_estimates=result.estimates_with_masked_counts)
    return Table("outcome_comparison", table.frame, table.check, note=methods_note(rows, study, lang))


# --------------------------------------------------------------------------- notes


def shares_note(study=None, language: str = "en", *, min_cell: int | None = None) -> str:
    """The footnote of the shares table: what N counts, and what the marks mean."""
    min_cell = min_cell if min_cell is not None else (study.study.min_cell if study is not None else 5)
    exit_rule = study.outcomes.exit_rule if study is not None else "exclude"
    return " ".join([
        tr("outcomes.note.shares.failure" if exit_rule == "failure" else "outcomes.note.shares.exclude", language),
        tr("outcomes.note.marks", language, min_cell=min_cell, largest=min_cell - 1, small=mask_label(min_cell),
           secondary=SECONDARY_MASK),
    ])


def methods_note(results: pd.DataFrame, study=None, language: str = "en", *, min_cell: int | None = None) -> str:
    """The methods note of the comparison table.

    States the primary outcome, the multiplicity adjustment, the intervals and tests, the
    matched analysis used and the disclosure rule (bounds in rows whose counts are masked, or
    the estimates kept there, ``outcomes.estimates_with_masked_counts``).

    Parameters
    ----------
    results : DataFrame
        :func:`helpers.stats.outcome_comparison.outcome_table` output or its masked rows (the
        number of secondary tests counts the rows that have a p-value in the unmasked table
        or a masked count).
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
    counted = np.isfinite(results["p_value"].astype(float))
    if "masked_int" in results:
        counted |= results["masked_int"].astype(bool) | results["masked_ctl"].astype(bool)
    n_sec = int(((results["role"] == "secondary") & counted).sum())
    design = results["design"].iloc[0] if len(results) else "independent"
    keep = bool(study is not None and study.outcomes.estimates_with_masked_counts)
    min_cell = min_cell if min_cell is not None else (study.study.min_cell if study is not None else 5)
    n_prim = int((results["role"] == "primary").sum())
    if design == "pairs" and "test" in results and results["test"].eq(HEADLINE["clustered"]["pairs"]["test"]).any():
        design = "pairs_clustered"
    adjustment = (tr("outcomes.note.adjusted", lang, method=tr(f"outcomes.multiplicity.{mult}", lang))
                  if mult != "none" else tr("outcomes.note.not_adjusted", lang))
    masked = (tr("outcomes.note.masked_estimates_kept", lang, min_cell=min_cell) if keep else
              tr("outcomes.note.bounds", lang, min_cell=min_cell, secondary=SECONDARY_MASK)
              + (" " + tr("outcomes.note.bounds_weighted", lang) if design == "weighted" else ""))
    return " ".join([
        tr("outcomes.note.primary", lang, label=plabel_s, n=n_prim),
        tr("outcomes.note.secondary", lang, n=n_sec, adjustment=adjustment),
        tr("outcomes.note.estimators", lang),
        tr(f"outcomes.note.design.{design}", lang),
        masked,
    ])


# --------------------------------------------------------------------------- primary outcome, figure, rules


def _masked_part(r, lang: str, weighted: bool) -> str:
    """A primary follow-up point whose counts are masked: its bound, or 'not shown'."""
    horizon = r["horizon_label"].lower()
    if not has_bound(r):
        return tr("outcomes.primary.masked", lang, horizon=horizon)
    columns = BOUND_W if has_bound(r, BOUND_W) else BOUND_RD  # 1:1 pairs: the pair-clustered difference's bound
    low, high, lower, upper = bound_points(r, columns, lang)
    p = r.get("bound_p_value") if not weighted else r.get("bound_p_fisher")
    return tr("outcomes.primary.bound_unweighted" if weighted else "outcomes.primary.bound", lang, horizon=horizon,
              low=low, high=high, interval=tr("interval", lang, low=lower, high=upper),
              p=p_text(p, lang, at_most=True),
              claim=claim_text(r[columns[2]], r[columns[3]], lang, masked=True))


def primary_sentence(results: pd.DataFrame, language: str = "en") -> str:
    """Plain-language result for the primary outcome at each follow-up point (no counts shown).

    Each point gives the difference with its 95% CI and p, and the claim the CI allows
    (:func:`helpers.report.outcome_claims.claim_text`: higher, lower, or no clear difference
    when the CI covers 0). A point whose counts are masked gives its bound over every count the
    mask allows (:func:`helpers.disclosure.outcomes.masked_bounds`) and claims a direction only
    when every admissible CI lies on one side of 0.

    Parameters
    ----------
    results : DataFrame
        Masked rows (:func:`helpers.disclosure.outcomes.masked_results`, or
        :meth:`OutcomesResult.table`); uses the main analysis (``p_value``) and the Newcombe
        difference, or the weighted difference in the weighted design.
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
    w = prim["design"].iloc[0] == "weighted"
    col, lo, hi = main_columns(prim["design"].iloc[0])
    parts = []
    for _, r in prim.iterrows():
        if is_masked(r) and not np.isfinite(r[col]):
            parts.append(_masked_part(r, lang, w))
            continue
        if not np.isfinite(r[col]):
            parts.append(tr("outcomes.primary.not_estimable", lang, horizon=r["horizon_label"]))
            continue
        ci = tr("outcomes.primary.ci", lang, estimate=points(r[col], lang),
                interval=tr("interval", lang, low=points(r[lo], lang), high=points(r[hi], lang)))
        parts.append(tr("outcomes.primary.difference", lang, horizon=r["horizon_label"].lower(), ci=ci,
                        p=p_text(r["p_value"], lang), claim=claim_text(r[lo], r[hi], lang)))
    return tr("outcomes.primary.sentence", lang, label=prim["outcome_label"].iloc[0], parts="; ".join(parts))


def primary_text(result: OutcomesResult, study, language: str | None = None) -> Text:
    """The primary outcome's differences at every follow-up point, as a sentence."""
    return Text(primary_sentence(result.table(), _lang(study, language)))


def figure_check(item: str = "outcome_forest") -> Check:
    """Disclosure check of a figure that shows only differences, their CIs and bounds (no counts)."""
    return differences_only_check(item)


def forest_figure(result: OutcomesResult, study, language: str | None = None) -> Figure:
    """Forest plot of the differences (weighted in the weighted design); masked rows drawn as their bounds."""
    shown = result.table()
    estimate = "w" if shown["test"].str.contains("clustered").any() else "rd"  # the headline difference
    ax = forest_plot(shown, estimate=estimate, language=_lang(study, language))
    return Figure("outcome_forest", ax.figure, figure_check("outcome_forest"))


def rules_text(study, language: str | None = None) -> Text:
    """How the outcomes are counted (:func:`helpers.report.outcome_rules.outcome_rules_text`)."""
    return Text(outcome_rules_text(study, _lang(study, language)))
