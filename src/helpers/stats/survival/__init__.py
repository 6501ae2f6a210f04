"""Time to lasting self-support: time-to-event data, Kaplan-Meier, Cox, competing risks, RMST.

One module per estimator; every function takes data frames and parameters and returns
numbers (tidy frames or small result objects), unmasked and unworded:

=================  ==================================================================
module             what
=================  ==================================================================
``tte``            durations and event types from the weekly store (the definitions),
                   event counts, numbers at risk
``km``             Kaplan-Meier fits, values at fixed times, log-rank, medians
``cox``            Cox models (stratified or clustered by matched set), PH tests,
                   binned Schoenfeld residuals
``competing``      Aalen-Johansen cumulative incidence of each event type
``rmst``           restricted mean time, its bootstrap over matched sets
``analysis``       :func:`analyse`: every estimate of stage 04 at once
=================  ==================================================================

Disclosure control of the curves and tables is :mod:`helpers.disclosure.survival`; the
stage (:mod:`helpers.stages.survival`) writes ``tte.parquet`` and ``survival_results.json``;
:mod:`helpers.report.survival` words and formats the results.

The names below are re-exported, so ``from helpers.stats import survival as sv;
sv.fit_cox(...)`` works.
"""

from __future__ import annotations

from helpers.stats.survival.analysis import SEED_OFFSET_AJ, SEED_OFFSET_BOOTSTRAP, SurvivalAnalysis, analyse
from helpers.stats.survival.competing import cif_area, cif_at, cif_by_group
from helpers.stats.survival.cox import (
    CoxResult,
    cox_intervention,
    fit_cox,
    is_one_to_one,
    ph_test,
    schoenfeld_bins,
)
from helpers.stats.survival.km import (
    Z95,
    LogRankResult,
    fit_km,
    fixed_time_differences,
    km_at,
    km_by_group,
    logrank,
    medians,
    step_value,
    weights_of,
)
from helpers.stats.survival.restricted_mean import (
    RMSTResult,
    bootstrap_matched_sets,
    percentile_ci,
    restricted_means,
    rmst,
    rmst_difference,
    usable_horizon,
)
from helpers.stats.survival.tte import (
    CENSORED,
    COHORT_COLUMNS,
    DISABILITY_PENSION,
    EVENT_NAMES,
    EXIT,
    GROUPS,
    SELF_SUPPORT,
    TTE_COLUMNS,
    check_cohort,
    counts_at,
    event_counts,
    events_from_weeks,
    follow_up_ticks,
    last_grid_time_at_risk,
    plotted_range,
    requires_employment,
    risk_table,
    time_to_event,
)

__all__ = [
    "CENSORED", "COHORT_COLUMNS", "DISABILITY_PENSION", "EVENT_NAMES", "EXIT", "GROUPS", "SEED_OFFSET_AJ",
    "SEED_OFFSET_BOOTSTRAP", "SELF_SUPPORT", "TTE_COLUMNS", "Z95", "CoxResult", "LogRankResult", "RMSTResult",
    "SurvivalAnalysis", "analyse", "bootstrap_matched_sets", "check_cohort", "cif_area", "cif_at", "cif_by_group",
    "counts_at", "cox_intervention", "event_counts", "events_from_weeks", "fit_cox", "fit_km", "follow_up_ticks",
    "last_grid_time_at_risk", "plotted_range",
    "fixed_time_differences", "is_one_to_one", "km_at", "km_by_group", "logrank", "medians", "percentile_ci",
    "ph_test", "requires_employment", "restricted_means", "risk_table", "rmst", "rmst_difference",
    "schoenfeld_bins", "step_value", "time_to_event", "usable_horizon", "weights_of",
]
