"""Stage 08: robustness of the headline to confounding and selection, and the effect in subgroups (issue 17, 3-4).

:func:`run` reads the cohort, the outcome and survival stages' results and the processed data,
and computes what the study's ``robustness:`` section switches on:

1. **E-values** (:mod:`helpers.stats.evalue`) of the primary risk ratio (the ratio of weighted
   shares behind the headline difference, matched-set clustered CI) and of the headline hazard
   ratio (common-outcome conversion).
2. **Regression-adjusted ("doubly robust") estimates** (:mod:`helpers.stats.doubly_robust`): the
   primary risk difference and the hazard ratio with the matching covariates added to the
   headline models, on the matched sample with the matching weights, beside the plain matched
   estimates of stages 03 and 05.
3. **Placebo index**: the same estimators with every index week moved ``placebo.shift_weeks``
   earlier; the primary outcome ``placebo.horizon_weeks`` after the pseudo-index and the time
   to lasting self-support censored the week before the real index week. The programme cannot
   act before it starts: a difference signals selection.
4. **Negative-control outcome** (``negative_control.definition``): the headline difference of an
   outcome the programme cannot cause.
5. **Subgroups** (:mod:`helpers.stats.heterogeneity`; exploratory): the primary difference and
   the hazard ratio per level of each pre-declared subgroup with interaction tests; levels
   with small cells masked (:mod:`helpers.disclosure.robustness`).

It writes ``robustness_results.json`` (the :class:`RobustnessResult`, aggregates only, masked)
and returns the result.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, PrivateAttr

from helpers.config.schema.base import Labels
from helpers.config.schema.outcomes import Horizon
from helpers.core import store
from helpers.disclosure import robustness as disclosure
from helpers.outcomes.definitions import evaluate_outcomes
from helpers.stages.base import StageResult
from helpers.stages.outcomes import OutcomesResult
from helpers.stages.survival import TTE_FILE, SurvivalResult
from helpers.stats import doubly_robust as dr
from helpers.stats import heterogeneity as het
from helpers.stats.evalue import EValue, evalue_hr, evalue_rr
from helpers.stats.outcome_comparison import analysis_clusters, outcome_table
from helpers.stats.survival.cox import cox_intervention
from helpers.stats.survival.tte import SELF_SUPPORT, requires_employment, time_to_event

KEYS = ["person_id", "matched_set", "group"]
#: Horizon key of the placebo outcome.
PLACEBO_HORIZON = "placebo"
#: Outcome key of the negative control.
NEGATIVE_CONTROL = "negative_control"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class Effect(_Row):
    """An estimate with its 95 % CI and p-value, as published (None where masked or not estimable)."""

    estimate: float | None
    lower: float | None
    upper: float | None
    p: float | None = None
    masked: bool = False


class EValueRow(_Row):
    """E-values of one estimate (:class:`helpers.stats.evalue.EValue`); None where masked."""

    measure: str
    conversion: str
    estimate: float | None
    lower: float | None
    upper: float | None
    rr: float | None
    rr_lower: float | None
    rr_upper: float | None
    point: float | None
    ci: float | None
    masked: bool = False


class Comparison(_Row):
    """A 2x2 comparison with the headline estimator (placebo, negative control), counts masked."""

    n_int: int | str
    N_int: int | str
    n_ctl: int | str
    N_ctl: int | str
    rd: Effect


class Placebo(_Row):
    """The headline estimators at a pseudo-index ``shift_weeks`` before the real index week."""

    shift_weeks: int
    horizon_weeks: int
    n_sets: int
    sets_dropped: int
    outcome: Comparison
    events_int: int | str
    events_ctl: int | str
    hr: Effect


class NegativeControl(_Row):
    """The negative-control outcome at one horizon."""

    label_en: str
    label_da: str
    horizon: str
    horizon_weeks: int
    outcome: Comparison


class SubgroupRow(_Row):
    """One level of a subgroup, as published (see :func:`helpers.disclosure.robustness.mask_subgroups`)."""

    subgroup: str
    level: str
    persons_int: int | str
    persons_ctl: int | str
    n_int: int | str
    N_int: int | str
    n_ctl: int | str
    N_ctl: int | str
    rd: float | None
    rd_lower: float | None
    rd_upper: float | None
    events_int: int | str | None
    events_ctl: int | str | None
    hr: float | None
    hr_lower: float | None
    hr_upper: float | None
    masked: str


class Interaction(_Row):
    """Interaction tests of one subgroup (None: one level, masked or not estimable)."""

    subgroup: str
    levels: int
    rd_statistic: float | None
    rd_df: int
    rd_p: float | None
    hr_statistic: float | None
    hr_df: int
    hr_p: float | None


class RobustnessResult(StageResult):
    """What stage 08 (robustness) found; the fields are the keys of ``robustness_results.json``.

    Attributes
    ----------
    study, primary, horizon : str
        The study, its primary outcome and the horizon key used.
    horizon_weeks, min_cell : int
    design, cox_method : str
        The outcome stage's matched design and the survival stage's headline Cox model.
    matched_rd, adjusted_rd : Effect or None
        The headline risk difference (stage 03) and the regression-adjusted one.
    matched_hr, adjusted_hr : Effect or None
        The headline hazard ratio (stage 05) and the adjusted one.
    covariates, covariates_dropped : list of str
        Design columns of the adjusted risk difference; covariates left out (constant or collinear).
    evalue_rr, evalue_hr : EValueRow or None
    placebo : Placebo or None
    negative_control : NegativeControl or None
    subgroups : list of SubgroupRow
    interactions : list of Interaction
    """

    FILE = "robustness_results.json"

    study: str
    primary: str
    horizon: str
    horizon_weeks: int
    min_cell: int
    design: str
    cox_method: str
    matched_rd: Effect | None
    adjusted_rd: Effect | None
    matched_hr: Effect | None
    adjusted_hr: Effect | None
    covariates: list[str]
    covariates_dropped: list[str]
    evalue_rr: EValueRow | None
    evalue_hr: EValueRow | None
    placebo: Placebo | None
    negative_control: NegativeControl | None
    subgroups: list[SubgroupRow]
    interactions: list[Interaction]
    _subgroups_unmasked: pd.DataFrame | None = PrivateAttr(default=None)

    @property
    def subgroups_unmasked(self) -> pd.DataFrame | None:
        """The subgroup table before masking (only right after :func:`run`)."""
        return self._subgroups_unmasked

    def subgroup_frame(self) -> pd.DataFrame:
        """The published subgroup rows as a data frame (masked counts NaN)."""
        frame = pd.DataFrame([r.model_dump() for r in self.subgroups], columns=list(SubgroupRow.model_fields))
        for col in disclosure.SUBGROUP_COUNTS:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        for col in disclosure.SUBGROUP_ESTIMATES:
            frame[col] = frame[col].astype(float)
        return frame


# --------------------------------------------------------------------------- helpers


def _num(x) -> float | None:
    if x is None or isinstance(x, str):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _count(x, min_cell: int) -> int | str:
    x = int(x)
    return disclosure.MASK.format(min_cell=min_cell) if 0 < x < min_cell else x


def _effect(est, lower, upper, p=None, masked: bool = False) -> Effect:
    if masked:
        return Effect(estimate=None, lower=None, upper=None, p=None, masked=True)
    return Effect(estimate=_num(est), lower=_num(lower), upper=_num(upper), p=_num(p))


def _evalue_row(e: EValue, masked: bool) -> EValueRow:
    if masked:
        return EValueRow(measure=e.measure, conversion=e.conversion, estimate=None, lower=None, upper=None, rr=None,
                         rr_lower=None, rr_upper=None, point=None, ci=None, masked=True)
    return EValueRow(measure=e.measure, conversion=e.conversion, estimate=_num(e.estimate), lower=_num(e.lower),
                     upper=_num(e.upper), rr=_num(e.rr), rr_lower=_num(e.rr_lower), rr_upper=_num(e.rr_upper),
                     point=_num(e.point), ci=_num(e.ci))


def _aligned(cohort: pd.DataFrame, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame``'s ``columns`` on the cohort's rows, in cohort order."""
    keyed = cohort[KEYS].astype({"matched_set": np.int64}).reset_index(drop=True)
    other = frame[KEYS + columns].astype({"matched_set": np.int64})
    out = keyed.merge(other, on=KEYS, how="left", validate="one_to_one")
    out["weight"] = cohort["weight"].to_numpy(dtype=float)
    return out


