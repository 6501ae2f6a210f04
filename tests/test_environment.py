"""The environment definitions agree, and the repository follows its own conventions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"].get("optional-dependencies", {}).values():
        reqs += extra
    pins = {}
    for req in reqs:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([0-9][^;\s]*)", req.strip())
        assert m, f"pyproject.toml: dependency {req!r} is not pinned with =="
        pins[_norm(m.group(1))] = m.group(2)
    return pins


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict) or dep.startswith(("python=", "pip")) and "=" not in dep[3:]:
            continue
        if dep.startswith("python="):
            continue
        name, _, version = dep.partition("=")
        pins[_norm(name)] = version
    return pins


def test_pyproject_and_environment_declare_the_same_pins():
    py, conda = _pyproject_pins(), _environment_pins()
    only_py = sorted(set(py) - set(conda))
    only_conda = sorted(set(conda) - set(py))
    assert not only_py and not only_conda, f"only in pyproject: {only_py}; only in environment.yml: {only_conda}"
    differ = {k: (py[k], conda[k]) for k in py if py[k] != conda[k]}
    assert not differ, f"versions differ (pyproject, environment.yml): {differ}"


def test_lifelines_and_pandas_pins_resolve_together():
    pins = _pyproject_pins()
    assert pins["lifelines"] == "0.30.3"
    major, minor = (int(x) for x in pins["pandas"].split(".")[:2])
    assert (2, 2) <= (major, minor) < (3, 0), "lifelines 0.30.3 requires pandas >=2.2,<3"


def test_installed_versions_match_the_pins():
    from importlib.metadata import PackageNotFoundError, version

    wrong = {}
    for name, pinned in _pyproject_pins().items():
        try:
            got = version(name)
        except PackageNotFoundError:
            wrong[name] = (pinned, None)
            continue
        if got != pinned:
            wrong[name] = (pinned, got)
    assert not wrong, f"installed versions differ from the pins (pinned, installed): {wrong}; run `make env`"


NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_pipeline_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_no_outputs_and_one_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected exactly one cell tagged 'parameters', found {len(tagged)}"
    params = nb.cells[tagged[0]]
    assert params.cell_type == "code" and re.search(r"^study\s*=\s*['\"]demo['\"]", params.source, re.M), (
        f"{path.name}: the parameters cell must default to study = \"demo\""
    )
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: cell {i} has outputs; run `make strip`"
            assert cell.execution_count is None, f"{path.name}: cell {i} has an execution count; run `make strip`"


def test_notebooks_are_numbered_uniquely():
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert len(numbers) == len(set(numbers)), f"duplicate notebook numbers: {numbers}"


def test_nbstripout_is_configured():
    cfg = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [h["id"] for repo in cfg["repos"] for h in repo["hooks"]]
    assert "nbstripout" in hooks


def test_make_help_lists_the_targets():
    text = (ROOT / "Makefile").read_text()
    for target in ("report", "test", "data", "lab", "bench", "clean", "pdf", "supplement"):
        assert re.search(rf"^## {target}:", text, re.M), f"Makefile: target {target} is not documented for make help"


def test_ci_runs_make_test():
    text = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\s*$", text, re.M)
    assert "set -euo pipefail" in text
