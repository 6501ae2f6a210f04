"""The attrition log of stage 02: one row per step of the flow from screening (or the register) to analysis.

Every step is a row ``step, stage, group, n_before, n_excluded, n_after, n_flagged, reason``
with ``n_after = n_before - n_excluded``; flagged persons are counted but stay in. The
attrition table and the flow diagram are both drawn from this one log (masked for
publication by :func:`helpers.disclosure.attrition.mask_attrition`).
"""

from __future__ import annotations

import pandas as pd

#: Columns of the attrition log.
ATTRITION_COLUMNS = ["step", "stage", "group", "n_before", "n_excluded", "n_after", "n_flagged", "reason"]


class AttritionLog:
    """Accumulates attrition rows; ``n_after = n_before - n_excluded``."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, stage: str, group: str, reason: str, n_before: int, n_excluded: int = 0, n_flagged: int = 0) -> int:
        """Append a step and return its ``n_after``."""
        n_after = int(n_before) - int(n_excluded)
        if n_after < 0:
            raise AssertionError(f"attrition step {reason}: excludes more persons than there are")
        self.rows.append({"step": len(self.rows) + 1, "stage": stage, "group": group, "n_before": int(n_before),
                          "n_excluded": int(n_excluded), "n_after": n_after, "n_flagged": int(n_flagged),
                          "reason": reason})
        return n_after

    def frame(self) -> pd.DataFrame:
        """The log as a data frame."""
        return pd.DataFrame(self.rows, columns=ATTRITION_COLUMNS)
