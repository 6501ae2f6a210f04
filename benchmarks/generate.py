"""Bench extracts: DREAM-style wide files of any size, generated once and cached in ``data/bench/``.

The weekly states follow a simple semi-Markov chain (:func:`simulate`), not the study
generator of :mod:`helpers.synth`: the extracts exist to load the code at register scale,
block by block, so a 1,000,000-person file is written with bounded memory.

Person IDs are 10-digit strings whose first two digits are 32-99, so none is a valid CPR
date (day of month) and none can be a real person's number.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from helpers.core import atomic
from helpers.core import calendar
from helpers.core import paths
BENCH_DIR = paths.DATA_DIR / "bench"
FIRST_YEAR, LAST_YEAR = 2008, 2025
#: Bump when the generated files change for the same size (a cached extract of another version is rebuilt).
GENERATOR_VERSION = 2
#: Bump when the choice of intervention persons changes (``screening.csv`` is rebuilt from the Parquet file).
SCREENING_VERSION = 2

# states of the bench generator and the code each emits
STATE_CODES = np.array([0, 730, 111, 890, 771, 783, 651, 999, 737], dtype=np.int16)
#                        self cash  ui  sick flex  dp  edu dead praktik
_START_P = [0.55, 0.2, 0.08, 0.05, 0.02, 0.03, 0.05, 0.0, 0.02]
_NEXT_P = np.array([0.45, 0.25, 0.1, 0.07, 0.03, 0.01, 0.06, 0.005, 0.025])
_NEXT_P = _NEXT_P / _NEXT_P.sum()
_MEAN_LEN = np.array([60, 40, 20, 12, 80, 1, 30, 1, 8])

#: Intake weeks of the full-report scenario's intervention group: every second Monday from
#: 2017-01-02 for 20 intakes (a programme that starts small groups through the year).
INTAKE_START = "2017-01-02"
N_INTAKES = 20


def person_ids(start: int, n: int) -> np.ndarray:
    """Bench person IDs ``start .. start + n - 1`` (10 digits, first two 32-99: never a CPR date)."""
    i = np.arange(start, start + n, dtype=np.int64)
    return np.char.add(np.char.zfill((32 + i % 68).astype(str), 2), np.char.zfill((i // 68).astype(str), 8))


def simulate(rng: np.random.Generator, n: int, n_weeks: int) -> np.ndarray:
    """Weekly codes of ``n`` persons (int16, 0 = self-support), spells of geometric length.

    Self-support, cash benefit 730 with work placements 737, UI 111, sickness 890, flexjob
    771, disability pension 783 (absorbing), SU 651 and death 999 (absorbing).
    """
    state = rng.choice(9, size=n, p=_START_P)
    left = rng.geometric(1 / 26, size=n)
    out = np.empty((n, n_weeks), dtype=np.int16)
    for w in range(n_weeks):
        out[:, w] = STATE_CODES[state]
        left -= 1
        move = (left <= 0) & (state != 5) & (state != 7)
        k = int(move.sum())
        if k:
            new = rng.choice(9, size=k, p=_NEXT_P)
            state[move] = new
            left[move] = rng.geometric(1 / _MEAN_LEN[new])
    return out


def _wide_table(rng, start, codes, weeks, month_idx, months, month_names) -> pa.Table:
    n = codes.shape[0]
    cols: dict[str, pa.Array] = {
        "PNR": pa.array(person_ids(start, n)),
        "kon": pa.array(rng.integers(1, 3, size=n).astype(np.int8)),
        "foed_dag": pa.array(pd.to_datetime(rng.integers(-7000, 11000, size=n), unit="D").strftime("%Y-%m-%d")),
    }
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        cols[f"nykom{year}"] = pa.array(np.full(n, 183, dtype=np.int16))
    for j, name in enumerate(weeks):
        col = codes[:, j]
        cols[name] = pa.array(col, mask=col == 0)
    employed_week = codes == 0
    branche = pa.array(np.full(n, "472100"))
    for m, label in zip(months, month_names, strict=True):
        in_month = month_idx == m
        employed = employed_week[:, in_month].mean(axis=1) >= 0.5
        employed &= rng.random(n) < 0.8
        not_employed = pa.array(~employed)
        cols[f"branche_{label}"] = pc.if_else(not_employed, pa.scalar(None, pa.string()), branche)
        cols[f"grad_{label}"] = pa.array(np.round(rng.uniform(0.3, 1.0, n), 2), mask=~employed)
    return pa.table(cols)


def _eligible_for_intake(codes: np.ndarray, birth: np.ndarray, first_week: int, intake_weeks: np.ndarray,
                         rng) -> tuple[np.ndarray, np.ndarray]:
    """Rows and index weeks of persons in this block who meet the demo criteria at an intake week.

    Conservative on purpose (cash benefit 730 in each of the 60 weeks before the index week
    and in the index week itself, at most 260 cash-benefit weeks in the 520 before, aged
    25-60 at the index week), so that they pass the eligibility rules of
    ``studies/demo.yaml`` in :mod:`helpers.cohort.build`.
    """
    week = intake_weeks[rng.integers(0, len(intake_weeks), size=codes.shape[0])]
    col = week - first_week
    around = np.take_along_axis(codes, col[:, None] + np.arange(-60, 1)[None, :], axis=1)
    back = col[:, None] + np.arange(-520, 0)[None, :]
    cash520 = np.isin(np.take_along_axis(codes, np.clip(back, 0, None), axis=1), (730, 737)) & (back >= 0)
    monday = np.array([np.datetime64(calendar.monday_of_dream_week(int(w))) for w in intake_weeks])
    age_days = (monday[np.searchsorted(intake_weeks, week)] - birth.astype("datetime64[D]")).astype(np.int64)
    ok = (around == 730).all(axis=1) & (cash520.sum(axis=1) <= 260) & (age_days > 25 * 366) & (age_days < 60 * 365)
    return np.flatnonzero(ok), week


def _pick(codes, birth, start, first_week, intake, rng, chosen, n_intervention) -> None:
    n_chosen = sum(len(c[0]) for c in chosen)
    if n_chosen >= n_intervention:
        return
    rows, wk = _eligible_for_intake(codes, birth, first_week, intake, rng)
    take = rows[: n_intervention - n_chosen]
    chosen.append((person_ids(start, codes.shape[0])[take], wk[take]))


def generate_extract(n_persons: int, out_dir: Path, seed: int = 7, chunk: int = 20_000, *,
                     formats: tuple[str, ...] = ("csv", "parquet"), n_intervention: int = 100,
                     progress=None) -> dict:
    """Write a wide DREAM-style extract with ``n_persons`` rows, and a screening form.

    Parameters
    ----------
    n_persons : int
    out_dir : Path
        ``dream.csv`` and/or ``dream.parquet``, ``screening.csv`` and ``extract.json`` go here.
    seed : int
    chunk : int
        Persons simulated and written per block (memory is set by the block).
    formats : tuple of str
        ``"csv"`` and/or ``"parquet"``.
    n_intervention : int
        Persons put in ``screening.csv`` as included (group ``intervention``), drawn among
        those who meet the demo study's criteria at one of :data:`N_INTAKES` intake weeks;
        as many again are written as screened but not included.
    progress : callable, optional
        Called with the number of persons written after each block.

    Returns
    -------
    dict
        Sizes, seconds and the number of intervention persons written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    weeks = calendar.week_columns(FIRST_YEAR, LAST_YEAR)
    dream_weeks = calendar.dream_week_range(FIRST_YEAR, LAST_YEAR)
    month_idx = calendar.months_of_dream_weeks(dream_weeks)
    months = sorted(set(month_idx.tolist()))
    month_names = [f"{m // 12:04d}_{m % 12 + 1:02d}" for m in months]
    rng = np.random.default_rng(seed)
    pick_rng = np.random.default_rng(seed + 1)
    intake = calendar.dream_week_of_date(INTAKE_START) + 2 * np.arange(N_INTAKES)
    chosen: list[tuple[np.ndarray, np.ndarray]] = []
    t0 = time.time()
    targets = {fmt: out_dir / f"dream.{fmt}" for fmt in formats}
    writers: dict[str, object] = {}
    with contextlib.ExitStack() as stack:
        tmp = {fmt: stack.enter_context(atomic.atomic_path(path)) for fmt, path in targets.items()}
        for start in range(0, n_persons, chunk):
            n = min(chunk, n_persons - start)
            codes = simulate(rng, n, len(weeks))
            table = _wide_table(rng, start, codes, weeks, month_idx, months, month_names)
            birth = pd.to_datetime(table.column("foed_dag").to_numpy(zero_copy_only=False)).to_numpy()
            _pick(codes, birth, start, int(dream_weeks[0]), intake, pick_rng, chosen, n_intervention)
            if not writers:
                if "csv" in tmp:
                    writers["csv"] = pacsv.CSVWriter(str(tmp["csv"]), table.schema)
                if "parquet" in tmp:
                    writers["parquet"] = pq.ParquetWriter(str(tmp["parquet"]), table.schema, compression="zstd")
            for w in writers.values():
                w.write_table(table)
            del table, codes
            if progress is not None:
                progress(start + n)
        for w in writers.values():
            w.close()
    ids = np.concatenate([c[0] for c in chosen]) if chosen else np.array([], dtype=str)
    iw = np.concatenate([c[1] for c in chosen]) if chosen else np.array([], dtype=np.int64)
    _write_screening(out_dir / "screening.csv", ids, iw, n_persons, pick_rng)
    meta = {"version": GENERATOR_VERSION, "screening_version": SCREENING_VERSION, "n_persons": n_persons, "n_weeks": len(weeks), "seed": seed,
            "formats": list(formats), "n_intervention": int(len(ids)), "seconds": round(time.time() - t0, 1)}
    for fmt in formats:
        meta[f"{fmt}_mb"] = round(targets[fmt].stat().st_size / 1e6, 1)
    atomic.write_json(out_dir / "extract.json", meta)
    return meta


