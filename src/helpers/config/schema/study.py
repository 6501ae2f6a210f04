"""``study:`` section: identity, language, seed and disclosure threshold."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from helpers.config.schema.base import Section


class StudyMeta(Section):
    """Who and what the study is; report-wide choices."""

    name: str = Field(pattern=r"^[a-z0-9_\-]+$", description="short name, equal to the YAML file name")
    title: str
    subtitle: str = ""
    authors: list[str] = []
    description: str = ""
    language: Literal["da", "en"] = "en"
    seed: int = Field(ge=0, description="seed for every random draw (matching, bootstrap, Monte Carlo, AJ ties)")
    min_cell: int = Field(default=5, ge=3, description="smallest count shown in any table or figure")
    allow_disclosure_failures: bool = Field(
        default=False, description="internal use only: let the report build despite disclosure FAILs"
    )
    synthetic: bool = Field(default=False, description="True when the data are the shipped synthetic demo")
