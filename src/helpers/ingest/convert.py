"""Value conversion: raw column values (any reader, any storage type) to the store's types.

Every function takes one column of a chunk (a pyarrow array, or anything ``pa.array``
accepts), the :class:`~helpers.ingest.errors.Where` it came from and the 0-based index of
the chunk's first row in its file, and returns a NumPy array. Bad values raise
:class:`~helpers.ingest.errors.IngestError` naming file, column and data row.

Rules
-----
- Weekly codes: numbers or text; blank, ``.`` and ``0`` are an empty week (stored as 0);
  ``730``, ``"730"``, ``" 730 "``, ``730.0`` and ``"730.0"`` are all code 730; anything
  else, and numbers outside 0-999, is an error.
- A value is echoed in a message only when it is at most 5 characters long, so that a
  shifted row can never put a person ID or birth date into a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.ingest.errors import IngestError, Where
from helpers.ingest.pseudonym import normalise_ids

MAX_CODE = 999
_CODE_TEXT = r"^(\d{1,6}(\.0*)?|\.?)$"
_NUMBER_TEXT = r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$"
_DATE_FORMATS = ("%Y-%m-%d", "%d%b%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y", "%Y%m%d")
ADVICE_CODE = (
    "DREAM codes are whole numbers 1-999 (blank, '.' or 0 = empty week); correct the value in the "
    "extract or ask the data provider for a corrected file"
)


def show(value) -> str:
    """Quote a short value; describe a long one by its length only (never echo IDs or dates)."""
    text = "" if value is None else str(value)
    return repr(text) if len(text) <= 5 else f"a {len(text)}-character value"


def as_array(values) -> pa.Array:
    """One contiguous pyarrow array (dictionary columns decoded)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    elif not isinstance(values, pa.Array):
        values = pa.array(values, from_pandas=True)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    return values


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _fail(where: Where, first_row: int, idx: int, text: str) -> IngestError:
    return IngestError(f"{where.row(first_row + idx + 1)}: {text}")


def _trimmed(arr: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(arr.fill_null(""))


def _blank_to_empty(s: pa.Array, blanks) -> pa.Array:
    """Trimmed text with every configured blank marker replaced by ``""``."""
    extra = [b.strip() for b in (blanks or ()) if b.strip() not in ("", ".")]
    if extra:
        s = pc.if_else(pc.is_in(s, value_set=pa.array(extra, pa.string())), "", s)
    return s


def codes(values, where: Where, first_row: int, blanks=None) -> np.ndarray:
    """Weekly codes as ``int16`` (0 = empty week); ``blanks``: extra text markers of an empty week."""
    arr = as_array(values)
    t = arr.type
    if pa.types.is_floating(t) or pa.types.is_integer(t):
        fast = _codes_fast(arr)
        if fast is not None:
            return fast
    # the exact path: also the one that names the first bad value
    if pa.types.is_null(t):
        return np.zeros(len(arr), dtype=np.int16)
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        out = arr.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    elif pa.types.is_floating(t):
        f = arr.to_numpy(zero_copy_only=False).astype(np.float64)
        f = np.where(np.isnan(f), 0.0, f)
        bad = (f != np.floor(f)) | (f < 0) | (f > MAX_CODE)
        if bad.any():
            i = _first(bad)
            raise _fail(where, first_row, i, f"code {show(f[i])} is not a DREAM code; {ADVICE_CODE}")
        out = f.astype(np.int64)
    elif _is_text(t):
        s = _blank_to_empty(_trimmed(arr), blanks)
        ok = pc.match_substring_regex(s, _CODE_TEXT).to_numpy(zero_copy_only=False)
        if not ok.all():
            i = _first(~ok)
            raise _fail(where, first_row, i, f"code {show(s[i].as_py())} is not a number; {ADVICE_CODE}")
        s = pc.replace_substring_regex(s, r"^\.?$", "0")
        s = pc.replace_substring_regex(s, r"\.0*$", "")
        out = pc.cast(s, pa.int64()).to_numpy(zero_copy_only=False)
    else:
        raise IngestError(f"{where}: weekly codes are stored as {t}; expected numbers or text. {ADVICE_CODE}")
    bad = (out < 0) | (out > MAX_CODE)
    if bad.any():
        i = _first(bad)
        raise _fail(where, first_row, i, f"code {show(out[i])} is outside 1-999; {ADVICE_CODE}")
    return out.astype(np.int16)


def _codes_fast(arr: pa.Array) -> np.ndarray | None:
    """Numeric codes as ``int16`` in three array passes, or None when any value needs the exact path.

    A null is an empty week (0). A value is accepted when it is a whole number in 0-999; anything else
    (a fraction, NaN, a negative or too large number: its ``int16`` cast differs from it or falls
    outside 0-999) sends the column to the exact path, which raises the error.
    """
    values = (arr.fill_null(0) if arr.null_count else arr).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):  # NaN or out of range: caught by the comparison below
        out = values.astype(np.int16, copy=False)
    if values.dtype != np.int16 and not np.array_equal(out, values):
        return None
    if out.size and (out.min() < 0 or out.max() > MAX_CODE):
        return None
    return out


