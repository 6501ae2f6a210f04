"""Project forms (screening, questionnaires, events, costs): read, validate, pseudonymise.

Forms are small (one row per screened person, questionnaire answer or event), so they are
read whole, as text, from CSV (delimiter and encoding detected or set in ``data.forms``) or
Excel. Checks, all reported together with file, column and data row:

- the file is text (CSV) or a real workbook (Excel), and has at least one data row; rows
  directly under the header whose first cell starts with ``#`` are comments (the template
  example rows of ``make new-study``) and are not counted as data rows;
- column names are the documented ones, or mapped in ``data.forms.columns``
  (``{screening: {inclusion_date: Startdato}}``); a missing required column names that key
  and the file's closest columns;
- the ID column (``data.forms.id_column``) is present and never empty, and every person is
  in the DREAM extract (checked after the extract has been read);
- every date column (``date`` or ``*_date``) parses (``data.forms.date_format``: ISO,
  ``dd-mm-yyyy``, ``dd.mm.yyyy``, ``dd/mm/yyyy``, ``yyyymmdd`` or Excel serial day numbers)
  and lies in the weeks the extract holds (checked after the extract has been read,
  :func:`check_window`);
- questionnaire ``value`` is a whole number in ``outcomes.questionnaires.scale_min`` ..
  ``scale_max`` (blank = missing);
- screening ``included`` is 0 or 1.

Columns other than the ID are kept; all-numeric columns become numbers, dates datetime64.

An inclusion list (``data.forms.inclusion_list``: ID, group, inclusion date) is turned into
the screening form (:func:`screening_from_inclusion_list`): participants get ``included = 1``,
``group = intervention`` and ``screening_date = inclusion_date``; other groups ``included = 0``
with exclusion reason ``other_group_in_inclusion_list``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.config.schema.data import DATE_FORMATS
from helpers.core import calendar
from helpers.ingest import convert
from helpers.ingest.columns import closest
from helpers.ingest.errors import IngestError, Where, rel
from helpers.ingest.pseudonym import digests, normalise_ids, to_hex
from helpers.ingest.readers import _sniff_delimiter, scan_file, sniff_text

FORMS = ("screening", "questionnaires", "events", "costs")
MAX_LISTED = 10
#: Columns each form must have (besides the ID): the later stages read them.
REQUIRED = {"screening": ("included", "inclusion_date"), "questionnaires": ("timepoint", "rater", "measure", "value"),
            "events": ("event", "date"), "costs": ("item", "amount_dkk")}
#: Documented columns of each form (docs/architecture.md), for the templates and the mapping.
DOCUMENTED = {
    "screening": ("screening_date", "included", "exclusion_reason", "inclusion_date", "group"),
    "questionnaires": ("timepoint", "date", "rater", "measure", "value"),
    "events": ("event", "date", "detail"),
    "costs": ("item", "amount_dkk", "year", "per_person", "note"),
}
EXCEL_EPOCH = np.datetime64("1899-12-30")
OTHER_GROUP = "other_group_in_inclusion_list"


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
    source_columns: dict[str, str] = field(default_factory=dict)  # frame column -> column in the file
    date_columns: list[str] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)


def window(data) -> tuple[dt.date, dt.date]:
    """First Monday and last Sunday of the extract's weekly window."""
    start = calendar.monday_of_iso(data.first_year, 1)
    stop = calendar.monday_of_iso(data.last_year, calendar.iso_weeks_in_year(data.last_year)) + dt.timedelta(days=6)
    return start, stop


