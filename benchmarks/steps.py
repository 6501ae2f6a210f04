"""The timed steps of ``make bench``, each run in a fresh interpreter (see :mod:`benchmarks.__main__`).

- ``ingest_csv`` / ``ingest_parquet`` / ``ingest_dta`` / ``ingest_sas7bdat``: raw extract ->
  processed store (:func:`helpers.ingest.ingest`), with rows per second;
- ``raw_scan``: reading every weekly column of the processed store into memory (the floor);
- ``outcomes``: processed store -> per-person outcomes for every person (time to lasting
  self-support, status at 4 horizons, weeks per category per year) with the pipeline's own
  functions, block by block; results written to ``bench_out/outcomes_*.parquet``;
- ``peer_duckdb``: the same outcomes in SQL (:mod:`benchmarks.peer_duckdb`), results written
  next to the pipeline's so that the bench can check they are equal on every person;
- ``naive``: what a student would write (``pandas.read_csv`` wide, ``melt``, a Python
  function per person), only on small sizes;
- ``matching``: 100 treated persons matched against the whole pool
  (:func:`helpers.cohort.build.build_cohort` on :func:`helpers.synth.register.synthetic_register`).

Every step returns a dict with ``seconds`` (the timed part) and step-specific counts.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import generate
from benchmarks.generate import bench_study, generate_extract  # noqa: F401 (re-exported for tests)
from helpers.core import atomic
from helpers.core import calendar
HORIZONS = (52, 104, 156, 312)
YEARS = 5
LASTING_WEEKS = 4
NAIVE_MAX = 50_000  # the naive baseline is run up to this size (it holds the long table in memory)
BLOCK_ROWS = 50_000

#: Output schema shared by the pipeline and the peer (compared row for row).
PERSON_SCHEMA = pa.schema([("person_id", pa.string()), ("index_week", pa.int32()), ("lasting_week", pa.int32()),
                           *[(f"state_{h}", pa.string()) for h in HORIZONS]])
YEAR_SCHEMA = pa.schema([("person_id", pa.string()), ("year", pa.int8()), ("category", pa.string()),
                         ("weeks", pa.int16())])


def __getattr__(name: str):
    if name == "BENCH_DIR":  # tests monkeypatch generate.BENCH_DIR; read it from there
        return generate.BENCH_DIR
    raise AttributeError(name)


def _study(n_persons: int, fmt: str = "parquet"):
    from helpers.config import load_study

    return load_study(bench_study(n_persons, fmt))


def output_dir(n_persons: int) -> Path:
    """``data/bench/n<N>/bench_out``: per-person results of the outcome steps (git-ignored)."""
    return generate.BENCH_DIR / f"n{n_persons}" / "bench_out"


# ----------------------------------------------------------------------------- ingest
def step_ingest(n_persons: int, fmt: str) -> dict:
    """Raw extract -> processed store; ``rows_per_second`` over the whole ingest."""
    from helpers.ingest import ingest

    study = _study(n_persons, fmt)
    t = time.time()
    ingest(study, force=True)
    seconds = time.time() - t
    return {"seconds": seconds, "rows": n_persons, "rows_per_second": round(n_persons / seconds, 1)}


def step_raw_scan(n_persons: int) -> dict:
    """Read every weekly column of the processed store into one int16 matrix (the floor)."""
    study = _study(n_persons)
    t = time.time()
    pf = pq.ParquetFile(study.processed_dir / "weekly.parquet")
    cols = [c for c in pf.schema_arrow.names if c.startswith("w")]
    matrix = np.empty((pf.metadata.num_rows, len(cols)), dtype=np.int16)
    r = 0
    for batch in pf.iter_batches(columns=cols, batch_size=BLOCK_ROWS):
        k = batch.num_rows
        matrix[r:r + k] = np.column_stack([batch.column(i).to_numpy(zero_copy_only=False)
                                           for i in range(batch.num_columns)])
        r += k
    return {"seconds": time.time() - t, "checksum": int(matrix.sum(dtype=np.int64) % 1_000_003)}


# ----------------------------------------------------------------------------- index weeks
def _index_weeks(n: int, first_week: int, n_weeks: int, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return first_week + rng.integers(156, n_weeks - 312, size=n)


def index_table(n_persons: int) -> Path:
    """``bench_index.parquet`` in the processed store: one index week per person (store order).

    Drawn uniformly so that 156 weeks of history and 312 weeks of follow-up lie in the
    extract; the input of both the pipeline's and the peer's outcome step.
    """
    study = _study(n_persons)
    path = study.processed_dir / "bench_index.parquet"
    weekly = pq.ParquetFile(study.processed_dir / "weekly.parquet")
    names = [c for c in weekly.schema_arrow.names if c.startswith("w")]
    first, n_weeks = int(names[0][1:]), len(names)
    ids = pq.read_table(study.processed_dir / "persons.parquet", columns=["person_id"]).column(0)
    if path.exists() and path.stat().st_mtime >= (study.processed_dir / "manifest.json").stat().st_mtime:
        return path
    table = pa.table({"person_id": ids, "index_week": pa.array(_index_weeks(len(ids), first, n_weeks), pa.int32())})
    with atomic.atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


# ----------------------------------------------------------------------------- outcomes
def step_outcomes(n_persons: int, *, block_rows: int = BLOCK_ROWS, write: bool = True) -> dict:
    """Processed store -> per-person outcomes for every person, with the pipeline's own functions.

    Time to lasting self-support (:func:`helpers.outcomes.status.lasting_self_support`, 4 weeks,
    employment required), status at 4 horizons (:func:`helpers.outcomes.status.state_at`, employment
    from :func:`helpers.outcomes.status.aligned_employment`) and weeks per category per year for 5
    years (:func:`helpers.outcomes.status.weeks_by_category_per_year`), reading the store in blocks of
    persons (:func:`helpers.core.store.iter_blocks`) so memory is set by the block size. Writes
    ``outcomes_persons.parquet`` and ``outcomes_years.parquet`` (years: non-zero cells only).
    """
    from helpers.outcomes import status
    from helpers.core import store
    from helpers.core.codes import CodeBook

    study = _study(n_persons)
    index_path = index_table(n_persons)
    out = output_dir(n_persons)
    out.mkdir(parents=True, exist_ok=True)
    t = time.time()
    book = CodeBook.default()
    index = pq.ParquetFile(index_path).iter_batches(batch_size=block_rows)
    events = person_years = 0
    pw = pq.ParquetWriter(out / ".outcomes_persons.tmp", PERSON_SCHEMA) if write else None
    yw = pq.ParquetWriter(out / ".outcomes_years.tmp", YEAR_SCHEMA) if write else None
    from helpers.core.progress import bar

    with bar(total=n_persons, desc="outcomes", unit="person") as progress:
        for weekly, monthly in store.iter_blocks(study, block_rows=block_rows):
            ib = next(index)
            n = len(weekly.person_id)
            if ib.column(0).to_pylist() != weekly.person_id.tolist():
                raise ValueError("bench_index.parquet is not in store order; delete it and re-run")
            rows = np.arange(n)
            idx = ib.column(1).to_numpy().astype(np.int64)
            lasting = status.lasting_self_support(weekly, monthly, rows, idx, n=LASTING_WEEKS,
                                                  require_employment=True, codebook=book)
            events += int((lasting["lasting_week"] > 0).sum())
            width = max(HORIZONS) + 1
            codes = status.aligned_codes(weekly, rows, idx, 0, width)
            employed, _ = status.aligned_employment(monthly, weekly.person_id, idx, 0, width)
            states = {f"state_{h}": status.state_at(codes, h, book, employed=employed) for h in HORIZONS}
            per_year = status.weeks_by_category_per_year(weekly, rows, idx, YEARS, book)
            person_years += int(per_year["weeks"].sum())
            if write:
                pw.write_table(pa.table({"person_id": weekly.person_id.astype(str), "index_week": idx.astype(np.int32),
                                         "lasting_week": lasting["lasting_week"].to_numpy().astype(np.int32),
                                         **{k: v.astype(str) for k, v in states.items()}}, schema=PERSON_SCHEMA))
                nz = per_year[per_year["weeks"] > 0]
                yw.write_table(pa.table({"person_id": nz["person_id"].astype(str).to_numpy(),
                                         "year": nz["year"].to_numpy().astype(np.int8),
                                         "category": nz["category"].astype(str).to_numpy(),
                                         "weeks": nz["weeks"].to_numpy().astype(np.int16)}, schema=YEAR_SCHEMA))
            progress.update(n)
    if write:
        pw.close()
        yw.close()
        (out / ".outcomes_persons.tmp").replace(out / "outcomes_persons.parquet")
        (out / ".outcomes_years.tmp").replace(out / "outcomes_years.parquet")
    return {"seconds": time.time() - t, "events": events, "person_weeks_classified": person_years}


def step_peer_duckdb(n_persons: int) -> dict:
    """The same outcomes in DuckDB SQL over the same Parquet store (:mod:`benchmarks.peer_duckdb`)."""
    from benchmarks import peer_duckdb

    study = _study(n_persons)
    index_path = index_table(n_persons)
    out = output_dir(n_persons)
    t = time.time()
    info = peer_duckdb.outcomes(study.processed_dir, index_path, out, horizons=HORIZONS, years=YEARS,
                                lasting_weeks=LASTING_WEEKS, temp_dir=generate.BENCH_DIR / "duckdb_tmp")
    return {"seconds": time.time() - t, **info}


def compare_outputs(n_persons: int) -> dict:
    """Rows that differ between the pipeline's and the peer's outputs (0 and 0 = equal on every person)."""
    from benchmarks import peer_duckdb

    return peer_duckdb.compare(output_dir(n_persons))


# ----------------------------------------------------------------------------- naive
def step_naive(n_persons: int) -> dict:
    """The student's way: read_csv wide, melt to long, groupby per person."""
    t = time.time()
    raw = generate.BENCH_DIR / f"n{n_persons}" / "dream.csv"
    wide = pd.read_csv(raw, dtype={"PNR": str})
    week_cols = [c for c in wide.columns if c.startswith("y_")]
    long = wide[["PNR", *week_cols]].melt(id_vars="PNR", var_name="col", value_name="code")
    long["year"] = long["col"].str[2:4].astype(int) + 2000
    long["week"] = long["col"].str[4:6].astype(int)
    long["dw"] = [calendar.dream_week_from_iso(y, w) for y, w in zip(long["year"], long["week"], strict=True)]
    long["code"] = long["code"].fillna(0).astype(int)
    first = long["dw"].min()
    index = pd.Series(_index_weeks(len(wide), first, len(week_cols)), index=wide["PNR"])
    long["t"] = long["dw"] - long["PNR"].map(index)
    long = long[(long["t"] >= 1) & (long["t"] <= 312)].sort_values(["PNR", "t"])

    def per_person(g: pd.DataFrame) -> pd.Series:
        ss = (g["code"].isin([0, 121, 122, 123])).to_numpy()
        run, first_t = 0, -1
        for i, v in enumerate(ss):
            run = run + 1 if v else 0
            if run == 4:
                first_t = i - 3
                break
        out = {"first": first_t}
        for h in HORIZONS:
            out[f"h{h}"] = bool(ss[h - 1]) if len(ss) >= h else False
        return pd.Series(out)

    res = long.groupby("PNR", sort=False).apply(per_person, include_groups=False)
    return {"seconds": time.time() - t, "events": int((res["first"] >= 0).sum())}


