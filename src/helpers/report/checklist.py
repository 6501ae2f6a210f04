"""The reporting checklist of the appendix: each STROBE and RECORD item and where the report answers it.

The items (STROBE, cohort version: von Elm et al. 2007; RECORD: Benchimol et al. 2015) and the
places that can answer each of them are data, ``helpers/data/checklists/strobe_record.yaml``. The
mapping is derived from the report being built, not typed, so it cannot drift from it:

- a section is the report's if its notebook (``notebooks/NN_<stage>.ipynb``) exists and was not
  skipped (``skipped_sections.json`` of the run); its name is the notebook's own heading in the
  study's language;
- a subsection is found by the report function its code cell calls (``call:`` in the data file,
  e.g. ``methods\\.matching``), under the nearest heading;
- tables and figures are cited (``[[ref:key]]``, numbered at assembly) only when they were shown,
  that is, logged in ``disclosure_log.jsonl``.

An item no present place answers is "not reported" (or "not applicable") with the data file's
reason, or with the reason its section was skipped. Sections other engineers add later (a
``robustness`` notebook, a ``limitations`` item) are picked up as soon as they exist.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import nbformat
import pandas as pd
import yaml

from helpers.core import paths
from helpers.core.i18n import tr
from helpers.disclosure import check_settings_only
from helpers.report.items import Table
from helpers.report.reporter import REF_FORMAT, output_dir_for, read_log

CHECKLIST_FILE = "strobe_record.yaml"
#: Status of an item -> catalogue key ``reporting.status.<status>``.
STATUSES = ("reported", "not_reported", "not_applicable")


@lru_cache(maxsize=1)
def checklist_items() -> tuple[dict, ...]:
    """The STROBE and RECORD items of the data file, in order."""
    text = resources.files("helpers.data").joinpath("checklists", CHECKLIST_FILE).read_text(encoding="utf-8")
    return tuple(yaml.safe_load(text)["items"])


@dataclass(frozen=True)
class Section:
    """A heading of the report and the code cells under it (from a notebook, in one language)."""

    notebook: str
    stage: str
    heading: str
    subheading: str
    code: str


def _heading(cell, language: str) -> tuple[int, str] | None:
    if cell.cell_type != "markdown" or f"lang-{language}" not in cell.metadata.get("tags", []):
        return None
    m = re.match(r"^(#{2,3})\s+(.+)$", cell.source.strip().splitlines()[0] if cell.source.strip() else "")
    return (len(m.group(1)), m.group(2).strip()) if m else None


def report_sections(notebooks_dir: Path, language: str, skipped: set[str]) -> list[Section]:
    """Every code cell of the pipeline notebooks that run, with the headings it sits under."""
    out = []
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        if path.name in skipped:
            continue
        stage = path.stem[3:]
        h2 = h3 = ""
        for cell in nbformat.read(path, as_version=4).cells:
            found = _heading(cell, language)
            if found:
                level, text = found
                h2, h3 = (text, "") if level == 2 else (h2, text)
            elif cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                out.append(Section(path.name, stage, h2, h3, cell.source))
    return out


def skipped_sections(output_dir: Path) -> dict[str, dict]:
    """``{notebook: record}`` of the run's ``skipped_sections.json`` ({} when nothing was skipped)."""
    path = Path(output_dir) / "skipped_sections.json"
    if not path.exists():
        return {}
    return {r["notebook"]: r for r in json.loads(path.read_text(encoding="utf-8"))}


def _place(place: dict, sections: list[Section], shown: set[str], language: str) -> tuple[str, list[str]] | None:
    """Where ``place`` is in this report: ``(section name, keys of its tables/figures shown)``, or None."""
    if place.get("title"):
        return tr("reporting.place.title", language), []
    if "notebook" in place:
        found = [s for s in sections if s.stage == place["notebook"] and s.heading]
        where = found[0].heading if found else None
    else:
        pattern = re.compile(place["call"])
        found = [s for s in sections if pattern.search(s.code)]
        where = " › ".join(p for p in (found[0].heading, found[0].subheading) if p) if found else None
    if where is None:
        return None
    keys = [k for k in place.get("items", []) if k in shown]
    if place.get("items") and not keys:
        return None
    return where, keys


