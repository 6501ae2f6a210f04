"""``data:`` section: where the raw files are and how to read them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from helpers.config.schema.base import Section


class DreamInput(Section):
    """The DREAM extract: one wide file, or per-year files."""

    path: str | list[str] = Field(description="file (or files) relative to raw_dir; per-year files may use {year}")
    format: Literal["auto", "csv", "parquet", "sas7bdat", "dta", "sav", "xpt"] = "auto"
    layout: Literal["wide", "per_year"] = "wide"
    background_path: str | None = Field(
        default=None,
        description="per-year layout: file (relative to raw_dir) with the ID, sex, birth date, municipality and "
                    "monthly columns when the year files hold only weekly codes",
    )
    delimiter: Literal["auto", ",", ";", "\t"] = "auto"
    encoding: Literal["auto", "utf-8", "latin-1", "cp1252"] = "auto"
    id_column: str = "PNR"
    sex_column: str = "kon"
    birth_date_column: str | None = "foed_dag"
    age_column: str | None = None
    municipality_prefix: str = Field(default="nykom", description="yearly residence columns <prefix>YYYY")
    chunk_rows: int = Field(
        default=20_000, ge=100,
        description="rows read and written per chunk: memory is bounded by the chunk (peak about 0.6 GB at 20,000 rows "
                    "of 940 weeks), not by the file",
    )
    id_width: int | None = Field(
        default=None, ge=1, le=32,
        description="left-pad all-digit IDs with zeros to this width (CPR numbers stored as numbers lose them)",
    )
    grad_scale: Literal["auto", "share", "percent"] = Field(
        default="auto", description="scale of grad_YYYY_MM: share 0-1, percent 0-100, or detected (docs/sources.md)"
    )
    numeric_dates: Literal["error", "days_since_1960"] = Field(
        default="error",
        description="a birth-date column holding plain numbers (a SAS/Stata date that lost its format): an error, "
                    "or days since 1960-01-01 (the SAS and Stata epoch)",
    )
    codes_after_death: Literal["error", "warn"] = Field(
        default="error", description="a non-empty code other than 999 after a person's first 999 week"
    )


class FormsInput(Section):
    """Project forms (CSV or Excel), relative to raw_dir. Missing forms are allowed if null."""

    id_column: str = Field(default="PNR", description="person ID column of the forms (same IDs as the extract)")
    delimiter: Literal["auto", ",", ";", "\t"] = "auto"
    encoding: Literal["auto", "utf-8", "latin-1", "cp1252"] = "auto"
    screening: str | None = "screening.csv"
    questionnaires: str | None = "questionnaires.csv"
    events: str | None = "events.csv"
    costs: str | None = "costs.csv"


class Pseudonymisation(Section):
    """Keyed hashing of person IDs at ingest."""

    key_env: str = "DREAM_PSEUDO_KEY"
    key_file: str | None = Field(default=None, description="file outside the repository holding the key")
    allow_demo_key: bool = Field(default=False, description="use the fixed demo key (synthetic data only)")


class SelfSupport(Section):
    """What counts as a self-supported week."""

    extra_codes: list[int] = Field(default=[121, 122, 123], description="codes counted as self-support besides empty")
    require_employment: bool = Field(default=False, description="also require employment in the week's month")


class DataConfig(Section):
    """Inputs and reading rules."""

    raw_dir: str = Field(description="folder of the raw files, relative to the repository root")
    dream: DreamInput
    forms: FormsInput = FormsInput()
    pseudonymisation: Pseudonymisation = Pseudonymisation()
    unknown_codes: Literal["warn", "error"] = "warn"
    category_overrides: dict[int, str] = Field(default={}, description="code -> category, e.g. {651: self_support}")
    first_year: int = Field(default=2008, ge=1991, description="first ISO year of weekly data kept in the store")
    last_year: int = Field(ge=1992, description="last ISO year of weekly data kept in the store")
    self_support: SelfSupport = SelfSupport()
