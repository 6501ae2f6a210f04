"""Outcome primitives (helpers.outcomes.status) on hand-built weekly sequences with hand-computed answers."""

from __future__ import annotations

import datetime as dt
import doctest

import numpy as np
import pandas as pd
import pytest

import helpers.outcomes.spells as spells_module
import helpers.outcomes.status as status
from helpers.core import calendar
from helpers.core.codes import CodeBook
from helpers.core.store import NO_DATA, MonthlyEmployment, WeeklyStatus
from helpers.outcomes.status import (
    aligned_codes,
    aligned_employment,
    code_mask,
    exit_status_at,
    fill_gaps,
    first_exit,
    last_data_column,
    lasting_self_support,
    observed,
    run_starts,
    self_supported,
    share_of_weeks,
    spells,
    spells_table,
    state_at,
    status_at,
    weeks_by_category_per_year,
)

BOOK = CodeBook.default()
# ISO 2020 has 53 weeks; 2020-W49 is the index week of most hand-built persons below.
I0 = calendar.dream_week_from_iso(2020, 49)
DEC20, JAN21, FEB21 = calendar.month_index(2020, 12), calendar.month_index(2021, 1), calendar.month_index(2021, 2)


def arr(*rows):
    return np.array(rows, dtype=np.int16)


def test_doctests_in_module():
    result = doctest.testmod(status)
    assert result.attempted >= 10 and result.failed == 0


def test_doctests_of_spells_and_status_reexports_them():
    result = doctest.testmod(spells_module)
    assert result.attempted >= 3 and result.failed == 0
    # status.<name> still reaches every weekly primitive (other stages call status.run_starts etc.)
    for name in ("run_starts", "first_true", "last_true", "weeks_in", "fill_gaps", "spells_table", "spells"):
        assert getattr(status, name) is getattr(spells_module, name)
    assert set(status.__all__) <= set(dir(status))


# --------------------------------------------------------------------------- self-supported week


def test_self_supported_codes_and_extra_codes():
    codes = arr([0, 121, 122, 123, 124, 730, NO_DATA, 651, 997])
    assert self_supported(codes, BOOK).astype(int).tolist() == [[1, 1, 1, 1, 0, 0, 0, 0, 0]]
    # strict definition: only empty weeks (121-123 count only through extra_codes)
    assert self_supported(codes, BOOK, extra_codes=()).astype(int).tolist() == [[1, 0, 0, 0, 0, 0, 0, 0, 0]]
    # a study that counts SU (651) as self-support through a category override
    su = CodeBook.default({651: "self_support"})
    assert self_supported(codes, su, extra_codes=()).astype(int).tolist() == [[1, 0, 0, 0, 0, 0, 0, 1, 0]]


def test_self_supported_requires_employment_when_given():
    codes = arr([0, 0, 730, 0])
    employed = np.array([[True, False, True, True]])
    assert self_supported(codes, BOOK, employed=employed).astype(int).tolist() == [[1, 0, 0, 1]]


def test_no_week_is_self_supported_after_death_or_state_pension():
    codes = arr([0, 999, 0, 0], [0, 998, 0, 0], [0, 997, 0, 0])
    assert self_supported(codes, BOOK).astype(int).tolist() == [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 1, 1]]


def test_code_mask_ignores_codes_outside_the_table():
    lookup = np.zeros(1000, dtype=bool)
    lookup[[0, 730]] = True
    assert code_mask(np.array([[730, 1234, -1, 0]]), lookup).astype(int).tolist() == [[1, 0, 0, 1]]


# --------------------------------------------------------------------------- runs


def test_gap_shorter_than_n_does_not_bridge_a_run():
    # 3 self-supported, 1 benefit week, 4 self-supported
    mask = self_supported(arr([0, 0, 0, 730, 0, 0, 0, 0]), BOOK)
    assert run_starts(mask, 4).tolist() == [4]
    assert run_starts(mask, 3).tolist() == [0]
    assert run_starts(mask, 5).tolist() == [-1]


