"""The vectorised Stata reader (helpers.ingest.stata) reads what pyreadstat reads, value for value."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyreadstat
import pytest

from helpers.ingest import readers, stata


def _frame(n: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "PNR": [f"{40 + i:02d}13001234" for i in range(n)],
        "kon": rng.integers(1, 3, n).astype(np.int8),
        "small": rng.integers(-30_000, 30_000, n).astype(np.int16),
        "big": rng.integers(-2_000_000_000, 2_000_000_000, n).astype(np.int32),
        "f4": np.where(np.arange(n) % 4 == 0, np.nan, rng.random(n)).astype(np.float32),
        "y_1801": np.where(np.arange(n) % 3 == 0, np.nan, 730.0),
        "by": ["Ishøj", "", "Vejleå – syd"] + ["x" * (i % 5) for i in range(n - 3)],
        "foed_dag": [dt.date(1960 + i, 1 + i % 12, 1 + i) for i in range(n - 1)] + [None],
    })


def _reference(path, columns, first, n) -> pa.Table:
    frame, _ = pyreadstat.read_dta(str(path), usecols=columns, row_offset=first, row_limit=n)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _assert_same(ours: pa.Table, ref: pa.Table) -> None:
    assert ours.column_names == ref.column_names
    for name in ref.column_names:
        a, b = ours[name].combine_chunks(), ref[name].combine_chunks()
        if a.type != b.type:  # pyreadstat gives int16 or float64 where we give int64/float64; compare values
            b = b.cast(a.type)
        assert a.equals(b), f"column {name}: {a.to_pylist()} != {b.to_pylist()}"


def test_every_type_and_chunk_boundary_matches_pyreadstat(tmp_path):
    path = tmp_path / "x.dta"
    pyreadstat.write_dta(_frame(), str(path), version=15)
    lay = stata.layout(path)
    assert lay.release == 119 and lay.n_rows == 11
    cols = ["PNR", "kon", "small", "big", "f4", "y_1801", "by", "foed_dag"]
    chunks = list(stata.iter_dta(path, cols, 4, lay))
    assert [first for first, _ in chunks] == [0, 4, 8] and [t.num_rows for _, t in chunks] == [4, 4, 3]
    for first, table in chunks:
        _assert_same(table, _reference(path, cols, first, table.num_rows))
    whole = pa.concat_tables([t for _, t in chunks])
    assert whole["by"].to_pylist()[:3] == ["Ishøj", "", "Vejleå – syd"]
    assert whole["foed_dag"].to_pylist()[0] == dt.date(1960, 1, 1) and whole["foed_dag"].to_pylist()[-1] is None
    assert whole["y_1801"].null_count == 4


def test_a_subset_of_columns_in_another_order(tmp_path):
    path = tmp_path / "x.dta"
    pyreadstat.write_dta(_frame(), str(path), version=14)
    cols = ["y_1801", "PNR", "big"]
    (_, table), = list(stata.iter_dta(path, cols, 100))
    _assert_same(table, _reference(path, cols, 0, 11).select(cols))


def test_stata_missing_codes_become_nulls_as_in_pyreadstat(tmp_path):
    """Patch Stata's missing values (".", ".a": the top of each type's range) into the rows.

    Written by pandas (which keeps byte, int and float storage types; pyreadstat widens them).
    """
    path = tmp_path / "x.dta"
    frame = _frame().drop(columns="foed_dag")
    frame["f4"] = frame["f4"].fillna(0.5)
    frame.to_stata(path, version=118, write_index=False)
    lay = stata.layout(path)
    raw = bytearray(path.read_bytes())
    at = {n: o for n, o in zip(lay.names, lay.offsets, strict=True)}
    # Stata's missing values by storage type (little-endian): "." and ".a"
    missing = {"i1": (np.int8(101), np.int8(102)), "i2": (np.int16(32741), np.int16(32742)),
               "i4": (np.int32(2_147_483_621), np.int32(2_147_483_622)),
               "f4": (np.uint32(0x7F000000), np.uint32(0x7F000800)),
               "f8": (np.uint64(0x7FE0000000000000), np.uint64(0x7FE0010000000000))}
    kinds = dict(zip(lay.names, lay.kinds, strict=True))
    cols = ["kon", "small", "big", "f4", "y_1801"]
    assert [kinds[c] for c in cols] == ["i1", "i2", "i4", "f4", "f8"]
    patches = {(row, col): missing[kinds[col]][row - 1].tobytes() for col in cols for row in (1, 2)}
    for (row, col), value in patches.items():
        pos = lay.data_start + row * lay.row_bytes + at[col]
        raw[pos:pos + len(value)] = value
    path.write_bytes(bytes(raw))
    (_, table), = list(stata.iter_dta(path, cols, 100))
    ref = _reference(path, cols, 0, 11)
    _assert_same(table, ref)
    for col in cols:
        assert table[col][1].as_py() is None and table[col][2].as_py() is None
    assert table["small"][0].as_py() is not None


def test_releases_and_columns_it_declines(tmp_path):
    old = tmp_path / "old.dta"
    pyreadstat.write_dta(_frame(), str(old), version=13)  # release 117
    with pytest.raises(stata.Unsupported, match="release 117"):
        stata.layout(old)
    path = tmp_path / "x.dta"
    frame = _frame()
    frame["stamp"] = pd.Timestamp("2020-01-01 10:00")
    pyreadstat.write_dta(frame, str(path), version=15)
    lay = stata.layout(path)
    with pytest.raises(stata.Unsupported, match="date-time format"):
        stata.check_columns(lay, ["PNR", "stamp"])
    with pytest.raises(KeyError):
        stata.check_columns(lay, ["nope"])
    assert stata.check_columns(lay, ["PNR", "foed_dag"]) == [0, 7]


def test_the_ingest_reader_falls_back_to_pyreadstat_for_what_it_declines(tmp_path):
    old = tmp_path / "old.dta"
    pyreadstat.write_dta(_frame(), str(old), version=13)
    src = readers.open_source(old, "dta")
    chunks = list(readers.iter_chunks(src, ["PNR", "y_1801"], 5))
    assert [t.num_rows for _, t in chunks] == [5, 5, 1]
    assert pa.concat_tables([t for _, t in chunks])["PNR"].to_pylist() == _frame()["PNR"].tolist()


def test_prefetch_keeps_order_and_raises_where_the_reader_failed():
    def gen():
        yield from ((i, i * 10) for i in range(5))
        raise ValueError("broken at 5")

    got = []
    with pytest.raises(ValueError, match="broken at 5"):
        for item in readers.prefetch(gen()):
            got.append(item)
    assert got == [(i, i * 10) for i in range(5)]
    # closing early stops the reader thread
    it = readers.prefetch(iter([(i, i) for i in range(100)]))
    assert next(it) == (0, 0)
    it.close()


def test_date_formats_are_the_ones_pyreadstat_converts(tmp_path):
    """%td is a date; %tdDD/NN/CCYY is not in pyreadstat's list, so it stays a number there and here."""
    frame = pd.DataFrame({"d": [dt.datetime(1960, 1, 2), dt.datetime(2001, 5, 6)]})
    path = tmp_path / "x.dta"
    frame.to_stata(path, version=118, write_index=False, convert_dates={"d": "td"})
    lay = stata.layout(path)
    assert lay.formats == ["%td"]
    (_, table), = list(stata.iter_dta(path, ["d"], 10, lay))
    _assert_same(table, _reference(path, ["d"], 0, 2))
    assert table["d"].to_pylist() == [dt.date(1960, 1, 2), dt.date(2001, 5, 6)]
    raw = bytearray(path.read_bytes())
    at = raw.index(b"<formats>%td\x00") + len(b"<formats>")
    raw[at:at + 14] = b"%tdDD/NN/CCYY\x00"
    path.write_bytes(bytes(raw))
    lay = stata.layout(path)
    assert lay.formats == ["%tdDD/NN/CCYY"]
    (_, table), = list(stata.iter_dta(path, ["d"], 10, lay))
    _assert_same(table, _reference(path, ["d"], 0, 2))
    assert table["d"].to_pylist() == [1, 15101]  # days since 1960-01-01, as pyreadstat gives them
