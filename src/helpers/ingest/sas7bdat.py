"""A vectorised reader for the rows of uncompressed little-endian SAS7BDAT files.

pyreadstat (ReadStat) reads a register-scale SAS7BDAT extract (1,400 columns) at a few
thousand rows per second; most of that is ReadStat's per-value work, not Python. In an
uncompressed SAS7BDAT file every row is a fixed-width record on a "data" or "mix" page,
so a chunk of rows is a few buffer copies and each column a few array operations.

The layout of the pages follows the published reverse-engineered description of the format
(M. Shotwell, "SAS7BDAT Database Binary Format", the R package ``sas7bdat``; the same
offsets are used by ReadStat and by pandas' ``read_sas``). Only the row geometry is parsed
here (page headers, the row-size subheader, the column-attribute subheaders: offset,
width and type of each column). Names, display formats and the text encoding come from
pyreadstat's metadata (ReadStat), and the reader declines (:class:`Unsupported`, so the
caller uses pyreadstat) unless its own column count, types, string widths and row count
agree with pyreadstat's. It also declines compressed files (``COMPRESS=CHAR/BINARY``: rows
in compressed subheaders), big-endian files, page types it does not know, and numeric
columns with a date-time or time format.

Values are read as pyreadstat reads them: numbers as float64 (SAS missing values, which
are NaN patterns, become nulls; widths 3-7 are the leading bytes of a double); text with
trailing blanks removed, decoded from the file's encoding; numeric columns with a date
format that pyreadstat converts (the same regular expression and list of format names as
pyreadstat 1.3, :func:`is_date_format`) as dates, counted in days from 1960-01-01.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MAGIC = (b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xc2\xea\x81\x60"
         b"\xb3\x14\x11\xcf\xbd\x92\x08\x00\x09\xc7\x31\x8c\x18\x1f\x10\x11")
PAGE_META, PAGE_DATA, PAGE_MIX, PAGE_AMD, PAGE_META2, PAGE_COMP = 0x0000, 0x0100, 0x0200, 0x0400, 0x4000, 0x9000
_ROW_SIZE = b"\xf7\xf7\xf7\xf7"
_COL_ATTRS = b"\xfc\xff\xff\xff"
_COMPRESSED = 4
_DAYS_1960_TO_1970 = 3653
_SUB_ROWS = 256

# pyreadstat 1.3.x (_readstat_parser.pyx): which SAS formats it turns into dates, date-times, times
_FORMAT_RE = re.compile(r"^([A-Z][A-Z0-9]+[A-Z])(\d+)?(?(2)(?:\.\d+)?$|$)")
SAS_DATE_FORMATS = frozenset({
    "WEEKDATE", "MMDDYY", "DDMMYY", "YYMMDD", "DATE", "DDMMYYB", "DDMMYYC", "DDMMYYD", "DDMMYYN", "DDMMYYP",
    "DDMMYYS", "MMDDYYB", "MMDDYYC", "MMDDYYD", "MMDDYYN", "MMDDYYP", "MMDDYYS", "WEEKDATX", "DTDATE", "IS8601DA",
    "E8601DA", "B8601DA", "YYMMDDB", "YYMMDDD", "YYMMDDN", "YYMMDDP", "YYMMDDS"})
SAS_DATETIME_FORMATS = frozenset({"DATETIME", "E8601DT", "DATEAMPM", "MDYAMPM", "IS8601DT", "B8601DT", "B8601DN"})
SAS_TIME_FORMATS = frozenset({"TIME", "HHMM", "TOD", "TIMEAMPM", "IS8601TM", "E8601TM", "B8601TM"})


class Unsupported(Exception):  # noqa: N818 (control flow: use pyreadstat instead)
    """The file is valid SAS7BDAT but outside what this reader handles; read it with pyreadstat."""


def format_kind(fmt: str) -> str:
    """``"date"``, ``"datetime"``, ``"time"`` or ``"number"``: how pyreadstat reads a numeric column of format ``fmt``.

    Examples
    --------
    >>> [format_kind(f) for f in ("DATE9", "YYMMDD10", "DDMMYY10.2", "DATETIME20", "TIME8", "BEST12", "COMMA10.2", "")]
    ['date', 'date', 'date', 'datetime', 'time', 'number', 'number', 'number']

    As in pyreadstat, a name with a trailing dot and no decimals does not match, so it stays a number:

    >>> format_kind("YYMMDD10.")
    'number'
    """
    m = _FORMAT_RE.match(fmt or "")
    if not m:
        return "number"
    name = m.group(1)
    if name in SAS_DATE_FORMATS:
        return "date"
    if name in SAS_DATETIME_FORMATS:
        return "datetime"
    if name in SAS_TIME_FORMATS:
        return "time"
    return "number"


def is_date_format(fmt: str) -> bool:
    """True when pyreadstat reads a numeric column with format ``fmt`` as a date."""
    return format_kind(fmt) == "date"


@dataclass(frozen=True)
class SasLayout:
    """Row geometry of the file and what each column holds."""

    n_rows: int
    row_length: int
    names: list[str]
    offsets: list[int]
    widths: list[int]
    numeric: list[bool]
    formats: list[str]
    encoding: str  # Python codec name
    segments: list[tuple[int, int]]  # (file offset of the first row, rows) per page, in row order


def _u(buf: bytes, pos: int, size: int) -> int:
    return int.from_bytes(buf[pos:pos + size], "little")


def layout(path: Path, meta=None) -> SasLayout:
    """Scan the page headers and the metadata subheaders; cross-check against pyreadstat's metadata.

    ``meta`` is pyreadstat's metadata of the file (read here when not given).
    """
    import pyreadstat

    with open(path, "rb", buffering=0) as fh:  # many small reads of page headers: no read-ahead buffer
        head = fh.read(1024)
        if head[:32] != MAGIC:
            raise Unsupported("not a SAS7BDAT file")
        u64 = head[32:33] == b"3"
        align1 = 4 if head[35:36] == b"3" else 0
        if head[37] != 1:
            raise Unsupported("big-endian file")
        header_length = _u(head, 196 + align1, 4)
        page_size = _u(head, 200 + align1, 4)
        page_count = _u(head, 204 + align1, 8 if u64 else 4)
        int_len = 8 if u64 else 4
        bit = 32 if u64 else 16
        ptr_len = 24 if u64 else 12
        row_length = row_count = mix_rows = None
        col_offsets: list[int] = []
        col_widths: list[int] = []
        col_types: list[int] = []
        segments: list[tuple[int, int]] = []
        rows_seen = 0
        for p in range(page_count):
            start = header_length + p * page_size
            fh.seek(start)
            page = fh.read(bit + 8)  # the page header; the rest only for pages with subheaders
            if len(page) < bit + 8:
                raise Unsupported(f"page {p} is truncated")
            if _u(page, bit, 2) in (PAGE_META, PAGE_META2, PAGE_MIX, PAGE_AMD):
                page += fh.read(page_size - len(page))
            ptype, blocks, n_sub = _u(page, bit, 2), _u(page, bit + 2, 2), _u(page, bit + 4, 2)
            if ptype == PAGE_COMP:
                continue
            if ptype not in (PAGE_META, PAGE_META2, PAGE_MIX, PAGE_DATA, PAGE_AMD):
                raise Unsupported(f"page {p} has type {ptype:#06x}")
            if ptype in (PAGE_META, PAGE_META2, PAGE_MIX, PAGE_AMD):
                for k in range(n_sub):
                    q = bit + 8 + k * ptr_len
                    off, length = _u(page, q, int_len), _u(page, q + int_len, int_len)
                    comp = page[q + 2 * int_len]
                    if length == 0:
                        continue
                    if comp == _COMPRESSED:
                        raise Unsupported("compressed rows")
                    sig = page[off:off + 4]
                    if sig == _ROW_SIZE:
                        row_length = _u(page, off + 5 * int_len, int_len)
                        row_count = _u(page, off + 6 * int_len, int_len)
                        mix_rows = _u(page, off + 15 * int_len, int_len)
                    elif sig == _COL_ATTRS:
                        n_vec = (length - 2 * int_len - 12) // (int_len + 8)
                        for i in range(n_vec):
                            base = off + i * (int_len + 8)
                            col_offsets.append(_u(page, base + int_len + 8, int_len))
                            col_widths.append(_u(page, base + 2 * int_len + 8, 4))
                            col_types.append(page[base + 2 * int_len + 14])
            if ptype in (PAGE_MIX, PAGE_DATA):
                if row_length is None:
                    raise Unsupported("rows before the row-size subheader")
                if ptype == PAGE_DATA:
                    first, n = bit + 8, blocks
                else:
                    first = bit + 8 + n_sub * ptr_len
                    first += first % 8
                    n = min(mix_rows, row_count - rows_seen)
                n = min(n, row_count - rows_seen)
                if n > 0:
                    if first + n * row_length > page_size:
                        raise Unsupported(f"page {p}: rows overrun the page")
                    segments.append((start + first, n))
                    rows_seen += n
    if row_length is None or rows_seen != row_count:
        raise Unsupported(f"found {rows_seen} rows, the row-size subheader says {row_count}")
    if meta is None:
        _, meta = pyreadstat.read_sas7bdat(str(path), metadataonly=True)
    names = list(meta.column_names)
    if len(names) != len(col_offsets) or meta.number_rows not in (None, row_count):
        raise Unsupported("column or row count differs from ReadStat's")
    kinds = [meta.readstat_variable_types.get(n) for n in names]
    for n, k, t, w in zip(names, kinds, col_types, col_widths, strict=True):
        if (t == 1) != (k == "double") or (t == 2 and meta.variable_storage_width.get(n) != w):
            raise Unsupported(f"column {n}: type or width differs from ReadStat's")
        if t == 1 and not 3 <= w <= 8:
            raise Unsupported(f"column {n}: numeric width {w}")
    try:
        encoding = codecs.lookup(meta.file_encoding or "utf-8").name
    except LookupError:
        raise Unsupported(f"encoding {meta.file_encoding}") from None
    formats = [meta.original_variable_types.get(n, "") or "" for n in names]
    return SasLayout(row_count, row_length, names, col_offsets, col_widths, [t == 1 for t in col_types], formats,
                     encoding, segments)


def check_columns(lay: SasLayout, columns: list[str]) -> list[int]:
    """Positions of ``columns``; Unsupported for a date-time/time column, KeyError for one not in the file."""
    index = {n: i for i, n in enumerate(lay.names)}
    wanted = [index[c] for c in columns]
    for i in wanted:
        if lay.numeric[i] and format_kind(lay.formats[i]) in ("datetime", "time"):
            raise Unsupported(f"column {lay.names[i]} has the {format_kind(lay.formats[i])} format {lay.formats[i]}")
    return wanted


def _numbers(rows: np.ndarray, offset: int, width: int, k: int) -> np.ndarray:
    """``k`` adjacent numeric columns of ``width`` bytes as float64, shape (k, n)."""
    n = rows.shape[0]
    out = np.empty((k, n), dtype="<f8")
    if width == 8:
        view = rows[:, offset:offset + 8 * k].view("<f8")
        for a in range(0, n, _SUB_ROWS):  # cache-sized blocks: a row is ~10 KB
            out[:, a:a + _SUB_ROWS] = view[a:a + _SUB_ROWS].T
        return out
    padded = np.zeros((n, 8), dtype=np.uint8)
    for j in range(k):
        padded[:, 8 - width:] = rows[:, offset + j * width:offset + (j + 1) * width]
        out[j] = padded.view("<f8")[:, 0]
    return out


def _text(raw: np.ndarray, width: int, encoding: str) -> pa.Array:
    """A fixed-width text column (uint8, shape (n, width)) with trailing blanks and NULs removed, decoded."""
    if width and (encoding in ("utf-8", "ascii") or not (raw >= 0x80).any()):
        # Arrow does it in C++: the fixed-width bytes as one buffer, cast to text, trailing blanks/NULs cut
        fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(raw),
                                                     [None, pa.py_buffer(np.ascontiguousarray(raw))])
        return pc.utf8_rtrim(fixed.cast(pa.binary()).cast(pa.string()), characters=" \x00")
    return _text_decoded(raw, width, encoding)


def _text_decoded(raw: np.ndarray, width: int, encoding: str) -> pa.Array:
    """:func:`_text` for a non-UTF-8 file with bytes above 0x7F: decoded per distinct value."""
    keep = (raw != 0x20) & (raw != 0)
    lengths = np.where(keep.any(axis=1), width - np.argmax(keep[:, ::-1], axis=1), 0).astype(np.int32)
    data = raw[np.arange(width)[None, :] < lengths[:, None]]
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    binary = pa.BinaryArray.from_buffers(pa.binary(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    if encoding in ("utf-8", "ascii") or not (data >= 0x80).any():
        return binary.cast(pa.string())
    values, inverse = np.unique(np.asarray(binary.to_pylist(), dtype=object), return_inverse=True)
    decoded = pa.array([v.decode(encoding) for v in values], pa.string())
    return decoded.take(pa.array(inverse.astype(np.int64)))


def _column(values: np.ndarray, fmt: str) -> pa.Array:
    missing = np.isnan(values)
    if is_date_format(fmt):
        days = np.where(missing, 0, np.floor(values)).astype(np.int64) - _DAYS_1960_TO_1970
        return pa.array(days.astype(np.int32), type=pa.date32(), mask=missing)
    return pa.array(values, mask=missing)


def _runs(lay: SasLayout, wanted: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in sorted(set(wanted)):
        prev = runs[-1][-1] if runs else None
        if (prev is not None and lay.numeric[i] and lay.numeric[prev] and lay.widths[i] == lay.widths[prev] == 8
                and lay.offsets[i] == lay.offsets[prev] + 8):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _rows(fh, segments, row_length: int, window: int = 1 << 23) -> Iterator[tuple[np.ndarray, int]]:
    """Yield ``(rows, count)`` per page segment as uint8 arrays of shape (count, row_length).

    Consecutive pages are read in windows of about ``window`` bytes (one read for many pages).
    """
    k = 0
    while k < len(segments):
        lo = segments[k][0]
        j = k
        while j < len(segments) and segments[j][0] + segments[j][1] * row_length - lo <= window:
            j += 1
        j = max(j, k + 1)
        hi = segments[j - 1][0] + segments[j - 1][1] * row_length
        fh.seek(lo)
        buf = np.frombuffer(fh.read(hi - lo), dtype=np.uint8)
        for pos, n in segments[k:j]:
            yield buf[pos - lo:pos - lo + n * row_length].reshape(n, row_length), n
        k = j


def iter_sas7bdat(path: Path, columns: list[str], chunk_rows: int, lay: SasLayout | None = None
                  ) -> Iterator[tuple[int, pa.Table]]:
    """Yield ``(first_row, table)`` chunks of ``columns`` (see the module docstring)."""
    lay = lay or layout(path)
    wanted = check_columns(lay, columns)
    runs = _runs(lay, wanted)
    text_cols = [i for i in sorted(set(wanted)) if not lay.numeric[i]]
    text_at, at = {}, 0
    for i in text_cols:
        text_at[i] = at
        at += lay.widths[i]
    text_bytes = (np.concatenate([np.arange(lay.offsets[i], lay.offsets[i] + lay.widths[i]) for i in text_cols])
                  if text_cols else np.zeros(0, dtype=np.int64))
    first = 0
    with open(path, "rb") as fh:
        pending: list[np.ndarray] = []
        have = 0
        segments = iter(_rows(fh, lay.segments, lay.row_length))
        while first < lay.n_rows:
            for part, n in segments:
                pending.append(part)
                have += n
                if have >= chunk_rows:
                    break
            block = np.concatenate(pending) if len(pending) > 1 else pending[0]
            rows, rest = block[:chunk_rows], block[chunk_rows:]
            pending, have = ([rest], len(rest)) if len(rest) else ([], 0)
            by_column: dict[int, pa.Array] = {}
            # every text column's bytes in one gather (each row read once), then sliced per column
            texts = rows[:, text_bytes] if len(text_bytes) else None
            for run in runs:
                i0 = run[0]
                if lay.numeric[i0]:
                    values = _numbers(rows, lay.offsets[i0], lay.widths[i0], len(run))
                    for j, i in enumerate(run):
                        by_column[i] = _column(values[j], lay.formats[i])
                else:
                    a = text_at[i0]
                    by_column[i0] = _text(np.ascontiguousarray(texts[:, a:a + lay.widths[i0]]), lay.widths[i0],
                                          lay.encoding)
            del texts
            n = rows.shape[0]
            del rows, block
            yield first, pa.table([by_column[i] for i in wanted], names=list(columns))
            first += n
