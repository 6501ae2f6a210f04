"""Provenance of a report: what went in, with which code and settings, and how long it took.

The manifest (``reports/<study>/manifest.json``, written by :func:`write_manifest` when the
report is assembled) records

- the input files with SHA-256 and row counts (from ``data/processed/<study>/manifest.json``
  written by ingest; files ingest did not record are hashed here, rows unknown),
- the study YAML text and its SHA-256, and every resolved parameter (defaults included),
- Python, platform and package versions,
- the git commit and whether the working tree had uncommitted changes,
- when the run started and ended, its run time and each notebook's run time,
- the SHA-256 of every artefact in the report folder.

The appendix notebook shows the same information through :func:`inputs_table`,
:func:`versions_table`, :func:`parameters_table` and :func:`software_sentence`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html as _html
import json
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.config import Study
from helpers.core import atomic, paths
from helpers.core.i18n import tr
from helpers.disclosure import check_counts, check_settings_only
from helpers.report.items import Table, Text

#: Packages whose versions the report shows (all installed ones go into the manifest).
KEY_PACKAGES = ("helpers", "numpy", "pandas", "scipy", "statsmodels", "lifelines", "matplotlib", "seaborn",
                "pyarrow", "pyreadstat", "pydantic", "pyyaml", "papermill", "nbconvert", "nbformat",
                "ipykernel", "openpyxl")
MANIFEST_NAME = "manifest.json"


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def rel(path: str | Path) -> str:
    """``path`` relative to the repository root when inside it, else as given."""
    return paths.relative(path)


def git_state(root: str | Path | None = None) -> dict[str, Any]:
    """Commit, branch and dirty flag of the repository at ``root``; tolerant of no git.

    Uses only read-only git commands (``--no-optional-locks`` so the index is not touched).
    """
    root = Path(root or paths.PROJECT_ROOT)

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "--no-optional-locks", "-C", str(root), *args], capture_output=True,
                                 text=True, timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"available": False, "commit": None, "branch": None, "dirty": None, "changed_files": None}
    status = git("status", "--porcelain") or ""
    changed = [line for line in status.splitlines() if line.strip()]
    return {"available": True, "commit": commit, "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(changed), "changed_files": len(changed)}


def package_versions(names: tuple[str, ...] | None = None) -> dict[str, str]:
    """Installed versions of ``names`` (default: every installed distribution), sorted by name."""
    if names is None:
        found = {d.metadata["Name"]: d.version for d in metadata.distributions() if d.metadata["Name"]}
        return dict(sorted(found.items(), key=lambda kv: kv[0].lower()))
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _ingest_records(study: Study) -> dict[str, dict]:
    """Input records of the processed store's manifest, keyed by file name; {} when absent."""
    path = study.processed_dir / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    inputs = data.get("inputs", [])
    if isinstance(inputs, dict):
        inputs = [{"path": k, **(v if isinstance(v, dict) else {"sha256": v})} for k, v in inputs.items()]
    out = {}
    for rec in inputs:
        if isinstance(rec, dict) and rec.get("path"):
            out[Path(rec["path"]).name] = rec
    return out


def input_records(study: Study, *, hash_missing: bool = True) -> list[dict[str, Any]]:
    """One record per raw input file: path, SHA-256, rows, size and where the hash came from."""
    ingest = _ingest_records(study)
    records = []
    for f in study.input_files():
        # size in MB, not bytes: a 10-digit byte count would look like a CPR number to the scanners
        rec: dict[str, Any] = {"path": rel(f), "exists": f.exists(),
                               "megabytes": round(f.stat().st_size / 1e6, 3) if f.exists() else None}
        known = ingest.get(f.name)
        if known and known.get("sha256"):
            rec.update(sha256=known["sha256"], rows=known.get("rows"), source="ingest manifest")
        elif f.exists() and hash_missing:
            rec.update(sha256=sha256_file(f), rows=None, source="hashed at report time")
        else:
            rec.update(sha256=None, rows=None, source="missing")
        records.append(rec)
    return records


