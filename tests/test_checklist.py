"""The STROBE/RECORD reporting checklist of the appendix (issue 17.5): every item mapped, derived from the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from helpers.report import checklist
from helpers.report.reporter import REF_FORMAT

ROOT = Path(__file__).resolve().parents[1]
#: Every table and figure key a full run shows (the disclosure log of a run holds these).
SHOWN = ("ingest_read", "attrition", "flow_diagram", "table1", "love_plot", "balance", "outcome_table",
         "outcome_comparison", "outcome_forest", "questionnaire_counts", "trajectories_states", "trajectories_balance",
         "survival_events", "survival_km", "survival_cox", "survival_ph_table", "survival_ph_figure", "survival_rmst",
         "investment_tornado", "investment_sensitivity", "investment_monte_carlo", "power_table", "provenance_inputs")
#: The STROBE items of the cohort-study checklist (von Elm et al. 2007) and RECORD's 13 (Benchimol et al. 2015).
STROBE = ["1a", "1b", "2", "3", "4", "5", "6a", "6b", "7", "8", "9", "10", "11", "12a", "12b", "12c", "12d", "12e",
          "13a", "13b", "13c", "14a", "14b", "14c", "15", "16a", "16b", "16c", "17", "18", "19", "20", "21", "22"]
RECORD = ["1.1", "1.2", "1.3", "6.1", "6.2", "6.3", "7.1", "12.1", "12.2", "12.3", "13.1", "19.1", "22.1"]


def _run_folder(tmp_path: Path, *, skipped=(), shown=SHOWN) -> Path:
    out = tmp_path / "run"
    out.mkdir(parents=True)
    with open(out / "disclosure_log.jsonl", "w", encoding="utf-8") as fh:
        for key in shown:
            fh.write(json.dumps({"item": key, "key": key, "kind": "table", "status": "PASS"}) + "\n")
    if skipped:
        (out / "skipped_sections.json").write_text(json.dumps(
            [{"notebook": nb, "reason_en": "no costs", "reason_da": "ingen omkostninger"} for nb in skipped]))
    return out


def _notebooks(tmp_path: Path, *, drop=(), extra=()) -> Path:
    """A copy of the pipeline notebooks without ``drop``, plus ``extra`` ``(name, heading en, da, code)``."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        if path.name not in drop:
            shutil.copy(path, folder / path.name)
    for name, en, da, code in extra:
        nb = nbformat.v4.new_notebook()
        cells = [nbformat.v4.new_markdown_cell(f"## {en}"), nbformat.v4.new_markdown_cell(f"## {da}"),
                 nbformat.v4.new_code_cell(code)]
        cells[0].metadata["tags"], cells[1].metadata["tags"] = ["lang-en"], ["lang-da"]
        nb.cells = cells
        nbformat.write(nb, folder / name)
    return folder


def _row(mapping, item):
    return mapping.set_index("item").loc[item]


@pytest.mark.parametrize("language", ["en", "da"])
def test_every_strobe_and_record_item_is_mapped(demo_study, tmp_path, language):
    m = checklist.checklist_mapping(demo_study, _run_folder(tmp_path), language=language)
    assert m.loc[m["checklist"] == "strobe", "item"].tolist() == STROBE
    assert m.loc[m["checklist"] == "record", "item"].tolist() == RECORD
    assert set(m["status"]) <= set(checklist.STATUSES) and m["where"].str.len().gt(3).all()
    # the demo report answers most items; the human-written ones say why not
    assert m.set_index("item").loc[["2", "20", "21", "22", "6.2"], "status"].eq("not_reported").all()
    assert (m["status"] == "reported").sum() >= 35
    # flow diagram and attrition table, both shown, in their section
    assert _row(m, "13a")["where"].endswith(
        f"({REF_FORMAT.format(key='flow_diagram')}, {REF_FORMAT.format(key='attrition')})")


