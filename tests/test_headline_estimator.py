"""The headline estimators keep their coverage of a known truth (docs/headline-estimator.md).

A few seeded replications of the simulation behind the choice of the headline
(``make simulate``, 200 replications per scenario): if a change to the matcher, the Cox
model or the outcome table made the default headline HR or RD miss the injected truth, the
coverage here collapses and the test fails.

Thresholds: with R = 40 replications per scenario a CI that covers 95 % gives a coverage
with Monte Carlo SE sqrt(0.95 x 0.05 / 40) = 0.034; the bound 0.80 is 4.4 MCSE below 0.95
(P(coverage < 0.80 | 0.95) = P(Bin(40, 0.95) <= 31) < 0.001), while a CI that covers only
70 % passes with probability P(Bin(40, 0.7) >= 32) = 0.11. Bias bounds are about 3.5 MCSE of
the mean over 40 replications (empirical SE of the log HR ~ 0.25 at 60 treated, of the RD ~ 0.07).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from scipy import stats

from simulations import dgp
from simulations.pipeline import outcome_table
from simulations.replicate import Scenario, headline, simulate_matched
from simulations.summary import performance

R = 40
SEED = 2017


@pytest.fixture(scope="module")
def truth_hr2() -> dgp.Truth:
    return dgp.calibrate(2.0, n=200_000, seed=11)


def test_cox_binary_matches_lifelines():
    # the calibration's fast Cox fit against lifelines on continuous times (no ties)
    rng = np.random.default_rng(3)
    n = 800
    z = (rng.random(n) < 0.4).astype(float)
    t = rng.exponential(1 / (0.01 * np.exp(0.7 * z)))
    c = rng.uniform(20, 200, n)
    time, event = np.minimum(t, c), (t <= c).astype(int)
    cph = CoxPHFitter().fit(pd.DataFrame({"t": time, "e": event, "z": z}), "t", "e")
    assert dgp.cox_binary(time, event, z) == pytest.approx(float(cph.params_["z"]), abs=1e-6)


def test_calibration_gives_the_target_marginal_hazard_ratio(truth_hr2):
    # beta calibrated on one sample; the marginal HR among the treated on an independent
    # sample of 200,000 treated persons with both potential outcomes is the target
    po = dgp._potential_outcomes(seed=12345, n=200_000, design=dgp.Design())
    got = dgp.marginal_log_hr(truth_hr2.beta, po, dgp.Design())
    assert abs(got - math.log(2.0)) < 0.05
    # non-collapsibility: the conditional HR that gives a marginal 2.0 is larger
    assert truth_hr2.beta > math.log(2.0) + 0.1
    # the null needs no effect at all, and the true RD at week 52 is then 0
    null = dgp.calibrate(1.0, n=20_000, seed=11)
    assert null.beta == 0.0 and null.rd == 0.0
    # the true RD among the treated: positive and well inside (0, 1)
    assert 0.1 < truth_hr2.rd < 0.3


@pytest.mark.parametrize("scenario", [Scenario(60, 1, False, 2.0), Scenario(60, 2, True, 2.0)],
                         ids=lambda s: s.label)
def test_headline_coverage_does_not_collapse(scenario, truth_hr2):
    rows = []
    for r in range(R):
        cohort = simulate_matched(scenario, truth_hr2.beta, SEED, r)
        for row in headline(cohort):
            row["truth"] = math.log(2.0) if row["estimand"] == "log_hr" else truth_hr2.rd
            rows.append({**row, "target_hr": 2.0, "ratio": scenario.ratio, "replace": scenario.replace,
                         "n_treated": scenario.n_treated, "control_reuse": 0.0})
    perf = performance(pd.DataFrame(rows)).set_index("estimand")
    hr, rd = perf.loc["log_hr"], perf.loc["rd"]
    assert hr["failed"] == 0 and rd["failed"] == 0
    assert hr["coverage"] >= 0.80, perf.to_dict()
    assert abs(hr["bias"]) < 0.10, perf.to_dict()
    assert rd["coverage"] >= 0.80, perf.to_dict()
    assert abs(rd["bias"]) < 0.04, perf.to_dict()


def _pairs(int_values, ctl_values) -> pd.DataFrame:
    rows = []
    for s, (a, b) in enumerate(zip(int_values, ctl_values, strict=True)):
        rows.append(dict(person_id=f"i{s}", group="intervention", matched_set=s, weight=1.0, value=float(a)))
        rows.append(dict(person_id=f"c{s}", group="control", matched_set=s, weight=1.0, value=float(b)))
    return pd.DataFrame(rows).assign(outcome="employment", horizon="FU", horizon_weeks=52)


def test_pairs_headline_is_the_pair_clustered_difference():
    # 12 pairs: differences d_g = int - ctl
    i = [1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 1, 0]
    c = [0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0]
    po = _pairs(i, c)
    r = outcome_table(po, primary="employment", headline="clustered").iloc[0]
    d = np.array(i, float) - np.array(c, float)
    g = len(d)
    # by hand: b = mean(d); CR1 variance of b with pair clusters (N = 2G rows, K = 2)
    # = sum((d - mean d)^2) / G^2 * G / (G - 1) * (2G - 1) / (2G - 2)
    var = ((d - d.mean()) ** 2).sum() / g**2 * g / (g - 1) * (2 * g - 1) / (2 * g - 2)
    q = stats.t.isf(0.025, g - 1)
    assert r["design"] == "pairs" and r["test"] == "matched-set clustered (pairs)"
    assert r["headline_rd"] == pytest.approx(d.mean()) == pytest.approx(4 / 12)  # 7 - 3 of 12 pairs
    assert (r["headline_lower"], r["headline_upper"]) == pytest.approx((d.mean() - q * var**0.5, d.mean() + q * var**0.5))
    assert r["p_value"] == pytest.approx(2 * stats.t.sf(d.mean() / var**0.5, g - 1))
    # the other analyses stay in the row; the classic rule leads with Newcombe + Fisher
    assert np.isfinite(r["p_fisher"]) and np.isfinite(r["p_mcnemar"]) and np.isfinite(r["paired_lower"])
    classic = outcome_table(po, primary="employment", headline="classic").iloc[0]
    assert classic["p_value"] == classic["p_fisher"] and classic["headline_lower"] == classic["rd_lower"]
    assert classic["test"] == "Fisher exact"