def _places_text(places: list[tuple[str, list[str]]]) -> str:
    """``Section (Table 3, Figure 2); Other section``: each section once, its tables and figures together."""
    merged: dict[str, list[str]] = {}
    for where, keys in places:
        merged.setdefault(where, [])
        merged[where] += [k for k in keys if k not in merged[where]]
    return "; ".join(where + (f" ({', '.join(REF_FORMAT.format(key=k) for k in keys)})" if keys else "")
                     for where, keys in merged.items())


def _skip_reason(item: dict, skipped: dict[str, dict], notebooks_dir: Path, language: str) -> str | None:
    """The reason a skipped section gives, when every place of ``item`` lies in a skipped notebook."""
    for name, record in skipped.items():
        sections = report_sections(notebooks_dir, language, set(skipped) - {name})
        here = [s for s in sections if s.notebook == name]
        for place in item.get("answered_by", []):
            if ("notebook" in place and here and here[0].stage == place["notebook"]) or (
                    "call" in place and any(re.search(place["call"], s.code) for s in here)):
                heading = next((s.heading for s in here if s.heading), name)
                return tr("reporting.reason.skipped", language, section=heading,
                          reason=record.get(f"reason_{language}") or record.get("reason_en", ""))
    return None


def checklist_mapping(study, output_dir: str | Path | None = None, *, notebooks_dir: str | Path | None = None,
                      language: str | None = None) -> pd.DataFrame:
    """One row per STROBE/RECORD item: ``checklist, item, text, status, where`` (see the module docstring).

    Parameters
    ----------
    study : Study
    output_dir : path, optional
        The run's folder (its ``disclosure_log.jsonl`` and ``skipped_sections.json``); default
        the Reporter's (the runner's staging folder during a run).
    notebooks_dir : path, optional
        The pipeline notebooks (default ``notebooks/``).
    language : {"en", "da"}, optional
    """
    lang = language or study.study.language
    out_dir = output_dir_for(study, output_dir)
    nb_dir = Path(notebooks_dir or paths.NOTEBOOKS_DIR)
    skipped = skipped_sections(out_dir)
    sections = report_sections(nb_dir, lang, set(skipped))
    shown = {r.get("key") or r["item"] for r in read_log(out_dir)}
    rows = []
    for item in checklist_items():
        places = [p for p in (_place(pl, sections, shown, lang) for pl in item["answered_by"]) if p]
        if places:
            status, where = "reported", _places_text(places)
        else:
            otherwise = item.get("otherwise", {})
            status = otherwise.get("status", "not_reported")
            where = _skip_reason(item, skipped, nb_dir, lang) or otherwise.get("reason", {}).get(lang) or tr(
                "reporting.reason.no_section", lang)
        rows.append({"checklist": item["checklist"], "item": str(item["id"]), "text": item["text"][lang],
                     "status": status, "where": where})
    return pd.DataFrame(rows)


def reporting_table(study, output_dir: str | Path | None = None, *, notebooks_dir: str | Path | None = None,
                    language: str | None = None) -> Table:
    """The appendix table: each STROBE and RECORD item, its status and the place that answers it."""
    lang = language or study.study.language
    m = checklist_mapping(study, output_dir, notebooks_dir=notebooks_dir, language=lang)
    frame = pd.DataFrame({
        tr("reporting.column.item", lang): [f"{c.upper()} {i}" for c, i in zip(m["checklist"], m["item"], strict=True)],
        tr("reporting.column.recommendation", lang): m["text"],
        tr("reporting.column.status", lang): [tr(f"reporting.status.{s}", lang) for s in m["status"]],
        tr("reporting.column.where", lang): m["where"],
    })
    n = m["status"].value_counts()
    check = check_settings_only(frame, item="reporting_checklist", what="reporting checklist",
                                what_da="rapporteringstjekliste")
    return Table("reporting_checklist", frame, check,
                 note=tr("reporting.note", lang, reported=int(n.get("reported", 0)), total=len(m)))
