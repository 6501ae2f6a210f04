"""Readers: any delivery format to a stream of bounded chunks (pyarrow tables).

Formats (``data.dream.format``, or ``auto`` from the file suffix):

- ``csv``: comma, semicolon or tab; UTF-8, latin-1 or cp1252, detected or set in the study
  YAML. The file is read in byte blocks of about ``chunk_rows`` rows, cut at line ends, and
  each block is parsed by pyarrow (:func:`pyarrow.csv.read_csv`, multi-threaded), so memory
  is bounded by the chunk, not the file. (pyarrow's streaming reader,
  :func:`pyarrow.csv.open_csv`, reads dozens of blocks ahead, which at register scale is
  gigabytes.) Weekly code columns are parsed as ``int16`` and ``grad`` as ``float64``
  (fast path); when a value does not parse, the caller re-reads the file as text to name
  the bad cell (:class:`RetryAsText`).
- ``parquet``: :meth:`pyarrow.parquet.ParquetFile.iter_batches`.
- ``dta`` (Stata 14 and later, releases 118/119): :mod:`helpers.ingest.stata`, and
  uncompressed little-endian ``sas7bdat``: :mod:`helpers.ingest.sas7bdat`, vectorised
  readers of the fixed-width rows (several times pyreadstat's speed on a 1,400-column
  extract, value for value the same). Other Stata releases, long strings (strL),
  date-time columns, compressed SAS files, and every ``sav`` (SPSS) and ``xpt`` (SAS
  transport v5/v8) file: :func:`pyreadstat.read_file_in_chunks` with ``chunksize = chunk_rows``. Either way the
  next chunk is read in a background thread while the current one is converted.

Only the columns the ingest needs are read.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from helpers.ingest import sas7bdat, stata
from helpers.ingest.errors import IngestError, rel

SUFFIX_FORMATS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".tab": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".sas7bdat": "sas7bdat", ".dta": "dta", ".sav": "sav", ".zsav": "sav",
    ".xpt": "xpt", ".xport": "xpt", ".v8xpt": "xpt",
}
READSTAT_FORMATS = ("sas7bdat", "dta", "sav", "xpt")
_BLOCK = 1 << 23  # 8 MiB for hashing


class RetryAsText(Exception):  # noqa: N818 (control flow, not an error)
    """A weekly code did not parse as a number in the fast path; re-read the codes as text."""


@dataclass(frozen=True)
class FileScan:
    """Checksum and encoding evidence from one pass over a raw file."""

    path: Path
    sha256: str
    size: int
    ascii: bool
    utf8: bool
    c1_bytes: bool  # bytes 0x80-0x9F: printable in cp1252, control characters in latin-1

    @property
    def encoding(self) -> str:
        """Detected text encoding: UTF-8 (or ASCII), else cp1252 when C1 bytes occur, else latin-1."""
        if self.ascii or self.utf8:
            return "utf-8"
        return "cp1252" if self.c1_bytes else "latin-1"


def scan_file(path: Path, text: bool = False) -> FileScan:
    """SHA-256 of a file; for text files also whether it is ASCII / valid UTF-8 / has C1 bytes."""
    sha = hashlib.sha256()
    size = 0
    is_ascii, utf8, c1 = True, True, False
    decoder = codecs.getincrementaldecoder("utf-8")()
    c1_table = bytes(range(0x80, 0xA0))
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            sha.update(block)
            size += len(block)
            if text and not block.isascii():
                is_ascii = False
                if not c1 and len(block.translate(None, c1_table)) != len(block):
                    c1 = True
                if utf8:
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError:
                        utf8 = False
    if text and utf8 and not is_ascii:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return FileScan(path, sha.hexdigest(), size, is_ascii, utf8, c1)


_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (OLE) workbook"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PAR1", "a Parquet file"),
    (b"%PDF", "a PDF document"),
)
_SAS_MAGIC = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")


def sniff_text(path: Path, what: str = "data.dream.format") -> None:
    """Refuse a file that is not delimited text, naming what it is and what to do.

    Looks at the first 64 KiB: a UTF-16/UTF-32 byte-order mark, the signature of a ZIP
    (``.xlsx``), OLE (``.xls``), gzip, Parquet, PDF or SAS file, or NUL bytes (binary data).
    An empty file is refused too.

    Raises
    ------
    IngestError
    """
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    where = rel(path)
    if not head:
        raise IngestError(f"{where}: the file is empty (0 bytes); expected a header line and data rows. Replace it "
                          "with the full delivery")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 3 and head[1:2] == b"\x00" and
                                                          head[3:4] == b"\x00" and head[:1] != b"\x00"):
        raise IngestError(f"{where}: the file is UTF-16 text, which the reader does not take; save it as UTF-8 (in "
                          "Excel: 'CSV UTF-8'), latin-1 or cp1252, or set the format to the file's real type")
    if head.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        raise IngestError(f"{where}: the file is UTF-32 text; save it as UTF-8, latin-1 or cp1252")
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise IngestError(f"{where}: the file is {kind}, not delimited text, although it is read as CSV; "
                              f"save it as CSV, or give it its real suffix / set {what}")
    if head.startswith(_SAS_MAGIC[:12]) and _SAS_MAGIC[12:] in head[:64]:
        raise IngestError(f"{where}: the file is a SAS dataset, not CSV text; name it .sas7bdat or set {what}: "
                          "sas7bdat")
    if b"\x00" in head:
        raise IngestError(f"{where}: the file holds binary data (NUL bytes), not delimited text; check that it is "
                          f"the right file and its type (set {what} to its format)")


def detect_format(path: Path, configured: str) -> str:
    """The reader for ``path``: the configured format, or from the suffix when ``auto``."""
    if configured != "auto":
        return configured
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(
            f"{rel(path)}: cannot tell the file format from the suffix {path.suffix!r}; set data.dream.format "
            f"to one of csv, parquet, sas7bdat, dta, sav, xpt"
        )
    return fmt


@dataclass
class Source:
    """An opened raw file: format, dialect and header (no data read yet)."""

    path: Path
    format: str
    columns: list[str]
    n_rows: int | None = None
    encoding: str | None = None
    delimiter: str | None = None
    row_bytes: float | None = None


def _sniff_delimiter(header: str, path: Path) -> str:
    counts = {d: 0 for d in (",", ";", "\t")}
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        raise IngestError(
            f"{rel(path)}: the header line has no comma, semicolon or tab; is this a CSV file? "
            "Set data.dream.delimiter if it uses another separator"
        )
    return best


def open_source(path: Path, fmt: str, *, encoding: str = "auto", delimiter: str = "auto",
                scan: FileScan | None = None) -> Source:
    """Read the header (and row count where the format stores it) of a raw file."""
    path = Path(path)
    if fmt == "csv":
        sniff_text(path)
        enc = encoding if encoding != "auto" else (scan or scan_file(path, text=True)).encoding
        with open(path, "rb") as fh:
            sample = fh.read(1 << 20)
        text = sample.decode(enc, errors="replace")
        if text.startswith("\ufeff"):
            text = text[1:]
        lines = text.splitlines()
        if not lines:
            raise IngestError(f"{rel(path)}: the file is empty; expected a header line and data rows")
        delim = delimiter if delimiter != "auto" else _sniff_delimiter(lines[0], path)
        header = next(csv.reader(io.StringIO(lines[0]), delimiter=delim))
        full_lines = len(lines) - (0 if text.endswith(("\n", "\r")) else 1)
        row_bytes = len(sample) / max(full_lines, 1)
        return Source(path, fmt, header, None, enc, delim, row_bytes)
    if fmt == "parquet":
        try:
            pf = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as err:
            raise IngestError(f"{rel(path)}: cannot be read as Parquet ({type(err).__name__}: {err}); the file is "
                              "damaged or not Parquet: get it delivered again, or set data.dream.format") from None
        return Source(path, fmt, list(pf.schema_arrow.names), pf.metadata.num_rows)
    if fmt in READSTAT_FORMATS:
        try:
            meta = readstat_metadata(path, fmt, encoding if encoding != "auto" else None)
        except Exception as err:  # pyreadstat raises its own error types
            raise IngestError(f"{rel(path)}: cannot be read as {fmt} ({type(err).__name__}: {err})") from None
        n = meta.number_rows if isinstance(meta.number_rows, int) and meta.number_rows >= 0 else None
        return Source(path, fmt, list(meta.column_names), n, encoding if encoding != "auto" else None)
    raise IngestError(f"{rel(path)}: unknown format {fmt!r}")


_METADATA: dict[tuple, object] = {}


def readstat_metadata(path: Path, fmt: str, encoding: str | None = None):
    """pyreadstat's metadata of a file, read once per file version (ReadStat scans a SAS7BDAT to count its rows)."""
    st = Path(path).stat()
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, fmt, encoding)
    if key not in _METADATA:
        extra = {"encoding": encoding} if encoding else {}
        _, meta = _readstat_reader(fmt)(str(path), metadataonly=True, **extra)
        if len(_METADATA) > 16:
            _METADATA.clear()
        _METADATA[key] = meta
    return _METADATA[key]


