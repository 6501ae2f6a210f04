"""Questionnaire progression in the report: the counts and missing ratings, the changes by group, the missing share.

:func:`counts_table` (persons and missing ratings) and :func:`questionnaire_table` (means,
changes, ANCOVA) split what was one 15-column table. Both need the unmasked questionnaire results of a fresh
:func:`helpers.stages.outcomes.run` (it masks them itself); :func:`missing_text` works from
the saved aggregates as well.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.core.i18n import catalogue, localise_frame, tr
from helpers.disclosure import SECONDARY_MASK, is_small
from helpers.disclosure.outcomes import mask_label, questionnaire_check
from helpers.report.items import Table, Text
from helpers.report.outcomes import format_p
from helpers.stages.outcomes import OutcomesResult


def _lang(study, language: str | None) -> str:
    return language or study.study.language


def _name(kind: str, name: str, language: str) -> str:
    """Display name of a measure or rater; the code name when the catalogue has none."""
    key = f"questionnaires.{kind}.{name}"
    return tr(key, language) if key in catalogue() else name


def _measure(r, lang: str) -> str:
    return f"{_name('measure', r['measure'], lang)} ({_name('rater', r['rater'], lang)})"


def format_questionnaire_counts(
    results: pd.DataFrame, min_cell: int, *, language: str = "en", item: str = "questionnaire_counts",
    note: str = "",
) -> Table:
    """Report table: per rater x measure and group, the persons, the missing ratings and the persons analysed.

    The missing baseline and follow-up ratings share a cell (``<5 / 10``), so the table has
    seven columns.

    Counts of 1 .. ``min_cell`` - 1 show ``<5`` (:func:`helpers.disclosure.outcomes.questionnaire_check`
    counts them). The means and changes are in :func:`format_questionnaire_table`.

    Parameters
    ----------
    results : DataFrame
        Unmasked output of :func:`helpers.stats.questionnaires.questionnaire_results`.
    min_cell : int
    language : {"en", "da"}
    item : str
    note : str
    """
    lang = language
    lab = mask_label(min_cell)

    def cnt(x):
        return lab if bool(is_small(x, min_cell)) else str(int(x))

    out = []
    for _, r in results.iterrows():
        row = {_col("measure", lang): _measure(r, lang)}
        for tag, group in (("int", "intervention"), ("ctl", "control")):
            head = tr(f"group.{group}", lang)
            row[f"{head}: N"] = cnt(r[f"n_cohort_{tag}"])
            row[f"{head}: " + _col("missing", lang)] = (f"{cnt(r[f'missing_baseline_{tag}'])} / "
                                                         f"{cnt(r[f'missing_followup_{tag}'])}")
            row[f"{head}: " + _col("analysed", lang)] = cnt(r[f"n_complete_{tag}"])
        out.append(row)
    return Table(item, pd.DataFrame(out), questionnaire_check(results, min_cell, item=item), note=note)


def format_questionnaire_table(
    results: pd.DataFrame, min_cell: int, *, language: str = "en", item: str = "questionnaire_table",
    note: str = "",
) -> Table:
    """Report table: per rater x measure and group the mean at baseline and follow-up and the change; ANCOVA.

    Means, changes and the difference computed from 1 .. ``min_cell`` - 1 complete cases are
    masked and marked ``x`` (:data:`helpers.disclosure.SECONDARY_MASK`: they are not counts;
    the small count itself, and the persons analysed, are in :func:`format_questionnaire_counts`).

    Parameters
    ----------
    results : DataFrame
        Unmasked output of :func:`helpers.stats.questionnaires.questionnaire_results`.
    min_cell : int
    language : {"en", "da"}
    item : str
        Key of the table.
    note : str
        Footnote.
    """
    lang = language
    sep = tr("outcomes.ci_to", lang)
    out = []

    def f(v: float) -> str:
        v = round(float(v), 1)
        return "0.0" if v == 0 else f"{v:+.1f}"  # no "-0.0"

    def ci(m, lo, hi, n):
        if n < min_cell and n > 0:
            return SECONDARY_MASK
        if not np.isfinite(m):
            return "–"
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return f(m)
        return f"{f(m)} ({f(lo)}{sep}{f(hi)})"

    for _, r in results.iterrows():
        row = {_col("measure", lang): _measure(r, lang)}
        for tag, group in (("int", "intervention"), ("ctl", "control")):
            head = tr(f"group.{group}", lang)
            n = r[f"n_complete_{tag}"]
            if 0 < n < min_cell:
                row[f"{head}: " + _col("means", lang)] = SECONDARY_MASK
            elif n:
                row[f"{head}: " + _col("means", lang)] = (f"{r[f'mean_baseline_{tag}']:.1f} → "
                                                           f"{r[f'mean_followup_{tag}']:.1f}")
            else:
                row[f"{head}: " + _col("means", lang)] = "–"
            row[f"{head}: " + _col("change", lang)] = ci(
                r[f"mean_change_{tag}"], r[f"change_lower_{tag}"], r[f"change_upper_{tag}"], n)
        n_min = min(r["n_complete_int"], r["n_complete_ctl"])
        row[_col("ancova", lang)] = ci(r["ancova_diff"], r["ancova_lower"], r["ancova_upper"], n_min)
        row["p"] = SECONDARY_MASK if 0 < n_min < min_cell else format_p(r["ancova_p"])
        out.append(row)
    check = questionnaire_check(results, min_cell, item=item, counts=("n_complete",))
    return Table(item, localise_frame(pd.DataFrame(out), lang), check, note=note)  # decimal comma in Danish


def _col(name: str, lang: str) -> str:
    return tr(f"questionnaires.column.{name}", lang)


def methods_note(language: str = "en") -> str:
    """Footnote for the questionnaire table."""
    return tr("questionnaires.note", language)


def _frame(result: OutcomesResult) -> pd.DataFrame:
    frame = result.questionnaire_results
    if frame is None:
        raise ValueError("OutcomesResult.questionnaire_results is empty: the questionnaire table needs the result "
                         "of stages.outcomes.run, not a result read back from outcome_results.json")
    return frame


def questionnaire_table(result: OutcomesResult, study, language: str | None = None) -> Table | None:
    """The questionnaire means, changes and ANCOVA with the methods note; ``None`` without a questionnaire form.

    Needs the result of :func:`helpers.stages.outcomes.run` (the unmasked questionnaire results).
    """
    if result.questionnaires is None:
        return None
    lang = _lang(study, language)
    table = format_questionnaire_table(_frame(result), result.min_cell, language=lang)
    return Table("questionnaire_table", table.frame, table.check, note=methods_note(lang))


def counts_table(result: OutcomesResult, study, language: str | None = None) -> Table | None:
    """The questionnaire's persons and missing ratings by group; ``None`` without a questionnaire form."""
    if result.questionnaires is None:
        return None
    lang = _lang(study, language)
    table = format_questionnaire_counts(_frame(result), result.min_cell, language=lang)
    return Table("questionnaire_counts", table.frame, table.check,
                 note=tr("questionnaires.note_counts", lang, small=mask_label(result.min_cell),
                         largest=result.min_cell - 1))


def missing_sentence(share_int: float, share_ctl: float, language: str = "en") -> str:
    """One sentence on the share (%) of follow-up ratings missing, by group (no small counts)."""
    return tr("questionnaires.missing", language, intervention=f"{share_int:.0f}", control=f"{share_ctl:.0f}")


def missing_text(result: OutcomesResult, study, language: str | None = None) -> Text:
    """The missing follow-up ratings by group, or that the study has no questionnaire form."""
    lang = _lang(study, language)
    q = result.questionnaires
    if q is None:
        return Text(tr("questionnaires.no_form", lang))
    return Text(missing_sentence(_nan(q.missing_followup_pct_int), _nan(q.missing_followup_pct_ctl), lang))


def _nan(x: float | None) -> float:
    return float("nan") if x is None else float(x)
