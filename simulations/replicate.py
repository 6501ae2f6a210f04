"""One replication: simulate a study, match it with the pipeline's matcher, run every estimator.

Matching uses :func:`helpers.cohort.matching.match` itself (nearest neighbour on the logit of
a propensity score estimated by the pipeline's logistic model, largest score first, no
caliper, ``ratio`` controls, with or without replacement), on plain frames: the matcher
takes frames of persons and covariates, so no register store is needed (``time_col=None``:
one risk set). The estimators are the stages' own (:mod:`simulations.pipeline`).

Hazard ratio, one row per estimator (``estimand = "log_hr"``):

``strata``
    :func:`cox_intervention` ``method="strata"``: Cox model stratified by matched set
    (conditional; with unequal weights weighted and robust).
``cluster_set``
    The marginal Cox model (:func:`fit_cox`) with the matching weights and a robust variance
    clustered by matched set: what :func:`cox_intervention` ``method="cluster"`` computed
    before this study (and still computes without replacement).
``cluster_merged``
    The same fit clustered by the outcome stage's clusters (:func:`analysis_clusters`:
    matched sets sharing a reused control merged); what :func:`cox_intervention`
    ``method="cluster"`` computes now when a control is reused. Equal to ``cluster_set``
    without replacement.
``cluster_twoway``
    The same fit with Austin & Cafri's (2020) variance for matching with replacement:
    two-way clustering on matched set and on person, ``V_set + V_person - V_row``.
    Equal to ``cluster_set`` without replacement.

Risk difference at ``t_star`` (``estimand = "rd"``), from :func:`outcome_table`:

``newcombe``
    Unpaired counts (one entry per cohort row), Newcombe's hybrid score CI; test Fisher.
``paired``
    1:1 without replacement only: complete pairs, Newcombe's paired CI; test McNemar.
``weighted``
    Weighted difference (matching weights), CR1 sandwich clustered by matched set (sets
    sharing a control merged), t with G - 1 df; test: the same.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulations import dgp
from simulations.pipeline import (
    SELF_SUPPORT,
    MatchingConfig,
    OutcomesConfig,
    SurvivalConfig,
    analysis_clusters,
    cox_intervention,
    fit_cox,
    match,
    outcome_table,
)

HR_ESTIMATORS = ("strata", "cluster_set", "cluster_merged", "cluster_twoway")
RD_ESTIMATORS = ("newcombe", "paired", "weighted")
_Z = 1.959963984540054


@dataclass(frozen=True)
class Scenario:
    """One simulated design."""

    n_treated: int
    ratio: int
    replace: bool
    target_hr: float

    @property
    def label(self) -> str:
        """Readable name, e.g. ``1:2 repl n=60 HR=2``."""
        return f"1:{self.ratio} {'with' if self.replace else 'without'} repl., n={self.n_treated}, HR={self.target_hr:g}"

    @property
    def pairs(self) -> bool:
        """1:1 without replacement (the outcome stage's ``pairs`` design)."""
        return self.ratio == 1 and not self.replace


def matching_config(s: Scenario) -> MatchingConfig:
    """The pipeline's matching settings for a scenario (fundamentet's: logit PS, no caliper)."""
    return MatchingConfig(method="nearest", distance="logit", ratio=s.ratio, replace=s.replace, caliper=None,
                          covariates=list(dgp.COVARIATES), order="largest", allow_unmatched=False)


def _row(estimator: str, estimand: str, est: float, se: float, low: float, high: float, p: float,
         note: str = "") -> dict:
    return {"estimator": estimator, "estimand": estimand, "estimate": est, "se": se, "lower": low, "upper": high,
            "p": p, "failed": not (np.isfinite(est) and np.isfinite(low) and np.isfinite(high)), "note": note}


def _cox_row(name: str, res) -> dict:
    r = res.row("intervention")
    note = res.note or ""
    failed_fit = "converge" in note
    row = _row(name, "log_hr", float(r["coef"]), float(r["se"]), math.log(r["hr_low"]) if r["hr_low"] > 0 else np.nan,
               math.log(r["hr_high"]) if np.isfinite(r["hr_high"]) and r["hr_high"] > 0 else np.nan, float(r["p"]),
               note)
    row["failed"] = bool(row["failed"] or failed_fit)
    return row


def _robust_variance(frame: pd.DataFrame, cluster: np.ndarray) -> tuple[float, float]:
    """(robust variance, coefficient) of the intervention log HR of the weighted marginal Cox fit, clustered on ``cluster``."""
    f = frame.assign(_cl=cluster)
    res = fit_cox(f, "duration", "event", ["intervention"], event_of_interest=SELF_SUPPORT, cluster_col="_cl",
                  weights_col="weight", robust=True, method="cluster")
    return float(res.row("intervention")["se"]) ** 2, float(res.row("intervention")["coef"])


def _marginal_cox_rows(tte: pd.DataFrame, replace: bool) -> list[dict]:
    frame = tte.assign(intervention=(tte["group"] == "intervention").astype(int))
    v_set, coef = _robust_variance(frame, frame["matched_set"].to_numpy())
    if replace:
        person = pd.factorize(frame["person_id"])[0]
        merged = analysis_clusters(frame["matched_set"], frame["person_id"])
        v_person, _ = _robust_variance(frame, person)
        v_row, _ = _robust_variance(frame, np.arange(len(frame)))
        v_merged, _ = _robust_variance(frame, merged)
    else:  # every person has one row: the three variances coincide
        v_merged = v_person = v_row = v_set
    rows = []
    for name, v in (("cluster_set", v_set), ("cluster_merged", v_merged), ("cluster_twoway", v_set + v_person - v_row)):
        se = math.sqrt(v) if v > 0 else np.nan
        p = float(2 * (1 - _norm_cdf(abs(coef) / se))) if np.isfinite(se) else np.nan
        rows.append(_row(name, "log_hr", coef, se, coef - _Z * se, coef + _Z * se, p))
    return rows


def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def estimate(cohort: pd.DataFrame, scenario: Scenario) -> list[dict]:
    """Every estimator on one matched cohort (columns of the match result plus outcomes)."""
    tte = cohort[["person_id", "group", "matched_set", "weight", "duration", "event"]].reset_index(drop=True)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows.append(_cox_row("strata", cox_intervention(tte, method="strata")))
        try:
            rows.extend(_marginal_cox_rows(tte, scenario.replace))
        except Exception as err:  # noqa: BLE001 - a failed fit is counted, not raised
            rows.extend(_row(n, "log_hr", np.nan, np.nan, np.nan, np.nan, np.nan, str(err)[:80])
                        for n in ("cluster_set", "cluster_merged", "cluster_twoway"))
        po = cohort[["person_id", "group", "matched_set", "weight", "value"]].assign(
            outcome="y", horizon="t", horizon_weeks=52)
        w = outcome_table(po, primary="y", multiplicity="none", design="weighted").iloc[0]
        rows.append(_row("newcombe", "rd", w["rd"], np.nan, w["rd_lower"], w["rd_upper"], w["p_fisher"]))
        se_w = (w["w_upper"] - w["w_rd"]) / _Z if np.isfinite(w["w_upper"]) else np.nan  # display only (t CI)
        rows.append(_row("weighted", "rd", w["w_rd"], se_w, w["w_lower"], w["w_upper"], w["p_weighted"]))
        if scenario.pairs:
            p = outcome_table(po, primary="y", multiplicity="none", design="pairs").iloc[0]
            rows.append(_row("paired", "rd", p["paired_rd"], np.nan, p["paired_lower"], p["paired_upper"],
                             p["p_mcnemar"]))
    return rows


def headline(cohort: pd.DataFrame) -> list[dict]:
    """The pipeline's **default** headline HR and RD on one matched cohort.

    The HR is :func:`cox_intervention` with the default ``survival.cox_method`` of the study
    schema; the RD is the headline analysis that :func:`outcome_table` picks for the design
    under the default ``outcomes.headline`` rule (``headline_rd``, ``headline_lower``,
    ``headline_upper``, ``p_value``).
    """
    tte = cohort[["person_id", "group", "matched_set", "weight", "duration", "event"]].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cox = cox_intervention(tte, method=SurvivalConfig().cox_method)
        po = cohort[["person_id", "group", "matched_set", "weight", "value"]].assign(
            outcome="y", horizon="t", horizon_weeks=52)
        rule = OutcomesConfig.model_fields["headline"].default
        r = outcome_table(po, primary="y", multiplicity="none", headline=rule).iloc[0]
    return [_cox_row(f"headline ({cox.method})", cox),
            _row(f"headline ({r['design']})", "rd", r["headline_rd"], np.nan, r["headline_lower"],
                 r["headline_upper"], r["p_value"])]


def simulate_matched(scenario: Scenario, beta: float, seed: int, replication: int,
                     design: dgp.Design = dgp.Design()) -> pd.DataFrame:
    """Replication ``replication`` of a scenario, matched (``default_rng(seed + replication)``)."""
    rng = np.random.default_rng(seed + replication)
    treated, candidates = dgp.simulate_study(rng, scenario.n_treated, beta, design)
    return match(treated, candidates, matching_config(scenario), seed=seed + replication, time_col=None).cohort


def replicate(scenario: Scenario, beta: float, seed: int, replication: int,
              design: dgp.Design = dgp.Design()) -> list[dict]:
    """Simulate, match and run every estimator on replication ``replication``."""
    cohort = simulate_matched(scenario, beta, seed, replication, design)
    out = estimate(cohort, scenario)
    reuse = float(cohort.loc[cohort["group"] == "control", "person_id"].duplicated().mean())
    for row in out:
        row.update(replication=replication, n_sets=int(cohort["matched_set"].nunique()), control_reuse=reuse,
                   n_events=int(cohort["event"].sum()))
    return out