def sex(values, where: Where, first_row: int, mapping: dict[str, str], blanks=None) -> np.ndarray:
    """Sex as ``int8`` (1 male, 2 female, 0 missing) through ``data.dream.sex_codes``.

    Values are compared as text ignoring case and surrounding blanks; a whole number stored
    as a float (``1.0``) reads as ``1``. Blank and ``.`` are missing.
    """
    arr = as_array(values)
    if pa.types.is_null(arr.type):
        return np.zeros(len(arr), dtype=np.int8)
    if pa.types.is_floating(arr.type):
        f = arr.to_numpy(zero_copy_only=False).astype(np.float64)
        text = np.array(["" if np.isnan(v) else (str(int(v)) if v == np.floor(v) else str(v)) for v in f], dtype=object)
    elif _is_text(arr.type):
        text = _blank_to_empty(_trimmed(arr), blanks).to_numpy(zero_copy_only=False).astype(object)
    else:
        text = np.array(["" if v is None else str(v) for v in arr.to_pylist()], dtype=object)
    folded = {str(k).strip().casefold(): (1 if v == "male" else 2) for k, v in mapping.items()}
    out = np.zeros(len(text), dtype=np.int8)
    uniq, inv = np.unique(np.array([str(v).strip().casefold() for v in text], dtype=object), return_inverse=True)
    codes_u = np.zeros(len(uniq), dtype=np.int8)
    for j, u in enumerate(uniq):
        if u in ("", "."):
            continue
        if u not in folded:
            i = int(np.flatnonzero(inv == j)[0])
            accepted = ", ".join(f"{k!r} ({v})" for k, v in mapping.items())
            raise _fail(where, first_row, i, f"sex {show(text[i])} is not one of the configured values {accepted}; "
                        "correct the value or map it in data.dream.sex_codes (e.g. {M: male, K: female})")
        codes_u[j] = folded[u]
    out[:] = codes_u[inv]
    return out


def ages(values, where: Where, first_row: int) -> np.ndarray:
    """Age in whole years as ``float64`` (NaN = missing); 0-130."""
    f = numbers(values, where, first_row, "age")
    bad = ~np.isnan(f) & ((f != np.floor(f)) | (f < 0) | (f > 130))
    if bad.any():
        i = _first(bad)
        raise _fail(where, first_row, i, f"age {show(f[i])} is not a whole number of years in 0-130; correct it")
    return f


#: Characters of an ID that is not an ID (a formula, a shifted row, a control character).
_ID_OK = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-]*$")


