"""Stage 03: binary outcomes at the follow-up points, compared between the groups, and questionnaires.

:func:`run` reads the cohort (``cohort.parquet``) and the cohort's weekly and monthly data
and events from the processed store, evaluates every outcome definition at every horizon
(:func:`helpers.outcomes.definitions.evaluate_outcomes`), compares the groups
(:func:`helpers.stats.outcome_comparison.outcome_table`), masks the comparison and bounds
its masked rows over every admissible count (:func:`helpers.disclosure.outcomes.masked_results`)
and, when the study has a
questionnaire form, analyses it (:func:`helpers.stats.questionnaires.questionnaire_results`).
It writes ``outcomes_person.parquet`` (person level; stays in the processed folder),
``outcome_results.parquet`` (the masked comparison) and ``outcome_results.json`` (the
:class:`OutcomesResult`) and returns the result.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, PrivateAttr

from helpers.core import atomic, store
from helpers.disclosure.outcomes import mask_label, masked_questionnaire, masked_results
from helpers.outcomes.definitions import evaluate_outcomes
from helpers.stages.base import StageResult
from helpers.stats import outcome_comparison, questionnaires

#: A count as published: the whole number, or the mask (``"<5"``) when it is 1 .. min_cell - 1.
Count = int | str
Design = Literal["pairs", "weighted", "independent"]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class OutcomeRow(_Row):
    """One outcome at one follow-up point, as published (masked; see :mod:`helpers.disclosure.outcomes`).

    The fields are the columns of ``outcome_results.parquet``
    (:func:`helpers.stats.outcome_comparison.outcome_table` after masking): counts are whole
    numbers or the mask string, shares are percentages 0-100, differences are shares
    (0.18 = 18 percentage points); ``None`` marks what is masked or not estimable. The
    ``bound_*`` fields (:data:`helpers.disclosure.outcomes.BOUND_COLUMNS`) say what can be
    said about a row whose counts are masked: the range of the difference, the widest CI and
    the largest p over every count the mask allows (None in rows shown in full).
    """

    outcome: str
    outcome_label: str
    horizon: str
    horizon_label: str
    horizon_weeks: int
    role: Literal["primary", "secondary"]
    n_int: Count
    N_int: Count
    pct_int: float | None
    excluded_int: Count
    n_ctl: Count
    N_ctl: Count
    pct_ctl: float | None
    excluded_ctl: Count
    rd: float | None
    rd_lower: float | None
    rd_upper: float | None
    rd_method: str
    rr: float | None
    rr_lower: float | None
    rr_upper: float | None
    rr_method: str
    odds_ratio: float | None
    p_fisher: float | None
    design: Design
    n_pairs: Count | None
    n_sets: Count | None
    paired_rd: float | None
    paired_lower: float | None
    paired_upper: float | None
    p_mcnemar: float | None
    mcnemar_method: str
    w_share_int: float | None
    w_share_ctl: float | None
    w_rd: float | None
    w_lower: float | None
    w_upper: float | None
    p_weighted: float | None
    p_value: float | None
    test: str
    headline_ci: str
    headline_rd: float | None
    headline_lower: float | None
    headline_upper: float | None
    p_adjusted: float | None
    adjustment: str
    masked_int: bool
    masked_ctl: bool
    bound_rd_low: float | None = None
    bound_rd_high: float | None = None
    bound_rd_lower: float | None = None
    bound_rd_upper: float | None = None
    bound_p_fisher: float | None = None
    bound_paired_low: float | None = None
    bound_paired_high: float | None = None
    bound_paired_lower: float | None = None
    bound_paired_upper: float | None = None
    bound_p_mcnemar: float | None = None
    bound_w_low: float | None = None
    bound_w_high: float | None = None
    bound_w_lower: float | None = None
    bound_w_upper: float | None = None
    bound_p_weighted: float | None = None
    bound_p_value: float | None = None
    bound_p_adjusted: float | None = None


class QuestionnaireRow(_Row):
    """One measure x rater: counts and change per group (``_int`` / ``_ctl``), the ANCOVA difference (masked)."""

    rater: str
    measure: str
    n_cohort_int: Count
    missing_baseline_int: Count
    missing_followup_int: Count
    n_complete_int: Count
    mean_baseline_int: float | None
    mean_followup_int: float | None
    mean_change_int: float | None
    sd_change_int: float | None
    change_lower_int: float | None
    change_upper_int: float | None
    p_change_int: float | None
    n_cohort_ctl: Count
    missing_baseline_ctl: Count
    missing_followup_ctl: Count
    n_complete_ctl: Count
    mean_baseline_ctl: float | None
    mean_followup_ctl: float | None
    mean_change_ctl: float | None
    sd_change_ctl: float | None
    change_lower_ctl: float | None
    change_upper_ctl: float | None
    p_change_ctl: float | None
    n_sets: Count | None
    diff_change: float | None
    ancova_diff: float | None
    ancova_lower: float | None
    ancova_upper: float | None
    ancova_p: float | None
    se_type: str


class QuestionnaireResult(_Row):
    """The questionnaire analysis: one :class:`QuestionnaireRow` per rater x measure.

    Attributes
    ----------
    missing_followup_pct_int, missing_followup_pct_ctl : float or None
        Share (%) of the group's follow-up ratings missing, over all measures and raters.
    """

    missing_followup_pct_int: float | None
    missing_followup_pct_ctl: float | None
    rows: list[QuestionnaireRow]

    def table(self) -> pd.DataFrame:
        """The rows as a data frame (masked counts and estimates NaN)."""
        return _frame(self.rows, QuestionnaireRow)


class OutcomesResult(StageResult):
    """What stage 03 found: one :class:`OutcomeRow` per outcome x follow-up point, and the questionnaires.

    Attributes
    ----------
    study : str
    min_cell : int
        Disclosure threshold the rows were masked with.
    primary, multiplicity, exit_rule : str
        The study's ``outcomes.primary``, ``outcomes.multiplicity`` and ``outcomes.exit_rule``.
    estimates_with_masked_counts : bool
        Estimates kept in rows whose counts are masked (``outcomes.estimates_with_masked_counts``).
    design : {"pairs", "weighted", "independent"} or None
        The matched analysis (None without rows).
    n_primary_tests, n_secondary_tests : int
        Primary rows, and secondary rows with a p-value (the multiplicity family).
    rows : list of OutcomeRow
        Primary outcome first, in the order of ``outcome_results.parquet``.
    questionnaires : QuestionnaireResult or None
        None when the study has no questionnaire form.
    """

    FILE = "outcome_results.json"

    study: str
    min_cell: int
    primary: str
    multiplicity: str
    exit_rule: str
    estimates_with_masked_counts: bool
    design: Design | None
    n_primary_tests: int
    n_secondary_tests: int
    rows: list[OutcomeRow]
    questionnaires: QuestionnaireResult | None = None
    _results: pd.DataFrame | None = PrivateAttr(default=None)
    _questionnaire_results: pd.DataFrame | None = PrivateAttr(default=None)

    @property
    def results(self) -> pd.DataFrame | None:
        """The unmasked outcome table of :func:`helpers.stats.outcome_comparison.outcome_table` (only after :func:`run`)."""
        return self._results

    @property
    def questionnaire_results(self) -> pd.DataFrame | None:
        """The unmasked :func:`helpers.stats.questionnaires.questionnaire_results` frame (only after :func:`run`)."""
        return self._questionnaire_results

    def table(self) -> pd.DataFrame:
        """The rows as a data frame with the columns of ``outcome_results.parquet`` (masked values NaN)."""
        return _frame(self.rows, OutcomeRow)

    def row(self, outcome: str, horizon: str) -> OutcomeRow:
        """The row of ``outcome`` at ``horizon``.

        Raises
        ------
        KeyError
            When the stage did not report that outcome at that follow-up point.
        """
        for r in self.rows:
            if r.outcome == outcome and r.horizon == horizon:
                return r
        raise KeyError(f"no outcome {outcome!r} at follow-up point {horizon!r} in {self.FILE}")


# --------------------------------------------------------------------------- from frames to rows


def _frame(rows: list[BaseModel], model: type[BaseModel]) -> pd.DataFrame:
    frame = pd.DataFrame([r.model_dump() for r in rows], columns=list(model.model_fields))
    for name, field in model.model_fields.items():
        if field.annotation in (Count, Count | None):
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
        elif field.annotation == (float | None):
            frame[name] = frame[name].astype(float)
    return frame


def _float(x) -> float | None:
    """A finite or infinite number; None for missing (NaN)."""
    if x is None or x is pd.NA:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _masked_count(x, mask: str) -> Count:
    """A count of a masked frame: NaN there means masked (unmasked counts are never missing)."""
    return mask if _missing(x) else int(x)


def _missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def _optional_count(x, before, mask: str) -> Count | None:
    """A count that may not apply (pairs in a weighted design): None when it does not, the mask when masked."""
    if _missing(before):
        return None
    return mask if _missing(x) else int(x)


def _rows(masked: pd.DataFrame, model: type[BaseModel], counts: tuple[str, ...], optional: tuple[str, ...],
          min_cell: int, unmasked: pd.DataFrame) -> list:
    mask = mask_label(min_cell)
    out = []
    for rec, before in zip(masked.to_dict("records"), unmasked.to_dict("records"), strict=True):
        values = {}
        for name, field in model.model_fields.items():
            x = rec[name]
            if name in counts:
                values[name] = _masked_count(x, mask)
            elif name in optional:
                values[name] = _optional_count(x, before[name], mask)
            elif field.annotation == (float | None):
                values[name] = _float(x)
            elif field.annotation is int:
                values[name] = int(x)
            elif field.annotation is bool:
                values[name] = bool(x)
            else:
                values[name] = x
        out.append(model(**values))
    return out


_OUTCOME_COUNTS = tuple(f"{c}_{t}" for t in ("int", "ctl") for c in ("n", "N", "excluded"))
_QUESTIONNAIRE_COUNTS = tuple(f"{c}_{t}" for t in ("int", "ctl")
                              for c in ("n_cohort", "missing_baseline", "missing_followup", "n_complete"))


def questionnaire_result(results: pd.DataFrame, min_cell: int) -> QuestionnaireResult:
    """A :class:`QuestionnaireResult` from :func:`helpers.stats.questionnaires.questionnaire_results` (unmasked)."""
    share_int, share_ctl = questionnaires.missing_followup_shares(results)
    rows = _rows(masked_questionnaire(results, min_cell), QuestionnaireRow, _QUESTIONNAIRE_COUNTS, ("n_sets",),
                 min_cell, results)
    return QuestionnaireResult(missing_followup_pct_int=_float(share_int), missing_followup_pct_ctl=_float(share_ctl),
                               rows=rows)


def from_frames(study, results: pd.DataFrame, masked: pd.DataFrame,
                questionnaire_results: pd.DataFrame | None = None) -> OutcomesResult:
    """An :class:`OutcomesResult` from the unmasked and masked outcome tables (and the questionnaires).

    Parameters
    ----------
    study : Study
    results : DataFrame
        :func:`helpers.stats.outcome_comparison.outcome_table` output.
    masked : DataFrame
        ``results`` after :func:`helpers.disclosure.outcomes.masked_results` (``outcome_results.parquet``).
    questionnaire_results : DataFrame, optional
        :func:`helpers.stats.questionnaires.questionnaire_results` output.
    """
    min_cell = study.study.min_cell
    cfg = study.outcomes
    rows = _rows(masked, OutcomeRow, _OUTCOME_COUNTS, ("n_pairs", "n_sets"), min_cell, results)
    secondary = results["role"] == "secondary" if len(results) else pd.Series(dtype=bool)
    result = OutcomesResult(
        study=study.name, min_cell=min_cell, primary=cfg.primary, multiplicity=cfg.multiplicity,
        exit_rule=cfg.exit_rule, estimates_with_masked_counts=cfg.estimates_with_masked_counts,
        design=str(results["design"].iloc[0]) if len(results) else None,
        n_primary_tests=int((results["role"] == "primary").sum()) if len(results) else 0,
        n_secondary_tests=int((secondary & np.isfinite(results["p_value"])).sum()) if len(results) else 0,
        rows=rows,
        questionnaires=(None if questionnaire_results is None
                        else questionnaire_result(questionnaire_results, min_cell)),
    )
    result._results = results
    result._questionnaire_results = questionnaire_results
    return result


def run(study, *, write: bool = True) -> OutcomesResult:
    """Evaluate the outcomes of the cohort, compare the groups and analyse the questionnaires.

    Parameters
    ----------
    study : Study
    write : bool
        Write ``outcomes_person.parquet``, ``outcome_results.parquet`` and
        ``outcome_results.json`` to the study's processed folder.

    Returns
    -------
    OutcomesResult
        With the unmasked outcome table (:attr:`OutcomesResult.results`) and questionnaire
        results (:attr:`OutcomesResult.questionnaire_results`) attached for the report.
    """
    cohort = store.load_cohort(study)
    persons = cohort["person_id"].unique()
    weekly = store.load_weekly(study, person_ids=persons)
    monthly = store.load_monthly(study, person_ids=persons)
    events = store.load_form(study, "events") if study.data.forms.events else None
    person_outcomes = evaluate_outcomes(cohort, weekly, monthly, events, study)
    results = outcome_comparison.outcome_table(person_outcomes, study)
    masked = masked_results(results, study.study.min_cell, keep_estimates=study.outcomes.estimates_with_masked_counts,
                            multiplicity=study.outcomes.multiplicity)
    q_results = None
    if study.data.forms.questionnaires:
        q_results = questionnaires.questionnaire_results(store.load_form(study, "questionnaires"), cohort, study)
    result = from_frames(study, results, masked, q_results)
    if write:
        folder = study.processed_dir
        atomic.write_parquet(folder / "outcomes_person.parquet", person_outcomes)
        atomic.write_parquet(folder / "outcome_results.parquet", masked)
        result.save(folder)
    return result
