"""Pydantic models of a study YAML, one module per section.

Every model forbids unknown keys, so a typo in a study file is an error that names the
key. :func:`helpers.config.load_study` turns validation errors into one readable message.
"""

from helpers.schema.base import Section
from helpers.schema.cohort import CohortConfig, MatchingConfig
from helpers.schema.data import DataConfig
from helpers.schema.investment import InvestmentConfig
from helpers.schema.outcomes import OutcomesConfig
from helpers.schema.power import PowerConfig
from helpers.schema.study import StudyMeta
from helpers.schema.survival import SurvivalConfig
from helpers.schema.synthetic import SyntheticConfig

__all__ = [
    "CohortConfig",
    "DataConfig",
    "InvestmentConfig",
    "MatchingConfig",
    "OutcomesConfig",
    "PowerConfig",
    "Section",
    "StudyMeta",
    "SurvivalConfig",
    "SyntheticConfig",
]
