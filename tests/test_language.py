"""Both report languages: every generated caption, sentence and checklist reason exists in da and en."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_disclosure_check_has_a_danish_reason():
    missing = []
    for path in (ROOT / "src" / "helpers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                keywords = {k.arg for k in node.keywords}
                if name == "Check" and None not in keywords and "detail_da" not in keywords:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not missing, f"Check(...) without detail_da: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_text_exists_in_both_languages(path):
    nb = nbformat.read(path, as_version=4)
    tags = [set(c.metadata.get("tags", [])) for c in nb.cells if c.cell_type == "markdown"]
    en = sum("lang-en" in t for t in tags)
    da = sum("lang-da" in t for t in tags)
    untagged = sum(not ({"lang-en", "lang-da"} & t) for t in tags)
    assert en == da, f"{path.name}: {en} English and {da} Danish markdown cells"
    assert untagged == 0, f"{path.name}: {untagged} markdown cell(s) without a lang-en/lang-da tag"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_captions_are_given_in_both_languages(path):
    nb = nbformat.read(path, as_version=4)
    single = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("table", "figure") and getattr(node.func.value, "id", "") == "rep"):
                caption = node.args[2] if len(node.args) > 2 else next(
                    (k.value for k in node.keywords if k.arg == "caption"), None)
                if isinstance(caption, ast.Constant):
                    single.append(ast.unparse(caption)[:60])
    assert not single, f"{path.name}: captions in one language only: {single}"


def test_investment_texts_exist_in_both_languages():
    """The council page, the balance items, the council figure and the tornado labels: English and Danish."""
    import string

    from _investment_fakes import investment_result

    from helpers.core.i18n import catalogue
    from helpers.report import council

    def fields(text):
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    cat = catalogue()
    for name in ("council.", "investment.balance_item.", "council.figure_text.", "investment.parameter.",
                 "actor_phrase."):
        table = {k: v for k, v in cat.items() if k.startswith(name)}
        assert table, f"no catalogue entries {name}*"
        for key, pair in table.items():
            assert len(pair) == 2 and all(p.strip() for p in pair.values()), f"{key} lacks a language"
            assert fields(pair["en"]) == fields(pair["da"]), f"{key}: placeholders differ between languages"
    results = investment_result(
        {"actors": {a: {"npv": 1e6, "npv_low": -1e6, "npv_high": 2e6, "costs": 1e6 if a != "state" else 0,
                        "payback_year_pv": 3.0} for a in ("municipality", "state", "public")},
         "horizon_total_years": 5, "n_intervention": 20, "n_control": 20, "settings": {"horizon_years": 3},
         "break_even": [{"actor": "municipality", "persons_needed": 2.0, "observed_equivalent": 3.0}],
         "p_npv_positive_by_actor": {"municipality": 0.6, "public": 0.7}})
    en, da = council.paragraphs(results, "en"), council.paragraphs(results, "da")
    assert len(en) == len(da) and all(e and d and e != d for e, d in zip(en, da, strict=True))
    assert council.closing("en", synthetic=True) != council.closing("da", synthetic=True)
