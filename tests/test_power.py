"""Design power against reference values.

Numbers from statistics.md §2d (exact enumeration over all 51 x 51 outcome tables, checked
there by a 20 000-draw Monte-Carlo run, and the statsmodels approximations) and §2c (R
power.prop.test); the rejection region is also checked table by table against scipy's
fisher_exact, an independent implementation.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from helpers.report import power as power_report
from helpers.stages import power as power_stage
from helpers.stats import power as pw

# statistics.md §2d: control, intervention, arcsine power, normal-approx power, Fisher power (n = 50/group),

# n/group for 80 %: arcsine (ceil), normal approx (ceil), Fisher exact (first n)
TABLE_2D = [
    (0.00, 0.25, 0.9995, 0.9753, 0.9930, 15, 27, 31),
    (0.05, 0.35, 0.9828, 0.9733, 0.9680, 24, 27, 31),
    (0.10, 0.60, 0.9999, 0.9999, 0.9998, 13, 14, 17),
    (0.05, 0.30, 0.9431, 0.9205, 0.8987, 32, 36, 39),
    (0.10, 0.65, 1.0000, 1.0000, 1.0000, 11, 11, 13),
]


@pytest.mark.parametrize("p0, p1, arc, norm, fis, n_arc, n_norm, n_fis", TABLE_2D)
def test_power_at_50_per_group(p0, p1, arc, norm, fis, n_arc, n_norm, n_fis):
    assert round(pw.fisher_power(p0, p1, 50), 4) == fis
    assert round(pw.arcsine_power(p0, p1, 50), 4) == arc
    assert round(pw.normal_power(p0, p1, 50), 4) == norm


@pytest.mark.parametrize("p0, p1, arc, norm, fis, n_arc, n_norm, n_fis", TABLE_2D)
def test_sample_size_for_80_percent(p0, p1, arc, norm, fis, n_arc, n_norm, n_fis):
    ss = pw.fisher_sample_size(p0, p1, 0.8)
    assert ss.n_first == n_fis
    # §2d: "I also checked it stays >= 0.80 for the next 10 n"
    assert ss.n_stable == n_fis
    assert int(np.ceil(pw.arcsine_sample_size(p0, p1, 0.8))) == n_arc
    assert int(np.ceil(pw.normal_sample_size(p0, p1, 0.8))) == n_norm


def test_cohens_h():
    # §2d column "Cohen h"
    assert [round(pw.cohens_h(p0, p1), 3) for p0, p1, *_ in TABLE_2D] == [1.047, 0.815, 1.129, 0.708, 1.232]


def test_saw_tooth_zero_vs_25():
    # §2d: 0 vs 25 %: n=24 -> 0.753, n=26 -> 0.663, n=30 -> 0.797, n=31 -> 0.824
    curve = pw.power_curve(0.0, 0.25, [24, 26, 30, 31])
    assert curve["fisher"].round(3).tolist() == [0.753, 0.663, 0.797, 0.824]
    # more persons, less power: the saw-tooth the approximations do not show
    assert curve["fisher"].iloc[1] < curve["fisher"].iloc[0]
    assert (np.diff(curve["arcsine"]) > 0).all()


def test_power_prop_test_reference():
    # R: power.prop.test(n=50, p1=.5, p2=.75) -> power = 0.7401659 (statsmodels 0.7401672, §2c "≈")
    assert pw.normal_power(0.5, 0.75, 50) == pytest.approx(0.7401659, abs=2e-6)
    # R: power.prop.test(p1=.5, p2=.75, power=.9) -> n = 76.70693
    assert pw.normal_sample_size(0.5, 0.75, 0.9) == pytest.approx(76.70693, abs=1e-5)


def test_rejection_region_matches_scipy_table_by_table():
    n1, n0 = 13, 9
    region = pw.fisher_rejection_region(n1, n0, 0.05)
    for x1, x0 in itertools.product(range(n1 + 1), range(n0 + 1)):
        p = stats.fisher_exact([[x1, n1 - x1], [x0, n0 - x0]]).pvalue
        assert region[x1, x0] == (p <= 0.05), (x1, x0, p)


def test_unequal_groups_and_size_under_null():
    # with equal shares the exact test is conservative: size <= alpha
    assert pw.fisher_power(0.2, 0.2, 40, 30) <= 0.05
    # power is symmetric in which group is which when the sizes are equal
    assert pw.fisher_power(0.1, 0.4, 30) == pytest.approx(pw.fisher_power(0.4, 0.1, 30))
    with pytest.raises(ValueError, match="p_control"):
        pw.fisher_power(1.2, 0.3, 10)


def test_design_power_demo(demo_study):
    table = pw.design_power(demo_study)
    assert len(table) == len(demo_study.power.scenarios) == 16
    emp_fu = table[(table["outcome"] == "employment") & (table["horizon"] == "FU")].iloc[0]
    assert emp_fu["role"] == "primary"
    assert round(emp_fu["power_fisher"], 4) == 0.9930 and emp_fu["n_fisher"] == 31
    afk_fu = table[(table["outcome"] == "afklaret") & (table["horizon"] == "FU")].iloc[0]
    assert round(afk_fu["power_fisher"], 4) == 0.8987  # 5 % vs 30 %, §2d
    # adjusted power is below the unadjusted for secondary rows (12 secondary tests)
    sec = table[table["role"] == "secondary"]
    assert (sec["power_fisher_adjusted"] <= sec["power_fisher"] + 1e-12).all()
    result = power_stage.from_table(demo_study, table)
    v = power_report.verdicts(result, demo_study, "en")
    assert len(v) == 16 and v["verdict"].str.len().gt(20).all()
    row = v[(v["outcome"] == "afklaret") & (v["horizon"] == "FU")].iloc[0]["verdict"]
    # issue 18.6: the verdict is for the headline test of the analysed design (1:1 pairs: pair-clustered t);
    # Fisher's 0.8987 stays in the table and in the claim text as the reference
    assert "Holds: 5% vs 30% gives power 0.93 for the headline test with 50 + 50" in row and "39 per group" in row
    en = power_report.claim_text(result, demo_study, "en").markdown
    assert "16 of 16" in en and "0.899" in en and "15 per group by arcsine against 31" in en
    pub = power_report.power_table(result, demo_study, "en")
    assert pub.check.passed and pub.frame.iloc[0]["Power, Fisher exact"] == "0.993"


def test_power_result_round_trip(demo_study):
    result = power_stage.run(demo_study, write=False)
    again = power_stage.PowerResult.from_json(result.to_json())
    assert again == result and again.curves is None and result.curves is not None
    fisher = pw.design_power(demo_study)
    assert again.table()[fisher.columns.drop("claim_holds")].equals(fisher.drop(columns="claim_holds"))


# ----------------------------------------------------------------- the design that is analysed (issue 18.6)
def test_pair_variance_closed_form_is_the_stages_estimator():
    """design_power's closed-form variance equals weighted_risk_difference with pairs as clusters."""
    from helpers.stats.weighted import weighted_risk_difference

    rng = np.random.default_rng(11)
    for n in (8, 30, 50):
        y1, y0 = rng.integers(0, 2, n), rng.integers(0, 2, n)
        a, b = int(((y1 == 1) & (y0 == 0)).sum()), int(((y1 == 0) & (y0 == 1)).sum())
        res = weighted_risk_difference(np.r_[y1, y0].astype(float), np.r_[np.ones(n, bool), np.zeros(n, bool)],
                                       np.ones(2 * n), np.r_[np.arange(n), np.arange(n)])
        c = n / (n - 1) * (2 * n - 1) / (2 * n - 2)
        assert res.estimate.se ** 2 == pytest.approx(c * (a + b - (a - b) ** 2 / n) / n ** 2, rel=1e-10)