def test_run_cut_by_end_of_data_does_not_count():
    codes = arr([730, 0, 0, 0, NO_DATA, NO_DATA], [730, 0, 0, 0, 0, NO_DATA])
    mask = self_supported(codes, BOOK)
    assert run_starts(mask, 4).tolist() == [-1, 1]
    assert run_starts(mask, 3).tolist() == [1, 1]
    assert last_data_column(codes).tolist() == [3, 4]


def test_run_starts_matches_a_plain_loop_on_random_masks():
    rng = np.random.default_rng(11)
    mask = rng.random((300, 40)) < 0.7

    def naive(row, n):
        for j in range(len(row) - n + 1):
            if row[j:j + n].all():
                return j
        return -1

    for n in (1, 3, 6):
        assert run_starts(mask, n).tolist() == [naive(r, n) for r in mask]


# --------------------------------------------------------------------------- NO_DATA padding


def test_aligned_pads_with_no_data_and_primitives_ignore_it():
    ws = WeeklyStatus(np.array(["a", "b"]), 100, arr([730, 0, 0, 0], [0, 730, 0, 999]))
    codes = ws.aligned(np.array([0, 1]), np.array([101, 99]), -1, 4)
    # row a: weeks 100..104 -> 730 0 0 0 NO_DATA; row b: weeks 98..102 -> NO_DATA NO_DATA 0 730 0
    assert codes.tolist() == [[730, 0, 0, 0, -1], [-1, -1, 0, 730, 0]]
    assert self_supported(codes, BOOK).astype(int).tolist() == [[0, 1, 1, 1, 0], [0, 0, 1, 0, 1]]
    assert last_data_column(codes).tolist() == [3, 4]
    # share self-supported among observed weeks: 3/4 and 2/3
    np.testing.assert_allclose(share_of_weeks(self_supported(codes, BOOK), observed(codes)), [0.75, 2 / 3])
    assert exit_status_at(codes, 4).tolist() == ["none", "none"]


def test_aligned_codes_equals_weekly_aligned():
    rng = np.random.default_rng(3)
    ws = WeeklyStatus(np.arange(50).astype(str), 500, rng.choice(np.array([0, 730, 771, 999], dtype=np.int16),
                                                                  size=(50, 40)))
    rows = rng.integers(0, 50, 120)
    index_weeks = rng.integers(480, 560, 120)  # some before, some after the held weeks
    def gathered(start, stop):  # reference: one fancy-indexing gather over every element
        cols = (index_weeks - ws.first_week)[:, None] + np.arange(start, stop)[None, :]
        inside = (cols >= 0) & (cols < ws.n_weeks)
        return np.where(inside, ws.codes[rows[:, None], np.clip(cols, 0, ws.n_weeks - 1)], -1).astype(np.int16)

    for start, stop in ((0, 30), (-5, 12), (-60, -50), (3, 3)):
        np.testing.assert_array_equal(aligned_codes(ws, rows, index_weeks, start, stop), gathered(start, stop))
        np.testing.assert_array_equal(ws.aligned(rows, index_weeks, start, stop), gathered(start, stop))


def test_share_of_weeks_window_and_all_missing_row():
    codes = arr([0, 0, 730, 730, 121, 0, 0, 0], [-1, -1, -1, -1, -1, -1, -1, -1])
    window = codes[:, 2:6]  # weeks 2..5
    share = share_of_weeks(self_supported(window, BOOK), observed(window))
    assert share[0] == 0.5 and np.isnan(share[1])


# --------------------------------------------------------------------------- exits and status


