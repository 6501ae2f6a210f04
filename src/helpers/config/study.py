"""Study configuration: one YAML file per study, validated on load.

Every analyst choice lives in ``studies/<name>.yaml``: data paths, eligibility and index
rules, matching, outcome definitions and horizons, survival settings, prices and
discounting, power scenarios, seed, language and the minimum cell size. Loading checks
every key and type; a problem raises :class:`StudyConfigError` with one message that
names the file, the key and what was expected.

Examples
--------
>>> study = load_study("demo")
>>> study.study.language, study.study.min_cell
('en', 5)
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from helpers.config.schema import (
    CohortConfig,
    DataConfig,
    InvestmentConfig,
    MatchingConfig,
    OutcomesConfig,
    PowerConfig,
    RobustnessConfig,
    Section,
    StudyMeta,
    SurvivalConfig,
    SyntheticConfig,
    TrajectoriesConfig,
)
from helpers.core import paths


class StudyConfigError(ValueError):
    """A study YAML that cannot be used, with a message naming file, key and expectation."""


class Study(Section):
    """A validated study configuration (the whole YAML file).

    Examples
    --------
    >>> cfg = load_study("demo")
    >>> isinstance(cfg, Study), cfg.name, cfg.outcomes.primary
    (True, 'demo', 'employment')
    """

    study: StudyMeta
    data: DataConfig
    cohort: CohortConfig = CohortConfig()
    matching: MatchingConfig = MatchingConfig()
    outcomes: OutcomesConfig
    survival: SurvivalConfig = SurvivalConfig()
    trajectories: TrajectoriesConfig = TrajectoriesConfig()
    investment: InvestmentConfig = InvestmentConfig()
    power: PowerConfig = PowerConfig()
    robustness: RobustnessConfig = RobustnessConfig()
    synthetic: SyntheticConfig | None = Field(default=None, description="only for synthetic studies")

    # path of the YAML file it was loaded from (not a YAML key)
    _source: Path | None = None

    @model_validator(mode="after")
    def _cross_checks(self) -> Study:
        defs = self.outcomes.definitions
        if self.outcomes.primary not in defs:
            raise ValueError(
                f"outcomes.primary: {self.outcomes.primary!r} is not one of outcomes.definitions {sorted(defs)}"
            )
        for name, d in defs.items():
            for other in d.of:
                if other not in defs:
                    raise ValueError(f"outcomes.definitions.{name}.of: {other!r} is not a defined outcome")
        keys = [h.key for h in self.outcomes.horizons]
        if len(set(keys)) != len(keys):
            raise ValueError(f"outcomes.horizons: keys must be unique, got {keys}")
        for i, sc in enumerate(self.power.scenarios):
            if sc.outcome not in defs:
                raise ValueError(f"power.scenarios[{i}].outcome: {sc.outcome!r} is not a defined outcome")
            if sc.horizon not in keys:
                raise ValueError(f"power.scenarios[{i}].horizon: {sc.horizon!r} is not one of {keys}")
        if self.data.last_year < self.data.first_year:
            raise ValueError("data.last_year: must not be before data.first_year")
        if self.cohort.age_min > self.cohort.age_max:
            raise ValueError("cohort.age_min: must not exceed cohort.age_max")
        dream = self.data.dream
        has_residence = bool(dream.municipality_prefix or dream.municipality_column or dream.municipality_assumed)
        if (self.cohort.municipality or self.cohort.control_municipalities) and not has_residence:
            raise ValueError(
                "cohort.municipality: the study selects by municipality, but the extract has no municipality data "
                "(data.dream.municipality_prefix, municipality_column and municipality_assumed are all null); name "
                "the residence column(s), state municipality_assumed, or set cohort.municipality: []"
            )
        return self

    # ------------------------------------------------------------------ paths
    @property
    def name(self) -> str:
        """Short name of the study."""
        return self.study.name

    @property
    def source(self) -> Path | None:
        """The YAML file the study was loaded from."""
        return self._source

    @property
    def raw_dir(self) -> Path:
        """Folder of the raw inputs (absolute)."""
        p = Path(self.data.raw_dir)
        return p if p.is_absolute() else paths.PROJECT_ROOT / p

    @property
    def processed_dir(self) -> Path:
        """``data/processed/<study>``."""
        return paths.processed_dir(self.name)

    @property
    def report_dir(self) -> Path:
        """``reports/<study>``."""
        return paths.report_dir(self.name)

    def dream_files(self) -> list[Path]:
        """Absolute paths of the DREAM extract file(s); ``{year}`` patterns expanded to the files that exist."""
        entries = self.data.dream.path if isinstance(self.data.dream.path, list) else [self.data.dream.path]
        files: list[Path] = []
        for entry in entries:
            if "{year}" in entry:
                # the years that have a file (an extract may cover part of the window; gaps are an ingest error);
                # every year's name when none exists, so that the missing file is named
                every = [self.raw_dir / entry.format(year=y) for y in range(self.data.first_year, self.data.last_year + 1)]
                files += [f for f in every if f.exists()] or every
            else:
                files.append(self.raw_dir / entry)
        return files

    def form_file(self, form: str) -> Path | None:
        """Absolute path of a project form (``screening``, ``questionnaires``, ``events``, ``costs``).

        With ``data.forms.inclusion_list`` the screening form is built from that list, so
        ``form_file("screening")`` is the inclusion list.
        """
        if form == "screening" and self.data.forms.inclusion_list is not None:
            return self.raw_dir / self.data.forms.inclusion_list.path
        name = getattr(self.data.forms, form)
        return None if name is None else self.raw_dir / name

    def event_outcomes_without_form(self) -> list[str]:
        """Outcome definitions that count project-form events although the study has no events form."""
        if self.data.forms.events is not None:
            return []
        return sorted(name for name, d in self.outcomes.definitions.items() if d.events)

    def form_key(self, form: str) -> str:
        """The YAML key that names a form's file (for messages)."""
        if form == "screening" and self.data.forms.inclusion_list is not None:
            return "data.forms.inclusion_list.path"
        return f"data.forms.{form}"

    def input_files(self) -> list[Path]:
        """Every raw input file the study names."""
        forms = [self.form_file(f) for f in ("screening", "questionnaires", "events", "costs")]
        return self.dream_files() + [f for f in forms if f is not None]

    def check_inputs(self) -> None:
        """Raise :class:`StudyConfigError` naming the first raw file that does not exist."""
        where = self._source or paths.study_file(self.name)
        for f in self.dream_files():
            if not f.exists():
                raise StudyConfigError(
                    f"{_rel(where)}: data.dream.path: file {_rel(f)} does not exist; "
                    f"expected the DREAM extract there (for the synthetic demo run `make data STUDY={self.name}`)"
                )
        for form in ("screening", "questionnaires", "events", "costs"):
            f = self.form_file(form)
            if f is not None and not f.exists():
                raise StudyConfigError(
                    f"{_rel(where)}: {self.form_key(form)}: file {_rel(f)} does not exist; "
                    f"set it to null if the study has no {form} form"
                )

    def label(self, da: str, en: str) -> str:
        """Return ``da`` or ``en`` according to the study's language."""
        return da if self.study.language == "da" else en

    def resolved(self) -> dict[str, Any]:
        """Every parameter, defaults included, as plain data (for the report and manifest)."""
        return self.model_dump(mode="json")


