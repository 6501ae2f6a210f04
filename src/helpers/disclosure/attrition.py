"""Disclosure control of the attrition log (stage 02): small exclusions merged, small counts masked.

The attrition table and the flow diagram are both drawn from the masked log, so what one
shows the other cannot undo.
"""

from __future__ import annotations

import pandas as pd

from helpers.cohort.attrition import ATTRITION_COLUMNS
from helpers.core.i18n import tr
from helpers.disclosure import MASK, Check, is_small


def mask_attrition(attrition: pd.DataFrame, min_cell: int, *, item: str = "attrition") -> tuple[pd.DataFrame, Check]:
    """Make the attrition log safe to publish.

    Within each group's chain, a step excluding 1..min_cell-1 persons is merged with the
    following (or, at the end of a stage, the preceding) exclusion steps of the same stage
    until the merged count reaches ``min_cell`` (its ``reason`` lists the merged keys joined by
    ``+``), so that no small count can be recovered as a difference of the shown totals. A
    small exclusion that cannot be merged is masked and the check FAILs. Flagged counts and
    totals in 1..min_cell-1 are masked.
    """
    merged_rows = []
    for _grp, chain in attrition.groupby("group", sort=False):
        chain = chain.sort_values("step")
        for _stage, part in chain.groupby("stage", sort=False):
            recs = [dict(r) for r in part.to_dict("records")]
            stage_before = recs[0]["n_before"]
            zero = [r for r in recs if r["n_excluded"] == 0]
            bundles: list[list[dict]] = []
            current: list[dict] = []
            for r in (r for r in recs if r["n_excluded"] > 0):
                current.append(r)
                if sum(x["n_excluded"] for x in current) >= min_cell:
                    bundles.append(current)
                    current = []
            if current:
                if bundles:
                    bundles[-1].extend(current)
                else:
                    bundles.append(current)
            rows = [{**r, "_fail": False} for r in zero] + [_merge_all(b, min_cell) for b in bundles]
            rows.sort(key=lambda r: r["step"])
            merged_rows.extend(_rechain(rows, stage_before))
    frame = pd.DataFrame(merged_rows)
    frame["_fail"] = frame["_fail"].astype(bool)
    label = MASK.format(min_cell=min_cell)
    masked = frame[ATTRITION_COLUMNS].astype(object).copy()
    n_masked = 0
    for col in ("n_before", "n_after", "n_flagged", "n_excluded"):
        small = is_small(frame[col].to_numpy(), min_cell)
        n_masked += int(small.sum())
        masked.loc[small, col] = label
    if frame["_fail"].any():
        k = int(frame["_fail"].sum())
        return masked.reset_index(drop=True), Check(
            item=item, status="FAIL", detail=tr("check.attrition.unmergeable", "en", k=k), masked=n_masked,
            detail_da=tr("check.attrition.unmergeable", "da", k=k))
    merged = int(sum("+" in str(r) for r in frame["reason"]))
    key = "check.attrition.masked" if merged or n_masked else "check.attrition.all_safe"
    fields = {"merged": merged, "masked": n_masked, "min_cell": min_cell}
    return masked.reset_index(drop=True), Check(item=item, status="PASS", detail=tr(key, "en", **fields),
                                                masked=n_masked, detail_da=tr(key, "da", **fields))


def _merge_all(bundle: list[dict], min_cell: int) -> dict:
    out = dict(bundle[0])
    out["n_excluded"] = int(sum(int(r["n_excluded"]) for r in bundle))
    out["n_flagged"] = int(sum(int(r["n_flagged"]) for r in bundle))
    out["reason"] = "+".join(str(r["reason"]) for r in bundle)
    out["_fail"] = 0 < out["n_excluded"] < min_cell
    return out


def _rechain(rows: list[dict], n_before: int) -> list[dict]:
    """Recompute n_before/n_after along consecutive steps starting from ``n_before``."""
    n = int(n_before)
    for r in rows:
        r["n_before"] = n
        n = n - int(r["n_excluded"])
        r["n_after"] = n
    return rows