def test_first_exit_and_exit_status():
    codes = arr(
        [730, 730, 999, 999, 999],  # dies in column 2
        [0, 998, 998, 998, 998],  # state pension from column 1
        [730, 997, 997, 0, 0],  # emigrates, returns in column 3
        [730, 0, 0, 0, 997],  # emigrates in the last column
        [730, 0, 0, NO_DATA, NO_DATA],
    )
    col, code = first_exit(codes)
    assert col.tolist() == [2, 1, 1, 4, -1]
    assert code.tolist() == [999, 998, 997, 997, 0]
    assert exit_status_at(codes, 1).tolist() == ["none", "state_pension", "emigrated", "none", "none"]
    assert exit_status_at(codes, 3).tolist() == ["dead", "state_pension", "none", "none", "none"]
    assert exit_status_at(codes, 4).tolist() == ["dead", "state_pension", "none", "emigrated", "none"]
    # one column per row
    assert exit_status_at(codes, np.array([1, 0, 2, 0, 0])).tolist() == [
        "none", "none", "emigrated", "none", "none"]


def test_state_at_priority_between_facts():
    codes = arr(
        [730, 730],  # benefit week with a wage in the month
        [730, 0],  # empty week with a wage
        [730, 0],  # empty week, no wage
        [999, 0],  # died before: a later empty week is still "dead"
        [730, 997],  # emigrated in the week
        [730, NO_DATA],
        [730, 771],
        [730, 121],  # holiday pay from employment counts as self-support
    )
    employed = np.array([[1, 1], [1, 1], [0, 0], [1, 1], [1, 1], [1, 1], [1, 1], [0, 0]], dtype=bool)
    got = state_at(codes, 1, BOOK, employed=employed)
    assert got.tolist() == ["cash_benefit", "employed", "self_support", "dead", "emigrated", "no_data",
                            "flexjob", "self_support"]
    # a wage outranks the benefit when the analyst says so
    wage_first = ("dead", "state_pension", "no_data", "emigrated", "employed", "benefit", "self_support")
    assert state_at(codes, 1, BOOK, employed=employed, priority=wage_first)[0] == "employed"
    # without monthly data the empty week is plain self-support
    assert state_at(codes, 1, BOOK)[1] == "self_support"
    with pytest.raises(ValueError, match="unknown facts"):
        state_at(codes, 1, BOOK, priority=("dead", "working"))


def test_status_at_raw_code():
    lookup = BOOK.codes_where(categories=["flexjob"])
    codes = arr([730, 771], [771, 740], [0, NO_DATA])
    assert status_at(codes, 1, lookup).tolist() == [True, True, False]
    assert status_at(codes, np.array([1, 0, 0]), lookup).tolist() == [True, True, False]


# --------------------------------------------------------------------------- spells


def test_spells_with_gap_tolerance():
    row = np.array([1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1], dtype=bool)
    assert spells(row).values.tolist() == [[0, 1, 2], [3, 3, 1], [7, 7, 1], [10, 10, 1]]
    assert spells(row, 1).values.tolist() == [[0, 3, 4], [7, 7, 1], [10, 10, 1]]
    assert spells(row, 2).values.tolist() == [[0, 3, 4], [7, 10, 4]]
    assert spells(row, 3).values.tolist() == [[0, 10, 11]]
    assert spells(np.zeros(5, dtype=bool)).empty


def test_fill_gaps_leaves_edges_and_rows_apart():
    mask = np.array([[0, 1, 0, 0, 1, 0, 1], [1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1]], dtype=bool)
    filled = fill_gaps(mask, 2)
    assert filled.astype(int).tolist() == [[0, 1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1]]
    table = spells_table(mask, 2)
    assert table[["row", "start", "end", "weeks"]].values.tolist() == [[0, 1, 6, 6], [1, 0, 0, 1], [2, 6, 6, 1]]


def test_spells_table_matches_a_plain_loop_on_random_masks():
    rng = np.random.default_rng(5)
    mask = rng.random((200, 30)) < 0.5

    def naive(row, tol):
        out, start, last = [], None, None
        for j, v in enumerate(row):
            if not v:
                continue
            if start is not None and j - last - 1 <= tol:
                last = j
            else:
                if start is not None:
                    out.append((start, last))
                start = last = j
        if start is not None:
            out.append((start, last))
        return out

    for tol in (0, 1, 4):
        table = spells_table(mask, tol)
        expected = [(r, s, e) for r in range(len(mask)) for s, e in naive(mask[r], tol)]
        assert list(zip(table["row"], table["start"], table["end"], strict=True)) == expected


