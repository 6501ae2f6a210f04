"""Stage 05: does the programme pay? Savings, costs, NPV, payback, break-even and sensitivity by actor.

:func:`run` reads the cohort (:func:`helpers.core.store.load_cohort`), the weekly and monthly
store and the costs, and the survival stage's RMST difference
(:class:`~helpers.stages.survival.SurvivalResult`, for a cross-check); runs the realised
calculation (:func:`helpers.investment.analysis.analyse`) and, where the study has one, the
ex-ante projection; writes ``investment_results.json`` and returns an
:class:`InvestmentResult`.

The result file keeps the content ``investment_results.json`` always had (the council's
page and the report's summary read it): NPV per actor, the per-actor summary, settings,
break-even, Monte Carlo, tornado, the RMST cross-check, the notes (in English), and with
per-code pricing the public balance by actor and year, the unpriced codes, the tax rates
and the earnings assumption. The unmasked :class:`~helpers.investment.analysis.InvestmentAnalysis`
rides along on a fresh result (:attr:`InvestmentResult.analysis`) for the notebook's tables
and figures.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from helpers.core.i18n import tr
from helpers.investment import balance as BAL
from helpers.investment.analysis import InvestmentAnalysis, analyse, load_cohort, parse_rmst
from helpers.investment.notes import Note
from helpers.investment.projection import ProjectionAnalysis, analyse_projection
from helpers.stages.base import StageMissing, StageResult, StageResultError
from helpers.stages.survival import SurvivalResult


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class NPV(_Model):
    """Net present value of one actor with its bootstrap interval (DKK)."""

    estimate: float
    ci_low: float | None
    ci_high: float | None


class ActorSummary(_Model):
    """Present values, NPV, return per krone and payback of one actor (DKK; years after the index week)."""

    savings: float
    costs: float
    net: float
    savings_pv: float
    costs_pv: float
    npv: float
    npv_observed: float
    return_per_krone: float | None
    payback_year: float | None
    payback_year_pv: float | None
    npv_low: float | None
    npv_high: float | None
    return_low: float | None
    return_high: float | None
    p_npv_positive_bootstrap: float | None
    payback_low: float | None
    payback_high: float | None


class SummaryRow(ActorSummary):
    """:class:`ActorSummary` as a row with its ``actor`` (the ``summary`` list)."""

    actor: str


class Settings(_Model):
    """The settings the calculation ran with (study ``investment:``, seeds)."""

    horizon_years: int
    extrapolate_years: int
    retention: float
    discount_steps: list[tuple[float | None, float]]
    refusion: bool
    refusion_history_weeks: int
    price_year: int
    cost_bearer: str
    bootstrap_draws: int
    bootstrap_seed: int
    monte_carlo_draws: int
    monte_carlo_seed: int
    level: float
    sensitivity_actor: str
    pricing: Literal["category", "code"]


class BreakEvenRow(_Model):
    """Extra persons in lasting self-support an actor bearing costs needs to break even."""

    actor: str
    costs_pv: float
    pv_per_person: float | None
    persons_needed: float | None
    persons_needed_low: float | None
    persons_needed_high: float | None
    share_of_participants: float | None
    observed_equivalent: float | None
    observed_equivalent_low: float | None
    observed_equivalent_high: float | None


class MonteCarloSummary(_Model):
    """The Monte Carlo of the sensitivity actor's NPV (keys as written: ``npv_q2.5`` ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants", serialize_by_alias=True,
                              validate_by_name=True, validate_by_alias=True)

    draws: int
    seed: int
    p_npv_positive: float | None
    npv_mean: float | None
    npv_q2_5: float | None = Field(alias="npv_q2.5")
    npv_q50: float | None
    npv_q97_5: float | None = Field(alias="npv_q97.5")


class TornadoRow(_Model):
    """One input of the one-way sensitivity (labels from the catalogue, ``investment.parameter.<parameter>``)."""

    parameter: str
    label_en: str
    label_da: str
    low: float | None
    high: float | None
    base: float | None
    npv_low: float | None
    npv_high: float | None
    npv_base: float | None
    swing: float | None


class RmstCrossCheck(_Model):
    """The survival analysis' RMST difference priced at the controls' weekly cost, against the savings."""

    rmst_difference_weeks: float
    ci_low_weeks: float | None
    ci_high_weeks: float | None
    years: int
    weekly_control_cost: float
    savings_from_rmst: float
    savings_from_rmst_low: float | None
    savings_from_rmst_high: float | None
    savings_observed: float


class BalanceRow(_Model):
    """One actor and year of the public balance (:func:`helpers.investment.balance.actor_balance`), DKK."""

    year: int
    actor: str
    observed: bool
    gross_benefit_savings: float
    lost_tax_on_benefits: float
    gained_tax_on_earnings: float
    savings: float
    programme_cost: float
    net: float
    discount_factor: float
    net_pv: float
    cumulative_net: float
    cumulative_net_pv: float
    cumulative_net_pv_low: float | None
    cumulative_net_pv_high: float | None


