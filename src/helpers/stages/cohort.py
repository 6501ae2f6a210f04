"""Stage 02: the study population, matched controls, balance and the attrition log.

:func:`run` reads the processed store (persons, residence, weekly codes, monthly employment,
the screening form), builds the cohort (:func:`helpers.cohort.streaming.build_cohort_streaming`: the
control pool's weekly codes are read block by block, so memory is set by the block size; the
same result as :func:`helpers.cohort.build.build_cohort` on the whole matrix), writes
``cohort.parquet``, ``attrition.parquet``, ``balance.parquet`` and ``cohort_summary.json``
and returns a :class:`CohortResult`. Later stages read the cohort with
:func:`helpers.core.store.load_cohort`.

The result file keeps the content ``cohort_summary.json`` always had: the matching summary,
the timings, the notes (worded in English and Danish from the catalogue, ``cohort.note.*``,
with small counts masked) and the balance covariates.
"""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict, PrivateAttr

from helpers.cohort.balance import max_abs_smd, over_threshold
from helpers.cohort.build import HISTORY_COVARIATES, CohortBuild, Note, first_week_needed, write_outputs
from helpers.cohort.streaming import build_cohort_streaming, store_sources
from helpers.core import store
from helpers.core.i18n import LANGUAGES, tr
from helpers.disclosure import MASK, is_small
from helpers.disclosure.balance import mask_balance
from helpers.stages.base import StageResult


class MatchSummary(BaseModel):
    """How the match went (:attr:`helpers.cohort.matching.MatchResult.summary` plus pool counts)."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")

    method: str
    ratio: int
    replace: bool
    distance: str | None
    distance_ps: bool
    caliper_sd: float | None
    caliper: float | None
    n_treated: int
    n_treated_matched: int
    n_unmatched: int
    n_unmatched_no_candidates: int
    n_unmatched_exhausted: int
    n_unmatched_caliper: int
    n_unmatched_outside_strata: int
    n_sets_short: int
    n_candidate_rows: int
    n_candidate_persons: int
    n_control_rows: int
    n_controls_unique: int
    ess_control: float
    seconds: float
    n_eligible_control_persons: int
    n_index_weeks: int
    max_abs_smd_after: float
    max_abs_smd_after_history: float
    max_abs_smd_before: float


class ImbalancedTerm(BaseModel):
    """A covariate term whose |SMD| after matching exceeds ``matching.smd_threshold``.

    ``smd`` and the group means are None when their counts are disclosive
    (:func:`helpers.disclosure.balance.mask_balance`): the term is then named without values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")

    variable: str
    level: str | None
    kind: str
    smd: float | None
    mean_treated: float | None
    mean_control: float | None


class CohortResult(StageResult):
    """What stage 02 found (the content of ``cohort_summary.json``).

    Attributes
    ----------
    match_summary : MatchSummary
    timings : dict
        Seconds per step of the build.
    notes : list of (str, str)
        What the report says about the build, in English and Danish (counts masked).
    balance_covariates : list of str
        Covariates of the balance table, in order.
    smd_threshold : float or None
        ``matching.smd_threshold`` the imbalance was judged by.
    residual_imbalance : list of ImbalancedTerm
        Terms over the threshold after matching, largest |SMD| first (masked as published).
    unmirrored_exclusions : list of str
        Screening exclusion reasons that excluded someone and that no register rule mirrors
        for the controls (:attr:`helpers.cohort.build.CohortBuild.unmirrored_reasons`).
    note_keys : list of str
        Catalogue keys of the notes (``cohort.note.<key>``), e.g. ``lookback``.
    published_smd : dict
        Largest |SMD| (``after``, ``after_history``, ``before``) over the terms the balance table
        shows (hidden binary terms left out; None when none is shown), as the summary prints it.
    """

    FILE = "cohort_summary.json"

    match_summary: MatchSummary
    timings: dict[str, float]
    notes: list[tuple[str, str]]
    balance_covariates: list[str]
    smd_threshold: float | None = None
    residual_imbalance: list[ImbalancedTerm] = []
    unmirrored_exclusions: list[str] = []
    note_keys: list[str] = []
    published_smd: dict[str, float | None] = {}
    _build: CohortBuild | None = PrivateAttr(default=None)

    @property
    def build(self) -> CohortBuild | None:
        """The frames of :func:`helpers.cohort.build.build_cohort` (only right after :func:`run`)."""
        return self._build

    @property
    def cohort(self) -> pd.DataFrame | None:
        """The analysis cohort (``cohort.parquet``; only right after :func:`run`)."""
        return None if self._build is None else self._build.cohort

    @property
    def attrition(self) -> pd.DataFrame | None:
        """The unmasked attrition log (``attrition.parquet``; only right after :func:`run`)."""
        return None if self._build is None else self._build.attrition

    @property
    def balance(self) -> pd.DataFrame | None:
        """Balance before and after matching (``balance.parquet``; only right after :func:`run`)."""
        return None if self._build is None else self._build.balance

    def note_texts(self, language: str) -> list[str]:
        """The notes in ``language``."""
        i = LANGUAGES.index(language)
        return [pair[i] for pair in self.notes]


