"""``synthetic:`` section: parameters of the synthetic-data generator (make data)."""

from __future__ import annotations

from pydantic import Field

from helpers.schema.base import Section


class SyntheticConfig(Section):
    """How ``helpers.synth`` builds the study's synthetic extract and forms."""

    n_pool: int = Field(default=20_000, ge=10)
    n_screened: int = Field(default=80, ge=1)
    n_included: int = Field(default=50, ge=1)
    inclusion_start: str = "2016-12-01"
    inclusion_end: str = "2017-05-31"
    municipality: int = 183
    hr_self_support: float = Field(default=2.5, gt=0, description="injected hazard ratio on lasting self-support")
    formats: list[str] = Field(default=["csv"], description="extract formats to write: csv, csv_semicolon, parquet, dta, xpt")