def test_pair_clustered_power_matches_a_simulation_with_the_stages_estimator():
    """Exact enumeration against a Monte Carlo of the pipeline's own test (independent check)."""
    from helpers.stats.design_power import pair_cell_probabilities, pair_clustered_power
    from helpers.stats.weighted import weighted_risk_difference

    n, p0, p1, rho, draws = 40, 0.10, 0.35, 0.2, 1500
    cells = pair_cell_probabilities(p0, p1, rho)
    rng = np.random.default_rng(2)
    treated, cluster = np.r_[np.ones(n, bool), np.zeros(n, bool)], np.r_[np.arange(n), np.arange(n)]
    hits = 0
    for _ in range(draws):
        k = rng.choice(4, size=n, p=cells)  # both, participant only, control only, neither
        y = np.r_[(k == 0) | (k == 1), (k == 0) | (k == 2)].astype(float)
        p = weighted_risk_difference(y, treated, np.ones(2 * n), cluster).pvalue
        hits += bool(np.isfinite(p) and p < 0.05)
    mc = hits / draws
    exact = pair_clustered_power(p0, p1, n, correlation=rho)
    assert abs(exact - mc) < 3.5 * np.sqrt(mc * (1 - mc) / draws)
    # a positive within-pair correlation raises the power of the paired analysis
    assert pair_clustered_power(p0, p1, n, correlation=0.4) > exact > pair_clustered_power(p0, p1, n)


