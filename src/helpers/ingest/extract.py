"""The DREAM pass, shared pieces: what it returns, how it writes the store, background and warnings.

The pass itself has one module per layout: :mod:`helpers.ingest.wide` (one row per person,
``y_YYWW`` columns, streamed chunk by chunk) and :mod:`helpers.ingest.per_year` (one file
per ISO year with ``y_WW`` columns, scattered into a disk-backed memmap). Both build the
same store tables with :class:`StoreWriter`, convert background columns with
:func:`background` and return an :class:`ExtractResult` (aggregates and hashed IDs only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from helpers.core import calendar, store
from helpers.ingest import convert
from helpers.ingest.columns import ColumnPlan
from helpers.ingest.errors import IngestError, Where, rel
from helpers.ingest.validate import WeeklyChecks
from helpers.ingest.writer import StagedStore

Progress = Callable[[str], None] | None


@dataclass
class ExtractResult:
    """What the DREAM pass produced (aggregates and hashed IDs only)."""

    n_persons: int
    first_week: int
    n_weeks: int
    months: list[int]
    residence_years: list[int]
    rows: dict[Path, int]
    checks: WeeklyChecks
    hashes_sorted: np.ndarray
    grad_scale: str | None
    warnings: list[dict] = field(default_factory=list)


def _schemas(first_week: int, n_weeks: int, months: list[int], with_age: bool):
    persons = [("person_id", pa.string()), ("sex", pa.int8()), ("birth_date", pa.date32())]
    if with_age:
        persons.append(("age", pa.int16()))
    weekly = pa.schema([("person_id", pa.string())] +
                       [pa.field(store.week_col(w), pa.int16(), nullable=False)
                        for w in range(first_week, first_week + n_weeks)])
    monthly = pa.schema([("person_id", pa.string())] +
                        [(store.month_col(m // 12, m % 12 + 1), pa.float32()) for m in months])
    residence = pa.schema([("person_id", pa.string()), ("year", pa.int16()), ("municipality", pa.int16())])
    return pa.schema(persons), weekly, monthly, residence


def months_of(plans: list[ColumnPlan]) -> list[int]:
    months = sorted(set().union(*(p.months for p in plans))) if plans else []
    if months:
        gaps = [m for m in range(months[0], months[-1] + 1) if m not in months]
        if gaps:
            names = ", ".join(f"branche_{m // 12}_{m % 12 + 1:02d}" for m in gaps[:5])
            raise IngestError(
                f"{rel(plans[0].path)}: monthly columns are missing for {len(gaps)} month(s) inside "
                f"{months[0] // 12}-{months[0] % 12 + 1:02d}..{months[-1] // 12}-{months[-1] % 12 + 1:02d} "
                f"({names}); the monthly employment series must be contiguous"
            )
    return months


class StoreWriter:
    """Builds and appends the store tables of one block of persons."""

    def __init__(self, stage: StagedStore, first_week: int, n_weeks: int, months: list[int],
                 years: list[int], with_age: bool) -> None:
        self.stage = stage
        self.persons_schema, self.weekly_schema, self.monthly_schema, self.residence_schema = _schemas(
            first_week, n_weeks, months, with_age)
        self.years = np.asarray(years, dtype=np.int16)
        self.with_age = with_age
        for name, schema in (("persons", self.persons_schema), ("weekly", self.weekly_schema),
                             ("monthly", self.monthly_schema), ("residence", self.residence_schema)):
            stage.ensure(name, schema)

    def persons(self, hexes, sex, birth, age) -> None:
        cols = [pa.array(hexes, pa.string()), pa.array(sex, pa.int8()),
                pa.array(birth, pa.date32(), from_pandas=True)]
        if self.with_age:
            age = np.asarray(age, dtype=np.float64)
            cols.append(pa.array(np.nan_to_num(age, nan=0).astype(np.int16), pa.int16(), mask=np.isnan(age)))
        self.stage.append("persons", pa.Table.from_arrays(cols, schema=self.persons_schema))

    def weekly(self, hexes, codes: np.ndarray) -> None:
        cols = [pa.array(hexes, pa.string())] + [pa.array(codes[:, j]) for j in range(codes.shape[1])]
        self.stage.append("weekly", pa.Table.from_arrays(cols, schema=self.weekly_schema))

    def monthly(self, hexes, degree: np.ndarray) -> None:
        cols = [pa.array(hexes, pa.string())] + [pa.array(degree[:, j], pa.float32(), from_pandas=True)
                                                for j in range(degree.shape[1])]
        self.stage.append("monthly", pa.Table.from_arrays(cols, schema=self.monthly_schema))

    def residence(self, hexes, municipality: np.ndarray, years: np.ndarray | None = None) -> None:
        years = self.years if years is None else years
        rr, cc = np.nonzero(municipality > 0)
        if not len(rr):
            return
        table = pa.Table.from_arrays(
            [pa.array(np.asarray(hexes, dtype=object)[rr], pa.string()), pa.array(years[cc], pa.int16()),
             pa.array(municipality[rr, cc].astype(np.int16), pa.int16())],
            schema=self.residence_schema)
        self.stage.append("residence", table)


def csv_types(plan: ColumnPlan) -> dict[str, pa.DataType]:
    """Fast-path CSV types: weekly codes int16, grad float64 (other columns are read as text)."""
    types: dict[str, pa.DataType] = {c: pa.int16() for c in plan.weekly.values()}
    types.update({c: pa.float64() for c in plan.grad.values()})
    return types


def employment_degree(grad: np.ndarray, branche: np.ndarray) -> np.ndarray:
    return np.where(~np.isnan(grad), grad, np.where(branche, 1.0, np.nan)).astype(np.float32)


@dataclass
class Background:
    sex: np.ndarray
    birth: np.ndarray
    age: np.ndarray | None  # float, NaN = missing
    municipality: np.ndarray | None = None  # one residence column (0 = missing)


def background(table: pa.Table, plan: ColumnPlan, path: Path, first_row: int, data, n: int,
                window_end) -> Background:
    dream = data.dream
    if plan.sex:
        sex = convert.sex(table[plan.sex], Where(path, plan.sex), first_row, dream.sex_codes, dream.blank_values)
    else:
        sex = np.zeros(n, dtype=np.int8)
    birth = (convert.dates(table[plan.birth], Where(path, plan.birth), first_row, "birth date",
                           numeric=dream.numeric_dates) if plan.birth
             else np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"))
    late = np.flatnonzero(~np.isnat(birth) & (birth > np.datetime64(window_end)))
    if len(late):
        raise IngestError(f"{Where(path, plan.birth).row(first_row + int(late[0]) + 1)}: the birth date is after the "
                          f"extract's window (ends {window_end}); correct it")
    age = (convert.ages(table[plan.age], Where(path, plan.age), first_row) if plan.age else None)
    municipality = (convert.integers(table[plan.municipality], Where(path, plan.municipality), first_row,
                                     "municipality", 1, 32767) if plan.municipality else None)
    return Background(sex, birth, age, municipality)


def no_birth_or_age(bg: Background) -> int:
    """Persons with neither a birth date nor an age."""
    missing = np.isnat(bg.birth)
    if bg.age is not None:
        missing &= np.isnan(bg.age)
    return int(missing.sum())


def window_warnings(study, first_week: int, n_weeks: int) -> list[dict]:
    """A warning when the extract covers only part of ``data.first_year..last_year``."""
    data = study.data
    window = calendar.dream_week_range(data.first_year, data.last_year)
    if first_week == int(window[0]) and n_weeks == len(window):
        return []
    y0, w0 = calendar.iso_from_dream_week(first_week)
    y1, w1 = calendar.iso_from_dream_week(first_week + n_weeks - 1)
    return [{"kind": "partial_window", "count": len(window) - n_weeks,
             "text": f"weeks of data.first_year..last_year ({data.first_year}-{data.last_year}) that the extract does "
                     f"not hold; it covers {y0}-W{w0:02d} to {y1}-W{w1:02d}, and the analysis window follows the "
                     "data"}]


def residence_warnings(data, years: list[int], assumed: bool) -> list[dict]:
    dream = data.dream
    if dream.municipality_assumed is not None:
        return [{"kind": "municipality_assumed", "count": len(years),
                 "text": f"years in which every person is assumed to live in municipality "
                         f"{dream.municipality_assumed} (data.dream.municipality_assumed: the extract has no "
                         "residence column)"}]
    if assumed:
        return [{"kind": "municipality_one_column", "count": len(years),
                 "text": f"years in which the residence column {dream.municipality_column} is taken as the "
                         "municipality (one column for every year: a person who moved is counted where the column "
                         "says)"}]
    return []


def missing_sex(sex: np.ndarray, path: Path, column: str | None, first_row: int) -> None:
    missing = np.flatnonzero(sex == 0)
    if len(missing):
        raise IngestError(
            f"{Where(path, column).row(first_row + int(missing[0]) + 1)}: sex is missing ({len(missing)} row(s) in "
            "this chunk); expected 1 (male) or 2 (female)"
        )


def monthly_arrays(table: pa.Table, plan: ColumnPlan, path: Path, first_row: int, months: list[int], n: int):
    grad = np.full((n, len(months)), np.nan)
    branche = np.zeros((n, len(months)), dtype=bool)
    for j, m in enumerate(months):
        if m in plan.grad:
            col = plan.grad[m]
            grad[:, j] = convert.numbers(table[col], Where(path, col), first_row, "employment degree (grad)")
        if m in plan.branche:
            branche[:, j] = convert.present(table[plan.branche[m]])
    return grad, branche


def expected_rows(src) -> int | None:
    """Rows of a source: stored in Parquet and SAS/Stata headers, estimated from the size for CSV."""
    if src.n_rows:
        return src.n_rows
    if src.row_bytes:
        return int(src.path.stat().st_size / src.row_bytes)
    return None


def progress_text(name: str, done: int, total: int | None, seconds: float) -> str:
    """``"<file>: 40,000 of ~200,000 rows, 9,500 rows/s, about 17 s left"`` for the ingest's status line.

    Examples
    --------
    >>> progress_text("dream.dta", 40_000, 200_000, 4.0)
    'dream.dta: 40,000 of ~200,000 rows, 10,000 rows/s, about 16 s left'
    >>> progress_text("dream.csv", 5_000, None, 0.0)
    'dream.csv: 5,000 rows'
    """
    if seconds <= 0:
        return f"{name}: {done:,} rows"
    rate = done / seconds
    if not total or total <= done:
        return f"{name}: {done:,} rows, {rate:,.0f} rows/s"
    left = (total - done) / rate
    eta = f"{left:.0f} s" if left < 120 else f"{left / 60:.0f} min"
    return f"{name}: {done:,} of ~{total:,} rows, {rate:,.0f} rows/s, about {eta} left"


# ------------------------------------------------------------------------- residence
def needs_municipality(study) -> bool:
    """True when the cohort selects or matches on the municipality of residence."""
    c, m = study.cohort, study.matching
    used = set(m.covariates) | set(m.exact) | set(getattr(m, "strata", None) or [])
    return bool(c.municipality or c.control_municipalities or "municipality" in used)


def residence_years(first_week: int, n_weeks: int) -> list[int]:
    """Calendar years of the weeks held (the year of each week's Thursday)."""
    months = calendar.months_of_dream_weeks(np.arange(first_week, first_week + n_weeks))
    return sorted({int(m) // 12 for m in (months[0], months[-1])} | set(range(int(months[0]) // 12,
                                                                             int(months[-1]) // 12 + 1)))


