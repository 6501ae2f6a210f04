"""Zip the publication supplement of a study, refusing if any file holds person-level data.

``python -m helpers.report.supplement --study demo`` (what ``make supplement`` calls) collects

- ``report.html`` and ``report.pdf`` (printed now if missing and Chromium is available),
- ``figures/`` (PNG 300 dpi and SVG) and ``tables/`` (CSV and XLSX),
- ``investment_workbook.xlsx`` (inputs, a yearly sheet per actor with Excel formulas, summary;
  written by notebook 05 with per-code pricing, :mod:`helpers.report.workbook`),
- ``notebooks/`` (the executed notebooks, with outputs),
- ``study/<study>.yaml``, ``environment/requirements.lock.txt`` (``pip freeze`` of the running
  environment, written now) with ``pyproject.toml`` and ``environment.yml``,
- ``manifest.json`` and ``disclosure_log.jsonl``,

then scans every member for CPR-shaped strings, pseudonymised person IDs (the 16-hex
``person_id`` values of the processed store, and any 16-hex token), person-level tables
(a person-identifier column; many rows whose count is 1; counts below ``min_cell`` in
count columns; minima/maxima) and disclosure FAILs. If anything is found it refuses,
listing file and reason, and writes nothing; otherwise the zip is built in a temporary
file and moved onto ``reports/<study>/supplement.zip`` in one step.

Statistics Denmark: results may leave only when "all data with information on
individual/enterprise level and pseudonymised key variables has been removed" and they
have passed statistical disclosure control.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from helpers import disclosure
from helpers.config import StudyConfigError, load_study
from helpers.core import paths
from helpers.report import pdf as pdfmod
from helpers.report.reporter import read_log

#: A table with at least this many rows whose count column equals 1 is treated as person-level.
PERSON_ROWS = 20
#: Above this many persons the known-ID set is not loaded (the generic 16-hex pattern still applies).
MAX_KNOWN_IDS = 2_000_000
TEXT_SUFFIXES = {".csv", ".html", ".json", ".jsonl", ".svg", ".txt", ".yaml", ".yml", ".toml", ".md", ".ipynb"}


class SupplementRefused(RuntimeError):
    """The supplement would hold person-level data or undisclosable results."""


@dataclass(frozen=True)
class Problem:
    """Why one member of the supplement may not be published."""

    member: str
    reason: str

    def __str__(self) -> str:
        return f"{self.member}: {self.reason}"


# ---------------------------------------------------------------------------- scanning
def known_person_ids(study_name: str) -> frozenset[str]:
    """The processed store's pseudonymised IDs (empty when absent or too many to hold)."""
    path = paths.processed_dir(study_name) / "persons.parquet"
    if not path.exists():
        return frozenset()
    meta = pq.ParquetFile(path).metadata
    if meta.num_rows > MAX_KNOWN_IDS:
        return frozenset()
    return frozenset(pq.read_table(path, columns=["person_id"]).column("person_id").to_pylist())


def _contains_known(text: str, known: frozenset[str]) -> int:
    if not known:
        return 0
    return sum(1 for m in re.finditer(r"(?=([0-9a-f]{16}))", text) if m.group(1) in known)


def _notebook_text(data: bytes) -> str:
    """An executed notebook's JSON without embedded images (base64 is not text to scan)."""
    nb = json.loads(data.decode("utf-8"))
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            for mime in list(out.get("data", {})):
                if mime.startswith("image/") and mime != "image/svg+xml":
                    out["data"][mime] = ""
    return json.dumps(nb, ensure_ascii=False, indent=0)


def _table_problems(name: str, frame: pd.DataFrame, min_cell: int) -> list[Problem]:
    problems = []
    ids = [str(c) for c in frame.columns if str(c).strip().lower() in disclosure.ID_COLUMNS]
    if ids:
        problems.append(Problem(name, f"person-level table: identifier column(s) {ids}"))
    for col in disclosure.count_columns(frame):
        ones = int((pd.to_numeric(frame[col], errors="coerce") == 1).sum())
        if ones >= PERSON_ROWS:
            problems.append(Problem(name, f"person-level table: {ones} rows with {col} = 1"))
    check = disclosure.check_table(frame, min_cell, item=name)
    if not check.passed:
        problems.append(Problem(name, check.detail))
    return problems


