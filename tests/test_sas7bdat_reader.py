"""The vectorised SAS7BDAT reader (helpers.ingest.sas7bdat) reads what pyreadstat reads, value for value.

Files are the committed fixture (written by ReadStat's command-line tool, see
tests/data/ingest/README.md) and, where the ``readstat`` tool is installed, files it
converts from Stata files written here (pyreadstat cannot write SAS7BDAT).
"""

from __future__ import annotations

import doctest
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyreadstat
import pytest

from helpers.ingest import readers, sas7bdat

FIXTURE = Path(__file__).parent / "data" / "ingest" / "dream.sas7bdat"
needs_readstat = pytest.mark.skipif(shutil.which("readstat") is None,
                                    reason="ReadStat's CLI (Debian package readstat) converts the test files")


def _compare(path: Path, chunk: int) -> int:
    lay = sas7bdat.layout(path)
    chunks = list(sas7bdat.iter_sas7bdat(path, lay.names, chunk, lay))
    assert sum(t.num_rows for _, t in chunks) == lay.n_rows
    for first, table in chunks:
        frame, _ = pyreadstat.read_sas7bdat(str(path), row_offset=first, row_limit=table.num_rows)
        ref = pa.Table.from_pandas(frame, preserve_index=False)
        assert table.column_names == ref.column_names
        for name in ref.column_names:
            a, b = table[name].combine_chunks(), ref[name].combine_chunks()
            if a.type != b.type and pa.types.is_null(b.type):  # pyreadstat: an all-missing chunk has no type
                assert a.null_count == len(a), name
                continue
            assert a.equals(b.cast(a.type)), f"{name} rows {first}..: {a.to_pylist()[:5]} != {b.to_pylist()[:5]}"
    return len(chunks)


def test_the_fixture_reads_as_in_pyreadstat_in_any_chunking():
    assert _compare(FIXTURE, 4) == 2
    assert _compare(FIXTURE, 1000) == 1


@needs_readstat
def test_many_pages_text_blanks_unicode_and_missing(tmp_path):
    n = 3_000
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({
        "PNR": [f"{32 + i % 60:02d}{i:08d}" for i in range(n)],
        "x": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        "txt": rng.choice(["Ishøj", "  lead", "trail  ", "", "Vejleå – syd"], size=n),
        **{f"y_{j:04d}": np.where(rng.random(n) < 0.5, np.nan, 730.0) for j in range(300)},
        "last": rng.integers(0, 5, n).astype(np.float64),
    })
    dta = tmp_path / "x.dta"
    pyreadstat.write_dta(frame, str(dta), version=15)
    sas = tmp_path / "x.sas7bdat"
    subprocess.run(["readstat", str(dta), str(sas)], check=True, capture_output=True)
    lay = sas7bdat.layout(sas)
    assert lay.n_rows == n and len(lay.segments) > 100  # rows spread over many pages
    assert _compare(sas, 700) == 5
    (_, table), = list(sas7bdat.iter_sas7bdat(sas, ["txt", "PNR"], n, lay))
    assert set(table["txt"].to_pylist()) == {
        "Ishøj", "  lead", "trail", "", "Vejleå – syd"}  # trailing blanks go, leading stay, as in ReadStat


def test_format_rules_follow_pyreadstat():
    assert doctest.testmod(sas7bdat).failed == 0
    lay = sas7bdat.SasLayout(1, 16, ["born", "stamp"], [0, 8], [8, 8], [True, True], ["DATE9", "DATETIME20"],
                             "utf-8", [(0, 1)])
    with pytest.raises(sas7bdat.Unsupported, match="datetime format"):
        sas7bdat.check_columns(lay, ["born", "stamp"])
    assert sas7bdat.check_columns(lay, ["born"]) == [0]
    # SAS dates count days from 1960-01-01: 0 -> 1960-01-01, 3653 -> 1970-01-01, -1 -> 1959-12-31
    days = sas7bdat._column(np.array([0.0, 3653.0, -1.0, np.nan]), "DATE9")
    assert [str(d) for d in days.to_pylist()[:3]] == ["1960-01-01", "1970-01-01", "1959-12-31"]
    assert days.to_pylist()[3] is None


def test_it_declines_what_is_not_sas7bdat_and_the_ingest_falls_back(tmp_path):
    bogus = tmp_path / "x.sas7bdat"
    bogus.write_bytes(b"\0" * 2048)
    with pytest.raises(sas7bdat.Unsupported, match="not a SAS7BDAT"):
        sas7bdat.layout(bogus)
    # the ingest reader reads the fixture through the fast path and gets pyreadstat's rows
    src = readers.open_source(FIXTURE, "sas7bdat")
    chunks = list(readers.iter_chunks(src, ["PNR", "kon"], 4))
    frame, _ = pyreadstat.read_sas7bdat(str(FIXTURE), usecols=["PNR", "kon"])
    got = pa.concat_tables([t for _, t in chunks])
    assert got["PNR"].to_pylist() == frame["PNR"].tolist() and got["kon"].to_pylist() == frame["kon"].tolist()


def test_fixed_width_text_is_cut_at_trailing_blanks_and_nuls():
    """``_text``: Arrow's C++ path for UTF-8/ASCII, the per-value decoder for other encodings."""
    cells = [b"472100  ", b"        ", b"\x00\x00\x00\x00\x00\x00\x00\x00", b" 47 1\x00\x00\x00", b"\xc3\xa6ble   "]
    raw = np.frombuffer(b"".join(cells), dtype=np.uint8).reshape(len(cells), 8)
    assert sas7bdat._text(raw, 8, "utf-8").to_pylist() == ["472100", "", "", " 47 1", "æble"]
    latin = np.frombuffer(b"".join([b"\xe6ble    ", b"abc     ", b"        "]), dtype=np.uint8).reshape(3, 8)
    assert sas7bdat._text(latin, 8, "latin-1").to_pylist() == ["æble", "abc", ""]
    ascii_only = latin[1:]
    assert sas7bdat._text(ascii_only, 8, "latin-1").to_pylist() == ["abc", ""]  # no byte above 0x7F: fast path
