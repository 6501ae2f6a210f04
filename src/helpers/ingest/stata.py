"""A vectorised reader for Stata ``.dta`` files of releases 118 and 119 (Stata 14 and later).

pyreadstat hands every value to Python-level code, which reads a register-scale extract
(1,400 columns) at about 5,000 rows per second. The data section of a ``.dta`` file is a
plain table of fixed-width rows (StataCorp, "dta - Stata 118/119 file format", ``help
dta``), so a chunk of rows is one :func:`numpy.frombuffer` with a structured dtype that
names only the columns wanted, and each column is converted with a few array operations.

What it reads as pyreadstat does (``apply_value_formats=False``, ``user_missing=False``):

- ``byte``/``int``/``long``/``float``/``double``: numbers; Stata's missing values
  (``.``, ``.a`` .. ``.z``: the top of each type's range) become nulls;
- ``str1`` .. ``str2045``: UTF-8 text, NUL-padded (release 118+ is UTF-8); empty = ``""``;
- a numeric column whose display format is one pyreadstat reads as a date (``%td``, ``%d``,
  ``%tdD_m_Y``, ``%tdCCYY-NN-DD``: :data:`DATE_FORMATS`): dates (days since 1960-01-01);
  any other format (``%tdDD/NN/CCYY``, ``%tw`` ...) stays a number, as in pyreadstat.

It declines (:class:`Unsupported`, and the caller uses pyreadstat) for any other release,
long strings (``strL``), and the date-time formats pyreadstat converts (``%tc``, ``%tC``
...), so its output never differs from pyreadstat's for a file it accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

# type codes of releases 117-119
_NUMERIC = {65526: "f8", 65527: "f4", 65528: "i4", 65529: "i2", 65530: "i1"}
_STRL = 32768
#: smallest missing value of each type (Stata's ., .a .. .z sit above the valid range)
_MISSING_FROM = {"i1": 101, "i2": 32741, "i4": 2_147_483_621, "f4": np.float32(2.0 ** 127), "f8": 2.0 ** 1023}
_DAYS_1960_TO_1970 = 3653
_SUB_ROWS = 256  # rows per cache-sized sub-block when splitting a chunk into columns


class Unsupported(Exception):  # noqa: N818 (control flow: use pyreadstat instead)
    """The file is valid Stata but outside what this reader handles; read it with pyreadstat."""


@dataclass(frozen=True)
class DtaLayout:
    """Where the rows are and what each column holds."""

    release: int
    byteorder: str  # "<" or ">"
    n_rows: int
    names: list[str]
    kinds: list[str]  # numpy kind per column: "f8", "i2", ..., or "S<n>" for strings
    formats: list[str]
    offsets: list[int]  # byte offset of each column in a row
    row_bytes: int
    data_start: int


def _tag(buf: bytes, pos: int, tag: bytes) -> int:
    if buf[pos:pos + len(tag)] != tag:
        raise Unsupported(f"expected {tag!r} at byte {pos}")
    return pos + len(tag)


def layout(path: Path) -> DtaLayout:
    """Parse the header, map, variable types, names and formats of a release 118/119 file."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
        if not head.startswith(b"<stata_dta><header><release>"):
            raise Unsupported("not a Stata 13+ (XML-tagged) file")
        pos = _tag(head, 0, b"<stata_dta><header><release>")
        release = int(head[pos:pos + 3])
        if release not in (118, 119):
            raise Unsupported(f"release {release}")
        pos = _tag(head, pos + 3, b"</release><byteorder>")
        order = head[pos:pos + 3]
        bo = {b"LSF": "<", b"MSF": ">"}.get(order)
        if bo is None:
            raise Unsupported(f"byte order {order!r}")
        pos = _tag(head, pos + 3, b"</byteorder><K>")
        k_bytes = 4 if release == 119 else 2
        n_vars = int(np.frombuffer(head, dtype=f"{bo}u{k_bytes}", count=1, offset=pos)[0])
        pos = _tag(head, pos + k_bytes, b"</K><N>")
        n_rows = int(np.frombuffer(head, dtype=f"{bo}u8", count=1, offset=pos)[0])
        pos = _tag(head, pos + 8, b"</N><label>")
        label_len = int(np.frombuffer(head, dtype=f"{bo}u2", count=1, offset=pos)[0])
        pos = _tag(head, pos + 2 + label_len, b"</label><timestamp>")
        pos += 1 + head[pos]
        pos = _tag(head, pos, b"</timestamp></header><map>")
        offsets = np.frombuffer(head, dtype=f"{bo}u8", count=14, offset=pos)

        def section(i: int, tag: bytes, size: int) -> bytes:
            fh.seek(int(offsets[i]))
            raw = fh.read(len(tag) + size)
            if not raw.startswith(tag):
                raise Unsupported(f"section {tag!r} not at its map offset")
            return raw[len(tag):]

        types = np.frombuffer(section(2, b"<variable_types>", 2 * n_vars), dtype=f"{bo}u2").astype(int)
        raw_names = section(3, b"<varnames>", 129 * n_vars)
        raw_formats = section(5, b"<formats>", 57 * n_vars)
    names = [raw_names[i * 129:(i + 1) * 129].split(b"\0", 1)[0].decode("utf-8") for i in range(n_vars)]
    formats = [raw_formats[i * 57:(i + 1) * 57].split(b"\0", 1)[0].decode("utf-8") for i in range(n_vars)]
    kinds, col_offsets, at = [], [], 0
    for name, t in zip(names, types, strict=True):
        if t == _STRL:
            raise Unsupported(f"column {name} is a strL")
        if t in _NUMERIC:
            kind, width = _NUMERIC[t], int(_NUMERIC[t][1])
        elif 1 <= t <= 2045:
            kind, width = f"S{t}", int(t)
        else:
            raise Unsupported(f"column {name} has type code {t}")
        kinds.append(kind)
        col_offsets.append(at)
        at += width
    return DtaLayout(release, bo, n_rows, names, kinds, formats, col_offsets, at, int(offsets[9]) + len(b"<data>"))


