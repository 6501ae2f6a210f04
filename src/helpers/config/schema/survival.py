"""``survival:`` section: time to lasting self-support."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from helpers.config.schema.base import Section


class SurvivalConfig(Section):
    """Time from index week to the first week of lasting self-support."""

    lasting_weeks: int = Field(default=4, ge=1, description="N consecutive self-supported weeks")
    require_employment: bool = Field(
        default=False, description="self-supported weeks must also fall in a month with employment"
    )
    exits: Literal["censor", "competing"] = Field(
        default="competing", description="emigration, state pension and death: censoring or a competing event"
    )
    competing_disability_pension: bool = Field(
        default=True, description="first week on disability pension is a competing event"
    )
    max_weeks: int | None = Field(default=None, ge=1, description="administrative end of follow-up in weeks")
    times: list[int] = Field(default=[26, 52, 104, 260], description="weeks for differences and risk tables")
    rmst_horizon: int = Field(default=260, ge=1, description="horizon (weeks) of restricted mean times")
    adjust_for: list[str] = Field(default=[], description="baseline covariates (cohort columns) in the Cox model")
    cox_method: Literal["auto", "strata", "cluster"] = Field(
        default="cluster",
        description="headline Cox model: cluster = marginal, matching weights, robust SE clustered by matched set "
        "(chosen by simulation, docs/headline-estimator.md); strata = conditional, stratified by matched set; "
        "auto: strata when every set is 1:1 with unit weights, else cluster. The other model is the sensitivity "
        "analysis",
    )
    curve_grid_weeks: int = Field(
        default=4, ge=1, description="disclosure: curve steps are shown only on this grid of weeks"
    )
    bootstrap_draws: int = Field(
        default=500, ge=0, description="bootstrap over matched sets for RMST/CIF-time differences (0 = off)"
    )
