"""Who may be in the cohort: the screening form, and the register criteria at an index week.

*Criteria* (study YAML ``cohort:``, :data:`RULES` in order), at index week ``w``: age
``age_min..age_max`` on the Monday of ``w``; resident in ``municipality`` in the calendar
year of ``w`` (controls: ``control_municipalities`` when set); on a target benefit
(``target_subcategories``, e.g. kontanthjælp, uddannelseshjælp, ressourceforløbsydelse) in
the **baseline week** ``w - 1`` (and, with ``benefit_weeks: before_and_index``, in ``w``);
at least ``min_weeks_on_transfers`` weeks on public transfers among the
``transfers_lookback_weeks`` weeks before ``w``; at most ``max_weeks_cash_benefit`` weeks on
cash benefit among the ``cash_benefit_lookback_weeks`` weeks before ``w`` (the statuses are
defined in :mod:`helpers.cohort.register`).

The *screening form* (:func:`read_screening`) gives the intervention group and the
exclusion reasons logged as attrition steps (:data:`SCREENING_REASONS`, in order).
*Control candidates* are (person, index week) pairs that meet every criterion at that
calendar week (:func:`_eligible_pairs`), so a control is eligible at the time of the person
it matches and has not already left benefits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from helpers.cohort.attrition import AttritionLog
from helpers.cohort.register import (
    CohortError,
    Register,
    _require,
    age_at,
    code_at,
    covariates_at,
    history_counts,
    municipality_at,
)
from helpers.config.schema.cohort import SCREENING_REASONS
from helpers.outcomes import status

__all__ = ["RULES", "SCREENING_REASONS", "active_rules", "control_exclusion_masks", "criteria", "pool_candidates",
           "read_screening"]


#: Register criteria in the order they are applied.
RULES = ("age", "municipality", "current_benefit", "transfers", "cash_benefit_max")


def criteria(frame: pd.DataFrame, cohort_cfg) -> pd.DataFrame:
    """Boolean column per register criterion (:data:`RULES`) for a :func:`covariates_at` frame."""
    out = pd.DataFrame(index=frame.index)
    age = frame["age"]
    out["age"] = (age >= cohort_cfg.age_min) & (age <= cohort_cfg.age_max)
    out["municipality"] = (frame["municipality"].isin(cohort_cfg.municipality) if cohort_cfg.municipality
                           else pd.Series(True, index=frame.index))
    out["current_benefit"] = frame["_target"] if "_target" in frame else True
    out["transfers"] = frame["transfer_lookback"] >= cohort_cfg.min_weeks_on_transfers
    out["cash_benefit_max"] = (frame["cash_lookback"] <= cohort_cfg.max_weeks_cash_benefit
                               if cohort_cfg.max_weeks_cash_benefit is not None else pd.Series(True, index=frame.index))
    return out.astype(bool)


def active_rules(cohort_cfg) -> list[str]:
    """Criteria that can exclude anyone under this configuration."""
    rules = ["age"]
    if cohort_cfg.municipality:
        rules.append("municipality")
    rules.append("current_benefit")
    if cohort_cfg.min_weeks_on_transfers > 0:
        rules.append("transfers")
    if cohort_cfg.max_weeks_cash_benefit is not None:
        rules.append("cash_benefit_max")
    return rules



def read_screening(screening: pd.DataFrame, *, name: str = "forms_screening.parquet") -> pd.DataFrame:
    """Validate the screening form and return it with a boolean ``included`` column.

    Raises
    ------
    CohortError
        Naming the file, column and row numbers (never IDs) of a problem: missing columns,
        ``included`` not 0/1, an included person without ``inclusion_date``, a group other
        than ``intervention``, or a person screened twice.
    """
    _require(screening, ["person_id", "included", "inclusion_date"], name)
    s = screening.reset_index(drop=True).copy()

    def rows_text(mask) -> str:
        idx = np.flatnonzero(np.asarray(mask))
        return ", ".join(str(i + 2) for i in idx[:5]) + (" ..." if len(idx) > 5 else "")

    inc = pd.to_numeric(s["included"], errors="coerce")
    bad = ~inc.isin([0, 1])
    if bad.any():
        raise CohortError(f"{name}: column 'included' must be 0 or 1; {int(bad.sum())} row(s) are not "
                          f"(data rows {rows_text(bad)}, counting the header as row 1)")
    s["included"] = inc.astype(int).astype(bool)
    s["inclusion_date"] = pd.to_datetime(s["inclusion_date"], errors="coerce")
    no_date = s["included"] & s["inclusion_date"].isna()
    if no_date.any():
        raise CohortError(f"{name}: column 'inclusion_date' is empty or not a date for {int(no_date.sum())} included "
                          f"person(s) (rows {rows_text(no_date)}); the index week comes from it")
    if "group" in s.columns:
        grp = s["group"].fillna("").astype(str).str.strip()
        wrong = s["included"] & ~grp.isin(["", "intervention"])
        if wrong.any():
            raise CohortError(f"{name}: column 'group' must be 'intervention' for included persons (controls come "
                              f"from the register); {int(wrong.sum())} row(s) differ (rows {rows_text(wrong)})")
    dup = s["person_id"].duplicated(keep=False)
    if dup.any():
        raise CohortError(f"{name}: {int(s['person_id'].duplicated().sum())} person(s) appear more than once "
                          f"(rows {rows_text(dup)}); keep one screening per person")
    if "exclusion_reason" not in s.columns:
        s["exclusion_reason"] = ""
    s["exclusion_reason"] = s["exclusion_reason"].fillna("").astype(str).str.strip()
    return s



def proxy_reason(rule) -> str:
    """Attrition reason of a control-exclusion proxy (:class:`~helpers.config.schema.cohort.ControlExclusion`)."""
    return f"proxy_{rule.reason}"


def control_exclusion_masks(reg: Register, rows: np.ndarray, weeks: np.ndarray, ccfg) -> dict[str, np.ndarray]:
    """Keep-mask per register proxy of a screening exclusion (``cohort.control_exclusions``).

    Parameters
    ----------
    reg : Register
    rows, weeks : ndarray
        (weekly row, DREAM index week) pairs, as in :func:`_eligible_pairs`.
    ccfg : CohortConfig

    Returns
    -------
    dict
        :func:`proxy_reason` of each rule -> boolean array, True where the pair is kept (fewer
        than ``min_weeks`` weeks with a selected code among the ``weeks_before`` weeks before
        the index week). Rules mirroring the same reason are combined. Counted with
        :func:`helpers.cohort.register.history_counts` (blocks of persons, cumulative sums).
    """
    rules = list(ccfg.control_exclusions)
    lookups = {f"rule{i}": reg.codebook.codes_where(categories=r.categories, subcategories=r.subcategories,
                                                    activities=r.activities, codes=r.code_list())
               for i, r in enumerate(rules)}
    counts = history_counts(reg, rows, weeks, [(k, k, r.weeks_before) for k, r in zip(lookups, rules, strict=True)],
                            lookups=lookups)
    out: dict[str, np.ndarray] = {}
    for k, r in zip(lookups, rules, strict=True):
        keep = counts[k] < r.min_weeks
        name = proxy_reason(r)
        out[name] = out[name] & keep if name in out else keep
    return out


def _eligible_pairs(reg: Register, rows: np.ndarray, weeks: np.ndarray, ccfg, rules: Sequence[str],
                    log: AttritionLog, n_before: int) -> tuple[pd.DataFrame, int]:
    """Filter (person, week) pairs rule by rule, logging persons with no eligible week left.

    Cheap criteria (age, residence, benefit in the baseline week) run on all pairs first,
    the history counts only on the pairs that survive them; the register proxies of the
    screening exclusions (:func:`control_exclusion_masks`, stage ``screening_proxy``) last.
    """
    n = n_before

    def persons(r: np.ndarray) -> int:
        return int(np.count_nonzero(np.bincount(r, minlength=reg.n))) if len(r) else 0

    prev = persons(rows)
    for rule in [r for r in rules if r in ("age", "municipality", "current_benefit")]:
        if rule == "age":
            a = age_at(reg, rows, weeks)
            ok = (a >= ccfg.age_min) & (a <= ccfg.age_max)
        elif rule == "municipality":
            ok = np.isin(municipality_at(reg, rows, weeks), ccfg.control_municipalities or ccfg.municipality)
        else:
            ok = status.code_mask(code_at(reg, rows, weeks - 1), reg.target)
            if ccfg.benefit_weeks == "before_and_index":
                ok &= status.code_mask(code_at(reg, rows, weeks), reg.target)
        rows, weeks = rows[ok], weeks[ok]
        now = persons(rows)
        n = log.add("eligibility", "control", rule, n, prev - now)
        prev = now
    cov = covariates_at(reg, rows, weeks, ccfg)
    cov["_target"] = True
    crit = criteria(cov, ccfg)
    keep = np.ones(len(rows), dtype=bool)
    for rule in [r for r in rules if r in ("transfers", "cash_benefit_max")]:
        keep &= crit[rule].to_numpy()
        now = persons(rows[keep])
        n = log.add("eligibility", "control", rule, n, prev - now)
        prev = now
    for reason, ok in control_exclusion_masks(reg, rows, weeks, ccfg).items():
        keep &= ok
        now = persons(rows[keep])
        n = log.add("screening_proxy", "control", reason, n, prev - now)
        prev = now
    cand = pd.concat([pd.DataFrame({"person_id": reg.weekly.person_id[rows[keep]], "index_week": weeks[keep],
                                    "row": rows[keep]}), cov[keep].reset_index(drop=True).drop(columns="_target")],
                     axis=1)
    cand["meets_criteria"] = True
    cand = cand.sort_values(["index_week", "person_id"], kind="stable").reset_index(drop=True)
    return cand, n


def pool_candidates(blocks: Iterable[tuple[Register, int]], scr: pd.DataFrame, index_weeks: np.ndarray, ccfg,
                    rules: Sequence[str], log: AttritionLog, *, block_pairs: int) -> tuple[pd.DataFrame, int]:
    """Control candidates from blocks of the register pool, each a (Register, first store row) pair.

    Each block's persons are evaluated in sub-blocks of ``block_pairs`` pairs
    (:data:`helpers.cohort.build.CANDIDATE_BLOCK_PAIRS`); a block's attrition counts are persons of that block only,
    so the log's counts are their sums and the result does not depend on the block sizes
    (``tests/test_cohort.py``). The candidates' ``row`` is the block's row plus its first
    store row (the row of the whole store).
    """
    excluded_ids = scr["person_id"] if ccfg.controls_from == "not_screened" else scr.loc[scr["included"], "person_id"]
    per_block = max(1, int(block_pairs) // max(1, len(index_weeks)))
    out, excluded, n_pool, n_screened = [], {}, 0, 0
    for reg, offset in blocks:
        is_screened = pd.Index(reg.weekly.person_id).isin(excluded_ids)
        n_pool, n_screened = n_pool + reg.n, n_screened + int(is_screened.sum())
        cand_rows = np.flatnonzero(~is_screened)
        for start in range(0, max(len(cand_rows), 1), per_block):
            rows = cand_rows[start:start + per_block]
            block_log = AttritionLog()
            pr = np.repeat(rows, len(index_weeks))
            pw = np.tile(index_weeks, len(rows))
            cand, _ = _eligible_pairs(reg, pr, pw, ccfg, rules, block_log, len(rows))
            cand["row"] += offset
            out.append(cand)
            for row in block_log.rows:
                key = (row["stage"], row["group"], row["reason"])
                excluded[key] = excluded.get(key, 0) + row["n_excluded"]
    n_c = log.add("register", "control", "register_pool", n_pool)
    n_c = log.add("register", "control", "screened_for_programme", n_c, n_screened)
    for (stage, group, reason), k in excluded.items():
        n_c = log.add(stage, group, reason, n_c, k)
    out = [c for c in out if len(c)] or out[:1]
    cand = pd.concat(out, ignore_index=True) if len(out) > 1 else out[0]
    cand = cand.sort_values(["index_week", "person_id"], kind="stable").reset_index(drop=True)
    return cand, n_c
