"""Questionnaire progression in the report: the table by group, its note, the missing ratings.

:func:`questionnaire_table` needs the unmasked questionnaire results of a fresh
:func:`helpers.stages.outcomes.run` (it masks them itself); :func:`missing_text` works from
the saved aggregates as well.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.core.i18n import catalogue, tr
from helpers.disclosure import is_small
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


def format_questionnaire_table(
    results: pd.DataFrame, min_cell: int, *, language: str = "en", item: str = "questionnaire_table",
    note: str = "",
) -> Table:
    """Report table: per rater x measure and group the counts (incl. missing) and change; ANCOVA.

    Counts of 1 .. ``min_cell`` - 1 are masked; means and CIs computed from fewer than
    ``min_cell`` complete cases are masked too (:func:`helpers.disclosure.outcomes.questionnaire_check`
    counts the masked cells).

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
    lab = mask_label(min_cell)
    sep = tr("outcomes.ci_to", lang)
    out = []

    def cnt(x):
        return lab if bool(is_small(x, min_cell)) else str(int(x))

    def f(v: float) -> str:
        v = round(float(v), 1)
        return "0.0" if v == 0 else f"{v:+.1f}"  # no "-0.0"

    def ci(m, lo, hi, n):
        if n < min_cell and n > 0:
            return lab
        if not np.isfinite(m):
            return "–"
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return f(m)
        return f"{f(m)} ({f(lo)}{sep}{f(hi)})"

    def col(name: str) -> str:
        return tr(f"questionnaires.column.{name}", lang)

    for _, r in results.iterrows():
        row = {col("measure"): f"{_name('measure', r['measure'], lang)} ({_name('rater', r['rater'], lang)})"}
        for tag, group in (("int", "intervention"), ("ctl", "control")):
            head = tr(f"group.{group}", lang)
            n = r[f"n_complete_{tag}"]
            row[f"{head}: N"] = cnt(r[f"n_cohort_{tag}"])
            row[f"{head}: " + col("missing_baseline")] = cnt(r[f"missing_baseline_{tag}"])
            row[f"{head}: " + col("missing_followup")] = cnt(r[f"missing_followup_{tag}"])
            row[f"{head}: " + col("analysed")] = cnt(n)
            if 0 < n < min_cell:
                row[f"{head}: " + col("means")] = lab
            elif n:
                row[f"{head}: " + col("means")] = f"{r[f'mean_baseline_{tag}']:.1f} → {r[f'mean_followup_{tag}']:.1f}"
            else:
                row[f"{head}: " + col("means")] = "–"
            row[f"{head}: " + col("change")] = ci(
                r[f"mean_change_{tag}"], r[f"change_lower_{tag}"], r[f"change_upper_{tag}"], n)
        n_min = min(r["n_complete_int"], r["n_complete_ctl"])
        row[col("ancova")] = ci(r["ancova_diff"], r["ancova_lower"], r["ancova_upper"], n_min)
        row["p"] = lab if 0 < n_min < min_cell else format_p(r["ancova_p"])
        out.append(row)
    return Table(item, pd.DataFrame(out), questionnaire_check(results, min_cell, item=item), note=note)


def methods_note(language: str = "en") -> str:
    """Footnote for the questionnaire table."""
    return tr("questionnaires.note", language)


def questionnaire_table(result: OutcomesResult, study, language: str | None = None) -> Table | None:
    """The questionnaire table with its note; ``None`` when the study has no questionnaire form.

    Needs the result of :func:`helpers.stages.outcomes.run` (the unmasked questionnaire results).
    """
    if result.questionnaires is None:
        return None
    frame = result.questionnaire_results
    if frame is None:
        raise ValueError("OutcomesResult.questionnaire_results is empty: the questionnaire table needs the result "
                         "of stages.outcomes.run, not a result read back from outcome_results.json")
    lang = _lang(study, language)
    table = format_questionnaire_table(frame, result.min_cell, language=lang)
    return Table("questionnaire_table", table.frame, table.check, note=methods_note(lang))


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
