"""Project forms (screening, questionnaires, events, costs): read, validate, pseudonymise.

Forms are small (one row per screened person, questionnaire answer or event), so they are
read whole, as text, from CSV (delimiter and encoding detected or set in ``data.forms``) or
Excel. Checks, all reported together with file, column and data row:

- the ID column (``data.forms.id_column``) is present and never empty, and every person is
  in the DREAM extract (checked after the extract has been read);
- every date column (``date`` or ``*_date``) parses and lies in the extract's window
  (Monday of ``first_year``-W01 to Sunday of ``last_year``'s last week);
- questionnaire ``value`` is a whole number in ``outcomes.questionnaires.scale_min`` ..
  ``scale_max`` (blank = missing);
- screening ``included`` is 0 or 1.

Columns other than the ID are kept; all-numeric columns become numbers, dates datetime64.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.core import calendar
from helpers.ingest import convert
from helpers.ingest.errors import IngestError, Where, rel
from helpers.ingest.pseudonym import digests, normalise_ids, to_hex
from helpers.ingest.readers import _sniff_delimiter, scan_file

FORMS = ("screening", "questionnaires", "events", "costs")
MAX_LISTED = 10


@dataclass
class Form:
    """A read and content-checked form, with hashed IDs (the raw IDs are already dropped)."""

    name: str
    path: Path
    frame: pd.DataFrame
    hashes: np.ndarray | None = None
    id_rows: np.ndarray | None = None  # 1-based data rows of the hashed IDs
    id_column: str | None = None
    errors: list[str] = field(default_factory=list)


def window(data) -> tuple[dt.date, dt.date]:
    """First Monday and last Sunday of the extract's weekly window."""
    start = calendar.monday_of_iso(data.first_year, 1)
    stop = calendar.monday_of_iso(data.last_year, calendar.iso_weeks_in_year(data.last_year)) + dt.timedelta(days=6)
    return start, stop


def _read_raw(path: Path, forms_cfg) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    else:
        enc = forms_cfg.encoding if forms_cfg.encoding != "auto" else scan_file(path, text=True).encoding
        with open(path, encoding=enc, errors="replace") as fh:
            header = fh.readline().lstrip("\ufeff")
        if not header.strip():
            raise IngestError(f"{rel(path)}: the form is empty; expected a header line")
        delim = forms_cfg.delimiter if forms_cfg.delimiter != "auto" else (
            _sniff_delimiter(header, path) if any(d in header for d in ",;\t") else ",")
        try:
            frame = pd.read_csv(path, sep=delim, dtype=str, keep_default_na=False, encoding=enc,
                                encoding_errors="strict")
        except UnicodeDecodeError:
            raise IngestError(f"{rel(path)}: not valid {enc} text; set data.forms.encoding") from None
        except pd.errors.ParserError as err:
            raise IngestError(f"{rel(path)}: cannot be parsed as CSV ({str(err).splitlines()[-1]}); "
                              "check the delimiter (data.forms.delimiter) and quoting") from None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return frame


def _date_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.lower() == "date" or c.lower().endswith("_date")]


