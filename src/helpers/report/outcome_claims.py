"""How an outcome comparison is worded: p-values, intervals, bounds, and the claim its CI allows.

Shared by the outcome section (:mod:`helpers.report.outcomes`) and the summary
(:mod:`helpers.report.summary`), so both say the same thing about the same row:

- :func:`claim` reads the 95% CI of the difference (intervention - control): ``"above"``
  when it lies above 0, ``"below"`` when below, ``"covers"`` when it includes 0. Only the
  first two claim a direction; a CI covering 0 is worded "no clear difference".
- A row whose counts are masked is worded from its bound (the ``bound_*`` columns of
  :func:`helpers.disclosure.outcomes.masked_bounds`): the claim holds only when the CI of
  every count the mask allows lies on one side of 0.

Examples
--------
>>> claim(0.025, 0.328), claim(-0.11, 0.66), claim(-0.3, -0.01), claim(float("nan"), 0.2)
('above', 'covers', 'below', None)
>>> format_p(0.0404), format_p(0.00004), format_p(0.42)
('0.040', '<0.001', '0.42')
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from helpers.core.i18n import number, tr
from helpers.disclosure import BOUND_MARK

Claim = Literal["above", "below", "covers"]


def _finite(x) -> bool:
    try:
        return x is not None and not isinstance(x, (str, bool)) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def format_p(p: float) -> str:
    """p-value as printed: ``<0.001``, three decimals below 0.1, else two; ``–`` if missing."""
    if p is None or not np.isfinite(p):
        return "–"
    if p < 0.001:
        return "<0.001"
    if p < 0.1:
        return f"{p:.3f}"
    return f"{p:.2f}"


def format_p_at_most(p: float) -> str:
    """An upper bound of p as printed: :func:`format_p`'s digits, rounded up (0.00106 -> ``0.002``).

    A least favourable p is printed after "≤": rounding it to the nearest value could print a
    number below the bound (``≤ 0.001`` for 0.00106).
    """
    if p is None or not np.isfinite(p):
        return "–"
    if p < 0.001:
        return "<0.001"
    digits = 3 if p < 0.1 else 2
    return f"{min(1.0, math.ceil(p * 10**digits - 1e-9) / 10**digits):.{digits}f}"


def p_text(p, language: str, *, at_most: bool = False) -> str:
    """``p = 0.040`` / ``p < 0.001``; ``at_most``: ``p ≤ 0.002`` (a least favourable p, rounded up). Decimal comma in Danish."""
    value = None if not _finite(p) else float(p)
    text = format_p_at_most(value) if at_most else format_p(value)
    if text == "–":
        return ""
    if text.startswith("<"):
        key, value = "outcomes.p.below", text[1:]
    else:
        key, value = ("outcomes.p.at_most" if at_most else "outcomes.p.equal"), text
    return tr(key, language, p=value.replace(".", ",") if language == "da" else value)


def table_p_bound(p) -> str:
    """A least favourable p in a table cell: ``≤0.005†`` for 0.0043 (rounded up; ``<0.001†`` below 0.001)."""
    text = format_p_at_most(p)
    if text == "–":
        return text
    return (text if text.startswith("<") else f"≤{text}") + BOUND_MARK


def main_columns(design: str) -> tuple[str, str, str]:
    """The difference of the headline analysis and its CI (:func:`helpers.stats.outcome_comparison.headline_columns`).

    The outcome table names it in ``headline_rd, headline_lower, headline_upper`` for every
    design (the clustered difference of matched designs, Newcombe's for independent groups).
    """
    return ("headline_rd", "headline_lower", "headline_upper")


#: The bound of the Newcombe difference (the main difference except in the weighted design).
BOUND_RD = ("bound_rd_low", "bound_rd_high", "bound_rd_lower", "bound_rd_upper")
#: The bound of the clustered difference (1:1 pairs whose headline is the pair-clustered difference).
BOUND_W = ("bound_w_low", "bound_w_high", "bound_w_lower", "bound_w_upper")
#: The bound of the paired difference (1:1 pairs).
BOUND_PAIRED = ("bound_paired_low", "bound_paired_high", "bound_paired_lower", "bound_paired_upper")


def is_masked(r) -> bool:
    """True when either group's share of the row is masked."""
    return bool(r.get("masked_int", False)) or bool(r.get("masked_ctl", False))


def has_bound(r, columns: tuple[str, ...] = BOUND_RD) -> bool:
    """True when the row carries a finite bound in ``columns``."""
    return all(_finite(r.get(c)) for c in columns)


def claim(lower, upper) -> Claim | None:
    """What a 95% CI of the difference allows: ``"above"`` / ``"below"`` 0, ``"covers"`` 0; None if missing."""
    if not (_finite(lower) and _finite(upper)):
        return None
    if float(lower) > 0:
        return "above"
    if float(upper) < 0:
        return "below"
    return "covers"


def claim_text(lower, upper, language: str, *, masked: bool = False) -> str:
    """The claim in words (``higher in the programme group`` / ``no clear difference``); empty if no CI.

    ``masked``: the limits are a bound over masked counts; a bound covering 0 is worded
    "no clear difference can be shown" (the CI of the true count may not cover 0).
    """
    c = claim(lower, upper)
    if c is None:
        return ""
    return tr("outcomes.claim.masked_covers" if (masked and c == "covers") else f"outcomes.claim.{c}", language)


def points(x, language: str, digits: int = 1, *, rounding: Literal["nearest", "down", "up"] = "nearest") -> str:
    """A difference (share) in percentage points, for prose (decimal comma in Danish).

    ``rounding="down"`` / ``"up"`` rounds outwards, for the ends of a bound: "for every count
    the difference is 29.5 to 35.5" must hold for the printed numbers too.
    """
    return number(_round(100 * float(x), digits, rounding), digits, language)


def _round(v: float, digits: int, rounding: str) -> float:
    scale = 10**digits
    if rounding == "down":
        return math.floor(v * scale + 1e-9) / scale
    if rounding == "up":
        return math.ceil(v * scale - 1e-9) / scale
    return v


def bound_points(r, columns: tuple[str, str, str, str], language: str) -> tuple[str, str, str, str]:
    """The ends of a bound in percentage points, rounded outwards: (low, high, lower, upper)."""
    low, high, lower, upper = (r[c] for c in columns)
    return (points(low, language, rounding="down"), points(high, language, rounding="up"),
            points(lower, language, rounding="down"), points(upper, language, rounding="up"))


def table_bound(r, columns: tuple[str, str, str, str], sep: str) -> str:
    """A bound in a table cell, in percentage points, rounded outwards: ``29.5…35.5 (13.1 to 49.8)†``."""
    low, high, lower, upper = bound_points(r, columns, "en")
    return f"{low}…{high} ({lower}{sep}{upper}){BOUND_MARK}"