def _rel(path: str | Path) -> str:
    """``path`` relative to the repository root when inside it, else as given."""
    return paths.relative(path)


def _format_error(source: Path, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        kind = e["type"]
        value = e.get("input")
        if kind == "extra_forbidden":
            msg = f"unknown key {loc!r}; check the spelling against docs/study-yaml.md"
        elif kind == "missing":
            msg = f"{loc}: required key is missing"
        else:
            shown = repr(value)
            if len(shown) > 60:
                shown = shown[:57] + "..."
            text = e["msg"].removeprefix("Value error, ")
            msg = f"{loc}: {text} (got {shown})" if kind != "value_error" else text
        lines.append(msg)
    head = f"{_rel(source)}: invalid study configuration"
    if len(lines) == 1:
        return f"{head}: {lines[0]}"
    return head + ":\n  - " + "\n  - ".join(lines)


def load_study(name_or_path: str | os.PathLike) -> Study:
    """Load and validate a study YAML.

    Parameters
    ----------
    name_or_path : str or path
        A study name (``"demo"`` -> ``studies/demo.yaml``) or a path to a YAML file.

    Returns
    -------
    Study
        The validated configuration, with defaults filled in.

    Raises
    ------
    StudyConfigError
        If the file is missing, is not YAML, or any key is unknown, missing or of the wrong type.

    Examples
    --------
    >>> cfg = load_study("demo")
    >>> cfg.study.language, cfg.study.min_cell, cfg.matching.ratio
    ('en', 5, 1)
    >>> load_study("no-such-study")
    Traceback (most recent call last):
    ...
    helpers.config.study.StudyConfigError: studies/no-such-study.yaml: study file not found; known studies: ...
    """
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        source = candidate if candidate.is_absolute() else Path.cwd() / candidate
    else:
        source = paths.study_file(str(name_or_path))
    if not source.exists():
        known = sorted(p.stem for p in paths.STUDIES_DIR.glob("*.yaml"))
        raise StudyConfigError(f"{_rel(source)}: study file not found; known studies: {', '.join(known)}")
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise StudyConfigError(f"{_rel(source)}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise StudyConfigError(f"{_rel(source)}: expected a mapping of sections at the top level")
    try:
        study = Study.model_validate(raw)
    except ValidationError as err:
        raise StudyConfigError(_format_error(source, err)) from None
    if study.study.name != source.stem:
        raise StudyConfigError(
            f"{_rel(source)}: study.name: {study.study.name!r} must equal the file name {source.stem!r}"
        )
    study._source = source
    return study


def schema_markdown() -> str:
    """Markdown reference of every study-YAML key (type, default, description)."""
    lines = [
        "# Study YAML reference",
        "",
        "Generated from `src/helpers/config/schema/` by `python -m helpers.config --docs`; do not edit by hand.",
        "Unknown keys are errors. See `studies/demo.yaml` for a complete example.",
        "",
    ]

    def type_name(annotation) -> str:
        text = str(annotation) if getattr(annotation, "__args__", None) else getattr(annotation, "__name__", str(annotation))
        text = re.sub(r"helpers\.config\.schema\.\w+\.", "", text)
        return text.replace("typing.", "").replace("|", "or")

    def walk(model: type[BaseModel], prefix: str) -> None:
        rows = []
        nested = []
        for name, field in model.model_fields.items():
            key = f"{prefix}{name}"
            ann = field.annotation
            sub = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
            if sub is None:
                args = getattr(ann, "__args__", ())
                sub = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
                if sub is None:
                    for a in args:
                        inner = getattr(a, "__args__", ())
                        sub = next((b for b in inner if isinstance(b, type) and issubclass(b, BaseModel)), sub)
            if sub is not None and sub is not model:
                nested.append((key, sub))
            default = "required" if field.is_required() else repr(field.get_default(call_default_factory=True))
            if sub is not None and not field.is_required():
                default = "(section defaults)" if field.get_default() is not None else "None"
            desc = (field.description or "").replace("|", "\\|")
            rows.append(f"| `{key}` | `{type_name(ann)}` | {default.replace('|', chr(92) + '|')} | {desc} |")
        lines.extend(["| key | type | default | meaning |", "|---|---|---|---|", *rows, ""])
        for key, sub in nested:
            doc = (sub.__doc__ or "").strip().splitlines()[0] if sub.__doc__ else ""
            lines.extend([f"## `{key}`", "", doc, ""])
            walk(sub, f"{key}.")

    walk(Study, "")
    return "\n".join(lines)

