"""How the investment section prints money, shares and actors (shared by its tables, texts and the workbook).

Amounts in tables are whole 1,000 DKK (:func:`kdkk`, halves rounded up as a spreadsheet
does); in sentences DKK million with one decimal. :func:`fmt_number` uses the language's
thousands and decimal separators (Danish ``1.234,5``), unlike
:func:`helpers.core.i18n.number`, which has no thousands separator.

Examples
--------
>>> fmt_number(1234.5, "da", 1), fmt_pct(0.25, "en"), kdkk(1500.0)
('1.234,5', '25.0%', 2)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.core.i18n import tr
from helpers.investment.projection import round_half_up

#: Citations printed next to assumptions (proper names; the same in both languages).
SOURCE_DISCOUNT = "Finansministeriet, Vejledning i samfundsøkonomiske konsekvensvurderinger (2023)"
SOURCE_REFUSION = "LBK 221 af 12/02/2021 §§ 5-6; STAR, nøgletal for refusionsreformen"


def fmt_number(x, language: str, decimals: int = 0) -> str:
    """Format a number with the language's separators (da: 1.234,5; en: 1,234.5); blank when missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    s = f"{x:,.{decimals}f}"
    if language == "da":
        s = s.replace(",", "_").replace(".", ",").replace("_", ".")
    return s


def fmt_pct(x: float, language: str, decimals: int = 1) -> str:
    """Format a share as a percentage (``25.0%``; Danish ``25,0 %``)."""
    return fmt_number(100 * x, language, decimals) + (" %" if language == "da" else "%")


def kdkk(x):
    """DKK to whole 1,000 DKK, halves rounded up (nullable integers; NaN becomes missing)."""
    a = round_half_up(np.asarray(x, dtype=float) / 1000.0) + 0.0
    if a.ndim == 0:
        return int(a) if np.isfinite(a) else None
    return pd.array(np.where(np.isfinite(a), a, np.nan), dtype="Float64").round(0).astype("Int64")


def unit(language: str) -> str:
    """The tables' money unit (``1,000 DKK`` / ``1.000 kr.``)."""
    return tr("investment.unit", language)


def actor_label(actor: str, language: str) -> str:
    """An actor's name in the investment tables and figures: ``actor.<actor>`` of the catalogue, except that
    the public sector's row, the sum of the other two, reads ``Public sector, total``."""
    return tr("investment.actor_total.public" if actor == "public" else f"actor.{actor}", language)


def col(name: str, language: str, **fields) -> str:
    """A column heading of the investment tables (``investment.column.<name>``)."""
    return tr(f"investment.column.{name}", language, **fields)