@dataclass
class IdShapes:
    """Counts person IDs that do not look like IDs, e.g. ``=cmd|...`` (never keeps the IDs).

    A person ID is expected to be letters, digits, ``-`` and ``_`` and to start with a letter
    or digit; anything else (a spreadsheet formula, text shifted into the column, control
    characters) is counted, with the first data row, for a warning.
    """

    count: int = 0
    first: str | None = None
    formula: int = 0
    _lengths: dict = field(default_factory=dict)

    def add(self, ids: list[str], where: Where, first_row: int) -> None:
        """Check one chunk of normalised IDs."""
        for i, v in enumerate(ids):
            if not _ID_OK.match(v):
                self.count += 1
                if v[:1] in FORMULA_PREFIXES:
                    self.formula += 1
                if self.first is None:
                    self.first = where.row(first_row + i + 1)

    def warnings(self) -> list[dict]:
        """Warning records (aggregates and a row number only)."""
        if not self.count:
            return []
        return [{"kind": "id_shape", "count": self.count,
                 "text": f"person IDs with characters other than letters, digits, - and _ (first at {self.first}; "
                         f"{self.formula} start like a spreadsheet formula); check the ID column"}]


#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def numbers(values, where: Where, first_row: int, what: str) -> np.ndarray:
    """Numbers as ``float64``; blank and ``.`` are NaN; a decimal comma is accepted."""
    arr = as_array(values)
    t = arr.type
    if pa.types.is_null(t):
        return np.full(len(arr), np.nan)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t):
        return arr.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    if _is_text(t):
        s = _trimmed(arr)
        empty = pc.match_substring_regex(s, r"^\.?$").to_numpy(zero_copy_only=False)
        ok = pc.match_substring_regex(s, _NUMBER_TEXT).to_numpy(zero_copy_only=False) | empty
        if not ok.all():
            i = _first(~ok)
            raise _fail(where, first_row, i, f"{what} {show(s[i].as_py())} is not a number; correct it in the file")
        s = pc.replace_substring(pc.if_else(pa.array(empty), "nan", s), ",", ".")
        return pc.cast(s, pa.float64()).to_numpy(zero_copy_only=False)
    raise IngestError(f"{where}: {what} is stored as {t}; expected numbers")


def integers(values, where: Where, first_row: int, what: str, lo: int, hi: int) -> np.ndarray:
    """Whole numbers in ``[lo, hi]`` as ``int64``; blank, ``.`` and 0 give 0 (missing)."""
    f = numbers(values, where, first_row, what)
    f = np.where(np.isnan(f), 0.0, f)
    bad = (f != np.floor(f)) | (((f < lo) | (f > hi)) & (f != 0))
    if bad.any():
        i = _first(bad)
        raise _fail(where, first_row, i, f"{what} {show(f[i])} is not a whole number in {lo}-{hi}")
    return f.astype(np.int64)


