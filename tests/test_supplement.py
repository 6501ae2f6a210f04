"""The publication supplement: contents, and refusal when anything person-level is inside."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _report_fakes import SECRET_CPR, make_staging

from helpers.config import load_study
from helpers.core import paths
from helpers.report import assemble, pdf, supplement

ROOT = Path(__file__).resolve().parents[1]
LOCK = "numpy==2.4.6\npandas==2.3.3\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project root with study 'mini' and an assembled report in reports/mini."""
    (tmp_path / "studies").mkdir()
    data = yaml.safe_load((ROOT / "studies" / "demo.yaml").read_text(encoding="utf-8"))
    data["study"]["name"] = "mini"
    (tmp_path / "studies" / "mini.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    for name, sub in (("PROJECT_ROOT", ""), ("STUDIES_DIR", "studies"), ("REPORTS_DIR", "reports"),
                      ("PROCESSED_DIR", "processed")):
        monkeypatch.setattr(paths, name, tmp_path / sub if sub else tmp_path)
    study = load_study("mini")
    report_dir = tmp_path / "reports" / "mini"
    make_staging(report_dir, study, figures=2, strays=False)
    assemble.build_report(study, report_dir, log=lambda *_: None)
    return report_dir


def test_clean_supplement_holds_everything(project):
    out = supplement.build("mini", lock=LOCK, log=lambda *_: None)
    assert out == project / "supplement.zip"
    names = set(zipfile.ZipFile(out).namelist())
    expected = {"report.html", "manifest.json", "disclosure_log.jsonl", "figures/fig_0.png", "figures/fig_0.svg",
                "tables/employment_by_group.csv", "tables/employment_by_group.xlsx", "notebooks/02_cohort.ipynb",
                "notebooks/90_summary.ipynb", "study/mini.yaml", "environment/requirements.lock.txt",
                "environment/pyproject.toml"}
    if pdf.find_chromium():
        expected.add("report.pdf")
    assert {f"mini-supplement/{n}" for n in expected} <= names
    with zipfile.ZipFile(out) as zf:
        assert zf.read("mini-supplement/environment/requirements.lock.txt").decode().endswith(LOCK)
        nb = json.loads(zf.read("mini-supplement/notebooks/02_cohort.ipynb"))
    assert any(c.get("outputs") for c in nb["cells"])  # executed notebooks keep their outputs


def test_environment_lock_is_pip_freeze():
    lock = supplement.environment_lock()
    assert "pandas==" in lock and "numpy==" in lock


def test_stray_outputs_in_executed_notebooks_are_refused(tmp_path, project):
    # printed rows never reach the report, but the executed notebooks travel in the supplement
    study = load_study("mini")
    make_staging(project, study, figures=2, strays=True)
    with pytest.raises(supplement.SupplementRefused) as err:
        supplement.build("mini", lock=LOCK, log=lambda *_: None)
    assert "notebooks/02_cohort.ipynb" in str(err.value) and "pseudonymised person ID" in str(err.value)


def test_planted_cpr_in_a_table_is_refused(project):
    (project / "supplement.zip").write_bytes(b"previous")
    csv = project / "tables" / "employment_by_group.csv"
    csv.write_text(csv.read_text() + f"note,{SECRET_CPR},\n")
    with pytest.raises(supplement.SupplementRefused) as err:
        supplement.build("mini", lock=LOCK, log=lambda *_: None)
    message = str(err.value)
    assert "tables/employment_by_group.csv" in message and "CPR-shaped string" in message
    assert SECRET_CPR not in message  # the refusal does not repeat the identifier
    assert (project / "supplement.zip").read_bytes() == b"previous"
    assert not list(project.glob(".supplement.zip.*"))


def test_cpr_with_dash_in_a_notebook_output_is_refused(project):
    path = project / "notebooks" / "90_summary.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][-1]["outputs"].append({"output_type": "stream", "name": "stdout", "text": "011390-1234\n"})
    path.write_text(json.dumps(nb))
    with pytest.raises(supplement.SupplementRefused, match=r"notebooks/90_summary.ipynb: line \d+: CPR-shaped"):
        supplement.build("mini", lock=LOCK, log=lambda *_: None)


def test_person_level_tables_are_refused(project):
    pd.DataFrame({"person_id": ["x"], "age": [40]}).to_csv(project / "tables" / "persons.csv", index=False)
    pd.DataFrame({"week": range(30), "n": [1] * 30}).to_excel(project / "tables" / "weeks.xlsx", index=False)
    with pytest.raises(supplement.SupplementRefused) as err:
        supplement.build("mini", lock=LOCK, log=lambda *_: None)
    message = str(err.value)
    assert "tables/persons.csv: person-level table: identifier column(s) ['person_id']" in message
    assert "tables/weeks.xlsx[Sheet1]: person-level table: 30 rows with n = 1" in message


def test_known_pseudonym_of_the_store_is_refused(project):
    store = paths.PROCESSED_DIR / "mini"
    store.mkdir(parents=True)
    pid = "0f1e2d3c4b5a6978"
    pd.DataFrame({"person_id": [pid, "1111111111111111"]}).to_parquet(store / "persons.parquet")
    (project / "figures" / "fig_0.svg").write_text(f"<svg><!-- x{pid}x --></svg>")  # not a whole token
    with pytest.raises(supplement.SupplementRefused, match="figures/fig_0.svg: 1 pseudonymised person ID"):
        supplement.build("mini", lock=LOCK, log=lambda *_: None)


def test_disclosure_failure_is_refused_even_for_internal_use(project):
    with open(project / "disclosure_log.jsonl", "a") as fh:
        fh.write(json.dumps({"item": "t9", "key": "t9", "status": "FAIL", "detail": "2 counts below 5"}) + "\n")
    with pytest.raises(supplement.SupplementRefused, match="t9: failed disclosure control"):
        supplement.build("mini", lock=LOCK, log=lambda *_: None)


def test_cli_reports_refusal(project, capsys, monkeypatch):
    monkeypatch.setattr(supplement, "environment_lock", lambda: LOCK)
    (project / "tables" / "x.csv").write_text(f"a\n{SECRET_CPR}\n")
    assert supplement.main(["--study", "mini"]) == 1
    assert "refused" in capsys.readouterr().err
