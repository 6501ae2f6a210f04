"""The pipeline's stages, one module each, with one entry point: ``stages.<stage>.run(study)``.

Each ``run`` computes, writes its outputs atomically to the study's processed folder and
returns a typed, frozen result object (:class:`helpers.stages.base.StageResult`) that the
next stage and the report read. The stages, their result classes and files are listed in
``docs/architecture.md`` (a test keeps that table and this package in step).

Submodules are imported on first use:

>>> from helpers import load_study, stages
>>> stages.STAGES[:3]
('ingest', 'cohort', 'outcomes')
>>> stages.power.PowerResult.FILE
'power_results.json'
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: Stage names in pipeline order.
STAGES = ("ingest", "cohort", "outcomes", "trajectories", "survival", "investment", "power", "robustness")


def __getattr__(name: str) -> ModuleType:
    if name in STAGES or name == "base":
        return importlib.import_module(f"helpers.stages.{name}")
    raise AttributeError(f"module 'helpers.stages' has no attribute {name!r}")
