"""The DREAM pass for per-year files: one file per ISO year with ``y_WW`` columns.

Persons may be missing from some years. A first pass reads only the ID columns and fixes
the person order (order of first appearance); a second pass scatters each year's codes
into a disk-backed ``numpy.memmap`` (in the staging folder) by person; the store is then
written from the memmap in row chunks. RAM stays bounded by the chunk size plus a few
bytes per person.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np

from helpers.core import calendar
from helpers.core.codes import CodeBook
from helpers.ingest import convert
from helpers.ingest.columns import (
    ColumnPlan,
    describe_weeks,
    plan_columns,
    residence_problem,
)
from helpers.ingest.errors import IngestError, Where, rel
from helpers.ingest.extract import (
    Background,
    ExtractResult,
    Progress,
    StoreWriter,
    background,
    csv_types,
    employment_degree,
    monthly_arrays,
    months_of,
    needs_municipality,
    no_birth_or_age,
    residence_warnings,
    residence_years,
    window_warnings,
)
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
    months = months_of([p for _, p, _ in items])
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
    writer = StoreWriter(stage, first_week, n_weeks, months, years, with_age)
    absent = []
    for fi, (src, plan, year) in enumerate(items):
        path = src.path
        cols = sorted(plan.weekly)
        c0 = cols[0] - first_week if cols else 0
        week_names = [plan.weekly[w] for w in cols]
        file_months = sorted(plan.months)
        month_pos = [months.index(m) for m in file_months]
        for first, table in iter_chunks(src, plan.read_columns(), dream.chunk_rows, csv_types=csv_types(plan),
                                        as_text=codes_as_text, blanks=dream.blank_values):
            k = table.num_rows
            g = lookup(digests(convert.ids(table[plan.id], Where(path, plan.id), first, dream.id_width), key))
            if cols:
                block = np.empty((k, len(cols)), dtype=np.int16)
                for j, col in enumerate(week_names):
                    block[:, j] = convert.codes(table[col], Where(path, col), first, dream.blank_values)
                codes_mm[g, c0:c0 + len(cols)] = block
            if plan.sex or plan.birth or plan.age or plan.municipality:
                bg = background(table, plan, path, first, data, k, window_end)
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
                grad, branche = monthly_arrays(table, plan, path, first, file_months, k)
                grad = grad_scale.normalise(
                    grad, lambda r, c, _p=path, _pl=plan, _f=first, _m=file_months:
                    Where(_p, _pl.grad.get(_m[c])).row(_f + r + 1))
                degree_mm[g[:, None], np.asarray(month_pos)[None, :]] = employment_degree(grad, branche)
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
    warnings = window_warnings(study, first_week, n_weeks) + residence_warnings(data, years, one_column)
    warnings += shapes.warnings()
    for year, k in absent:
        warnings.append({"kind": "absent_from_year", "count": k,
                         "text": f"persons absent from the {year} file (their weeks of {year} are empty)"})
    n_birth_missing = no_birth_or_age(Background(sex, birth, age))
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
