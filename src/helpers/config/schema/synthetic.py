"""``synthetic:`` section: parameters of the synthetic-data generator (make data)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from helpers.config.schema.base import Section

ExtractFormat = Literal["csv", "csv_semicolon", "parquet", "dta", "xpt"]

#: Default cost items (shares of ``investment.intervention_cost_total``), after the kinds of
#: expense in seed 000's budget (coordinators, medical assessment, other professions).
DEFAULT_COST_ITEMS = {
    "Forløbskoordinatorer (løn)": 0.45,
    "Socialmedicinsk udredning (læge, speciallæge)": 0.18,
    "Psykolog og fysioterapeut": 0.12,
    "Tværfaglige konferencer og koordinering": 0.10,
    "Ledelse og administration": 0.10,
    "Drift (lokaler, materialer, transport)": 0.05,
}


class SyntheticConfig(Section):
    """How ``helpers.synth`` builds the study's synthetic extract and forms.

    The injected effects are intention-to-treat effects on every included person from the
    week after the inclusion week: ``hr_self_support`` multiplies the weekly hazard of moving
    from a benefit into self-support (for ``hr_duration_weeks``, default for the rest of
    follow-up); ``praktik_rate_ratio`` multiplies the weekly rate of starting a
    virksomhedspraktik and ``afklaring_rate_ratio`` the hazards of moving to
    ledighedsydelse, flexjob or disability pension, both during ``effect_weeks`` (default
    ``cohort.programme_weeks``).
    """

    n_pool: int = Field(default=20_000, ge=10, description="persons in the extract")
    n_screened: int = Field(default=80, ge=1, description="persons on the screening form")
    n_included: int = Field(default=50, ge=1, description="screened persons included in the intervention")
    inclusion_start: str = Field(default="2016-12-01", description="first inclusion date (ISO)")
    inclusion_end: str = Field(default="2017-05-31", description="last inclusion date (ISO)")
    municipality: int = Field(default=183, description="municipality of the intervention (3-digit code)")
    share_study_municipality: float = Field(
        default=0.5, gt=0, le=1, description="share of the pool living in the study municipality"
    )
    design: Literal["rolling", "groups"] = Field(
        default="rolling", description="rolling inclusion, or group starts (groups_per_year a year)"
    )
    groups_per_year: int = Field(default=4, ge=1, le=52, description="group starts a year (design: groups)")
    hr_self_support: float = Field(default=2.5, gt=0, description="injected hazard ratio on entering self-support")
    hr_duration_weeks: int | None = Field(default=None, ge=1, description="weeks the HR applies (null = all)")
    praktik_rate_ratio: float = Field(default=8.0, gt=0, description="rate ratio of starting praktik in programme")
    afklaring_rate_ratio: float = Field(
        default=4.0, gt=0, description="rate ratio of moving to flexjob/ledighedsydelse/disability pension"
    )
    effect_weeks: int | None = Field(default=None, ge=1, description="programme window (null = programme_weeks)")
    questionnaire_effect: float = Field(default=1.0, description="points on the 0-10 scales at follow-up")
    dropout_share: float = Field(default=0.12, ge=0, le=1, description="share of included persons who drop out")
    burn_in_years: int = Field(default=3, ge=0, le=20, description="years simulated before first_year")
    max_clones: int = Field(default=4000, ge=0, description="eligible persons in the population-truth experiment")
    cost_items: dict[str, float] = Field(
        default=DEFAULT_COST_ITEMS, description="cost item -> share of investment.intervention_cost_total"
    )
    formats: list[ExtractFormat] = Field(
        default=["csv"], description="extract formats to write: csv, csv_semicolon, parquet, dta, xpt"
    )

    @field_validator("inclusion_start", "inclusion_end")
    @classmethod
    def _iso_date(cls, value: str) -> str:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected an ISO date YYYY-MM-DD, got {value!r}") from None
        return value

    @field_validator("cost_items")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        if not value or any(v < 0 for v in value.values()) or sum(value.values()) <= 0:
            raise ValueError("cost_items: give at least one item with a positive share (shares are normalised)")
        return value

    @model_validator(mode="after")
    def _check(self) -> SyntheticConfig:
        if self.n_included > self.n_screened:
            raise ValueError("synthetic.n_included: must not exceed synthetic.n_screened")
        if dt.date.fromisoformat(self.inclusion_end) < dt.date.fromisoformat(self.inclusion_start):
            raise ValueError("synthetic.inclusion_end: must not be before synthetic.inclusion_start")
        return self
