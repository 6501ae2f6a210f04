"""Reproducible evaluation of Danish employment interventions from DREAM register data.

The package holds all logic; the notebooks in ``notebooks/`` narrate calls to it. The few
names a student needs in an own notebook are importable from the top level (loaded on
first use, so ``import helpers`` stays cheap):

>>> from helpers import load_study, stages, Reporter
>>> cfg = load_study("demo")
>>> cfg.study.language
'en'

The tree follows the pipeline: ``config`` (study YAML), ``core`` (calendar, codes, store,
atomic writes, paths, i18n), ``ingest``, ``cohort``, ``outcomes``, ``stats``, ``investment``,
``disclosure``, ``report`` (presentation), ``synth`` (synthetic data) and ``stages`` (one
``run`` per stage). See ``docs/architecture.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_PUBLIC = {
    "load_study": "helpers.config",
    "Study": "helpers.config",
    "Reporter": "helpers.report.reporter",
    "stages": None,
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    module = _PUBLIC[name]
    if module is None:
        return importlib.import_module(f"helpers.{name}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