def _comparison(rows: pd.DataFrame, study, outcome: str) -> tuple[Comparison, pd.Series]:
    """The headline comparison of one outcome at one horizon (``rows`` of evaluate_outcomes)."""
    table = outcome_table(rows, study, primary=outcome)
    r = table.iloc[0]
    m = study.study.min_cell
    masked = disclosure.comparison_unsafe(r["n_int"], r["N_int"], r["n_ctl"], r["N_ctl"], m)
    comp = Comparison(n_int=_count(r["n_int"], m), N_int=_count(r["N_int"], m), n_ctl=_count(r["n_ctl"], m),
                      N_ctl=_count(r["N_ctl"], m),
                      rd=_effect(r["headline_rd"], r["headline_lower"], r["headline_upper"], r["p_value"], masked))
    return comp, r


def _hr_effect(tte: pd.DataFrame, study, min_cell: int) -> tuple[Effect, int, int]:
    ev = {g: int(((tte["group"] == g) & (tte["event"] == SELF_SUPPORT)).sum()) for g in ("intervention", "control")}
    masked = disclosure.events_unsafe(ev["intervention"], ev["control"], min_cell)
    row = cox_intervention(tte, method=study.survival.cox_method).row("intervention")
    return _effect(row["hr"], row["hr_low"], row["hr_high"], row["p"], masked), ev["intervention"], ev["control"]