class ScenarioRow(_Model):
    """One scale-up scenario and actor (:func:`helpers.investment.scenarios.run_scenarios`)."""

    scenario: str
    actor: str
    persons_per_year: int
    years: int
    persons: int
    cost_per_person: float
    effect_scale: float
    horizon_years: int
    costs: float
    savings_pv: float
    costs_pv: float
    npv: float
    npv_low: float | None
    npv_high: float | None
    p_npv_positive: float | None
    payback_year: float | None


class UnpricedCode(_Model):
    """A code met in follow-up without a price, with person-weeks and persons per group (unmasked counts)."""

    code: int
    benefit_en: str
    benefit_da: str
    reason: str
    person_weeks_intervention: int
    person_weeks_control: int
    persons_intervention: int
    persons_control: int


class EarningsAssumption(_Model):
    """Earnings of a week in work: hourly wage x hours x the month's employment degree."""

    hourly_wage_dkk: float
    hours_per_week: float


class TaxRatesUsed(_Model):
    """The income-tax rates of the study municipality and year."""

    year: int
    municipality: int
    am_bidrag: float
    bundskat: float
    kommuneskat: float
    personfradrag: float


#: Keys ``investment_results.json`` holds only with per-code pricing.
CODE_ONLY = frozenset({"unpriced_codes", "earnings", "tax"})


class InvestmentResult(StageResult):
    """What stage 05 found; the fields are the keys of ``investment_results.json``.

    Attributes
    ----------
    study : str
    npv : dict of NPV
        Per actor (municipality, state, public).
    actors : dict of ActorSummary
    horizon_total_years : int
        Observed plus extrapolated years.
    p_npv_positive : float or None
        Monte Carlo P(NPV > 0) of ``settings.sensitivity_actor``.
    settings : Settings
    n_intervention, n_control : int
    summary : list of SummaryRow
    break_even : list of BreakEvenRow
        Actors bearing costs.
    monte_carlo : MonteCarloSummary
    tornado : list of TornadoRow
        Sorted by swing.
    rmst_cross_check : RmstCrossCheck or None
    notes : list of str
        What the report says about the inputs, in English (:func:`note_text`).
    pricing : {"category", "code"}
    p_npv_positive_by_actor : dict
    balance : list of BalanceRow
        Empty with per-category pricing.
    scenarios : list of ScenarioRow
    unpriced_codes : list of UnpricedCode or None
    earnings : EarningsAssumption or None
    tax : TaxRatesUsed or None
        The last three are written only with per-code pricing (``tax`` is null there when tax
        is not counted).
    """

    FILE = "investment_results.json"

    study: str
    npv: dict[str, NPV]
    actors: dict[str, ActorSummary]
    horizon_total_years: int
    p_npv_positive: float | None
    settings: Settings
    n_intervention: int
    n_control: int
    summary: list[SummaryRow]
    break_even: list[BreakEvenRow]
    monte_carlo: MonteCarloSummary
    tornado: list[TornadoRow]
    rmst_cross_check: RmstCrossCheck | None
    notes: list[str]
    pricing: Literal["category", "code"]
    p_npv_positive_by_actor: dict[str, float | None]
    balance: list[BalanceRow]
    scenarios: list[ScenarioRow]
    unpriced_codes: list[UnpricedCode] | None = None
    earnings: EarningsAssumption | None = None
    tax: TaxRatesUsed | None = None
    _analysis: InvestmentAnalysis | None = PrivateAttr(default=None)
    _projection: ProjectionAnalysis | None = PrivateAttr(default=None)

    def to_json(self) -> str:
        """The result as JSON text; without the per-code keys (:data:`CODE_ONLY`) under per-category pricing."""
        return self.model_dump_json(indent=2, exclude=None if self.pricing == "code" else set(CODE_ONLY))

    @property
    def analysis(self) -> InvestmentAnalysis | None:
        """The unmasked calculation (only right after :func:`run`)."""
        return self._analysis

    @property
    def projection(self) -> ProjectionAnalysis | None:
        """The ex-ante projection, reconciled with the printed table (only right after :func:`run`; None
        when the study has none)."""
        return self._projection

    def require_analysis(self, what: str) -> InvestmentAnalysis:
        """The analysis, or a clear error when the result was read back from its file."""
        if self._analysis is None:
            raise ValueError(f"{what} needs the result of stages.investment.run, not a result read back from "
                             f"{self.FILE}")
        return self._analysis

    def summary_by_actor(self) -> dict[str, SummaryRow]:
        """The summary rows keyed by actor."""
        return {r.actor: r for r in self.summary}


