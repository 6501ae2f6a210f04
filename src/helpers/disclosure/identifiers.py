"""Identifier scans: CPR-shaped strings, pseudonymised IDs and known person IDs in text and files.

Used by the Reporter's table check, the report assembler and the supplement before anything
leaves the research machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: A CPR-shaped string: ten digits, optionally ``DDMMYY-SSSS``, not part of a longer token
#: and not the decimals of a number (``0.1234567890``).
CPR_PATTERN = re.compile(r"(?<![0-9A-Za-z])(?<![0-9][.,])\d{6}-?\d{4}(?![0-9A-Za-z])")
#: A pseudonymised person ID of the processed store: 16 lowercase hex characters (BLAKE2b-64).
PSEUDONYM_PATTERN = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{16}(?![0-9A-Za-z])")


# ------------------------------------------------------------------ identifier scan
@dataclass(frozen=True)
class Finding:
    """An identifier-shaped string found by :func:`find_identifiers` (value never stored whole)."""

    kind: str
    where: str
    line: int
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.kind} ({self.excerpt})"


def _redact(value: str) -> str:
    return value[:2] + "…" + f"[{len(value)} chars]"


_DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+", re.IGNORECASE)


def find_identifiers(text: str, *, known_ids: set[str] | frozenset[str] | None = None, where: str = "",
                     pseudonyms: bool = True, limit: int = 20) -> list[Finding]:
    """CPR-shaped strings, 16-hex pseudonyms and known person IDs in ``text``.

    Base64 data URIs (embedded images) are skipped. Findings hold a redacted excerpt only.

    Parameters
    ----------
    text : str
    known_ids : set of str, optional
        Exact person IDs (e.g. the processed store's ``person_id`` values) to look for.
    where : str
        Name of the file or item, for the findings.
    pseudonyms : bool
        Also flag any 16-hex token (default True).
    limit : int
        Stop after this many findings.
    """
    text = _DATA_URI.sub(" ", text)
    found: list[Finding] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for m in CPR_PATTERN.finditer(line):
            found.append(Finding("CPR-shaped string", where, lineno, _redact(m.group())))
        if pseudonyms or known_ids:
            for m in PSEUDONYM_PATTERN.finditer(line):
                if pseudonyms or m.group() in known_ids:
                    found.append(Finding("pseudonymised person ID", where, lineno, _redact(m.group())))
        if len(found) >= limit:
            break
    return found[:limit]


def scan_file(path: str | Path, *, known_ids=None, name: str | None = None, pseudonyms: bool = True) -> list[Finding]:
    """:func:`find_identifiers` on a text file, or on the cells of an ``.xlsx`` workbook."""
    path = Path(path)
    where = name or path.name
    if path.suffix.lower() == ".xlsx":
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str)
        text = "\n".join(df.fillna("").to_csv(index=False, header=False) for df in sheets.values())
    else:
        text = path.read_bytes().decode("utf-8", errors="replace")
    return find_identifiers(text, known_ids=known_ids, where=where, pseudonyms=pseudonyms)