def _readstat_reader(fmt: str):
    import pyreadstat

    return {
        "sas7bdat": pyreadstat.read_sas7bdat,
        "dta": pyreadstat.read_dta,
        "sav": pyreadstat.read_sav,
        "xpt": pyreadstat.read_xport,
    }[fmt]


_EXPECTED = re.compile(r"Expected (\d+) columns, got (\d+)")


def iter_chunks(source: Source, columns: list[str], chunk_rows: int, *,
                csv_types: dict[str, pa.DataType] | None = None, as_text: bool = False,
                blanks: list[str] | None = None) -> Iterator[tuple[int, pa.Table]]:
    """Yield ``(first_row, table)`` chunks of about ``chunk_rows`` rows holding ``columns``.

    ``first_row`` is the 0-based index of the chunk's first data row in the file. For CSV,
    ``csv_types`` gives the pyarrow type of some columns (fast path: weekly codes ``int16``,
    ``grad`` ``float64``); every other column, and every
    column when ``as_text``, is read as text. A value that does not convert in the fast path
    raises :class:`RetryAsText`.
    """
    if source.format == "csv":
        yield from _iter_csv(source, columns, chunk_rows, csv_types or {}, as_text)
    elif source.format == "parquet":
        pf = pq.ParquetFile(source.path)
        first = 0
        for batch in pf.iter_batches(batch_size=chunk_rows, columns=columns):
            n = batch.num_rows
            yield first, pa.Table.from_batches([batch])
            del batch
            first += n
    else:
        yield from _iter_readstat(source, columns, chunk_rows)


