"""The public API: every top-level name imports, and each has an example in its docstring that runs."""

from __future__ import annotations

import doctest
import inspect

import pytest

import helpers


def test_every_public_name_imports():
    for name in helpers.__all__:
        assert getattr(helpers, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        helpers.nothing  # noqa: B018


@pytest.mark.parametrize("name", [n for n in helpers.__all__ if n != "stages"] + ["__init__"])
def test_public_name_has_a_running_example(name):
    obj = helpers if name == "__init__" else getattr(helpers, name)
    doc = inspect.getdoc(obj) or ""
    assert ">>>" in doc, f"helpers.{name} has no example in its docstring"
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(obj, name, globs={name: obj, **vars(inspect.getmodule(obj) or helpers)})
    assert tests and sum(len(t.examples) for t in tests) > 0
    for t in tests:
        runner.run(t)
    assert runner.failures == 0, f"helpers.{name}: {runner.failures} example(s) failed"


def test_stages_module_example():
    results = doctest.testmod(helpers.stages, optionflags=doctest.ELLIPSIS)
    assert results.failed == 0


def test_readme_adapting_a_notebook_names_exist():
    """Every helpers name the README's "Adapting a notebook" section uses exists (the README stays true)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Adapting a notebook")[1].split("\n## ")[0]
    from helpers.report import survival as survival_report

    for name in re.findall(r"survival_report\.(\w+)\(", section):
        assert hasattr(survival_report, name), name
    for stage, attr in re.findall(r"stages\.(\w+)\.(\w+)", section):
        assert hasattr(getattr(helpers.stages, stage), attr), f"stages.{stage}.{attr}"
    listed = re.findall(r"`(\w+)`", section.split("importable from")[1].split("(`from helpers")[0])
    assert set(listed) - {"the"} <= set(helpers.__all__), set(listed) - set(helpers.__all__)
