"""The whole survival analysis of a study in one call: :func:`analyse` -> :class:`SurvivalAnalysis`.

Randomness: Aalen-Johansen tie jitter uses ``seed + 4``; the matched-set bootstrap
``seed + 2`` (docs/architecture.md, "Randomness").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.stats.survival.competing import cif_area, cif_at, cif_by_group
from helpers.stats.survival.cox import CoxResult, cox_intervention, ph_test, schoenfeld_bins
from helpers.stats.survival.km import LogRankResult, fixed_time_differences, km_by_group, logrank, medians
from helpers.stats.survival.restricted_mean import RMSTResult, bootstrap_matched_sets, rmst_difference, usable_horizon
from helpers.stats.survival.tte import (
    GROUPS,
    SELF_SUPPORT,
    event_counts,
    follow_up_ticks,
    plotted_range,
    requires_employment,
    risk_table,
)

SEED_OFFSET_BOOTSTRAP = 2
SEED_OFFSET_AJ = 4


@dataclass
class SurvivalAnalysis:
    """Every estimate of stage 04, computed in one place (unmasked; mask before showing)."""

    tte: pd.DataFrame
    events: pd.DataFrame  # event_counts: persons and first events per group
    km: dict
    risk: pd.DataFrame  # risk_table at week 0, the fixed times and yearly up to the curves' end (follow_up_ticks)
    logrank: LogRankResult
    medians: pd.DataFrame
    fixed: pd.DataFrame
    cox: CoxResult
    cox_sensitivity: CoxResult
    ph: pd.DataFrame
    ph_bins: pd.DataFrame  # binned scaled Schoenfeld residuals of the intervention (schoenfeld_bins)
    cif: dict
    cif_table: pd.DataFrame
    rmst: RMSTResult
    cif_weeks_after: pd.DataFrame  # group, weeks_after (integral of the self-support CIF)
    bootstrap: pd.DataFrame
    times: list[float]
    horizon: float
    min_cell: int
    grid: int
    seed: int
    definition: dict


def analyse(tte: pd.DataFrame, study, cohort: pd.DataFrame | None = None) -> SurvivalAnalysis:
    """Run every estimate of stage 04 on a time-to-event frame.

    Parameters
    ----------
    tte : DataFrame
        :func:`helpers.stats.survival.tte.time_to_event` output.
    study : Study
        ``survival`` settings, ``study.seed`` and ``study.min_cell`` (the bin size of the
        Schoenfeld residuals).
    cohort : DataFrame, optional
        The cohort, for the covariates of ``survival.adjust_for``.
    """
    cfg = study.survival
    seed = study.study.seed
    min_cell = study.study.min_cell
    fits = km_by_group(tte)
    longest = float(tte["duration"].max())
    times = [float(t) for t in cfg.times if t <= longest]
    horizon = usable_horizon(tte, cfg.rmst_horizon)
    method = cfg.cox_method
    cox = cox_intervention(tte, cohort, adjust_for=cfg.adjust_for, method=method)
    other = "cluster" if cox.method == "strata" else "strata"
    cox_sens = cox_intervention(tte, cohort, adjust_for=cfg.adjust_for, method=other)
    try:
        ph = ph_test(cox, ["rank", "km"])
    except (ValueError, KeyError, IndexError, np.linalg.LinAlgError, ZeroDivisionError):
        ph = pd.DataFrame({"covariate": [], "transform": [], "statistic": [], "p": []})
    cif = cif_by_group(tte, seed + SEED_OFFSET_AJ)
    cif_table = cif_at(cif, times)
    rm = rmst_difference(fits, horizon)
    area = pd.DataFrame([{"group": g, "weeks_after": cif_area(cif.get((g, SELF_SUPPORT)), horizon)} for g in GROUPS])
    boot = pd.DataFrame(columns=["rmst_difference", "cif_weeks_after_difference"])
    if cfg.bootstrap_draws > 0:
        boot = bootstrap_matched_sets(tte, horizon, seed + SEED_OFFSET_BOOTSTRAP, cfg.bootstrap_draws)
    definition = {
        "time_origin": "week after the index week (t = 1)",
        "lasting_weeks": cfg.lasting_weeks,
        "require_employment": requires_employment(study),
        "exits": cfg.exits,
        "competing_disability_pension": cfg.competing_disability_pension,
        "re_entry_after_emigration": "ignored: the first exit week ends follow-up",
        "censoring": "last observed week minus (lasting_weeks - 1), for every event type",
        "max_weeks": cfg.max_weeks,
    }
    return SurvivalAnalysis(
        tte=tte, events=event_counts(tte), km=fits,
        risk=risk_table(tte, follow_up_ticks(times, plotted_range(tte, min_cell, cfg.curve_grid_weeks))),
        logrank=logrank(tte),
        medians=medians(fits, cfg.curve_grid_weeks), fixed=fixed_time_differences(fits, times), cox=cox,
        cox_sensitivity=cox_sens, ph=ph, ph_bins=schoenfeld_bins(cox, "intervention", min_cell), cif=cif,
        cif_table=cif_table, rmst=rm, cif_weeks_after=area, bootstrap=boot, times=times, horizon=horizon,
        min_cell=min_cell, grid=cfg.curve_grid_weeks, seed=seed, definition=definition,
    )

