"""``cohort:`` and ``matching:`` sections: eligibility at the index week and control selection."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from helpers.schema.base import Section


class CohortConfig(Section):
    """Eligibility rules, applied at each person's index week (seed 000's criteria)."""

    municipality: list[int] = Field(default=[], description="residence municipality codes (empty = any)")
    age_min: int = 18
    age_max: int = 65
    min_weeks_on_transfers: int = Field(default=52, ge=0, description="weeks on any transfer in the lookback")
    transfers_lookback_weeks: int = Field(default=52, ge=1)
    max_weeks_cash_benefit: int | None = Field(default=260, description="at most this many weeks on cash benefit")
    cash_benefit_lookback_weeks: int = Field(default=520, ge=1)
    target_subcategories: list[str] = Field(
        default=["kontanthjaelp", "uddannelseshjaelp", "ressourceforloeb"],
        description="benefit at the index week (code subcategories)",
    )
    index_from: Literal["inclusion_date"] = "inclusion_date"
    programme_weeks: int = Field(default=52, ge=1, description="length of the intervention (end of programme = FU)")


class MatchingConfig(Section):
    """How controls are drawn from the register pool at each intervention person's index week."""

    method: Literal["exact", "nearest"] = "exact"
    ratio: int = Field(default=1, ge=1)
    replace: bool = False
    caliper: float | None = Field(default=0.2, gt=0, description="caliper in SDs of the logit propensity score")
    exact: list[str] = Field(default=[], description="covariates matched exactly (nearest method)")
    strata: dict[str, list[float]] = Field(
        default={}, description="covariate -> band edges for exact matching on strata"
    )
    covariates: list[str] = Field(
        default=[
            "age",
            "sex",
            "weeks_transfer_52",
            "weeks_transfer_104",
            "weeks_transfer_156",
            "weeks_cash_benefit_156",
            "weeks_employed_156",
        ]
    )
    order: Literal["largest", "smallest", "random", "data"] = "largest"
    smd_threshold: float = 0.1
