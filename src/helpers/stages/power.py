"""Stage 07: the design's power for the planned effects, for the design that is analysed.

:func:`run` computes, for every planned scenario of the study's ``power:`` plan, the exact and
approximate power of Fisher's test (:func:`helpers.stats.power.design_power`, the reference
the project plans quote) and the power of the headline test of the matched design
(:mod:`helpers.stats.design_power`: the pair-clustered t test of 1:1 pairs, exact; the
weighted clustered test of other designs, Monte Carlo), the chance that disclosure control
masks the point, the power of the survival endpoint when the plan gives one, and, when the
outcome stage has run, the planned shares beside the observed ones. It writes
``power_results.json`` and returns a :class:`PowerResult`.
"""

from __future__ import annotations

import math

import pandas as pd
from pydantic import BaseModel, ConfigDict, PrivateAttr

from helpers.stages.base import StageResult
from helpers.stages.cohort import CohortResult
from helpers.stages.outcomes import OutcomesResult
from helpers.stats import design_power, power

#: Seed offset of the Monte Carlo power (docs/architecture.md, "Randomness").
POWER_SEED_OFFSET = 5


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class PowerRow(_Model):
    """Power of one planned scenario (an outcome at a follow-up point)."""

    outcome: str
    horizon: str
    role: str
    control: float
    intervention: float
    cohen_h: float
    power_arcsine: float
    power_normal: float
    power_fisher: float
    power_fisher_adjusted: float | None = None
    n_arcsine: int | None = None
    n_normal: int | None = None
    n_fisher: int | None = None
    n_fisher_stable: int | None = None
    claim_holds: bool  # the headline test of the analysed design reaches the target power
    power_headline: float
    expected_intervention: float
    expected_control: float
    masked_probability_intervention: float
    masked_probability_control: float


class PlannedVsObserved(_Model):
    """A planned scenario beside what the outcome stage observed (masked as published)."""

    outcome: str
    horizon: str
    planned_control: float
    planned_intervention: float
    observed_control: float | None
    observed_intervention: float | None
    observed_difference: float | None
    ci_low: float | None
    ci_high: float | None
    masked: bool
    planned_difference_in_ci: bool | None


class SurvivalPowerModel(_Model):
    """Power of the survival endpoint (:class:`helpers.stats.design_power.SurvivalPower`)."""

    hazard_ratio: float
    control_event_share: float
    intervention_event_share: float
    expected_events: float
    power: float
    events_needed: float
    source: str


class PowerResult(StageResult):
    """What stage 07 found.

    Attributes
    ----------
    n_per_group, n_control : planned participants and control persons (``power.n_control``,
        default ``matching.ratio`` x participants).
    design : {"pairs", "weighted"}
        The matched design the headline test is computed for.
    headline_test : str
        The test whose power ``power_headline`` is (the outcome stage's headline).
    rows : list of PowerRow
    survival : SurvivalPowerModel or None
    observed : list of PlannedVsObserved (empty before the outcome stage has run)
    unique_controls, control_places : int or None
        From the cohort stage: distinct control persons, and control places in the matched sets
        (more places than persons when matching is with replacement).
    """

    FILE = "power_results.json"

    study: str
    n_per_group: int
    n_control: int
    alpha: float
    target_power: float
    n_secondary_tests: int
    design: str
    headline_test: str
    pair_correlation: float
    monte_carlo_draws: int
    min_cell: int
    rows: list[PowerRow]
    survival: SurvivalPowerModel | None = None
    observed: list[PlannedVsObserved] = []
    unique_controls: int | None = None
    control_places: int | None = None
    _curves: pd.DataFrame | None = PrivateAttr(default=None)

    @property
    def curves(self) -> pd.DataFrame | None:
        """Power curves of :func:`helpers.stats.power.scenario_curves` (only right after :func:`run`)."""
        return self._curves

    def table(self) -> pd.DataFrame:
        """The rows as a data frame (columns of :func:`helpers.stats.power.power_table` plus ``role`` and the design's)."""
        frame = pd.DataFrame([r.model_dump() for r in self.rows])
        for col in ("n_arcsine", "n_normal", "n_fisher", "n_fisher_stable"):
            if col in frame:
                frame[col] = frame[col].astype("Int64")
        if self.n_secondary_tests == 0 and "power_fisher_adjusted" in frame:
            frame = frame.drop(columns="power_fisher_adjusted")
        return frame


def _value(x):
    if x is None or x is pd.NA:
        return None
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def design_of(study) -> tuple[str, str]:
    """(design, headline test) the outcome stage will use for this study's matching."""
    m = study.matching
    if int(m.ratio) == 1 and not m.replace:
        if study.outcomes.headline == "classic":
            return "pairs", "fisher"
        return "pairs", "pair_clustered"
    return "weighted", "weighted_clustered"