def _label(en: str, da: str) -> Labels:
    return Labels(en=en, da=da)


def horizon_of(study, key: str | None, where: str) -> Horizon:
    """The horizon ``key`` of ``outcomes.horizons`` (None: the first).

    Raises
    ------
    ValueError
        When the study has no such horizon (the message names the key of the study YAML).
    """
    for h in study.outcomes.horizons:
        if key is None or h.key == key:
            return h
    raise ValueError(f"{where}: {key!r} is not one of outcomes.horizons {[h.key for h in study.outcomes.horizons]}")


# --------------------------------------------------------------------------- the analyses


def placebo(study, cohort: pd.DataFrame, data: dict) -> Placebo:
    """The headline estimators with the index week moved ``robustness.placebo.shift_weeks`` earlier."""
    cfg = study.robustness.placebo
    m = study.study.min_cell
    pseudo = cohort.copy()
    pseudo["index_week"] = pseudo["index_week"].astype(np.int64) - cfg.shift_weeks
    weekly = data["weekly"]
    early = pseudo.loc[pseudo["index_week"] < weekly.first_week, "matched_set"].unique()
    keep = ~pseudo["matched_set"].isin(early)
    pseudo = pseudo[keep].reset_index(drop=True)
    if pseudo.empty:  # every pseudo-index lies before the data: nothing to compare
        none = _effect(None, None, None)
        return Placebo(shift_weeks=cfg.shift_weeks, horizon_weeks=cfg.horizon_weeks, n_sets=0,
                       sets_dropped=int(len(early)), outcome=Comparison(n_int=0, N_int=0, n_ctl=0, N_ctl=0, rd=none),
                       events_int=0, events_ctl=0, hr=none)
    shifted = study.model_copy(deep=True)
    shifted.outcomes.horizons = [Horizon(key=PLACEBO_HORIZON, weeks=cfg.horizon_weeks,
                                         label=_label("Placebo", "Placebo"))]
    cap = cfg.shift_weeks - 1  # censored the week before the real index week
    shifted.survival.max_weeks = min(cap, study.survival.max_weeks or cap)
    rows = evaluate_outcomes(pseudo, weekly, data["monthly"], data["events"], shifted)
    comp, _ = _comparison(rows[rows["outcome"] == study.outcomes.primary], shifted, study.outcomes.primary)
    tte = time_to_event(pseudo, weekly, data["monthly"] if requires_employment(study) else None, shifted)
    hr, e_int, e_ctl = _hr_effect(tte, study, m)
    return Placebo(shift_weeks=cfg.shift_weeks, horizon_weeks=cfg.horizon_weeks,
                   n_sets=int(pseudo["matched_set"].nunique()), sets_dropped=int(len(early)), outcome=comp,
                   events_int=_count(e_int, m), events_ctl=_count(e_ctl, m), hr=hr)


