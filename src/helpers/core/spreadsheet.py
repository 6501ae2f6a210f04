"""Cells that a spreadsheet would run as formulas (CSV/formula injection), neutralised on writing.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula, so a value from an input file such as
``=cmd|' /C calc'!A0`` or ``=HYPERLINK(...)`` would run when a published table is opened.
:func:`neutralise` prefixes such cells with an apostrophe (``'``; OWASP's advice), which the
spreadsheet shows as text. Numbers stored as numbers are untouched, and so is text that is
only a signed number or interval (``-0.05 (-0.10 to 0.01)``, ``+3 %``, a bound
``-1.1…3.6 (-4.4 to 9.7)†``): digits, spaces, ``. , % ( ) + - – … ≤ †`` and the words
``to``/``til`` cannot call anything.
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMERIC_TEXT = re.compile(r"^[+\-][\d\s.,%()+\-–…≤†]*(?:(?:to|til)[\d\s.,%()+\-–…≤†]*)*$")


def is_formula_like(value) -> bool:
    """True for a text value a spreadsheet would take as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return False
    return not (value[0] in "+-" and _NUMERIC_TEXT.match(value))


def neutralise_value(value):
    """``value`` with a leading apostrophe when a spreadsheet would run it as a formula."""
    return "'" + value if is_formula_like(value) else value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, column names and index labels cannot run as formulas."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(neutralise_value)
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = pd.MultiIndex.from_tuples([tuple(neutralise_value(x) for x in t) for t in out.columns])
    else:
        out.columns = [neutralise_value(c) for c in out.columns]
    if out.index.dtype == object:
        out.index = [neutralise_value(i) for i in out.index]
    return out
