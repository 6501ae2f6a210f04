"""DREAM calendar: DREAM week <-> ISO year/week <-> Monday date <-> month.

DREAM counts weeks from ISO week 1991-W32 (Monday 5 August 1991), which is DREAM week 1.
Weekly columns are named ``y_YYWW`` (two-digit ISO year, two-digit ISO week); a week
belongs to the month that contains its Thursday (the ISO rule used by DREAMtoolsR and
LokeSonne's loader). Sources: ``docs/sources.md`` (DREAM section 1.4-1.5).

Examples
--------
>>> dream_week_from_iso(1991, 32)
1
>>> iso_from_dream_week(1)
(1991, 32)
>>> monday_of_dream_week(1)
datetime.date(1991, 8, 5)
>>> week_column(2020, 53)
'y_2053'
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

#: Monday of DREAM week 1 (ISO 1991-W32).
DREAM_EPOCH = dt.date(1991, 8, 5)
_EPOCH_ORDINAL = DREAM_EPOCH.toordinal()

WEEK_COLUMN = re.compile(r"^y_(\d{2})(\d{2})$")
YEAR_WEEK_COLUMN = re.compile(r"^y_(\d{2})$")
MONTH_COLUMN = re.compile(r"^(branche|grad)_(\d{4})_(\d{2})$")


class CalendarError(ValueError):
    """A week or column name that does not exist in the ISO calendar."""


def iso_weeks_in_year(year: int) -> int:
    """Return 52 or 53: the number of ISO weeks in ``year`` (28 December is always in the last)."""
    return dt.date(year, 12, 28).isocalendar()[1]


def is_long_year(year: int) -> bool:
    """Return True when ISO ``year`` has a week 53."""
    return iso_weeks_in_year(year) == 53


def _check_iso(year: int, week: int) -> None:
    if not 1 <= week <= 53:
        raise CalendarError(f"ISO week {week} of {year} does not exist (weeks run 1-52 or 1-53)")
    if week == 53 and not is_long_year(year):
        raise CalendarError(f"{year} has 52 ISO weeks; week 53 does not exist in {year}")


def monday_of_iso(year: int, week: int) -> dt.date:
    """Return the Monday of ISO ``year``-W``week``."""
    _check_iso(year, week)
    return dt.date.fromisocalendar(year, week, 1)


def dream_week_from_iso(year: int, week: int) -> int:
    """Return the DREAM week number (1 = 1991-W32) of ISO ``year``-W``week``."""
    return (monday_of_iso(year, week).toordinal() - _EPOCH_ORDINAL) // 7 + 1


def monday_of_dream_week(dream_week: int) -> dt.date:
    """Return the Monday of a DREAM week."""
    return dt.date.fromordinal(_EPOCH_ORDINAL + 7 * (int(dream_week) - 1))


def iso_from_dream_week(dream_week: int) -> tuple[int, int]:
    """Return ``(iso_year, iso_week)`` of a DREAM week."""
    iso = monday_of_dream_week(dream_week).isocalendar()
    return iso[0], iso[1]


def dream_week_of_date(date: dt.date | str) -> int:
    """Return the DREAM week containing ``date`` (a date or ISO string)."""
    if isinstance(date, str):
        date = dt.date.fromisoformat(date[:10])
    elif isinstance(date, dt.datetime):
        date = date.date()
    monday = date - dt.timedelta(days=date.weekday())
    return (monday.toordinal() - _EPOCH_ORDINAL) // 7 + 1


def month_of_dream_week(dream_week: int) -> tuple[int, int]:
    """Return ``(year, month)`` of the Thursday of a DREAM week (the ISO month rule)."""
    thursday = monday_of_dream_week(dream_week) + dt.timedelta(days=3)
    return thursday.year, thursday.month


def week_column(year: int, week: int) -> str:
    """Return the wide-extract column name ``y_YYWW`` for ISO ``year``-W``week``."""
    _check_iso(year, week)
    return f"y_{year % 100:02d}{week:02d}"


def year_from_two_digits(yy: int) -> int:
    """Map a two-digit DREAM year to a four-digit one (90-99 -> 19xx, else 20xx)."""
    return 1900 + yy if yy >= 90 else 2000 + yy


def parse_week_column(name: str) -> tuple[int, int]:
    """Parse ``y_YYWW`` into ``(iso_year, iso_week)``, validating week 53.

    Raises
    ------
    CalendarError
        If the name is not ``y_YYWW`` or the week does not exist in that year.
    """
    match = WEEK_COLUMN.match(name)
    if not match:
        raise CalendarError(f"column {name!r} is not a weekly column of the form y_YYWW")
    year, week = year_from_two_digits(int(match.group(1))), int(match.group(2))
    try:
        _check_iso(year, week)
    except CalendarError as err:
        raise CalendarError(f"column {name!r}: {err}") from None
    return year, week


def week_columns(first_year: int, last_year: int) -> list[str]:
    """Return every ``y_YYWW`` column from ISO week 1 of ``first_year`` to the last of ``last_year``."""
    return [
        week_column(y, w) for y in range(first_year, last_year + 1) for w in range(1, iso_weeks_in_year(y) + 1)
    ]


def dream_week_range(first_year: int, last_year: int) -> np.ndarray:
    """Return the DREAM week numbers covering ISO years ``first_year`` to ``last_year``."""
    start = dream_week_from_iso(first_year, 1)
    stop = dream_week_from_iso(last_year, iso_weeks_in_year(last_year))
    return np.arange(start, stop + 1, dtype=np.int32)


def months_of_dream_weeks(dream_weeks: np.ndarray) -> np.ndarray:
    """Vectorised month index ``year * 12 + (month - 1)`` of each DREAM week's Thursday."""
    weeks = np.asarray(dream_weeks, dtype=np.int64)
    thursdays = (weeks - 1) * 7 + 3 + (_EPOCH_ORDINAL - dt.date(1970, 1, 1).toordinal())
    as_dates = thursdays.astype("datetime64[D]")
    years = as_dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = as_dates.astype("datetime64[M]").astype(np.int64) % 12
    return years * 12 + months


def month_index(year: int, month: int) -> int:
    """Return the month index ``year * 12 + (month - 1)`` used by :func:`months_of_dream_weeks`."""
    return year * 12 + (month - 1)


def dream_weeks_of_dates(dates) -> np.ndarray:
    """Vectorised :func:`dream_week_of_date` for a sequence/Series of dates (NaT -> -1)."""
    values = np.asarray(dates, dtype="datetime64[D]")
    nat = np.isnat(values)
    days = values.astype(np.int64) + dt.date(1970, 1, 1).toordinal() - _EPOCH_ORDINAL
    weeks = np.floor_divide(days, 7) + 1
    weeks = np.where(nat, -1, weeks)
    return weeks.astype(np.int64)