# ----------------------------------------------------------------------------- matching
def step_matching(n_persons: int, n_treated: int = 100, seed: int = 5, method: str = "exact",
                  n_index_weeks: int = 25) -> dict:
    """Eligibility, covariates and matching of ``n_treated`` against an in-memory pool of ``n_persons``.

    The pool is :func:`helpers.synth.register.synthetic_register`; the timed part is
    :func:`helpers.cohort.build.build_cohort` on it (seconds per stage in ``seconds_*``).
    """
    from helpers.cohort import build as cohort
    from helpers.synth import register

    reg = register.synthetic_register(n_pool=n_persons, n_treated=n_treated, seed=seed, n_index_weeks=n_index_weeks)
    study = register.synthetic_study(method=method, seed=seed)
    t = time.time()
    result = cohort.build_cohort(study, reg["persons"], reg["residence"], reg["weekly"], reg["monthly"],
                                 reg["screening"])
    out = {"seconds": time.time() - t, "n_treated": n_treated, "method": method}
    out.update({f"seconds_{k}": round(v, 3) for k, v in result.timings.items()})
    out["n_matched"] = int(result.match_summary["n_treated_matched"])
    out["n_candidate_rows"] = int(result.match_summary["n_candidate_rows"])
    return out


STEPS = {
    "ingest_csv": lambda n: step_ingest(n, "csv"),
    "ingest_parquet": lambda n: step_ingest(n, "parquet"),
    "raw_scan": step_raw_scan,
    "outcomes": step_outcomes,
    "peer_duckdb": step_peer_duckdb,
    "naive": step_naive,
    "matching": step_matching,
    "ingest_dta": lambda n: step_ingest(n, "dta"),
    "ingest_sas7bdat": lambda n: step_ingest(n, "sas7bdat"),
}
