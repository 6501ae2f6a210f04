"""The register-scale helpers: blockwise store reading and the benchmark steps on a small extract."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import bench
from helpers.config import load_study
from helpers.core import store


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    old = bench.BENCH_DIR
    bench.BENCH_DIR = root
    try:
        bench.generate_extract(1_200, root / "n1200", chunk=500)
        bench.step_ingest(1_200, "parquet")
        yield load_study(bench.bench_study(1_200, "parquet"))
    finally:
        bench.BENCH_DIR = old


def test_blocks_equal_the_whole_store(small_store):
    weekly = store.load_weekly(small_store)
    monthly = store.load_monthly(small_store)
    blocks = list(store.iter_blocks(small_store, block_rows=500))
    assert [len(w.person_id) for w, _ in blocks] == [500, 500, 200]
    assert np.array_equal(np.vstack([w.codes for w, _ in blocks]), weekly.codes)
    assert np.array_equal(np.concatenate([w.person_id for w, _ in blocks]), weekly.person_id)
    np.testing.assert_array_equal(np.vstack([m.degree for _, m in blocks]), monthly.degree)
    assert all(w.first_week == weekly.first_week for w, _ in blocks)


def test_csv_and_parquet_extracts_ingest_to_the_same_store(small_store, monkeypatch):
    monkeypatch.setattr(bench, "BENCH_DIR", small_store.raw_dir.parent)
    bench.step_ingest(1_200, "csv")
    from_csv = store.load_weekly(load_study(bench.bench_study(1_200, "csv")))
    assert np.array_equal(from_csv.codes, store.load_weekly(small_store).codes)


def test_pipeline_outcomes_agree_with_the_naive_baseline_on_lasting_self_support(small_store, monkeypatch):
    """The naive student code and the pipeline find lasting self-support for nearly the same persons.

    The naive baseline ignores the employment requirement and stops at week 312, so the
    pipeline (whole follow-up, employment required) may differ a little; both must find
    most persons (the bench extract is mostly self-supported).
    """
    monkeypatch.setattr(bench, "BENCH_DIR", small_store.raw_dir.parent)
    pipe = bench.step_outcomes(1_200)
    naive = bench.step_naive(1_200)
    assert pipe["person_weeks_classified"] == 1_200 * 5 * 52
    assert abs(pipe["events"] - naive["events"]) / naive["events"] < 0.05
