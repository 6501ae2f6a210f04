"""The pipeline's own estimators and matcher, imported in one place.

The simulation must test what the stages run, not a re-implementation. Every import of
``helpers`` used by :mod:`simulations` is here, so that when ``helpers.stats.survival`` and
``helpers.stats.proportions`` become packages (issue 14) only these lines change.
"""

from __future__ import annotations

from helpers.cohort.matching import match
from helpers.config.schema.cohort import MatchingConfig
from helpers.config.schema.outcomes import OutcomesConfig
from helpers.config.schema.survival import SurvivalConfig
from helpers.stats.proportions import (
    analysis_clusters,
    headline_columns,
    outcome_table,
)
from helpers.stats.survival import SELF_SUPPORT, cox_intervention, fit_cox

__all__ = [
    "SELF_SUPPORT",
    "MatchingConfig",
    "OutcomesConfig",
    "SurvivalConfig",
    "analysis_clusters",
    "cox_intervention",
    "fit_cox",
    "headline_columns",
    "match",
    "outcome_table",
]