def _read_raw(path: Path, forms_cfg) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        with open(path, "rb") as fh:
            head = fh.read(8)
        if not head:
            raise IngestError(f"{rel(path)}: the form is empty (0 bytes); expected a workbook with a header row")
        if not head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            raise IngestError(f"{rel(path)}: the file is named {suffix} but is not an Excel workbook; save it from "
                              "Excel again, or rename it to its real type (e.g. .csv)")
        try:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        except Exception as err:  # openpyxl/xlrd errors carry no cell values
            raise IngestError(f"{rel(path)}: cannot be read as an Excel workbook ({type(err).__name__}); save it "
                              "from Excel again") from None
    else:
        sniff_text(path, what="the file's suffix (.xlsx for a workbook)")
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
            raise IngestError(f"{rel(path)}: cannot be parsed as CSV ({_parser_reason(str(err))}); "
                              "check the delimiter (data.forms.delimiter) and quoting, or repair the row") from None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    # example rows of the templates (make new-study): first cell starting with '#', directly under the header
    skip = 0
    while skip < len(frame) and str(frame.iloc[skip, 0]).strip().startswith("#"):
        skip += 1
    frame = frame.iloc[skip:].reset_index(drop=True)
    if frame.empty:
        raise IngestError(f"{rel(path)}: the form has a header but no data rows; fill it in, or set its key in "
                          "data.forms to null if the study has no such form")
    return frame


def _parser_reason(message: str) -> str:
    """pandas' parser message without any quoted data (it names line and field counts only)."""
    last = message.strip().splitlines()[-1] if message.strip() else ""
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", last)
    if found:
        return f"line {found.group(2)} has {found.group(3)} fields, the header has {found.group(1)}"
    return "a row does not match the header"


def _date_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.lower() == "date" or c.lower().endswith("_date")]


def _apply_mapping(frame: pd.DataFrame, name: str, path: Path, mapping: dict[str, str], errors: list[str]
                   ) -> dict[str, str]:
    """Rename mapped columns to their documented names; return documented -> file column."""
    found: dict[str, str] = {}
    rename = {}
    for documented, in_file in mapping.items():
        hit = next((c for c in frame.columns if c.casefold() == str(in_file).casefold()), None)
        if hit is None:
            near = closest(list(frame.columns), str(in_file), "")
            errors.append(f"{rel(path)}, column {in_file}: no column {in_file!r} (data.forms.columns.{name}."
                          f"{documented}); " + (f"the closest columns are {', '.join(near)}. " if near else
                                                f"the form has {', '.join(frame.columns[:8])}. ")
                          + f"Set data.forms.columns.{name}.{documented} to the column's name")
            continue
        rename[hit] = documented
        found[documented] = hit
    frame.rename(columns=rename, inplace=True)
    return found


def parse_dates(values: pd.Series, where: Where, fmt: str) -> pd.Series:
    """A form's date column as datetime64 (NaT = blank); ``fmt`` from ``data.forms.date_format``.

    ``auto`` reads ISO, ``dd-mm-yyyy``, ``dd.mm.yyyy``, ``dd/mm/yyyy``, ``yyyymmdd`` (one format
    per column) and Excel serial day numbers (whole numbers of 5 digits, days since
    1899-12-30); a date with a time (``2021-01-04 00:00:00``, as Excel cells read) is a date.
    """
    text = values.astype(str).str.strip()
    blank = text.isin(["", ".", "nan", "NaT", "None"])
    serial = text.str.fullmatch(r"\d{5}(\.0+)?")
    if fmt == "excel_serial" or (fmt == "auto" and (~blank).any() and serial[~blank].all()):
        bad = ~blank & ~text.str.fullmatch(r"\d{1,7}(\.0+)?")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise IngestError(f"{where.row(i + 1)}: {convert.show(text.iloc[i])} is not an Excel serial day "
                              "number; correct it, or set data.forms.date_format to the column's format")
        days = pd.to_numeric(text.where(~blank), errors="coerce")
        out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
        ok = days.notna()
        out[ok] = pd.to_datetime(EXCEL_EPOCH + days[ok].astype(np.int64).to_numpy().astype("timedelta64[D]"))
        return out
    if fmt not in ("auto", "excel_serial"):
        strp = DATE_FORMATS[fmt]
        cut = text.str.replace(r"[ T]00:00(:00(\.0+)?)?$", "", regex=True)
        parsed = pd.to_datetime(cut.where(~blank), format=strp, errors="coerce")
        bad = ~blank & parsed.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise IngestError(f"{where.row(i + 1)}: the date {convert.show(text.iloc[i])} is not in the format "
                              f"{fmt} (data.forms.date_format) ({int(bad.sum())} row(s)); correct it or change "
                              "data.forms.date_format")
        return parsed
    parsed = convert.dates(text.to_numpy(dtype=object), where, 0, "the date")
    return pd.Series(pd.to_datetime(parsed), index=values.index)


