"""Disclosure control: primary and complementary suppression, extremes, identifiers, curve steps.

Expected values are worked out by hand in the comments (DST/SDU rules: a masked cell must
not be recoverable from a shown row or column total).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import disclosure as d


def test_is_small_and_unsafe_proportion():
    assert d.is_small([0, 1, 4, 5, np.nan], 5).tolist() == [False, True, True, False, False]
    # n/N unsafe when n or N-n in 1..4: 3/50 (n small), 48/50 (N-n = 2), 0/50 and 50/50 safe
    assert d.unsafe_proportion([3, 48, 0, 50, 10], [50, 50, 50, 50, 50], 5).tolist() == [True, True, False, False, False]


def test_primary_suppression_and_derived_percentages():
    t = pd.DataFrame({"group": ["a", "b"], "n": [3, 12], "pct": [6.0, 24.0]})
    out, check = d.mask_counts(t, ["n"], 5, item="t", derived={"pct": "n"})
    assert out["n"].tolist() == ["<5", 12]
    assert out["pct"].tolist() == ["<5", 24.0]
    assert check.passed and check.masked == 1 and check.min_shown == 12


def test_complementary_suppression_rows_and_columns():
    # a  b  c | tot          primary: (r1, a) = 3
    # 3 10 12 | 25           row r1 has one masked cell -> its smallest other positive, b = 10
    # 8  9 20 | 37           column a: (r2, a) = 8; column b: (r2, b) = 9
    # 11 19 32| 62           row r2 now has two masked cells: done. 4 masked, 3 complementary.
    t = pd.DataFrame({"a": [3, 8, 11], "b": [10, 9, 19], "c": [12, 20, 32], "tot": [25, 37, 62]},
                     index=["r1", "r2", "tot"])
    mask, complementary = d.suppress(t, 5, row_total="tot", total_row="tot")
    assert {(r, c) for r in mask.index for c in mask.columns if mask.at[r, c]} == {
        ("r1", "a"), ("r1", "b"), ("r2", "a"), ("r2", "b")}
    assert complementary == 3
    # no row or column with a shown total holds exactly one masked cell
    for r in ("r1", "r2", "tot"):
        assert mask.loc[r].sum() != 1
    for c in t.columns:
        assert mask[c].sum() != 1


def test_small_row_total_is_masked_with_its_cell_and_zeros_stay():
    # 3 0 | 3: the total is itself a small count; zeros are always shown
    t = pd.DataFrame({"a": [3, 20], "b": [0, 15], "tot": [3, 35]})
    out, check = d.mask_counts(t, ["a", "b"], 5, item="t", row_total="tot")
    assert out.loc[0, "a"] == "<5" and out.loc[0, "tot"] == "<5"
    assert out.loc[0, "b"] == 0
    assert check.masked == 2 and "complementary" not in check.detail


def test_complement_in_a_row_with_a_total():
    # 3 6 9 | 18: the 3 could be recovered as 18 - 6 - 9, so the smallest other count (6) is masked
    t = pd.DataFrame({"a": [3], "b": [6], "c": [9], "tot": [18]})
    out, check = d.mask_counts(t, ["a", "b", "c"], 5, item="t", row_total="tot")
    assert out.iloc[0].tolist() == ["<5", "<5", 9, 18]
    assert "1 complementary" in check.detail and "1 sekundært" in check.detail_da


def test_row_total_without_complement_is_not_masked_needlessly():
    t = pd.DataFrame({"a": [6, 7], "b": [8, 9], "tot": [14, 16]})
    out, check = d.mask_counts(t, ["a", "b"], 5, item="t", row_total="tot")
    assert out.equals(t.astype(object)) or (out.to_numpy() == t.to_numpy()).all()
    assert check.masked == 0 and check.detail_da.startswith("alle antal")


def test_mask_counts_names_missing_columns():
    with pytest.raises(KeyError, match="n_missing"):
        d.mask_counts(pd.DataFrame({"n": [1]}), ["n_missing"], 5, item="t")


def test_check_counts():
    assert not d.check_counts([0, 2, 10], 5, item="x").passed
    ok = d.check_counts([0, "<5", 10], 5, item="x")
    assert ok.passed and ok.min_shown == 10


def test_n_pct():
    assert d.n_pct(12, 50, 5) == "12 (24.0%)"
    assert d.n_pct(3, 50, 5) == "<5"
    assert d.n_pct(47, 50, 5) == "<5"        # complement 3 is small
    assert d.n_pct(12, 50, 5, decimal_sep=",") == "12 (24,0%)"


def test_no_extremes():
    assert not d.check_no_extremes(pd.DataFrame({"Min": [1], "Median": [2]}), item="t").passed
    assert not d.check_no_extremes(pd.DataFrame({"stat": ["Maksimum"], "v": [1]}), item="t").passed
    assert not d.check_no_extremes(pd.DataFrame({"age range": [1]}), item="t").passed
    ok = pd.DataFrame({"min_cell": [5], "Mindst én hændelse": [10], "stat": ["Median (IQR)"]})
    assert d.check_no_extremes(ok, item="t").passed


def test_check_table_catches_ids_small_counts_and_extremes():
    assert not d.check_table(pd.DataFrame({"person_id": ["x"], "n": [10]}), 5, item="t").passed
    assert not d.check_table(pd.DataFrame({"group": ["a"], "n_events": [2]}), 5, item="t").passed
    assert not d.check_table(pd.DataFrame({"group": ["a"], "value": ["0113901234"]}), 5, item="t").passed
    fail = d.check_table(pd.DataFrame({"Max": [3.0]}), 5, item="t")
    assert not fail.passed and "maksimum" in fail.detail_da
    ok = d.check_table(pd.DataFrame({"group": ["a", "b"], "n": ["<5", 12], "share": [0.2, 0.3]}), 5, item="t")
    assert ok.passed and ok.min_shown == 12


@pytest.mark.parametrize("text", ["PNR 0113901234 here", "011390-1234", "id_0113901234,x", "0113901234"])
def test_cpr_shapes_are_found(text):
    found = d.find_identifiers(text)
    assert found and found[0].kind == "CPR-shaped string"
    assert "0113901234" not in found[0].excerpt and "011390-1234" not in found[0].excerpt  # redacted


@pytest.mark.parametrize("text", [
    "p = 0.0012345678",                      # decimals of a number
    "seed 20161201, cost 5914277",           # 8 and 7 digits
    "sha " + "1234567890" * 6 + "abcd",      # inside a 64-hex checksum
    "12345678901",                           # 11 digits
    "3,1234567890",                          # Danish decimals
    '<img src="data:image/png;base64,AAAA+0113901234/BBBB">',  # embedded image data
])
def test_non_identifiers_are_not_flagged(text):
    assert d.find_identifiers(text) == []


def test_pseudonyms_and_known_ids():
    assert d.find_identifiers("id a1b2c3d4e5f60718 x")[0].kind == "pseudonymised person ID"
    assert d.find_identifiers("A1B2C3D4E5F60718") == []  # upper case is not the store's format
    assert d.find_identifiers("x a1b2c3d4e5f60718", pseudonyms=False) == []
    assert d.find_identifiers("x a1b2c3d4e5f60718", pseudonyms=False, known_ids={"a1b2c3d4e5f60718"})


def test_scan_file_reads_xlsx(tmp_path):
    path = tmp_path / "t.xlsx"
    pd.DataFrame({"a": ["0113901234"]}).to_excel(path, index=False)
    assert d.scan_file(path)[0].where == "t.xlsx"


def test_km_step_times_groups_to_min_cell():
    # events 2,3 | 1,4 | 1,1 -> steps at t=2 (5 events), t=4 (5); the last 2 merge into the t=4 step -> t=6
    steps = d.km_step_times([1, 2, 3, 4, 5, 6], [2, 3, 1, 4, 1, 1], 5)
    assert steps.tolist() == [2, 6]
    assert d.km_step_times([1, 2], [1, 1], 5).tolist() == []  # fewer events than min_cell: no step at all
    with pytest.raises(ValueError, match="increasing"):
        d.km_step_times([2, 1], [1, 1], 5)


def test_step_curve_holds_flat_between_steps():
    curve = pd.Series([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4], index=[0, 1, 2, 3, 4, 5, 6])
    shown = d.step_curve(curve, [2, 6])
    assert shown.tolist() == [1.0, 1.0, 0.8, 0.8, 0.8, 0.8, 0.4]
    # each shown step reflects at least min_cell events
    assert d.check_steps([5, 7], 5, item="km").passed
    assert not d.check_steps([5, 2], 5, item="km").passed


def test_combine_and_check_compatibility():
    a = d.Check("x", "PASS", "fine")  # positional construction used by notebooks
    b = d.Check(item="x", status="FAIL", detail="bad", detail_da="dårlig")
    merged = d.combine("x", a, b)
    assert merged.status == "FAIL" and merged.detail == "bad" and merged.detail_da == "dårlig"
    assert d.combine("x", a).passed
