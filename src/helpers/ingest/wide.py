"""The DREAM pass for a wide extract: one row per person, ``y_YYWW`` columns, one or more files.

Every chunk is converted, checked and appended to the staged Parquet files as one row
group, so memory is bounded by the chunk size.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np

from helpers.core import calendar
from helpers.core.codes import CodeBook
from helpers.ingest import convert
from helpers.ingest.columns import (
    ColumnPlan,
    held_weeks,
    plan_columns,
    residence_problem,
)
from helpers.ingest.errors import IngestError, Where, rel
from helpers.ingest.extract import (
    ExtractResult,
    Progress,
    StoreWriter,
    background,
    csv_types,
    employment_degree,
    expected_rows,
    missing_sex,
    monthly_arrays,
    months_of,
    needs_municipality,
    no_birth_or_age,
    progress_text,
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
    months = months_of(plans)
    if any(p.months != set(months) for p in plans):
        raise IngestError(f"{rel(files[0])}: the extract files hold different monthly columns; "
                          "every file must cover the same months")
    one_column = dream.municipality_column is not None or dream.municipality_assumed is not None
    years = (residence_years(first_week, n_weeks) if one_column
             else sorted(set().union(*(p.residence for p in plans))))
    with_age = any(p.age for p in plans)
    writer = StoreWriter(stage, first_week, n_weeks, months, years, with_age)
    checks = WeeklyChecks(weeks, CodeBook.default(data.category_overrides), dream.codes_after_death)
    dups = DuplicateTracker()
    grad_scale = GradScale(dream.grad_scale)
    shapes = convert.IdShapes()
    rows: dict[Path, int] = {}
    n_birth_missing = 0
    for fi, (src, plan) in enumerate(zip(sources, plans, strict=True)):
        path = src.path
        types = csv_types(plan)
        week_names = [plan.weekly[int(w)] for w in weeks]
        done = 0
        t_file = time.monotonic()
        for first_row, table in iter_chunks(src, plan.read_columns(), dream.chunk_rows, csv_types=types,
                                            as_text=codes_as_text, blanks=dream.blank_values):
            n = table.num_rows
            raw_ids = convert.ids(table[plan.id], Where(path, plan.id), first_row, dream.id_width)
            shapes.add(raw_ids, Where(path, plan.id), first_row)
            bg = background(table, plan, path, first_row, data, n, window_end)
            missing_sex(bg.sex, path, plan.sex, first_row)
            n_birth_missing += no_birth_or_age(bg)
            codes = np.empty((n, n_weeks), dtype=np.int16, order="F")
            for j, col in enumerate(week_names):
                codes[:, j] = convert.codes(table[col], Where(path, col), first_row, dream.blank_values)
            grad, branche = monthly_arrays(table, plan, path, first_row, months, n)
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
            writer.monthly(hexes, employment_degree(grad, branche))
            writer.residence(hexes, residence)
            del codes, grad, branche, residence, hexes, bg  # free before the next chunk is parsed
            done += n
            if progress:
                progress(progress_text(path.name, done, expected_rows(src), time.monotonic() - t_file))
        rows[path] = done
    dups.check([rel(s.path) for s in sources])
    warnings = window_warnings(study, first_week, n_weeks) + residence_warnings(data, years, one_column)
    warnings += shapes.warnings()
    if n_birth_missing:
        warnings.append({"kind": "birth_date_missing", "count": n_birth_missing,
                         "text": "persons without a birth date or age (age cannot be computed for them)"})
    return ExtractResult(
        n_persons=int(sum(rows.values())), first_week=first_week, n_weeks=n_weeks, months=months,
        residence_years=years, rows=rows, checks=checks, hashes_sorted=np.sort(dups.all_hashes()),
        grad_scale=grad_scale.scale, warnings=warnings,
    )


