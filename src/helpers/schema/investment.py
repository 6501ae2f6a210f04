"""``investment:`` section: prices, refusion, discounting, costs, projection, sensitivity."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from helpers.schema.base import Section


class InvestmentConfig(Section):
    """Investment calculation settings (extended by helpers.investment)."""

    perspective: list[Literal["municipality", "state", "public"]] = ["municipality", "state", "public"]
    prices_file: str = Field(default="benefit_prices.csv", description="shipped in helpers/data or a path")
    price_year: int = 2024
    refusion: bool = True
    discount_rates: list[list[float]] = Field(
        default=[[35, 0.035], [70, 0.025], [1000, 0.015]],
        description="[last year, rate] steps (Finance Ministry 2021/2023: 3.5% to year 35, 2.5%, then 1.5%)",
    )
    horizon_years: int = 5
    intervention_cost_total: float | None = Field(default=None, description="DKK; else from the costs form")
    monte_carlo_draws: int = 2000
