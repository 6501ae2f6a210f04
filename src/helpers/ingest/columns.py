"""Which columns of a raw DREAM file hold what, checked against the study's window.

Column names (``docs/architecture.md``, ``docs/sources.md``):

- person ID, sex, birth date (and optional age): names from ``data.dream``, matched
  case-insensitively (SAS and Stata files often change case);
- weekly codes ``y_YYWW`` (wide layout) or ``y_WW`` with the year from the file (per-year
  layout); any other column starting ``y_`` is malformed; week 53 must exist in its ISO year;
- yearly municipality ``<prefix>YYYY`` (``nykom2017``);
- monthly ``branche_YYYY_MM`` and ``grad_YYYY_MM``.

Every DREAM week from ``data.first_year`` W01 to the last week of ``data.last_year`` must be
present; weeks outside that window are not read. Other columns are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from helpers.core import calendar
from helpers.ingest.errors import IngestError, rel

_WIDE_WEEK = re.compile(r"^y_(\d{2})(\d{2})$", re.IGNORECASE)
_YEAR_WEEK = re.compile(r"^y_(\d{2})$", re.IGNORECASE)
_MONTHLY = re.compile(r"^(branche|grad)_(\d{4})_(\d{1,2})$", re.IGNORECASE)
_MONTHLY_PREFIX = re.compile(r"^(branche|grad)_", re.IGNORECASE)


def find_column(columns: list[str], name: str | None, path: Path, key: str, required: bool = True) -> str | None:
    """The column called ``name`` (exact, else case-insensitive), or an error naming the YAML key."""
    if name is None:
        return None
    if name in columns:
        return name
    matches = [c for c in columns if c.casefold() == name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise IngestError(f"{rel(path)}: columns {matches} all match {key} {name!r}; rename all but one")
    if required:
        shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
        raise IngestError(
            f"{rel(path)}: no column {name!r} ({key}); the file has {shown}. Set {key} to the column's name"
        )
    return None


@dataclass
class ColumnPlan:
    """The columns of one raw file that the ingest reads.

    Attributes
    ----------
    weekly : dict
        DREAM week -> column name, for the weeks inside the window held by this file.
    branche, grad : dict
        Month index (``year * 12 + month - 1``) -> column name.
    residence : dict
        Year -> municipality column name.
    """

    path: Path
    id: str
    sex: str | None = None
    birth: str | None = None
    age: str | None = None
    weekly: dict[int, str] = field(default_factory=dict)
    branche: dict[int, str] = field(default_factory=dict)
    grad: dict[int, str] = field(default_factory=dict)
    residence: dict[int, str] = field(default_factory=dict)

    def read_columns(self) -> list[str]:
        """Every column to read, in a fixed order."""
        cols = [self.id] + [c for c in (self.sex, self.birth, self.age) if c]
        cols += [self.residence[y] for y in sorted(self.residence)]
        cols += [self.weekly[w] for w in sorted(self.weekly)]
        cols += [self.branche[m] for m in sorted(self.branche)] + [self.grad[m] for m in sorted(self.grad)]
        return cols

    @property
    def months(self) -> set[int]:
        """Month indices with a ``branche`` or ``grad`` column."""
        return set(self.branche) | set(self.grad)


def plan_columns(columns: list[str], path: Path, data, *, file_year: int | None = None) -> ColumnPlan:
    """Classify and validate the header of one raw file.

    Parameters
    ----------
    columns : list of str
        The file's column names.
    path : Path
        The file (for messages).
    data : helpers.config.schema.data.DataConfig
        The study's ``data`` section.
    file_year : int, optional
        The ISO year of a per-year file (its weekly columns are ``y_WW``).

    Raises
    ------
    IngestError
        Malformed or duplicated weekly/monthly columns, week 53 in a 52-week year, or a
        required background column that is missing.
    """
    dream = data.dream
    where = rel(path)
    per_year = file_year is not None
    lowered = [c.casefold() for c in columns]
    dupes = sorted({c for c in columns if lowered.count(c.casefold()) > 1})
    if dupes:
        raise IngestError(f"{where}: columns {dupes[:5]} occur more than once (names are compared ignoring case); "
                          "rename or drop the duplicates")
    plan = ColumnPlan(
        path=path,
        id=find_column(columns, dream.id_column, path, "data.dream.id_column"),
        sex=find_column(columns, dream.sex_column, path, "data.dream.sex_column", required=not per_year),
        birth=find_column(columns, dream.birth_date_column, path, "data.dream.birth_date_column",
                          required=not per_year),
        age=find_column(columns, dream.age_column, path, "data.dream.age_column", required=not per_year),
    )
    first_week = calendar.dream_week_from_iso(data.first_year, 1)
    last_week = calendar.dream_week_from_iso(data.last_year, calendar.iso_weeks_in_year(data.last_year))
    residence = re.compile(rf"^{re.escape(dream.municipality_prefix)}(\d{{4}})$", re.IGNORECASE)
    for col in columns:
        if col.lower().startswith("y_"):
            year, week = _week_of(col, path, file_year)
            dw = calendar.dream_week_from_iso(year, week)
            if first_week <= dw <= last_week:
                plan.weekly[dw] = col
            continue
        m = _MONTHLY.match(col)
        if m:
            year, month = int(m.group(2)), int(m.group(3))
            if not 1 <= month <= 12:
                raise IngestError(f"{where}, column {col}: month {month} does not exist; expected "
                                  f"{m.group(1).lower()}_YYYY_MM with MM 01-12")
            if data.first_year <= year <= data.last_year:
                target = plan.branche if m.group(1).lower() == "branche" else plan.grad
                target[calendar.month_index(year, month)] = col
            continue
        if _MONTHLY_PREFIX.match(col):
            raise IngestError(f"{where}, column {col}: malformed monthly column; expected branche_YYYY_MM "
                              "or grad_YYYY_MM (e.g. branche_2017_01)")
        r = residence.match(col)
        if r and data.first_year <= int(r.group(1)) <= data.last_year:
            plan.residence[int(r.group(1))] = col
    return plan


def _week_of(col: str, path: Path, file_year: int | None) -> tuple[int, int]:
    where = f"{rel(path)}, column {col}"
    if file_year is None:
        m = _WIDE_WEEK.match(col)
        if not m:
            raise IngestError(f"{where}: malformed weekly column; expected y_YYWW (two-digit ISO year and week, "
                              "e.g. y_1705) in the wide layout. Rename or drop the column")
        year, week = calendar.year_from_two_digits(int(m.group(1))), int(m.group(2))
    else:
        m = _YEAR_WEEK.match(col)
        if not m:
            raise IngestError(f"{where}: malformed weekly column; expected y_WW (ISO week 01-53 of {file_year}) "
                              "in the per-year layout. Rename or drop the column, or set data.dream.layout: wide")
        year, week = file_year, int(m.group(1))
    if not 1 <= week <= 53:
        raise IngestError(f"{where}: ISO week {week} does not exist; weeks run 01-52 (01-53 in long years)")
    if week == 53 and not calendar.is_long_year(year):
        raise IngestError(f"{where}: {year} has 52 ISO weeks, so week 53 does not exist; the column is malformed "
                          "(check the extract's calendar) and must be dropped or corrected")
    return year, week


def missing_weeks(present: set[int], data) -> list[int]:
    """DREAM weeks of the window that no file provides."""
    window = calendar.dream_week_range(data.first_year, data.last_year)
    return [int(w) for w in window if int(w) not in present]


def describe_weeks(weeks: list[int], per_year: bool = False) -> str:
    """``y_1753 (2017-W53)``-style list of the first few weeks."""
    parts = []
    for w in weeks[:5]:
        y, k = calendar.iso_from_dream_week(w)
        parts.append(f"y_{k:02d} of {y}" if per_year else f"y_{y % 100:02d}{k:02d} ({y}-W{k:02d})")
    more = f" and {len(weeks) - 5} more" if len(weeks) > 5 else ""
    return ", ".join(parts) + more
