"""Register-scale benchmarks (``make bench``).

Generates (once, cached in ``data/bench/``) DREAM-style wide extracts of several sizes and
times, each step in a fresh subprocess so that its peak resident memory (RSS) is its own:

- ``ingest_csv`` / ``ingest_parquet``: raw extract -> processed store (:func:`helpers.ingest.ingest`);
- ``raw_scan``: reading every weekly column of the processed store into memory (the floor);
- ``outcomes``: processed store -> per-person outcomes for every person (time to lasting
  self-support, status at 4 horizons, weeks per category per year);
- ``naive``: what a student would write (``pandas.read_csv`` of the wide file, ``melt`` to long,
  ``groupby`` per person) for the same outcomes, on the sizes where it fits;
- ``matching``: 100 treated persons matched against the whole pool.

Results are printed and written to ``reports/bench/bench.json`` and ``bench.md``.
The bench extracts are simple semi-Markov trajectories (see :func:`generate_extract`), not the
study generator of :mod:`helpers.synth`: they exist to load the code at register scale.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from helpers.core import atomic, calendar, paths

BENCH_DIR = paths.DATA_DIR / "bench"
FIRST_YEAR, LAST_YEAR = 2008, 2025
DEFAULT_SIZES = (20_000, 50_000, 200_000)
NAIVE_MAX = 50_000  # the naive baseline is run up to this size (it holds the long table in memory)
HORIZONS = (52, 104, 156, 312)

# states of the bench generator and the code each emits
_STATE_CODES = np.array([0, 730, 111, 890, 771, 783, 651, 999, 737], dtype=np.int16)
#                         self cash  ui  sick flex  dp  edu dead praktik


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def generate_extract(n_persons: int, out_dir: Path, seed: int = 7, chunk: int = 20_000) -> dict:
    """Write a wide DREAM-style extract (CSV and Parquet) with ``n_persons`` rows.

    Weekly states follow a simple chain with spells of random length: self-support (empty),
    cash benefit 730 with work placements 737, UI 111, sickness 890, flexjob 771, disability
    pension 783 (absorbing), SU 651 and death 999 (absorbing). Employed months get a
    ``branche``/``grad`` value.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    weeks = calendar.week_columns(FIRST_YEAR, LAST_YEAR)
    dream_weeks = calendar.dream_week_range(FIRST_YEAR, LAST_YEAR)
    month_idx = calendar.months_of_dream_weeks(dream_weeks)
    months = sorted(set(month_idx.tolist()))
    month_names = [f"{m // 12:04d}_{m % 12 + 1:02d}" for m in months]
    rng = np.random.default_rng(seed)
    csv_path, pq_path = out_dir / "dream.csv", out_dir / "dream.parquet"
    csv_writer = pq_writer = None
    t0 = time.time()
    with atomic.atomic_path(csv_path) as csv_tmp, atomic.atomic_path(pq_path) as pq_tmp:
        for start in range(0, n_persons, chunk):
            n = min(chunk, n_persons - start)
            codes = _simulate(rng, n, len(weeks))
            table = _wide_table(rng, start, codes, weeks, month_idx, months, month_names)
            if csv_writer is None:
                csv_writer = pacsv.CSVWriter(str(csv_tmp), table.schema)
                pq_writer = pq.ParquetWriter(str(pq_tmp), table.schema, compression="zstd")
            csv_writer.write_table(table)
            pq_writer.write_table(table)
        csv_writer.close()
        pq_writer.close()
    meta = {"n_persons": n_persons, "n_weeks": len(weeks), "seconds": round(time.time() - t0, 1),
            "csv_mb": round(csv_path.stat().st_size / 1e6, 1), "parquet_mb": round(pq_path.stat().st_size / 1e6, 1)}
    for name, text in (("screening.csv", "PNR,screening_date,included,exclusion_reason,inclusion_date,group\n"),):
        (out_dir / name).write_text(text)
    atomic.write_json(out_dir / "extract.json", meta)
    return meta


def _simulate(rng: np.random.Generator, n: int, n_weeks: int) -> np.ndarray:
    state = rng.choice(9, size=n, p=[0.55, 0.2, 0.08, 0.05, 0.02, 0.03, 0.05, 0.0, 0.02])
    left = rng.geometric(1 / 26, size=n)
    out = np.empty((n, n_weeks), dtype=np.int16)
    nxt_p = np.array([0.45, 0.25, 0.1, 0.07, 0.03, 0.01, 0.06, 0.005, 0.025])
    nxt_p = nxt_p / nxt_p.sum()
    mean_len = np.array([60, 40, 20, 12, 80, 1, 30, 1, 8])
    for w in range(n_weeks):
        out[:, w] = _STATE_CODES[state]
        left -= 1
        move = (left <= 0) & (state != 5) & (state != 7)
        k = int(move.sum())
        if k:
            new = rng.choice(9, size=k, p=nxt_p)
            state[move] = new
            left[move] = rng.geometric(1 / mean_len[new])
    return out


