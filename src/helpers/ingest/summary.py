"""Aggregates of an ingest for ``ingest_summary.json`` and for the report.

Everything here is an aggregate (counts by year and category, unknown codes by code,
warnings with counts). The ``*_table`` functions return a table ready for
:meth:`helpers.report.reporter.Reporter.table` together with its disclosure
:class:`~helpers.disclosure.Check` (counts below ``min_cell`` masked).
"""

from __future__ import annotations

import pandas as pd

from helpers import disclosure
from helpers.core import calendar
from helpers.core.codes import CATEGORY_LABELS

OTHER_MERGED = "merged"
MERGED_LABEL = {"en": "Other (merged small groups)", "da": "Øvrige (sammenlagte små grupper)"}


def _t(language: str, en: str, da: str) -> str:
    return da if language == "da" else en


def _month(m: int | None) -> str:
    return "" if m is None else f"{m // 12:04d}-{m % 12 + 1:02d}"


# --------------------------------------------------------------------------- tables
def read_table(summary: dict, min_cell: int, language: str = "en", *, key: str = "ingest_read"):
    """What was read: persons, weeks, months, residence rows, form rows.

    Returns
    -------
    table : DataFrame
        Columns ``What``, ``Count``, ``Detail`` (labels in ``language``).
    check : Check
    """
    s = summary
    rows = [
        (_t(language, "Persons in the extract", "Personer i udtrækket"), s["persons"],
         _t(language, "one row per person; IDs pseudonymised", "én række pr. person; id'er pseudonymiseret")),
        (_t(language, "Weeks (DREAM weekly codes)", "Uger (DREAM-ugekoder)"), s["weeks"],
         f"{s['first_iso_week']} – {s['last_iso_week']}"),
        (_t(language, "Months (employment degree)", "Måneder (beskæftigelsesgrad)"), s["months"],
         f"{s['first_month']} – {s['last_month']}" if s["months"] else _t(language, "none", "ingen")),
        (_t(language, "Person-years of residence", "Personår med bopælskommune"), s["residence_rows"], ""),
    ]
    for name, n in s.get("forms", {}).items():
        rows.append((_t(language, f"Form: {name} (rows)", f"Skema: {name} (rækker)"), n, ""))
    cols = [_t(language, "What", "Hvad"), _t(language, "Count", "Antal"), _t(language, "Detail", "Detaljer")]
    frame = pd.DataFrame(rows, columns=cols)
    return disclosure.mask_counts(frame, [cols[1]], min_cell, item=key)