def collect(study: Study, *, timings: dict[str, float] | None = None, started: float | None = None) -> dict[str, Any]:
    """Everything the manifest records (see the module docstring)."""
    now = time.time()
    source = study.source or paths.study_file(study.name)
    yaml_text = Path(source).read_text(encoding="utf-8") if Path(source).exists() else ""
    manifest: dict[str, Any] = {
        "study": study.name,
        "title": study.study.title,
        "language": study.study.language,
        "min_cell": study.study.min_cell,
        "synthetic": study.study.synthetic,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds") if started else None,
        "run_seconds": round(now - started, 1) if started else None,
        "notebook_seconds": dict(timings or {}),
        "inputs": input_records(study),
        "study_yaml": {"path": rel(source), "sha256": hashlib.sha256(yaml_text.encode("utf-8")).hexdigest(),
                       "text": yaml_text},
        "parameters": study.resolved(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(KEY_PACKAGES),
        "all_packages": package_versions(),
        "git": git_state(),
    }
    return manifest


def write_manifest(study: Study, output_dir: str | Path, *, timings: dict[str, float] | None = None,
                   started: float | None = None, manifest: dict[str, Any] | None = None) -> Path:
    """Write ``manifest.json`` into ``output_dir`` (atomically) and return its path.

    ``manifest`` (from :func:`collect`) avoids hashing the inputs twice; the hashes of the
    files now in ``output_dir`` are added to it.
    """
    if manifest is None:
        manifest = collect(study, timings=timings, started=started)
    out = Path(output_dir)
    manifest = {**manifest, "outputs": [
        {"path": p.relative_to(out).as_posix(), "sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in sorted(out.rglob("*")) if p.is_file() and p.name != MANIFEST_NAME and not p.name.startswith(".")
    ]}
    return atomic.write_json(out / MANIFEST_NAME, manifest)


# --------------------------------------------------------------------- report tables
#: Where an input file's checksum came from -> catalogue key.
HASH_SOURCES = {"ingest manifest": "provenance.hash_from_manifest", "hashed at report time": "provenance.hash_at_report"}


def inputs_frame(records: list[dict[str, Any]], language: str, min_cell: int | None = None) -> pd.DataFrame:
    """Input files with SHA-256 and rows, column names in the study's language.

    Row counts of 1 .. ``min_cell`` - 1 are masked: a form's rows can be persons.
    """

    def rows_text(n: Any) -> str:
        if n is None:
            return ""
        if min_cell is not None and 0 < int(n) < min_cell:
            return f"<{min_cell}"
        return f"{int(n):,}".replace(",", "." if language == "da" else ",")

    rows = [{
        tr("provenance.column.file", language): r["path"],
        "SHA-256": r.get("sha256") or tr("provenance.missing", language),
        tr("provenance.column.rows", language): rows_text(r.get("rows")),
        tr("provenance.column.hash_source", language): tr(HASH_SOURCES.get(r.get("source"), "provenance.missing"),
                                                          language),
    } for r in records]
    return pd.DataFrame(rows)


def versions_frame(language: str, packages: dict[str, str] | None = None) -> pd.DataFrame:
    """Python, platform and key package versions."""
    packages = packages or package_versions(KEY_PACKAGES)
    rows = [("Python", sys.version.split()[0]), (tr("provenance.column.platform", language), platform.platform())]
    rows += list(packages.items())
    return pd.DataFrame(rows, columns=[tr("provenance.column.software", language), tr("provenance.column.version", language)])


def flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Dotted ``(key, value)`` pairs of nested parameters; lists of scalars stay on one line.

    >>> flatten({"a": {"b": 1, "c": [1, 2]}, "d": [{"e": None}], "f": []})
    [('a.b', '1'), ('a.c', '1, 2'), ('d[0].e', '–'), ('f', '–')]
    """
    if isinstance(data, dict):
        if not data:
            return [(prefix, "{}")] if prefix else []
        out: list[tuple[str, str]] = []
        for k, v in data.items():
            out += flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(data, list):
        if all(not isinstance(v, (dict, list)) for v in data):
            return [(prefix, ", ".join(str(v) for v in data) or "–")]
        out = []
        for i, v in enumerate(data):
            out += flatten(v, f"{prefix}[{i}]")
        return out
    return [(prefix, "–" if data is None or str(data).strip() == "" else str(data).strip())]


def parameters_frame(study: Study, language: str | None = None) -> pd.DataFrame:
    """Every resolved parameter of the study (defaults included) as ``key, value`` rows."""
    language = language or study.study.language
    return pd.DataFrame(flatten(study.resolved()),
                        columns=[tr("provenance.column.parameter", language), tr("provenance.column.value", language)])


def git_sentence(state: dict[str, Any], language: str) -> str:
    """One sentence on the code version."""
    if not state.get("available"):
        return tr("provenance.git.none", language)
    commit = state["commit"][:12]
    if state.get("dirty"):
        n = state.get("changed_files") or 0
        changes = tr("provenance.git.changes." + ("one" if n == 1 else "many"), language, n=n)
        return tr("provenance.git.dirty", language, commit=commit, branch=state.get("branch"), changes=changes)
    return tr("provenance.git.clean", language, commit=commit, branch=state.get("branch"))


def timings_html(manifest: dict[str, Any], language: str) -> str:
    """Small HTML table of run time per notebook and in total (filled in at assembly)."""
    def num(x: float) -> str:
        text = f"{x:.1f}"
        return text.replace(".", ",") if language == "da" else text

    rows = "".join(f"<tr><td>{_html.escape(k)}</td><td>{num(v)}</td></tr>"
                   for k, v in manifest.get("notebook_seconds", {}).items())
    total = manifest.get("run_seconds")
    total = None if total is None else num(total)
    head = tr("provenance.column.notebook", language), tr("provenance.column.seconds", language)
    when = manifest.get("started") or manifest.get("created")
    lead = tr("provenance.timings.run", language, when=when, total=total)
    if total is None:
        lead = tr("provenance.timings.assembled", language, when=manifest.get("created"))
    return (f"<p>{_html.escape(lead)}</p>"
            + (f'<table class="rpt-table rpt-compact"><thead><tr><th>{head[0]}</th><th>{head[1]}</th></tr>'
               f"</thead><tbody>{rows}</tbody></table>" if rows else ""))


# --------------------------------------------------------------------- report items
def git_text(study: Study, language: str | None = None) -> Text:
    """The code version (git commit, branch, uncommitted changes) as a sentence."""
    return Text(git_sentence(git_state(), language or study.study.language))


def study_file_text(study: Study, language: str | None = None) -> Text:
    """The study file and its SHA-256."""
    return Text(tr("provenance.study_file", language or study.study.language, path=rel(study.source),
                   sha256=sha256_file(study.source)))


def inputs_table(study: Study, language: str | None = None) -> Table:
    """Input files with SHA-256 checksums and row counts (row counts below the minimum cell size masked)."""
    lang = language or study.study.language
    frame = inputs_frame(input_records(study), lang, study.study.min_cell)
    check = check_counts(frame.iloc[:, 2], study.study.min_cell, item="provenance_inputs", what="row counts",
                         what_da="rækkeantal")
    return Table("provenance_inputs", frame, check, note=tr("provenance.note.inputs", lang))


def versions_table(study: Study, language: str | None = None) -> Table:
    """Python, platform and the key package versions."""
    frame = versions_frame(language or study.study.language)
    return Table("provenance_versions", frame,
                 check_settings_only(frame, item="provenance_versions", what="software versions",
                                     what_da="softwareversioner"))


def parameters_table(study: Study, language: str | None = None) -> Table:
    """Every resolved parameter of the study, defaults included."""
    frame = parameters_frame(study, language)
    return Table("provenance_parameters", frame,
                 check_settings_only(frame, item="provenance_parameters", what="settings", what_da="indstillinger"))


def timings_placeholder(study: Study, language: str | None = None) -> str:
    """HTML shown in the run-times slot until the assembler fills it in."""
    return f"<p>{_html.escape(tr('provenance.timings.placeholder', language or study.study.language))}</p>"