# ------------------------------------------------------------------ from the analysis
def _clean(v):
    """A JSON-ready scalar: non-finite floats become None, numpy scalars Python ones."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    return v


def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None:
        return []
    return [{k: _clean(v) for k, v in r.items()} for r in frame.to_dict("records")]


def note_text(note: Note, language: str) -> str:
    """A note of the calculation in ``language`` (catalogue ``investment.note.<key>``)."""
    return tr(f"investment.note.{note.key}", language, **note.fields)


def unpriced_frame(code_weeks: pd.DataFrame, prices_table: pd.DataFrame) -> pd.DataFrame:
    """The unpriced codes of :func:`helpers.investment.balance.unpriced_codes`, a code missing from the price
    table named and explained from the catalogue (``investment.unpriced.*``); columns of :class:`UnpricedCode`."""
    u = BAL.unpriced_codes(code_weeks, prices_table).copy()
    unknown = ~u["known"].astype(bool)
    for col, key, language in (("benefit_en", "unknown_benefit", "en"), ("benefit_da", "unknown_benefit", "da"),
                               ("reason", "unknown_reason", "en")):
        u[col] = u[col].astype(object).where(~unknown, tr(f"investment.unpriced.{key}", language))
    return u[list(UnpricedCode.model_fields)]


def _balance(analysis: InvestmentAnalysis) -> list[dict]:
    if analysis.balance is None:
        return []
    band = analysis.flows[["year", "actor", "cumulative_net_pv_low", "cumulative_net_pv_high"]]
    return _records(analysis.balance.merge(band, on=["year", "actor"], how="left"))


def _tornado(tornado: pd.DataFrame) -> list[dict]:
    rows = _records(tornado)
    for r in rows:
        r["label_en"] = tr(f"investment.parameter.{r['parameter']}", "en")
        r["label_da"] = tr(f"investment.parameter.{r['parameter']}", "da")
    return rows


def from_analysis(study, analysis: InvestmentAnalysis) -> InvestmentResult:
    """The :class:`InvestmentResult` of a calculation (carrying it)."""
    a = analysis
    by_actor = {r["actor"]: {k: v for k, v in r.items() if k != "actor"} for r in _records(a.summary)}
    fields = {
        "study": study.name,
        "npv": {k: {"estimate": v["npv"], "ci_low": v["npv_low"], "ci_high": v["npv_high"]}
                for k, v in by_actor.items()},
        "actors": by_actor,
        "horizon_total_years": int(a.settings["horizon_years"] + a.settings["extrapolate_years"]),
        "p_npv_positive": _clean(a.monte_carlo.p_positive),
        "settings": {k: v if isinstance(v, (list, tuple)) else _clean(v) for k, v in a.settings.items()},
        "n_intervention": a.n_intervention, "n_control": a.n_control,
        "summary": _records(a.summary),
        "break_even": _records(a.break_even),
        "monte_carlo": {k: _clean(v) for k, v in a.monte_carlo.summary().items()},
        "tornado": _tornado(a.tornado),
        "rmst_cross_check": a.rmst,
        "notes": [note_text(n, "en") for n in a.notes],
        "pricing": a.settings.get("pricing", "category"),
        "p_npv_positive_by_actor": {k: _clean(v) for k, v in a.p_positive_by_actor.items()},
        "balance": _balance(a),
        "scenarios": _records(a.scenarios),
    }
    led = a.ledger
    if led is not None:
        fields["unpriced_codes"] = _records(unpriced_frame(led.code_weeks, led.prices.table))
        fields["earnings"] = {"hourly_wage_dkk": led.earnings.hourly_wage_dkk,
                              "hours_per_week": led.earnings.hours_per_week}
        t = led.tax
        fields["tax"] = None if t is None else {
            "year": t.year, "municipality": t.municipality, "am_bidrag": t.am_bidrag, "bundskat": t.bundskat,
            "kommuneskat": t.kommuneskat, "personfradrag": t.personfradrag}
    result = InvestmentResult.model_validate(fields)
    result._analysis = analysis
    return result


def survival_rmst(study) -> tuple[dict | None, str]:
    """The survival stage's RMST difference for the cross-check (:func:`~helpers.investment.analysis.parse_rmst`),
    or None and why it is missing."""
    try:
        survival = SurvivalResult.load(study)
    except StageMissing:
        return None, "survival_results.json not found"
    except StageResultError as err:
        return None, f"survival_results.json unreadable ({err})"
    return parse_rmst(survival.model_dump())


def run(study, *, write: bool = True) -> InvestmentResult:
    """The realised investment calculation (and the ex-ante projection, where the study has one).

    Parameters
    ----------
    study : Study
    write : bool
        Save ``investment_results.json`` in the study's processed folder.

    Returns
    -------
    InvestmentResult

    Raises
    ------
    helpers.investment.realised.InvestmentInputError
        Missing cohort, no costs, or data that do not cover the horizon.
    """
    rmst, missing = survival_rmst(study)
    analysis = analyse(study, cohort=load_cohort(study), rmst=rmst, rmst_missing=missing)
    result = from_analysis(study, analysis)
    inv = study.investment
    if inv.projection is not None:
        result._projection = analyse_projection(inv.projection, inv.projection.costs_dkk or inv.intervention_cost_total,
                                                inv.discount_rates)
    if write:
        result.save(study.processed_dir)
    return result
