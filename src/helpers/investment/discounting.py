"""Discounting with the Finance Ministry's piecewise social discount rate.

The Ministry of Finance's rate (documentation note of 7 January 2021, incorporated in the
June 2023 *Vejledning i samfundsøkonomiske konsekvensvurderinger*) is 3.5 % a year for
years 1-35, 2.5 % for years 36-70 and 1.5 % thereafter (lowered from 4/3/2 %, which applied
from May 2013). Amounts in years 36-70 are discounted at 2.5 % *on top of* 35 years at
3.5 %, i.e. the factor for year :math:`t` compounds the rate of every year up to :math:`t`:

.. math::

    D(t) = \\prod_{s=1}^{t} \\frac{1}{1 + r_s}, \\qquad D(0) = 1,

where :math:`r_s` is the rate of the step that holds year :math:`s`. So
:math:`D(36) = 1.035^{-35} \\cdot 1.025^{-1}` (not :math:`1.025^{-36}`). The 2018 answer to
the Finance Committee (FIU spm. 418) describes the same mechanics for the old 4/3/2 % rates.

Timing convention: an amount that falls in analysis year :math:`t` is discounted with
:math:`D(t)` (end of year); year 1 is therefore discounted by one year.

Sources: fm.dk, "Ny vejledning i samfundsøkonomiske konsekvensvurderinger" (22 June 2023);
"Dokumentationsnotat for den samfundsøkonomiske diskonteringsrente" (7 January 2021);
ft.dk FIU alm. del spm. 418 (2018).

Examples
--------
>>> round(float(discount_factors([1])[0]), 6)
0.966184
>>> round(float(present_value([100, 100], [1, 2], flat_steps(0.035))), 3)
189.969
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Finance Ministry steps as (last year, rate): 3.5 % to year 35, 2.5 % to year 70, then 1.5 %.
MOF_2021: tuple[tuple[float, float], ...] = ((35, 0.035), (70, 0.025), (np.inf, 0.015))


def normalise_steps(steps: Sequence[Sequence[float]] | None) -> tuple[tuple[float, float], ...]:
    """Return ``steps`` as a tuple of ``(last_year, rate)`` whose last step is open-ended.

    ``None`` gives :data:`MOF_2021`. A last step with a finite last year is extended to
    infinity (a study YAML writes ``[1000, 0.015]`` for "after year 70").
    """
    if steps is None:
        return MOF_2021
    out = [(float(last), float(rate)) for last, rate in steps]
    if not out:
        raise ValueError("discount steps: give at least one [last year, rate] pair")
    for (a, _), (b, _) in zip(out, out[1:], strict=False):
        if b <= a:
            raise ValueError(f"discount steps: last years must increase, got {[s[0] for s in out]}")
    out[-1] = (np.inf, out[-1][1])
    return tuple(out)


def flat_steps(rate: float) -> tuple[tuple[float, float], ...]:
    """A single flat discount rate, as steps."""
    return ((np.inf, float(rate)),)


def rates_by_year(years: Sequence[int] | np.ndarray, steps=None) -> np.ndarray:
    """The annual rate that applies to each year ``s >= 1`` (the step holding ``s``)."""
    steps = normalise_steps(steps)
    years = np.asarray(years, dtype=float)
    bounds = np.array([s[0] for s in steps])
    rates = np.array([s[1] for s in steps])
    return rates[np.searchsorted(bounds, years, side="left")]


def discount_factors(years: Sequence[int] | np.ndarray, steps=None) -> np.ndarray:
    """Discount factor :math:`D(t)` for each (whole, non-negative) analysis year ``t``.

    Parameters
    ----------
    years : array of int
        Analysis years (0 = now, undiscounted).
    steps : sequence of (last_year, rate), optional
        Piecewise rates; default the Finance Ministry's :data:`MOF_2021`.

    Returns
    -------
    ndarray of float
    """
    years = np.asarray(years)
    if years.size and (np.any(years < 0) or np.any(years != np.round(years))):
        raise ValueError("discount_factors: years must be whole numbers >= 0")
    years = years.astype(np.int64)
    top = int(years.max()) if years.size else 0
    per_year = 1.0 / (1.0 + rates_by_year(np.arange(1, top + 1), steps))
    cumulative = np.concatenate([[1.0], np.cumprod(per_year)])
    return cumulative[years]


def present_value(amounts, years, steps=None) -> float | np.ndarray:
    """Present value of ``amounts`` falling in ``years`` (last axis of ``amounts``)."""
    factors = discount_factors(years, steps)
    return np.asarray(amounts, dtype=float) @ factors
