"""Outcome definitions at horizons (helpers.outcomes.definitions) on a hand-built cohort with known answers.

Weeks are counted from the index week 2020-W49 (week 0). ISO 2020 has 53 weeks:
week 4 = 2020-W53 (Thursday 31 Dec 2020, so it belongs to December), week 5 = 2021-W01,
week 8 = 2021-W04 (January), week 9 = 2021-W05 (Thursday 4 Feb). The weekly data run
from week -2 (2020-W47) to week 10 (2021-W06). Horizons: H4 (week 4) and H8 (week 8).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.config import Study
from helpers.core import calendar
from helpers.core.store import MonthlyEmployment, WeeklyStatus
from helpers.outcomes.definitions import OUTCOME_COLUMNS, evaluate_outcomes
from helpers.report.outcome_rules import outcome_rules_text

ROOT = Path(__file__).resolve().parents[1]
I0 = calendar.dream_week_from_iso(2020, 49)
NAN = np.nan

# codes in weeks -2..10 relative to I0 (person E's own index week is I0 + 5)
CODES = {
    "A": [730, 730] + [730, 730, 737, 730, 0, 0, 0, 0, 0, 0, 0],  # praktik (737) in week 2, then employed
    "B": [730, 730] + [730, 730, 730, 999, 999, 999, 999, 999, 999, 999, 999],  # dies in week 3
    "C": [730, 730] + [730, 997, 997, 997, 997, 0, 0, 0, 0, 730, 730],  # abroad weeks 1-4, back in week 5
    "D": [730, 730] + [730, 730, 730, 730, 730, 730, 771, 771, 771, 771, 771],  # flexjob from week 6
    "E": [730, 730] + [730, 730, 730, 730, 730, 730, 0, 0, 0, 0, 0],  # index I0+5; empty from its week 1
    "F": [730, 730] + [730] * 8 + [771, 771, 771],  # flexjob from week 8, still running at the data end
    "G": [730, 730] + [730] + [0] * 10,  # empty from week 1; employed in December only
}
EMPLOYED_MONTHS = {"A": [(2020, 12), (2021, 1), (2021, 2)], "E": [(2021, 1), (2021, 2)], "G": [(2020, 12)]}
EVENTS = [
    ("B", "praktik_start", "2020-12-09", ""),  # week 1, before B dies
    ("A", "afklaring", "2021-01-03", "job"),  # Sunday of 2020-W53 = last day of week 4
    ("D", "afklaring", "2020-12-02", "education"),  # week 0, but not 'job'
    ("C", "praktik_start", "2020-11-20", ""),  # before C's index week: does not count
    ("F", "praktik_start", "2021-01-20", ""),  # week 7
    ("F", "afklaring", "2021-01-04", "flexjob"),  # Monday of 2021-W01 = week 5
    ("Z", "praktik_start", "2020-12-09", ""),  # not in the cohort
]
DEFINITIONS = {
    "employment": {"label": {"en": "Employed", "da": "I beskæftigelse"}, "kind": "status_at",
                   "categories": ["employed"], "codes": [771]},
    "praktik": {"label": {"en": "Praktik", "da": "Praktik"}, "kind": "ever_in_window",
                "activities": ["virksomhedspraktik_privat", "virksomhedspraktik_offentlig"],
                "events": ["praktik_start"]},
    "lasting": {"label": {"en": "Lasting job", "da": "Varigt job"}, "kind": "ever_in_window",
                "categories": ["employed", "flexjob", "disability_pension"], "lasting_weeks": 4, "report": False},
    "afklaret": {"label": {"en": "Clarified", "da": "Afklaret"}, "kind": "any_of", "of": ["lasting"],
                 "events": ["afklaring:job"]},
    "any_afklaring": {"label": {"en": "Any clarification", "da": "Afklaring"}, "kind": "ever_in_window",
                      "events": ["afklaring"]},
    "progression": {"label": {"en": "Progression", "da": "Progression"}, "kind": "any_of",
                    "of": ["employment", "praktik", "afklaret"]},
    "self_support": {"label": {"en": "Self-supported", "da": "Selvforsørget"}, "kind": "status_at",
                     "categories": ["self_support"]},
    "stable_job": {"label": {"en": "Stable job", "da": "Stabilt job"}, "kind": "status_at",
                   "categories": ["employed"], "codes": [771], "lasting_weeks": 3},
}
PERSONS = ["A", "B", "C", "D", "E", "F", "G"]
# exit_rule: exclude; values for persons A..G
EXPECTED = {
    ("employment", "H4"): [1, NAN, NAN, 0, 1, 0, 1],  # G: W53 is December
    ("employment", "H8"): [1, NAN, 0, 1, NAN, 1, 0],  # E: horizon beyond the data
    ("praktik", "H4"): [1, 1, NAN, 0, 0, 0, 0],  # B: praktik before death is kept
    ("praktik", "H8"): [1, 1, 0, 0, NAN, 1, 0],  # C: event before index ignored; F: event in week 7
    ("lasting", "H4"): [1, NAN, NAN, 0, 1, 0, 1],  # A: run starts exactly at week 4; G: weeks 1-4 (Dec)
    ("lasting", "H8"): [1, NAN, 0, 1, NAN, NAN, 1],  # F: run of 3 still under way at the data end
    ("afklaret", "H4"): [1, NAN, NAN, 0, 1, 0, 1],  # D: afklaring with detail 'education' does not count
    ("afklaret", "H8"): [1, NAN, 0, 1, NAN, NAN, 1],  # F: lasting unknown, no 'job' event -> unknown
    ("any_afklaring", "H4"): [1, NAN, NAN, 1, 0, 0, 0],  # A: Sunday of week 4 counts; F: Monday of week 5 not
    ("any_afklaring", "H8"): [1, NAN, 0, 1, NAN, 1, 0],
    ("progression", "H4"): [1, 1, NAN, 0, 1, 0, 1],
    ("progression", "H8"): [1, 1, 0, 1, NAN, 1, 1],
    ("self_support", "H4"): [1, NAN, NAN, 0, 1, 0, 1],
    ("self_support", "H8"): [1, NAN, 1, 0, NAN, 0, 1],  # C: back and self-supported (no employment)
    ("stable_job", "H4"): [0, NAN, NAN, 0, 1, 0, 1],  # weeks 2-4 must all match
    ("stable_job", "H8"): [1, NAN, 0, 1, NAN, 0, 0],
}
EXPECTED_STATUS = {
    "A": ["none", "none"], "B": ["dead", "dead"], "C": ["emigrated", "none"], "D": ["none", "none"],
    "E": ["none", "no_data"], "F": ["none", "none"], "G": ["none", "none"],
}


def make_study(definitions=None, exit_rule="exclude", require_employment=False, horizons=((4, "H4"), (8, "H8")),
               primary="employment"):
    data = yaml.safe_load((ROOT / "studies" / "demo.yaml").read_text(encoding="utf-8"))
    data["outcomes"] = {
        "primary": primary,
        "exit_rule": exit_rule,
        "horizons": [{"key": k, "weeks": w, "label": {"en": f"Week {w}", "da": f"Uge {w}"}} for w, k in horizons],
        "definitions": copy.deepcopy(definitions or DEFINITIONS),
    }
    data["power"]["scenarios"] = []
    data["data"]["self_support"]["require_employment"] = require_employment
    return Study.model_validate(data)


def make_weekly():
    ids = np.array(PERSONS + ["Z"], dtype=object)
    codes = np.array([CODES[p] for p in PERSONS] + [[0] * 13], dtype=np.int16)
    return WeeklyStatus(ids, I0 - 2, codes)


def make_monthly(last=(2021, 3)):
    first = calendar.month_index(2020, 10)
    n_months = calendar.month_index(*last) - first + 1
    ids = ["Z", *PERSONS[::-1]]  # another order than the weekly rows
    degree = np.full((len(ids), n_months), np.nan, dtype=np.float32)
    for i, pid in enumerate(ids):
        for ym in EMPLOYED_MONTHS.get(pid, []):
            if calendar.month_index(*ym) - first < n_months:
                degree[i, calendar.month_index(*ym) - first] = 0.8
    return MonthlyEmployment(np.array(ids, dtype=object), first, degree)


def make_cohort(persons=PERSONS):
    return pd.DataFrame({
        "person_id": persons,
        "group": ["intervention" if p in "ABG" else "control" for p in persons],
        "index_week": [I0 + 5 if p == "E" else I0 for p in persons],
        "matched_set": np.arange(len(persons)),
        "weight": 1.0,
    })


def make_events():
    return pd.DataFrame(EVENTS, columns=["person_id", "event", "date", "detail"]).assign(
        date=lambda f: pd.to_datetime(f["date"]))


def values(out, outcome, horizon):
    sel = out[(out["outcome"] == outcome) & (out["horizon"] == horizon)]
    return sel["value"].tolist()


@pytest.fixture(scope="module")
def result():
    return evaluate_outcomes(make_cohort(), make_weekly(), make_monthly(), make_events(), make_study())


def test_hand_built_cohort_every_kind(result):
    for (outcome, horizon), expected in EXPECTED.items():
        np.testing.assert_array_equal(values(result, outcome, horizon), expected, err_msg=f"{outcome} {horizon}")


def test_shape_columns_and_order(result):
    assert list(result.columns) == list(OUTCOME_COLUMNS)
    assert len(result) == len(DEFINITIONS) * 2 * len(PERSONS)
    first = result.iloc[: len(PERSONS)]
    assert first["outcome"].unique().tolist() == ["employment"] and first["horizon"].unique().tolist() == ["H4"]
    assert first["person_id"].tolist() == PERSONS
    assert result["horizon_weeks"].unique().tolist() == [4, 8]
    assert result.loc[result["outcome"] == "lasting", "reported"].eq(False).all()
    assert result.loc[result["outcome"] != "lasting", "reported"].all()
    assert set(result["value"].dropna().unique()) <= {0.0, 1.0}
    assert result["group"].iloc[0] == "intervention" and result["weight"].eq(1.0).all()


def test_exit_status(result):
    for j, horizon in enumerate(["H4", "H8"]):
        sel = result[(result["outcome"] == "employment") & (result["horizon"] == horizon)]
        assert sel["exit_status"].tolist() == [EXPECTED_STATUS[p][j] for p in PERSONS]
    # F's lasting outcome at H8 is unknown (run under way at the data end) -> no_data; its employment is known
    f = result[(result["person_id"] == "F") & (result["horizon"] == "H8")].set_index("outcome")["exit_status"]
    assert f["lasting"] == "no_data" and f["afklaret"] == "no_data" and f["employment"] == "none"
    # the praktik that B had before dying is kept, with the exit status still shown
    b = result[(result["person_id"] == "B") & (result["outcome"] == "praktik")]
    assert b["value"].tolist() == [1.0, 1.0] and b["exit_status"].tolist() == ["dead", "dead"]


def test_failure_rule_counts_exits_as_no_outcome():
    out = evaluate_outcomes(make_cohort(), make_weekly(), make_monthly(), make_events(),
                            make_study(exit_rule="failure"))
    for (outcome, horizon), expected in EXPECTED.items():
        expected = list(expected)
        for i, p in enumerate(PERSONS):
            j = 0 if horizon == "H4" else 1
            if EXPECTED_STATUS[p][j] in ("dead", "emigrated") and np.isnan(expected[i]):
                expected[i] = 0.0
        np.testing.assert_array_equal(values(out, outcome, horizon), expected, err_msg=f"{outcome} {horizon}")
    # horizons beyond the data stay unknown under both rules
    assert np.isnan(values(out, "employment", "H8")[PERSONS.index("E")])


def test_require_employment_changes_self_support():
    out = evaluate_outcomes(make_cohort(), make_weekly(), make_monthly(), make_events(),
                            make_study(require_employment=True))
    # C is back and has no transfer in week 8 but no employment either
    assert values(out, "self_support", "H8") == pytest.approx([1, NAN, 0, 0, NAN, 0, 0], nan_ok=True)


def test_monthly_data_ending_early_makes_employment_unknown_only():
    out = evaluate_outcomes(make_cohort(), make_weekly(), make_monthly(last=(2020, 12)), make_events(),
                            make_study())
    # January is outside the monthly data: employment at week 8 is unknown for everyone alive
    np.testing.assert_array_equal(values(out, "employment", "H8"), [NAN] * 7)
    # ... and for E already at week 4 (E's weeks are all in 2021)
    np.testing.assert_array_equal(values(out, "employment", "H4"), [1, NAN, NAN, 0, NAN, 0, 1])
    # praktik needs no employment data
    np.testing.assert_array_equal(values(out, "praktik", "H8"), EXPECTED[("praktik", "H8")])
    # progression: 1 where praktik is 1 (A, B, F); otherwise unknown, since employment (and lasting, inside
    # afklaret) are unknown at week 8 -- also for G, whose lasting run was complete in December
    np.testing.assert_array_equal(values(out, "progression", "H8"), [1, 1, NAN, NAN, NAN, 1, NAN])


def test_duplicate_person_in_two_matched_sets():
    cohort = make_cohort(["A", "D", "D"])
    cohort["matched_set"] = [1, 1, 2]
    out = evaluate_outcomes(cohort, make_weekly(), make_monthly(), make_events(), make_study())
    assert values(out, "employment", "H8") == [1, 1, 1]
    assert values(out, "any_afklaring", "H4") == [1, 1, 1]
    assert out.loc[out["outcome"] == "employment", "matched_set"].tolist() == [1, 1, 2, 1, 1, 2]


def test_only_weekly_outcomes_need_no_monthly_or_events():
    defs = {k: DEFINITIONS[k] for k in ("self_support",)}
    defs["flex"] = {"label": {"en": "Flexjob", "da": "Fleksjob"}, "kind": "status_at", "codes": [771]}
    study = make_study(defs, primary="flex")
    out = evaluate_outcomes(make_cohort(["D", "F", "C"]), make_weekly(), None, None, study)
    assert values(out, "flex", "H8") == [1, 1, 0]
    assert values(out, "flex", "H4")[:2] == [0, 0] and np.isnan(values(out, "flex", "H4")[2])


def test_errors_name_what_is_missing():
    weekly, monthly, events, study = make_weekly(), make_monthly(), make_events(), make_study()
    with pytest.raises(ValueError, match="monthly employment"):
        evaluate_outcomes(make_cohort(), weekly, None, events, study)
    with pytest.raises(ValueError, match="no events form"):
        evaluate_outcomes(make_cohort(), weekly, monthly, None, study)
    with pytest.raises(ValueError, match=r"cohort.*missing column.*weight"):
        evaluate_outcomes(make_cohort().drop(columns="weight"), weekly, monthly, events, study)
    early = make_cohort()
    early.loc[0, "index_week"] = I0 - 3
    with pytest.raises(ValueError, match=r"index_week.*before the first week"):
        evaluate_outcomes(early, weekly, monthly, events, study)
    bad = make_events()
    bad.loc[2, "date"] = pd.NaT
    with pytest.raises(ValueError, match=r"events form.*'date'.*rows \[2\]"):
        evaluate_outcomes(make_cohort(), weekly, monthly, bad, study)


def test_definition_typos_are_caught_on_load():
    bad = copy.deepcopy(DEFINITIONS)
    bad["praktik"]["activities"] = ["virksomhedspraktik"]
    with pytest.raises(ValueError, match=r"outcomes\.definitions\.praktik\.activities: unknown"):
        make_study(bad)
    bad = copy.deepcopy(DEFINITIONS)
    bad["lasting"]["kind"] = "any_of"
    bad["lasting"]["of"] = ["afklaret"]
    with pytest.raises(ValueError, match="circular any_of"):
        make_study(bad)


def test_rules_text_in_both_languages():
    study = make_study()
    en = outcome_rules_text(study, "en")
    da = outcome_rules_text(study, "da")
    assert "Week 4 (week 4)" in en and "Uge 8 (uge 8)" in da
    assert "left out of the denominator" in en and "udelades af nævneren" in da
    assert "at least 4 consecutive weeks" in en and "mindst 4 sammenhængende uger" in da
    assert "(primary outcome)" in en and "building block" in en
    assert "'afklaring' with detail 'job'" in en
    assert "137" in en and "771" in en  # praktik codes and the flexjob code are listed
    failure = outcome_rules_text(make_study(exit_rule="failure"), "en")
    assert "counted as not having the outcome" in failure
    with pytest.raises(ValueError):
        outcome_rules_text(study, "de")