def test_survival_power_is_freedmans_formula():
    """Freedman (1982), written out: power = Phi(sqrt(k m) |HR - 1| / (k HR + 1) - z_(1-alpha/2))."""
    from helpers.stats.design_power import survival_power

    sp = survival_power(100, 100, 0.3, 2.0)
    q1 = 1 - 0.7 ** 2  # 0.51 under proportional hazards
    m = 100 * q1 + 100 * 0.3  # 81 expected events
    assert sp.expected_events == pytest.approx(m)
    assert sp.power == pytest.approx(stats.norm.cdf(np.sqrt(m) * 1 / 3 - stats.norm.isf(0.025)), abs=1e-12)
    assert round(sp.power, 4) == 0.8508
    # events for power 0.8 at HR 2, equal groups: ((z_a + z_b) (HR + 1) / (HR - 1))^2 = 9 x 7.849 = 70.6
    assert round(sp.events_needed, 1) == 70.6


def test_masking_probability_is_the_binomial_chance_of_a_small_count():
    from math import comb

    from helpers.stats.design_power import masking_probability

    by_hand = sum(comb(50, x) * 0.05 ** x * 0.95 ** (50 - x) for x in range(1, 5))
    assert masking_probability(50, 0.05, 5) == pytest.approx(by_hand) and round(by_hand, 3) == 0.819
    assert masking_probability(50, 0.95, 5) == pytest.approx(by_hand)  # 1-4 persons WITHOUT the outcome


def test_verdict_flags_points_the_mask_will_hide(demo_study):
    result = power_stage.run(demo_study, write=False)
    v = power_report.verdicts(result, demo_study, "en").set_index(["outcome", "horizon"])["verdict"]
    assert ("control group is expected to have only 2.5 of 50 persons with the outcome, so the point will "
            "probably be masked (probability 82%)") in v[("employment", "Y1")]
    assert "masked" not in v[("employment", "FU")]  # 0% planned: nobody expected, 0 is shown
    claim = power_report.claim_text(result, demo_study, "en").markdown
    assert "At 5 of the planned points a group is expected to have fewer than 5 persons" in claim


def test_fundamentet_power_is_for_its_1_to_2_design():
    from helpers.config import load_study

    study = load_study("fundamentet")
    result = power_stage.from_table(study, pw.design_power(study))
    assert (result.n_per_group, result.n_control, result.design) == (96, 192, "weighted")
    assert "96 + 192" in power_report.claim_text(result, study, "da").markdown  # was "96 + 96"
    emp = result.rows[0]
    assert round(emp.power_fisher, 3) == round(pw.fisher_power(0.083, 0.20, 96, 192), 3)
    assert emp.power_fisher != pytest.approx(pw.fisher_power(0.083, 0.20, 96))


def test_planned_beside_observed_shares(demo_study):
    from types import SimpleNamespace

    row = SimpleNamespace(masked_int=False, masked_ctl=False, pct_int=28.0, pct_ctl=10.0, headline_rd=0.18,
                          headline_lower=0.02, headline_upper=0.34)
    masked = SimpleNamespace(masked_int=False, masked_ctl=True, pct_int=36.0, pct_ctl=None, headline_rd=None,
                             headline_lower=None, headline_upper=None)

    class Outcomes:
        def row(self, outcome, horizon):
            if (outcome, horizon) == ("employment", "FU"):
                return row
            if (outcome, horizon) == ("employment", "Y2"):
                return masked
            raise KeyError(outcome)

    result = power_stage.from_table(demo_study, pw.design_power(demo_study), outcomes=Outcomes())
    assert [(o.horizon, o.masked, o.planned_difference_in_ci) for o in result.observed] == [
        ("FU", False, True), ("Y2", True, None)]
    table = power_report.observed_table(result, demo_study, "en").frame
    assert table.iloc[0].tolist()[2:] == ["0% / 25%", "10% / 28%", "18.0 (2.0 to 34.0)", "yes"]
    assert table.iloc[1].tolist()[3] == "not shown (fewer than 5)"