def negative_control(study, cohort: pd.DataFrame, data: dict) -> NegativeControl:
    """The headline difference of the study's negative-control outcome."""
    cfg = study.robustness.negative_control
    horizon = horizon_of(study, cfg.horizon, "robustness.negative_control.horizon")
    nc = study.model_copy(deep=True)
    nc.outcomes.definitions = {NEGATIVE_CONTROL: cfg.definition}
    nc.outcomes.horizons = [horizon]
    nc.outcomes.primary = NEGATIVE_CONTROL
    rows = evaluate_outcomes(cohort, data["weekly"], data["monthly"], data["events"], nc)
    comp, _ = _comparison(rows, nc, NEGATIVE_CONTROL)
    return NegativeControl(label_en=cfg.definition.label.en, label_da=cfg.definition.label.da, horizon=horizon.key,
                           horizon_weeks=int(horizon.weeks), outcome=comp)


def subgroups(study, cohort: pd.DataFrame, outcome: pd.DataFrame, tte: pd.DataFrame | None):
    """Unmasked subgroup rows and the interaction tests of every pre-declared subgroup."""
    tables, tests = [], []
    method = study.survival.cox_method
    for name in study.robustness.heterogeneity.subgroups:
        levels = het.subgroup_levels(cohort, name)
        tables.append(het.subgroup_table(outcome, tte, levels, name, cox_method=method))
        valid = outcome["value"].notna().to_numpy()
        v = outcome[valid]
        f = het.interaction_rd(v["value"], v["group"] == "intervention", v["weight"],
                               analysis_clusters(v["matched_set"], v["person_id"]), levels[valid])
        h = het.interaction_hr(tte, levels.to_numpy(), method) if tte is not None else (math.nan, 0, math.nan)
        tests.append((name, int(levels.nunique()), f, h))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=het.SUBGROUP_COLUMNS), tests


def _subgroup_rows(shown: pd.DataFrame) -> list[SubgroupRow]:
    def c(x):
        return x if isinstance(x, str) else (None if pd.isna(x) else int(x))

    return [SubgroupRow(subgroup=r["subgroup"], level=r["level"],
                        **{k: c(r[k]) for k in disclosure.SUBGROUP_COUNTS},
                        **{k: _num(r[k]) for k in disclosure.SUBGROUP_ESTIMATES}, masked=r["masked"])
            for r in shown.to_dict("records")]


def _interactions(tests, shown: pd.DataFrame) -> list[Interaction]:
    out = []
    for name, n_levels, (f, f_df, f_p), (chi, c_df, c_p) in tests:
        hidden = bool((shown.loc[shown["subgroup"] == name, "masked"] != "").any())  # a masked level hides the tests
        out.append(Interaction(subgroup=name, levels=n_levels, rd_statistic=None if hidden else _num(f), rd_df=f_df,
                               rd_p=None if hidden else _num(f_p), hr_statistic=None if hidden else _num(chi),
                               hr_df=c_df, hr_p=None if hidden else _num(c_p)))
    return out


