"""Statistical disclosure control (SDC) for every table and figure that leaves the pipeline.

Rules (docs/architecture.md, "Disclosure control"; sources in docs/sources.md):

- A count of persons is shown only if it is 0 or at least ``min_cell`` (default 5; DST's
  rule is 3). Smaller counts are masked (primary suppression).
- A proportion n/N is shown only if both n and N - n are 0 or at least ``min_cell``
  (otherwise the complement reveals a small group).
- Where a masked cell could be recovered from a row total, a second cell is masked
  (complementary suppression).
- Percentages computed from masked counts are masked.
- No minimum or maximum of individual values is shown.

Each check returns a :class:`Check` that the report collects into its disclosure checklist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

MASK = "<{min_cell}"


@dataclass
class Check:
    """Outcome of disclosure control for one table or figure.

    Attributes
    ----------
    item : str
        Key of the table or figure.
    status : {"PASS", "FAIL"}
        PASS when every shown count respects the threshold after masking.
    detail : str
        Why: what was masked, or what failed.
    """

    item: str
    status: Literal["PASS", "FAIL"]
    detail: str
    masked: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when the check passed."""
        return self.status == "PASS"


def is_small(counts, min_cell: int) -> np.ndarray:
    """Boolean array: counts that are positive but below ``min_cell``."""
    c = np.asarray(pd.to_numeric(pd.Series(np.ravel(counts)), errors="coerce"), dtype=float).reshape(np.shape(counts))
    return (c > 0) & (c < min_cell)


def unsafe_proportion(events, totals, min_cell: int) -> np.ndarray:
    """Boolean array: n/N where n or N - n is positive and below ``min_cell``."""
    n = np.asarray(events, dtype=float)
    total = np.asarray(totals, dtype=float)
    return is_small(n, min_cell) | is_small(total - n, min_cell)


def mask_counts(
    frame: pd.DataFrame,
    count_cols: Sequence[str],
    min_cell: int,
    *,
    item: str,
    derived: dict[str, str] | None = None,
    row_total: str | None = None,
) -> tuple[pd.DataFrame, Check]:
    """Mask small counts in ``count_cols`` (and the columns derived from them).

    Parameters
    ----------
    frame : DataFrame
        Table with count columns.
    count_cols : sequence of str
        Columns holding counts of persons.
    min_cell : int
        Smallest count that may be shown (0 is always shown).
    item : str
        Key of the table, for the checklist.
    derived : dict, optional
        ``{column: count_column}``: columns (e.g. percentages) masked with their count.
    row_total : str, optional
        Column holding the row total of ``count_cols``; when exactly one count of a row is
        masked, the next smallest positive count of that row is masked too.

    Returns
    -------
    masked : DataFrame
        Copy with masked cells replaced by the string ``"<min_cell"``.
    check : Check
    """
    out = frame.copy()
    derived = derived or {}
    counts = out[list(count_cols)].apply(pd.to_numeric, errors="coerce")
    mask = pd.DataFrame(is_small(counts.to_numpy(), min_cell), index=out.index, columns=list(count_cols))
    complementary = 0
    if row_total is not None:
        for idx in out.index:
            row_mask = mask.loc[idx]
            if row_mask.sum() == 1:
                candidates = counts.loc[idx][~row_mask & (counts.loc[idx] > 0)]
                if len(candidates):
                    mask.loc[idx, candidates.idxmin()] = True
                    complementary += 1
    n_masked = int(mask.to_numpy().sum())
    label = MASK.format(min_cell=min_cell)
    for col in count_cols:
        out[col] = out[col].astype(object).where(~mask[col], label)
    for col, source in derived.items():
        out[col] = out[col].astype(object).where(~mask[source], label)
    detail = (
        f"{n_masked} count(s) below {min_cell} masked"
        + (f" ({complementary} complementary)" if complementary else "")
        if n_masked
        else f"all counts 0 or >= {min_cell}"
    )
    return out, Check(item=item, status="PASS", detail=detail, masked=n_masked)


def check_counts(values: Iterable, min_cell: int, *, item: str, what: str = "counts") -> Check:
    """PASS when every value is 0, masked (a string) or at least ``min_cell``."""
    numeric = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").dropna()
    bad = numeric[(numeric > 0) & (numeric < min_cell)]
    if len(bad):
        return Check(item=item, status="FAIL", detail=f"{len(bad)} {what} below {min_cell} shown")
    return Check(item=item, status="PASS", detail=f"all {what} 0 or >= {min_cell}")
