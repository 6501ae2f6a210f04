"""Extracts the generator did not write (issue 13): three real-world shapes through check and ingest.

The extracts are built in ``tests/_extracts.py`` by hand (SAS-style semicolon latin-1 with
``PNR;KOEN;ALDER;KOMNR;y_YYWW``; per-year Stata files with ``y_WW``; Parquet with ``pnr``
and ``y_YYYYWW``) and read through the study YAML only. The whole pipeline on shape A runs
in ``tests/test_readme_walkthrough.py``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml
from _extracts import (
    SHAPE_A_DATA,
    SHAPE_B_DATA,
    SHAPE_C_DATA,
    TEST_KEY,
    iso_weeks,
    study_spec,
    week_matrix,
    write_shape_a,
    write_shape_b,
    write_shape_c,
)

from helpers.config import load_study
from helpers.core import calendar, paths, store
from helpers.ingest import ingest
from helpers.ingest.check import check_study
from helpers.ingest.pseudonym import pseudonymise


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "PROCESSED_DIR", tmp_path / "processed")
    monkeypatch.setattr(paths, "REPORTS_DIR", tmp_path / "reports")
    monkeypatch.setenv("DREAM_PSEUDO_KEY", TEST_KEY)

    def make(name, writer, data):
        raw = tmp_path / "raw" / name
        extra = writer(raw)
        path = tmp_path / "studies" / f"{name}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(study_spec(name, raw, data), allow_unicode=True), encoding="utf-8")
        return load_study(path), extra

    return make


def pseudo(ids):
    return list(pseudonymise(ids, TEST_KEY.encode()))


def test_shape_a_semicolon_latin1_age_and_one_municipality_column(project):
    study, people = project("sas", write_shape_a, SHAPE_A_DATA)
    report = check_study(study)
    assert report.ok, report.text()
    s = report.summary
    assert s["persons"] == 201 and s["weeks"] == len(iso_weeks(2010, 2025)) == 16 * 52 + 2  # 2015, 2020: W53
    assert (s["first_iso_week"], s["last_iso_week"]) == ("2010-W01", "2025-W52")
    assert [u["code"] for u in s["unknown_codes"]] == [811]
    assert s["unknown_codes"][0]["person_weeks"] == 52  # W01: 811 in every week of 2019
    assert s["forms"]["screening"] == {"rows": 25, "linked": 25, "not_linked": 0, "included": 20}
    warnings = [p for p in report.problems if p.severity == "warning"]
    assert any("KOMNR is used for every year" in p.what for p in warnings)
    ingest(study)
    persons = store.load_persons(study).set_index("person_id")
    i01, y01 = pseudo([people.loc[0, "id"], people.loc[people["role"] == "Y01", "id"].iloc[0]])
    assert persons.loc[i01, "age"] == 30 and persons.loc[y01, "age"] == 80
    assert pd.isna(persons.loc[i01, "birth_date"])
    residence = store.load_residence(study)
    assert set(residence.loc[residence["person_id"] == i01, "year"]) == set(range(2010, 2026))
    assert set(residence["municipality"]) == {183, 101}
    weekly = store.load_weekly(study)
    expected = week_matrix(people, iso_weeks(2010, 2025))
    order = [list(weekly.person_id).index(p) for p in pseudo(list(people["id"]))]
    np.testing.assert_array_equal(weekly.codes[order], expected)
    screening = store.load_form(study, "screening").set_index("person_id")
    assert int(screening["included"].sum()) == 20
    # I01's inclusion date: Wednesday of 2020-W10 (dd-mm-yyyy in the list)
    assert screening.loc[i01, "inclusion_date"] == pd.Timestamp("2020-03-04")
    assert set(screening.loc[screening["included"] == 0, "exclusion_reason"]) == {"other_group_in_inclusion_list"}


def test_shape_a_age_reaches_the_cohort_stage(project):
    """The age from ALDER (at 2025-12-31) is the matching covariate (was 'age has 60 missing values')."""
    from helpers.cohort import register as cohort

    study, people = project("sasage", write_shape_a, SHAPE_A_DATA)
    ingest(study)
    reg = cohort.prepare_register(study, store.load_persons(study), store.load_residence(study),
                                  store.load_weekly(study), None)
    rows = pd.Index(reg.weekly.person_id).get_indexer(pseudo([people.loc[0, "id"]]))
    week = np.array([calendar.dream_week_from_iso(2020, 10)])
    # ALDER 30 on 2025-12-31, taken from the middle of the birth year: 30.5 - 5.83 years on 2020-03-02 -> 24
    assert cohort.age_at(reg, rows, week).tolist() == [24.0]
    assert cohort.age_at(reg, rows, np.array([calendar.dream_week_of_date(dt.date(2025, 12, 29))])).tolist() == [30.0]


def test_shape_b_per_year_stata_files_and_a_shorter_extract(project):
    study, extra = project("stata", write_shape_b, SHAPE_B_DATA)
    report = check_study(study)
    assert report.ok, report.text()
    assert report.summary["persons"] == 30
    assert report.summary["weeks"] == 52 + 52 + 53 + 52 + 52 == 261
    assert report.summary["first_iso_week"] == "2018-W01"
    assert any("part of data.first_year..last_year (2016-2022)" in p.what for p in report.problems
               if p.severity == "warning")
    result = ingest(study)
    assert result.n_persons == 30 and result.n_weeks == 261
    assert any(w["kind"] == "partial_window" for w in result.warning_records)
    absent = [w for w in result.warning_records if w["kind"] == "absent_from_year"]
    assert absent == [{"kind": "absent_from_year", "count": 5,
                       "text": "persons absent from the 2021 file (their weeks of 2021 are empty)"}]
    weekly = store.load_weekly(study)
    assert weekly.first_week == calendar.dream_week_from_iso(2018, 1)
    ids = pseudo(extra["ids"])
    codes = pd.DataFrame(weekly.codes, index=weekly.person_id)
    w2019 = [calendar.dream_week_from_iso(2019, w) - weekly.first_week for w in range(1, 53)]
    assert (codes.loc[ids[:10], w2019] == 730).all().all() and (codes.loc[ids[10:], w2019] == 0).all().all()
    w2020 = [calendar.dream_week_from_iso(2020, w) - weekly.first_week for w in range(1, 11)]
    assert (codes.loc[ids[10:20], w2020] == 111).all().all()
    persons = store.load_persons(study).set_index("person_id")
    assert persons.loc[ids, "sex"].tolist() == [1 if k % 2 == 0 else 2 for k in range(30)]  # M -> 1, K -> 2
    assert persons.loc[ids[3], "birth_date"] == pd.Timestamp("1973-04-04")


def test_shape_c_parquet_four_digit_weeks_and_an_excel_inclusion_list(project):
    study, extra = project("pq", write_shape_c, SHAPE_C_DATA)
    report = check_study(study)
    assert report.ok, report.text()
    assert report.summary["persons"] == 12 and report.summary["weeks"] == 52 + 53 + 52
    assert report.summary["forms"]["screening"] == {"rows": 4, "linked": 4, "not_linked": 0, "included": 4}
    ingest(study)
    ids = pseudo(extra["ids"])
    weekly = store.load_weekly(study)
    codes = pd.DataFrame(weekly.codes, index=weekly.person_id)
    c = calendar.dream_week_from_iso(2020, 1) - weekly.first_week
    assert codes.loc[ids[:6], c].tolist() == [730] * 6 and codes.loc[ids[6:], c].tolist() == [0] * 6  # "NA" = empty
    h = calendar.dream_week_from_iso(2019, 31) - weekly.first_week
    assert codes.loc[ids[6:], h].tolist() == [121] * 6
    persons = store.load_persons(study).set_index("person_id")
    assert persons.loc[ids[0], "birth_date"] == pd.Timestamp("1960-01-01")  # 01.01.1960
    screening = store.load_form(study, "screening").set_index("person_id")
    got = [screening.loc[i, "inclusion_date"].date() for i in ids[:4]]
    assert got == extra["starts"] and extra["serials"][0] == 43892  # Excel serial of 2020-03-02