def _wide_table(rng, start, codes, weeks, month_idx, months, month_names) -> pa.Table:
    n = codes.shape[0]
    cols: dict[str, pa.Array] = {
        "PNR": pa.array([f"{(start + i) * 7919 % 10**10:010d}" for i in range(n)]),
        "kon": pa.array(rng.integers(1, 3, size=n).astype(np.int8)),
        "foed_dag": pa.array(pd.to_datetime(rng.integers(-7000, 11000, size=n), unit="D").strftime("%Y-%m-%d")),
    }
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        cols[f"nykom{year}"] = pa.array(np.full(n, 183, dtype=np.int16))
    for j, name in enumerate(weeks):
        col = codes[:, j]
        cols[name] = pa.array(col, mask=col == 0)
    employed_week = codes == 0
    for m, label in zip(months, month_names, strict=True):
        in_month = month_idx == m
        employed = employed_week[:, in_month].mean(axis=1) >= 0.5
        employed &= rng.random(n) < 0.8
        cols[f"branche_{label}"] = pa.array(np.where(employed, "472100", None))
        cols[f"grad_{label}"] = pa.array(np.where(employed, np.round(rng.uniform(0.3, 1.0, n), 2), np.nan),
                                         mask=~employed)
    return pa.table(cols)


def bench_study(n_persons: int, fmt: str) -> Path:
    """Write a study YAML for a bench extract (csv or parquet) and return its path."""
    base = yaml.safe_load((paths.STUDIES_DIR / "demo.yaml").read_text(encoding="utf-8"))
    name = f"bench_{n_persons}_{fmt}"
    base["study"].update(name=name, synthetic=True, title=f"bench {n_persons} {fmt}")
    base.pop("synthetic", None)
    base["data"].update(raw_dir=str(BENCH_DIR / f"n{n_persons}"), first_year=FIRST_YEAR, last_year=LAST_YEAR)
    base["data"]["dream"].update(path=f"dream.{fmt}")
    base["data"]["forms"] = {"screening": None, "questionnaires": None, "events": None, "costs": None}
    path = BENCH_DIR / "studies" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- steps
def step_ingest(n_persons: int, fmt: str) -> dict:
    """Raw extract -> processed store."""
    from helpers.config import load_study
    from helpers.ingest import ingest

    study = load_study(bench_study(n_persons, fmt))
    t = time.time()
    ingest(study, force=True)
    return {"seconds": time.time() - t}


def step_raw_scan(n_persons: int) -> dict:
    """Read every weekly column of the processed store into one int16 matrix (the floor)."""
    from helpers.config import load_study

    study = load_study(bench_study(n_persons, "parquet"))
    t = time.time()
    pf = pq.ParquetFile(study.processed_dir / "weekly.parquet")
    cols = [c for c in pf.schema_arrow.names if c.startswith("w")]
    parts = []
    for batch in pf.iter_batches(columns=cols, batch_size=50_000):
        parts.append(np.column_stack([batch.column(i).to_numpy(zero_copy_only=False) for i in range(batch.num_columns)]))
    matrix = np.vstack(parts)
    return {"seconds": time.time() - t, "checksum": int(matrix.sum(dtype=np.int64) % 1_000_003)}


