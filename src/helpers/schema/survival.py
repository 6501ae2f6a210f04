"""``survival:`` section: time to lasting self-support."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from helpers.schema.base import Section


class SurvivalConfig(Section):
    """Time from index week to the first week of lasting self-support."""

    lasting_weeks: int = Field(default=4, ge=1, description="N consecutive self-supported weeks")
    require_employment: bool = False
    exits: Literal["censor", "competing"] = "competing"
    competing_disability_pension: bool = True
    max_weeks: int | None = Field(default=None, description="administrative end of follow-up in weeks")
    times: list[int] = Field(default=[26, 52, 104, 260], description="weeks for differences and risk tables")
    rmst_horizon: int = 260
    adjust_for: list[str] = []
