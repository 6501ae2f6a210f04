"""Disclosure control of stage 01 (ingest): category shares with small groups merged, unknown codes.

The ingest's tables (what was read, warnings, inputs) mask their counts with the generic
:func:`helpers.disclosure.mask_counts`. Two need more: the share of person-weeks per
analysis category and year, where a category that holds few persons in some year is merged
with others (:func:`category_shares`), and the unknown codes, whose person-weeks and weeks
are masked with their persons (:func:`mask_unknown_codes`).
"""

from __future__ import annotations

import pandas as pd

from helpers.core import calendar
from helpers.core.i18n import tr
from helpers.disclosure import Check, mask_counts

#: The group that small categories are merged into.
OTHER_MERGED = "merged"


def category_shares(counts: pd.DataFrame, min_cell: int, *, key: str = "ingest_categories"):
    """Share of person-weeks in each analysis category per ISO year, with small groups merged.

    A category is merged into one group ``"merged"`` when, in any year, it holds between 1
    and ``min_cell - 1`` distinct persons. If the merged group itself could hold fewer than
    ``min_cell`` persons in a year (its largest member is the lower bound of its distinct
    persons), the smallest remaining category is merged too, until no group is small.

    Parameters
    ----------
    counts : DataFrame
        ``year, category, person_weeks, persons``
        (:meth:`helpers.ingest.result.IngestResult.category_counts_frame`).
    min_cell : int
    key : str
        Key of the figure, for the checklist.

    Returns
    -------
    shares : DataFrame
        ``year, category, person_weeks, share`` (shares of a year sum to 1).
    check : Check
    """
    pw = counts.pivot_table(index="year", columns="category", values="person_weeks", aggfunc="sum", fill_value=0)
    pp = counts.pivot_table(index="year", columns="category", values="persons", aggfunc="sum", fill_value=0)
    order = [c for c in counts["category"].drop_duplicates() if pw[c].sum() > 0]
    kept, merged = list(order), []

    def small(series: pd.Series) -> bool:
        return bool(((series > 0) & (series < min_cell)).any())

    # every person holds one code a week, so a group of all categories holds every person
    everyone = pw.sum(axis=1) / [calendar.iso_weeks_in_year(int(y)) for y in pw.index]

    def merged_lower_bound() -> pd.Series:
        return everyone if not kept else pp[merged].max(axis=1)

    while True:
        tiny = [c for c in kept if small(pp[c])]
        if tiny:
            kept = [c for c in kept if c not in tiny]
            merged += tiny
            continue
        if merged and kept and small(merged_lower_bound()):
            candidates = [c for c in kept if c != "self_support"] or kept
            smallest = min(candidates, key=lambda c: pw[c].sum())
            kept.remove(smallest)
            merged.append(smallest)
            continue
        break
    frame = pw[kept].copy()
    if merged:
        frame[OTHER_MERGED] = pw[merged].sum(axis=1)
    total = frame.sum(axis=1)
    long = frame.reset_index().melt(id_vars="year", var_name="category", value_name="person_weeks")
    long["share"] = long["person_weeks"] / long["year"].map(total)
    still_small = bool(merged) and small(merged_lower_bound())
    detail, detail_da = (
        tr("check.ingest_categories.merged", lang, min_cell=min_cell, categories=", ".join(merged)) if merged
        else tr("check.ingest_categories.all_safe", lang, min_cell=min_cell)
        for lang in ("en", "da"))
    if still_small:
        detail += tr("check.ingest_categories.still_small", "en")
        detail_da += tr("check.ingest_categories.still_small", "da")
    check = Check(item=key, status="FAIL" if still_small else "PASS", detail=detail, masked=len(merged),
                  detail_da=detail_da)
    return long.sort_values(["year", "category"]).reset_index(drop=True), check


def mask_unknown_codes(unknown: pd.DataFrame, min_cell: int, *, item: str = "ingest_unknown_codes"):
    """Unknown codes with small person counts masked, and with them their person-weeks and weeks.

    Parameters
    ----------
    unknown : DataFrame
        :meth:`helpers.ingest.result.IngestResult.unknown_codes_frame`.
    min_cell : int
    item : str
        Key of the table, for the checklist.

    Returns
    -------
    masked : DataFrame
        ``code, persons, person_weeks, first_iso_week, last_iso_week``.
    check : Check
    """
    frame = unknown.reindex(columns=["code", "persons", "person_weeks", "first_iso_week", "last_iso_week"])
    return mask_counts(frame, ["persons"], min_cell, item=item,
                       derived={"person_weeks": "persons", "first_iso_week": "persons", "last_iso_week": "persons"})
