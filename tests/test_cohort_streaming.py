"""The cohort stage's streaming build (issue 15.1) gives the in-memory build's result, frame for frame."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers.cohort import build as cohort
from helpers.cohort import streaming
from helpers.core import calendar, store
from helpers.core.store import MonthlyEmployment, WeeklyStatus
from helpers.synth.register import synthetic_register, synthetic_study


def _aligned_monthly(weekly: WeeklyStatus, monthly: MonthlyEmployment) -> MonthlyEmployment:
    """Monthly rows in the weekly store's order (NaN for persons without a monthly row)."""
    rows = pd.Index(monthly.person_id).get_indexer(weekly.person_id)
    degree = np.where(rows[:, None] >= 0, monthly.degree[np.maximum(rows, 0)], np.nan).astype(np.float32)
    return MonthlyEmployment(person_id=weekly.person_id, first_month=monthly.first_month, degree=degree)


def _write_store(folder, weekly: WeeklyStatus, monthly: MonthlyEmployment) -> None:
    """A processed store of just the files the cohort stage streams (weekly, monthly, manifest)."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = pa.array([str(i) for i in weekly.person_id], pa.string())
    wcols = {store.week_col(w): weekly.codes[:, k] for k, w in enumerate(weekly.weeks)}
    pq.write_table(pa.table({"person_id": ids, **wcols}), folder / "weekly.parquet", row_group_size=700)
    mcols = {}
    for k in range(monthly.degree.shape[1]):
        year, month0 = divmod(monthly.first_month + k, 12)
        mcols[store.month_col(year, month0 + 1)] = monthly.degree[:, k]
    pq.write_table(pa.table({"person_id": ids, **mcols}), folder / "monthly.parquet", row_group_size=700)
    (folder / "manifest.json").write_text(json.dumps({}), encoding="utf-8")


def _memory_sources(weekly: WeeklyStatus, monthly: MonthlyEmployment, block_rows: int):
    def blocks():
        for s in range(0, len(weekly.person_id), block_rows):
            sl = slice(s, s + block_rows)
            yield (WeeklyStatus(weekly.person_id[sl], weekly.first_week, weekly.codes[sl]),
                   MonthlyEmployment(monthly.person_id[sl], monthly.first_month, monthly.degree[sl]))

    def load(ids):
        rows = np.flatnonzero(pd.Index(weekly.person_id).isin(ids))
        return (WeeklyStatus(weekly.person_id[rows], weekly.first_week, weekly.codes[rows]),
                MonthlyEmployment(monthly.person_id[rows], monthly.first_month, monthly.degree[rows]))

    return blocks, load


def _assert_same(a: cohort.CohortBuild, b: cohort.CohortBuild) -> None:
    pd.testing.assert_frame_equal(a.candidates, b.candidates)
    pd.testing.assert_frame_equal(a.cohort, b.cohort)
    pd.testing.assert_frame_equal(a.attrition, b.attrition)
    pd.testing.assert_frame_equal(a.balance, b.balance)
    pd.testing.assert_frame_equal(a.unmatched, b.unmatched)
    pd.testing.assert_frame_equal(a.follow_up, b.follow_up)
    drop = {"seconds"}
    assert {k: v for k, v in a.match_summary.items() if k not in drop} == {
        k: v for k, v in b.match_summary.items() if k not in drop}
    assert a.notes == b.notes and a.balance_covariates == b.balance_covariates
    assert a.unmirrored_reasons == b.unmirrored_reasons


@pytest.mark.parametrize("method", ["exact", "nearest"])
def test_streaming_build_from_a_store_is_the_in_memory_build(tmp_path, method):
    reg = synthetic_register(n_pool=3_000, n_treated=30, seed=11)
    study = synthetic_study(method, seed=11)
    weekly = reg["weekly"]
    monthly = _aligned_monthly(weekly, reg["monthly"])
    first = cohort.first_week_needed(study, reg["screening"])
    whole = cohort.build_cohort(study, reg["persons"], reg["residence"],
                                store.WeeklyStatus(weekly.person_id, weekly.first_week, weekly.codes), monthly,
                                reg["screening"])
    folder = tmp_path / "processed"
    _write_store(folder, weekly, monthly)
    blocks, load, n_blocks = streaming.store_sources(folder, first_week=first, block_rows=450)
    assert n_blocks == 7  # 3,030 persons in blocks of 450, the last one partial
    streamed = streaming.build_cohort_streaming(study, reg["persons"], reg["residence"], reg["screening"],
                                                blocks=blocks, load=load, n_blocks=n_blocks)
    _assert_same(whole, streamed)
    assert whole.attrition["n_excluded"].sum() > 0 and len(whole.candidates) > 500
    assert streamed.candidates["row"].max() > 450  # rows of the whole store, not of a block


def test_streaming_build_with_tiny_blocks_and_sub_blocks(monkeypatch):
    # blocks of 97 persons, each evaluated in sub-blocks of ~40 persons; a cut weekly window as the stage reads
    reg = synthetic_register(n_pool=2_000, n_treated=25, seed=12)
    base = synthetic_study("exact", seed=12)
    study = base.model_copy(update={"cohort": base.cohort.model_copy(
        update={"cash_benefit_lookback_weeks": 104, "transfers_lookback_weeks": 104})})
    w = reg["weekly"]
    first = cohort.first_week_needed(study, reg["screening"])
    cut = WeeklyStatus(w.person_id, first, w.codes[:, first - w.first_week:])
    monthly = _aligned_monthly(cut, reg["monthly"])
    whole = cohort.build_cohort(study, reg["persons"], reg["residence"], cut, monthly, reg["screening"])
    monkeypatch.setattr(cohort, "CANDIDATE_BLOCK_PAIRS", 997)
    blocks, load = _memory_sources(cut, monthly, 97)
    streamed = streaming.build_cohort_streaming(study, reg["persons"], reg["residence"], reg["screening"],
                                                blocks=blocks, load=load)
    _assert_same(whole, streamed)
    assert calendar.dream_weeks_of_dates(reg["screening"]["inclusion_date"].dropna()).min() > first


def test_store_blocks_of_an_extract_without_monthly_employment(tmp_path):
    # an extract with no branche/grad columns gives a monthly store of IDs only (the README walkthrough's
    # shape); its blocks must carry an empty (persons x 0) degree matrix, as store.load_monthly does
    ids = np.array([f"p{i}" for i in range(5)], dtype=object)
    weekly = WeeklyStatus(ids, 1200, np.arange(15, dtype=np.int16).reshape(5, 3))
    _write_store(tmp_path / "s", weekly, MonthlyEmployment(ids, 0, np.empty((5, 0), dtype=np.float32)))
    blocks = list(store.iter_blocks(tmp_path / "s", block_rows=2))
    assert [len(w.person_id) for w, _ in blocks] == [2, 2, 1]
    assert all(m.degree.shape == (len(w.person_id), 0) for w, m in blocks)
    assert store.load_monthly(tmp_path / "s").degree.shape == (5, 0)


def test_residence_ids_as_categorical_find_the_same_rows():
    """``store.load_residence`` gives ``person_id`` as a categorical (issue 15.1: ~9 GB of strings nationally)."""
    index = pd.Index(["p3", "p1", "p2"])
    ids = ["p1", "p1", "p9", None, "p3", "p2", "p2"]
    plain = pd.Series(ids, dtype=object)
    categorical = pd.Series(ids, dtype="category")
    expected = [1, 1, -1, -1, 0, 2, 2]
    assert store.rows_of(index, categorical).tolist() == expected
    assert store.rows_of(index, plain).tolist() == expected
