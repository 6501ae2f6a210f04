"""Stage 01 in the report: what was read, the weekly codes over time, unknown codes, warnings, inputs.

Every function takes the stage's :class:`~helpers.ingest.result.IngestResult` and the study
and returns a report item in the requested language (default: the study's), with every word
from the catalogue (``ingest.*``, ``caption.ingest_*`` in ``helpers/data/i18n/ingest.yaml``).
Counts are masked with :mod:`helpers.disclosure` (small categories merged by
:func:`helpers.disclosure.ingest.category_shares`). The paragraph and the inputs table need
the manifest, i.e. the result of :func:`helpers.stages.ingest.run`.
"""

from __future__ import annotations

import pandas as pd

from helpers import disclosure
from helpers.core.i18n import catalogue, count, number, tr
from helpers.disclosure.ingest import category_shares, mask_unknown_codes
from helpers.ingest.result import IngestResult
from helpers.report.items import Figure, Table, Text
from helpers.report.plots.ingest import category_shares_area


def _lang(study, language: str | None) -> str:
    return language or study.study.language


def _col(name: str, language: str) -> str:
    return tr(f"ingest.column.{name}", language)


def _manifest(result: IngestResult) -> dict:
    if result.manifest is None:
        raise ValueError("IngestResult.manifest is empty: this item needs the result of stages.ingest.run, not a "
                         "result read back from ingest_summary.json")
    return result.manifest


def _key_source(source: str, language: str) -> str:
    """Where the pseudonymisation key came from, in words (``env:NAME`` -> "environment variable NAME")."""
    if source.startswith("env:"):
        return tr("ingest.summary.key_env", language, name=source.removeprefix("env:"))
    return source


def summary_text(result: IngestResult, study, language: str | None = None) -> Text:
    """One paragraph on what the ingest did: persons, weeks, pseudonymisation, warnings, re-use."""
    lang = _lang(study, language)
    manifest = _manifest(result)
    extract = tr("ingest.summary.extract", lang, persons=count(result.persons, lang), weeks=count(result.weeks, lang),
                 first_week=result.first_iso_week, last_week=result.last_iso_week)
    if result.months:
        extract += tr("ingest.summary.months", lang, months=result.months)
    hashed = tr("ingest.summary.pseudonymised", lang)
    if manifest.get("demo_key", False):
        hashed += tr("ingest.summary.demo_key", lang)
    else:
        source = manifest.get("pseudonymisation", {}).get("key_source", "")
        hashed += tr("ingest.summary.key_from", lang, source=_key_source(source, lang))
    n_warn = len(result.warnings)
    parts = [f"{extract}.", f"{hashed}.",
             tr("ingest.summary.warnings", lang, n=n_warn) if n_warn else tr("ingest.summary.no_warnings", lang)]
    if result.skipped:
        parts.append(tr("ingest.summary.reused", lang))
    return Text(" ".join(parts))


def read_table(result: IngestResult, study, language: str | None = None) -> Table:
    """What was read: persons, weeks, months, residence rows, form rows (small counts masked)."""
    lang = _lang(study, language)
    r = result
    rows = [
        (tr("ingest.read.persons", lang), r.persons, tr("ingest.read.persons_detail", lang)),
        (tr("ingest.read.weeks", lang), r.weeks, f"{r.first_iso_week} – {r.last_iso_week}"),
        (tr("ingest.read.months", lang), r.months,
         f"{r.first_month} – {r.last_month}" if r.months else tr("ingest.read.months_none", lang)),
        (tr("ingest.read.residence", lang), r.residence_rows, ""),
    ]
    rows += [(tr("ingest.read.form", lang, name=form_name(name, lang)), n, "") for name, n in r.forms.items()]
    frame = pd.DataFrame(rows, columns=["what", "count", "detail"])
    masked, check = disclosure.mask_counts(frame, ["count"], study.study.min_cell, item="ingest_read")
    return Table("ingest_read", masked.rename(columns={c: _col(c, lang) for c in frame.columns}), check)


def categories_figure(result: IngestResult, study, language: str | None = None) -> Figure:
    """Share of person-weeks per analysis category and ISO year (small categories merged)."""
    shares, check = category_shares(result.category_counts_frame(), study.study.min_cell)
    ax = category_shares_area(shares, language=_lang(study, language))
    return Figure("ingest_categories", ax.figure, check)


def unknown_codes_table(result: IngestResult, study, language: str | None = None) -> Table | Text:
    """Unknown codes by code: persons, person-weeks, first and last ISO week; a sentence when there are none."""
    lang = _lang(study, language)
    if not result.unknown_codes:
        return Text(tr("ingest.no_unknown_codes", lang))
    masked, check = mask_unknown_codes(result.unknown_codes_frame(), study.study.min_cell)
    names = {"code": "code", "persons": "persons", "person_weeks": "person_weeks", "first_iso_week": "first_week",
             "last_iso_week": "last_week"}
    return Table("ingest_unknown_codes", masked.rename(columns={c: _col(n, lang) for c, n in names.items()}), check)


def warnings_table(result: IngestResult, study, language: str | None = None) -> Table | Text:
    """Validation warnings: text, kind and count (small counts masked); a sentence when there are none."""
    lang = _lang(study, language)
    if not result.warnings:
        return Text(tr("ingest.no_warnings", lang))
    frame = pd.DataFrame([(w.text, w.kind, w.count) for w in result.warnings], columns=["warning", "kind", "count"])
    masked, check = disclosure.mask_counts(frame, ["count"], study.study.min_cell, item="ingest_warnings")
    return Table("ingest_warnings", masked.rename(columns={c: _col(c, lang) for c in frame.columns}), check)


def form_name(name: str, language: str) -> str:
    """Display name of a project form (``form.<name>``: Danish ``spørgeskemaer`` for ``questionnaires``)."""
    return tr(f"form.{name}", language) if f"form.{name}" in catalogue() else name


def input_kind(kind: str, language: str) -> str:
    """Display name of an input's kind in the ingest manifest (``dream``, ``form:<name>``)."""
    if kind.startswith("form:"):
        return tr("input_kind.form", language, name=form_name(kind[len("form:"):], language))
    return tr(f"input_kind.{kind}", language) if f"input_kind.{kind}" in catalogue() else kind


def manifest_table(result: IngestResult, study, language: str | None = None) -> Table:
    """Inputs of the ingest: file, kind, SHA-256 prefix (8 hex characters), size and rows."""
    lang = _lang(study, language)
    rows = [(i["path"], input_kind(i["kind"], lang), i["sha256"][:8] + "…", number(i["bytes"] / 1e6, 3, lang),
             i["rows"])
            for i in _manifest(result)["inputs"]]
    frame = pd.DataFrame(rows, columns=["file", "kind", "sha256", "size_mb", "rows"])
    masked, check = disclosure.mask_counts(frame, ["rows"], study.study.min_cell, item="ingest_manifest")
    names = {c: "SHA-256" if c == "sha256" else _col(c, lang) for c in frame.columns}
    return Table("ingest_manifest", masked.rename(columns=names), check)