def _index_weeks(n: int, first_week: int, n_weeks: int, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return first_week + rng.integers(156, n_weeks - 312, size=n)


def step_outcomes(n_persons: int) -> dict:
    """Processed store -> per-person outcomes for every person, with the pipeline's own functions.

    Time to lasting self-support (:func:`helpers.outcomes.status.lasting_self_support`, employment
    required), status at 4 horizons (:func:`helpers.outcomes.status.state_at`) and weeks per category
    per year for 5 years (:func:`helpers.outcomes.status.weeks_by_category_per_year`), reading the store
    in blocks of persons (:func:`helpers.core.store.iter_blocks`) so memory stays bounded.
    """
    from helpers.config import load_study
    from helpers.core import store
    from helpers.core.codes import CodeBook
    from helpers.outcomes import status

    study = load_study(bench_study(n_persons, "parquet"))
    t = time.time()
    book = CodeBook.default()
    events = 0
    states: dict[str, int] = {}
    person_years = 0
    offset = 0
    for weekly, monthly in store.iter_blocks(study, block_rows=50_000):
        n = len(weekly.person_id)
        rows = np.arange(n)
        idx = _index_weeks(offset + n, weekly.first_week, weekly.n_weeks)[offset:]
        offset += n
        lasting = status.lasting_self_support(weekly, monthly, rows, idx, n=4, require_employment=True,
                                              codebook=book)
        events += int((lasting["lasting_week"] > 0).sum())
        codes = status.aligned_codes(weekly, rows, idx, 0, max(HORIZONS) + 1)
        employed, _ = status.aligned_employment(monthly, weekly.person_id, idx, 0, max(HORIZONS) + 1)
        for h in HORIZONS:
            values, counts = np.unique(status.state_at(codes, h, book, employed=employed), return_counts=True)
            for v, c in zip(values, counts, strict=True):
                states[str(v)] = states.get(str(v), 0) + int(c)
        per_year = status.weeks_by_category_per_year(weekly, rows, idx, 5, book)
        person_years += int(per_year["weeks"].sum())
    return {"seconds": time.time() - t, "events": events, "person_weeks_classified": person_years}


def step_naive(n_persons: int) -> dict:
    """The student's way: read_csv wide, melt to long, groupby per person."""
    t = time.time()
    raw = BENCH_DIR / f"n{n_persons}" / "dream.csv"
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


def step_matching(n_persons: int) -> dict:
    """100 treated matched against the pool (helpers.cohort.matching benchmark hook)."""
    from helpers.cohort import matching
    t = time.time()
    info = matching.matching_benchmark(n_pool=n_persons, n_treated=100, seed=5)
    out = {"seconds": time.time() - t}
    if isinstance(info, dict):
        out.update({k: v for k, v in info.items() if isinstance(v, int | float | str)})
    return out


STEPS = {
    "ingest_csv": lambda n: step_ingest(n, "csv"),
    "ingest_parquet": lambda n: step_ingest(n, "parquet"),
    "raw_scan": step_raw_scan,
    "outcomes": step_outcomes,
    "naive": step_naive,
    "matching": step_matching,
}


def run_step(step: str, n_persons: int, timeout: int = 3600) -> dict:
    """Run one step in a fresh interpreter and return its timing and peak RSS."""
    env = dict(os.environ, DREAM_EVAL_QUIET="1")
    proc = subprocess.run(
        [sys.executable, "-m", "helpers.bench", "--child", step, "--size", str(n_persons)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )
    if proc.returncode != 0:
        return {"step": step, "n_persons": n_persons, "error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(step=step, n_persons=n_persons)
    return result


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="register-scale benchmarks")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(DEFAULT_SIZES))
    parser.add_argument("--steps", nargs="*", default=list(STEPS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        out = STEPS[args.child](args.size)
        out["peak_rss_mb"] = round(_rss_mb(), 1)
        out["seconds"] = round(out["seconds"], 2)
        print(json.dumps(out))
        return 0
    results = []
    for n in args.sizes:
        folder = BENCH_DIR / f"n{n}"
        if not (folder / "extract.json").exists():
            print(f"[bench] generating {n:,} persons x {len(calendar.week_columns(FIRST_YEAR, LAST_YEAR))} weeks ...",
                  flush=True)
            meta = generate_extract(n, folder)
            print(f"[bench]   {meta}", flush=True)
        for step in args.steps:
            if step == "naive" and n > NAIVE_MAX:
                results.append({"step": step, "n_persons": n, "skipped": f"naive baseline only up to {NAIVE_MAX:,}"})
                continue
            res = run_step(step, n)
            results.append(res)
            print(f"[bench] {n:>8,} {step:<15} " + json.dumps({k: v for k, v in res.items()
                                                                 if k not in ("step", "n_persons")}), flush=True)
    report = summarise(results)
    out_dir = paths.REPORTS_DIR / "bench"
    atomic.write_json(out_dir / "bench.json", {"machine": _machine(), "results": results})
    atomic.write_text(out_dir / "bench.md", report)
    print(report)
    return 0


def _machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def summarise(results: list[dict]) -> str:
    """Markdown table of the results with the speed-up and floor ratios."""
    frame = pd.DataFrame([r for r in results if "seconds" in r])
    lines = ["# Benchmarks", "", f"Machine: {_machine()}", "",
             "| persons | step | seconds | peak RSS (MB) |", "|---:|---|---:|---:|"]
    for r in results:
        if "seconds" in r:
            lines.append(f"| {r['n_persons']:,} | {r['step']} | {r['seconds']:.2f} | {r['peak_rss_mb']:.0f} |")
        else:
            lines.append(f"| {r['n_persons']:,} | {r['step']} | {r.get('skipped') or r.get('error')} | |")
    if not frame.empty:
        lines += ["", "## Ratios", ""]
        piv = frame.pivot_table(index="n_persons", columns="step", values="seconds")
        for n, row in piv.iterrows():
            parts = []
            if "outcomes" in row and "raw_scan" in row and row["raw_scan"] > 0:
                parts.append(f"outcomes / raw scan = {row['outcomes'] / row['raw_scan']:.1f}x")
            if "naive" in row and "outcomes" in row and not np.isnan(row.get("naive", np.nan)):
                parts.append(f"naive / outcomes = {row['naive'] / row['outcomes']:.1f}x")
            if parts:
                lines.append(f"- {n:,} persons: " + "; ".join(parts))
        if "naive" in piv and piv["naive"].notna().sum() >= 1 and "outcomes" in piv:
            known = piv["naive"].dropna()
            per_person = (known / known.index).max()
            for n, row in piv.iterrows():
                if np.isnan(row.get("naive", np.nan)) and "outcomes" in row:
                    lines.append(f"- {n:,} persons: naive baseline not run; linear extrapolation "
                                 f"{per_person * n:.0f} s = {per_person * n / row['outcomes']:.0f}x the pipeline")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