def _write_screening(path: Path, ids: np.ndarray, index_weeks: np.ndarray, n_persons: int, rng) -> None:
    """Included persons (inclusion date = Monday of the index week) and as many screened, not included."""
    inc_dates = [calendar.monday_of_dream_week(int(w)) for w in index_weeks]
    excluded = person_ids(0, n_persons)[rng.choice(n_persons, size=min(len(ids), n_persons), replace=False)]
    excluded = excluded[~np.isin(excluded, ids)]
    first = min(inc_dates) if inc_dates else dt.date(2017, 1, 2)
    frame = pd.DataFrame({
        "PNR": np.r_[ids, excluded],
        "screening_date": [str(d - dt.timedelta(days=14)) for d in inc_dates] + [str(first - dt.timedelta(days=14))]
        * len(excluded),
        "included": np.r_[np.ones(len(ids), int), np.zeros(len(excluded), int)],
        "exclusion_reason": [""] * len(ids) + ["declined"] * len(excluded),
        "inclusion_date": [str(d) for d in inc_dates] + [""] * len(excluded),
        "group": ["intervention"] * len(ids) + [""] * len(excluded),
    })
    atomic.write_csv(path, frame)


def rebuild_screening(folder: Path, n_intervention: int = 100, seed: int = 7, chunk: int = 20_000) -> int:
    """Re-derive ``screening.csv`` of a cached extract from its ``dream.parquet`` (same persons as a fresh run)."""
    pf = pq.ParquetFile(folder / "dream.parquet")
    names = pf.schema_arrow.names
    week_names = [c for c in names if c.startswith("y_")]
    first_week = int(calendar.dream_week_range(FIRST_YEAR, LAST_YEAR)[0])
    pick_rng = np.random.default_rng(seed + 1)
    intake = calendar.dream_week_of_date(INTAKE_START) + 2 * np.arange(N_INTAKES)
    chosen: list[tuple[np.ndarray, np.ndarray]] = []
    start = 0
    for batch in pf.iter_batches(batch_size=chunk, columns=["foed_dag", *week_names]):
        codes = np.column_stack([batch.column(j).fill_null(0).to_numpy() for j in range(1, batch.num_columns)])
        birth = pd.to_datetime(batch.column(0).to_numpy(zero_copy_only=False)).to_numpy()
        _pick(codes.astype(np.int16), birth, start, first_week, intake, pick_rng, chosen, n_intervention)
        start += batch.num_rows
        if sum(len(c[0]) for c in chosen) >= n_intervention:
            break
    ids = np.concatenate([c[0] for c in chosen])
    _write_screening(folder / "screening.csv", ids, np.concatenate([c[1] for c in chosen]),
                     pf.metadata.num_rows, pick_rng)
    meta = json.loads((folder / "extract.json").read_text())
    meta.update(screening_version=SCREENING_VERSION, n_intervention=int(len(ids)))
    atomic.write_json(folder / "extract.json", meta)
    return len(ids)