def read_form(name: str, path: Path, study, key: bytes) -> Form:
    """Read one form and check its content (IDs are hashed; membership and dates are checked later)."""
    data = study.data
    if name == "screening" and data.forms.inclusion_list is not None:
        return screening_from_inclusion_list(path, study, key)
    frame = _read_raw(path, data.forms)
    form = Form(name, path, frame)
    errors = form.errors
    mapped = _apply_mapping(frame, name, path, data.forms.columns.get(name, {}), errors)
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
        near = closest(list(frame.columns), data.forms.id_column, "data.dream.id_column")
        errors.append(f"{rel(path)}, column {data.forms.id_column}: no person ID column {data.forms.id_column!r} "
                      f"(data.forms.id_column); " + (f"the closest columns are {', '.join(near)}" if near else
                                                     f"the form has {', '.join(frame.columns[:8])}")
                      + ". Set data.forms.id_column to the ID column's name")
    for col in REQUIRED.get(name, ()):
        if col not in frame.columns and not any(col == k for k in mapped):
            near = closest(list(frame.columns), col, "")
            errors.append(f"{rel(path)}, column {col}: the {name} form has no column {col!r}; "
                          + (f"the closest columns are {', '.join(near)}. " if near else
                             f"the form has {', '.join(frame.columns[:8])}. ")
                          + f"Map it with data.forms.columns.{name}.{col}: <column in the file>")
    q = study.outcomes.questionnaires
    for col in frame.columns:
        if col == id_col:
            continue
        values = frame[col]
        file_col = mapped.get(col, col)
        form.source_columns[col] = file_col
        where = Where(path, file_col)
        if col in _date_columns(frame):
            try:
                out[col] = parse_dates(values, where, data.forms.date_format)
            except IngestError as err:
                errors.append(str(err))
                continue
            form.date_columns.append(col)
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