#: display formats pyreadstat turns into dates / date-times (its ``stata_date_formats`` etc., exact strings)
DATE_FORMATS = frozenset({"%td", "%d", "%tdD_m_Y", "%tdCCYY-NN-DD"})
DATETIME_FORMATS = frozenset({"%tC", "%tc", "%tcHH:MM:SS", "%tcHH:MM"})


def _is_date(fmt: str) -> bool:
    return fmt in DATE_FORMATS


def check_columns(lay: DtaLayout, columns: list[str]) -> list[int]:
    """Positions of ``columns``; raises :class:`Unsupported` (date-time format) or KeyError (not in the file)."""
    index = {n: i for i, n in enumerate(lay.names)}
    wanted = [index[c] for c in columns]
    for i in wanted:
        if not lay.kinds[i].startswith("S") and lay.formats[i] in DATETIME_FORMATS:
            raise Unsupported(f"column {lay.names[i]} has the date-time format {lay.formats[i]}")
    return wanted


def _column(values: np.ndarray, kind: str, fmt: str) -> pa.Array:
    if kind.startswith("S"):
        return pa.array(values, type=pa.binary()).cast(pa.string())
    if kind.startswith("f"):
        values = values.astype(np.float64, copy=False)  # native byte order, no copy when it is already
        missing = ~(values < _MISSING_FROM[kind])  # Stata's missing codes and NaN, in one pass
    else:
        missing = values >= _MISSING_FROM[kind]
    if _is_date(fmt):
        days = np.where(missing, 0, values).astype(np.int64) - _DAYS_1960_TO_1970
        return pa.array(days.astype(np.int32), type=pa.date32(), mask=missing)
    if kind.startswith("f"):
        return pa.array(values, mask=missing)
    return pa.array(values.astype(np.int64), mask=missing)


def _runs(lay: DtaLayout, wanted: list[int]) -> list[list[int]]:
    """Wanted columns grouped into runs that are adjacent in the row and of one type (one 2-D copy each)."""
    runs: list[list[int]] = []
    for i in sorted(set(wanted)):
        prev = runs[-1][-1] if runs else None
        if (prev is not None and i == prev + 1 and lay.kinds[i] == lay.kinds[prev]
                and not lay.kinds[i].startswith("S")):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def iter_dta(path: Path, columns: list[str], chunk_rows: int, lay: DtaLayout | None = None
             ) -> Iterator[tuple[int, pa.Table]]:
    """Yield ``(first_row, table)`` chunks of ``columns`` of a release 118/119 ``.dta`` file.

    Raises
    ------
    Unsupported
        When the file or a wanted column is outside what this reader handles (see the
        module docstring); nothing has been yielded then.
    KeyError
        A wanted column is not in the file.
    """
    lay = lay or layout(path)
    wanted = check_columns(lay, columns)
    runs = _runs(lay, wanted)
    with open(path, "rb") as fh:
        for first in range(0, lay.n_rows, chunk_rows):
            n = min(chunk_rows, lay.n_rows - first)
            fh.seek(lay.data_start + first * lay.row_bytes)
            buf = fh.read(n * lay.row_bytes)
            if len(buf) != n * lay.row_bytes:
                raise Unsupported("the file ends inside the data section")
            by_column: dict[int, np.ndarray] = {}
            for run in runs:
                kind = lay.kinds[run[0]]
                dtype = np.dtype(kind if kind.startswith("S") else lay.byteorder + kind)
                view = np.ndarray((n, len(run)), dtype=dtype, buffer=buf, offset=lay.offsets[run[0]],
                                  strides=(lay.row_bytes, dtype.itemsize))
                out = np.empty((len(run), n), dtype=dtype)
                # copy in sub-blocks that fit in the CPU cache: a column read straight across
                # the chunk touches one cache line per row (a row is ~10 KB)
                for a in range(0, n, _SUB_ROWS):
                    out[:, a:a + _SUB_ROWS] = view[a:a + _SUB_ROWS].T
                for j, i in enumerate(run):
                    by_column[i] = out[j]
            del buf
            arrays = [_column(by_column[i], lay.kinds[i], lay.formats[i]) for i in wanted]
            del by_column
            yield first, pa.table(arrays, names=list(columns))
