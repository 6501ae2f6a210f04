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
