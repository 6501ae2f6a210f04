"""Study population: eligibility at index weeks, covariates at index, matched controls, attrition log.

The design (seed 000: "tilfældigt udvalgt ... matchet til målgruppen"; seed 003: the groups
should "ligne hinanden mest muligt") is a register-matched comparison with **risk-set
matching**. :func:`build_cohort` runs it in named steps:

1. *Intervention group* (:func:`_intervention_group`). Everyone on the screening form is
   counted; each exclusion reason on the form is an attrition step. Included persons get
   their **index week** = the DREAM week of ``inclusion_date``. Persons not found in the
   register are excluded (logged). The register criteria
   (:mod:`helpers.cohort.eligibility`) are then checked at the index week. By default
   (``cohort.intervention_failing_criteria: keep``) persons who fail a criterion **stay in the
   analysis** (intention to treat: the caseworkers included them) and are *counted* per
   criterion in the log (``n_flagged``); ``exclude`` removes them instead.
2. *Control candidates* (:func:`_control_candidates`). Every register person who was never
   screened (``cohort.controls_from: not_screened``; seed 000 draws controls from the register,
   so anyone the project looked at is left out) is evaluated **at each distinct intervention
   index week**: a candidate row is a (person, week) pair that meets every criterion at
   that calendar week, so a control is eligible at the time of the person it matches and
   has not already left benefits. Covariates at index come from the weeks before ``w``
   (:func:`helpers.cohort.register.covariates_at`); a note says when a look-back reaches
   before the extract.
3. *Matching* (:func:`_match`, :mod:`helpers.cohort.matching`).
4. *Follow-up flags* (:func:`_follow_up_flags`): exit or end of data before the end of the
   programme (``index + programme_weeks``), reported but not removing anyone (the outcome
   stages handle them).
5. *Balance* before and after (:func:`_balance`, :mod:`helpers.cohort.balance`).

Every step is one row of the attrition log (:mod:`helpers.cohort.attrition`); the attrition
table and the flow diagram are both drawn from it (:mod:`helpers.disclosure.attrition`,
:mod:`helpers.report.cohort`). What the report should say about the build (data coverage,
persons kept despite failing criteria, ...) is returned as :class:`Note` facts (a catalogue
key and its values), worded by the stage (:mod:`helpers.stages.cohort`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from helpers.cohort import balance, matching
from helpers.cohort.attrition import AttritionLog
from helpers.cohort.follow_up import followed_by_horizon
from helpers.cohort.eligibility import (
    SCREENING_REASONS,
    active_rules,
    control_exclusion_masks,
    criteria,
    pool_candidates,
    read_screening,
)
from helpers.cohort.register import (
    SPELL_CAP,
    CohortError,
    Register,
    code_at,
    covariates_at,
    prepare_register,
)
from helpers.core import atomic, calendar
from helpers.core.codes import CodeBook
from helpers.core.store import NO_DATA, MonthlyEmployment, WeeklyStatus
from helpers.outcomes import status

#: Columns written to cohort.parquet (contract: docs/architecture.md).
COHORT_COLUMNS = [
    "person_id", "group", "index_week", "matched_set", "weight",
    "age", "sex", "weeks_transfer_52", "weeks_transfer_104", "weeks_transfer_156",
    "weeks_cash_benefit_156", "weeks_cash_benefit_26", "weeks_cash_benefit_52", "current_spell_weeks",
    "weeks_employed_156", "benefit_category", "benefit_subcategory",
    "activity", "active_measure", "municipality", "distance", "meets_criteria",
]
#: Covariates that describe benefit history (the brief's balance target |SMD| < 0.1).
HISTORY_COVARIATES = ("weeks_transfer_52", "weeks_transfer_104", "weeks_transfer_156",
                      "weeks_cash_benefit_156", "weeks_cash_benefit_26", "weeks_cash_benefit_52",
                      "current_spell_weeks", "weeks_employed_156")
#: Numeric covariates shown as categories in balance tables.
CATEGORICAL_NUMERIC = ("sex", "municipality")


@dataclass(frozen=True)
class Note:
    """A fact the report should state about the build, worded from the catalogue.

    Attributes
    ----------
    key : str
        Catalogue entry ``cohort.note.<key>``.
    counts : mapping
        Counts of persons among the pattern's fields (masked below ``min_cell`` when worded).
    fields : mapping
        The pattern's other fields (weeks, ratios, ...), shown as they are.
    reasons : tuple of str
        Unmatched reasons (:data:`helpers.cohort.matching.UNMATCHED_REASONS` keys) for the
        pattern's ``{reasons}`` field.
    """

    key: str
    counts: Mapping[str, int] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()


@dataclass
class CohortBuild:
    """Everything :func:`build_cohort` produces, in memory (the stage's result carries it).

    Attributes
    ----------
    cohort : DataFrame
        Analysis cohort (:data:`COHORT_COLUMNS`): one row per matched-set membership.
    attrition : DataFrame
        The attrition log (:data:`helpers.cohort.attrition.ATTRITION_COLUMNS`), unmasked.
    balance : DataFrame
        Balance before/after (:func:`helpers.cohort.balance.compare_balance`), unmasked.
    match_summary : dict
        :attr:`helpers.cohort.matching.MatchResult.summary` plus pool counts.
    unmatched : DataFrame
        Aggregated unmatched intervention persons by reason and stratum (no identifiers).
    notes : list of Note
        Things the report should say (data coverage, persons kept despite failing criteria, ...).
    timings : dict
        Seconds per step.
    candidates : DataFrame
        Eligible (person, index week) candidate rows with covariates (not written).
    balance_covariates : list of str
        Covariates of the balance table, in order.
    follow_up : DataFrame or None
        Persons per group followed to each follow-up point
        (:func:`helpers.cohort.follow_up.followed_by_horizon`; the flow diagram's follow-up boxes).
    unmirrored_reasons : list of str
        Screening exclusion reasons that excluded someone and that no register rule mirrors
        for the controls (no ``cohort.control_exclusions`` rule; ``not_eligible_age`` is
        mirrored by the age criterion).
    """

    cohort: pd.DataFrame
    attrition: pd.DataFrame
    balance: pd.DataFrame
    match_summary: dict
    unmatched: pd.DataFrame
    notes: list[Note] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    candidates: pd.DataFrame | None = None
    balance_covariates: list[str] = field(default_factory=list)
    unmirrored_reasons: list[str] = field(default_factory=list)
    follow_up: pd.DataFrame | None = None

    @property
    def balance_before(self) -> pd.DataFrame:
        """Balance rows of the unmatched sample."""
        return self.balance[self.balance["sample"] == "before"].reset_index(drop=True)

    @property
    def balance_after(self) -> pd.DataFrame:
        """Balance rows of the matched cohort."""
        return self.balance[self.balance["sample"] == "after"].reset_index(drop=True)


# ============================================================================ build
def first_week_needed(study, screening: pd.DataFrame) -> int | None:
    """The earliest DREAM week :func:`build_cohort` reads: the earliest index week less the longest look-back.

    The cohort stage loads the weekly store from this week on (issue 15: on a national extract
    the weeks before the look-back of the first participant are a large share of the matrix
    and no criterion, covariate or flag reads them), so the result is the same as with the
    whole store. ``None`` when no included person has an inclusion date (the build then
    raises its own error).

    Parameters
    ----------
    study : Study
    screening : DataFrame
        The screening form (:func:`helpers.core.store.load_form`).
    """
    scr = read_screening(screening)
    weeks = calendar.dream_weeks_of_dates(scr.loc[scr["included"], "inclusion_date"])
    weeks = weeks[weeks >= 0]
    if not len(weeks):
        return None
    ccfg = study.cohort
    lookback = max(ccfg.cash_benefit_lookback_weeks, ccfg.transfers_lookback_weeks, 156, SPELL_CAP)
    return int(weeks.min()) - lookback - 1


def build_cohort(study, persons: pd.DataFrame, residence: pd.DataFrame, weekly: WeeklyStatus,
                 monthly: MonthlyEmployment | None, screening: pd.DataFrame, *,
                 codebook: CodeBook | None = None) -> CohortBuild:
    """Eligibility, index weeks, covariates, matched controls, balance and the attrition log.

    Parameters
    ----------
    study : Study
        The loaded study (``cohort``, ``matching``, ``study.seed``, ``data.self_support``).
    persons, residence, weekly, monthly, screening
        From :mod:`helpers.core.store` (``load_persons``, ``load_residence``, ``load_weekly``,
        ``load_monthly``, ``load_form(study, "screening")``).

    Returns
    -------
    CohortBuild

    Raises
    ------
    CohortError
        Bad screening form, or no intervention person left to match.
    helpers.cohort.matching.MatchingError
        Some intervention person gets no control and ``matching.allow_unmatched`` is false.
    """
    t = time.perf_counter()
    reg = prepare_register(study, persons, residence, weekly, monthly, codebook)
    timings = {"prepare": time.perf_counter() - t}
    rules = active_rules(study.cohort)
    return assemble_cohort(
        study, reg, screening, timings=timings, follow_up_register=lambda ids: reg,
        pool=lambda weeks, scr, log: _control_candidates(reg, scr, weeks, study.cohort, rules, log))


def assemble_cohort(study, reg: Register, screening: pd.DataFrame, *, pool, follow_up_register,
                    timings: dict[str, float]) -> CohortBuild:
    """The steps of :func:`build_cohort` from a Register of the participants and a control-pool step.

    Parameters
    ----------
    study : Study
    reg : Register
        Holds (at least) every screened person in the register; the intervention group is read from it.
    screening : DataFrame
        The screening form.
    pool : callable
        ``pool(index_weeks, screening, log) -> (candidates, n_c)``, as :func:`_control_candidates`
        (the in-memory build) or :func:`helpers.cohort.streaming.build_cohort_streaming` (store blocks).
    follow_up_register : callable
        ``follow_up_register(person_ids) -> Register`` holding those persons (the matched cohort).
    timings : dict
        Seconds per step so far (updated).
    """
    ccfg, mcfg = study.cohort, study.matching
    scr = read_screening(screening)
    log = AttritionLog()
    notes: list[Note] = []
    rules = active_rules(ccfg)

    t = time.perf_counter()
    treated, n = _intervention_group(reg, scr, ccfg, rules, log, notes)
    timings["eligibility_intervention"] = time.perf_counter() - t

    t = time.perf_counter()
    index_weeks = np.unique(treated["index_week"].to_numpy())
    candidates, n_c = pool(index_weeks, scr, log)
    _flag_proxies(reg, treated, ccfg, log, n)
    timings["eligibility_candidates"] = time.perf_counter() - t
    lookback = max(ccfg.cash_benefit_lookback_weeks, ccfg.transfers_lookback_weeks, 156)
    if index_weeks.min() - lookback < reg.weekly.first_week:
        y, w = calendar.iso_from_dream_week(reg.weekly.first_week)
        notes.append(Note("lookback", fields={"lookback": lookback, "year": y, "week": w}))

    t = time.perf_counter()
    res = _match(study, treated, candidates)
    timings["matching"] = time.perf_counter() - t
    n, n_c = _log_matching(res, log, n, n_c, notes)
    cohort = res.cohort

    t = time.perf_counter()
    reg_fu = follow_up_register(pd.unique(cohort["person_id"].to_numpy()))
    _follow_up_flags(reg_fu, cohort, ccfg, log, n, n_c)
    follow_up = followed_by_horizon(reg_fu, cohort, study.outcomes.horizons)
    timings["follow_up"] = time.perf_counter() - t

    t = time.perf_counter()
    bal, bal_cov = _balance(treated, candidates, cohort, res, study)
    timings["balance"] = time.perf_counter() - t

    summary = dict(res.summary)
    summary.update({"n_eligible_control_persons": int(candidates["person_id"].nunique()),
                    "n_index_weeks": int(len(index_weeks)),
                    "max_abs_smd_after": balance.max_abs_smd(bal, "after"),
                    "max_abs_smd_after_history": balance.max_abs_smd(bal, "after", HISTORY_COVARIATES),
                    "max_abs_smd_before": balance.max_abs_smd(bal, "before")})
    if summary["n_sets_short"]:
        notes.append(Note("sets_short", counts={"n": summary["n_sets_short"], "m": summary["n_treated_matched"]},
                          fields={"ratio": mcfg.ratio}))
    um = res.unmatched
    unmatched = (um.groupby(["reason", "stratum"]).size().rename("n").reset_index() if len(um)
                 else pd.DataFrame(columns=["reason", "stratum", "n"]))
    return CohortBuild(cohort=_cohort_frame(cohort), attrition=log.frame(), balance=bal, match_summary=summary,
                       unmatched=unmatched, notes=notes, timings=timings, candidates=candidates,
                       balance_covariates=bal_cov, unmirrored_reasons=unmirrored_reasons(log.frame(), ccfg),
                       follow_up=follow_up)


def unmirrored_reasons(attrition: pd.DataFrame, ccfg) -> list[str]:
    """Screening exclusion reasons that excluded someone and have no register counterpart for the controls."""
    scr = attrition[(attrition["stage"] == "screening") & (attrition["group"] == "intervention")
                    & (attrition["n_excluded"] > 0)]
    mirrored = {"not_eligible_age", *(r.reason for r in ccfg.control_exclusions)}
    return [str(r) for r in scr["reason"] if r not in mirrored]


def _flag_proxies(reg: Register, treated: pd.DataFrame, ccfg, log: AttritionLog, n: int) -> None:
    """Count (not exclude) intervention persons who meet a control-exclusion proxy at their index week.

    They passed the screening, so a proxy that flags many of them excludes controls the
    screening would have kept: the flow diagram shows both sides of each proxy.
    """
    masks = control_exclusion_masks(reg, treated["row"].to_numpy(), treated["index_week"].to_numpy(), ccfg)
    for reason, keep in masks.items():
        log.add("screening_proxy", "intervention", reason, n, 0, int((~keep).sum()))


def _intervention_group(reg: Register, scr: pd.DataFrame, ccfg, rules: list[str], log: AttritionLog,
                        notes: list[Note]) -> tuple[pd.DataFrame, int]:
    """Screening steps, linkage and the criteria at the index week; the treated rows and the count left.

    Raises
    ------
    CohortError
        When nobody is included, or nobody is left after the criteria (``exclude`` mode).
    """
    n = log.add("screening", "intervention", "screened", len(scr))
    not_inc = scr[~scr["included"]]
    reasons = not_inc["exclusion_reason"].replace("", "not_included_other")
    known = [r for r in SCREENING_REASONS if r in set(reasons)]
    other = sorted(set(reasons) - set(SCREENING_REASONS) - {"not_included_other"})
    for r in [*known, *other, "not_included_other"]:
        k = int((reasons == r).sum())
        if k or r in SCREENING_REASONS:
            n = log.add("screening", "intervention", r, n, k)
    inc = scr[scr["included"]].copy()
    if inc.empty:
        raise CohortError("forms_screening: nobody is included (included = 1); there is no intervention group")
    inc["index_week"] = calendar.dream_weeks_of_dates(inc["inclusion_date"])
    rows_all = pd.Index(reg.weekly.person_id).get_indexer(inc["person_id"])
    linked = rows_all >= 0
    n = log.add("linkage", "intervention", "not_in_register", n, int((~linked).sum()))
    inc = inc[linked].copy()
    inc["row"] = rows_all[linked]
    inc = inc.sort_values(["index_week", "person_id"], kind="stable").reset_index(drop=True)
    cov_t = covariates_at(reg, inc["row"].to_numpy(), inc["index_week"].to_numpy(), ccfg)
    cov_t["_target"] = reg.target[np.where(cov_t["baseline_code"] >= 0, cov_t["baseline_code"], 0)] & (
        cov_t["baseline_code"].to_numpy() >= 0)
    if ccfg.benefit_weeks == "before_and_index":
        cov_t["_target"] &= status.code_mask(code_at(reg, inc["row"].to_numpy(), inc["index_week"].to_numpy()),
                                             reg.target)
    crit_t = criteria(cov_t, ccfg)
    meets = crit_t[rules].all(axis=1).to_numpy()
    if ccfg.intervention_failing_criteria == "exclude":
        alive = np.ones(len(inc), dtype=bool)
        for rule in rules:
            fail = alive & ~crit_t[rule].to_numpy()
            n = log.add("eligibility", "intervention", rule, n, int(fail.sum()))
            alive &= ~fail
        keep = alive
    else:
        for rule in rules:
            log.add("eligibility", "intervention", rule, n, 0, int((~crit_t[rule]).sum()))
        log.add("eligibility", "intervention", "any_criterion", n, 0, int((~meets).sum()))
        keep = np.ones(len(inc), dtype=bool)
        if (~meets).any():
            notes.append(Note("failing_criteria", counts={"n": int((~meets).sum())}))
    treated = pd.concat([inc[["person_id", "index_week", "row"]], cov_t], axis=1)[keep].reset_index(drop=True)
    treated["meets_criteria"] = meets[keep]
    if treated.empty:
        raise CohortError("no intervention person is left after the register criteria; nothing to match")
    return treated, n


#: Person-week pairs evaluated at once in the control-candidate step. The pool is processed in
#: blocks of ``CANDIDATE_BLOCK_PAIRS // n_index_weeks`` persons so that the memory of the
#: criteria and covariates is set by the block, not by the pool (issue 15: national pools).
CANDIDATE_BLOCK_PAIRS = 4_000_000


def _control_candidates(reg: Register, scr: pd.DataFrame, index_weeks: np.ndarray, ccfg, rules: list[str],
                        log: AttritionLog, *, block_pairs: int | None = None
                        ) -> tuple[pd.DataFrame, int]:
    """The register pool less screened persons, as (person, index week) pairs meeting every criterion.

    :func:`helpers.cohort.eligibility.pool_candidates` on the one block ``reg``.
    """
    return pool_candidates([(reg, 0)], scr, index_weeks, ccfg, rules, log,
                           block_pairs=block_pairs or CANDIDATE_BLOCK_PAIRS)


def _match(study, treated: pd.DataFrame, candidates: pd.DataFrame) -> matching.MatchResult:
    """Controls for the treated rows from their risk sets (seed: ``study.seed`` + the matching offset)."""
    mcfg = study.matching
    seed = study.study.seed + matching.MATCHING_SEED_OFFSET
    return matching.match(treated, candidates, mcfg, seed, id_col="person_id", time_col="index_week",
                          categorical=[c for c in CATEGORICAL_NUMERIC if c in mcfg.covariates and c != "sex"])


def _log_matching(res: matching.MatchResult, log: AttritionLog, n: int, n_c: int,
                  notes: list[Note]) -> tuple[int, int]:
    """Attrition rows of the match (unmatched by reason, controls not drawn); the counts left per group."""
    um = res.unmatched
    n_um = len(um)
    for reason in matching.UNMATCHED_REASONS:
        k = int((um["reason"] == reason).sum())
        if k:
            n = log.add("matching", "intervention", f"unmatched_{reason}", n, k)
    if n_um == 0:
        n = log.add("matching", "intervention", "unmatched", n, 0)
    if n_um:
        notes.append(Note("unmatched", counts={"n": n_um}, reasons=tuple(sorted(set(um["reason"])))))
    cohort = res.cohort
    cohort.loc[cohort["group"] == "control", "meets_criteria"] = True
    ctrl_persons = cohort.loc[cohort["group"] == "control", "person_id"].nunique()
    n_c = log.add("matching", "control", "not_selected", n_c, n_c - ctrl_persons)
    return n, n_c


def _follow_up_flags(reg: Register, cohort: pd.DataFrame, ccfg, log: AttritionLog, n: int, n_c: int) -> None:
    """Count (not exclude) persons who exit, or whose data end, before the end of the programme."""
    rows_coh = pd.Index(reg.weekly.person_id).get_indexer(cohort["person_id"])
    window = reg.weekly.aligned(rows_coh, cohort["index_week"].to_numpy(), 0, ccfg.programme_weeks)
    exit_col, _ = status.first_exit(window)
    data_end = (window == NO_DATA).any(axis=1) & (exit_col < 0)
    for grp, n_now in (("intervention", n), ("control", n_c)):
        sel = (cohort["group"] == grp).to_numpy()
        ids = cohort["person_id"].to_numpy()
        n_exit = len(set(ids[sel & (exit_col >= 0)]))
        n_end = len(set(ids[sel & data_end]))
        log.add("follow_up", grp, "exit_before_fu", n_now, 0, n_exit)
        log.add("follow_up", grp, "data_end_before_fu", n_now, 0, n_end)
        log.add("analysis", grp, "analysed", n_now, 0)


def _balance(treated: pd.DataFrame, candidates: pd.DataFrame, cohort: pd.DataFrame, res: matching.MatchResult,
             study) -> tuple[pd.DataFrame, list[str]]:
    """Balance before (the pool, weighted to the treated index weeks) and after matching; its covariates.

    Adds the propensity-score ``distance`` to ``treated`` and ``candidates`` when the match has one.
    """
    ccfg, mcfg = study.cohort, study.matching
    bal_cov = list(mcfg.balance_list)
    if ccfg.municipality and len(ccfg.municipality) <= 1 and "municipality" in bal_cov and mcfg.balance_covariates is None:
        bal_cov.remove("municipality")
    if res.distance_treated is not None:
        bal_cov = ["distance", *bal_cov]
        treated["distance"] = res.distance_treated
        candidates["distance"] = res.distance_candidates
    before = pd.concat([treated.assign(_treat=1), candidates.assign(_treat=0)], ignore_index=True)
    # the unmatched comparison: the pool as seen at the intervention persons' index weeks
    n_t_week = treated["index_week"].value_counts()
    n_c_week = candidates["index_week"].value_counts()
    w_before = np.where(before["_treat"] == 1, 1.0,
                        before["index_week"].map(n_t_week / n_c_week.reindex(n_t_week.index)).fillna(0.0))
    after = cohort.assign(_treat=(cohort["group"] == "intervention").astype(int))
    cat = [c for c in CATEGORICAL_NUMERIC if c in bal_cov]
    bal = balance.compare_balance(before, after, bal_cov, "_treat", weights_before=np.asarray(w_before, dtype=float),
                                  weights_after=after["weight"].to_numpy(), categorical=cat)
    return bal, bal_cov


def _cohort_frame(cohort: pd.DataFrame) -> pd.DataFrame:
    """The matched rows in the columns and types of ``cohort.parquet``."""
    out = cohort.copy()
    for col in COHORT_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out = out[COHORT_COLUMNS]
    out["index_week"] = out["index_week"].astype(np.int32)
    out["matched_set"] = out["matched_set"].astype(np.int32)
    out["meets_criteria"] = out["meets_criteria"].astype(bool)
    return out


# ============================================================================ outputs
def write_outputs(study, build: CohortBuild, processed_dir=None) -> dict:
    """Write ``cohort.parquet``, ``attrition.parquet`` and ``balance.parquet`` atomically.

    The stage (:func:`helpers.stages.cohort.run`) writes ``cohort_summary.json`` next to them.
    """
    folder = study.processed_dir if processed_dir is None else processed_dir
    return {
        "cohort": atomic.write_parquet(folder / "cohort.parquet", build.cohort),
        "attrition": atomic.write_parquet(folder / "attrition.parquet", build.attrition),
        "balance": atomic.write_parquet(folder / "balance.parquet", build.balance),
    }