def _iter_csv(source: Source, columns, chunk_rows, csv_types, as_text, blanks=()):
    """Read the file in byte blocks cut at line ends, and parse each block on its own.

    pyarrow's streaming reader reads many blocks ahead, so its memory grows with the
    block count; cutting the blocks here keeps one block (and its parsed table) in memory.
    A row must not contain a line break inside quotes (DREAM extracts have none).
    """
    block = int(min(max((source.row_bytes or 1024) * chunk_rows, 1 << 16), (1 << 31) - (1 << 20)))
    types = {c: (pa.string() if as_text else csv_types.get(c, pa.string())) for c in columns}
    read_opts = pacsv.ReadOptions(column_names=source.columns, encoding=source.encoding or "utf-8",
                                  use_threads=True, block_size=1 << 24)
    parse_opts = pacsv.ParseOptions(delimiter=source.delimiter or ",", newlines_in_values=False)
    convert_opts = pacsv.ConvertOptions(
        include_columns=columns, column_types=types,
        null_values=sorted({"", ".", *(b.strip() for b in blanks if b.strip() != "0")}),
        strings_can_be_null=False, quoted_strings_can_be_null=False,
        decimal_point="," if source.delimiter == ";" else ".",
    )
    first = 0
    carry = b""
    with open(source.path, "rb") as fh:
        fh.readline()  # the header, parsed by open_source
        while True:
            data = fh.read(block)
            buf = carry + data
            if data:
                cut = buf.rfind(b"\n")
                if cut < 0:
                    carry = buf  # a row longer than the block: read on
                    continue
                chunk, carry = buf[:cut + 1], buf[cut + 1:]
            else:
                chunk, carry = buf, b""
            del buf
            if chunk and not (len(chunk) < 4096 and chunk.isspace()):
                try:
                    table = pacsv.read_csv(pa.py_buffer(chunk), read_options=read_opts, parse_options=parse_opts,
                                           convert_options=convert_opts)
                except pa.ArrowInvalid as err:
                    raise _csv_error(source, err, first, as_text) from None
                del chunk
                n = table.num_rows
                yield first, table
                del table  # do not hold the previous chunk while parsing the next
                first += n
            if not data:
                break


