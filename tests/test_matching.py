"""Matching against R MatchIt's published lalonde results and hand-built cases."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.cohort import balance, matching
from helpers.cohort.matching import MatchingError, match
from helpers.config.schema.cohort import MatchingConfig
from helpers.core import calendar

DATA = Path(__file__).parent / "data" / "lalonde.csv"
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


def cfg(**kw) -> MatchingConfig:
    """A MatchingConfig that skips the study-covariate name check (lalonde has other names)."""
    base = MatchingConfig().model_dump()
    base.update(kw)
    return MatchingConfig.model_construct(**base)


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    df = pd.read_csv(DATA)
    df["race"] = np.select([df["black"] == 1, df["hispan"] == 1], ["black", "hispan"], "white")
    df["person_id"] = [f"NSW{i + 1}" for i in range(len(df))]
    return df


def _balance_after(lal: pd.DataFrame, res: matching.MatchResult) -> pd.DataFrame:
    treated = lal["treat"].to_numpy() == 1
    full = lal.copy()
    full.loc[treated, "distance"] = res.distance_treated
    full.loc[~treated, "distance"] = res.distance_candidates
    after = res.cohort.assign(treat=(res.cohort["group"] == "intervention").astype(int))
    table = balance.compare_balance(full, after, ["distance", *COVS], "treat", weights_after=after["weight"].to_numpy())
    after = table[table["sample"] == "after"]
    return after.assign(level=after["level"].fillna("")).set_index(["variable", "level"])


@pytest.fixture(scope="module")
def nn_1to1(lalonde):
    # matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, data = lalonde,
    #         method = "nearest", distance = "glm")  -- 1:1, no caliper, no replacement, m.order "largest"
    config = cfg(method="nearest", ratio=1, caliper=None, distance="ps", covariates=COVS, order="largest")
    return match(lalonde[lalonde["treat"] == 1], lalonde[lalonde["treat"] == 0], config, seed=1, time_col=None)


# MatchIt vignette "Summary of Balance for Matched Data" (statistics.md §2b):
# variable, level, mean control after, SMD after, VR after
MATCHIT_1TO1 = [
    ("distance", "", 0.3629, 0.9739, 0.7566),
    ("age", "", 25.3027, 0.0718, 0.4568),
    ("educ", "", 10.6054, -0.1290, 0.5721),
    ("race", "black", 0.4703, 1.0259, None),
    ("race", "hispan", 0.2162, -0.6629, None),
    ("race", "white", 0.3135, -0.7296, None),
    ("married", "", 0.2108, -0.0552, None),
    ("nodegree", "", 0.6378, 0.1546, None),
    ("re74", "", 2342.1076, -0.0505, 1.3289),
    ("re75", "", 1614.7451, -0.0257, 1.4956),
]


def test_matchit_nearest_1to1_balance(lalonde, nn_1to1):
    after = _balance_after(lalonde, nn_1to1)
    for var, level, mean_c, smd, vr in MATCHIT_1TO1:
        row = after.loc[(var, level)]
        assert row["mean_control"] == pytest.approx(mean_c, abs=5e-5), var
        assert row["smd"] == pytest.approx(smd, abs=5e-5), var
        if vr is not None:
            assert row["var_ratio"] == pytest.approx(vr, abs=5e-5), var
    assert after.loc[("age", ""), "mean_treated"] == pytest.approx(25.8162, abs=5e-5)
    assert after.loc[("re74", ""), "mean_treated"] == pytest.approx(2095.5737, abs=5e-5)


def test_matchit_nearest_1to1_sample_sizes(nn_1to1):
    s = nn_1to1.summary
    assert s["n_treated_matched"] == 185
    assert s["n_controls_unique"] == 185
    assert s["n_candidate_persons"] - s["n_controls_unique"] == 244
    assert (nn_1to1.cohort["weight"] == 1.0).all()
    assert nn_1to1.cohort.groupby("matched_set").size().eq(2).all()


def test_matchit_ratio2_caliper(lalonde):
    # MatchIt README (4.x): matchit(treat ~ age + educ + race + married + nodegree + re74 + re75,
    # data = lalonde, ratio = 2, caliper = .025) -> caliper 0.007 on the PS; Matched: 132 control,
    # 102 treated; ESS 119.59; Summary of Balance for Matched Data (weighted):
    config = cfg(method="nearest", ratio=2, caliper=0.025, distance="ps", covariates=COVS, order="largest")
    res = match(lalonde[lalonde["treat"] == 1], lalonde[lalonde["treat"] == 0], config, seed=1, time_col=None,
                allow_unmatched=True)
    s = res.summary
    assert round(s["caliper"], 3) == 0.007
    assert s["n_treated_matched"] == 102 and s["n_controls_unique"] == 132
    assert s["n_unmatched"] == 83 and s["n_unmatched_caliper"] == 83
    assert s["ess_control"] == pytest.approx(119.59, abs=0.005)
    after = _balance_after(lalonde, res)
    expected = [  # variable, level, mean treated, mean control, SMD, VR
        ("distance", "", 0.4962, 0.4937, 0.0115, 1.0104),
        ("age", "", 25.3627, 25.5637, -0.0281, 0.4399),
        ("educ", "", 10.2549, 10.4216, -0.0829, 0.6076),
        ("race", "black", 0.7157, 0.7157, 0.0, None),
        ("married", "", 0.2059, 0.2157, -0.0250, None),
        ("nodegree", "", 0.6765, 0.6422, 0.0755, None),
        ("re74", "", 2409.1384, 2573.6987, -0.0337, 1.4815),
        ("re75", "", 1704.2015, 1721.3424, -0.0053, 1.6335),
    ]
    for var, level, mt, mc, smd, vr in expected:
        row = after.loc[(var, level)]
        assert row["mean_treated"] == pytest.approx(mt, abs=5e-5), var
        assert row["mean_control"] == pytest.approx(mc, abs=5e-5), var
        assert row["smd"] == pytest.approx(smd, abs=5e-5), var
        if vr is not None:
            assert row["var_ratio"] == pytest.approx(vr, abs=5e-5), var
    # a treated person with 2 controls gives each weight 1/2; with 1 control, weight 1
    sizes = res.cohort[res.cohort["group"] == "control"].groupby("matched_set")["weight"].agg(["size", "first"])
    assert np.allclose(sizes["first"], 1 / sizes["size"])


def test_caliper_too_tight_raises_with_counts_not_ids(lalonde):
    config = cfg(method="nearest", ratio=1, caliper=0.0001, distance="ps", covariates=COVS)
    with pytest.raises(MatchingError) as err:
        match(lalonde[lalonde["treat"] == 1], lalonde[lalonde["treat"] == 0], config, seed=1, time_col=None)
    msg = str(err.value)
    assert "of 185 intervention persons have no matching control" in msg
    assert "within the caliper" in msg and "matching.caliper" in msg
    assert "NSW" not in msg


# ---------------------------------------------------------------------------- exact / risk sets
W1 = calendar.dream_week_from_iso(2017, 1)
W2 = W1 + 3


def _treated() -> pd.DataFrame:
    return pd.DataFrame({"person_id": ["t1", "t2", "t3"], "index_week": [W1, W1, W2],
                         "age": [25.0, 45.0, 25.0], "sex": [1, 2, 1]})


def _candidates() -> pd.DataFrame:
    # c1..c4 eligible at W1, c5/c6 at W2; c1 also at W2 (same person, two risk sets)
    return pd.DataFrame({
        "person_id": ["c1", "c2", "c3", "c4", "c5", "c6", "c1"],
        "index_week": [W1, W1, W1, W1, W2, W2, W2],
        "age": [26.0, 28.0, 44.0, 47.0, 27.0, 60.0, 26.0],
        "sex": [1, 1, 2, 2, 1, 1, 1],
    })


EXACT = dict(method="exact", strata={"age": [18, 30, 50, 66]}, exact=["sex"])


def test_exact_matching_respects_strata_weeks_and_no_reuse():
    res = match(_treated(), _candidates(), MatchingConfig(**EXACT), seed=7)
    coh = res.cohort
    pairs = coh.pivot_table(index="matched_set", columns="group", values="person_id", aggfunc="first")
    assert pairs.loc[1, "intervention"] == "t1" and pairs.loc[1, "control"] in {"c1", "c2"}
    assert pairs.loc[2, "control"] in {"c3", "c4"}
    # t3 (week W2, age 18-30, male): candidates c5 and c1 (at W2), unless c1 was used for t1
    assert pairs.loc[3, "control"] in {"c5", "c1"}
    assert coh.loc[coh["group"] == "control", "person_id"].is_unique
    for _, row in coh[coh["group"] == "control"].iterrows():
        t = coh[(coh["matched_set"] == row["matched_set"]) & (coh["group"] == "intervention")].iloc[0]
        assert row["index_week"] == t["index_week"]


def test_same_seed_same_cohort_and_seed_matters():
    cands = pd.concat([_candidates()] + [
        pd.DataFrame({"person_id": [f"x{i}"], "index_week": [W1], "age": [20.0 + i % 9], "sex": [1]}) for i in range(30)
    ], ignore_index=True)
    a = match(_treated(), cands, MatchingConfig(**EXACT), seed=11).cohort
    b = match(_treated(), cands, MatchingConfig(**EXACT), seed=11).cohort
    pd.testing.assert_frame_equal(a, b)
    draws = {tuple(match(_treated(), cands, MatchingConfig(**EXACT), seed=s).cohort["person_id"]) for s in range(8)}
    assert len(draws) > 1


def test_ratio_two_weights_and_exhaustion():
    config = MatchingConfig(**EXACT, ratio=2, allow_unmatched=True)
    res = match(_treated(), _candidates(), config, seed=3)
    ctrl = res.cohort[res.cohort["group"] == "control"]
    assert set(ctrl.loc[ctrl["matched_set"] == 1, "person_id"]) == {"c1", "c2"}
    assert (ctrl.loc[ctrl["matched_set"] == 1, "weight"] == 0.5).all()
    # t3 at W2: c1 is used (set 1), c5 is left -> one control with weight 1
    assert ctrl.loc[ctrl["matched_set"] == 3, "person_id"].tolist() == ["c5"]
    assert ctrl.loc[ctrl["matched_set"] == 3, "weight"].tolist() == [1.0]
    assert res.summary["n_sets_short"] == 1


def test_replacement_reuses_controls():
    treated = pd.DataFrame({"person_id": ["t1", "t2"], "index_week": [W1, W1], "age": [25.0, 26.0], "sex": [1, 1]})
    cands = pd.DataFrame({"person_id": ["c1"], "index_week": [W1], "age": [27.0], "sex": [1]})
    with pytest.raises(MatchingError, match="already used"):
        match(treated, cands, MatchingConfig(**EXACT), seed=1)
    res = match(treated, cands, MatchingConfig(**EXACT, replace=True), seed=1)
    assert (res.cohort.loc[res.cohort["group"] == "control", "person_id"] == "c1").sum() == 2
    assert res.summary["n_controls_unique"] == 1


def test_no_candidates_message_names_weeks_and_strata():
    treated = pd.DataFrame({"person_id": ["t1", "t2"], "index_week": [W1, W2], "age": [62.0, 25.0], "sex": [2, 1]})
    cands = pd.DataFrame({"person_id": ["c1"], "index_week": [W2], "age": [27.0], "sex": [1]})
    with pytest.raises(MatchingError) as err:
        match(treated, cands, MatchingConfig(**EXACT), seed=1)
    msg = str(err.value)
    assert "1 of 2 intervention persons" in msg
    assert "week 2017-W01" in msg and "age 50-<66" in msg and "sex=2" in msg
    assert "t1" not in msg and "c1" not in msg
    res = match(treated, cands, MatchingConfig(**EXACT, allow_unmatched=True), seed=1)
    assert res.unmatched["reason"].tolist() == ["no_candidates"]
    assert res.summary["n_treated_matched"] == 1


def test_outside_strata_and_missing_covariates():
    treated = pd.DataFrame({"person_id": ["t1"], "index_week": [W1], "age": [70.0], "sex": [1]})
    res = match(treated, _candidates(), MatchingConfig(**EXACT, allow_unmatched=True), seed=1)
    assert res.unmatched["reason"].tolist() == ["outside_strata"]
    bad = _candidates().assign(age=[np.nan, 1, 2, 3, 4, 5, 6])
    with pytest.raises(MatchingError, match="missing value"):
        match(_treated(), bad, MatchingConfig(method="nearest", covariates=["age", "sex"]), seed=1)
    with pytest.raises(MatchingError, match="no intervention persons"):
        match(_treated().iloc[:0], _candidates(), MatchingConfig(**EXACT), seed=1)


def test_nearest_within_risk_set_and_exact_variable():
    rng = np.random.default_rng(0)
    n = 400
    cands = pd.DataFrame({"person_id": [f"c{i}" for i in range(n)], "index_week": rng.choice([W1, W2], n),
                          "age": rng.uniform(18, 65, n), "sex": rng.integers(1, 3, n)})
    treated = pd.DataFrame({"person_id": [f"t{i}" for i in range(20)], "index_week": rng.choice([W1, W2], 20),
                            "age": rng.uniform(30, 65, 20), "sex": rng.integers(1, 3, 20)})
    config = MatchingConfig(method="nearest", ratio=1, caliper=0.2, exact=["sex"], covariates=["age", "sex"])
    res = match(treated, cands, config, seed=1)
    coh = res.cohort
    t = coh[coh["group"] == "intervention"].set_index("matched_set")
    c = coh[coh["group"] == "control"].set_index("matched_set")
    assert (t["index_week"] == c["index_week"]).all()
    assert (t["sex"] == c["sex"]).all()
    assert (np.abs(t["distance"] - c["distance"]) <= res.summary["caliper"]).all()
    # caliper = 0.2 SD of the logit PS over all rows
    all_d = np.r_[res.distance_treated, res.distance_candidates]
    assert res.summary["caliper"] == pytest.approx(0.2 * np.std(all_d, ddof=1))


def test_perfect_separation_is_a_clear_error():
    treated = pd.DataFrame({"person_id": ["t1", "t2", "t3"], "index_week": [W1] * 3, "age": [60.0, 61.0, 62.0], "sex": [1, 2, 1]})
    cands = pd.DataFrame({"person_id": [f"c{i}" for i in range(6)], "index_week": [W1] * 6,
                          "age": [20.0, 21, 22, 23, 24, 25], "sex": [1, 2, 1, 2, 1, 2]})
    with pytest.raises(MatchingError, match="separates"):
        match(treated, cands, MatchingConfig(method="nearest", covariates=["age", "sex"]), seed=1)


def test_module_doctest():
    assert doctest.testmod(matching).failed == 0


def test_mahalanobis_transform_matches_scipy_with_pooled_covariance():
    from scipy.spatial.distance import mahalanobis

    rng = np.random.default_rng(4)
    x = rng.normal(size=(60, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 2.0, 0.3], [0.0, 0.0, 0.7]])
    treated = np.r_[np.ones(20, bool), np.zeros(40, bool)]
    s1, s0 = np.cov(x[treated], rowvar=False), np.cov(x[~treated], rowvar=False)
    pooled = (19 * s1 + 39 * s0) / 58
    z = matching.mahalanobis_transform(x, treated)
    for i, j in [(0, 25), (3, 59), (10, 11)]:
        assert np.linalg.norm(z[i] - z[j]) == pytest.approx(mahalanobis(x[i], x[j], np.linalg.inv(pooled)))


def test_mahalanobis_nearest_picks_by_scaled_distance():
    # age spreads over decades, weeks over a few weeks: on the Mahalanobis scale a 1.5-week
    # difference costs more than a 2-year age difference, while raw (Euclidean) distance says the opposite
    grid = [(a, w) for a in (20.0, 30.0, 50.0, 60.0) for w in (98.0, 99.0, 101.0, 102.0)]
    filler = pd.DataFrame({"person_id": [f"f{i}" for i in range(len(grid))], "index_week": W1,
                           "age": [a for a, _ in grid], "weeks": [w for _, w in grid]})
    treated = pd.DataFrame({"person_id": ["t1"], "index_week": [W1], "age": [40.0], "weeks": [100.0]})
    cands = pd.concat([pd.DataFrame({"person_id": ["near_age", "far_age"], "index_week": [W1, W1],
                                     "age": [40.5, 42.0], "weeks": [101.5, 100.0]}), filler], ignore_index=True)
    config = cfg(method="nearest", distance="mahalanobis", caliper=None, covariates=["age", "weeks"], order="data")
    res = match(treated, cands, config, seed=1)
    assert res.cohort.loc[res.cohort["group"] == "control", "person_id"].item() == "far_age"
    raw = np.hypot(cands["age"] - 40.0, cands["weeks"] - 100.0)
    assert cands.loc[raw.idxmin(), "person_id"] == "near_age"
    assert res.distance_treated is None  # no propensity score needed without caliper/PS order
