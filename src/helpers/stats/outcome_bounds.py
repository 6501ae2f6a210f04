"""What can be said about a comparison whose counts are masked: its range over every admissible count.

When a group's count is masked in the outcome table, a reader knows only a set of values it
may take (``<5``: 1 to 4). This module recomputes the comparison of
:func:`helpers.stats.outcome_comparison.outcome_table` for every combination of counts in
such sets and returns the range of the estimate, the widest confidence limits and the
least favourable (largest) p-value.

The functions take the *sets* of admissible counts, never the true counts: the result is a
function of what the table publishes, so it is the same for every count in the sets and
gives no masked count away (:mod:`helpers.disclosure.outcomes` builds the sets from the
published cells; docs/decisions.md, "Masked outcome counts").

Examples
--------
Intervention 18/48 against a control count of 1 to 4 of 50 (the demo at 2 years):

>>> b = unpaired_bounds([(18, 48)], [(c, 50) for c in range(1, 5)])
>>> round(100 * b.low, 1), round(100 * b.high, 1), b.p_max < 0.001
(29.5, 35.5, True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from helpers.stats.paired import mcnemar, paired_difference_newcombe
from helpers.stats.proportions import fisher, risk_difference_newcombe
from helpers.stats.weighted import weighted_risk_difference

#: A group's admissible (n, N): number with the outcome, number followed.
Cell = tuple[int, int]


@dataclass(frozen=True)
class Bounds:
    """The range of a difference and its test over every admissible combination of counts.

    Attributes
    ----------
    low, high : float
        Smallest and largest estimate (shares: 0.18 = 18 percentage points).
    lower, upper : float
        Lowest lower and highest upper confidence limit: every admissible CI lies within.
    p_max, p_min : float
        Largest (least favourable) and smallest p-value.
    combinations : int
        Number of admissible combinations evaluated (0: nothing estimable; all NaN).
    """

    low: float
    high: float
    lower: float
    upper: float
    p_max: float
    p_min: float
    combinations: int


NOT_ESTIMABLE = Bounds(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, 0)


def _summarise(estimates: Iterable[tuple[float, float, float, float]]) -> Bounds:
    rows = [r for r in estimates if all(math.isfinite(v) for v in r[:3]) and math.isfinite(r[3])]
    if not rows:
        return NOT_ESTIMABLE
    est, low, upp, p = zip(*rows, strict=True)
    return Bounds(min(est), max(est), min(low), max(upp), max(p), min(p), len(rows))


def unpaired_bounds(intervention: Sequence[Cell], control: Sequence[Cell], alpha: float = 0.05) -> Bounds:
    """Newcombe's difference and Fisher's exact test over every admissible pair of group counts.

    Parameters
    ----------
    intervention, control : sequence of (n, N)
        Each group's admissible counts (one pair when the count is shown).
    alpha : float
        1 - confidence level.

    Returns
    -------
    Bounds
        Of :func:`helpers.stats.proportions.risk_difference_newcombe` and
        :func:`helpers.stats.proportions.fisher`.
    """
    def each():
        for x1, n1 in intervention:
            for x0, n0 in control:
                rd = risk_difference_newcombe(x1, n1, x0, n0, alpha)
                yield rd.estimate, rd.lower, rd.upper, fisher(x1, n1, x0, n0).pvalue

    return _summarise(each())


def pair_tables(intervention: Cell, control: Cell, pairs: int) -> list[tuple[int, int, int, int]]:
    """Every table of complete pairs (both, int_only, ctl_only, neither) the group margins allow.

    In 1:1 matching without replacement each person is in one pair; ``pairs`` pairs have both
    members followed. Of the intervention's ``N1 - pairs`` persons outside complete pairs any
    may have the outcome, so the positives within complete pairs range over
    ``max(0, n1 - (N1 - pairs)) .. min(n1, pairs)`` (likewise for the controls), and the
    concordant positive pairs over what both margins allow.
    """
    (x1, n1), (x0, n0) = intervention, control
    if pairs > min(n1, n0):
        return []
    out = []
    for a1 in range(max(0, x1 - (n1 - pairs)), min(x1, pairs) + 1):
        for a0 in range(max(0, x0 - (n0 - pairs)), min(x0, pairs) + 1):
            for both in range(max(0, a1 + a0 - pairs), min(a1, a0) + 1):
                out.append((both, a1 - both, a0 - both, pairs - a1 - a0 + both))
    return out


def paired_bounds(intervention: Sequence[Cell], control: Sequence[Cell], pairs: Sequence[int],
                  alpha: float = 0.05) -> Bounds:
    """Newcombe's paired difference and McNemar's test over every admissible table of pairs.

    Parameters
    ----------
    intervention, control : sequence of (n, N)
        Each group's admissible counts.
    pairs : sequence of int
        Admissible numbers of complete pairs (one value when shown).
    alpha : float

    Returns
    -------
    Bounds
        Of :func:`helpers.stats.paired.paired_difference_newcombe` and
        :func:`helpers.stats.paired.mcnemar`, over every table of :func:`pair_tables`.
    """
    tables = {t for c1 in intervention for c0 in control for p in pairs for t in pair_tables(c1, c0, p)}

    def each():
        for both, int_only, ctl_only, neither in sorted(tables):
            if both + int_only + ctl_only + neither == 0:
                continue
            est = paired_difference_newcombe(both, int_only, ctl_only, neither, alpha)
            yield est.estimate, est.lower, est.upper, mcnemar(int_only, ctl_only).pvalue

    return _summarise(each())


def pair_clustered_bounds(intervention: Sequence[Cell], control: Sequence[Cell], pairs: Sequence[int],
                          alpha: float = 0.05) -> Bounds:
    """The pair-clustered difference and its t test over every admissible arrangement of 1:1 pairs.

    The headline of 1:1 pairs (:func:`helpers.stats.outcome_comparison.headline_columns`) is
    :func:`helpers.stats.weighted.weighted_risk_difference` with the pairs as clusters, on
    every person with a value: the complete pairs and the persons whose partner has none (one
    cluster each). For every table of complete pairs (:func:`pair_tables`) the positives
    outside complete pairs are what the group's count leaves; the test is recomputed on each
    arrangement.

    Examples
    --------
    >>> b = pair_clustered_bounds([(18, 48)], [(c, 50) for c in range(1, 5)], [48])
    >>> round(100 * b.low, 1), round(100 * b.high, 1), b.p_max < 0.01
    (29.5, 35.5, True)
    """
    def each():
        seen = set()
        for c1 in intervention:
            for c0 in control:
                for p in pairs:
                    for both, int_only, ctl_only, neither in pair_tables(c1, c0, p):
                        (x1, n1), (x0, n0) = c1, c0
                        key = (both, int_only, ctl_only, neither, x1, n1, x0, n0)
                        if key in seen:
                            continue
                        seen.add(key)
                        yield _pair_clustered(both, int_only, ctl_only, neither, (x1, n1), (x0, n0), alpha)

    return _summarise(each())


def _pair_clustered(both: int, int_only: int, ctl_only: int, neither: int, intervention: Cell, control: Cell,
                    alpha: float) -> tuple[float, float, float, float]:
    pairs = both + int_only + ctl_only + neither
    (x1, n1), (x0, n0) = intervention, control
    rest1, rest0 = x1 - both - int_only, x0 - both - ctl_only  # positives outside complete pairs
    y1 = [1] * (both + int_only) + [0] * (ctl_only + neither) + [1] * rest1 + [0] * (n1 - pairs - rest1)
    y0 = [1] * both + [0] * int_only + [1] * ctl_only + [0] * neither + [1] * rest0 + [0] * (n0 - pairs - rest0)
    cluster = list(range(pairs)) + list(range(pairs, n1)) + list(range(pairs)) + list(range(n1, n1 + n0 - pairs))
    res = weighted_risk_difference(np.array(y1 + y0, dtype=float), np.r_[np.ones(n1, bool), np.zeros(n0, bool)],
                                   np.ones(n1 + n0), np.array(cluster), alpha)
    return res.estimate.estimate, res.estimate.lower, res.estimate.upper, res.pvalue