def _csv_error(source: Source, err: Exception, first: int, as_text: bool) -> Exception:
    msg = str(err)
    where = rel(source.path)
    if "conversion error" in msg and not as_text:
        return RetryAsText()
    if "invalid UTF8" in msg or "UTF-8" in msg or "decode" in msg.lower():
        return IngestError(
            f"{where}: the file is not valid {source.encoding or 'UTF-8'} text (at or after data row {first + 1}); "
            "set data.dream.encoding (utf-8, latin-1 or cp1252) to the file's encoding"
        )
    found = _EXPECTED.search(msg)
    if found:
        return IngestError(
            f"{where}: a row after data row {first} has {found.group(2)} fields, the header has {found.group(1)}; "
            "check the delimiter (data.dream.delimiter) and quoting, or repair the row"
        )
    # never pass pyarrow's message through: it can quote a whole row, ID included
    return IngestError(
        f"{where}: the CSV cannot be parsed after data row {first} ({type(err).__name__}); check the delimiter, "
        "quoting and encoding settings in data.dream"
    )


def _iter_readstat(source: Source, columns, chunk_rows):
    """Chunks of a SAS/Stata/SPSS file: Stata 118/119 through :mod:`helpers.ingest.stata`, the rest pyreadstat.

    The next chunk is read in a background thread while the caller converts the current
    one (:func:`prefetch`), so reading and converting overlap on two cores.
    """
    if source.format == "dta" and not source.encoding:
        try:
            lay = stata.layout(source.path)
            stata.check_columns(lay, list(columns))
        except (stata.Unsupported, KeyError, OSError, ValueError):
            lay = None
        if lay is not None:
            yield from prefetch(_guard(stata.iter_dta(source.path, list(columns), chunk_rows, lay), source))
            return
    if source.format == "sas7bdat" and not source.encoding:
        try:
            lay = sas7bdat.layout(source.path, readstat_metadata(source.path, "sas7bdat"))
            sas7bdat.check_columns(lay, list(columns))
        except (sas7bdat.Unsupported, KeyError, OSError, ValueError):
            lay = None
        if lay is not None:
            yield from prefetch(_guard(sas7bdat.iter_sas7bdat(source.path, list(columns), chunk_rows, lay), source))
            return
    yield from prefetch(_iter_pyreadstat(source, columns, chunk_rows))


def _guard(chunks, source: Source):
    """Turn a reader's failure mid-file into an IngestError naming the file and row."""
    first = 0
    try:
        for first, table in chunks:
            yield first, table
    except IngestError:
        raise
    except Exception as err:  # noqa: BLE001 - the reader's errors carry no data values
        raise IngestError(
            f"{rel(source.path)}: reading {source.format} failed after data row {first} "
            f"({type(err).__name__}: {err})"
        ) from None


def prefetch(chunks: Iterator[tuple[int, pa.Table]], depth: int = 1) -> Iterator[tuple[int, pa.Table]]:
    """Yield the items of ``chunks`` while a background thread reads up to ``depth`` ahead.

    Memory grows by ``depth`` chunks. An exception in the reader is raised here, at the
    item where it happened; closing the generator stops the reader after its current chunk.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for item in chunks:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as err:  # noqa: BLE001 - handed to the consumer
            q.put(err)

    thread = threading.Thread(target=work, name="ingest-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            del item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.1)


def _iter_pyreadstat(source: Source, columns, chunk_rows):
    import pyreadstat

    reader = _readstat_reader(source.format)
    first = 0
    try:
        extra = {"encoding": source.encoding} if source.encoding else {}
        chunks = pyreadstat.read_file_in_chunks(
            reader, str(source.path), chunksize=chunk_rows, usecols=list(columns), **extra,
        )
        for frame, _meta in chunks:
            n = len(frame)
            if n == 0:
                break
            table = pa.Table.from_pandas(frame, preserve_index=False)
            del frame
            yield first, table
            del table
            first += n
    except IngestError:
        raise
    except Exception as err:  # pyreadstat's errors carry no data values
        raise IngestError(
            f"{rel(source.path)}: reading {source.format} failed after data row {first} "
            f"({type(err).__name__}: {err})"
        ) from None