def _count(k: int, min_cell: int) -> str:
    """A count for a sentence of the report; masked when in 1..min_cell-1."""
    if is_small(k, min_cell):
        return MASK.format(min_cell=min_cell)
    return f"{k:,}"


def word_note(note: Note, language: str, min_cell: int) -> str:
    """A :class:`~helpers.cohort.build.Note` in ``language`` (catalogue ``cohort.note.<key>``), counts masked."""
    fields = {name: _count(k, min_cell) for name, k in note.counts.items()}
    fields.update(note.fields)
    if note.reasons:
        fields["reasons"] = "; ".join(tr(f"cohort.unmatched_reason.{r}", language) for r in note.reasons)
    return tr(f"cohort.note.{note.key}", language, **fields)


def residual_imbalance(balance: pd.DataFrame, threshold: float, min_cell: int) -> list[ImbalancedTerm]:
    """Terms over ``threshold`` after matching; values of terms with disclosive counts left out."""
    big = over_threshold(balance, threshold, "after")
    masked, _ = mask_balance(balance, min_cell, item="residual_imbalance")
    masked = masked[masked["sample"] == "after"].assign(level=lambda f: f["level"].fillna("").astype(str))
    shown = masked.set_index(["variable", "level"])

    def value(x) -> float | None:
        return None if pd.isna(x) else float(x)

    out = []
    for _, r in big.iterrows():
        level = "" if pd.isna(r["level"]) else str(r["level"])
        m = shown.loc[(r["variable"], level)]
        out.append(ImbalancedTerm(variable=str(r["variable"]), level=level or None, kind=str(r["kind"]),
                                  smd=value(m["smd"]), mean_treated=value(m["mean_treated"]),
                                  mean_control=value(m["mean_control"])))
    return out


def _published_smds(build: CohortBuild, min_cell: int) -> dict[str, float | None]:
    """The largest |SMD| after (all terms, benefit history) and before matching, over the terms the balance table shows.

    A binary term whose counts are disclosive has its SMD hidden in the balance table
    (:func:`helpers.disclosure.balance.mask_balance`); the summary's "largest |SMD|" must not
    print it either (with the group sizes it gives the hidden count back). None when no term
    is shown.
    """
    masked, _ = mask_balance(build.balance, min_cell, item="cohort_summary")
    values = {"after": max_abs_smd(masked, "after"), "after_history": max_abs_smd(masked, "after", HISTORY_COVARIATES),
              "before": max_abs_smd(masked, "before")}
    return {k: (None if v is None or v != v else float(v)) for k, v in values.items()}


def from_build(study, build: CohortBuild) -> CohortResult:
    """The :class:`CohortResult` of a :func:`helpers.cohort.build.build_cohort` build (carrying it)."""
    mc = study.study.min_cell
    threshold = study.matching.smd_threshold
    result = CohortResult(
        match_summary=MatchSummary(**build.match_summary), timings=build.timings,
        notes=[tuple(word_note(n, lang, mc) for lang in LANGUAGES) for n in build.notes],
        balance_covariates=build.balance_covariates, smd_threshold=threshold,
        residual_imbalance=residual_imbalance(build.balance, threshold, mc),
        unmirrored_exclusions=list(build.unmirrored_reasons), note_keys=[n.key for n in build.notes],
        published_smd=_published_smds(build, mc))
    result._build = build
    return result


def run(study, *, write: bool = True) -> CohortResult:
    """Eligibility, matched controls, balance and the attrition log from the processed store.

    Parameters
    ----------
    study : Study
    write : bool
        Write ``cohort.parquet``, ``attrition.parquet``, ``balance.parquet`` and
        ``cohort_summary.json`` in the study's processed folder.

    Returns
    -------
    CohortResult

    Raises
    ------
    helpers.cohort.register.CohortError, helpers.cohort.matching.MatchingError
        See :func:`helpers.cohort.build.build_cohort`.
    """
    screening = store.load_form(study, "screening")
    blocks, load, n_blocks = store_sources(study, first_week=first_week_needed(study, screening))
    build = build_cohort_streaming(study, persons=store.load_persons(study), residence=store.load_residence(study),
                                   screening=screening, blocks=blocks, load=load, n_blocks=n_blocks)
    result = from_build(study, build)
    if write:
        write_outputs(study, build)
        result.save(study.processed_dir)
    return result