def scan_member(name: str, data: bytes, *, min_cell: int, known: frozenset[str] = frozenset()) -> list[Problem]:
    """Problems in one would-be member of the zip (empty list = publishable)."""
    suffix = Path(name).suffix.lower()
    problems: list[Problem] = []
    text = None
    if suffix == ".ipynb":
        text = _notebook_text(data)
    elif suffix in TEXT_SUFFIXES:
        text = data.decode("utf-8", errors="replace")
    elif suffix == ".xlsx":
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object)
        text = "\n".join(df.to_csv(index=False) for df in sheets.values())
        for sheet, df in sheets.items():
            problems += _table_problems(f"{name}[{sheet}]", df, min_cell)
    elif suffix == ".pdf":
        try:
            from pypdf import PdfReader

            text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
        except ImportError:  # pragma: no cover - pypdf is a dev dependency
            text = None
    if suffix == ".csv":
        try:
            problems += _table_problems(name, pd.read_csv(io.BytesIO(data), dtype=object, keep_default_na=False),
                                        min_cell)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
            problems.append(Problem(name, f"table could not be read for checking ({err})"))
    if text is not None:
        for f in disclosure.find_identifiers(text, where=name, limit=5):
            problems.append(Problem(name, f"line {f.line}: {f.kind} ({f.excerpt})"))
        hits = _contains_known(text, known)
        if hits:
            problems.append(Problem(name, f"{hits} pseudonymised person ID(s) of the processed store"))
    return problems


# ---------------------------------------------------------------------------- building
def environment_lock() -> str:
    """``pip freeze`` of the running interpreter's environment, with a header."""
    result = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pip freeze failed: {result.stderr.strip()[-500:]}")
    head = f"# pip freeze of {Path(sys.prefix).name} (Python {sys.version.split()[0]}), written by helpers.report.supplement\n"
    return head + result.stdout


def collect_members(study_name: str, report_dir: Path | None = None, *, lock: str | None = None,
                    log=print) -> dict[str, bytes]:
    """``{name in zip: bytes}`` of everything the supplement holds."""
    study = load_study(study_name)
    report_dir = Path(report_dir or paths.report_dir(study.name))
    html = report_dir / "report.html"
    if not html.exists():
        raise FileNotFoundError(f"{html}: no report; run `make report STUDY={study.name}` first")
    pdf = report_dir / "report.pdf"
    if not pdf.exists():
        if pdfmod.find_chromium():
            pdfmod.print_pdf(html, pdf)
        else:
            log("[supplement] warning: no report.pdf and no Chromium to print it; run `make pdf` first to include it")
    members: dict[str, bytes] = {}
    for rel in ("report.html", "report.pdf", "manifest.json", "disclosure_log.jsonl", "investment_workbook.xlsx"):
        if (report_dir / rel).exists():
            members[rel] = (report_dir / rel).read_bytes()
    for folder, suffixes in (("figures", {".png", ".svg"}), ("tables", {".csv", ".xlsx"}), ("notebooks", {".ipynb"})):
        for p in sorted((report_dir / folder).glob("*")):
            if p.suffix.lower() in suffixes and p.is_file():
                members[f"{folder}/{p.name}"] = p.read_bytes()
    if study.source and Path(study.source).exists():
        members[f"study/{Path(study.source).name}"] = Path(study.source).read_bytes()
    members["environment/requirements.lock.txt"] = (lock if lock is not None else environment_lock()).encode("utf-8")
    for name in ("pyproject.toml", "environment.yml"):
        if (paths.PROJECT_ROOT / name).exists():
            members[f"environment/{name}"] = (paths.PROJECT_ROOT / name).read_bytes()
    return members


def check_members(members: dict[str, bytes], *, min_cell: int, known: frozenset[str] = frozenset(),
                  disclosure_records: list[dict] | None = None) -> list[Problem]:
    """Every problem in the would-be supplement (empty list = publishable)."""
    problems: list[Problem] = []
    for rec in disclosure_records or []:
        if rec.get("status") != "PASS":
            problems.append(Problem(f"disclosure checklist: {rec.get('key') or rec.get('item')}",
                                    f"failed disclosure control ({rec.get('detail')})"))
    for name, data in members.items():
        problems += scan_member(name, data, min_cell=min_cell, known=known)
    return problems


def build(study_name: str, *, report_dir: Path | None = None, out: Path | None = None, lock: str | None = None,
          log=print) -> Path:
    """Write ``supplement.zip`` for ``study_name`` and return its path.

    Raises
    ------
    SupplementRefused
        Listing each member and why it may not be published; nothing is written.
    """
    study = load_study(study_name)
    report_dir = Path(report_dir or paths.report_dir(study.name))
    members = collect_members(study_name, report_dir, lock=lock, log=log)
    problems = check_members(members, min_cell=study.study.min_cell, known=known_person_ids(study.name),
                             disclosure_records=read_log(report_dir))
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise SupplementRefused(f"supplement for {study.name} refused; {len(problems)} problem(s):\n{listing}{more}\n"
                                "Nothing was written. Remove or aggregate the person-level content and rebuild.")
    out = Path(out or report_dir / "supplement.zip")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        top = f"{study.name}-supplement"
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in members.items():
                zf.writestr(f"{top}/{name}", data)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log(f"[supplement] {out} ({len(members)} files, scanned: no identifiers or person-level rows)")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``make supplement``)."""
    parser = argparse.ArgumentParser(description="Zip the publication supplement of a study")
    parser.add_argument("--study", default="demo")
    args = parser.parse_args(argv)
    try:
        build(args.study)
    except (SupplementRefused, FileNotFoundError, StudyConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
