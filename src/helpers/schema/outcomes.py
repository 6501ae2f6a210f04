"""``outcomes:`` section: outcome definitions, horizons, exits, multiplicity, questionnaires."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from helpers.schema.base import Labels, Section


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
    - ``any_of``: at least one of the outcomes in ``of``.
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
    definitions: dict[str, OutcomeDefinition]
    questionnaires: QuestionnaireConfig = QuestionnaireConfig()
