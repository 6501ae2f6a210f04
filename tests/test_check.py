"""Issue 13's bug list, one test each, and the pieces of `make check` / `make new-study`."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from _extracts import TEST_KEY, study_spec

from helpers import runner
from helpers.config import load_study
from helpers.config.schema.data import Pseudonymisation
from helpers.core import paths
from helpers.ingest.problems import from_message
from helpers.ingest.pseudonym import DEMO_KEY, PseudonymKeyError, resolve_key

ROOT = Path(__file__).resolve().parents[1]


def test_demo_key_is_refused_unless_the_study_is_synthetic(monkeypatch):
    monkeypatch.delenv("DREAM_PSEUDO_KEY", raising=False)
    cfg = Pseudonymisation(allow_demo_key=True)
    with pytest.raises(PseudonymKeyError, match="the study is not synthetic"):
        resolve_key(cfg, synthetic=False)
    assert resolve_key(cfg, synthetic=True).key == DEMO_KEY
    monkeypatch.setenv("DREAM_PSEUDO_KEY", TEST_KEY)  # a real key is used whatever allow_demo_key says
    assert resolve_key(cfg, synthetic=False).source == "env:DREAM_PSEUDO_KEY"


def test_ressourceforloeb_codes_match_the_reference_list_and_the_docs():
    from helpers.core.codes import load_code_table

    codes = set(load_code_table()["code"])
    # reference list (shared/reference/dream_codes.csv, 2016 sheet): 810 and 813-818; 811 and 812 are not in it
    assert {c for c in codes if 810 <= c <= 819} == {810, 813, 814, 815, 816, 817, 818}
    text = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    assert "| 810, 813-818 ressourceforløb |" in text and "| 810-818 ressourceforløb |" not in text


def test_municipality_criterion_without_residence_data_stops_the_cohort(demo_study):
    from helpers.cohort import register as cohort
    from helpers.synth.register import synthetic_register

    data = synthetic_register(n_pool=300, n_treated=10, seed=3)
    empty = data["residence"].iloc[:0]
    study = demo_study.model_copy(deep=True)
    with pytest.raises(cohort.CohortError, match="no person has a municipality of residence"):
        cohort.prepare_register(study, data["persons"], empty, data["weekly"], data["monthly"])
    study.cohort.municipality = []
    cohort.prepare_register(study, data["persons"], empty, data["weekly"], data["monthly"])


def test_age_from_age_column_when_there_is_no_birth_date(demo_study):
    """Hand-worked: ALDER 40 on 2020-12-31 -> born about 1980-07-01 -> 39 on 2020-03-02, 40 on 2021-06-28."""
    from helpers.cohort import register as cohort
    from helpers.core import calendar
    from helpers.synth.register import synthetic_register

    data = synthetic_register(n_pool=300, n_treated=10, seed=3)
    persons = data["persons"].copy()
    persons["birth_date"] = pd.NaT
    persons["age"] = 40
    study = demo_study.model_copy(deep=True)
    study.data.dream.age_reference_date = pd.Timestamp("2020-12-31").date()
    study.data.dream.age_column = "ALDER"
    reg = cohort.prepare_register(study, persons, data["residence"], data["weekly"], data["monthly"])
    weeks = np.array([calendar.dream_week_from_iso(2020, 10), calendar.dream_week_from_iso(2021, 26)])
    assert cohort.age_at(reg, np.array([0, 0]), weeks).tolist() == [39.0, 40.0]
    # (2020-03-02 - 2020-12-31) = -304 days: floor(40.5 - 0.832) = 39; 2021-06-28: floor(40.5 + 0.489) = 40


def test_skipped_notebooks_without_costs(demo_study):
    study = demo_study.model_copy(deep=True)
    assert runner.skipped_notebooks(study) == {}
    study.investment.intervention_cost_total = None
    study.data.forms.costs = None
    skipped = runner.skipped_notebooks(study)
    assert list(skipped) == ["06_investment.ipynb"] and "no intervention costs" in skipped["06_investment.ipynb"][0]


def test_failure_note_does_not_claim_a_previous_report(tmp_path, monkeypatch):
    (tmp_path / "studies").mkdir()
    (tmp_path / "notebooks").mkdir()
    data = yaml.safe_load((ROOT / "studies" / "demo.yaml").read_text())
    data["study"]["name"] = "mini"
    raw = tmp_path / "raw"
    raw.mkdir()
    data["data"]["raw_dir"] = str(raw)
    for f in ("dream.csv", "screening.csv", "questionnaires.csv", "events.csv", "costs.csv"):
        (raw / f).write_text("x\n")
    (tmp_path / "studies" / "mini.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    for name, value in (("PROJECT_ROOT", tmp_path), ("STUDIES_DIR", tmp_path / "studies"),
                        ("REPORTS_DIR", tmp_path / "reports"), ("NOTEBOOKS_DIR", tmp_path / "notebooks"),
                        ("PROCESSED_DIR", tmp_path / "processed")):
        monkeypatch.setattr(paths, name, value)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('study = "demo"')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("raise ValueError('x')")]
    nb.metadata["kernelspec"] = {"name": "dream-eval", "display_name": "Python (dream-eval)", "language": "python"}
    nbformat.write(nb, tmp_path / "notebooks" / "02_broken.ipynb")
    lines = []
    with pytest.raises(runner.NotebookFailed):
        runner.run("mini", pdf=False, log=lines.append)
    note = next(line for line in lines if "this run's files are in" in line)
    assert "no report was written (there was no earlier one" in note and "left in place" not in note


def test_make_report_stops_with_the_check_table_before_the_ingest(tmp_path, monkeypatch):
    """A notebooks folder with 01_ingest: the input checks run first and nothing is executed or written."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "dream.csv").write_bytes(b"PNR,kon\n")
    spec = study_spec("stop", raw, {"dream": {"path": "dream.csv"}, "forms": {"screening": None, "questionnaires": None,
                                                                           "events": None, "costs": None},
                                    "first_year": 2019, "last_year": 2020})
    (tmp_path / "studies").mkdir()
    (tmp_path / "studies" / "stop.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "notebooks" / "01_ingest.ipynb")
    for name, value in (("PROJECT_ROOT", tmp_path), ("STUDIES_DIR", tmp_path / "studies"),
                        ("REPORTS_DIR", tmp_path / "reports"), ("NOTEBOOKS_DIR", tmp_path / "notebooks"),
                        ("PROCESSED_DIR", tmp_path / "processed")):
        monkeypatch.setattr(paths, name, value)
    monkeypatch.setenv("DREAM_PSEUDO_KEY", TEST_KEY)
    assert runner.main(["--study", "stop", "--no-pdf"]) == 1
    assert not (tmp_path / "reports").exists() and not (tmp_path / "processed").exists()


def test_new_study_writes_a_valid_yaml_and_templates_the_reader_takes(tmp_path, monkeypatch):
    from helpers.config import new_study
    from helpers.ingest.forms import _read_raw

    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(paths, "STUDIES_DIR", tmp_path / "studies")
    written = new_study.new_study("trial")
    assert (tmp_path / "studies" / "trial.yaml") in written
    study = load_study(tmp_path / "studies" / "trial.yaml")
    assert study.data.forms.inclusion_list.path == "inclusion_list.csv" and study.data.forms.screening is None
    text = (tmp_path / "studies" / "trial.yaml").read_text(encoding="utf-8")
    assert "title: \"TITLE OF THE EVALUATION\"  # REQUIRED" in text
    raw = tmp_path / "data" / "raw" / "trial"
    header = pd.read_csv(raw / "inclusion_list.csv", dtype=str)
    assert list(header.columns) == ["PNR", "group", "inclusion_date"] and header.iloc[0, 0].startswith("#")
    from helpers.ingest.errors import IngestError

    with pytest.raises(IngestError, match="header but no data rows"):  # the example row is a comment
        _read_raw(raw / "inclusion_list.xlsx", study.data.forms)
    with pytest.raises(ValueError, match="already exists"):
        new_study.new_study("trial")


@pytest.mark.parametrize("message, expected", [
    ("data/raw/x/dream.csv, column y_1905, data row 3: code '7x0' is not a number; DREAM codes are whole numbers",
     ("data/raw/x/dream.csv", "y_1905", "3", "code '7x0' is not a number", "DREAM codes are whole numbers")),
    ("data/raw/x/e.csv, column PNR: 2 row(s) refer to persons who are not in the DREAM extract (data rows 4, 9); "
     "check the IDs", ("data/raw/x/e.csv", "PNR", "4, 9", "2 row(s) refer to persons who are not in the DREAM extract "
                                                         "(data rows 4, 9)", "check the IDs")),
    ("data/raw/x/d.csv: the file is empty (0 bytes); expected a header line and data rows. Replace it",
     ("data/raw/x/d.csv", "", "", "the file is empty (0 bytes)", "expected a header line and data rows. Replace it")),
])
def test_messages_split_into_the_table_columns(message, expected):
    p = from_message(message)
    assert (p.file, p.column, p.rows, p.what, p.todo) == expected
