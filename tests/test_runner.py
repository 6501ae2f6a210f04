"""The papermill runner: order, failure messages, and the previous report surviving a failure."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from helpers import runner
from helpers.core import paths

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, code: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('study = "demo"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(c) for c in code]
    nb.metadata["kernelspec"] = {"name": "dream-eval", "display_name": "Python (dream-eval)", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A project root with one study whose inputs exist, and a notebooks folder."""
    (tmp_path / "studies").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "reports").mkdir()
    data = yaml.safe_load((ROOT / "studies" / "demo.yaml").read_text())
    data["study"]["name"] = "mini"
    raw = tmp_path / "raw"
    raw.mkdir()
    data["data"]["raw_dir"] = str(raw)
    for f in ("dream.csv", "screening.csv", "questionnaires.csv", "events.csv", "costs.csv"):
        (raw / f).write_text("x\n")
    (tmp_path / "studies" / "mini.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(paths, "STUDIES_DIR", tmp_path / "studies")
    monkeypatch.setattr(paths, "REPORTS_DIR", tmp_path / "reports")
    monkeypatch.setattr(paths, "NOTEBOOKS_DIR", tmp_path / "notebooks")
    monkeypatch.setattr(paths, "PROCESSED_DIR", tmp_path / "processed")
    return tmp_path


def test_runs_notebooks_in_order_and_publishes(sandbox):
    nbdir = sandbox / "notebooks"
    _notebook(nbdir / "02_second.ipynb", ["import os; open(os.environ['DREAM_EVAL_OUTPUT_DIR'] + '/order.txt','a').write('2')"])
    _notebook(nbdir / "01_first.ipynb", ["import os; open(os.environ['DREAM_EVAL_OUTPUT_DIR'] + '/order.txt','a').write('1')"])
    result = runner.run("mini", pdf=False, log=lambda *_: None)
    assert (result.report_dir / "order.txt").read_text() == "12"
    assert result.html.exists() and result.html.name == "report.html"
    assert sorted(p.name for p in (result.report_dir / "notebooks").iterdir()) == ["01_first.ipynb", "02_second.ipynb"]
    # the executed copy carries papermill's injected study parameter
    executed = nbformat.read(result.report_dir / "notebooks" / "01_first.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)


def test_failure_names_notebook_and_cell_and_keeps_previous_report(sandbox):
    nbdir = sandbox / "notebooks"
    _notebook(nbdir / "01_ok.ipynb", ["x = 1"])
    runner.run("mini", pdf=False, log=lambda *_: None)
    previous = (sandbox / "reports" / "mini" / "report.html").read_bytes()

    _notebook(nbdir / "02_broken.ipynb", ["y = 2", "raise ValueError('bad column in forms')"])
    with pytest.raises(runner.NotebookFailed) as err:
        runner.run("mini", pdf=False, log=lambda *_: None)
    message = str(err.value)
    assert "02_broken.ipynb" in message
    assert "cell 3" in message and "ValueError" in message and "bad column in forms" in message
    assert (sandbox / "reports" / "mini" / "report.html").read_bytes() == previous
    assert not list((sandbox / "reports").glob(".staging-*"))


def test_invalid_study_stops_before_running(sandbox, capsys):
    path = sandbox / "studies" / "mini.yaml"
    path.write_text(path.read_text().replace("ratio: 1", "ratio: many"))
    code = runner.main(["--study", "mini", "--no-pdf"])
    assert code == 2
    assert "matching.ratio" in capsys.readouterr().err


def test_notebook_list_is_sorted(tmp_path):
    for name in ("10_b.ipynb", "02_a.ipynb", "notes.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in runner.notebooks(tmp_path)] == ["02_a.ipynb", "10_b.ipynb"]
    shutil.rmtree(tmp_path)


def test_kernel_sockets_are_private_to_the_run(tmp_path):
    """Two runs from the same notebooks folder must not share IPC socket names (they did: "Invalid Signature")."""
    from helpers.runner import _ipc_kernel_manager

    a = _ipc_kernel_manager(str(tmp_path / "a" / "01"))()
    b = _ipc_kernel_manager(str(tmp_path / "b" / "01"))()
    assert a.transport == b.transport == "ipc"
    assert a.ip == str(tmp_path / "a" / "01") and a.ip != b.ip