def run(study, *, write: bool = True) -> RobustnessResult:
    """Every robustness analysis the study switches on (module docstring).

    Raises
    ------
    ValueError
        When the study switched the stage off (``robustness.enabled: false``).
    """
    cfg = study.robustness
    if not cfg.enabled:
        raise ValueError(f"{study.name}: robustness.enabled is false in the study YAML; the stage does not run")
    m = study.study.min_cell
    outcomes = OutcomesResult.load(study)
    survival = SurvivalResult.load(study)
    primary = study.outcomes.primary
    horizon = horizon_of(study, cfg.horizon, "robustness.horizon")
    cohort = store.load_cohort(study).reset_index(drop=True)
    head = outcomes.row(primary, horizon.key)
    person = pd.read_parquet(study.processed_dir / "outcomes_person.parquet")
    person = person[(person["outcome"] == primary) & (person["horizon"] == horizon.key)]
    outcome = _aligned(cohort, person, ["value"])
    tte_file = study.processed_dir / TTE_FILE
    tte = _aligned(cohort, pd.read_parquet(tte_file), ["duration", "event"]) if tte_file.exists() else None
    valid = outcome.dropna(subset=["value"])
    treated = valid["group"] == "intervention"
    clusters = analysis_clusters(valid["matched_set"], valid["person_id"])
    head_masked = bool(head.masked_int or head.masked_ctl) or head.headline_rd is None

    matched_rd = _effect(head.headline_rd, head.headline_lower, head.headline_upper, head.p_value, head_masked)
    matched_hr = _effect(survival.hr, survival.hr_ci_low, survival.hr_ci_high, survival.hr_p)
    adjusted_rd = adjusted_hr = None
    names: list[str] = []
    dropped: list[str] = []
    covariates = list(dict.fromkeys([*study.matching.covariates, *study.matching.exact]))
    if cfg.doubly_robust:
        rows = cohort.loc[valid.index]
        base = np.column_stack([np.ones(len(valid)), treated.to_numpy(dtype=float)])
        design = dr.covariate_matrix(rows, covariates, base=base)
        names, dropped = design.names, design.dropped
        res = dr.adjusted_risk_difference(valid["value"], treated, valid["weight"], clusters, design.matrix, names)
        adjusted_rd = _effect(res.estimate.estimate, res.estimate.lower, res.estimate.upper, res.pvalue, head_masked)
        if tte is not None:
            usable = [c for c in covariates if c not in dropped and cohort[c].notna().all()]
            row = cox_intervention(tte, cohort, adjust_for=usable, method=study.survival.cox_method).row("intervention")
            adjusted_hr = _effect(row["hr"], row["hr_low"], row["hr_high"], row["p"], survival.hr is None)
    e_rr = e_hr = None
    if cfg.evalues:
        rr = dr.weighted_risk_ratio(valid["value"], treated, valid["weight"], clusters)
        e_rr = _evalue_row(evalue_rr(rr.estimate.estimate, rr.estimate.lower, rr.estimate.upper), head_masked)
        if survival.hr is not None:
            e_hr = _evalue_row(evalue_hr(survival.hr, survival.hr_ci_low, survival.hr_ci_high, rare=False), False)

    data = {}
    if cfg.placebo.enabled or cfg.negative_control.enabled:
        persons = pd.unique(cohort["person_id"])
        data = {"weekly": store.load_weekly(study, person_ids=persons),
                "monthly": store.load_monthly(study, person_ids=persons),
                "events": store.load_form(study, "events") if study.data.forms.events else None}
    placebo_result = placebo(study, cohort, data) if cfg.placebo.enabled else None
    nc_result = negative_control(study, cohort, data) if cfg.negative_control.enabled else None

    unmasked = pd.DataFrame(columns=het.SUBGROUP_COLUMNS)
    tests: list = []
    if cfg.heterogeneity.enabled:
        unmasked, tests = subgroups(study, cohort, outcome, tte)
    shown = disclosure.mask_subgroups(unmasked, m) if len(unmasked) else unmasked.assign(masked="")

    result = RobustnessResult(
        study=study.name, primary=primary, horizon=horizon.key, horizon_weeks=int(horizon.weeks), min_cell=m,
        design=str(head.design), cox_method=survival.cox_method, matched_rd=matched_rd, adjusted_rd=adjusted_rd,
        matched_hr=matched_hr, adjusted_hr=adjusted_hr, covariates=names, covariates_dropped=dropped,
        evalue_rr=e_rr, evalue_hr=e_hr, placebo=placebo_result, negative_control=nc_result,
        subgroups=_subgroup_rows(shown), interactions=_interactions(tests, shown))
    result._subgroups_unmasked = unmasked
    if write:
        result.save(study.processed_dir)
    return result