def _headline_power(study, design: str, test: str, p0: float, p1: float, n1: int, n0: int, seed: int) -> float:
    cfg = study.power
    if test == "fisher":
        return power.fisher_power(p0, p1, n1, n0, alpha=cfg.alpha)
    if test == "pair_clustered":
        return design_power.pair_clustered_power(p0, p1, n1, correlation=cfg.pair_correlation, alpha=cfg.alpha)
    return design_power.weighted_power(p0, p1, n1, max(1, round(n0 / n1)), alpha=cfg.alpha,
                                       draws=cfg.monte_carlo_draws, seed=seed)


def _observed(study, outcomes: OutcomesResult | None) -> list[PlannedVsObserved]:
    if outcomes is None:
        return []
    out = []
    for sc in study.power.scenarios:
        try:
            r = outcomes.row(sc.outcome, sc.horizon)
        except KeyError:
            continue
        masked = bool(r.masked_int or r.masked_ctl)
        shown = not masked and r.pct_int is not None and r.pct_ctl is not None
        lo, hi = r.headline_lower, r.headline_upper
        planned = sc.intervention - sc.control
        inside = (lo <= planned <= hi) if (shown and lo is not None and hi is not None) else None
        out.append(PlannedVsObserved(
            outcome=sc.outcome, horizon=sc.horizon, planned_control=sc.control, planned_intervention=sc.intervention,
            observed_control=r.pct_ctl / 100 if shown else None, observed_intervention=r.pct_int / 100 if shown else None,
            observed_difference=r.headline_rd if shown else None, ci_low=lo if shown else None,
            ci_high=hi if shown else None, masked=masked, planned_difference_in_ci=inside))
    return out


def from_table(study, table: pd.DataFrame, *, seed: int | None = None, outcomes: OutcomesResult | None = None,
               cohort: CohortResult | None = None) -> PowerResult:
    """A :class:`PowerResult` from a :func:`helpers.stats.power.design_power` table."""
    cfg = study.power
    n1, n0 = int(cfg.n_per_group), power.planned_controls(study)
    design, test = design_of(study)
    seed = study.study.seed + POWER_SEED_OFFSET if seed is None else seed
    mc = study.study.min_cell
    fields = PowerRow.model_fields
    rows = []
    for i, rec in enumerate(table.to_dict("records")):
        p0, p1 = float(rec["control"]), float(rec["intervention"])
        extra = {
            "power_headline": _headline_power(study, design, test, p0, p1, n1, n0, seed + i),
            "expected_intervention": n1 * p1, "expected_control": n0 * p0,
            "masked_probability_intervention": design_power.masking_probability(n1, p1, mc),
            "masked_probability_control": design_power.masking_probability(n0, p0, mc),
        }
        values = {k: _value(v) for k, v in rec.items() if k in fields}
        values["claim_holds"] = bool(extra["power_headline"] >= cfg.target_power)  # for the test that is reported
        rows.append(PowerRow(**values, **extra))
    n_sec = int((table["role"] == "secondary").sum()) if "power_fisher_adjusted" in table else 0
    surv = None
    if cfg.survival is not None:
        sp = design_power.survival_power(n1, n0, cfg.survival.control_event_share, cfg.survival.hazard_ratio,
                                         alpha=cfg.alpha, target_power=cfg.target_power)
        surv = SurvivalPowerModel(hazard_ratio=sp.hazard_ratio, control_event_share=sp.control_event_share,
                                  intervention_event_share=sp.intervention_event_share,
                                  expected_events=sp.expected_events, power=sp.power, events_needed=sp.events_needed,
                                  source=cfg.survival.source)
    ms = cohort.match_summary if cohort is not None else None
    return PowerResult(study=study.name, n_per_group=n1, n_control=n0, alpha=cfg.alpha,
                       target_power=cfg.target_power, n_secondary_tests=n_sec, design=design, headline_test=test,
                       pair_correlation=cfg.pair_correlation, monte_carlo_draws=cfg.monte_carlo_draws, min_cell=mc,
                       rows=rows, survival=surv, observed=_observed(study, outcomes),
                       unique_controls=None if ms is None else ms.n_controls_unique,
                       control_places=None if ms is None else ms.n_control_rows)


def run(study, *, write: bool = True) -> PowerResult:
    """Power of the design for every planned effect, the survival endpoint, and planned vs observed.

    Parameters
    ----------
    study : Study
    write : bool
        Save ``power_results.json`` in the study's processed folder.

    Returns
    -------
    PowerResult
    """
    result = from_table(study, power.design_power(study), outcomes=OutcomesResult.load_or_none(study),
                        cohort=CohortResult.load_or_none(study))
    result._curves = power.scenario_curves(study)
    if write:
        result.save(study.processed_dir)
    return result
