"""The ingest's fast paths (issue 15.3) give what the exact paths give, and fail the same way.

- ``convert.codes`` converts a numeric column in three array passes and falls back to the
  exact path for any value that is not a whole number in 0-999 (which then names the row);
- ``convert.present`` decides text values once per distinct value;
- ``WeeklyChecks`` counts persons per year and category with bit masks: checked here
  against a plain pandas count of the same random matrix;
- ``StagedStore`` writes on a background thread: a failed write still stops the ingest,
  and nothing reaches ``data/processed``;
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers.core import calendar
from helpers.core.codes import CATEGORIES, CodeBook
from helpers.ingest import IngestError, convert, readers
from helpers.ingest.errors import Where
from helpers.ingest.validate import WeeklyChecks
from helpers.ingest.writer import StagedStore

WHERE = Where(Path("dream.parquet"), "y_1901")


@pytest.mark.parametrize("values, expected", [
    (pa.array([730.0, None, 0.0, 999.0, float("nan")]), [730, 0, 0, 999, 0]),  # NaN and null: empty week
    (pa.array([111, None, 5], pa.int64()), [111, 0, 5]),
    (pa.array([111, 0, 999], pa.int16()), [111, 0, 999]),
    (pa.array([None, None], pa.float64()), [0, 0]),
])
def test_numeric_codes_fast_path_gives_the_codes(values, expected):
    out = convert.codes(values, WHERE, 0)
    assert out.dtype == np.int16 and out.tolist() == expected
    assert convert._codes_fast(values) is None or convert._codes_fast(values).tolist() == expected


@pytest.mark.parametrize("values, text", [
    (pa.array([730.0, 3.5]), "data row 2: code '3.5' is not a DREAM code"),
    (pa.array([730.0, None, -1.0]), "data row 3: code '-1.0' is not a DREAM code"),
    (pa.array([1000.0]), "data row 1: code a 6-character value is not a DREAM code"),
    (pa.array([5, 70_000], pa.int64()), "data row 2: code '70000' is outside 1-999"),  # wraps in int16
    (pa.array([5, -3], pa.int16()), "data row 2: code '-3' is outside 1-999"),
])
def test_a_bad_numeric_code_is_named_by_the_exact_path(values, text):
    assert convert._codes_fast(values) is None
    with pytest.raises(IngestError, match=text):
        convert.codes(values, WHERE, 0)


def test_present_text_by_distinct_value_equals_the_regex():
    values = pa.array(["", " ", "0", "00", " 0 ", ".", " . ", "472100", " 472100 ", None, "0.0", "x", "472100"])
    expected = [False, False, False, False, False, False, False, True, True, False, True, True, True]
    assert convert.present(values).tolist() == expected
    assert convert._present_values(values).tolist() == expected  # value by value, as before


def test_persons_and_person_weeks_per_year_match_a_pandas_count():
    weeks = calendar.dream_week_range(2019, 2021)
    rng = np.random.default_rng(15)
    # codes of several categories, blocks of each, and some whole empty rows
    pool = np.array([0, 0, 0, 111, 130, 651, 730, 737, 774, 783, 890, 997], dtype=np.int16)
    codes = pool[rng.integers(0, len(pool), size=(500, len(weeks)))]
    codes[:40] = 0
    codes[40:60, :] = 730
    book = CodeBook.default({})
    checks = WeeklyChecks(np.asarray(weeks), book)
    for a in range(0, 500, 120):  # in chunks, as the ingest feeds it
        checks.consume(np.asfortranarray(codes[a:a + 120]), lambda r, c: f"row {r} col {c}")
    long = pd.DataFrame({
        "person": np.repeat(np.arange(500), len(weeks)),
        "year": np.tile([calendar.iso_from_dream_week(int(w))[0] for w in weeks], 500),
        "category": book.categories(codes).ravel(),
    })
    years = sorted(long["year"].unique())
    assert list(checks.years) == years
    weeks_ref = long.groupby(["year", "category"]).size().unstack(fill_value=0).reindex(
        columns=range(len(CATEGORIES)), fill_value=0)
    persons_ref = long.drop_duplicates().groupby(["year", "category"]).size().unstack(fill_value=0).reindex(
        columns=range(len(CATEGORIES)), fill_value=0)
    np.testing.assert_array_equal(checks.person_weeks, weeks_ref.to_numpy())
    np.testing.assert_array_equal(checks.persons, persons_ref.to_numpy())
    assert checks.persons[:, CATEGORIES.index("self_support")].min() >= 40  # the empty rows, every year


def test_a_failed_background_write_stops_the_commit_and_leaves_the_target(tmp_path):
    target = tmp_path / "processed" / "study"
    target.mkdir(parents=True)
    (target / "weekly.parquet").write_bytes(b"the previous store")
    good = pa.table({"person_id": ["a"], "w1": pa.array([1], pa.int16())})
    other = pa.table({"person_id": ["b"], "w1": pa.array(["not a code"])})  # another schema: the writer refuses
    with pytest.raises(ValueError, match="schema"):
        with StagedStore(target) as stage:
            stage.append("weekly", good)
            stage.append("weekly", other)
            stage.commit({"study": "study"})
    assert (target / "weekly.parquet").read_bytes() == b"the previous store"
    assert not (target / "manifest.json").exists()
    assert not list(target.parent.glob(".study.ingest-*")), "the staging folder is removed"


def test_writes_land_in_order_and_rows_are_counted(tmp_path):
    with StagedStore(tmp_path / "p" / "s") as stage:
        for k in range(30):  # more than MAX_PENDING: append waits for the writer
            stage.append("weekly", pa.table({"person_id": [f"p{k}"], "w1": pa.array([k], pa.int16())}))
        stage.ensure("monthly", pa.schema([("person_id", pa.string())]))
        assert stage.rows == {"weekly": 30, "monthly": 0}
        paths = stage.commit({"study": "s"})
    table = pq.read_table(paths["weekly"])
    assert table.column("w1").to_pylist() == list(range(30)) and table.num_rows == 30
    assert pq.read_table(paths["monthly"]).num_rows == 0


def test_a_damaged_parquet_file_is_named_not_a_pyarrow_traceback(tmp_path):
    path = tmp_path / "dream.parquet"
    pq.write_table(pa.table({"PNR": ["0113901234"], "y_1901": pa.array([730], pa.int16())}), path)
    path.write_bytes(path.read_bytes()[:-20])  # cut off: the footer is gone, as after an interrupted copy
    with pytest.raises(IngestError, match="dream.parquet: cannot be read as Parquet .* get it delivered again"):
        readers.open_source(path, "parquet")
