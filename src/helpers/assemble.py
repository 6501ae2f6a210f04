"""Assemble the executed notebooks into one self-contained, numbered HTML report."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from helpers import atomic
from helpers.config import Study

DROP_TAGS = {"parameters", "injected-parameters", "remove_cell"}


class DisclosureFailure(RuntimeError):
    """The report holds a table or figure that failed disclosure control."""


def _keep(cell, language: str) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    if tags & DROP_TAGS:
        return False
    other = "en" if language == "da" else "da"
    return f"lang-{other}" not in tags


def combined_notebook(study: Study, staging: Path) -> nbformat.NotebookNode:
    """Concatenate the executed notebooks' cells in pipeline order, dropping parameter cells
    and cells in the other language."""
    merged = nbformat.v4.new_notebook()
    merged.metadata["title"] = study.study.title
    for path in sorted((staging / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        merged.metadata.setdefault("kernelspec", nb.metadata.get("kernelspec", {}))
        merged.metadata.setdefault("language_info", nb.metadata.get("language_info", {}))
        merged.cells.extend(c for c in nb.cells if _keep(c, study.study.language))
    return merged


def _number(html_text: str) -> str:
    """Number tables and figures in document order."""
    counters = {"rpt-tabnum": 0, "rpt-fignum": 0}

    def repl(m: re.Match) -> str:
        cls = m.group(1)
        counters[cls] += 1
        return f'<span class="{cls}">{m.group(2)} {counters[cls]}.</span>'

    return re.sub(r'<span class="(rpt-tabnum|rpt-fignum)">([^<]*)</span>', repl, html_text)


def build_report(study: Study, staging: Path, *, timings: dict | None = None, started: float | None = None) -> Path:
    """Write ``report.html`` into ``staging`` and return its path."""
    nb = combined_notebook(study, staging)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    body = _number(body)
    body = re.sub(r"<title>.*?</title>", f"<title>{study.study.title}</title>", body, count=1, flags=re.S)
    out = atomic.write_text(staging / "report.html", body)
    return out


def read_disclosure_log(staging: Path) -> list[dict]:
    """Records of every table and figure's disclosure check."""
    log = staging / "disclosure_log.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def disclosure_gate(study: Study, staging: Path) -> None:
    """Raise :class:`DisclosureFailure` when any check failed, unless the study allows it."""
    fails = [r for r in read_disclosure_log(staging) if r["status"] != "PASS"]
    if fails and not study.study.allow_disclosure_failures:
        items = ", ".join(f"{r['item']} ({r['detail']})" for r in fails)
        raise DisclosureFailure(
            f"disclosure control failed for {len(fails)} item(s): {items}. Fix the tables, raise study.min_cell "
            "grouping, or set study.allow_disclosure_failures: true for internal use only."
        )
    _ = time  # placeholder until provenance is wired in
