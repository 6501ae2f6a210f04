"""Stage 03's result (OutcomesResult): masked rows, JSON round trip, load, and the report items built from it."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from helpers.disclosure import outcomes as dout
from helpers.report import outcomes as outcomes_report
from helpers.report import questionnaires as questionnaires_report
from helpers.report.items import Figure, Table, Text
from helpers.stages import outcomes as stage
from helpers.stages.base import StageResultError
from helpers.stats import outcome_comparison as oc
from helpers.stats import questionnaires as q


def _pairs(int_events, ctl_events, outcome="employment", horizon="FU", weeks=52):
    rows = []
    for i, (a, b) in enumerate(zip(int_events, ctl_events, strict=True)):
        rows.append(dict(person_id=f"i{i}", group="intervention", matched_set=i, weight=1.0, value=a))
        rows.append(dict(person_id=f"c{i}", group="control", matched_set=i, weight=1.0, value=b))
    return pd.DataFrame(rows).assign(outcome=outcome, horizon=horizon, horizon_weeks=weeks)


def _person_outcomes():
    return pd.concat([
        _pairs([1] * 15 + [0] * 35, [0] * 50),  # control 0/50: shown, risk ratio infinite
        _pairs([1] * 15 + [0] * 35, [1] * 3 + [0] * 47, horizon="Y1", weeks=104),  # control 3/50: masked
        _pairs([1] * 20 + [0] * 30, [1] * 10 + [0] * 40, outcome="praktik"),
    ], ignore_index=True)


def _questionnaires():
    # 8 intervention and 3 control persons; one intervention person lacks the follow-up rating
    persons = [(f"i{k}", "intervention", k) for k in range(8)] + [(f"c{k}", "control", k) for k in range(3)]
    cohort = pd.DataFrame([(p, g, s, 1.0) for p, g, s in persons], columns=["person_id", "group", "matched_set",
                                                                            "weight"])
    rows = []
    for k, (p, _, _) in enumerate(persons):
        rows.append((p, "baseline", "self", "health", 3 + k % 3))
        if p != "i7":
            rows.append((p, "followup", "self", "health", 5 + k % 4))
    forms = pd.DataFrame(rows, columns=["person_id", "timepoint", "rater", "measure", "value"])
    return q.questionnaire_results(forms, cohort, None)


@pytest.fixture()
def result(demo_study):
    results = oc.outcome_table(_person_outcomes(), demo_study)
    masked = dout.masked_results(results, 5)
    return stage.from_frames(demo_study, results, masked, _questionnaires())


def test_rows_are_masked_aggregates(result):
    # demo labels: employment is primary, FU = "End of programme"
    shown = result.row("employment", "FU")
    assert (shown.n_int, shown.N_int, shown.n_ctl, shown.N_ctl) == (15, 50, 0, 50)
    assert shown.role == "primary" and shown.design == "pairs" and shown.n_pairs == 50
    assert shown.pct_int == pytest.approx(30.0) and shown.rd == pytest.approx(0.30)
    assert math.isinf(shown.rr) and math.isinf(shown.rr_upper)
    masked = result.row("employment", "Y1")
    assert masked.masked_ctl and not masked.masked_int
    assert masked.n_ctl == "<5" and masked.N_ctl == 50 and masked.pct_ctl is None
    assert masked.rd is None and masked.p_value is None and masked.p_adjusted is None  # would reveal 3/50
    assert masked.n_int == 15 and masked.N_int == 50
    assert result.design == "pairs" and result.n_primary_tests == 2 and result.n_secondary_tests == 1
    with pytest.raises(KeyError, match="no outcome 'praktik' at follow-up point 'Y1'"):
        result.row("praktik", "Y1")


def test_round_trip_and_load(result, tmp_path, demo_study):
    text = result.to_json()
    back = stage.OutcomesResult.from_json(text)
    assert back == result
    assert back.results is None and back.questionnaire_results is None  # private frames stay in memory
    assert result.results is not None and result.questionnaire_results is not None
    data = json.loads(text)  # valid JSON apart from Infinity (the risk ratio with 0 controls)
    assert data["rows"][1]["n_ctl"] == "<5" and data["rows"][0]["rr"] == math.inf
    result.save(tmp_path)
    assert (tmp_path / "outcome_results.json").exists()
    assert stage.OutcomesResult.load(demo_study, tmp_path) == result
    with pytest.raises(StageResultError, match="rows"):
        stage.OutcomesResult.from_json(text.replace('"rows"', '"row_list"'))


def test_table_reproduces_the_masked_parquet(result):
    masked = dout.masked_results(result.results, 5)
    table = result.table()
    assert list(table.columns) == list(masked.columns)
    pd.testing.assert_frame_equal(table, masked, check_dtype=False)


def test_questionnaire_rows_masked_like_the_table(result):
    qr = result.questionnaires
    row = next(r for r in qr.rows if r.rater == "self" and r.measure == "health")
    assert (row.n_cohort_int, row.missing_followup_int, row.n_complete_int) == (8, "<5", 7)
    assert (row.n_cohort_ctl, row.n_complete_ctl) == ("<5", "<5")
    assert row.mean_change_int is not None and row.mean_change_ctl is None  # 3 complete controls
    assert row.ancova_diff is None and row.diff_change is None
    # the share of follow-up ratings missing, over all 6 measure x rater rows: 1 of 8 x 6, 0 of 3 x 6 ... plus
    # the 5 measure x rater pairs nobody answered
    assert qr.missing_followup_pct_int == pytest.approx(100 * (1 + 5 * 8) / (6 * 8))
    assert qr.missing_followup_pct_ctl == pytest.approx(100 * (5 * 3) / (6 * 3))
    frame = qr.table()
    assert np.isnan(frame.loc[0, "n_cohort_ctl"]) and frame.loc[0, "n_cohort_int"] == 8


def test_report_items(result, demo_study):
    table = outcomes_report.outcome_table(result, demo_study, "en")
    assert isinstance(table, Table) and table.key == "outcome_table" and table.check.passed
    assert table.frame.loc[1, "Control"] == "<5 / 50" and table.check.masked == 1
    assert table.note.startswith("Shares are n/N of persons still followed")
    # the differences and tests moved to their own table (issue 18, item 8), with the methods note
    comparison = outcomes_report.comparison_table(result, demo_study, "en")
    assert comparison.key == "outcome_comparison" and comparison.check.passed
    assert comparison.note.startswith("Primary outcome: Employed")
    da = outcomes_report.outcome_table(result, demo_study, "da")
    assert da.frame.loc[0, "Rolle"] == "primært" and "Kontrol" in da.frame.columns
    text = outcomes_report.primary_text(result, demo_study, "en")
    # 15/50 vs 3 of 50 controls, masked: the bound over every control count 1..4 (issue 18, item 1)
    assert isinstance(text, Text) and "1 year after: counts masked; for every count the mask allows" in text.markdown
    assert text.markdown.startswith("**Primary outcome: Employed")
    fig = outcomes_report.forest_figure(result, demo_study, "da")
    assert isinstance(fig, Figure) and fig.check.passed and fig.key == "outcome_forest"
    assert fig.figure.axes[0].get_xlabel() == "Forskel, indsats − kontrol (%-point, 95 %-KI)"
    qt = questionnaires_report.questionnaire_table(result, demo_study, "en")
    assert qt.key == "questionnaire_table" and qt.check.masked > 0
    qc = questionnaires_report.counts_table(result, demo_study, "en")
    assert qc.key == "questionnaire_counts" and qc.check.masked > qt.check.masked
    assert questionnaires_report.missing_text(result, demo_study, "en").markdown.startswith("Across all measures")


def test_report_items_after_load(result, demo_study):
    loaded = stage.OutcomesResult.from_json(result.to_json())
    # sentences and the figure work from the saved rows ...
    assert outcomes_report.primary_text(loaded, demo_study).markdown == \
        outcomes_report.primary_text(result, demo_study).markdown
    assert questionnaires_report.missing_text(loaded, demo_study).markdown == \
        questionnaires_report.missing_text(result, demo_study).markdown
    assert outcomes_report.comparison_table(loaded, demo_study).frame.equals(
        outcomes_report.comparison_table(result, demo_study).frame)
    # ... the tables of counts need the unmasked frames of a fresh run
    with pytest.raises(ValueError, match="needs the result of stages.outcomes.run"):
        outcomes_report.outcome_table(loaded, demo_study)
    with pytest.raises(ValueError, match="needs the result of stages.outcomes.run"):
        questionnaires_report.questionnaire_table(loaded, demo_study)


def test_no_questionnaire_form(demo_study):
    results = oc.outcome_table(_person_outcomes(), demo_study)
    r = stage.from_frames(demo_study, results, dout.masked_results(results, 5), None)
    assert r.questionnaires is None
    assert questionnaires_report.questionnaire_table(r, demo_study) is None
    assert questionnaires_report.missing_text(r, demo_study, "da").markdown == "Studiet har ingen spørgeskemadata."
    assert stage.OutcomesResult.from_json(r.to_json()) == r


def test_disclosure_helpers():
    assert dout.group_cell(0, 0, 5) == "empty" and dout.group_cell(0, 50, 5) == "shown"
    assert dout.safe_count(3, 5) == "<5" and dout.safe_count(float("nan"), 5) == "–" and dout.safe_count(7, 5) == "7"
    check = dout.differences_only_check()
    assert check.passed and check.detail_da.startswith("kun forskelle")


def test_masked_rows_hide_what_gives_the_masked_count_back(demo_study):
    """outcome_results.parquet is the masked comparison: no column of a masked row may give the count back.

    Found while moving masked_results: the odds ratio, the weighted shares, the persons left out next
    to a masked N and small pair counts were kept. Hand-worked: intervention 18/48, control 4/50 gives
    the odds ratio (18 x 46) / (30 x 4) = 6.9, and n / (50 - n) = (18/30) / 6.9 has the one solution n = 4.
    """
    po = _pairs([1] * 18 + [0] * 30 + [np.nan] * 2, [1] * 4 + [0] * 46)
    res = oc.outcome_table(po, primary="employment")
    assert res.loc[0, "odds_ratio"] == pytest.approx(6.9)
    n = 50 * (18 / 30 / 6.9) / (1 + 18 / 30 / 6.9)
    assert n == pytest.approx(4)  # what the unmasked odds ratio gave away
    m = dout.masked_results(res, 5)
    assert bool(m.loc[0, "masked_ctl"]) and np.isnan(m.loc[0, "n_ctl"]) and np.isnan(m.loc[0, "odds_ratio"])
    assert dout.masked_results(res, 5, keep_estimates=True).loc[0, "odds_ratio"] == pytest.approx(6.9)
    # weighted design (2:1, control weights 1/2): the weighted control share 2/24 is hidden with the estimates
    rows = []
    for s in range(12):
        rows.append(dict(person_id=f"i{s}", group="intervention", matched_set=s, weight=1.0, value=float(s < 6)))
        rows += [dict(person_id=f"c{s}{k}", group="control", matched_set=s, weight=0.5,
                      value=float(s < 2 and k == 0)) for k in range(2)]
    w = oc.outcome_table(pd.DataFrame(rows).assign(outcome="employment", horizon="FU", horizon_weeks=52),
                         primary="employment")
    assert w.loc[0, "w_share_ctl"] == pytest.approx(100 * 2 / 24)
    wm = dout.masked_results(w, 5)
    assert np.isnan(wm.loc[0, "w_share_ctl"]) and np.isnan(wm.loc[0, "w_share_int"]) and wm.loc[0, "n_sets"] == 12
    # a small N: the persons left out (47 of the group of 50 published with the cohort) would give N = 3 back
    small = oc.outcome_table(_pairs([1] * 2 + [0] + [np.nan] * 47, [1] * 20 + [0] * 30), primary="employment")
    sm = dout.masked_results(small, 5)
    assert np.isnan(sm.loc[0, "N_int"]) and np.isnan(sm.loc[0, "excluded_int"])
    assert sm.loc[0, "n_pairs"] != sm.loc[0, "n_pairs"]  # 3 complete pairs: small, masked
    r = stage.from_frames(demo_study, small, sm).rows[0]
    # 1:1 pairs also get the pair-clustered difference (the headline since issue 17.7), so n_sets is
    # the number of pairs (50, not small, shown)
    assert (r.N_int, r.excluded_int, r.n_pairs, r.n_sets) == ("<5", "<5", "<5", 50)
