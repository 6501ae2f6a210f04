"""Validation errors of the ingest and where they point.

Every :class:`IngestError` names the file, the column and the 1-based data row (the header
is not counted) and says what to do. It never quotes a person ID: a row is identified by its
number only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from helpers.core import paths


class IngestError(ValueError):
    """An input that cannot be ingested; nothing has been written to the processed store."""


def rel(path: str | Path) -> str:
    """``path`` relative to the repository root when inside it, else as given."""
    return paths.relative(path)


@dataclass(frozen=True)
class Where:
    """A file (and optionally a column) that a message points to."""

    file: Path
    column: str | None = None

    def col(self, column: str) -> Where:
        """The same file, another column."""
        return Where(self.file, column)

    def __str__(self) -> str:
        return rel(self.file) + (f", column {self.column}" if self.column else "")

    def row(self, row: int) -> str:
        """``"<file>, column <c>, data row <row>"`` (``row`` is 1-based)."""
        return f"{self}, data row {row}"
