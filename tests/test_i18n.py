"""The text catalogue: every entry in both languages, every key the code asks for exists, none unused."""

from __future__ import annotations

import ast
import doctest
import re
from pathlib import Path

import pytest

from helpers.core import i18n
from helpers.core.i18n import CatalogueError, catalogue, fields_of, tr

SRC = Path(__file__).resolve().parents[1] / "src" / "helpers"


def _calls():
    """(file, key or None, f-string prefix or None) of every tr(...) call and Table/Figure key in src."""
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            arg = node.args[0]
            if name == "tr":
                prefix = ""
            elif name in ("Table", "Figure"):
                prefix = "caption."
            else:
                continue
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield path, prefix + arg.value, None
            elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                yield path, None, prefix + arg.values[0].value


def test_every_key_asked_for_exists():
    cat = catalogue()
    missing = sorted({f"{p.relative_to(SRC)}: {k}" for p, k, _ in _calls() if k is not None and k not in cat})
    assert not missing, f"catalogue keys missing (add them to src/helpers/data/i18n/*.yaml): {missing}"
    prefixes = {pre for _, _, pre in _calls() if pre}
    dangling = sorted(pre for pre in prefixes if not any(k.startswith(pre) for k in cat))
    assert not dangling, f"no catalogue key starts with {dangling}"


#: Shared vocabulary of common.yaml that may be unused for a while.
SHARED = ("actor.", "actor_phrase.", "group_long.", "mark.")


def _strings():
    """Every string constant in src, and the leading text of every f-string (a key prefix)."""
    constants, prefixes = set(), set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                lead = str(node.values[0].value)
                if lead.endswith(".") and " " not in lead:
                    prefixes.add(lead)
            elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and isinstance(node.left, ast.Constant)
                  and isinstance(node.left.value, str) and node.left.value.endswith(".")):
                prefixes.add(node.left.value)
    return constants, tuple(prefixes)


def test_every_entry_is_used():
    constants, prefixes = _strings()
    calls = list(_calls())
    # a table or figure key held in a variable (key = "survival_events") names its caption
    used = constants | {k for _, k, _ in calls if k} | {f"caption.{c}" for c in constants}
    # Reporter.show asks for f"caption.{item.key}": captions count as used only through a Table/Figure key
    prefixes = tuple(p for p in prefixes + tuple(pre for _, _, pre in calls if pre) if p != "caption.") + SHARED
    unused = sorted(k for k in catalogue() if k not in used and not k.startswith(prefixes))
    assert not unused, f"catalogue entries nothing asks for (remove them or use them): {unused}"


#: Patterns whose languages may take different fields, and why.
FIELDS_MAY_DIFFER = {
    "survival.hr.not_estimable": "the Cox model's note is an English computation remark; Danish says why in words",
}


def test_both_languages_have_the_same_fields():
    differ = {k: (fields_of(k, "en"), fields_of(k, "da")) for k in catalogue()
              if fields_of(k, "en") != fields_of(k, "da") and k not in FIELDS_MAY_DIFFER}
    assert not differ, f"en/da patterns with different fields: {differ}"


def test_lookup_errors_say_what_to_do():
    with pytest.raises(CatalogueError, match="no text 'no.such.key'.*add it in both languages"):
        tr("no.such.key", "en")
    with pytest.raises(CatalogueError, match="needs the field 'min_cell'"):
        tr("mark.fewer_than", "en")
    with pytest.raises(CatalogueError, match="language must be one of"):
        tr("group.control", "de")


def test_malformed_entries_are_refused():
    with pytest.raises(CatalogueError, match="needs exactly the texts.*missing \\['da'\\]"):
        list(i18n._leaves({"a": {"en": "x"}}, "", "test.yaml"))
    with pytest.raises(CatalogueError, match="must be a mapping"):
        list(i18n._leaves({"a": "text"}, "", "test.yaml"))


def test_numbers_in_both_languages():
    assert i18n.number(0.05, 2, "da") == "0,05" and i18n.number(None, 1, "en") == "–"
    assert i18n.percent(0.1429, 1, "da") == "14,3 %" and i18n.count(1234567, "en") == "1,234,567"
    assert i18n.join_and(["a", "b", "c"], "da") == "a, b og c"


def test_doctests():
    assert doctest.testmod(i18n).failed == 0


def test_no_other_translation_helper():
    """Translation has one home: no module defines its own en/da picker."""
    offenders = []
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^def _t\(", text, re.M):
            offenders.append(str(path.relative_to(SRC)))
    assert not offenders, f"own translation helpers (use helpers.core.i18n.tr): {sorted(offenders)}"