def test_both_languages_say_the_same(demo_study, tmp_path):
    out = _run_folder(tmp_path)
    en = checklist.checklist_mapping(demo_study, out, language="en")
    da = checklist.checklist_mapping(demo_study, out, language="da")
    assert en["status"].tolist() == da["status"].tolist()
    assert (en["text"] != da["text"]).all() and (en["where"] != da["where"]).sum() >= 40
    assert _row(da, "6b")["where"].startswith("Metode › Matchning") and _row(en, "6b")["where"].startswith(
        "Methods › Matching")


def test_a_skipped_investment_leaves_the_mapping(demo_study, tmp_path):
    full = checklist.checklist_mapping(demo_study, _run_folder(tmp_path / "a"), language="en")
    assert "investment_tornado" in _row(full, "12e")["where"]
    skipped = checklist.checklist_mapping(demo_study, _run_folder(tmp_path / "b", skipped=["06_investment.ipynb"]),
                                          language="en")
    assert _row(skipped, "12e")["status"] == "reported" and "investment" not in _row(skipped, "12e")["where"]
    # with neither the survival section nor the investment, no sensitivity analysis is left: its reason says why
    nbs = _notebooks(tmp_path, drop=["05_survival.ipynb", "08_robustness.ipynb"])
    none = checklist.checklist_mapping(demo_study, _run_folder(tmp_path / "c", skipped=["06_investment.ipynb"]),
                                       notebooks_dir=nbs, language="da")
    row = _row(none, "12e")
    assert row["status"] == "not_reported"
    assert row["where"] == "afsnittet Kan det betale sig? er sprunget over: ingen omkostninger"


def test_robustness_and_limitations_sections_are_picked_up_when_they_exist(demo_study, tmp_path):
    (tmp_path / "without").mkdir()
    without = _notebooks(tmp_path / "without", drop=["08_robustness.ipynb"])
    appendix = nbformat.read(without / "80_appendix.ipynb", as_version=4)  # and without the limitations cell
    appendix.cells = [c for c in appendix.cells if "limitations." not in c.source]
    nbformat.write(appendix, without / "80_appendix.ipynb")
    before = checklist.checklist_mapping(demo_study, _run_folder(tmp_path / "a"), notebooks_dir=without,
                                         language="en")
    assert _row(before, "12b")["status"] == "not_reported" and _row(before, "19")["status"] == "not_reported"
    assert _row(before, "19")["where"] == "the report has no limitations section"
    nbs = _notebooks(tmp_path, extra=[
        ("08_robustness.ipynb", "Robustness", "Robusthed",
         "rep.show(robustness_report.evalue_table(result, cfg), robustness_report.heterogeneity_table(result, cfg))"),
        ("85_limitations.ipynb", "Limitations", "Begrænsninger", "rep.show(limitations.limitations_text(cfg))")])
    after = checklist.checklist_mapping(demo_study, _run_folder(tmp_path / "b"), notebooks_dir=nbs, language="en")
    assert _row(after, "12b")["where"] == "Robustness"
    assert _row(after, "12e")["where"].startswith("Robustness; ")
    assert _row(after, "17")["where"].startswith("Robustness; ")
    assert _row(after, "19")["where"] == "Limitations" and _row(after, "19.1")["status"] == "reported"
    changed = (before["where"] != after["where"]).sum()
    assert changed == 6  # 9, 12b, 12e, 17, 19, 19.1


def test_the_appendix_table(demo_study, tmp_path):
    table = checklist.reporting_table(demo_study, _run_folder(tmp_path), language="da")
    assert table.key == "reporting_checklist" and table.check.passed
    assert list(table.frame.columns) == ["Punkt", "Anbefaling", "Status", "Hvor (eller hvorfor ikke)"]
    assert table.frame.iloc[0, 0] == "STROBE 1a" and table.frame.iloc[-1, 0] == "RECORD 22.1"
    assert table.note.startswith(f"{(table.frame['Status'] == 'Besvaret').sum()} af 47 punkter")
    nb = nbformat.read(ROOT / "notebooks" / "80_appendix.ipynb", as_version=4)
    assert any("checklist.reporting_table(cfg, rep.output_dir)" in c.source for c in nb.cells)
