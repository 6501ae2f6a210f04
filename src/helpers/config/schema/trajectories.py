"""``trajectories:`` section: state distributions over the weeks around the index week, and weeks in each state."""

from __future__ import annotations

from pydantic import Field, field_validator

from helpers.config.schema.base import Section

#: Analysis states of the trajectories, in stacking order; the mapping from DREAM codes is in
#: :mod:`helpers.outcomes.trajectories` (``employed`` and ``no_wage`` are self-supported weeks with and
#: without employment in the month; ``exit`` is emigration, state pension and death).
TRAJECTORY_STATES = (
    "employed", "no_wage", "cash_benefit", "education_benefit", "ressourceforloeb", "sickness", "flexjob",
    "disability_pension", "other_benefit", "exit",
)  # the order, no_wage after employed: each pair of neighbours is a family for disclosure merging

#: The states of self-supported weeks (the study's self-support rule decides, not the code).
SELF_SUPPORT_STATES = ("employed", "no_wage")


class TrajectoriesConfig(Section):
    """Who is in which state in each week from before the index week to the end of follow-up, and for how many weeks."""

    enabled: bool = Field(default=True, description="run the trajectories stage (notebook 04); false skips it")
    weeks_before: int = Field(default=156, ge=0, le=1040,
                              description="weeks before the index week shown in the state distribution")
    weeks_after: int | None = Field(
        default=None, ge=1,
        description="last week after the index week shown; null = to the end of follow-up (the last week in "
                    "which every group still has at least min_cell persons observed)")
    grid_weeks: int = Field(
        default=4, ge=1, le=13,
        description="disclosure: the distribution and the self-support difference are shown on this grid of weeks "
                    "(weeks -weeks_before, ..., 0, ..., as for the survival curves); 1 shows every week")
    years: list[int] = Field(
        default=[1, 2, 5],
        description="windows (years of 52 weeks from the index week) for weeks in each state, after and before the "
                    "index week; the investment's horizon_years is added so that the investment can cite it")
    bootstrap_draws: int = Field(
        default=2000, ge=0, le=100_000,
        description="cluster bootstrap over matched sets (seed + 2) for every interval of the stage; 0 = no intervals")
    code_states: dict[int, str] = Field(
        default={}, description="DREAM code -> analysis state, overriding the default mapping (e.g. {651: "
                                "education_benefit} to show SU with uddannelseshjælp)")

    @field_validator("years")
    @classmethod
    def _years(cls, v: list[int]) -> list[int]:
        if not v or any(y < 1 or y > 20 for y in v):
            raise ValueError("give at least one window, each 1-20 years")
        return sorted(set(v))

    @field_validator("code_states")
    @classmethod
    def _code_states(cls, v: dict[int, str]) -> dict[int, str]:
        allowed = [s for s in TRAJECTORY_STATES if s not in SELF_SUPPORT_STATES]
        bad = {c: s for c, s in v.items() if s not in allowed}
        if bad:
            raise ValueError(f"analysis state(s) {bad} cannot be given to a code; use one of {allowed} (a code "
                             "counts as self-support through data.category_overrides: {code: self_support})")
        out_of_range = [c for c in v if not 0 <= int(c) < 1000]
        if out_of_range:
            raise ValueError(f"codes {out_of_range} are not DREAM codes (0-999)")
        return v

    def windows(self, investment_years: int | None = None) -> list[int]:
        """The windows in years: :attr:`years` plus the investment's observed horizon."""
        extra = {int(investment_years)} if investment_years else set()
        return sorted(set(self.years) | extra)
