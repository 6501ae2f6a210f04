"""``power:`` section: the design's planned effects."""

from __future__ import annotations

from pydantic import Field

from helpers.config.schema.base import Section


class PowerScenario(Section):
    """Planned proportions for one outcome at one horizon."""

    outcome: str
    horizon: str
    control: float = Field(ge=0, le=1)
    intervention: float = Field(ge=0, le=1)


class SurvivalPlan(Section):
    """Planned effect on time to lasting self-support (for the survival endpoint's power)."""

    hazard_ratio: float = Field(gt=0, description="planned hazard ratio of lasting self-support, intervention vs control")
    control_event_share: float = Field(gt=0, lt=1, description="planned share of controls reaching lasting "
                                       "self-support during follow-up")
    source: str = Field(default="", description="where the planned values come from (shown in the report)")


class PowerConfig(Section):
    """Planned sample size and effects (seed 000's table)."""

    n_per_group: int = Field(default=50, description="planned participants (intervention group)")
    n_control: int | None = Field(default=None, ge=1, description="planned control persons; default: "
                                  "matching.ratio x n_per_group (the design that is matched and analysed)")
    pair_correlation: float = Field(default=0.0, ge=-1, le=1, description="within-pair correlation of the outcome "
                                    "assumed for the power of the pair-clustered test (0 is conservative when "
                                    "matching makes pairs alike)")
    monte_carlo_draws: int = Field(default=2000, ge=100, description="draws of the Monte Carlo power of the "
                                   "weighted (k:1 or with replacement) test")
    survival: SurvivalPlan | None = Field(default=None, description="planned effect on the survival endpoint")
    alpha: float = 0.05
    target_power: float = 0.8
    n_range: list[int] = Field(default=[10, 80], description="smallest and largest n per group to plot")
    scenarios: list[PowerScenario] = []