# --------------------------------------------------------------------------- lasting self-support


def _store():
    """Seven persons, weeks 2020-W49 (column 0) .. 2021-W06 (column 10)."""
    codes = arr(
        [730, 0, 0, 0, 730, 0, 0, 0, 0, 730, 730],  # p0: gap shorter than N, then a run of 4 from week 5
        [730, 730, 730, 730, 730, 730, 730, 730, 0, 0, 0],  # p1: run cut by end of data (weeks 8..10)
        [730, 0, 0, 999, 999, 999, 999, 999, 999, 999, 999],  # p2: dies in week 3 before any lasting run
        [730, 997, 997, 997, 0, 0, 0, 0, 730, 730, 730],  # p3: emigrates, returns, lasting from week 4
        [730, 0, 0, 0, 0, 0, 0, 730, 730, 730, 730],  # p4: empty weeks 1..6; employed Dec only
        [0, 0, 0, 0, 730, 730, 730, 730, 730, 730, 730],  # p5: self-supported in the index week itself
        [730, 121, 0, 122, 0, 730, 730, 730, 730, 730, 730],  # p6: holiday pay counts as self-support
    )
    ids = np.array([f"p{i}" for i in range(len(codes))], dtype=object)
    return WeeklyStatus(ids, I0, codes)


def _monthly(ids, months: dict[str, list[int]]):
    """Employment degree 1.0 in the listed months (Nov 2020 .. Mar 2021), persons in reverse order."""
    first = calendar.month_index(2020, 11)
    ids = list(ids)[::-1]  # monthly rows in another order than weekly rows
    degree = np.full((len(ids), 5), np.nan, dtype=np.float32)
    for i, pid in enumerate(ids):
        for m in months.get(pid, []):
            degree[i, m - first] = 0.6
    return MonthlyEmployment(np.array(ids, dtype=object), first, degree)


def test_lasting_self_support_hand_built():
    ws = _store()
    rows = np.arange(7)
    got = lasting_self_support(ws, None, rows, np.full(7, I0), n=4)
    assert got["lasting_week"].tolist() == [5, -1, -1, 4, 1, -1, 1]
    assert got["exit_week"].tolist() == [-1, -1, 3, 1, -1, -1, -1]
    assert got["exit_code"].tolist() == [0, 0, 999, 997, 0, 0, 0]
    assert got["last_week"].tolist() == [10] * 7
    assert got["last_start_week"].tolist() == [7] * 7
    assert got["disability_pension_week"].tolist() == [-1] * 7
    assert got["person_id"].tolist() == list(ws.person_id)
    # strict definition (no holiday-pay codes): p6 has weeks 2 and 4 only
    strict = lasting_self_support(ws, None, rows, np.full(7, I0), n=4, extra_codes=())
    assert strict["lasting_week"].tolist()[6] == -1
    # n=3: p1's cut-off run is long enough; p5's run before week 4 now counts from week 1
    got3 = lasting_self_support(ws, None, rows, np.full(7, I0), n=3)
    assert got3["lasting_week"].tolist() == [1, 8, -1, 4, 1, 1, 1]


