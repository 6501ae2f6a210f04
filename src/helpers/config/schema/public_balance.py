"""Parts of the ``investment:`` section for the full public balance: tax, earnings, scale-up scenarios.

Used by :class:`helpers.config.schema.investment.InvestmentConfig` (``investment.tax``,
``investment.earnings``, ``investment.scenarios``); computed by
:mod:`helpers.investment.tax`, :mod:`helpers.investment.ledger` and
:mod:`helpers.investment.scenarios`.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from helpers.config.schema.base import Labels, Section


class TaxConfig(Section):
    """Income tax and AM-bidrag on earnings and taxable benefits (per-code pricing only)."""

    enabled: bool = Field(
        default=False, description="count state tax, municipal tax and AM-bidrag (off = gross benefits only, as "
                                   "seed 002)")
    rates_file: str = Field(default="tax_rates.csv", description="shipped in helpers/data/prices or a path")
    year: int | None = Field(default=None, description="tax year of the rates (default: investment.price_year)")
    municipality: int | None = Field(
        default=None, description="municipality whose income-tax rate applies (default: the single "
                                  "cohort.municipality)")
    overrides: dict[str, float] = Field(default={}, description="rate parameters replacing the rates file, e.g. "
                                                                "{kommuneskat_rate: 0.25}")


class EarningsConfig(Section):
    """Earnings of employed weeks: hourly wage x hours per week x the month's employment degree (grad)."""

    hourly_wage_dkk: float = Field(
        default=180.0, gt=0, description="gross hourly wage (DKK, price year); an assumption, see the source")
    hours_per_week: float = Field(default=37.0, gt=0, le=60, description="hours of a full-time week (grad 1)")
    source: str = Field(
        default="assumption: a wage between the industry minimum rate (139.85 DKK/hour from 1 May 2025, "
                "Industriens Overenskomst 2025 § 78) and average hourly earnings; not verified",
        description="where the wage comes from (printed in the assumptions table)")


class ScenarioConfig(Section):
    """"Offer it to N persons a year for K years", priced with the estimated effect per participant."""

    name: str = Field(pattern=r"^[a-z0-9_\-]+$", description="short key")
    label: Labels = Field(description="name in the report")
    persons_per_year: int = Field(ge=1, description="participants who start each year")
    years: int = Field(ge=1, description="years in which new participants start")
    cost_per_person_dkk: float | None = Field(
        default=None, ge=0, description="programme cost per participant (default: the evaluation's cost per "
                                        "participant)")
    effect_scale: float = Field(
        default=1.0, ge=0, description="multiplier of the estimated saving per participant (1 = as estimated)")
    note: Labels | None = Field(default=None, description="where the figures come from (shown under the table)")

    @field_validator("name")
    @classmethod
    def _short(cls, v: str) -> str:
        if len(v) > 40:
            raise ValueError("keep scenario names to 40 characters")
        return v
