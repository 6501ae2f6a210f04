"""Stage 04: time to lasting self-support (Kaplan-Meier, Cox, competing risks, restricted mean time).

:func:`run` reads the cohort and the weekly (and, when employment is required, monthly)
store, builds the time-to-event frame (:func:`helpers.stats.survival.tte.time_to_event`),
runs every estimate (:func:`helpers.stats.survival.analysis.analyse`), writes
``tte.parquet`` and ``survival_results.json`` and returns a :class:`SurvivalResult`.

``survival_results.json`` holds aggregates only, masked where they rest on small counts
(:mod:`helpers.disclosure.survival`); the investment stage and the report's summary read it.
The unmasked :class:`~helpers.stats.survival.analysis.SurvivalAnalysis` rides along on a
fresh result (:attr:`SurvivalResult.analysis`) for the notebook's figures and tables.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, PrivateAttr

from helpers.core import atomic, store
from helpers.disclosure import survival as disclosure
from helpers.stages.base import StageResult
from helpers.stats.survival.analysis import SEED_OFFSET_AJ, SEED_OFFSET_BOOTSTRAP, SurvivalAnalysis, analyse
from helpers.stats.survival.restricted_mean import percentile_ci
from helpers.stats.survival.tte import requires_employment, time_to_event

#: ``rmst_ci_method`` when the RMST CI is the percentile bootstrap over matched sets.
RMST_CI_BOOTSTRAP = "bootstrap over matched sets (percentile)"
#: ``rmst_ci_method`` when it is the normal-theory Greenwood interval (no usable bootstrap).
RMST_CI_GREENWOOD = "Greenwood (independent groups)"
#: Time-to-event frame written next to the result.
TTE_FILE = "tte.parquet"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class Definition(_Model):
    """The time-to-event definitions the stage used (study ``survival:``)."""

    time_origin: str
    lasting_weeks: int
    require_employment: bool
    exits: Literal["censor", "competing"]
    competing_disability_pension: bool
    re_entry_after_emigration: str
    censoring: str
    max_weeks: int | None = None


class EventCounts(_Model):
    """First events of one group; counts 1..min_cell-1 as ``"<min_cell"``."""

    self_support: int | str
    disability_pension: int | str
    exit: int | str
    censored: int | str


class HazardRatio(_Model):
    """Hazard ratio of the sensitivity model (the other handling of the matched sets)."""

    method: Literal["strata", "cluster"]
    hr: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None


class FixedTime(_Model):
    """Cumulative share reaching lasting self-support (1 - KM) at a fixed week; None where masked."""

    weeks: float
    masked: bool
    control: float | None
    intervention: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None


class PHTest(_Model):
    """Scaled-Schoenfeld test of proportional hazards of one covariate (rank transform)."""

    statistic: float | None
    p: float | None


class SeedOffsets(_Model):
    """Offsets added to the study seed (docs/architecture.md, "Randomness")."""

    bootstrap: int
    aalen_johansen: int


class SurvivalResult(StageResult):
    """What stage 04 found; the fields are the keys of ``survival_results.json``.

    Attributes
    ----------
    study : str
    definition : Definition
    n : dict
        Persons per group.
    events : dict of EventCounts
        First events per group (small counts masked).
    hr, hr_ci_low, hr_ci_high, hr_p : float or None
        Cause-specific hazard ratio of lasting self-support, intervention vs control (None when
        not estimable).
    cox_method : {"strata", "cluster"}
    cox_note : str
        The model's remark (covariates left out, convergence), empty when none.
    hr_sensitivity : HazardRatio
        The other method.
    logrank_chi2, logrank_p : float or None
    median_weeks : dict
        Per group, rounded up to the curve grid; None when not reached.
    fixed_times : list of FixedTime
    rmst_horizon_weeks : float
        The YAML horizon, capped at the shorter group's follow-up.
    rmst_masked : bool
        True when a group has fewer than min_cell events before the horizon; the RMST values
        are then None.
    rmst_weeks : dict
        Per group: restricted mean weeks *before* lasting self-support.
    weeks_after_lasting_self_support : dict
        Per group: horizon minus RMST.
    rmst_difference_weeks : float or None
        RMST(control) - RMST(intervention): weeks after reaching lasting self-support gained by
        the intervention (positive favours it).
    rmst_difference_ci_low, rmst_difference_ci_high : float or None
        95% CI: percentile bootstrap over matched sets when usable, else Greenwood.
    rmst_difference_p : float or None
        Greenwood, normal.
    rmst_difference_ci_greenwood : (float, float) or None
    rmst_ci_method : str
        :data:`RMST_CI_BOOTSTRAP` or :data:`RMST_CI_GREENWOOD` (see :attr:`rmst_ci_bootstrap`).
    cif_weeks_after_difference, cif_weeks_after_difference_ci_low, cif_weeks_after_difference_ci_high
        The same quantity from the Aalen-Johansen incidence (competing events not censored),
        bootstrap CI.
    ph_test : dict of PHTest
        Per covariate (rank transform).
    ph_ok : bool
        No covariate with PH-test p < 0.05.
    bootstrap_draws : int
    seed_offsets : SeedOffsets
    """

    FILE = "survival_results.json"

    study: str
    definition: Definition
    n: dict[str, int]
    events: dict[str, EventCounts]
    hr: float | None
    hr_ci_low: float | None
    hr_ci_high: float | None
    hr_p: float | None
    cox_method: Literal["strata", "cluster"]
    cox_note: str
    hr_sensitivity: HazardRatio
    logrank_chi2: float | None
    logrank_p: float | None
    median_weeks: dict[str, float | None]
    fixed_times: list[FixedTime]
    rmst_horizon_weeks: float
    rmst_masked: bool
    rmst_weeks: dict[str, float | None]
    weeks_after_lasting_self_support: dict[str, float | None]
    rmst_difference_weeks: float | None
    rmst_difference_ci_low: float | None
    rmst_difference_ci_high: float | None
    rmst_difference_p: float | None
    rmst_difference_ci_greenwood: tuple[float | None, float | None] | None
    rmst_ci_method: str
    cif_weeks_after_difference: float | None
    cif_weeks_after_difference_ci_low: float | None
    cif_weeks_after_difference_ci_high: float | None
    ph_test: dict[str, PHTest]
    ph_ok: bool
    bootstrap_draws: int
    seed_offsets: SeedOffsets
    _analysis: SurvivalAnalysis | None = PrivateAttr(default=None)

    @property
    def analysis(self) -> SurvivalAnalysis | None:
        """The unmasked analysis (only right after :func:`run` or :func:`summarise`; None after ``load``)."""
        return self._analysis

    @property
    def rmst_ci_bootstrap(self) -> bool:
        """Whether the RMST difference's CI is the matched-set bootstrap (else Greenwood)."""
        return self.rmst_ci_method == RMST_CI_BOOTSTRAP

    def require_analysis(self, what: str) -> SurvivalAnalysis:
        """The analysis, or a clear error naming ``what`` needs it."""
        if self._analysis is None:
            raise ValueError(f"{what} needs the unmasked analysis of stages.survival.run, not a result read back "
                             f"from {self.FILE}")
        return self._analysis


