"""``outcomes:`` section: outcome definitions, horizons, exits, multiplicity, questionnaires."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from helpers.config.schema.base import Labels, Section
from helpers.core.codes import CATEGORIES, load_code_table

#: Pseudo-category of outcome definitions: a self-supported week with employment in its month.
EMPLOYED = "employed"


class Horizon(Section):
    """A follow-up point, in weeks after each person's index week."""

    key: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    weeks: int = Field(ge=1)
    label: Labels


class OutcomeDefinition(Section):
    """One binary outcome.

    ``kind``:

    - ``status_at``: the person's status in the horizon week matches.
    - ``ever_in_window``: any week from the index week to the horizon matches (or a form event).
    - ``any_of``: at least one of the outcomes in ``of`` (its own criteria, if any, act as one
      more ``ever_in_window`` component).

    ``events`` name project-form events; ``"afklaring:job"`` restricts to one ``detail``.
    The exact rules are in :mod:`helpers.outcomes.definitions`.
    """

    label: Labels
    kind: Literal["status_at", "ever_in_window", "any_of"]
    categories: list[str] = Field(default=[], description="analysis categories, incl. 'employed'")
    subcategories: list[str] = []
    activities: list[str] = []
    codes: list[int] = []
    lasting_weeks: int | None = Field(default=None, description="require a run of this many matching weeks")
    events: list[str] = Field(default=[], description="project-form events that count (e.g. praktik_start)")
    of: list[str] = []
    report: bool = Field(default=True, description="False for building blocks not shown as their own rows")


class QuestionnaireConfig(Section):
    """Questionnaire measures (0-10 scales) at baseline and follow-up."""

    measures: list[str] = ["work_ability", "health", "social_situation"]
    raters: list[str] = ["self", "caseworker"]
    baseline: str = "baseline"
    followup: str = "followup"
    scale_min: int = 0
    scale_max: int = 10


class OutcomesConfig(Section):
    """All binary outcomes and how they are tested."""

    primary: str
    horizons: list[Horizon]
    exit_rule: Literal["exclude", "failure"] = Field(
        default="exclude",
        description="died/emigrated/state pension before a horizon: excluded from N, or counted as no outcome",
    )
    multiplicity: Literal["holm", "bonferroni", "none"] = "holm"
    headline: Literal["clustered", "classic"] = Field(
        default="clustered",
        description="headline difference and test of a matched design: clustered = difference with a standard "
        "error clustered by matched set and a t test, for 1:1 pairs as for k:1 (chosen by simulation, "
        "docs/headline-estimator.md); classic = 1:1 pairs lead with Newcombe's unpaired interval and Fisher's "
        "exact test (other designs: clustered). The other analyses stay in the table",
    )
    estimates_with_masked_counts: bool = Field(
        default=False,
        description="show differences/ratios/p in rows whose counts are masked (they reveal the masked count)",
    )
    definitions: dict[str, OutcomeDefinition]
    questionnaires: QuestionnaireConfig = QuestionnaireConfig()

    @model_validator(mode="after")
    def _check_definitions(self) -> OutcomesConfig:
        table = load_code_table()
        known = {
            "categories": set(CATEGORIES) | {EMPLOYED},
            "subcategories": set(table["subcategory"]) - {""},
            "activities": set(table["activity"]) - {""},
        }
        for name, d in self.definitions.items():
            key = f"outcomes.definitions.{name}"
            for field, allowed in known.items():
                bad = [v for v in getattr(d, field) if v not in allowed]
                if bad:
                    raise ValueError(f"{key}.{field}: unknown {bad}; use some of {sorted(allowed)}")
            bad_codes = [c for c in d.codes if not 0 <= c <= 999]
            if bad_codes:
                raise ValueError(f"{key}.codes: {bad_codes} are not DREAM codes (0-999)")
            weekly = bool(d.categories or d.subcategories or d.activities or d.codes)
            if d.kind == "any_of" and not d.of:
                raise ValueError(f"{key}: kind any_of needs 'of' (a list of other outcomes)")
            if d.kind != "any_of" and d.of:
                raise ValueError(f"{key}.of: only kind any_of combines other outcomes")
            if d.kind != "any_of" and not (weekly or d.events):
                raise ValueError(f"{key}: give categories, subcategories, activities, codes or events")
            if d.lasting_weeks is not None and (d.lasting_weeks < 1 or not weekly):
                raise ValueError(f"{key}.lasting_weeks: needs weekly criteria and a value of at least 1")
        for name in self.definitions:
            path = self._cycle_from(name, [])
            if path:
                raise ValueError(f"outcomes.definitions.{name}.of: circular any_of ({' -> '.join(path)})")
        return self

    def _cycle_from(self, name: str, stack: list[str]) -> list[str]:
        if name in stack:
            return [*stack, name]
        d = self.definitions.get(name)
        for other in d.of if d is not None else []:
            path = self._cycle_from(other, [*stack, name])
            if path:
                return path
        return []
