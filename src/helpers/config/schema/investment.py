"""``investment:`` section: prices, refusion, discounting, costs, projection, sensitivity.

Every assumption of the investment calculation (notebook 05, :mod:`helpers.investment`)
lives here, so the report's assumption table can print it. Amounts are DKK unless a key
says otherwise.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from helpers.config.schema.base import Labels, Section
from helpers.config.schema.public_balance import (
    EarningsConfig,
    ScenarioConfig,
    TaxConfig,
)

Actor = Literal["municipality", "state", "public"]


class SensitivityConfig(Section):
    """Ranges of the one-way sensitivity analysis (tornado) and the Monte Carlo draws.

    Multipliers are relative to the base case (1.0 = as estimated / as priced).
    """

    prices: tuple[float, float] = Field(default=(0.8, 1.2), description="multiplier of every benefit price")
    costs: tuple[float, float] = Field(default=(0.75, 1.25), description="multiplier of the intervention's costs")
    discount_rate: tuple[float, float] = Field(
        default=(0.0, 0.07), description="flat annual discount rate replacing the Finance Ministry schedule"
    )
    retention: tuple[float, float] = Field(
        default=(0.7, 1.0), description="annual retention of the effect in extrapolated years"
    )
    wage: tuple[float, float] = Field(
        default=(0.75, 1.25), description="multiplier of the hourly wage (one-way; per-code pricing with tax)"
    )
    effect_level: float = Field(default=0.95, gt=0, lt=1, description="confidence level of the effect bounds")
    actor: Actor = Field(default="public", description="whose NPV the tornado and Monte Carlo describe")

    @field_validator("prices", "costs", "discount_rate", "retention", "wage")
    @classmethod
    def _ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] > v[1] or v[0] < 0:
            raise ValueError(f"expected [low, high] with 0 <= low <= high, got {list(v)}")
        return v


class CellOverride(Section):
    """One projected cell replaced by a given value (to reproduce a printed table).

    An override is a departure from the stated assumptions; the reconciliation lists it.
    """

    hold: int = Field(ge=1)
    outcome: str
    year: int = Field(ge=1)
    value_dkk: float
    reason: str = ""
    reason_da: str = ""


class ProjectionOutcome(Section):
    """One outcome of the ex-ante projection (e.g. ordinary job/education, flexjob)."""

    label: Labels
    persons_per_hold: list[float] = Field(
        min_length=1, description="persons reaching the outcome per hold, cycled over the holds of a year"
    )
    saving_per_person_year_dkk: float = Field(description="saving per person-year in the outcome")
    retention: list[tuple[float, float]] = Field(
        default=[], description="[share falling back, years after outcome start] pairs"
    )
    deadweight_per_hold: float = Field(
        default=0.0, ge=0, description="persons per hold who would have reached the outcome anyway"
    )

    @field_validator("retention")
    @classmethod
    def _shares(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if sum(s for s, _ in v) > 1 + 1e-9 or any(s < 0 or y < 0 for s, y in v):
            raise ValueError("retention shares must be >= 0 and sum to at most 1; years must be >= 0")
        return v


class PrintedRow(Section):
    """One printed row of a projected-savings table (in units of ``PrintedTable.unit_dkk``)."""

    hold: int = Field(ge=1)
    outcome: str
    values: list[float | None] = Field(description="one value per year; null where the printed cell is blank")


class PrintedTable(Section):
    """A projected-savings table as printed in a source document (for reconciliation)."""

    source: str
    unit_dkk: float = 1000.0
    rows: list[PrintedRow]
    totals: list[float]


class ProjectionConfig(Section):
    """Ex-ante projection: cohorts of holds entering over time (seed 002's model, generalised)."""

    title: Labels | None = Field(default=None, description="title of the projection in the report")
    intake_years: int = Field(default=2, ge=1, description="years in which new holds start")
    start_quarters: list[int] = Field(
        default=[1, 2, 3, 4], min_length=1, description="quarter (1-4) of the intake year each hold starts"
    )
    outcome_delay_quarters: float = Field(
        default=1.0, ge=0, description="quarters from the hold's start to outcome start (course length)"
    )
    outcomes: dict[str, ProjectionOutcome]
    horizon_years: int = Field(default=6, ge=1, description="years shown, counted from the first intake year")
    year_labels: list[Labels] = Field(default=[], description="column labels (default: Year 1..n)")
    fallback_timing: Literal["own_hold", "first_hold"] = Field(
        default="own_hold",
        description="clock of the fall-backs: each hold's own outcome start, or the first hold of its intake year",
    )
    apply_deadweight: bool = Field(default=True, description="deduct deadweight_per_hold from persons")
    cell_overrides: list[CellOverride] = Field(
        default=[], description="cells replaced to reproduce a printed table (listed as departures)"
    )
    costs_dkk: float | None = Field(default=None, description="intervention costs (default: intervention_cost_total)")
    cost_shares_by_year: list[float] = Field(
        default=[], description="share of the costs in each year (default: evenly over the intake years)"
    )
    table_unit_dkk: float = Field(default=1000.0, gt=0, description="unit of the printed table (1.000 kr.)")
    printed: PrintedTable | None = Field(default=None, description="the printed table, for the reconciliation")

    @field_validator("start_quarters")
    @classmethod
    def _quarters(cls, v: list[int]) -> list[int]:
        if any(q < 1 or q > 4 for q in v):
            raise ValueError(f"quarters must be 1..4, got {v}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ProjectionConfig:
        if self.year_labels and len(self.year_labels) != self.horizon_years:
            raise ValueError(
                f"projection.year_labels: {len(self.year_labels)} labels for {self.horizon_years} years"
            )
        n_holds = self.intake_years * len(self.start_quarters)
        for i, o in enumerate(self.cell_overrides):
            if o.outcome not in self.outcomes:
                raise ValueError(f"projection.cell_overrides[{i}].outcome: {o.outcome!r} is not an outcome")
            if o.hold > n_holds or o.year > self.horizon_years:
                raise ValueError(f"projection.cell_overrides[{i}]: hold/year outside the projection")
        if self.printed is not None:
            for i, r in enumerate(self.printed.rows):
                if r.outcome not in self.outcomes:
                    raise ValueError(f"projection.printed.rows[{i}].outcome: {r.outcome!r} is not an outcome")
                if len(r.values) != self.horizon_years:
                    raise ValueError(f"projection.printed.rows[{i}].values: expected {self.horizon_years} values")
            if len(self.printed.totals) != self.horizon_years:
                raise ValueError(f"projection.printed.totals: expected {self.horizon_years} values")
        if self.cost_shares_by_year and abs(sum(self.cost_shares_by_year) - 1) > 1e-9:
            raise ValueError("projection.cost_shares_by_year: shares must sum to 1")
        return self


class InvestmentConfig(Section):
    """Investment calculation settings (see :mod:`helpers.investment`)."""

    perspective: list[Actor] = Field(
        default=["municipality", "state", "public"], description="actors shown in the report's tables and figures"
    )
    pricing: Literal["category", "code"] = Field(
        default="category", description="price weeks per DREAM code (code_prices_file, with tax and earnings) or per "
                                        "analysis category (prices_file, the older model)"
    )
    prices_file: str = Field(default="benefit_prices.csv", description="per-category prices: shipped in "
                                                                        "helpers/data or a path")
    code_prices_file: str = Field(
        default="benefit_prices_by_code.csv", description="per-code prices: shipped in helpers/data/prices or a path"
    )
    code_prices_override: dict[int, float] = Field(
        default={}, description="weekly gross DKK by DREAM code, replacing the per-code price file"
    )
    flexjob_subsidy_file: str = Field(
        default="flexjob_subsidy.csv", description="fleksløntilskud parameters: shipped in helpers/data/prices or a path"
    )
    tax: TaxConfig = Field(default=TaxConfig(), description="income tax and AM-bidrag (per-code pricing)")
    earnings: EarningsConfig = Field(default=EarningsConfig(), description="earnings of employed weeks")
    price_year: int = Field(
        default=2024, description="use, per category, the latest price dated at or before this year"
    )
    prices_override: dict[str, float] = Field(
        default={}, description="annual DKK per full-time person by category, replacing the price file"
    )
    refusion: bool = Field(default=True, description="split costs between municipality and state by the 2016 steps")
    refusion_history_weeks: int = Field(
        default=156, ge=0, description="weeks before the index week used to start the cumulative refusion count"
    )
    discount_rates: list[list[float]] = Field(
        default=[[35, 0.035], [70, 0.025], [1000, 0.015]],
        description="[last year, rate] steps (Finance Ministry 2021/2023: 3.5% to year 35, 2.5%, then 1.5%)",
    )
    horizon_years: int = Field(default=5, ge=1, description="observed years after the index week")
    extrapolate_years: int = Field(default=0, ge=0, description="years after the observed horizon, extrapolated")
    retention: float = Field(
        default=1.0, ge=0, le=1, description="annual share of the last observed year's saving kept when extrapolating"
    )
    intervention_cost_total: float | None = Field(default=None, description="DKK; else from the costs form")
    costs_source: Literal["auto", "total", "form"] = Field(
        default="auto", description="auto: intervention_cost_total if set, else the costs form"
    )
    cost_bearer: Literal["municipality", "state"] = Field(
        default="municipality", description="who pays the intervention (the public total always includes it)"
    )
    cost_year: int = Field(default=1, ge=1, description="analysis year the costs fall in (when the form has no years)")
    bootstrap_draws: int = Field(default=1000, ge=50, description="bootstrap replicates over matched sets (seed + 2)")
    monte_carlo_draws: int = Field(default=2000, ge=100, description="Monte Carlo draws (seed + 3)")
    sensitivity: SensitivityConfig = Field(default=SensitivityConfig(), description="one-way and Monte Carlo ranges")
    projection: ProjectionConfig | None = Field(
        default=None, description="ex-ante projection by holds (e.g. seed 002's table), reproduced and reconciled"
    )
    scenarios: list[ScenarioConfig] = Field(
        default=[], description="scale-up scenarios: N persons a year for K years, from the estimated effect"
    )

    @field_validator("discount_rates")
    @classmethod
    def _steps(cls, v: list[list[float]]) -> list[list[float]]:
        if not v:
            raise ValueError("give at least one [last year, rate] step")
        last = 0.0
        for step in v:
            if len(step) != 2 or step[0] <= last or step[1] <= -1:
                raise ValueError(f"steps must be [last year, rate] with increasing last years, got {v}")
            last = step[0]
        return v

    @model_validator(mode="after")
    def _unique_scenarios(self) -> InvestmentConfig:
        names = [s.name for s in self.scenarios]
        if len(set(names)) != len(names):
            raise ValueError(f"investment.scenarios: names must be unique, got {names}")
        if self.tax.enabled and self.pricing != "code":
            raise ValueError("investment.tax.enabled needs investment.pricing: code (taxes are computed per code and "
                             "person-year)")
        return self
