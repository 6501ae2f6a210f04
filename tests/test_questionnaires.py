"""Questionnaire progression: hand-computed paired changes, ANCOVA against numpy least squares
with a hand-built cluster sandwich, and missing data counted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.report import questionnaires as questionnaires_report
from helpers.stats import questionnaires as q

# tiny study: 4 matched pairs; (baseline, follow-up) self-rated health

DATA = {
    # person: (group, set, baseline, followup)
    "i1": ("intervention", 1, 2, 5),
    "i2": ("intervention", 2, 4, 6),
    "i3": ("intervention", 3, 3, 3),
    "i4": ("intervention", 4, 5, 9),
    "c1": ("control", 1, 3, 4),
    "c2": ("control", 2, 5, 5),
    "c3": ("control", 3, 2, 1),
    "c4": ("control", 4, 4, 6),
}


def _frames(extra_rows=(), drop=()):
    cohort = pd.DataFrame(
        [(p, g, s, 1.0) for p, (g, s, _, _) in DATA.items()], columns=["person_id", "group", "matched_set", "weight"]
    )
    rows = []
    for p, (_, _, b, f) in DATA.items():
        rows.append((p, "baseline", "self", "health", b))
        rows.append((p, "followup", "self", "health", f))
    rows += list(extra_rows)
    forms = pd.DataFrame(rows, columns=["person_id", "timepoint", "rater", "measure", "value"])
    keep = ~forms.apply(lambda r: (r["person_id"], r["timepoint"]) in drop, axis=1)
    return forms[keep].reset_index(drop=True), cohort


def test_change_by_group_hand_computed():
    forms, cohort = _frames()
    wide = q.questionnaire_wide(forms, cohort, measures=["health"], raters=["self"])
    ch = q.change_by_group(wide).set_index("group")
    # intervention changes 3, 2, 0, 4: mean 2.25, sd sqrt(35/12)
    r = ch.loc["intervention"]
    assert r["mean_change"] == pytest.approx(2.25)
    assert r["sd_change"] == pytest.approx(math.sqrt((0.75**2 + 0.25**2 + 2.25**2 + 1.75**2) / 3))
    se = r["sd_change"] / 2
    assert r["change_lower"] == pytest.approx(2.25 - 3.182446305284263 * se)  # t(0.975, 3)
    assert r["p_change"] == pytest.approx(stats.ttest_rel([5, 6, 3, 9], [2, 4, 3, 5]).pvalue)
    # control changes 1, 0, -1, 2: mean 0.5
    assert ch.loc["control", "mean_change"] == pytest.approx(0.5)
    assert ch.loc["control", "missing_followup"] == 0 and ch.loc["control", "n_complete"] == 4


def _cluster_sandwich(X, y, groups):
    """OLS coefficients and CR1 covariance written out with numpy (independent of statsmodels)."""
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ beta
    bread = np.linalg.inv(X.T @ X)
    meat = np.zeros((X.shape[1], X.shape[1]))
    for g in np.unique(groups):
        s = X[groups == g].T @ e[groups == g]
        meat += np.outer(s, s)
    n, k = X.shape
    G = len(np.unique(groups))
    V = G / (G - 1) * (n - 1) / (n - k) * bread @ meat @ bread
    return beta, V


def test_ancova_matches_least_squares_and_hand_sandwich():
    forms, cohort = _frames()
    wide = q.questionnaire_wide(forms, cohort, measures=["health"], raters=["self"])
    res = q.ancova(wide).iloc[0]
    w = wide.dropna(subset=["baseline", "followup"])
    X = np.column_stack([np.ones(len(w)), w["baseline"], (w["group"] == "intervention").astype(float)])
    y = w["followup"].to_numpy(float)
    beta, V = _cluster_sandwich(X, y, w["matched_set"].to_numpy())
    se = math.sqrt(V[2, 2])
    q975 = stats.t.isf(0.025, 3)  # 4 matched sets -> 3 df
    assert res["ancova_diff"] == pytest.approx(beta[2])
    assert res["ancova_lower"] == pytest.approx(beta[2] - q975 * se)
    assert res["ancova_upper"] == pytest.approx(beta[2] + q975 * se)
    assert res["ancova_p"] == pytest.approx(2 * stats.t.sf(abs(beta[2]) / se, 3))
    assert res["diff_change"] == pytest.approx(2.25 - 0.5)
    assert res["se_type"].startswith("cluster") and res["n_sets"] == 4


def test_ancova_without_sets_uses_hc3():
    forms, cohort = _frames()
    cohort["matched_set"] = np.nan
    wide = q.questionnaire_wide(forms, cohort, measures=["health"], raters=["self"])
    res = q.ancova(wide).iloc[0]
    w = wide
    X = np.column_stack([np.ones(len(w)), w["baseline"], (w["group"] == "intervention").astype(float)])
    y = w["followup"].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ beta
    bread = np.linalg.inv(X.T @ X)
    h = np.einsum("ij,jk,ik->i", X, bread, X)
    V = bread @ (X.T * (e / (1 - h)) ** 2) @ X @ bread  # HC3
    assert res["se_type"] == "HC3"
    se = math.sqrt(V[2, 2])
    assert res["ancova_upper"] - res["ancova_diff"] == pytest.approx(stats.t.isf(0.025, 5) * se)


def test_missing_counted_not_dropped():
    # i4 has no follow-up row, c2's follow-up is blank, c3 has no baseline; a stray non-cohort person
    forms, cohort = _frames(
        extra_rows=[("x9", "baseline", "self", "health", 7)],
        drop={("i4", "followup"), ("c3", "baseline")},
    )
    forms.loc[(forms["person_id"] == "c2") & (forms["timepoint"] == "followup"), "value"] = None
    res = q.questionnaire_results(forms, cohort, None)
    r = res[(res["rater"] == "self") & (res["measure"] == "health")].iloc[0]
    assert (r["n_cohort_int"], r["missing_baseline_int"], r["missing_followup_int"], r["n_complete_int"]) == (4, 0, 1, 3)
    assert (r["n_cohort_ctl"], r["missing_baseline_ctl"], r["missing_followup_ctl"], r["n_complete_ctl"]) == (4, 1, 1, 2)
    # measures nobody answered still appear, with everything missing
    r2 = res[(res["rater"] == "caseworker") & (res["measure"] == "work_ability")].iloc[0]
    assert r2["missing_followup_int"] == 4 and r2["n_complete_int"] == 0 and np.isnan(r2["ancova_diff"])
    counts = questionnaires_report.format_questionnaire_counts(res, 5)
    item = questionnaires_report.format_questionnaire_table(res, 5)
    table, check = item.frame, item.check
    assert check.passed and check.masked > 0 and counts.check.passed and counts.check.masked > check.masked
    first = counts.frame.iloc[[i for i, m in enumerate(counts.frame.iloc[:, 0]) if m.startswith("Health (self)")][0]]
    assert first["Intervention: missing baseline / follow-up"] == "0 / <5" and first["Intervention: N"] == "<5"
    first = table.iloc[[i for i, m in enumerate(table.iloc[:, 0]) if m.startswith("Health (self)")][0]]
    # a difference is not a count: masked with the secondary mark, not "<5" (issue 18, item 3)
    assert first["Difference, ANCOVA (95% CI)"] == "x" and first["Intervention: change (95% CI)"] == "x"


def test_questionnaire_results_with_study(demo_study):
    forms, cohort = _frames()
    res = q.questionnaire_results(forms, cohort, demo_study)
    assert len(res) == 6  # 2 raters x 3 measures, all shown
    assert list(res["rater"].unique()) == ["self", "caseworker"]


def test_bad_input_named():
    forms, cohort = _frames()
    bad = forms.copy()
    bad.loc[3, "value"] = 11
    with pytest.raises(ValueError, match=r"questionnaires: column 'value', row 3: '11' is not a rating from 0 to 10"):
        q.questionnaire_wide(bad, cohort, measures=["health"], raters=["self"])
    bad = forms.copy()
    bad["value"] = bad["value"].astype(object)
    bad.loc[2, "value"] = "lots"
    with pytest.raises(ValueError, match="row 2"):
        q.questionnaire_wide(bad, cohort, measures=["health"], raters=["self"])
    dup = pd.concat([forms, forms.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match=f"row {len(forms)}: a second baseline rating"):
        q.questionnaire_wide(dup, cohort, measures=["health"], raters=["self"])
    with pytest.raises(ValueError, match="missing column"):
        q.questionnaire_wide(forms.drop(columns="rater"), cohort)
