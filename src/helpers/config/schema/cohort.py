"""``cohort:`` and ``matching:`` sections: eligibility at the index week and control selection."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from helpers.config.schema.base import Section
from helpers.core.codes import CATEGORIES, MAX_CODE, load_code_table

#: Covariates that :func:`helpers.cohort.register.covariates_at` computes at each index week.
NUMERIC_COVARIATES: tuple[str, ...] = (
    "age",
    "sex",
    "weeks_transfer_52",
    "weeks_transfer_104",
    "weeks_transfer_156",
    "weeks_cash_benefit_156",
    "weeks_cash_benefit_26",
    "weeks_cash_benefit_52",
    "current_spell_weeks",
    "weeks_employed_156",
    "active_measure",
)
CATEGORICAL_COVARIATES: tuple[str, ...] = ("benefit_category", "benefit_subcategory", "activity", "municipality")
KNOWN_COVARIATES: tuple[str, ...] = NUMERIC_COVARIATES + CATEGORICAL_COVARIATES


#: Screening-form exclusion reasons in the order they are logged (docs/architecture.md).
SCREENING_REASONS: tuple[str, ...] = (
    "not_eligible_age",
    "exempt_from_activation",
    "in_medical_treatment",
    "other_project",
    "expected_clarified_3m",
    "declined",
)


def _check_names(names, where: str) -> None:
    unknown = [n for n in names if n not in KNOWN_COVARIATES]
    if unknown:
        raise ValueError(f"{where}: unknown covariate(s) {unknown}; use any of {list(KNOWN_COVARIATES)}")


class ControlExclusion(Section):
    """A register proxy of a screening exclusion reason, applied to the control candidates.

    A candidate (person, index week) is excluded when at least ``min_weeks`` of the
    ``weeks_before`` weeks before the index week carry a selected code: any of ``codes``
    (DREAM codes, or ranges ``"890-899"``) or any code of ``categories``, ``subcategories``
    or ``activities`` (``helpers/data/dream_codes.csv``). Seed 000 screens out persons "i
    lægelig behandling eller udredning" and persons who take part "i et andet
    projekt/aktivitet/forløb"; the register cannot see either, so a rule names the codes that
    come closest (e.g. sygedagpenge 890-899 and jobafklaring 785 for medical treatment).
    """

    reason: str = Field(description="the screening exclusion reason the rule mirrors (SCREENING_REASONS)")
    codes: list[int | str] = Field(default=[], description="DREAM codes or ranges such as '890-899'")
    categories: list[str] = Field(default=[], description="code categories (e.g. sickness)")
    subcategories: list[str] = Field(default=[], description="code subcategories (e.g. jobafklaringsforloeb)")
    activities: list[str] = Field(default=[], description="activity types (e.g. virksomhedspraktik_privat)")
    weeks_before: int = Field(ge=1, description="window: the weeks index - weeks_before .. index - 1")
    min_weeks: int = Field(default=1, ge=1, description="weeks with a selected code in the window that exclude")

    @model_validator(mode="after")
    def _known(self) -> ControlExclusion:
        if self.reason not in SCREENING_REASONS[1:]:
            raise ValueError(f"cohort.control_exclusions: reason {self.reason!r} is not a screening exclusion reason; "
                             f"use one of {list(SCREENING_REASONS[1:])} (not_eligible_age is the age criterion)")
        self.code_list()
        table = load_code_table()
        for name, known in (("categories", set(CATEGORIES)), ("subcategories", set(table["subcategory"]) - {""}),
                            ("activities", set(table["activity"]) - {""})):
            unknown = [v for v in getattr(self, name) if v not in known]
            if unknown:
                raise ValueError(f"cohort.control_exclusions ({self.reason}): unknown {name} {unknown}; "
                                 f"known: {sorted(known)}")
        if not (self.codes or self.categories or self.subcategories or self.activities):
            raise ValueError(f"cohort.control_exclusions ({self.reason}): select codes, categories, subcategories "
                             "or activities")
        if self.min_weeks > self.weeks_before:
            raise ValueError(f"cohort.control_exclusions ({self.reason}): min_weeks ({self.min_weeks}) exceeds "
                             f"weeks_before ({self.weeks_before})")
        return self

    def code_list(self) -> list[int]:
        """``codes`` with the ranges expanded, sorted.

        Raises
        ------
        ValueError
            A code outside 1..999 or a range that is not ``"low-high"`` with low <= high.
        """
        out: set[int] = set()
        for item in self.codes:
            text = str(item).strip()
            lo, sep, hi = text.partition("-")
            try:
                a, b = (int(lo), int(hi)) if sep else (int(text), int(text))
            except ValueError:
                raise ValueError(f"cohort.control_exclusions ({self.reason}): code {item!r} is not a code or a "
                                 "range 'low-high'") from None
            if not (0 < a <= b < MAX_CODE):
                raise ValueError(f"cohort.control_exclusions ({self.reason}): code {item!r} is outside "
                                 f"1..{MAX_CODE - 1} or its range is reversed")
            out.update(range(a, b + 1))
        return sorted(out)


class CohortConfig(Section):
    """Eligibility rules, applied at each person's index week (seed 000's criteria)."""

    municipality: list[int] = Field(default=[], description="residence municipality codes (empty = any)")
    age_min: int = 18
    age_max: int = 65
    min_weeks_on_transfers: int = Field(default=52, ge=0, description="weeks on any transfer in the lookback")
    transfers_lookback_weeks: int = Field(default=52, ge=1)
    max_weeks_cash_benefit: int | None = Field(default=260, description="at most this many weeks on cash benefit")
    cash_benefit_lookback_weeks: int = Field(default=520, ge=1)
    target_subcategories: list[str] = Field(
        default=["kontanthjaelp", "uddannelseshjaelp", "ressourceforloeb"],
        description="benefit at the index week (code subcategories)",
    )
    cash_benefit_subcategories: list[str] | None = Field(
        default=None,
        description="code subcategories counted as 'cash benefit' weeks (null = every code of the "
        "cash_benefit category: kontanthjælp, uddannelseshjælp, integrationsydelse)",
    )
    control_municipalities: list[int] | None = Field(
        default=None,
        description="municipalities controls may live in (null = the same as cohort.municipality); e.g. "
        "neighbouring municipalities when the study municipality alone has too few eligible persons",
    )
    benefit_weeks: Literal["before", "before_and_index"] = Field(
        default="before_and_index",
        description="weeks in which a person must be on a target benefit: the week before the index week, "
        "or that week and the index week itself (a control must not have left benefits in the index week)",
    )
    index_from: Literal["inclusion_date"] = "inclusion_date"
    programme_weeks: int = Field(default=52, ge=1, description="length of the intervention (end of programme = FU)")
    intervention_failing_criteria: Literal["keep", "exclude"] = Field(
        default="keep",
        description="intervention persons who fail a register criterion at inclusion: keep them "
        "(intention to treat; counted in the flow diagram) or exclude them",
    )
    controls_from: Literal["not_screened", "not_included"] = Field(
        default="not_screened",
        description="register persons who may be controls: never screened for the programme, "
        "or also screened-but-not-included",
    )
    control_exclusions: list[ControlExclusion] = Field(
        default=[],
        description="register proxies of the screening exclusions, applied to control candidates at their index "
        "week (empty = controls are only 'never screened')",
    )

    @property
    def cash_subcategories(self) -> list[str]:
        """Code subcategories counted as cash-benefit weeks (default: those of the cash_benefit category)."""
        if self.cash_benefit_subcategories:
            return list(self.cash_benefit_subcategories)
        table = load_code_table()
        return list(dict.fromkeys(table.loc[table["category"] == "cash_benefit", "subcategory"]))



class MatchingConfig(Section):
    """How controls are drawn from the register pool at each intervention person's index week."""

    method: Literal["exact", "nearest"] = Field(
        default="exact",
        description="exact: seeded random draw within strata; nearest: greedy nearest neighbour on the propensity score",
    )
    ratio: int = Field(default=1, ge=1, description="controls per intervention person (1:k)")
    replace: bool = Field(default=False, description="may a control serve in several matched sets")
    caliper: float | None = Field(
        default=0.2, gt=0, description="caliper in SDs of the propensity-score distance over all units "
        "(nearest method; null = none)"
    )
    distance: Literal["logit", "ps", "mahalanobis"] = Field(
        default="logit",
        description="nearest method: match on the logit of the propensity score (Austin 2011), on the score "
        "(MatchIt's default), or on the Mahalanobis distance of the covariates (pooled within-group "
        "covariance; the caliper then applies to the logit propensity score, as MatchIt's mahvars)",
    )
    exact: list[str] = Field(default=[], description="covariates matched exactly (both methods)")
    strata: dict[str, list[float]] = Field(
        default={}, description="covariate -> band edges for exact matching on strata"
    )
    covariates: list[str] = Field(
        default=[
            "age",
            "sex",
            "weeks_transfer_52",
            "weeks_transfer_104",
            "weeks_transfer_156",
            "weeks_cash_benefit_156",
            "weeks_employed_156",
        ],
        description="covariates of the propensity-score model and of the balance table",
    )
    balance_covariates: list[str] | None = Field(
        default=None,
        description="covariates shown in balance tables (null = covariates + benefit_subcategory + active_measure)",
    )
    order: Literal["largest", "smallest", "random", "data"] = Field(
        default="largest",
        description="order in which intervention persons pick controls (largest/smallest propensity score; "
        "the exact method uses a seeded random order unless 'data')",
    )
    allow_unmatched: bool = Field(
        default=False,
        description="continue when some intervention persons get no control (logged in the flow diagram); "
        "false stops with an error",
    )
    smd_threshold: float = 0.1

    @model_validator(mode="after")
    def _known_covariates(self) -> MatchingConfig:
        _check_names(self.covariates, "matching.covariates")
        _check_names(self.exact, "matching.exact")
        _check_names(list(self.strata), "matching.strata")
        if self.balance_covariates is not None:
            _check_names(self.balance_covariates, "matching.balance_covariates")
        for name, edges in self.strata.items():
            if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ValueError(f"matching.strata.{name}: band edges must be at least two increasing numbers, got {edges}")
            if name in CATEGORICAL_COVARIATES:
                raise ValueError(f"matching.strata.{name}: a categorical covariate is matched with matching.exact")
        return self

    @property
    def balance_list(self) -> list[str]:
        """Covariates shown in balance tables."""
        if self.balance_covariates is not None:
            return list(self.balance_covariates)
        extra = [c for c in ("benefit_subcategory", "active_measure") if c not in self.covariates]
        return list(self.covariates) + extra