def ensure_extract(n_persons: int, formats: tuple[str, ...] = ("csv", "parquet"), log=print) -> Path:
    """The folder of the cached ``n_persons`` extract, generating what is missing."""
    folder = BENCH_DIR / f"n{n_persons}"
    meta_path = folder / "extract.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        have = set(meta.get("formats", ["csv", "parquet"]))
        if meta.get("version") == GENERATOR_VERSION and set(formats) <= have:
            if meta.get("screening_version") != SCREENING_VERSION:
                rebuild_screening(folder)
            return folder
        formats = tuple(sorted(set(formats) | (have if meta.get("version") == GENERATOR_VERSION else set())))
    from helpers.core.progress import bar

    log(f"[bench] generating {n_persons:,} persons x {len(calendar.week_columns(FIRST_YEAR, LAST_YEAR))} weeks "
        f"({', '.join(formats)}) into {paths.relative(folder)} ...")
    with bar(total=n_persons, desc=f"generating {n_persons:,} persons", unit="person") as pbar:
        done = [0]

        def tick(k: int) -> None:
            pbar.update(k - done[0])
            done[0] = k

        meta = generate_extract(n_persons, folder, formats=formats, progress=tick)
    log(f"[bench]   {meta}")
    return folder


def ensure_readstat_copies(n_persons: int, log=print) -> dict[str, Path]:
    """``dream.dta`` (pyreadstat) and ``dream.sas7bdat`` of the cached extract, written once.

    pyreadstat writes Stata, SPSS and SAS transport files but not SAS7BDAT; the SAS7BDAT is
    converted from the Stata file with ReadStat's command-line tool (Debian package
    ``readstat``, ``apt-get install readstat``), as the test fixture
    ``tests/data/ingest/dream.sas7bdat`` is. Returns the paths that exist (no sas7bdat when
    ``readstat`` is not installed).
    """
    import pyreadstat

    folder = ensure_extract(n_persons, ("parquet",), log=log)
    out = {}
    dta = folder / "dream.dta"
    if not dta.exists():
        log(f"[bench] writing {paths.relative(dta)} (pyreadstat) ...")
        frame = pq.read_table(folder / "dream.parquet").to_pandas()
        for c in frame.columns:
            if c.startswith(("y_", "nykom", "grad_")):
                frame[c] = frame[c].astype("float64")  # Stata numeric missing for empty weeks
        with atomic.atomic_path(dta) as tmp:
            pyreadstat.write_dta(frame, str(tmp), version=15)
        del frame
    out["dta"] = dta
    sas = folder / "dream.sas7bdat"
    if not sas.exists() and shutil.which("readstat"):
        log(f"[bench] converting to {paths.relative(sas)} (readstat) ...")
        tmp = sas.with_name(f".partial-{sas.name}")  # readstat picks the format from the suffix
        tmp.unlink(missing_ok=True)
        try:
            subprocess.run(["readstat", str(dta), str(tmp)], check=True, capture_output=True)
            _, meta = pyreadstat.read_sas7bdat(str(tmp), metadataonly=True)
            if meta.number_rows != n_persons:
                raise RuntimeError(f"readstat wrote {meta.number_rows} rows to {tmp}, expected {n_persons}")
            tmp.replace(sas)
        finally:
            tmp.unlink(missing_ok=True)
    if sas.exists():
        out["sas7bdat"] = sas
    return out


