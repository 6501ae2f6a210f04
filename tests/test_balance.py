"""Balance statistics against R MatchIt's published lalonde tables and hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.cohort import balance
from helpers.disclosure.balance import mask_balance
from helpers.report.balance import table_one

DATA = Path(__file__).parent / "data" / "lalonde.csv"
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    df = pd.read_csv(DATA)
    df["race"] = np.select([df["black"] == 1, df["hispan"] == 1], ["black", "hispan"], "white")
    return df


def _row(table: pd.DataFrame, variable: str, level: str | None = None) -> pd.Series:
    sel = table["variable"] == variable
    sel &= table["level"].isna() if level is None else table["level"] == level
    assert sel.sum() == 1
    return table[sel].iloc[0]


# MatchIt's "Summary of Balance for All Data" (ATT), published in the MatchIt vignette
# (kosukeimai/MatchIt gh-pages articles/MatchIt.md; quoted in statistics.md §2b):
# variable, level, mean treated, mean control, SMD, variance ratio
MATCHIT_ALL = [
    ("age", None, 25.8162, 28.0303, -0.3094, 0.4400),
    ("educ", None, 10.3459, 10.2354, 0.0550, 0.4959),
    ("race", "black", 0.8432, 0.2028, 1.7615, None),
    ("race", "hispan", 0.0595, 0.1422, -0.3498, None),
    ("race", "white", 0.0973, 0.6550, -1.8819, None),
    ("married", None, 0.1892, 0.5128, -0.8263, None),
    ("nodegree", None, 0.7081, 0.5967, 0.2450, None),
    ("re74", None, 2095.5737, 5619.2365, -0.7211, 0.5181),
    ("re75", None, 1532.0553, 2466.4844, -0.2903, 0.9563),
]


def test_matchit_all_data_table(lalonde):
    table = balance.balance_table(lalonde, COVS, "treat")
    for var, level, mt, mc, smd, vr in MATCHIT_ALL:
        row = _row(table, var, level)
        assert row["mean_treated"] == pytest.approx(mt, abs=5e-5)
        assert row["mean_control"] == pytest.approx(mc, abs=5e-5)
        assert row["smd"] == pytest.approx(smd, abs=5e-5), var
        if vr is None:
            assert np.isnan(row["var_ratio"])
        else:
            assert row["var_ratio"] == pytest.approx(vr, abs=5e-5), var
    assert _row(table, "race", "black")["count_treated"] == 156


def test_ate_pooled_smd_matches_matchit_and_tableone(lalonde):
    # MatchIt reference m.out4 (ATE, pooled SD) = Python tableone's SMDs (statistics.md §1.3)
    den = balance.sd_denominators(lalonde, COVS, "treat", estimand="ATE")
    table = balance.balance_table(lalonde, COVS, "treat", estimand="ATE", denominators=den)
    expected = {"age": -0.2419, "educ": 0.0448, "married": -0.7208, "nodegree": 0.2355, "re74": -0.5958, "re75": -0.2870}
    for var, smd in expected.items():
        assert _row(table, var)["smd"] == pytest.approx(smd, abs=5e-5), var


def test_weighted_variance_hand_computed():
    # w normalised = (.25, .25, .5); mean 2.75; sum w (x-m)^2 = 1.6875; 1 - sum w^2 = 0.625
    assert balance.weighted_var(np.array([1.0, 2.0, 4.0]), np.array([1.0, 1.0, 2.0])) == pytest.approx(2.7)
    x = np.array([3.0, 5.0, 10.0, 11.0])
    assert balance.weighted_var(x) == pytest.approx(np.var(x, ddof=1))
    assert balance.weighted_var(np.array([1.0, 0.0, 1.0, 1.0]), binary=True) == pytest.approx(0.75 * 0.25)
    assert balance.weighted_mean(np.array([1.0, np.nan, 3.0]), np.array([1.0, 5.0, 3.0])) == pytest.approx(2.5)


def test_weighted_smd_uses_full_sample_denominator():
    before = pd.DataFrame({"t": [1, 1, 1, 1, 0, 0, 0, 0], "x": [0.0, 2.0, 4.0, 6.0, 1.0, 1.0, 3.0, 9.0]})
    after = before.iloc[[0, 1, 2, 3, 4, 6]].copy()
    w = np.array([1, 1, 1, 1, 1.0, 3.0])
    table = balance.compare_balance(before, after, ["x"], "t", weights_after=w)
    sd_t = np.std([0, 2, 4, 6], ddof=1)
    aft = table[table["sample"] == "after"].iloc[0]
    # control weighted mean (1*1 + 3*3)/4 = 2.5; treated mean 3
    assert aft["mean_control"] == pytest.approx(2.5)
    assert aft["smd"] == pytest.approx((3 - 2.5) / sd_t)
    bef = table[table["sample"] == "before"].iloc[0]
    assert bef["smd"] == pytest.approx((3 - 3.5) / sd_t)


def test_constant_treated_covariate_falls_back_to_overall_sd():
    df = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0], "x": [52.0, 52.0, 52.0, 40.0, 52.0, 52.0]})
    table = balance.balance_table(df, ["x"], "t")
    assert table["smd"].iloc[0] == pytest.approx(4.0 / np.std(df["x"], ddof=1))
    same = pd.DataFrame({"t": [1, 1, 0, 0], "x": [5.0, 5.0, 5.0, 5.0]})
    assert balance.balance_table(same, ["x"], "t")["smd"].iloc[0] == 0.0


def test_categorical_numeric_gives_one_row_per_level():
    df = pd.DataFrame({"t": [1, 1, 0, 0, 0], "sex": [1, 2, 2, 2, 1]})
    table = balance.balance_table(df, ["sex"], "t", categorical=["sex"])
    assert table["level"].tolist() == ["1", "2"]
    female = _row(table, "sex", "2")
    assert female["mean_treated"] == 0.5 and female["mean_control"] == pytest.approx(2 / 3)
    assert female["smd"] == pytest.approx((0.5 - 2 / 3) / 0.5)


def test_bad_treatment_column():
    df = pd.DataFrame({"t": ["a", "b"], "x": [1.0, 2.0]})
    with pytest.raises(TypeError, match="0/1"):
        balance.balance_table(df, ["x"], "t")
    with pytest.raises(KeyError, match="not in the data"):
        balance.balance_table(pd.DataFrame({"t": [0, 1]}), ["x"], "t")


def test_effective_sample_size():
    assert balance.effective_sample_size(np.ones(10)) == pytest.approx(10)
    assert balance.effective_sample_size(np.array([1.0, 0.5, 0.5])) == pytest.approx(4 / 1.5)


def test_mask_balance_hides_small_levels():
    df = pd.DataFrame({"t": [1] * 20 + [0] * 20, "grp": ["a"] * 17 + ["b"] * 3 + ["a"] * 10 + ["b"] * 10})
    table = balance.balance_table(df, ["grp"], "t")
    masked, check = mask_balance(table, 5, item="x")
    assert masked["smd"].isna().all()  # b has 3 treated; a has 20 - 17 = 3 complement
    assert check.masked == 2


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n_i, n_c = 30, 40
    return pd.DataFrame({
        "group": ["intervention"] * n_i + ["control"] * n_c,
        "age": np.r_[np.arange(20, 50), np.arange(25, 65)].astype(float),
        "female": np.r_[np.ones(12), np.zeros(18), np.ones(20), np.zeros(20)],
        "benefit": ["kth"] * 26 + ["udd"] * 3 + [None] + ["kth"] * 30 + ["udd"] * 5 + ["res"] * 5,
        "x": rng.normal(size=n_i + n_c),
    })


def test_table_one_values_and_masking():
    frame = _frame()
    table, check = table_one(frame, ["age", "female", "benefit"], "group", min_cell=5)
    assert check.passed, check.detail
    cols = table.columns.tolist()
    assert cols[0] == "Characteristic" and cols[1:3] == ["intervention", "control"]
    age = table[table["Characteristic"].str.startswith("age")].iloc[0]
    # intervention ages 20..49: mean 34.5, sd = sqrt(30*31/12) = 8.803...
    assert age["intervention"] == "34.5 (8.8)"
    fem = table[table["Characteristic"].str.startswith("female")].iloc[0]
    assert fem["intervention"] == "12 (40.0%)" and fem["control"] == "20 (50.0%)"
    rows = table.set_index("Characteristic")
    # 'udd' has 3 intervention persons -> masked; missing (1) masked too; 'kth' complement is 3 -> masked
    assert rows.loc["    udd", "intervention"] == "<5"
    assert rows.loc["    kth", "intervention"] == "<5"
    assert rows.loc["benefit, n (%)", "missing (intervention)"] == "<5"
    assert rows.loc["    udd", "control"] == "5 (12.5%)"
    shown = table[["intervention", "control"]].to_numpy().ravel()
    for cell in shown:
        lead = str(cell).split(" ")[0]
        if lead.isdigit():
            assert int(lead) == 0 or int(lead) >= 5
    assert not table.apply(lambda c: c.astype(str).str.contains(r"\b(?:min|max)", case=False)).any().any()


def test_table_one_complementary_suppression_within_variable():
    frame = pd.DataFrame({"group": ["intervention"] * 20 + ["control"] * 20,
                          "cat": ["a"] * 8 + ["b"] * 9 + ["c"] * 3 + ["a"] * 10 + ["b"] * 10})
    table, check = table_one(frame, ["cat"], "group", min_cell=5)
    rows = table.set_index("Characteristic")
    # c = 3 masked; a single masked level could be recovered from N = 20 -> the smallest other (a = 8) is masked too
    assert rows.loc["    c", "intervention"] == "<5"
    assert rows.loc["    a", "intervention"] == "<5"
    assert rows.loc["    b", "intervention"] == "9 (45.0%)"
    assert check.passed


def test_table_one_danish_and_smd_column():
    frame = _frame()
    smd = pd.DataFrame({"variable": ["age"], "level": [None], "smd": [-0.51234]})
    table, _ = table_one(frame, ["age"], "group", min_cell=5, language="da", smd=smd,
                                 labels={"age": "Alder"}, group_labels={"intervention": "Indsats", "control": "Kontrol"})
    row = table[table["Karakteristik"].str.startswith("Alder")].iloc[0]
    assert row["Indsats"] == "34,5 (8,8)"
    assert row["SMD"] == "-0,512"
