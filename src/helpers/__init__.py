"""Reproducible evaluation of Danish employment interventions from DREAM register data.

The package holds all logic; the notebooks in ``notebooks/`` narrate calls to it. The few
names a student needs in an own notebook are importable from the top level (loaded on
first use, so ``import helpers`` stays cheap); each has an example that the test suite runs:

>>> from helpers import load_study, stages, Reporter
>>> cfg = load_study("demo")
>>> cfg.study.language
'en'
>>> stages.STAGES[:3]
('ingest', 'cohort', 'outcomes')

- the study and the pipeline: :func:`load_study`, :class:`Study`, :mod:`stages`
  (``stages.<stage>.run(cfg)`` returns the stage's typed result);
- showing results: :class:`Reporter` and the report items :class:`Table`, :class:`Figure`,
  :class:`Text`; :func:`tr` for text in the study's language;
- estimators for an analysis of your own: :func:`risk_difference_newcombe`,
  :func:`weighted_risk_difference`, :func:`fisher_power`, :func:`pair_clustered_power`,
  :func:`km_by_group`, :func:`cox_intervention`;
- disclosure control: :func:`mask_counts`, :func:`check_counts`.

The tree follows the pipeline: ``config`` (study YAML), ``core`` (calendar, codes, store,
atomic writes, paths, i18n), ``ingest``, ``cohort``, ``outcomes``, ``stats``, ``investment``,
``disclosure``, ``report`` (presentation), ``synth`` (synthetic data) and ``stages`` (one
``run`` per stage). See ``docs/architecture.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> module that defines it (None: the name is a subpackage).
_PUBLIC = {
    "load_study": "helpers.config",
    "Study": "helpers.config",
    "stages": None,
    "Reporter": "helpers.report.reporter",
    "Table": "helpers.report.items",
    "Figure": "helpers.report.items",
    "Text": "helpers.report.items",
    "tr": "helpers.core.i18n",
    "risk_difference_newcombe": "helpers.stats.proportions",
    "weighted_risk_difference": "helpers.stats.weighted",
    "fisher_power": "helpers.stats.power",
    "pair_clustered_power": "helpers.stats.design_power",
    "km_by_group": "helpers.stats.survival",
    "cox_intervention": "helpers.stats.survival",
    "mask_counts": "helpers.disclosure",
    "check_counts": "helpers.disclosure",
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