def read_form(name: str, path: Path, study, key: bytes) -> Form:
    """Read one form and check its content (IDs are hashed; membership is checked later)."""
    data = study.data
    frame = _read_raw(path, data.forms)
    form = Form(name, path, frame)
    errors = form.errors
    id_col = next((c for c in frame.columns if c.casefold() == data.forms.id_column.casefold()), None)
    out = pd.DataFrame(index=frame.index)
    if id_col is not None:
        raw = normalise_ids(frame[id_col].tolist(), data.dream.id_width)
        empty = [i + 1 for i, v in enumerate(raw) if not v]
        if empty:
            errors.append(f"{Where(path, id_col).row(empty[0])}: the person ID is empty "
                          f"({len(empty)} row(s)); every row needs an ID")
        form.hashes = digests(raw, key)
        form.id_rows = np.arange(1, len(raw) + 1)
        form.id_column = id_col
        out["person_id"] = to_hex(form.hashes)
    elif name != "costs":
        errors.append(f"{rel(path)}: no person ID column {data.forms.id_column!r} (data.forms.id_column); "
                      f"the form has {', '.join(frame.columns[:8])}")
    start, stop = window(data)
    q = study.outcomes.questionnaires
    for col in frame.columns:
        if col == id_col:
            continue
        values = frame[col]
        where = Where(path, col)
        if col in _date_columns(frame):
            try:
                parsed = convert.dates(values.to_numpy(dtype=object), where, 0, "the date")
            except IngestError as err:
                errors.append(str(err))
                continue
            d = pd.to_datetime(parsed)
            outside = np.flatnonzero(d.notna() & ((d < pd.Timestamp(start)) | (d > pd.Timestamp(stop))))
            if len(outside):
                errors.append(
                    f"{where.row(int(outside[0]) + 1)}: the date is outside the extract's window {start} to {stop} "
                    f"({len(outside)} row(s)); correct the date, or widen data.first_year/last_year"
                )
            out[col] = d
            continue
        stripped = values.str.strip()
        numeric = pd.to_numeric(stripped.str.replace(",", ".", regex=False).replace({"": None, ".": None}),
                                errors="coerce")
        nonblank = ~stripped.isin(["", "."])
        is_numeric = bool(nonblank.any()) and bool(numeric[nonblank].notna().all())
        if name == "questionnaires" and col.lower() == "value":
            bad = nonblank & (numeric.isna() | (numeric != np.floor(numeric)) |
                              (numeric < q.scale_min) | (numeric > q.scale_max))
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                errors.append(
                    f"{where.row(i + 1)}: questionnaire value {convert.show(stripped.iloc[i])} is not a whole number "
                    f"in {q.scale_min}-{q.scale_max} ({int(bad.sum())} row(s)); correct it, leave it blank if "
                    "missing, or set outcomes.questionnaires.scale_min/scale_max"
                )
            out[col] = numeric.astype("Float64").round().astype("Int16") if not bad.any() else numeric
            continue
        if name == "screening" and col.lower() == "included":
            bad = nonblank & ~numeric.isin([0, 1])
            if bad.any() or (~nonblank).any():
                i = int(np.flatnonzero((bad | ~nonblank).to_numpy())[0])
                errors.append(f"{where.row(i + 1)}: included must be 0 or 1 ({int((bad | ~nonblank).sum())} row(s))")
        if is_numeric:
            integral = bool((numeric.dropna() == np.floor(numeric.dropna())).all())
            out[col] = numeric.astype("Int64") if integral else numeric.astype("Float64")
        else:
            out[col] = stripped.where(nonblank, None)
    form.frame = out.reset_index(drop=True)
    return form


def check_members(form: Form, extract_sorted: np.ndarray) -> None:
    """Add an error when persons of ``form`` are not in the extract (``extract_sorted``: sorted hashes)."""
    if form.hashes is None or not len(form.hashes):
        return
    pos = np.searchsorted(extract_sorted, form.hashes)
    pos = np.clip(pos, 0, max(len(extract_sorted) - 1, 0))
    found = (extract_sorted[pos] == form.hashes) if len(extract_sorted) else np.zeros(len(form.hashes), bool)
    if not found.all():
        rows = form.id_rows[~found]
        listed = ", ".join(str(r) for r in rows[:MAX_LISTED]) + (" ..." if len(rows) > MAX_LISTED else "")
        form.errors.append(
            f"{Where(form.path, form.id_column)}: {len(rows)} row(s) refer to persons who are not in the DREAM "
            f"extract (data rows {listed}); check the IDs against the extract, or ask for an extract that "
            "includes these persons"
        )


def raise_if_errors(forms: list[Form]) -> None:
    """Raise one :class:`IngestError` listing every form problem found."""
    problems = [e for f in forms for e in f.errors]
    if problems:
        head = "the project forms failed validation; nothing was written:"
        shown = problems[:MAX_LISTED] + ([f"... and {len(problems) - MAX_LISTED} more"] if len(problems) > MAX_LISTED
                                         else [])
        raise IngestError(head + "\n  - " + "\n  - ".join(shown))
