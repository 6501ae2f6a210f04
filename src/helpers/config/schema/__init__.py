"""Pydantic models of a study YAML, one module per section.

Every model forbids unknown keys, so a typo in a study file is an error that names the
key. :func:`helpers.config.load_study` turns validation errors into one readable message.
"""

from helpers.config.schema.base import Section
from helpers.config.schema.cohort import CohortConfig, MatchingConfig
from helpers.config.schema.data import DataConfig
from helpers.config.schema.investment import InvestmentConfig
from helpers.config.schema.outcomes import OutcomesConfig
from helpers.config.schema.power import PowerConfig
from helpers.config.schema.robustness import RobustnessConfig
from helpers.config.schema.study import StudyMeta
from helpers.config.schema.survival import SurvivalConfig
from helpers.config.schema.synthetic import SyntheticConfig
from helpers.config.schema.trajectories import TrajectoriesConfig

__all__ = [
    "CohortConfig",
    "DataConfig",
    "InvestmentConfig",
    "MatchingConfig",
    "OutcomesConfig",
    "PowerConfig",
    "RobustnessConfig",
    "Section",
    "StudyMeta",
    "SurvivalConfig",
    "SyntheticConfig",
    "TrajectoriesConfig",
]
