"""The register-scale benchmarks (benchmarks/, run by `make bench`) on small extracts.

Performance targets live in the bench itself; these tests check that its pieces compute
the right things: blockwise store reading, the pipeline's outcome step against the
DuckDB peer on every person, the fitted exponents, the memory sampler and the report.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from benchmarks import generate, measure, peer_duckdb, report, scaling
from benchmarks import steps as bench
from helpers.core import store
from helpers.config import load_study


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    old = generate.BENCH_DIR
    generate.BENCH_DIR = root
    try:
        bench.generate_extract(1_200, root / "n1200", chunk=500)
        bench.step_ingest(1_200, "parquet")
        yield load_study(bench.bench_study(1_200, "parquet"))
    finally:
        generate.BENCH_DIR = old


@pytest.fixture
def bench_dir(small_store, monkeypatch):
    monkeypatch.setattr(generate, "BENCH_DIR", small_store.raw_dir.parent)
    return small_store.raw_dir.parent


def test_blocks_equal_the_whole_store(small_store):
    weekly = store.load_weekly(small_store)
    monthly = store.load_monthly(small_store)
    blocks = list(store.iter_blocks(small_store, block_rows=500))
    assert [len(w.person_id) for w, _ in blocks] == [500, 500, 200]
    assert np.array_equal(np.vstack([w.codes for w, _ in blocks]), weekly.codes)
    assert np.array_equal(np.concatenate([w.person_id for w, _ in blocks]), weekly.person_id)
    np.testing.assert_array_equal(np.vstack([m.degree for _, m in blocks]), monthly.degree)
    assert all(w.first_week == weekly.first_week for w, _ in blocks)


def test_csv_and_parquet_extracts_ingest_to_the_same_store(small_store, bench_dir):
    bench.step_ingest(1_200, "csv")
    from_csv = store.load_weekly(load_study(bench.bench_study(1_200, "csv")))
    assert np.array_equal(from_csv.codes, store.load_weekly(small_store).codes)


def test_pipeline_outcomes_agree_with_the_naive_baseline_on_lasting_self_support(small_store, bench_dir):
    """The naive student code and the pipeline find lasting self-support for nearly the same persons.

    The naive baseline ignores the employment requirement and stops at week 312, so the
    pipeline (whole follow-up, employment required) may differ a little; both must find
    most persons (the bench extract is mostly self-supported).
    """
    pipe = bench.step_outcomes(1_200)
    naive = bench.step_naive(1_200)
    assert pipe["person_weeks_classified"] == 1_200 * 5 * 52
    assert abs(pipe["events"] - naive["events"]) / naive["events"] < 0.05


def test_person_ids_are_never_cpr_dates():
    ids = generate.person_ids(0, 5_000)
    assert len(set(ids)) == 5_000 and all(len(i) == 10 and i.isdigit() for i in ids)
    assert (np.array([int(i[:2]) for i in ids]) >= 32).all()  # no day of month is 32 or more


def test_duckdb_peer_equals_the_pipeline_on_every_person(small_store, bench_dir):
    pipe = bench.step_outcomes(1_200, block_rows=500)
    peer = bench.step_peer_duckdb(1_200)
    assert peer["persons"] == 1_200 and peer["events"] == pipe["events"]
    cmp = bench.compare_outputs(1_200)
    assert cmp["persons_rows"] == 1_200
    assert {k: v for k, v in cmp.items() if "only" in k} == {
        "persons_only_pipeline": 0, "persons_only_peer": 0, "years_only_pipeline": 0, "years_only_peer": 0}
    out = bench.output_dir(1_200)
    persons = pd.read_parquet(out / "outcomes_persons.parquet")
    # the comparison covers every kind of status the extract produces, and employment matters
    seen = set(persons[[c for c in persons if c.startswith("state_")]].to_numpy().ravel())
    assert {"employed", "self_support", "cash_benefit", "dead", "disability_pension"} <= seen
    years = pd.read_parquet(out / "outcomes_years.parquet")
    assert years.groupby(["person_id", "year"])["weeks"].sum().eq(52).all()
    assert len(years.groupby(["person_id", "year"])) == 1_200 * 5


def test_the_comparison_finds_a_peer_that_differs(small_store, bench_dir, tmp_path):
    """A peer with another run length (3 weeks) must show differing persons: the check can fail."""
    out = bench.output_dir(1_200)
    bench.step_outcomes(1_200)
    alt = tmp_path / "alt"
    peer_duckdb.outcomes(small_store.processed_dir, bench.index_table(1_200), alt, lasting_weeks=3)
    for name in ("persons", "years"):
        (alt / f"outcomes_{name}.parquet").write_bytes((out / f"outcomes_{name}.parquet").read_bytes())
    cmp = peer_duckdb.compare(alt)
    assert cmp["persons_only_pipeline"] > 0 and cmp["persons_only_peer"] == cmp["persons_only_pipeline"]
    assert cmp["years_only_pipeline"] == 0  # the yearly counts do not depend on the run length


def test_intervention_persons_of_the_bench_screening_pass_the_demo_criteria(small_store, bench_dir):
    from helpers.cohort import build as cohort
    screening = pd.read_csv(small_store.raw_dir / "screening.csv", dtype={"PNR": str})
    n_included = int(screening["included"].sum())  # 100 from 20,000 persons on; fewer eligible among 1,200
    assert 30 <= n_included <= 100 and screening["inclusion_date"].nunique() <= generate.N_INTAKES
    full = load_study(bench.bench_study(1_200, "parquet", full=True))
    from helpers.ingest import ingest

    ingest(full, force=True)
    # 1,200 persons are too few controls for 1:1 matching of them all; eligibility is what is tested here
    full = full.model_copy(update={"matching": full.matching.model_copy(update={"allow_unmatched": True})})
    result = cohort.build_cohort(full, store.load_persons(full), store.load_residence(full), store.load_weekly(full),
                                 store.load_monthly(full), store.load_form(full, "screening"))
    treated = result.cohort[result.cohort["group"] == "intervention"]
    assert treated["meets_criteria"].all()
    assert len(treated) + int(result.unmatched["n"].sum()) == n_included  # nobody dropped at eligibility


def test_fit_exponent_and_national_extrapolation():
    # time doubles when persons double (linear); memory constant
    table = pd.DataFrame({"step": ["s"] * 3, "n_persons": [50_000, 200_000, 1_000_000],
                          "seconds": [1.0, 4.0, 20.0], "peak_rss_mb": [500.0, 500.0, 500.0]})
    ex = scaling.exponents(table).iloc[0]
    assert ex["time_exponent"] == pytest.approx(1.0) and ex["memory_exponent"] == pytest.approx(0.0)
    # 20 s * 5.3 (persons) * 1750/939 (weeks) = 197.55 s; 500 MB * 1 * 1750/939 = 931.84 MB
    assert ex["national_seconds"] == pytest.approx(20 * 5.3 * 1750 / 939)
    assert ex["national_rss_mb"] == pytest.approx(500 * 1750 / 939)
    # the line through the two largest sizes: 20 s + (16 s / 800,000) * 4,300,000 = 106 s, times 1750/939
    assert ex["national_seconds_marginal"] == pytest.approx(106 * 1750 / 939)
    assert ex["national_rss_mb_marginal"] == pytest.approx(500 * 1750 / 939)
    # fixed costs: 400 MB + 1 KB per person -> exponent well below 1, the marginal line is the larger figure
    fixed = pd.DataFrame({"step": ["m"] * 3, "n_persons": [50_000, 200_000, 1_000_000], "seconds": [1.0, 1.0, 1.0],
                          "peak_rss_mb": [400 + 0.001 * n for n in (50_000, 200_000, 1_000_000)]})
    f = scaling.exponents(fixed).iloc[0]
    assert f["memory_exponent"] < 0.5
    assert f["national_rss_mb_marginal"] == pytest.approx((400 + 0.001 * 5_300_000) * 1750 / 939)
    assert f["national_rss_mb_marginal"] > f["national_rss_mb"]
    # quadratic: 1, 16, 400 -> exponent 2
    assert scaling.fit_exponent([50, 200, 1000], [1, 16, 400]) == pytest.approx(2.0)


def test_tree_sampler_sees_a_child_process_memory():
    code = "import time; b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
    with measure.TreeSampler(interval=0.05) as sampler:
        sampler.phase("child")
        subprocess.run([sys.executable, "-c", code], check=True)
        sampler.phase("after")
    assert sampler.peaks["child"]["children_mb"] > 250
    assert sampler.peaks["after"]["children_mb"] < 50


def test_report_ratios_are_pipeline_over_peer():
    res = [
        {"step": "outcomes", "n_persons": 200_000, "seconds": 10.0, "peak_rss_mb": 1000.0, "cpu_seconds": 5.0, "runs": 3},
        {"step": "peer_duckdb", "n_persons": 200_000, "seconds": 40.0, "peak_rss_mb": 4000.0, "cpu_seconds": 25.0,
         "runs": 3},
        {"step": "peer_equality", "n_persons": 200_000, "persons_only_pipeline": 0, "persons_only_peer": 0,
         "persons_rows": 200_000, "years_only_pipeline": 0, "years_only_peer": 0, "years_rows": 4_000_000},
    ]
    md = report.markdown(res, {"cpus": 2})
    # time 10/40, CPU 5/25, memory 1,000/4,000
    assert "| 200,000 | 10.00 | 40.00 | 0.25 | 0.20 | 1,000 | 4,000 | 0.25 | 0 of 200,000 persons, 0 of 4,000,000 year" in md


def test_index_table_is_in_store_order(small_store, bench_dir):
    idx = pq.read_table(bench.index_table(1_200)).to_pandas()
    persons = store.load_persons(small_store)
    assert idx["person_id"].tolist() == persons["person_id"].tolist()
    first = store.load_weekly(small_store).first_week
    assert idx["index_week"].between(first + 156, first + 939 - 312).all()


def test_screening_rebuilt_from_the_parquet_equals_the_generated_one(small_store, bench_dir, tmp_path):
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in ("dream.parquet", "extract.json"):
        (folder / name).write_bytes((small_store.raw_dir / name).read_bytes())
    n = generate.rebuild_screening(folder, chunk=500)
    assert n > 0
    assert (folder / "screening.csv").read_text() == (small_store.raw_dir / "screening.csv").read_text()
