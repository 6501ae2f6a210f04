"""What an ingest found: :class:`IngestResult`, the typed content of ``ingest_summary.json``.

The ingest (:func:`helpers.ingest.ingest`, called by :func:`helpers.stages.ingest.run`)
writes the summary through this model, so the file and the object cannot disagree: every
field is a key of the file, in the file's order, and every value an aggregate (counts by
year and category, unknown codes by code, warnings with counts; no person identifier).
The store's ``manifest.json`` (inputs, parameters, outputs, versions) stays a file of its
own; the result carries it in memory after an ingest (:attr:`IngestResult.manifest`).

Examples
--------
>>> r = IngestResult(study="x", persons=6, weeks=52, first_week=1431, last_week=1482,
...                  first_iso_week="2019-W01", last_iso_week="2019-W52", months=0, first_month=None,
...                  last_month=None, grad_scale=None, residence_rows=6, forms={}, unknown_codes_policy="warn",
...                  category_counts=[], unknown_codes=[], validity_warnings=[], warnings=[], seconds=0.1)
>>> IngestResult.from_json(r.to_json()) == r
True
>>> r.n_persons, r.unknown_codes_frame().empty
(6, True)
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, PrivateAttr

from helpers.ingest.writer import MANIFEST
from helpers.stages.base import StageResult

#: File name of the summary in the processed store.
SUMMARY = "ingest_summary.json"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class CategoryCount(_Row):
    """Person-weeks and persons (with at least one week) of an analysis category in an ISO year."""

    year: int
    category: str
    person_weeks: int
    persons: int


class UnknownCode(_Row):
    """A weekly code and where it occurs: person-weeks, persons, first and last DREAM and ISO week."""

    code: int
    person_weeks: int
    persons: int
    first_week: int
    last_week: int
    first_iso_week: str
    last_iso_week: str


class InvalidCode(UnknownCode):
    """A code used outside its validity dates (``valid_from``/``valid_to`` as ISO dates, None = open)."""

    valid_from: str | None
    valid_to: str | None


class IngestWarning(_Row):
    """A validation warning: its kind, how many (persons, person-weeks, rows or years) and what it means."""

    kind: str
    count: int
    text: str


class IngestResult(StageResult):
    """What stage 01 wrote (or found up to date): the content of ``ingest_summary.json``.

    Attributes
    ----------
    study : str
    persons, weeks, months : int
        Persons, weekly and monthly columns in the store.
    first_week, last_week : int
        DREAM weeks held; ``first_iso_week``, ``last_iso_week`` the same as ``YYYY-Www``.
    first_month, last_month : str or None
        ``YYYY-MM`` of the monthly employment held (None without monthly columns).
    grad_scale : str or None
        Scale of the employment degree found in the extract.
    residence_rows : int
        Person-years of residence.
    forms : dict of str to int
        Rows per project form.
    unknown_codes_policy : str
        ``data.unknown_codes``.
    category_counts : list of CategoryCount
    unknown_codes : list of UnknownCode
    validity_warnings : list of InvalidCode
    warnings : list of IngestWarning
    seconds : float
        Run time of the ingest that wrote the store.
    """

    FILE = SUMMARY

    study: str
    persons: int
    weeks: int
    first_week: int
    last_week: int
    first_iso_week: str
    last_iso_week: str
    months: int
    first_month: str | None
    last_month: str | None
    grad_scale: str | None
    residence_rows: int
    forms: dict[str, int]
    unknown_codes_policy: str
    category_counts: list[CategoryCount]
    unknown_codes: list[UnknownCode]
    validity_warnings: list[InvalidCode]
    warnings: list[IngestWarning]
    seconds: float
    _skipped: bool | None = PrivateAttr(default=None)
    _manifest: dict | None = PrivateAttr(default=None)
    _paths: dict[str, Path] = PrivateAttr(default_factory=dict)

    # ------------------------------------------------------------- in memory after an ingest
    @property
    def skipped(self) -> bool | None:
        """True when inputs, parameters and key were unchanged and nothing was written (None after ``load``)."""
        return self._skipped

    @property
    def manifest(self) -> dict | None:
        """Content of the store's ``manifest.json`` (None after ``load``)."""
        return self._manifest

    @property
    def paths(self) -> dict[str, Path]:
        """Store files by name (``persons``, ``weekly``, ..., ``manifest``); empty after ``load`` or a dry run."""
        return dict(self._paths)

    # ------------------------------------------------------------------------- conveniences
    @property
    def n_persons(self) -> int:
        """Persons in the store (``persons``)."""
        return self.persons

    @property
    def n_weeks(self) -> int:
        """Weekly columns in the store (``weeks``)."""
        return self.weeks

    @property
    def n_months(self) -> int:
        """Monthly columns in the store (``months``)."""
        return self.months

    @property
    def summary(self) -> dict:
        """The result as the plain dictionary of ``ingest_summary.json``."""
        return json.loads(self.to_json())

    @property
    def warning_records(self) -> list[dict]:
        """Warnings as ``{"kind", "count", "text"}`` dictionaries."""
        return [w.model_dump() for w in self.warnings]

    def category_counts_frame(self) -> pd.DataFrame:
        """``year, category, person_weeks, persons`` by ISO year and analysis category."""
        return _frame(self.category_counts, CategoryCount)

    def unknown_codes_frame(self) -> pd.DataFrame:
        """``code, person_weeks, persons, first_week, last_week, first_iso_week, last_iso_week``."""
        return _frame(self.unknown_codes, UnknownCode)

    def validity_frame(self) -> pd.DataFrame:
        """Codes used outside their validity dates (columns of :meth:`unknown_codes_frame` plus the dates)."""
        return _frame(self.validity_warnings, InvalidCode)

    # ---------------------------------------------------------------------------- the store
    @classmethod
    def from_store(cls, directory: Path, skipped: bool) -> IngestResult:
        """The result of a committed store (its summary and manifest)."""
        directory = Path(directory)
        result = cls.load(None, directory)
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        return result.attach(manifest, skipped=skipped,
                             paths={n.split(".")[0]: directory / n for n in [*manifest["outputs"], MANIFEST]})

    def attach(self, manifest: dict, *, skipped: bool, paths: dict[str, Path]) -> IngestResult:
        """Set what the ingest knows in memory: the manifest, whether it was skipped, the files (returns self)."""
        self._manifest = manifest
        self._skipped = skipped
        self._paths = dict(paths)
        return self


def _frame(rows: list[BaseModel], model: type[BaseModel]) -> pd.DataFrame:
    return pd.DataFrame([r.model_dump() for r in rows], columns=list(model.model_fields))
