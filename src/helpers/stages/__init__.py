"""The pipeline's stages, one module each, with one entry point: ``stages.<stage>.run(study)``.

Each ``run`` computes, writes its outputs atomically to the study's processed folder and
returns a typed, frozen result object (:class:`helpers.stages.base.StageResult`) that the
next stage and the report read. The stages, in order (see ``docs/architecture.md``):

========  ==========================================  ===================================
stage     result                                      files
========  ==========================================  ===================================
ingest    :class:`helpers.ingest.IngestResult`        persons, weekly, monthly, forms, manifest
cohort    :class:`helpers.stages.cohort.CohortResult`  cohort, attrition, balance
outcomes  ``OutcomesResult``                          outcomes_person, outcome_results
trajectories ``TrajectoriesResult``                   trajectories_distribution, trajectories_results.json
survival  ``SurvivalResult``                          tte, survival_results.json
investment ``InvestmentResult``                       investment_results.json
power     :class:`helpers.stages.power.PowerResult`   power_results.json
========  ==========================================  ===================================

Submodules are imported on first use (``from helpers import stages; stages.power.run(cfg)``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: Stage names in pipeline order.
STAGES = ("ingest", "cohort", "outcomes", "trajectories", "survival", "investment", "power")


def __getattr__(name: str) -> ModuleType:
    if name in STAGES or name == "base":
        return importlib.import_module(f"helpers.stages.{name}")
    raise AttributeError(f"module 'helpers.stages' has no attribute {name!r}")
