"""``data:`` section: where the raw files are and how to read them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from helpers.config.schema.base import Section

#: Placeholders of ``data.dream.week_pattern``.
WEEK_PLACEHOLDERS = ("{yy}", "{yyyy}", "{ww}")


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
    id_column: str = Field(default="PNR", description="person ID column (matched ignoring case: PNR, pnr, CPR, ...)")
    sex_column: str = Field(default="kon", description="sex column (matched ignoring case: kon, KOEN, koen, ...)")
    sex_codes: dict[str, Literal["male", "female"]] = Field(
        default={"1": "male", "2": "female"},
        description="value of the sex column -> male/female, e.g. {M: male, K: female}; compared as text, "
                    "ignoring case and surrounding blanks (1.0 reads as 1)",
    )
    birth_date_column: str | None = Field(default="foed_dag", description="birth date column; null when the "
                                          "extract has none (then set age_column)")
    age_column: str | None = Field(default=None, description="age in whole years (e.g. ALDER), used for persons "
                                   "without a birth date; needs age_reference_date")
    age_reference_date: dt.date | None = Field(
        default=None,
        description="the date on which age_column was measured (e.g. the extract's reference date); the age at an "
                    "index week is then age + years since that date, counted from the middle of the birth year "
                    "range (error at most half a year)",
    )
    municipality_prefix: str | None = Field(default="nykom", description="yearly residence columns <prefix>YYYY "
                                            "(nykom2017); null when there are none")
    municipality_column: str | None = Field(
        default=None,
        description="one residence column (e.g. KOMNR) instead of yearly ones: its value is taken as the "
                    "municipality in every year of the extract (the report states this assumption)",
    )
    municipality_assumed: int | None = Field(
        default=None, ge=101, le=999,
        description="no residence column at all: every person is taken as resident in this municipality in every "
                    "year (e.g. an extract drawn for one municipality's residents; the report states the assumption)",
    )
    week_pattern: str | None = Field(
        default=None,
        description="names of the weekly code columns with {yy} (2-digit ISO year), {yyyy} (4-digit) and {ww} "
                    "(ISO week): y_{yy}{ww} (default for layout wide), y_{yyyy}{ww}, y_{ww} (default for per_year)",
    )
    blank_values: list[str] = Field(
        default=["", "."],
        description="text values that mean an empty week (no transfer) besides 0; e.g. add NA or -",
    )
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

    @field_validator("sex_codes", mode="before")
    @classmethod
    def _sex_keys_as_text(cls, value):
        if isinstance(value, dict):
            return {str(k).strip(): v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DreamInput:
        if self.age_column and self.age_reference_date is None:
            raise ValueError("data.dream.age_reference_date: required with data.dream.age_column (the date on which "
                             "the age was measured, e.g. 2025-12-31)")
        if not self.birth_date_column and not self.age_column:
            raise ValueError("data.dream.birth_date_column: the extract needs a birth date or an age column; set "
                             "birth_date_column or age_column (with age_reference_date)")
        given = [k for k in ("municipality_column", "municipality_assumed") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError("data.dream.municipality_column: set municipality_column or municipality_assumed, "
                             "not both")
        sexes = set(self.sex_codes.values())
        if sexes != {"male", "female"}:
            raise ValueError(f"data.dream.sex_codes: must map at least one value to male and one to female "
                             f"(got {self.sex_codes})")
        if self.week_pattern is not None:
            pat = self.week_pattern
            if "{ww}" not in pat:
                raise ValueError(f"data.dream.week_pattern: {pat!r} has no {{ww}} (the ISO week)")
            if "{yy}" in pat and "{yyyy}" in pat:
                raise ValueError(f"data.dream.week_pattern: {pat!r} has both {{yy}} and {{yyyy}}")
            if self.layout == "wide" and "{yy}" not in pat and "{yyyy}" not in pat:
                raise ValueError(f"data.dream.week_pattern: {pat!r} has no year ({{yy}} or {{yyyy}}); a wide "
                                 "extract needs it (per-year files: set data.dream.layout: per_year)")
            stray = re.sub(r"\{(yy|yyyy|ww)\}", "", pat)
            if "{" in stray or "}" in stray:
                raise ValueError(f"data.dream.week_pattern: {pat!r} has an unknown placeholder; use "
                                 f"{', '.join(WEEK_PLACEHOLDERS)}")
        return self

    @property
    def weeks_pattern(self) -> str:
        """The week-column pattern in force (``week_pattern`` or the layout's default)."""
        if self.week_pattern:
            return self.week_pattern
        return "y_{ww}" if self.layout == "per_year" else "y_{yy}{ww}"


#: Date formats of ``data.forms.date_format`` -> strptime formats (``auto`` tries them all).
DATE_FORMATS = {
    "iso": "%Y-%m-%d", "dd-mm-yyyy": "%d-%m-%Y", "dd.mm.yyyy": "%d.%m.%Y", "dd/mm/yyyy": "%d/%m/%Y",
    "yyyymmdd": "%Y%m%d", "excel_serial": None,
}
FORM_NAMES = ("screening", "questionnaires", "events", "costs")


class InclusionList(Section):
    """A list of included persons (ID, group, inclusion date) instead of a screening form.

    Ingest turns it into the screening form the cohort stage reads: a row whose group is one
    of ``intervention_groups`` becomes ``included = 1, group = intervention, inclusion_date =
    screening_date = <date>``; any other group becomes ``included = 0`` with exclusion reason
    ``other_group_in_inclusion_list`` (so the person is not drawn as a register control).
    """

    path: str = Field(description="file relative to raw_dir (CSV or Excel)")
    id_column: str | None = Field(default=None, description="person ID column; default data.forms.id_column")
    group_column: str | None = Field(default="group", description="group column; null when every row is a "
                                     "participant")
    date_column: str = Field(default="inclusion_date", description="inclusion date column (the index week)")
    intervention_groups: list[str] = Field(
        default=["intervention"], min_length=1,
        description="values of group_column that mean a participant (compared ignoring case)",
    )


class FormsInput(Section):
    """Project forms (CSV or Excel), relative to raw_dir. Missing forms are allowed if null."""

    id_column: str = Field(default="PNR", description="person ID column of the forms (same IDs as the extract)")
    delimiter: Literal["auto", ",", ";", "\t"] = "auto"
    encoding: Literal["auto", "utf-8", "latin-1", "cp1252"] = "auto"
    date_format: Literal["auto", "iso", "dd-mm-yyyy", "dd.mm.yyyy", "dd/mm/yyyy", "yyyymmdd", "excel_serial"] = Field(
        default="auto",
        description="format of the forms' date columns; auto accepts ISO, dd-mm-yyyy, dd.mm.yyyy, dd/mm/yyyy, "
                    "yyyymmdd and Excel serial day numbers (5 digits), one format per column",
    )
    columns: dict[Literal["screening", "questionnaires", "events", "costs"], dict[str, str]] = Field(
        default={},
        description="the forms' column names where they differ from the documented ones: form -> {documented "
                    "name: name in the file}, e.g. {screening: {inclusion_date: Startdato}}",
    )
    screening: str | None = "screening.csv"
    inclusion_list: InclusionList | None = Field(
        default=None, description="instead of a screening form: an inclusion list (ID, group, inclusion date)"
    )
    questionnaires: str | None = "questionnaires.csv"
    events: str | None = "events.csv"
    costs: str | None = "costs.csv"

    @model_validator(mode="after")
    def _one_screening(self) -> FormsInput:
        if self.inclusion_list is not None and self.screening is not None:
            if "screening" in self.model_fields_set:
                raise ValueError("data.forms.screening: set either screening or inclusion_list, not both (set "
                                 "screening: null)")
            object.__setattr__(self, "screening", None)
        return self


class Pseudonymisation(Section):
    """Keyed hashing of person IDs at ingest."""

    key_env: str = "DREAM_PSEUDO_KEY"
    key_file: str | None = Field(default=None, description="file outside the repository holding the key")
    allow_demo_key: bool = Field(default=False, description="use the fixed demo key; refused unless "
                                 "study.synthetic is true")


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