def present(values) -> np.ndarray:
    """Boolean: a non-empty value (not blank, ``.`` or 0), e.g. a ``branche`` code in the month."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.DictionaryArray):
        return _present_by_dictionary(values)
    arr = as_array(values)
    if _is_text(arr.type):
        # most months are empty or a plain code: decide each distinct text once, then look up
        return _present_by_dictionary(pc.dictionary_encode(arr))
    return _present_values(arr)


def _present_by_dictionary(values: pa.DictionaryArray) -> np.ndarray:
    """:func:`present` decided per distinct value of a dictionary array, then looked up (null: absent)."""
    keep = np.append(_present_values(values.dictionary), False)
    return keep[values.indices.fill_null(len(values.dictionary)).to_numpy(zero_copy_only=False)]


def _present_values(arr: pa.Array) -> np.ndarray:
    """:func:`present` value by value."""
    t = arr.type
    if pa.types.is_null(t):
        return np.zeros(len(arr), dtype=bool)
    if _is_text(t):
        return ~pc.match_substring_regex(_trimmed(arr), r"^(\.?|0+)$").to_numpy(zero_copy_only=False)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        f = arr.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        return ~np.isnan(f) & (f != 0)
    return arr.is_valid().to_numpy(zero_copy_only=False)


def dates(values, where: Where, first_row: int, what: str, numeric: str = "error") -> np.ndarray:
    """Dates as ``datetime64[D]`` (NaT = missing).

    Accepts date/timestamp columns and text in ISO ``YYYY-MM-DD`` (with or without a time),
    SAS ``DDMONYYYY`` (``14MAR1975``), ``DD-MM-YYYY``, ``DD.MM.YYYY``, ``DD/MM/YYYY`` or
    ``YYYYMMDD``; one format per chunk. Plain numbers are an error unless ``numeric`` is
    ``"days_since_1960"`` (a SAS or Stata date whose format was lost).
    """
    arr = as_array(values)
    t = arr.type
    if pa.types.is_null(t):
        return np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[D]")
    if numeric == "days_since_1960" and (pa.types.is_integer(t) or pa.types.is_floating(t)):
        f = arr.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        bad = ~np.isnan(f) & ((f != np.floor(f)) | (np.abs(f) > 200_000))
        if bad.any():
            raise _fail(where, first_row, _first(bad), f"{what} is not a whole number of days since 1960-01-01")
        out = np.full(len(f), np.datetime64("NaT"), dtype="datetime64[D]")
        ok = ~np.isnan(f)
        out[ok] = np.datetime64("1960-01-01") + f[ok].astype(np.int64)
        return out
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        if pa.types.is_timestamp(t):
            arr = arr.cast(pa.timestamp("s")).cast(pa.date32()) if t.tz is None else pc.cast(arr, pa.date32())
        return arr.cast(pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]")
    if not _is_text(t):
        raise IngestError(
            f"{where}: {what} is stored as {t}; expected dates (YYYY-MM-DD). Export the column with a date "
            "format (SAS DATE9., Stata %td) or as ISO text, or, if the numbers are days since 1960-01-01 (SAS and "
            "Stata dates without their format), set data.dream.numeric_dates: days_since_1960"
        )
    s = pd.Series(_trimmed(arr).to_numpy(zero_copy_only=False), dtype=object)
    empty = s.isin(["", "."]).to_numpy()
    if empty.all():
        return np.full(len(s), np.datetime64("NaT"), dtype="datetime64[D]")
    candidates = s[~empty]
    parsed = None
    for fmt in ("ISO8601", *_DATE_FORMATS):
        try:
            attempt = pd.to_datetime(candidates, format=fmt, errors="coerce")
        except (ValueError, TypeError):
            continue
        if attempt.notna().all():
            parsed = attempt
            break
    if parsed is None:
        iso = pd.to_datetime(candidates, format="ISO8601", errors="coerce")
        i = int(np.flatnonzero(~empty)[int(np.argmax(iso.isna().to_numpy()))])
        raise _fail(where, first_row, i, f"{what} {show(s.iloc[i])} is not a date; write dates as YYYY-MM-DD")
    out = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[D]")
    out[~empty] = parsed.to_numpy().astype("datetime64[D]")
    return out


def ids(values, where: Where, first_row: int, id_width: int | None) -> list[str]:
    """Person IDs as stripped text (integral numbers without decimals, optionally zero-padded).

    An empty ID is an error naming the row.
    """
    arr = as_array(values)
    if pa.types.is_floating(arr.type):
        f = arr.to_numpy(zero_copy_only=False)
        bad = ~np.isnan(f) & (f != np.floor(f))
        if bad.any():
            raise _fail(where, first_row, _first(bad), "the person ID is a number with decimals; "
                        "export IDs as text or whole numbers")
    out = normalise_ids(arr.to_pylist(), id_width)
    empty = [i for i, v in enumerate(out) if not v]
    if empty:
        raise _fail(where, first_row, empty[0], "the person ID is empty; every row needs an ID")
    return out