def screening_from_inclusion_list(path: Path, study, key: bytes) -> Form:
    """The screening form built from an inclusion list (ID, group, inclusion date).

    Mapping (documented in docs/checks.md and README): a row whose group is one of
    ``intervention_groups`` (ignoring case) -> ``included = 1``, ``group = "intervention"``,
    ``inclusion_date = screening_date = <date>``, ``exclusion_reason = ""``; another group ->
    ``included = 0``, ``group = ""``, ``exclusion_reason = "other_group_in_inclusion_list"``
    (screened, so never drawn as a register control). Without ``group_column`` every row is
    a participant.
    """
    data = study.data
    spec = data.forms.inclusion_list
    frame = _read_raw(path, data.forms)
    form = Form("screening", path, frame)
    errors = form.errors
    key_of = {"id": "data.forms.inclusion_list.id_column", "group": "data.forms.inclusion_list.group_column",
              "date": "data.forms.inclusion_list.date_column"}
    wanted = {"id": spec.id_column or data.forms.id_column, "group": spec.group_column, "date": spec.date_column}
    cols: dict[str, str | None] = {}
    for what, name in wanted.items():
        if name is None:
            cols[what] = None
            continue
        hit = next((c for c in frame.columns if c.casefold() == name.casefold()), None)
        if hit is None:
            near = closest(list(frame.columns), name, "data.dream.id_column" if what == "id" else "")
            errors.append(f"{rel(path)}, column {name}: no column {name!r} ({key_of[what]}); "
                          + (f"the closest columns are {', '.join(near)}. " if near else
                             f"the list has {', '.join(frame.columns[:8])}. ")
                          + f"Set {key_of[what]} to the column's name")
        cols[what] = hit
    if errors:
        form.frame = pd.DataFrame()
        return form
    raw = normalise_ids(frame[cols["id"]].tolist(), data.dream.id_width)
    empty = [i + 1 for i, v in enumerate(raw) if not v]
    if empty:
        errors.append(f"{Where(path, cols['id']).row(empty[0])}: the person ID is empty ({len(empty)} row(s)); "
                      "every row needs an ID")
    form.hashes = digests(raw, key)
    form.id_rows = np.arange(1, len(raw) + 1)
    form.id_column = cols["id"]
    if cols["group"] is not None:
        groups = frame[cols["group"]].astype(str).str.strip()
        member = groups.str.casefold().isin([g.strip().casefold() for g in spec.intervention_groups]).to_numpy()
        blank_group = (groups == "").to_numpy()
        if blank_group.any():
            i = int(np.flatnonzero(blank_group)[0])
            errors.append(f"{Where(path, cols['group']).row(i + 1)}: the group is empty ({int(blank_group.sum())} "
                          f"row(s)); write the group, e.g. {spec.intervention_groups[0]!r}")
        if not member.any():
            errors.append(f"{Where(path, cols['group'])}: no row has a group in data.forms.inclusion_list."
                          f"intervention_groups {spec.intervention_groups}; set intervention_groups to the value "
                          "that marks participants")
    else:
        member = np.ones(len(frame), dtype=bool)
    where = Where(path, cols["date"])
    try:
        dates = parse_dates(frame[cols["date"]], where, data.forms.date_format)
    except IngestError as err:
        errors.append(str(err))
        dates = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    no_date = member & dates.isna().to_numpy()
    if no_date.any() and not any(str(e).startswith(str(where)) for e in errors):
        i = int(np.flatnonzero(no_date)[0])
        errors.append(f"{where.row(i + 1)}: the inclusion date is empty for a participant ({int(no_date.sum())} "
                      "row(s)); every participant needs one (the index week comes from it)")
    form.frame = pd.DataFrame({
        "person_id": to_hex(form.hashes),
        "screening_date": dates.where(member).to_numpy(),
        "included": pd.array(member.astype(int), dtype="Int64"),
        "exclusion_reason": np.where(member, None, OTHER_GROUP).astype(object),
        "inclusion_date": dates.where(member).to_numpy(),
        "group": np.where(member, "intervention", None).astype(object),
    })
    form.date_columns = ["screening_date", "inclusion_date"]
    form.source_columns = {"screening_date": cols["date"], "inclusion_date": cols["date"]}
    return form


def check_window(form: Form, start: dt.date, stop: dt.date) -> None:
    """Add an error for dates outside the weeks the extract holds (``start`` Monday .. ``stop`` Sunday)."""
    for col in form.date_columns:
        if col not in form.frame:
            continue
        d = pd.to_datetime(form.frame[col])
        outside = np.flatnonzero(d.notna() & ((d < pd.Timestamp(start)) | (d > pd.Timestamp(stop))))
        if len(outside):
            where = Where(form.path, form.source_columns.get(col, col))
            msg = (f"{where.row(int(outside[0]) + 1)}: the date is outside the extract's window {start} to {stop} "
                   f"({len(outside)} row(s)); correct the date, or get an extract that covers it")
            if msg not in form.errors:
                form.errors.append(msg)


def held_window(first_week: int, n_weeks: int) -> tuple[dt.date, dt.date]:
    """Monday of the first and Sunday of the last week the extract holds."""
    start = calendar.monday_of_dream_week(first_week)
    return start, calendar.monday_of_dream_week(first_week + n_weeks - 1) + dt.timedelta(days=6)


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
