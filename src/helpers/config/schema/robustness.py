"""``robustness:`` section: E-values, a placebo index, a negative-control outcome, the regression-adjusted
(doubly robust) estimate and the pre-declared subgroups (issue 17, items 3, 4 and 6)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from helpers.config.schema.base import Section
from helpers.config.schema.outcomes import OutcomeDefinition

#: Subgroup names the stage knows; ``age_under_<years>`` splits at that age (seed 003: under/over 30).
SUBGROUPS = ("sex", "benefit_type")
AGE_SUBGROUP = re.compile(r"^age_under_(\d{2})$")


class PlaceboConfig(Section):
    """The headline estimators with the index week moved earlier: an "effect" before the programme signals selection."""

    enabled: bool = Field(default=True, description="run the placebo (pseudo-index) analysis")
    shift_weeks: int = Field(default=52, ge=8, le=520,
                             description="the pseudo-index week lies this many weeks before each person's index week")
    horizon_weeks: int = Field(
        default=26, ge=1,
        description="the primary outcome's status this many weeks after the pseudo-index (must be before the real "
                    "index week); the time to lasting self-support is censored the week before the real index week")

    @model_validator(mode="after")
    def _before_index(self) -> PlaceboConfig:
        if self.horizon_weeks >= self.shift_weeks:
            raise ValueError(f"robustness.placebo.horizon_weeks ({self.horizon_weeks}) must be smaller than "
                             f"shift_weeks ({self.shift_weeks}): the placebo outcome must lie before the real index")
        return self


class NegativeControlConfig(Section):
    """An outcome the programme cannot cause, compared with the headline estimator: a difference signals bias."""

    enabled: bool = Field(default=False, description="run the negative-control outcome")
    horizon: str | None = Field(default=None,
                                description="horizon key (outcomes.horizons) at which it is compared; null = the first")
    definition: OutcomeDefinition | None = Field(
        default=None,
        description="the outcome, with the keys of outcomes.definitions (e.g. kind: ever_in_window, codes: [...])")

    @model_validator(mode="after")
    def _definition(self) -> NegativeControlConfig:
        if self.enabled and self.definition is None:
            raise ValueError("robustness.negative_control.definition: give the outcome (label, kind, codes/categories) "
                             "or set enabled: false")
        if self.definition is not None and self.definition.kind == "any_of":
            raise ValueError("robustness.negative_control.definition.kind: use status_at or ever_in_window")
        return self


class HeterogeneityConfig(Section):
    """The primary difference and the hazard ratio within pre-declared subgroups, with an interaction test."""

    enabled: bool = Field(default=True, description="run the subgroup analysis (exploratory)")
    subgroups: list[str] = Field(
        default=["sex", "age_under_30", "benefit_type"],
        description="sex, benefit_type (benefit subcategory at the index week) and age_under_<years> (e.g. "
                    "age_under_30); a matched set belongs to the subgroup of its participant")

    @field_validator("subgroups")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in SUBGROUPS and not AGE_SUBGROUP.match(s)]
        if bad:
            raise ValueError(f"unknown subgroup(s) {bad}; use {list(SUBGROUPS)} or age_under_<years> (e.g. age_under_30)")
        return list(dict.fromkeys(v))


class RobustnessConfig(Section):
    """How robust is the headline to unmeasured confounding, selection and model choice, and is it the same in subgroups."""

    enabled: bool = Field(default=True, description="run the robustness stage (notebook 08); false skips it")
    horizon: str | None = Field(
        default=None, description="horizon key of the primary outcome for the E-value, the regression-adjusted "
                                  "estimate and the subgroups; null = the first horizon (outcomes.horizons)")
    evalues: bool = Field(default=True, description="E-values of the primary risk ratio and of the hazard ratio")
    doubly_robust: bool = Field(
        default=True, description="regression adjustment for the matching covariates on the matched sample, beside "
                                  "the plain matched estimate (risk difference and hazard ratio)")
    placebo: PlaceboConfig = PlaceboConfig()
    negative_control: NegativeControlConfig = NegativeControlConfig()
    heterogeneity: HeterogeneityConfig = HeterogeneityConfig()
