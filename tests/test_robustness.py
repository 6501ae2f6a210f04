"""Robustness stage (issue 17, items 3-4): E-values, the regression-adjusted estimate, the placebo index,
subgroups with interaction tests, their masking, and the study-YAML switches."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import runner
from helpers.config.schema.outcomes import OutcomeDefinition
from helpers.config.schema.robustness import PlaceboConfig, RobustnessConfig
from helpers.core.store import WeeklyStatus
from helpers.disclosure import MASK, SECONDARY_MASK
from helpers.disclosure.robustness import check_subgroups, mask_subgroups
from helpers.report import robustness as report
from helpers.report.summary import compose
from helpers.stages import robustness as stage
from helpers.stats import doubly_robust as dr
from helpers.stats import heterogeneity as het
from helpers.stats.evalue import evalue_hr, evalue_rr, hr_to_rr
from helpers.stats.survival.cox import cox_intervention
from helpers.stats.weighted import weighted_risk_difference

# --------------------------------------------------------------------------- E-values against R's EValue
# VanderWeele TJ, Ding P (2017), Ann Intern Med 167:268-274, and the R package EValue's own tests
# (github.com/mayamathur/evalue_package, EValue/tests/testthat/testthat.R: "Annals case #1",
# "Annals case #1, preventive version", "Annals, Further Examples #1", "Common HR").


def test_evalue_of_the_annals_example():
    e = evalue_rr(3.9, 1.8, 8.7)  # paper: E-value 7.26 for the estimate, 3.0 for the lower limit
    assert e.point == pytest.approx(7.26, abs=0.005)
    assert e.point == pytest.approx(3.9 + math.sqrt(3.9 * 2.9))
    assert e.ci == pytest.approx(3.0)


def test_evalue_of_a_protective_ratio_uses_the_reciprocal_and_the_upper_limit():
    e = evalue_rr(1 / 3.9, 1 / 8.7, 1 / 1.8)  # EValue: the same 7.26 and 3.0
    assert e.point == pytest.approx(3.9 + math.sqrt(3.9 * 2.9))
    assert e.ci == pytest.approx(3.0)
    e = evalue_rr(0.80, 0.71, 0.91)  # paper, further example 1: 1.81 and 1.43
    assert (round(e.point, 2), round(e.ci, 2)) == (1.81, 1.43)


def test_evalue_is_one_when_the_interval_covers_one():
    assert evalue_rr(1.3, 0.9, 1.8).ci == 1.0
    assert evalue_hr(1.32, 0.95, 1.85).ci == 1.0


def test_evalue_of_a_common_outcome_hazard_ratio():
    # EValue "Common HR": RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)); HR 1.3 (1.2-1.4)
    rr = (1 - 0.5 ** math.sqrt(1.3)) / (1 - 0.5 ** math.sqrt(1 / 1.3))
    rr_lo = (1 - 0.5 ** math.sqrt(1.2)) / (1 - 0.5 ** math.sqrt(1 / 1.2))
    e = evalue_hr(1.3, 1.2, 1.4, rare=False)
    assert e.conversion == "common"
    assert e.point == pytest.approx(rr + math.sqrt(rr * (rr - 1)))
    assert e.ci == pytest.approx(rr_lo + math.sqrt(rr_lo * (rr_lo - 1)))
    assert hr_to_rr(1.0) == pytest.approx(1.0)


def test_evalue_of_a_rare_outcome_hazard_ratio():
    # EValue::evalues.HR(0.56, 0.46, 0.69, rare = TRUE): the HR is taken as the RR, 1/0.56 -> 2.97
    e = evalue_hr(0.56, 0.46, 0.69, rare=True)
    assert round(e.point, 2) == 2.97
    assert e.ci == pytest.approx(1 / 0.69 + math.sqrt(1 / 0.69 * (1 / 0.69 - 1)))  # 2.26


def test_evalue_refuses_an_estimate_outside_its_interval():
    with pytest.raises(ValueError, match="inside its confidence interval"):
        evalue_rr(1.2, 1.3, 1.4)  # EValue: "Point estimate should be inside confidence interval"


# --------------------------------------------------------------------------- regression adjustment recovers the truth


def _imbalanced_pairs(n_pairs: int, seed: int, effect: float = 0.15, shift: float = 0.6):
    """1:1 pairs whose controls are imbalanced on a prognostic confounder x (truth: RD = effect)."""
    rng = np.random.default_rng(seed)
    x_t = rng.normal(0.5, 1.0, n_pairs)
    x_c = x_t - shift + rng.normal(0, 0.3, n_pairs)  # residual imbalance the matching left
    x = np.concatenate([x_t, x_c])
    t = np.repeat([True, False], n_pairs)
    p = np.clip(0.35 + effect * t + 0.08 * x, 0.01, 0.99)  # linear in x: the outcome model is right
    y = (rng.random(2 * n_pairs) < p).astype(float)
    sets = np.tile(np.arange(n_pairs), 2)
    return pd.DataFrame({"value": y, "treated": t, "x": x, "matched_set": sets, "weight": 1.0,
                         "person_id": [f"p{i}" for i in range(2 * n_pairs)],
                         "group": np.where(t, "intervention", "control")})


def test_regression_adjustment_removes_residual_confounding():
    d = _imbalanced_pairs(4000, seed=3)
    plain = weighted_risk_difference(d["value"], d["treated"], d["weight"], d["matched_set"])
    cov = dr.covariate_matrix(d, ["x"])
    adj = dr.adjusted_risk_difference(d["value"], d["treated"], d["weight"], d["matched_set"], cov.matrix, cov.names)
    # the plain matched difference carries the imbalance: 0.15 + 0.08 * 0.6 = 0.198
    assert plain.estimate.estimate == pytest.approx(0.198, abs=0.02)
    assert adj.estimate.estimate == pytest.approx(0.15, abs=0.015)
    assert adj.estimate.lower < 0.15 < adj.estimate.upper


def test_adjusted_difference_without_covariates_is_the_headline_estimator():
    d = _imbalanced_pairs(300, seed=5)
    plain = weighted_risk_difference(d["value"], d["treated"], d["weight"], d["matched_set"])
    same = dr.adjusted_risk_difference(d["value"], d["treated"], d["weight"], d["matched_set"])
    assert same.estimate.estimate == pytest.approx(plain.estimate.estimate)
    assert (same.estimate.lower, same.estimate.upper) == pytest.approx((plain.estimate.lower, plain.estimate.upper))
    assert same.pvalue == pytest.approx(plain.pvalue)


def test_adjusted_hazard_ratio_recovers_the_conditional_truth():
    rng = np.random.default_rng(11)
    n = 1500
    d = _imbalanced_pairs(n, seed=11)
    hazard = 0.02 * np.exp(math.log(2.0) * d["treated"] + 0.7 * d["x"])  # conditional HR 2
    time = rng.exponential(1 / hazard)
    cens = rng.uniform(20, 120, 2 * n)
    tte = d.assign(duration=np.ceil(np.minimum(time, cens)).astype(int), event=(time <= cens).astype(int))
    plain = cox_intervention(tte, method="cluster").row("intervention")
    adjusted = cox_intervention(tte, tte, adjust_for=["x"], method="cluster").row("intervention")
    assert adjusted["hr"] == pytest.approx(2.0, abs=0.15)
    assert plain["hr"] > 2.3  # the imbalance in x inflates the unadjusted marginal HR


def test_adjusted_cox_with_a_reused_control_aligns_covariates_by_row():
    tte = pd.DataFrame({"person_id": ["a", "c", "b", "c", "d", "e", "f", "g"], "matched_set": [0, 0, 1, 1, 2, 2, 3, 3],
                        "group": ["intervention", "control"] * 4, "weight": 1.0,
                        "duration": [5, 9, 7, 12, 3, 20, 8, 15], "event": [1, 1, 1, 0, 1, 1, 1, 0]})
    cohort = tte.assign(x=[0.1, 0.5, 0.3, 0.9, 0.2, 0.4, 0.6, 0.8])  # "c" has a covariate per set
    fit = cox_intervention(tte, cohort, adjust_for=["x"], method="cluster")
    assert "x" in set(fit.summary["covariate"])


def test_weighted_risk_ratio_is_the_ratio_of_weighted_shares():
    y = [1, 1, 0, 0, 1, 0, 0, 0]
    w = [1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5]
    rr = dr.weighted_risk_ratio(y, [True] * 4 + [False] * 4, w, [0, 1, 2, 3] * 2)
    assert rr.estimate.estimate == pytest.approx((1.5 / 3.0) / (1.0 / 3.0))  # hand-worked: 0.5 / (1/3)


# --------------------------------------------------------------------------- placebo under a seeded null


def _null_register(n_pairs: int, rng) -> tuple[pd.DataFrame, WeeklyStatus]:
    """Pairs whose weeks before the index follow one Markov chain for both groups (no effect, no selection)."""
    n, weeks, first = 2 * n_pairs, 120, 1000
    index = np.tile(first + 100 + rng.integers(0, 10, n_pairs), 2)
    codes = np.zeros((n, weeks), dtype=np.int16)
    state = rng.random(n) < 0.4
    for w in range(weeks):
        flip = rng.random(n) < np.where(state, 0.05, 0.04)
        state = np.where(flip, ~state, state)
        codes[:, w] = np.where(state, 0, 130)  # self-supported (empty week) or cash benefit
    codes[np.arange(n), index - first] = 130  # on benefit in the index week, as the cohort rule
    ids = np.array([f"p{i:04d}" for i in range(n)], dtype=object)
    cohort = pd.DataFrame({"person_id": ids, "group": np.repeat(["intervention", "control"], n_pairs),
                           "index_week": index, "matched_set": np.tile(np.arange(n_pairs), 2), "weight": 1.0})
    return cohort, WeeklyStatus(person_id=ids, first_week=first, codes=codes)


def test_placebo_covers_no_effect_in_a_seeded_null(demo_study):
    study = demo_study.model_copy(deep=True)
    study.outcomes.definitions = {"ss": OutcomeDefinition(label={"en": "Self-supported", "da": "Selvforsørget"},
                                                          kind="status_at", categories=["self_support"])}
    study.outcomes.primary = "ss"
    study.robustness.placebo = PlaceboConfig(shift_weeks=52, horizon_weeks=26)
    rng = np.random.default_rng(2017)
    covered_rd = covered_hr = 0
    reps = 50
    for _ in range(reps):
        cohort, weekly = _null_register(40, rng)
        p = stage.placebo(study, cohort, {"weekly": weekly, "monthly": None, "events": None})
        assert p.shift_weeks == 52 and p.n_sets == 40
        rd, hr = p.outcome.rd, p.hr
        covered_rd += rd.lower is not None and rd.lower <= 0 <= rd.upper
        covered_hr += hr.lower is not None and hr.lower <= 1 <= hr.upper
    assert covered_rd / reps >= 0.90
    assert covered_hr / reps >= 0.90


def test_placebo_finds_selection_before_the_programme(demo_study):
    """Participants self-supported more often before inclusion: the placebo must see it."""
    study = demo_study.model_copy(deep=True)
    study.outcomes.definitions = {"ss": OutcomeDefinition(label={"en": "Self-supported", "da": "Selvforsørget"},
                                                          kind="status_at", categories=["self_support"])}
    study.outcomes.primary = "ss"
    study.robustness.placebo = PlaceboConfig(shift_weeks=52, horizon_weeks=26)
    rng = np.random.default_rng(7)
    cohort, weekly = _null_register(150, rng)
    treated = np.flatnonzero(cohort["group"].to_numpy() == "intervention")
    codes = weekly.codes.copy()
    cols = cohort["index_week"].to_numpy()[treated] - weekly.first_week - 52 + 26  # the placebo horizon week
    codes[treated, cols] = np.where(rng.random(len(treated)) < 0.6, 0, 130)  # 60 % self-supported there
    weekly = WeeklyStatus(person_id=weekly.person_id, first_week=weekly.first_week, codes=codes)
    p = stage.placebo(study, cohort, {"weekly": weekly, "monthly": None, "events": None})
    assert p.outcome.rd.lower > 0


# --------------------------------------------------------------------------- subgroups and interaction tests


def _subgroup_pairs(effect_a: float, effect_b: float, seed: int, n_pairs: int = 600):
    rng = np.random.default_rng(seed)
    level = np.where(rng.random(n_pairs) < 0.5, "a", "b")
    lv = np.tile(level, 2)
    t = np.repeat([True, False], n_pairs)
    p = 0.3 + t * np.where(lv == "a", effect_a, effect_b)
    y = (rng.random(2 * n_pairs) < p).astype(float)
    return y, t, np.ones(2 * n_pairs), np.tile(np.arange(n_pairs), 2), lv


def test_interaction_test_detects_a_real_interaction_and_not_a_spurious_one():
    y, t, w, g, lv = _subgroup_pairs(0.30, 0.0, seed=1)
    _, df, p = het.interaction_rd(y, t, w, g, lv)
    assert df == 1 and p < 0.001
    y, t, w, g, lv = _subgroup_pairs(0.15, 0.15, seed=1)
    assert het.interaction_rd(y, t, w, g, lv)[2] > 0.05


def test_cox_interaction_test():
    rng = np.random.default_rng(4)
    n = 500
    lv = np.tile(np.where(rng.random(n) < 0.5, "a", "b"), 2)
    t = np.repeat([True, False], n)

    def tte_with(hr_a, hr_b):
        hazard = 0.03 * np.where(t, np.where(lv == "a", hr_a, hr_b), 1.0)
        time = rng.exponential(1 / hazard)
        return pd.DataFrame({"person_id": [f"p{i}" for i in range(2 * n)], "matched_set": np.tile(np.arange(n), 2),
                             "group": np.where(t, "intervention", "control"), "weight": 1.0,
                             "duration": np.ceil(np.minimum(time, 100)).astype(int), "event": (time <= 100).astype(int)})

    assert het.interaction_hr(tte_with(3.0, 1.0), lv)[2] < 0.001
    assert het.interaction_hr(tte_with(2.0, 2.0), lv)[2] > 0.05


def test_placebo_before_the_data_compares_nothing(demo_study):
    study = demo_study.model_copy(deep=True)
    study.robustness.placebo = PlaceboConfig(shift_weeks=520, horizon_weeks=26)
    cohort, weekly = _null_register(10, np.random.default_rng(1))
    p = stage.placebo(study, cohort, {"weekly": weekly, "monthly": None, "events": None})
    assert p.n_sets == 0 and p.sets_dropped == 10 and p.outcome.rd.estimate is None


def test_an_interaction_without_variation_gives_no_test():
    y = np.zeros(8)
    f, df, p = het.interaction_rd(y, [True, False] * 4, np.ones(8), [0, 0, 1, 1, 2, 2, 3, 3], ["a"] * 4 + ["b"] * 4)
    assert df == 1 and (math.isnan(p) or p == pytest.approx(1.0))


def test_a_matched_set_belongs_to_its_participants_subgroup():
    cohort = pd.DataFrame({"group": ["intervention", "control", "control", "intervention", "control"],
                           "matched_set": [0, 0, 0, 1, 1], "sex": [2, 1, 2, 1, 2],
                           "benefit_subcategory": ["kontanthjaelp", None, "x", "uddannelseshjaelp", "y"]})
    assert het.subgroup_levels(cohort, "sex").tolist() == ["female"] * 3 + ["male"] * 2
    assert het.subgroup_levels(cohort, "benefit_type").tolist() == ["kontanthjaelp"] * 3 + ["uddannelseshjaelp"] * 2


def test_small_subgroup_cells_are_masked_with_a_secondary_level():
    table = pd.DataFrame({
        "subgroup": ["benefit_type"] * 3, "level": ["a", "b", "c"],
        "persons_int": [30, 4, 20], "persons_ctl": [30, 4, 20], "n_int": [10, 2, 8], "N_int": [30, 4, 20],
        "n_ctl": [5, 1, 6], "N_ctl": [30, 4, 20], "rd": [0.17, 0.25, 0.1], "rd_lower": [0.0, -0.4, -0.1],
        "rd_upper": [0.3, 0.8, 0.3], "events_int": [12, 3, 9], "events_ctl": [8, 2, 7], "hr": [1.5, 1.0, 1.2],
        "hr_lower": [0.7, 0.2, 0.5], "hr_upper": [3.0, 5.0, 2.8]})
    shown = mask_subgroups(table, 5)
    assert shown["masked"].tolist() == ["", "primary", "secondary"]  # c is the smallest other level
    assert shown.loc[1, "persons_int"] == MASK.format(min_cell=5) and shown.loc[1, "n_int"] == MASK.format(min_cell=5)
    assert shown.loc[2, "persons_int"] == SECONDARY_MASK and math.isnan(shown.loc[2, "rd"])
    assert shown.loc[0, "n_int"] == 10 and shown.loc[0, "rd"] == 0.17
    assert check_subgroups(shown, 5, item="t").passed
    assert not check_subgroups(table.assign(masked=""), 5, item="t").passed


def test_a_level_at_the_threshold_is_shown():
    table = pd.DataFrame({"subgroup": ["sex"] * 2, "level": ["female", "male"], "persons_int": [5, 40],
                          "persons_ctl": [5, 40], "n_int": [5, 20], "N_int": [10, 40], "n_ctl": [0, 10],
                          "N_ctl": [5, 40], "rd": [0.5, 0.25]})
    assert mask_subgroups(table, 5)["masked"].tolist() == ["", ""]


# --------------------------------------------------------------------------- the study YAML switches


def test_switched_off_the_notebook_is_skipped_and_the_stage_refuses(demo_study):
    study = demo_study.model_copy(deep=True)
    assert "08_robustness.ipynb" not in runner.skipped_notebooks(study)
    study.robustness.enabled = False
    skipped = runner.skipped_notebooks(study)
    assert "robustness.enabled: false" in skipped["08_robustness.ipynb"][0]
    with pytest.raises(ValueError, match="robustness.enabled is false"):
        stage.run(study, write=False)
    assert report.methods_text(study, "en") == []


def test_the_yaml_section_is_validated():
    with pytest.raises(ValueError, match="smaller than"):
        PlaceboConfig(shift_weeks=26, horizon_weeks=26)
    with pytest.raises(ValueError, match="definition"):
        RobustnessConfig(negative_control={"enabled": True})
    with pytest.raises(ValueError, match="unknown subgroup"):
        RobustnessConfig(heterogeneity={"subgroups": ["height"]})
    assert RobustnessConfig(heterogeneity={"subgroups": ["age_under_50"]}).heterogeneity.subgroups == ["age_under_50"]


def test_an_unknown_horizon_is_named(demo_study):
    study = demo_study.model_copy(deep=True)
    assert stage.horizon_of(study, None, "robustness.horizon").key == study.outcomes.horizons[0].key
    assert stage.horizon_of(study, "Y5", "robustness.horizon").weeks == 312
    with pytest.raises(ValueError, match="robustness.negative_control.horizon: 'Y9'"):
        stage.horizon_of(study, "Y9", "robustness.negative_control.horizon")


def test_both_shipped_studies_switch_every_analysis_on(demo_study):
    from helpers.config import load_study

    for study in (demo_study, load_study("fundamentet")):
        cfg = study.robustness
        assert cfg.enabled and cfg.evalues and cfg.doubly_robust and cfg.placebo.enabled
        assert cfg.negative_control.enabled and cfg.heterogeneity.enabled


# --------------------------------------------------------------------------- the adjusted estimate beside the headline


def _result(**changes) -> stage.RobustnessResult:
    effect = stage.Effect
    fields = dict(study="demo", primary="employment", horizon="FU", horizon_weeks=52, min_cell=5, design="pairs",
                  cox_method="cluster", matched_rd=effect(estimate=0.18, lower=0.02, upper=0.34, p=0.03),
                  adjusted_rd=effect(estimate=0.164, lower=0.003, upper=0.326, p=0.046),
                  matched_hr=effect(estimate=1.54, lower=0.89, upper=2.65),
                  adjusted_hr=effect(estimate=1.70, lower=0.95, upper=3.05), covariates=["age"],
                  covariates_dropped=[], evalue_rr=None, evalue_hr=None, placebo=None, negative_control=None,
                  subgroups=[], interactions=[])
    return stage.RobustnessResult(**{**fields, **changes})


def test_summary_shows_the_regression_adjusted_estimate_beside_the_headline(demo_study):
    paras = compose(demo_study, "da", group_sizes=None, outcome_rows=None, survival_result=None,
                    investment_results=None, robustness_result=_result())
    line = [p for p in paras if p.startswith("Regressionsjusteret")]
    assert line == ["Regressionsjusteret for matchningsvariablerne (robusthedsafsnittet): forskel 16,4 procentpoint "
                    "(0,3 til 32,6) efter 52 uger; hazard ratio 1,70 (0,95 til 3,05)."]
    without = compose(demo_study, "en", group_sizes=None, outcome_rows=None, survival_result=None,
                      investment_results=None)
    assert not any(p.startswith("Regression-adjusted") for p in without)


def test_result_round_trips_through_json():
    r = _result()
    assert stage.RobustnessResult.from_json(r.to_json()) == r


def test_verdicts_follow_the_intervals():
    lang = "en"
    assert "Consistent" in report.adjusted_verdict(stage.Effect(estimate=0.18, lower=0.02, upper=0.34),
                                                   stage.Effect(estimate=0.16, lower=0.003, upper=0.33), 0.0, lang)
    assert "Differs" in report.adjusted_verdict(stage.Effect(estimate=0.18, lower=0.02, upper=0.34),
                                                stage.Effect(estimate=0.12, lower=-0.03, upper=0.27), 0.0, lang)
    strong = stage.EValueRow(measure="RR", conversion="none", estimate=3.9, lower=1.8, upper=8.7, rr=3.9,
                             rr_lower=1.8, rr_upper=8.7, point=7.26, ci=3.0)
    assert report.evalue_verdict(strong, lang).startswith("Only strong")
