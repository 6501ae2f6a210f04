"""Project paths, resolved from the repository root, never from the working directory."""

from __future__ import annotations

import os
from pathlib import Path

#: Repository root (the folder holding ``pyproject.toml``).
PROJECT_ROOT = Path(os.environ.get("DREAM_EVAL_ROOT", Path(__file__).resolve().parents[3]))
STUDIES_DIR = PROJECT_ROOT / "studies"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
REPORTS_DIR = PROJECT_ROOT / "reports"


def study_file(name: str) -> Path:
    """Return the YAML file of study ``name`` (``studies/<name>.yaml``)."""
    return STUDIES_DIR / f"{name}.yaml"


def raw_dir(study: str) -> Path:
    """Return ``data/raw/<study>``: inputs, never modified by the pipeline."""
    return RAW_DIR / study


def processed_dir(study: str) -> Path:
    """Return ``data/processed/<study>``: regenerable intermediate files."""
    return PROCESSED_DIR / study


def report_dir(study: str) -> Path:
    """Return ``reports/<study>``: the rendered report and its artefacts."""
    return REPORTS_DIR / study


def relative(path: str | os.PathLike) -> str:
    """``path`` relative to the repository root when inside it, else as given (for messages)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(PROJECT_ROOT.resolve()))
    except ValueError:
        return str(p)