def bench_study(n_persons: int, fmt: str, *, full: bool = False, directory: Path | None = None) -> Path:
    """Write a study YAML for a bench extract and return its path.

    The demo study's settings with ``data`` pointed at the extract (``dream.<fmt>``). With
    ``full``, the screening form is kept (the other forms are null) so that the whole
    report runs; without it every form is null (the ingest-only steps).
    """
    base = yaml.safe_load((paths.STUDIES_DIR / "demo.yaml").read_text(encoding="utf-8"))
    name = f"bench_{n_persons}_{fmt}" + ("_full" if full else "")
    base["study"].update(name=name, synthetic=True, title=f"bench {n_persons:,} persons ({fmt})")
    base.pop("synthetic", None)
    base["data"].update(raw_dir=str(BENCH_DIR / f"n{n_persons}"), first_year=FIRST_YEAR, last_year=LAST_YEAR)
    base["data"]["dream"].update(path=f"dream.{fmt}")
    base["data"]["forms"] = {"screening": "screening.csv" if full else None, "questionnaires": None,
                             "events": None, "costs": None}
    if full:
        base["power"]["n_per_group"] = 100
        for definition in base["outcomes"]["definitions"].values():
            definition.pop("events", None)  # the bench has no events form
    path = (directory or BENCH_DIR / "studies") / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, yaml.safe_dump(base, allow_unicode=True))
    return path
