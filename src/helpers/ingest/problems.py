"""Problems found by ``make check``: one record per problem, and the table it prints.

A :class:`Problem` is built from a validation message (:class:`~helpers.ingest.errors.IngestError`,
a study-configuration or key error) of the form ``"<file>, column <c>, data row <r>: <what is
wrong>; <what to do>"``; :func:`from_message` splits it into file, column, rows, what and
what to do. Messages never hold a person ID (see :mod:`helpers.ingest.errors`), so neither
does the table.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

_LOCATION = re.compile(
    r"^(?P<file>[^\s,:][^,:\n]*?)(?:, column (?P<column>[^,:\n]+?))?(?:, data row (?P<row>\d+))?: (?P<text>.*)$",
    re.DOTALL,
)
_ROWS = re.compile(r"\((\d[\d,]*) row\(s\)[^)]*\)|data rows ([\d, .]+?)\)|data rows? ([\d]+ and \d+)")
_TODO_START = re.compile(
    r"(?:; |(?<!e\.g)(?<!i\.e)\. )(?=(?:set|correct|check|remove|rename|drop|give|get|fill|map|write|save|use|add|ask|move|name|"
    r"replace|leave|export|narrow|declare|unzip|repair|keep|make|the closest|the file has|the form has|"
    r"the list has|DREAM codes|expected|earlier rows|percentages|every|run)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Problem:
    """One problem of a study's inputs.

    Attributes
    ----------
    file : str
        The file (relative to the repository) or the study YAML key area (``"study YAML"``).
    column : str
        Column (or YAML key) concerned; ``""`` when the whole file is concerned.
    rows : str
        Data row number(s) or a count (``"17"``, ``"3 rows"``); ``""`` when not row-specific.
    what : str
        What is wrong.
    todo : str
        What to do about it.
    severity : {"error", "warning"}
        Errors stop the run; warnings are reported and the run goes on.
    """

    file: str
    column: str
    rows: str
    what: str
    todo: str
    severity: str = "error"

    def as_row(self) -> dict[str, str]:
        """The problem as a table row."""
        return {"severity": self.severity, "file": self.file, "column": self.column, "rows": self.rows,
                "problem": self.what, "what to do": self.todo}


def split_todo(text: str) -> tuple[str, str]:
    """``("what is wrong", "what to do")`` from a message's text after the location."""
    text = " ".join(text.split())
    m = _TODO_START.search(text)
    if m:
        return text[:m.start()].rstrip(" .;"), text[m.end():].strip()
    if "; " in text:
        what, todo = text.split("; ", 1)
        return what.strip(), todo.strip()
    if ". " in text.rstrip(". "):
        what, todo = text.rstrip(". ").rsplit(". ", 1)
        return what.strip(), todo.strip()
    return text.rstrip("."), ""


def from_message(message: str, severity: str = "error", file: str = "", column: str = "") -> Problem:
    """Split a validation message into a :class:`Problem`."""
    first = message.strip()
    m = _LOCATION.match(first)
    rows = ""
    if m and ("/" in m.group("file") or "." in m.group("file")):
        file, col, row, text = m.group("file"), m.group("column") or column, m.group("row"), m.group("text")
        rows = row or ""
    else:
        file, col, text = file or "study YAML", column, first
    if not rows:
        found = _ROWS.search(text)
        if found:
            rows = next(g for g in found.groups() if g).strip()
            rows = f"{rows} rows" if rows.replace(",", "").isdigit() else rows
    what, todo = split_todo(text)
    return Problem(file=file, column=col or "", rows=rows, what=what, todo=todo, severity=severity)


def format_table(problems: list[Problem], width: int = 150) -> str:
    """A plain-text table of problems (wrapped to ``width`` characters)."""
    if not problems:
        return "No problems found."
    heads = ["#", "severity", "file", "column", "rows", "problem", "what to do"]
    fixed = {"#": 3, "severity": 8, "file": min(max([len(p.file) for p in problems] + [4]), 44),
             "column": min(max([len(p.column) for p in problems] + [6]), 28), "rows": 12}
    rest = max(width - sum(fixed.values()) - 3 * (len(heads) - 1), 40)
    widths = [fixed["#"], fixed["severity"], fixed["file"], fixed["column"], fixed["rows"], rest // 2,
              rest - rest // 2]
    lines = [" | ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)),
             "-+-".join("-" * w for w in widths)]
    for i, p in enumerate(problems, start=1):
        cells = [str(i), p.severity, p.file, p.column, p.rows, p.what, p.todo]
        wrapped = [textwrap.wrap(c, w, break_long_words=True, break_on_hyphens=False) or [""]
                   for c, w in zip(cells, widths, strict=True)]
        for k in range(max(len(x) for x in wrapped)):
            lines.append(" | ".join((x[k] if k < len(x) else "").ljust(w)
                                    for x, w in zip(wrapped, widths, strict=True)).rstrip())
    return "\n".join(lines)
