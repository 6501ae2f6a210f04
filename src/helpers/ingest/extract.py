"""The DREAM pass: raw extract (wide or per-year files) -> staged persons, weekly, monthly, residence.

Wide layout (one row per person, ``y_YYWW`` columns): every chunk is converted, checked
and appended to the staged Parquet files as one row group, so memory is bounded by the
chunk size.

Per-year layout (one file per ISO year with ``y_WW`` columns; persons may be missing from
some years): a first pass reads only the ID columns and fixes the person order (order of
first appearance); a second pass scatters each year's codes into a disk-backed
``numpy.memmap`` (in the staging folder) by person; the store is then written from the
memmap in row chunks. RAM stays bounded by the chunk size plus a few bytes per person.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from helpers.core import calendar, store
from helpers.core.codes import CodeBook
from helpers.ingest import convert
from helpers.ingest.columns import (
    ColumnPlan,
    describe_weeks,
    held_weeks,
    plan_columns,
    residence_problem,
)
from helpers.ingest.errors import IngestError, Where, rel
from helpers.ingest.pseudonym import digests, to_hex
from helpers.ingest.readers import (
    FileScan,
    Source,
    detect_format,
    iter_chunks,
    open_source,
)
from helpers.ingest.validate import DuplicateTracker, GradScale, WeeklyChecks
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


def _months_of(plans: list[ColumnPlan]) -> list[int]:
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


class _Writer:
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


def _csv_types(plan: ColumnPlan) -> dict[str, pa.DataType]:
    """Fast-path CSV types: weekly codes int16, grad float64 (other columns are read as text)."""
    types: dict[str, pa.DataType] = {c: pa.int16() for c in plan.weekly.values()}
    types.update({c: pa.float64() for c in plan.grad.values()})
    return types


def _degree(grad: np.ndarray, branche: np.ndarray) -> np.ndarray:
    return np.where(~np.isnan(grad), grad, np.where(branche, 1.0, np.nan)).astype(np.float32)


@dataclass
class _Background:
    sex: np.ndarray
    birth: np.ndarray
    age: np.ndarray | None  # float, NaN = missing
    municipality: np.ndarray | None = None  # one residence column (0 = missing)


def _background(table: pa.Table, plan: ColumnPlan, path: Path, first_row: int, data, n: int,
                window_end) -> _Background:
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
    return _Background(sex, birth, age, municipality)


def _no_birth_or_age(bg: _Background) -> int:
    """Persons with neither a birth date nor an age."""
    missing = np.isnat(bg.birth)
    if bg.age is not None:
        missing &= np.isnan(bg.age)
    return int(missing.sum())


def _window_warnings(study, first_week: int, n_weeks: int) -> list[dict]:
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


def _residence_warnings(data, years: list[int], assumed: bool) -> list[dict]:
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


def _missing_sex(sex: np.ndarray, path: Path, column: str | None, first_row: int) -> None:
    missing = np.flatnonzero(sex == 0)
    if len(missing):
        raise IngestError(
            f"{Where(path, column).row(first_row + int(missing[0]) + 1)}: sex is missing ({len(missing)} row(s) in "
            "this chunk); expected 1 (male) or 2 (female)"
        )


def _monthly_arrays(table: pa.Table, plan: ColumnPlan, path: Path, first_row: int, months: list[int], n: int):
    grad = np.full((n, len(months)), np.nan)
    branche = np.zeros((n, len(months)), dtype=bool)
    for j, m in enumerate(months):
        if m in plan.grad:
            col = plan.grad[m]
            grad[:, j] = convert.numbers(table[col], Where(path, col), first_row, "employment degree (grad)")
        if m in plan.branche:
            branche[:, j] = convert.present(table[plan.branche[m]])
    return grad, branche


def _expected_rows(src: Source) -> int | None:
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


# ------------------------------------------------------------------------------ wide
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


def read_wide(study, key: bytes, stage: StagedStore, scans: dict[Path, FileScan], *,
              codes_as_text: bool = False, progress: Progress = None) -> ExtractResult:
    """Stream a wide extract (one or more files of whole persons) into the staging store."""
    data = study.data
    dream = data.dream
    files = study.dream_files()
    sources: list[Source] = []
    plans: list[ColumnPlan] = []
    for f in files:
        src = open_source(f, detect_format(f, dream.format), encoding=dream.encoding, delimiter=dream.delimiter,
                          scan=scans.get(f))
        plan = plan_columns(src.columns, f, data)
        sources.append(src)
        plans.append(plan)
    first_week, n_weeks = held_weeks(set(plans[0].weekly), files[0], data)
    for f, plan in zip(files[1:], plans[1:], strict=True):
        if set(plan.weekly) != set(plans[0].weekly):
            raise IngestError(f"{rel(f)}: holds other weeks than {rel(files[0])}; every file of a wide extract "
                              "must hold the same weekly columns")
    weeks = np.arange(first_week, first_week + n_weeks, dtype=np.int32)
    window_end = calendar.monday_of_dream_week(int(weeks[-1])) + dt.timedelta(days=6)
    problem = residence_problem(plans, data, needs_municipality(study))
    if problem:
        raise IngestError(problem)
    months = _months_of(plans)
    if any(p.months != set(months) for p in plans):
        raise IngestError(f"{rel(files[0])}: the extract files hold different monthly columns; "
                          "every file must cover the same months")
    one_column = dream.municipality_column is not None or dream.municipality_assumed is not None
    years = (residence_years(first_week, n_weeks) if one_column
             else sorted(set().union(*(p.residence for p in plans))))
    with_age = any(p.age for p in plans)
    writer = _Writer(stage, first_week, n_weeks, months, years, with_age)
    checks = WeeklyChecks(weeks, CodeBook.default(data.category_overrides), dream.codes_after_death)
    dups = DuplicateTracker()
    grad_scale = GradScale(dream.grad_scale)
    shapes = convert.IdShapes()
    rows: dict[Path, int] = {}
    n_birth_missing = 0
    for fi, (src, plan) in enumerate(zip(sources, plans, strict=True)):
        path = src.path
        csv_types = _csv_types(plan)
        week_names = [plan.weekly[int(w)] for w in weeks]
        done = 0
        t_file = time.monotonic()
        for first_row, table in iter_chunks(src, plan.read_columns(), dream.chunk_rows, csv_types=csv_types,
                                            as_text=codes_as_text, blanks=dream.blank_values):
            n = table.num_rows
            raw_ids = convert.ids(table[plan.id], Where(path, plan.id), first_row, dream.id_width)
            shapes.add(raw_ids, Where(path, plan.id), first_row)
            bg = _background(table, plan, path, first_row, data, n, window_end)
            _missing_sex(bg.sex, path, plan.sex, first_row)
            n_birth_missing += _no_birth_or_age(bg)
            codes = np.empty((n, n_weeks), dtype=np.int16, order="F")
            for j, col in enumerate(week_names):
                codes[:, j] = convert.codes(table[col], Where(path, col), first_row, dream.blank_values)
            grad, branche = _monthly_arrays(table, plan, path, first_row, months, n)
            residence = np.zeros((n, len(years)), dtype=np.int64)
            if dream.municipality_assumed is not None:
                residence[:] = dream.municipality_assumed
            elif bg.municipality is not None:
                residence[:] = bg.municipality[:, None]
            else:
                for j, y in enumerate(years):
                    if y in plan.residence:
                        col = plan.residence[y]
                        residence[:, j] = convert.integers(table[col], Where(path, col), first_row, "municipality",
                                                           1, 32767)
            del table
            hashes = digests(raw_ids, key)
            del raw_ids
            dups.add(hashes, fi, first_row)
            checks.consume(codes, lambda r, c, _p=path, _n=week_names, _f=first_row: Where(_p, _n[c]).row(_f + r + 1))
            grad = grad_scale.normalise(
                grad, lambda r, c, _p=path, _pl=plan, _f=first_row: Where(_p, _pl.grad.get(months[c])).row(_f + r + 1))
            hexes = to_hex(hashes)
            writer.persons(hexes, bg.sex, bg.birth, bg.age)
            writer.weekly(hexes, codes)
            writer.monthly(hexes, _degree(grad, branche))
            writer.residence(hexes, residence)
            del codes, grad, branche, residence, hexes, bg  # free before the next chunk is parsed
            done += n
            if progress:
                progress(progress_text(path.name, done, _expected_rows(src), time.monotonic() - t_file))
        rows[path] = done
    dups.check([rel(s.path) for s in sources])
    warnings = _window_warnings(study, first_week, n_weeks) + _residence_warnings(data, years, one_column)
    warnings += shapes.warnings()
    if n_birth_missing:
        warnings.append({"kind": "birth_date_missing", "count": n_birth_missing,
                         "text": "persons without a birth date or age (age cannot be computed for them)"})
    return ExtractResult(
        n_persons=int(sum(rows.values())), first_week=first_week, n_weeks=n_weeks, months=months,
        residence_years=years, rows=rows, checks=checks, hashes_sorted=np.sort(dups.all_hashes()),
        grad_scale=grad_scale.scale, warnings=warnings,
    )


# -------------------------------------------------------------------------- per year
_YEAR_IN_NAME = re.compile(r"(19|20)\d{2}")


def year_files(study) -> list[tuple[Path, int]]:
    """``(file, ISO year)`` of each per-year file; the year from ``{year}`` or from the file name."""
    data = study.data
    entries = data.dream.path if isinstance(data.dream.path, list) else [data.dream.path]
    out: list[tuple[Path, int]] = []
    for entry in entries:
        if "{year}" in entry:
            out += [(study.raw_dir / entry.format(year=y), y) for y in range(data.first_year, data.last_year + 1)]
            continue
        match = list(_YEAR_IN_NAME.finditer(Path(entry).name))
        if not match:
            raise IngestError(f"data.dream.path: cannot tell the year of the per-year file {entry!r}; use a "
                              "{year} pattern (e.g. dream{year}.dta) or a file name holding the year")
        out.append((study.raw_dir / entry, int(match[-1].group(0))))
    years = [y for _, y in out]
    dupes = sorted({y for y in years if years.count(y) > 1})
    if dupes:
        raise IngestError(f"data.dream.path: more than one per-year file for {dupes}")
    if any("{year}" in e for e in entries):
        # a {year} pattern: the years that have a file (the extract may cover part of the window)
        out = [(f, y) for f, y in out if f.exists()]
    inside = sorted(y for _, y in out if data.first_year <= y <= data.last_year)
    if not inside:
        raise IngestError(f"data.dream.path: no per-year file for a year of data.first_year..last_year "
                          f"({data.first_year}-{data.last_year}); check the file names and the window")
    absent = [y for y in range(inside[0], inside[-1] + 1) if y not in inside]
    if absent:
        raise IngestError(f"data.dream.path: no per-year file for {absent[:5]}, inside the years the extract holds "
                          f"({inside[0]}-{inside[-1]}); the years must be contiguous: add the files or narrow "
                          "data.first_year/last_year")
    return sorted(((f, y) for f, y in out if data.first_year <= y <= data.last_year), key=lambda t: t[1])


def read_per_year(study, key: bytes, stage: StagedStore, scans: dict[Path, FileScan], *,
                  codes_as_text: bool = False, progress: Progress = None) -> ExtractResult:
    """Read per-year files (``y_WW`` columns, one file per ISO year) into the staging store."""
    data = study.data
    dream = data.dream
    files_years = year_files(study)
    weeks = calendar.dream_week_range(files_years[0][1], files_years[-1][1])
    first_week, n_weeks = int(weeks[0]), len(weeks)
    window_end = calendar.monday_of_dream_week(int(weeks[-1])) + dt.timedelta(days=6)
    items = []
    for f, year in files_years:
        src = open_source(f, detect_format(f, dream.format), encoding=dream.encoding, delimiter=dream.delimiter,
                          scan=scans.get(f))
        plan = plan_columns(src.columns, f, data, file_year=year)
        year_weeks = {int(w) for w in weeks if calendar.iso_from_dream_week(int(w))[0] == year}
        missing = sorted(year_weeks - set(plan.weekly))
        if missing:
            raise IngestError(f"{rel(f)}: {len(missing)} weekly column(s) of {year} are missing: "
                              f"{describe_weeks(missing, per_year=True)}; every ISO week of the year must be present")
        extra = sorted(set(plan.weekly) - year_weeks)
        if extra:
            raise IngestError(f"{rel(f)}: holds weeks of another year ({describe_weeks(extra)})")
        items.append((src, plan, year))
    if dream.background_path:
        f = study.raw_dir / dream.background_path
        src = open_source(f, detect_format(f, dream.format), encoding=dream.encoding, delimiter=dream.delimiter,
                          scan=scans.get(f))
        plan = plan_columns(src.columns, f, data)
        plan.weekly = {}  # weekly codes come from the year files only
        items.insert(0, (src, plan, None))
    months = _months_of([p for _, p, _ in items])
    problem = residence_problem([p for _, p, _ in items], data, needs_municipality(study))
    if problem:
        raise IngestError(problem)
    one_column = dream.municipality_column is not None or dream.municipality_assumed is not None
    years = (residence_years(first_week, n_weeks) if one_column
             else sorted(set().union(*(p.residence for _, p, _ in items))))
    with_age = any(p.age for _, p, _ in items)
    names = [rel(s.path) for s, _, _ in items]
    # each residence year from the file of that year if it has the column, else from the first that has it
    residence_file = {}
    for y in ([] if one_column else years):
        own = [i for i, (_, p, fy) in enumerate(items) if fy == y and y in p.residence]
        residence_file[y] = own[0] if own else next(i for i, (_, p, _) in enumerate(items) if y in p.residence)

    # pass 1: person order (first appearance), duplicates within a file
    order_parts: list[np.ndarray] = []
    first_file_parts: list[np.ndarray] = []
    first_row_parts: list[np.ndarray] = []
    known = np.array([], dtype=np.uint64)
    rows: dict[Path, int] = {}
    shapes = convert.IdShapes()
    for fi, (src, plan, _year) in enumerate(items):
        dups = DuplicateTracker()
        for first_row, table in iter_chunks(src, [plan.id], dream.chunk_rows):
            raw = convert.ids(table[plan.id], Where(src.path, plan.id), first_row, dream.id_width)
            shapes.add(raw, Where(src.path, plan.id), first_row)
            hashes = digests(raw, key)
            dups.add(hashes, fi, first_row)
        dups.check(names)
        h = dups.all_hashes()
        rows[src.path] = len(h)
        new = ~np.isin(h, known)
        order_parts.append(h[new])
        first_file_parts.append(np.full(int(new.sum()), fi, dtype=np.int16))
        first_row_parts.append(np.flatnonzero(new).astype(np.int64) + 1)
        known = np.union1d(known, h[new])
        if progress:
            progress(f"{src.path.name}: {len(h):,} IDs")
    global_hash = np.concatenate(order_parts) if order_parts else np.array([], dtype=np.uint64)
    first_file = np.concatenate(first_file_parts) if first_file_parts else np.array([], dtype=np.int16)
    first_row = np.concatenate(first_row_parts) if first_row_parts else np.array([], dtype=np.int64)
    n = len(global_hash)
    sort_ix = np.argsort(global_hash)
    sorted_hash = global_hash[sort_ix]

    def lookup(h: np.ndarray) -> np.ndarray:
        return sort_ix[np.searchsorted(sorted_hash, h)]

    # pass 2: scatter into memmaps
    scratch = stage.scratch()
    codes_mm = np.lib.format.open_memmap(scratch / "weekly.npy", mode="w+", dtype=np.int16, shape=(n, n_weeks))
    degree_mm = np.lib.format.open_memmap(scratch / "monthly.npy", mode="w+", dtype=np.float32,
                                          shape=(n, len(months)))
    for a in range(0, n, dream.chunk_rows):
        degree_mm[a:a + dream.chunk_rows] = np.nan
    sex = np.zeros(n, dtype=np.int8)
    birth = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    age = np.full(n, np.nan) if with_age else None
    municipality = np.zeros(n, dtype=np.int64) if dream.municipality_column else None
    grad_scale = GradScale(dream.grad_scale)
    writer = _Writer(stage, first_week, n_weeks, months, years, with_age)
    absent = []
    for fi, (src, plan, year) in enumerate(items):
        path = src.path
        cols = sorted(plan.weekly)
        c0 = cols[0] - first_week if cols else 0
        week_names = [plan.weekly[w] for w in cols]
        file_months = sorted(plan.months)
        month_pos = [months.index(m) for m in file_months]
        for first, table in iter_chunks(src, plan.read_columns(), dream.chunk_rows, csv_types=_csv_types(plan),
                                        as_text=codes_as_text, blanks=dream.blank_values):
            k = table.num_rows
            g = lookup(digests(convert.ids(table[plan.id], Where(path, plan.id), first, dream.id_width), key))
            if cols:
                block = np.empty((k, len(cols)), dtype=np.int16)
                for j, col in enumerate(week_names):
                    block[:, j] = convert.codes(table[col], Where(path, col), first, dream.blank_values)
                codes_mm[g, c0:c0 + len(cols)] = block
            if plan.sex or plan.birth or plan.age or plan.municipality:
                bg = _background(table, plan, path, first, data, k, window_end)
                take = sex[g] == 0
                sex[g[take]] = bg.sex[take]
                take = np.isnat(birth[g])
                birth[g[take]] = bg.birth[take]
                if age is not None and bg.age is not None:
                    take = np.isnan(age[g])
                    age[g[take]] = bg.age[take]
                if municipality is not None and bg.municipality is not None:
                    take = municipality[g] == 0
                    municipality[g[take]] = bg.municipality[take]
            if file_months:
                grad, branche = _monthly_arrays(table, plan, path, first, file_months, k)
                grad = grad_scale.normalise(
                    grad, lambda r, c, _p=path, _pl=plan, _f=first, _m=file_months:
                    Where(_p, _pl.grad.get(_m[c])).row(_f + r + 1))
                degree_mm[g[:, None], np.asarray(month_pos)[None, :]] = _degree(grad, branche)
            file_years = [y for y in years if residence_file.get(y) == fi]
            if file_years:
                res = np.zeros((k, len(file_years)), dtype=np.int64)
                for j, y in enumerate(file_years):
                    col = plan.residence[y]
                    res[:, j] = convert.integers(table[col], Where(path, col), first, "municipality", 1, 32767)
                writer.residence(to_hex(global_hash[g]), res, np.asarray(file_years, dtype=np.int16))
            if progress:
                progress(f"{path.name}: {first + k:,} rows")
        if year is not None and rows[path] < n:
            absent.append((year, n - rows[path]))
    if (sex == 0).any():
        i = int(np.flatnonzero(sex == 0)[0])
        raise IngestError(f"{names[first_file[i]]}, data row {first_row[i]}: no file gives the person's sex "
                          "(data.dream.sex_column); per-year files that hold only weekly codes need a background "
                          "file with ID, sex and birth date (data.dream.background_path)")

    # assemble: checks and store, in row blocks
    checks = WeeklyChecks(weeks, CodeBook.default(data.category_overrides), dream.codes_after_death)
    week_file = {int(w): next(i for i, (_, p, _) in enumerate(items) if int(w) in p.weekly) for w in weeks}

    def locate(a: int):
        def _loc(r: int, c: int) -> str:
            fi = week_file[int(weeks[c])]
            src, plan, _ = items[fi]
            row = _find_row(src, plan, global_hash[a + r], key, dream)
            return Where(src.path, plan.weekly[int(weeks[c])]).row(row)
        return _loc

    hexes_all = None
    for a in range(0, n, dream.chunk_rows):
        b = min(a + dream.chunk_rows, n)
        codes = np.asfortranarray(codes_mm[a:b])
        checks.consume(codes, locate(a))
        hexes_all = to_hex(global_hash[a:b])
        writer.persons(hexes_all, sex[a:b], birth[a:b], None if age is None else age[a:b])
        writer.weekly(hexes_all, codes)
        writer.monthly(hexes_all, np.asarray(degree_mm[a:b]))
        if one_column:
            res = np.zeros((b - a, len(years)), dtype=np.int64)
            res[:] = (dream.municipality_assumed if dream.municipality_assumed is not None
                      else municipality[a:b, None])
            writer.residence(hexes_all, res)
    del codes_mm, degree_mm
    warnings = _window_warnings(study, first_week, n_weeks) + _residence_warnings(data, years, one_column)
    warnings += shapes.warnings()
    for year, k in absent:
        warnings.append({"kind": "absent_from_year", "count": k,
                         "text": f"persons absent from the {year} file (their weeks of {year} are empty)"})
    n_birth_missing = _no_birth_or_age(_Background(sex, birth, age))
    if n_birth_missing:
        warnings.append({"kind": "birth_date_missing", "count": n_birth_missing,
                         "text": "persons without a birth date or age (age cannot be computed for them)"})
    return ExtractResult(
        n_persons=n, first_week=first_week, n_weeks=n_weeks, months=months, residence_years=years, rows=rows,
        checks=checks, hashes_sorted=sorted_hash, grad_scale=grad_scale.scale, warnings=warnings,
    )


def _find_row(src: Source, plan: ColumnPlan, target: np.uint64, key: bytes, dream) -> int:
    """1-based data row of the person with hashed ID ``target`` in ``src`` (error path only)."""
    for first, table in iter_chunks(src, [plan.id], dream.chunk_rows):
        h = digests(convert.ids(table[plan.id], Where(src.path, plan.id), first, dream.id_width), key)
        hit = np.flatnonzero(h == target)
        if len(hit):
            return first + int(hit[0]) + 1
    return -1
