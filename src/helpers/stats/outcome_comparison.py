"""The outcome comparison: one row per outcome x follow-up point from person-level outcomes.

:func:`outcome_table` turns the person-level frame of
:func:`helpers.outcomes.definitions.evaluate_outcomes` into shares by group, the risk
difference and risk ratio with their intervals, Fisher's exact test, the matched analysis
and multiplicity-adjusted p-values (the estimators on counts are in
:mod:`helpers.stats.proportions`, :mod:`helpers.stats.paired` and
:mod:`helpers.stats.weighted`). The frame is unmasked: :mod:`helpers.disclosure.outcomes`
masks it and :mod:`helpers.report.outcomes` words it.

Choices (also stated by :func:`helpers.report.outcomes.methods_note`):

- 1:1 matched pairs: McNemar's test (exact binomial when fewer than 25 discordant pairs,
  otherwise R's chi-square with continuity correction) and Newcombe's paired interval
  (method 10), on complete pairs.
- Any other matched design (k:1, variable ratio, matching with replacement, unequal
  weights): weighted risk difference (weighted least squares of the 0/1 outcome on group,
  i.e. the difference of weighted shares) with a cluster-robust sandwich variance by
  matched set (sets sharing a reused control are merged into one cluster) and a t
  reference with (clusters - 1) degrees of freedom. This weighted analysis is then the
  main test; the unweighted counts and Fisher test (one entry per cohort row) are shown
  for reference.
- Multiplicity: the primary outcome (``outcomes.primary``) is reported with unadjusted p at
  each horizon; every other reported outcome x horizon is secondary and its p-value is
  adjusted over that family (``outcomes.multiplicity``: Holm by default).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from helpers.stats.paired import mcnemar, paired_difference_newcombe
from helpers.stats.proportions import (
    Adjustment,
    HypothesisTest,
    RatioMethod,
    adjust_pvalues,
    fisher,
    risk_difference_newcombe,
    risk_ratio,
)
from helpers.stats.weighted import weighted_risk_difference

GROUPS = ("intervention", "control")
REQUIRED_COLUMNS = ("person_id", "group", "matched_set", "weight", "outcome", "horizon", "value")


def _validate(person_outcomes: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in person_outcomes.columns]
    if missing:
        raise ValueError(
            f"person outcomes: missing column(s) {missing}; expected the frame of "
            "helpers.outcomes.definitions.evaluate_outcomes (person_id, group, matched_set, weight, outcome, horizon, value)"
        )
    df = person_outcomes
    bad_group = ~df["group"].isin(GROUPS)
    if bad_group.any():
        row = int(np.flatnonzero(bad_group.to_numpy())[0])
        raise ValueError(
            f"person outcomes: column 'group', row {row}: '{df['group'].iloc[row]}' is not "
            "'intervention' or 'control'"
        )
    v = pd.to_numeric(df["value"], errors="coerce")
    bad_value = (v.isna() & df["value"].notna()) | (v.notna() & ~v.isin((0.0, 1.0)))
    if bad_value.any():
        row = int(np.flatnonzero(bad_value.to_numpy())[0])
        raise ValueError(
            f"person outcomes: column 'value', row {row}: '{df['value'].iloc[row]}' is not 0, 1 or missing (NaN)"
        )
    w = pd.to_numeric(df["weight"], errors="coerce")
    bad_w = ~(w > 0) | ~np.isfinite(w)
    if bad_w.any():
        row = int(np.flatnonzero(bad_w.to_numpy())[0])
        raise ValueError(
            f"person outcomes: column 'weight', row {row}: '{df['weight'].iloc[row]}' is not a positive number"
        )
    dup = df.duplicated(["person_id", "matched_set", "group", "outcome", "horizon"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(
            f"person outcomes: row {row}: a cohort row (person, matched set, group) appears twice for outcome "
            f"{df['outcome'].iloc[row]!r} at horizon {df['horizon'].iloc[row]!r}; expected one row per "
            "cohort row x outcome x horizon"
        )
    out = df.copy()
    out["value"] = v
    out["weight"] = w
    return out


def matching_design(frame: pd.DataFrame) -> Literal["pairs", "weighted", "independent"]:
    """Which matched analysis applies to a cohort-like frame (one row per cohort row).

    - ``"pairs"``: every matched set has exactly one intervention and one control row,
      every weight is 1 and no person appears in two sets (1:1 matching without
      replacement): McNemar and the paired Newcombe interval.
    - ``"weighted"``: matched sets exist but are not all such pairs (k:1, variable ratio,
      matching with replacement, unequal weights): weighted RD clustered by matched set.
    - ``"independent"``: no matched sets (``matched_set`` all missing) and unit weights.
    """
    rows = frame.drop_duplicates(["person_id", "matched_set", "group"])
    w = pd.to_numeric(rows["weight"], errors="coerce")
    unit = bool(np.allclose(w, 1.0))
    if rows["matched_set"].isna().all():
        return "independent" if unit and not rows.duplicated(["person_id", "group"]).any() else "weighted"
    if rows["matched_set"].isna().any() or rows.duplicated(["person_id", "group"]).any():
        return "weighted"
    sizes = rows.groupby(["matched_set", "group"]).size().unstack(fill_value=0)
    for g in GROUPS:
        if g not in sizes:
            sizes[g] = 0
    pairs = bool(((sizes["intervention"] == 1) & (sizes["control"] == 1)).all())
    return "pairs" if (pairs and unit) else "weighted"


def analysis_clusters(matched_set: Sequence, person_id: Sequence) -> np.ndarray:
    """Cluster labels for the sandwich variance: matched sets joined when they share a person.

    With matching with replacement a control can serve several sets; those sets are then
    not independent, so they are merged into one cluster (connected components of the
    set-person graph). Rows without a matched set form their own cluster per person.

    Returns
    -------
    ndarray of int
        One label per row.
    """
    sets = pd.Series(np.asarray(matched_set, dtype=object))
    persons = pd.Series(np.asarray(person_id, dtype=object)).astype(str)
    key = np.where(sets.isna(), "p:" + persons, "s:" + sets.astype(str))
    set_codes, set_uniques = pd.factorize(pd.Series(key))
    parent = list(range(len(set_uniques)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_set: dict[str, int] = {}
    for code, person in zip(set_codes, persons):
        if person in first_set:
            a, b = find(first_set[person]), find(code)
            if a != b:
                parent[b] = a
        else:
            first_set[person] = code
    roots = np.array([find(c) for c in set_codes])
    return pd.factorize(pd.Series(roots))[0]


_NEWCOMBE_FISHER = {"estimate": "rd", "lower": "rd_lower", "upper": "rd_upper", "p": "p_fisher",
                    "test": "Fisher exact", "ci": "Newcombe hybrid score"}
#: The headline (main) analysis of each design under each rule (``outcomes.headline``): which difference,
#: CI and test the report leads with. ``clustered`` was chosen by simulation (docs/headline-estimator.md,
#: ``make simulate``): its CI coverage was closest to 95 % for 1:1 pairs and for k:1 / replacement designs.
#: The other analyses stay in the table.
HEADLINE: dict[str, dict[str, dict[str, str]]] = {
    "clustered": {
        "pairs": {"estimate": "w_rd", "lower": "w_lower", "upper": "w_upper", "p": "p_weighted",
                  "test": "matched-set clustered (pairs)", "ci": "pair-clustered SE, t"},
        "weighted": {"estimate": "w_rd", "lower": "w_lower", "upper": "w_upper", "p": "p_weighted",
                     "test": "weighted (matched-set clustered)", "ci": "weighted, matched-set clustered SE, t"},
        "independent": _NEWCOMBE_FISHER,
    },
    "classic": {
        "pairs": _NEWCOMBE_FISHER,
        "weighted": {"estimate": "w_rd", "lower": "w_lower", "upper": "w_upper", "p": "p_weighted",
                     "test": "weighted (matched-set clustered)", "ci": "weighted, matched-set clustered SE, t"},
        "independent": _NEWCOMBE_FISHER,
    },
}
HeadlineRule = Literal["clustered", "classic"]


def headline_columns(design: str, rule: HeadlineRule = "clustered") -> dict[str, str]:
    """Columns of :func:`outcome_table` that are the headline analysis of a matched design.

    Parameters
    ----------
    design : {"pairs", "weighted", "independent"}
        As returned by :func:`matching_design`.
    rule : {"clustered", "classic"}
        ``outcomes.headline`` of the study: ``clustered`` (the default of the study file,
        chosen by simulation) leads every matched design with the difference whose standard
        error is clustered by matched set (t test); ``classic`` leads 1:1 pairs with
        Newcombe's unpaired interval and Fisher's exact test.

    Returns
    -------
    dict
        ``estimate``, ``lower``, ``upper`` (the difference and its CI), ``p`` (the test's
        p-value column), ``test`` and ``ci`` (names shown in the report).
    """
    if rule not in HEADLINE:
        raise ValueError(f"headline rule must be one of {sorted(HEADLINE)}, got {rule!r}")
    if design not in HEADLINE[rule]:
        raise ValueError(f"design must be one of {sorted(HEADLINE[rule])}, got {design!r}")
    return dict(HEADLINE[rule][design])


def _labels(study, language: str) -> tuple[dict[str, str], dict[str, str], dict[str, int]]:
    if study is None:
        return {}, {}, {}
    defs = study.outcomes.definitions
    out_labels = {k: d.label(language) for k, d in defs.items()}
    hor_labels = {h.key: h.label(language) for h in study.outcomes.horizons}
    hor_order = {h.key: i for i, h in enumerate(study.outcomes.horizons)}
    return out_labels, hor_labels, hor_order


def outcome_table(
    person_outcomes: pd.DataFrame,
    study=None,
    *,
    alpha: float = 0.05,
    primary: str | None = None,
    multiplicity: Adjustment | None = None,
    ratio_method: RatioMethod = "koopman",
    design: Literal["auto", "pairs", "weighted", "independent"] = "auto",
    headline: HeadlineRule | None = None,
) -> pd.DataFrame:
    """One row per outcome x horizon: shares by group, RD and RR with CIs, tests, adjusted p.

    Parameters
    ----------
    person_outcomes : DataFrame
        Long person-level frame of :func:`helpers.outcomes.definitions.evaluate_outcomes`: columns
        ``person_id, group, matched_set, weight, outcome, horizon, value`` (1.0 / 0.0 / NaN
        = excluded, e.g. died or emigrated before the horizon), optionally
        ``horizon_weeks`` and ``reported`` (rows with ``reported == False`` are building
        blocks and are skipped).
    study : Study, optional
        Supplies labels, the order of horizons, ``outcomes.primary`` and
        ``outcomes.multiplicity`` (each overridable by the keyword arguments).
    alpha : float
        1 - confidence level.
    primary : str, optional
        Primary outcome (default ``study.outcomes.primary``).
    multiplicity : {"holm", "bonferroni", "none"}, optional
        Adjustment over the secondary rows (default ``study.outcomes.multiplicity``, else Holm).
    ratio_method : {"koopman", "log-adjusted"}
        Risk-ratio interval.
    design : {"auto", "pairs", "weighted", "independent"}
        Matched analysis; ``"auto"`` decides with :func:`matching_design`.
    headline : {"clustered", "classic"}, optional
        Which analysis leads (:func:`headline_columns`); default ``study.outcomes.headline``,
        or ``"classic"`` without a study.

    Returns
    -------
    DataFrame
        Columns: ``outcome, outcome_label, horizon, horizon_label, horizon_weeks, role``
        (``"primary"``/``"secondary"``), ``n_int, N_int, pct_int, excluded_int``, the
        same with ``_ctl``, ``rd, rd_lower, rd_upper, rr, rr_lower, rr_upper, odds_ratio,
        p_fisher``, the matched analysis ``design, n_pairs, n_sets, paired_rd,
        paired_lower, paired_upper, p_mcnemar, mcnemar_method, w_share_int, w_share_ctl,
        w_rd, w_lower, w_upper, p_weighted``, the headline analysis of the design
        (:func:`headline_columns`): ``headline_rd, headline_lower, headline_upper,
        headline_ci``, ``p_value`` (its test) and ``test``; then ``p_adjusted``, ``adjustment``.
        Percentages are 0-100. NaN marks what is not estimable.
    """
    df = _validate(person_outcomes)
    if "reported" in df.columns:
        df = df[df["reported"].fillna(True).astype(bool)]
    language = study.study.language if study is not None else "en"
    out_labels, hor_labels, hor_order = _labels(study, language)
    primary = primary or (study.outcomes.primary if study is not None else None)
    multiplicity = multiplicity or (study.outcomes.multiplicity if study is not None else "holm")
    if design == "auto":
        design = matching_design(df)
    if headline is None:
        headline = study.outcomes.headline if study is not None else "classic"

    out_order = list(out_labels) if out_labels else list(pd.unique(df["outcome"]))
    rows = []
    for (outcome, horizon), sub in df.groupby(["outcome", "horizon"], sort=False):
        rows.append(_row(sub, outcome, horizon, alpha, ratio_method, design, headline))
    res = pd.DataFrame(rows)
    if res.empty:
        return res
    res["outcome_label"] = res["outcome"].map(lambda k: out_labels.get(k, k))
    res["horizon_label"] = res["horizon"].map(lambda k: hor_labels.get(k, k))
    res["role"] = np.where(res["outcome"] == primary, "primary", "secondary")
    res["_o"] = res["outcome"].map(lambda k: out_order.index(k) if k in out_order else len(out_order))
    res["_h"] = res["horizon"].map(lambda k: hor_order.get(k, 99))
    res["_p"] = (res["role"] != "primary").astype(int)
    res = res.sort_values(["_p", "_o", "_h", "horizon_weeks"]).drop(columns=["_o", "_h", "_p"]).reset_index(drop=True)
    res["p_adjusted"] = res["p_value"]
    res["adjustment"] = "none (primary)"
    sec = res["role"] == "secondary"
    if sec.any():
        res.loc[sec, "p_adjusted"] = adjust_pvalues(res.loc[sec, "p_value"].to_numpy(), multiplicity)
        n_family = int(np.isfinite(res.loc[sec, "p_value"]).sum())
        res.loc[sec, "adjustment"] = f"{multiplicity} over {n_family} secondary tests" if multiplicity != "none" else "none"
    lead = ["outcome", "outcome_label", "horizon", "horizon_label", "horizon_weeks", "role"]
    return res[lead + [c for c in res.columns if c not in lead]]


def _row(sub, outcome, horizon, alpha, ratio_method, design, headline="classic") -> dict:
    row: dict = {"outcome": outcome, "horizon": horizon}
    row["horizon_weeks"] = int(sub["horizon_weeks"].iloc[0]) if "horizon_weeks" in sub else np.nan
    counts = {}
    for g, tag in (("intervention", "int"), ("control", "ctl")):
        s = sub[sub["group"] == g]
        valid = s["value"].dropna()
        n, N = int(valid.sum()), int(len(valid))
        counts[tag] = (n, N)
        row[f"n_{tag}"], row[f"N_{tag}"] = n, N
        row[f"pct_{tag}"] = 100.0 * n / N if N else np.nan
        row[f"excluded_{tag}"] = int(s["value"].isna().sum())
    (x1, n1), (x0, n0) = counts["int"], counts["ctl"]
    rd = risk_difference_newcombe(x1, n1, x0, n0, alpha)
    rr = risk_ratio(x1, n1, x0, n0, alpha, ratio_method)
    fi = fisher(x1, n1, x0, n0)
    row.update(rd=rd.estimate, rd_lower=rd.lower, rd_upper=rd.upper, rd_method=rd.method,
               rr=rr.estimate, rr_lower=rr.lower, rr_upper=rr.upper, rr_method=rr.method,
               odds_ratio=fi.statistic, p_fisher=fi.pvalue)
    row.update(design=design, n_pairs=np.nan, n_sets=np.nan, paired_rd=np.nan, paired_lower=np.nan,
               paired_upper=np.nan, p_mcnemar=np.nan, mcnemar_method="", w_share_int=np.nan,
               w_share_ctl=np.nan, w_rd=np.nan, w_lower=np.nan, w_upper=np.nan, p_weighted=np.nan)
    if design == "pairs":
        wide = sub.pivot_table(index="matched_set", columns="group", values="value", aggfunc="first")
        if set(GROUPS) <= set(wide.columns):
            complete = wide.dropna(subset=list(GROUPS))
            i, c = complete["intervention"] == 1, complete["control"] == 1
            both, int_only, ctl_only = int((i & c).sum()), int((i & ~c).sum()), int((~i & c).sum())
            neither = int(len(complete)) - both - int_only - ctl_only
        else:
            both = int_only = ctl_only = neither = 0
        pr = paired_difference_newcombe(both, int_only, ctl_only, neither, alpha)
        mc = mcnemar(int_only, ctl_only) if (both + int_only + ctl_only + neither) else HypothesisTest(
            math.nan, math.nan, "McNemar")
        row.update(n_pairs=both + int_only + ctl_only + neither, paired_rd=pr.estimate, paired_lower=pr.lower,
                   paired_upper=pr.upper, p_mcnemar=mc.pvalue, mcnemar_method=mc.method)
    if design in ("pairs", "weighted"):  # the clustered difference: the headline of both (headline_columns)
        s = sub.dropna(subset=["value"])
        cluster = analysis_clusters(s["matched_set"], s["person_id"])
        wr = weighted_risk_difference(s["value"], s["group"] == "intervention", s["weight"], cluster, alpha)
        row.update(n_sets=wr.n_clusters, w_share_int=wr.share1 * 100, w_share_ctl=wr.share0 * 100,
                   w_rd=wr.estimate.estimate, w_lower=wr.estimate.lower, w_upper=wr.estimate.upper,
                   p_weighted=wr.pvalue)
    head = headline_columns(design, headline)
    row["p_value"], row["test"], row["headline_ci"] = row[head["p"]], head["test"], head["ci"]
    row["headline_rd"], row["headline_lower"], row["headline_upper"] = (
        row[head["estimate"]], row[head["lower"]], row[head["upper"]])
    return row
