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
    assert "Holds: 5% vs 30% gives exact power 0.90" in row and "39 per group" in row
    en = power_report.claim_text(result, demo_study, "en").markdown
    assert "16 of 16" in en and "0.899" in en and "15 per group by arcsine against 31" in en
    pub = power_report.power_table(result, demo_study, "en")
    assert pub.check.passed and pub.frame.iloc[0]["Power, Fisher exact"] == "0.993"


def test_power_result_round_trip(demo_study):
    result = power_stage.run(demo_study, write=False)
    again = power_stage.PowerResult.from_json(result.to_json())
    assert again == result and again.curves is None and result.curves is not None
    assert again.table().equals(pw.design_power(demo_study))
