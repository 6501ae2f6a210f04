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


class PowerConfig(Section):
    """Planned sample size and effects (seed 000's table)."""

    n_per_group: int = 50
    alpha: float = 0.05
    target_power: float = 0.8
    n_range: list[int] = Field(default=[10, 80], description="smallest and largest n per group to plot")
    scenarios: list[PowerScenario] = []