def category_shares(counts: pd.DataFrame, min_cell: int, *, key: str = "ingest_categories"):
    """Share of person-weeks in each analysis category per ISO year, with small groups merged.

    A category is merged into one group ``"merged"`` when, in any year, it holds between 1
    and ``min_cell - 1`` distinct persons. If the merged group itself could hold fewer than
    ``min_cell`` persons in a year (its largest member is the lower bound of its distinct
    persons), the smallest remaining category is merged too, until no group is small.

    Parameters
    ----------
    counts : DataFrame
        ``year, category, person_weeks, persons`` (``IngestResult.category_counts``).
    min_cell : int

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
    if merged:
        detail = f"categories with fewer than {min_cell} persons in a year merged into one group: {', '.join(merged)}"
        detail_da = (f"kategorier med færre end {min_cell} personer i et år lagt sammen i én gruppe: "
                     f"{', '.join(merged)}")
    else:
        detail = f"every category holds 0 or at least {min_cell} persons in every year"
        detail_da = f"hver kategori rummer 0 eller mindst {min_cell} personer i hvert år"
    if still_small:
        detail += "; the merged group may still hold fewer persons"
        detail_da += "; den sammenlagte gruppe kan stadig rumme færre personer"
    check = disclosure.Check(item=key, status="FAIL" if still_small else "PASS", detail=detail, masked=len(merged),
                             detail_da=detail_da)
    return long.sort_values(["year", "category"]).reset_index(drop=True), check


def category_label(category: str, language: str = "en") -> str:
    """Readable label of an analysis category (or the merged group)."""
    if category == OTHER_MERGED:
        return MERGED_LABEL[language]
    return CATEGORY_LABELS[language].get(category, category)


def unknown_codes_table(unknown: pd.DataFrame, min_cell: int, language: str = "en", *,
                        key: str = "ingest_unknown_codes"):
    """Unknown codes by code: person-weeks, persons, first and last ISO week (small counts masked)."""
    cols = {"code": _t(language, "Code", "Kode"), "persons": _t(language, "Persons", "Personer"),
            "person_weeks": _t(language, "Person-weeks", "Personuger"),
            "first_iso_week": _t(language, "First week", "Første uge"),
            "last_iso_week": _t(language, "Last week", "Sidste uge")}
    frame = unknown.reindex(columns=list(cols)).rename(columns=cols)
    return disclosure.mask_counts(
        frame, [cols["persons"]], min_cell, item=key,
        derived={cols["person_weeks"]: cols["persons"], cols["first_iso_week"]: cols["persons"],
                 cols["last_iso_week"]: cols["persons"]},
    )


def warnings_table(warnings: list[dict], min_cell: int, language: str = "en", *, key: str = "ingest_warnings"):
    """Validation warnings: kind, text and count (counts below ``min_cell`` masked)."""
    cols = [_t(language, "Warning", "Advarsel"), _t(language, "Kind", "Type"), _t(language, "Count", "Antal")]
    frame = pd.DataFrame([(w["text"], w["kind"], w["count"]) for w in warnings], columns=cols)
    return disclosure.mask_counts(frame, [cols[2]], min_cell, item=key)


def manifest_table(manifest: dict, min_cell: int, language: str = "en", *, key: str = "ingest_manifest"):
    """Inputs of the ingest: file, kind, SHA-256 prefix (8 hex characters), size and rows."""
    cols = [_t(language, "File", "Fil"), _t(language, "Kind", "Type"), "SHA-256",
            _t(language, "Size (MB)", "Størrelse (MB)"), _t(language, "Rows", "Rækker")]
    rows = [(i["path"], i["kind"], i["sha256"][:8] + "…", round(i["bytes"] / 1e6, 3), i["rows"])
            for i in manifest["inputs"]]
    frame = pd.DataFrame(rows, columns=cols)
    return disclosure.mask_counts(frame, [cols[4]], min_cell, item=key)


def describe(summary: dict, manifest: dict, language: str = "en", *, skipped: bool = False) -> str:
    """One paragraph on what the ingest did: persons, weeks, pseudonymisation, re-use."""
    s = summary
    key = manifest.get("pseudonymisation", {}).get("key_source", "")
    demo = manifest.get("demo_key", False)
    n_warn = len(s.get("warnings", []))
    if language == "da":
        text = (f"DREAM-udtrækket omfatter {s['persons']:,} personer med ugentlige ydelseskoder for "
                f"{s['weeks']:,} uger ({s['first_iso_week']} til {s['last_iso_week']})".replace(",", ".")
                + (f" og beskæftigelsesgrad for {s['months']} måneder" if s["months"] else "") + ". "
                "Personnumre er erstattet af nøglebaserede hash-værdier (BLAKE2b) ved indlæsningen"
                + (" med den faste demo-nøgle (kun til syntetiske data)" if demo else
                   f" (nøgle fra {key.replace('env:', 'miljøvariablen ')})") + ". "
                + (f"Indlæsningen gav {n_warn} advarsel(er), se nedenfor. " if n_warn else
                   "Indlæsningen gav ingen advarsler. ")
                + ("Inddata og parametre var uændrede siden sidste kørsel, så det gemte datasæt blev genbrugt."
                   if skipped else ""))
    else:
        text = (f"The DREAM extract holds {s['persons']:,} persons with weekly benefit codes for {s['weeks']:,} weeks "
                f"({s['first_iso_week']} to {s['last_iso_week']})"
                + (f" and employment degree for {s['months']} months" if s["months"] else "") + ". "
                "Person IDs were replaced by keyed hashes (BLAKE2b) at ingest"
                + (" with the fixed demo key (synthetic data only)" if demo else
                   f" (key from {key.replace('env:', 'environment variable ')})") + ". "
                + (f"The ingest raised {n_warn} warning(s), listed below. " if n_warn else
                   "The ingest raised no warnings. ")
                + ("Inputs and parameters were unchanged since the last run, so the stored data were re-used."
                   if skipped else ""))
    return text.strip()
