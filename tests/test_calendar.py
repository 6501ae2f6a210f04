"""DREAM calendar: DREAM week <-> ISO year/week <-> Monday <-> month, at the edges.

References (docs/sources.md, DREAM section; copied from the project's reference notes):
- DREAM week 1 = ISO 1991-W32, Monday 5 August 1991 (Stata do-file of a DST project:
  ``local s_1991 = "05aug1991"``; LokeSonne ``script_kalender_dream.sql``: ``'1991/08/05'``).
- 53-week ISO years up to 2020: 1992, 1998, 2004, 2009, 2015, 2020 (Stata-DST ``global oddY``);
  2026 next (ISO calendar).
- Monday of week 1 per year as listed in the Stata-DST calendar: 30dec1991, 04jan1993,
  30dec1996, 29dec1997, 31dec2007, 29dec2008, 04jan2010, 29dec2014, 04jan2016, 02jan2017,
  30dec2019.
- A week belongs to the month of its Thursday (DREAMtoolsR ``ISOweek2date(..., 4)``, LokeSonne).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from helpers.core import calendar as cal

D = dt.date


def test_dream_week_one_is_1991_w32():
    assert cal.dream_week_from_iso(1991, 32) == 1
    assert cal.iso_from_dream_week(1) == (1991, 32)
    assert cal.monday_of_dream_week(1) == D(1991, 8, 5)
    assert cal.week_column(1991, 32) == "y_9132"
    assert cal.parse_week_column("y_9132") == (1991, 32)


def test_long_years_match_the_dst_calendar():
    long_years = [y for y in range(1991, 2031) if cal.is_long_year(y)]
    assert long_years == [1992, 1998, 2004, 2009, 2015, 2020, 2026]


@pytest.mark.parametrize("year, monday", [
    (1992, D(1991, 12, 30)), (1993, D(1993, 1, 4)), (1997, D(1996, 12, 30)), (1998, D(1997, 12, 29)),
    (2008, D(2007, 12, 31)), (2009, D(2008, 12, 29)), (2010, D(2010, 1, 4)), (2015, D(2014, 12, 29)),
    (2016, D(2016, 1, 4)), (2017, D(2017, 1, 2)), (2020, D(2019, 12, 30)),
])
def test_week_one_mondays_match_the_dst_calendar(year, monday):
    assert cal.monday_of_iso(year, 1) == monday


def test_week_53_exists_only_in_long_years():
    assert cal.monday_of_iso(2020, 53) == D(2020, 12, 28)
    assert cal.parse_week_column("y_2053") == (2020, 53)
    with pytest.raises(cal.CalendarError, match="2021 has 52 ISO weeks"):
        cal.monday_of_iso(2021, 53)
    with pytest.raises(cal.CalendarError, match="y_1953"):
        cal.parse_week_column("y_1953")
    with pytest.raises(cal.CalendarError, match="not a weekly column"):
        cal.parse_week_column("y_20w1")


def test_2026_w01_starts_in_2025():
    assert cal.monday_of_iso(2026, 1) == D(2025, 12, 29)
    week = cal.dream_week_from_iso(2026, 1)
    assert cal.monday_of_dream_week(week) == D(2025, 12, 29)
    assert cal.dream_week_of_date("2026-01-01") == week  # the Thursday
    assert cal.month_of_dream_week(week) == (2026, 1)


@pytest.mark.parametrize("year, week, month", [
    (2020, 53, (2020, 12)),  # Thursday 2020-12-31
    (2025, 1, (2025, 1)),    # Monday 2024-12-30, Thursday 2025-01-02
    (2019, 1, (2019, 1)),    # Monday 2018-12-31, Thursday 2019-01-03
    (2015, 53, (2015, 12)),  # Thursday 2015-12-31
    (2021, 1, (2021, 1)),    # Monday 2021-01-04
    (2014, 5, (2014, 1)),    # Monday 2014-01-27, Thursday 2014-01-30
    (2014, 9, (2014, 2)),    # Monday 2014-02-24, Thursday 2014-02-27 (Sunday is 2014-03-02)
])
def test_month_of_a_week_is_the_month_of_its_thursday(year, week, month):
    w = cal.dream_week_from_iso(year, week)
    assert cal.month_of_dream_week(w) == month
    assert cal.months_of_dream_weeks(np.array([w]))[0] == cal.month_index(*month)


def test_hand_counted_dream_weeks():
    # 1991 has 52 ISO weeks, so W32..W52 are DREAM weeks 1..21 and 1992-W01 is 22;
    # 1992 has 53, so 1993-W01 is 22 + 53 = 75; 2019-W01: (2018-12-31 - 1991-08-05) / 7 + 1 = 1431
    assert cal.dream_week_from_iso(1991, 52) == 21
    assert cal.dream_week_from_iso(1992, 1) == 22
    assert cal.dream_week_from_iso(1993, 1) == 75
    assert cal.dream_week_from_iso(2019, 1) == 1431
    assert cal.week_column(2017, 5) == "y_1705"
    assert cal.year_from_two_digits(91) == 1991 and cal.year_from_two_digits(8) == 2008


def test_round_trips_and_vectorised_forms_agree():
    weeks = np.arange(1, 2001)
    for w in weeks[::7]:
        y, k = cal.iso_from_dream_week(int(w))
        assert cal.dream_week_from_iso(y, k) == w
        assert cal.monday_of_dream_week(int(w)).weekday() == 0
    months = cal.months_of_dream_weeks(weeks)
    expected = [cal.month_index(*cal.month_of_dream_week(int(w))) for w in weeks]
    assert months.tolist() == expected
    dates = np.array(["1991-08-05", "1991-08-11", "1991-08-12", "NaT", "2026-01-01"], dtype="datetime64[D]")
    assert cal.dream_weeks_of_dates(dates).tolist() == [1, 1, 2, -1, cal.dream_week_from_iso(2026, 1)]


def test_window_of_columns():
    cols = cal.week_columns(2008, 2025)
    assert len(cols) == 18 * 52 + 3  # long years 2009, 2015, 2020
    assert cols[0] == "y_0801" and cols[-1] == "y_2552" and "y_2053" in cols and "y_2153" not in cols
    rng = cal.dream_week_range(2008, 2025)
    assert len(rng) == len(cols) and rng[0] == cal.dream_week_from_iso(2008, 1)
    assert [cal.parse_week_column(c) for c in cols[:2]] == [(2008, 1), (2008, 2)]