def _num(x):
    """A finite float, or None (missing, NaN or infinite); strings pass through."""
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return x
    return None if not math.isfinite(x) else x


def summarise(analysis: SurvivalAnalysis, study) -> SurvivalResult:
    """The aggregate, masked result of an analysis (the content of ``survival_results.json``).

    The analysis rides along (:attr:`SurvivalResult.analysis`).
    """
    a = analysis
    m = a.min_cell
    counts = a.events
    kinds = ("self_support", "disability_pension", "exit", "censored")
    events = {row["group"]: disclosure.mask_small({k: row[k] for k in kinds}, m) for _, row in counts.iterrows()}
    hr_row = a.cox.row("intervention")
    sens_row = a.cox_sensitivity.row("intervention")
    ph_rank = a.ph[a.ph["transform"] == "rank"] if len(a.ph) else a.ph
    ph_dict = {r["covariate"]: {"statistic": _num(r["statistic"]), "p": _num(r["p"])} for _, r in ph_rank.iterrows()}
    boot_ci = percentile_ci(a.bootstrap["rmst_difference"]) if len(a.bootstrap) else (np.nan, np.nan)
    cif_ci = (percentile_ci(a.bootstrap["cif_weeks_after_difference"]) if len(a.bootstrap) else (np.nan, np.nan))
    use_boot = bool(np.isfinite(boot_ci[0]))
    area = a.cif_weeks_after.set_index("group")["weeks_after"]
    rmst_tab = a.rmst.table.set_index("group")
    small = disclosure.rmst_masked(a.rmst.table, m)
    keys = ("control", "intervention", "difference", "ci_low", "ci_high", "p")
    fixed = [{"weeks": _num(r["time"]), "masked": masked, **{k: (None if masked else _num(r[k])) for k in keys}}
             for (_, r), masked in zip(a.fixed.iterrows(), disclosure.fixed_times_masked(a.tte, a.times, m),
                                       strict=True)]
    med = a.medians.set_index("group")["median"]

    def unless_small(x):
        return None if small else _num(x)

    result = SurvivalResult(
        study=study.name,
        definition=a.definition,
        n={g: int(n) for g, n in counts.set_index("group")["n"].items()},
        events=events,
        hr=_num(hr_row["hr"]), hr_ci_low=_num(hr_row["hr_low"]), hr_ci_high=_num(hr_row["hr_high"]),
        hr_p=_num(hr_row["p"]), cox_method=a.cox.method, cox_note=a.cox.note,
        hr_sensitivity={"method": a.cox_sensitivity.method, "hr": _num(sens_row["hr"]),
                        "ci_low": _num(sens_row["hr_low"]), "ci_high": _num(sens_row["hr_high"]),
                        "p": _num(sens_row["p"])},
        logrank_chi2=_num(a.logrank.chi2), logrank_p=_num(a.logrank.p),
        median_weeks={g: _num(v) for g, v in med.items()},
        fixed_times=fixed,
        rmst_horizon_weeks=a.horizon,
        rmst_masked=small,
        rmst_weeks={g: unless_small(v) for g, v in rmst_tab["rmst"].items()},
        weeks_after_lasting_self_support={g: unless_small(v) for g, v in rmst_tab["weeks_after"].items()},
        rmst_difference_weeks=unless_small(a.rmst.difference),
        rmst_difference_ci_low=unless_small(boot_ci[0] if use_boot else a.rmst.ci_low),
        rmst_difference_ci_high=unless_small(boot_ci[1] if use_boot else a.rmst.ci_high),
        rmst_difference_p=unless_small(a.rmst.p),
        rmst_difference_ci_greenwood=None if small else (_num(a.rmst.ci_low), _num(a.rmst.ci_high)),
        rmst_ci_method=RMST_CI_BOOTSTRAP if use_boot else RMST_CI_GREENWOOD,
        cif_weeks_after_difference=unless_small(area["intervention"] - area["control"]),
        cif_weeks_after_difference_ci_low=unless_small(cif_ci[0]),
        cif_weeks_after_difference_ci_high=unless_small(cif_ci[1]),
        ph_test=ph_dict,
        ph_ok=bool(all((v["p"] is None) or v["p"] >= 0.05 for v in ph_dict.values())),
        bootstrap_draws=int(len(a.bootstrap)),
        seed_offsets={"bootstrap": SEED_OFFSET_BOOTSTRAP, "aalen_johansen": SEED_OFFSET_AJ},
    )
    result._analysis = a
    return result


def run(study, *, write: bool = True) -> SurvivalResult:
    """Time to lasting self-support of the study's cohort: every estimate, masked aggregates saved.

    Parameters
    ----------
    study : Study
    write : bool
        Save ``tte.parquet`` and ``survival_results.json`` in the study's processed folder.

    Returns
    -------
    SurvivalResult
        With the unmasked analysis attached (:attr:`SurvivalResult.analysis`).
    """
    cohort = store.load_cohort(study)
    persons = cohort["person_id"].unique()
    weekly = store.load_weekly(study, first_week=int(cohort["index_week"].min()), person_ids=persons)
    monthly = store.load_monthly(study, person_ids=persons) if requires_employment(study) else None
    tte = time_to_event(cohort, weekly, monthly, study)
    if write:
        atomic.write_parquet(study.processed_dir / TTE_FILE, tte)
    result = summarise(analyse(tte, study, cohort), study)
    if write:
        result.save(study.processed_dir)
    return result