def test_lasting_self_support_employment_requirement_and_week_53():
    # 2020-W53 (column 4) has its Thursday on 31 December 2020, so it belongs to December.
    assert dt.date(2020, 12, 31).isocalendar()[:2] == (2020, 53) and dt.date(2020, 12, 31).weekday() == 3
    ws = _store()
    monthly = _monthly(ws.person_id, {"p4": [DEC20], "p0": [DEC20, JAN21, FEB21], "p3": [JAN21]})
    got = lasting_self_support(ws, monthly, np.array([4, 0, 3]), np.full(3, I0), n=4, require_employment=True)
    # p4: employed self-supported weeks 1..4 (W50..W53, all December); W01 is January -> run of exactly 4
    # p0: weeks 1-3 (Dec), benefit in week 4, weeks 5-8 (Jan) -> 5
    # p3: self-supported weeks 4-7, employed only in January (5-7): week 4 = W53 is December -> none
    assert got["lasting_week"].tolist() == [1, 5, -1]
    got5 = lasting_self_support(ws, monthly, np.array([4]), np.array([I0]), n=5, require_employment=True)
    assert got5["lasting_week"].tolist() == [-1]
    # last observed week: the monthly data end in March 2021, after the weekly data
    assert got["last_week"].tolist() == [10, 10, 10]
    with pytest.raises(ValueError, match="monthly"):
        lasting_self_support(ws, None, np.array([0]), np.array([I0]), require_employment=True)


def test_lasting_self_support_duplicate_rows_and_later_index():
    ws = _store()
    got = lasting_self_support(ws, None, np.array([0, 0]), np.array([I0, I0 + 2]), n=4)
    # p0 from week I0+2: weeks 1.. = 0, 730, 0, 0, 0, 0 -> run at week 3 (I0+5); data end at week 8
    assert got["lasting_week"].tolist() == [5, 3]
    assert got["last_week"].tolist() == [10, 8]


def test_aligned_employment_reorders_and_marks_coverage():
    ws = _store()
    monthly = _monthly(ws.person_id, {"p1": [DEC20]})
    employed, covered = aligned_employment(monthly, np.array(["p1", "p0"], dtype=object), np.array([I0, I0]), -2, 11)
    # weeks I0-2 (W47, Nov) .. I0+10 (W06, Feb): December = weeks 0..4
    assert employed[0].astype(int).tolist() == [0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert not employed[1].any()
    assert covered.all()
    with pytest.raises(KeyError, match="monthly"):
        aligned_employment(monthly, np.array(["nobody"], dtype=object), np.array([I0]), 0, 2)


# --------------------------------------------------------------------------- weeks per category and year


def test_weeks_by_category_per_year_across_week_53():
    start = calendar.dream_week_from_iso(2020, 1)
    # weeks 0..9 cash benefit, 10..51 empty, week 52 = 2020-W53 sickness, 53..80 flexjob, data end at 80
    row = np.array([730] * 10 + [0] * 42 + [890] + [771] * 28, dtype=np.int16)
    assert calendar.iso_from_dream_week(start + 52) == (2020, 53)
    assert calendar.iso_from_dream_week(start + 53) == (2021, 1)
    ws = WeeklyStatus(np.array(["a"], dtype=object), start, row[None, :])
    got = weeks_by_category_per_year(ws, np.array([0, 0]), np.array([start, start + 1]), 2, BOOK)
    assert len(got) == 2 * 2 * 14
    wide = got.pivot_table(index=["unit", "year"], columns="category", values="weeks")
    assert wide.loc[(0, 1)].to_dict() == {**dict.fromkeys(wide.columns, 0), "cash_benefit": 10, "self_support": 42}
    assert wide.loc[(0, 2)].to_dict() == {**dict.fromkeys(wide.columns, 0), "sickness": 1, "flexjob": 28,
                                          "no_data": 23}
    # the same person from one week later: one cash-benefit week fewer, the sickness week moves to year 1
    assert wide.loc[(1, 1)][["cash_benefit", "self_support", "sickness"]].tolist() == [9, 42, 1]
    assert wide.loc[(1, 2)][["flexjob", "no_data"]].tolist() == [28, 24]
    assert (got.groupby(["unit", "year"])["weeks"].sum() == 52).all()
    assert set(got["person_id"]) == {"a"} and got["index_week"].tolist()[:1] == [start]
    assert isinstance(got, pd.DataFrame) and got["year"].tolist()[:14] == [1] * 14
