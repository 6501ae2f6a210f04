"""The Danish report reads as Danish: no English words in its prose, a decimal comma in every number (issue 18.9).

No pipeline run: the scan covers every Danish text of the catalogue, the generated methods section
of the Danish study (``studies/fundamentet.yaml``), the provenance sentences, and tables and
figures built from fake results. :func:`english_and_decimal_points` is the scan; its exemptions
(code spans, IDs, file names, versions, dates, section numbers, Danish thousands separators)
are listed where they are decided.
"""

from __future__ import annotations

import re
from pathlib import Path
import string

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from helpers.config import load_study
from helpers.core.i18n import catalogue, tr
from helpers.report import methods, provenance
from helpers.report.plots.ticks import localise_ticks

#: English words that must not stand in Danish prose. Technical terms Danish reports use as
#: they are (bootstrap, hazard ratio, propensity score, Monte Carlo, caliper, forest plot,
#: break-even, seed, intention-to-treat, log-rank) are not listed.
ENGLISH = (
    "the", "and", "with", "from", "of", "is", "are", "was", "not", "none", "age", "sex", "restricted mean",
    "mean time", "weeks", "control", "controls", "intervention", "outcome", "outcomes", "questionnaires",
    "events", "costs", "inclusion list", "employment", "employed", "benefit", "cash", "spell", "matched",
    "matching", "replacement", "clusters", "variance", "merged", "reused", "across", "assumption", "wage",
    "earnings", "verified", "planned", "largest", "smallest", "random", "uncommitted", "changes", "change(s)",
    "CI", "flow af", "person(er)", "ændring(er)", "week", "which", "where", "when", "that", "this",
)
_ENGLISH_RE = re.compile(r"(?<![\w\-/.'])(" + "|".join(re.escape(w) for w in ENGLISH) + r")(?![\w\-])",
                         re.IGNORECASE)
#: A decimal point between digits (``0.05``, ``95.0``), read as a whole token.
_DECIMAL_RE = re.compile(r"(?<![\w.])[-−+]?\d+(?:\.\d+)+(?![\w])")
#: Danish writes a space before the percent sign (``95 %``, ``95 %-KI``), as helpers.core.i18n.percent does.
_PERCENT_RE = re.compile(r"(?<![\w.,])\d+(?:,\d+)?%")
#: Tokens with points that are not decimal points: Danish thousands (``20.000``, ``1.234.567``),
#: a section number at the start of a heading or contents line (``5.4``), versions (``3.11.7``).
_THOUSANDS_RE = re.compile(r"^[-−+]?[1-9]\d{0,2}(?:\.\d{3})+$")
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:\.\d+)*$")
#: Spans that are code, IDs or references, not prose: `code`, file names, URLs, DREAM period
#: codes, ISO weeks, dates, SHA-256 checksums, YAML keys.
_EXEMPT_SPANS = re.compile(
    r"`[^`]*`|https?://\S+|\b[\w\-]+\.(?:csv|yaml|yml|json|xlsx|parquet|html|pdf|zip|py|ipynb|txt|dta|xpt)\b"
    r"|\b\d{4}-W\d{2}\b|\b\d{4}-\d{2}-\d{2}(?:T[\d:+]+)?\b|\b(?:STROBE|RECORD) \d+(?:\.\d+)?[a-e]?\b|\b[0-9a-f]{12,64}\b|\b[a-z]+(?:_[a-z0-9]+)+\b|\b[a-z_]+(?:\.[a-z_0-9]+)+\b")


def english_and_decimal_points(text: str) -> list[str]:
    """English words and decimal points found in Danish ``text`` (empty when it reads as Danish).

    >>> english_and_decimal_points("forskel 7,2 (95 %-KI -1,6 til 16,0) blandt 20.000 personer")
    []
    >>> english_and_decimal_points("alfa 0.05 og styrke 0.8 med 95% CI")
    ['decimal point: 0.05', 'decimal point: 0.8', 'English: CI', 'percent without a space: 95%']
    """
    text = _EXEMPT_SPANS.sub(" ", text)
    found = []
    for token in _DECIMAL_RE.findall(text):
        if not (_THOUSANDS_RE.match(token) or _VERSION_RE.match(token)):
            found.append(f"decimal point: {token}")
    found += [f"English: {m}" for m in _ENGLISH_RE.findall(text)]
    found += [f"percent without a space: {m}" for m in _PERCENT_RE.findall(text)]
    return found


def _without_fields(pattern: str) -> str:
    """A catalogue pattern with its ``{fields}`` blanked (their values are checked where they are formed)."""
    return "".join(literal + (" X " if name is not None else "") for literal, name, _, _ in
                   string.Formatter().parse(pattern))


@pytest.fixture(scope="module")
def fundamentet():
    study = load_study("fundamentet")
    assert study.study.language == "da"
    return study


def test_the_scan_finds_what_it_should():
    assert english_and_decimal_points("arbejdstræet havde 1 ikke-committede ændring(er)") == [
        "English: ændring(er)"]
    assert english_and_decimal_points("matchet på age, sex og restricted mean time") == [
        "English: age", "English: sex", "English: restricted mean"]
    assert english_and_decimal_points("Flow af deltagere") == ["English: Flow af"]
    assert english_and_decimal_points("Python 3.11.7, pandas 2.3.3, 2026-12-03, dream.csv, `0.5`") == []
    assert english_and_decimal_points("58.396 MB, 0.006 MB") == ["decimal point: 0.006"]


def test_every_danish_catalogue_text_reads_as_danish():
    bad = {}
    for key, pair in catalogue().items():
        problems = english_and_decimal_points(_without_fields(pair["da"]))
        if problems:
            bad[key] = problems
    assert not bad, f"{len(bad)} Danish catalogue texts with English words or decimal points: {bad}"


def test_the_generated_methods_section_reads_as_danish(fundamentet):
    items = [methods.design(fundamentet), methods.matching(fundamentet), methods.outcomes(fundamentet),
             methods.tests(fundamentet), methods.disclosure(fundamentet)]
    text = "\n".join(item.markdown for item in items)
    assert english_and_decimal_points(text) == []
    assert "aldrig er blevet screenet" in text and "der er aldrig screenet" not in text
    assert "Alder, år; Køn" in text and "age, sex" not in text
    assert "begrænset middeltid" in text


@pytest.mark.parametrize("changed, words", [(1, "1 ændring, der ikke er committet"),
                                            (3, "3 ændringer, der ikke er committet")])
def test_provenance_counts_uncommitted_changes_in_danish(changed, words):
    state = {"available": True, "commit": "1dd2d3ca6dd0ab", "branch": "main", "dirty": True, "changed_files": changed}
    sentence = provenance.git_sentence(state, "da")
    assert words in sentence and english_and_decimal_points(sentence) == []
    assert ("1 uncommitted change in" in provenance.git_sentence({**state, "changed_files": 1}, "en")
            and "3 uncommitted changes" in provenance.git_sentence({**state, "changed_files": 3}, "en"))


def test_form_names_have_danish_display_names():
    for form, danish in (("screening", "screening"), ("questionnaires", "spørgeskemaer"), ("events", "hændelser"),
                         ("costs", "omkostninger"), ("inclusion_list", "inklusionsliste")):
        assert tr(f"form.{form}", "da") == danish
        assert tr(f"form.{form}", "en") != danish or form == "screening"


def test_danish_figure_ticks_have_a_decimal_comma():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0.0, 0.8])
    ax.set_ylim(0, 1)
    localise_ticks(fig, "da")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert "0,8" in labels and not any("." in t for t in labels), labels


def _cells(frame: pd.DataFrame) -> str:
    return " | ".join([*map(str, frame.columns), *frame.astype(str).to_numpy().ravel()])


def test_outcome_comparison_table_has_a_decimal_comma():
    """Built from fake 1:1 pairs (as tests/test_proportions.py): 12 of 50 against 6 of 50."""
    from helpers.disclosure import outcomes as dout
    from helpers.report import outcomes as rout
    from helpers.stats import outcome_comparison as oc

    rows = []
    for i, (a, b) in enumerate(zip([1] * 12 + [0] * 38, [1] * 6 + [0] * 44, strict=True)):
        rows.append(dict(person_id=f"i{i}", group="intervention", matched_set=i, weight=1.0, value=a))
        rows.append(dict(person_id=f"c{i}", group="control", matched_set=i, weight=1.0, value=b))
    po = pd.DataFrame(rows).assign(outcome="employment", horizon="FU", horizon_weeks=52, exit_status="none",
                                   reported=True)
    res = dout.masked_results(oc.outcome_table(po, primary="employment"), 5)
    da = rout.format_comparison_table(res, 5, language="da").frame
    en = rout.format_comparison_table(res, 5, language="en").frame
    assert english_and_decimal_points(_cells(da.iloc[:, 2:])) == [], _cells(da)  # columns 0-1: the fake's labels
    # the same numbers: 12.0 percentage points (12/50 - 6/50), written 12,0 in Danish
    assert en.iloc[0, 2].startswith("12.0 (") and da.iloc[0, 2].startswith("12,0 (")
    assert en.iloc[0, 2].replace(".", ",").replace(" to ", " til ") == da.iloc[0, 2]


def test_questionnaire_table_has_a_decimal_comma():
    from helpers.report import questionnaires as qreport
    from helpers.stats import questionnaires as q

    persons = [(f"i{k}", "intervention", k) for k in range(8)] + [(f"c{k}", "control", k) for k in range(8)]
    cohort = pd.DataFrame([(p, g, s, 1.0) for p, g, s in persons],
                          columns=["person_id", "group", "matched_set", "weight"])
    forms = pd.DataFrame([(p, t, "self", "health", v) for k, (p, _, _) in enumerate(persons)
                          for t, v in (("baseline", 3 + k % 3), ("followup", 5 + k % 4))],
                         columns=["person_id", "timepoint", "rater", "measure", "value"])
    res = q.questionnaire_results(forms, cohort, None)
    da = qreport.format_questionnaire_table(res, 5, language="da").frame
    text = _cells(da)
    assert english_and_decimal_points(text) == [] and "," in text, text


def test_the_cox_models_remarks_are_translated():
    from helpers.report.survival import cox_note

    for key, fields in (("reused", {"clusters": "63"}), ("constant", {"covariates": "age"}), ("convergence", {}),
                        ("not_converged", {"reason": "singular matrix"}), ("no_events", {})):
        english = tr(f"survival.cox_note.{key}", "en", **fields)  # what helpers.stats.survival.cox writes
        assert cox_note(english, "en") == english
        assert cox_note(english, "da") == tr(f"survival.cox_note.{key}", "da", **fields)
    both = tr("survival.cox_note.reused", "en", clusters=63) + "; " + tr("survival.cox_note.convergence", "en")
    assert english_and_decimal_points(cox_note(both, "da")) == []


def test_danish_notebook_text_reads_as_danish():
    import nbformat

    root = Path(__file__).resolve().parents[1]
    bad = {}
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown" and "lang-da" in cell.metadata.get("tags", []):
                problems = english_and_decimal_points(cell.source)
                if problems:
                    bad[f"{path.name}: {cell.source[:50]}"] = problems
    assert not bad, bad


def test_danish_tables_write_a_space_before_the_percent_sign(tmp_path):
    import json

    from helpers.disclosure import Check
    from helpers.report.reporter import Reporter

    study = load_study("fundamentet")
    rep = Reporter(study, output_dir=tmp_path)
    frame = pd.DataFrame({"Gruppe": ["Indsats", "Kontrol"], "n (%)": ["12 / 96 (12,5%)", "x"],
                          "95%-KI": ["1,0 til 2,0", "–"], "År 1": pd.array([329, None], dtype="Int64")})
    rep.table(frame, "shares", "Andele", Check("shares", "PASS", "ok", detail_da="ok"))
    saved = pd.read_csv(tmp_path / "tables" / "shares.csv", dtype=str)
    assert list(saved.columns) == ["Gruppe", "n (%)", "95 %-KI", "År 1"] and saved.iloc[0, 1] == "12 / 96 (12,5 %)"
    assert saved.iloc[0, 3] == "329"  # a whole-number column with a gap stays whole (not 329.0)
    assert english_and_decimal_points(_cells(saved)) == []
    assert json.loads((tmp_path / "disclosure_log.jsonl").read_text().splitlines()[0])["status"] == "PASS"


def test_power_curves_explain_every_line_in_danish():
    """Issue 18.8: the target line and the planned-n line are in the legend; Danish ticks and label read 0,80."""
    from helpers.report.plots.power import power_curve_plot

    curve = pd.DataFrame({"n": [20, 40, 60], "fisher": [0.2, 0.5, 0.7], "arcsine": [0.25, 0.55, 0.75],
                          "normal": [0.24, 0.54, 0.74]})
    fig, ax = plt.subplots()
    power_curve_plot(curve, ax, target=0.8, planned_n=48, language="da")
    localise_ticks(fig, "da")
    fig.canvas.draw()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    styles = {(line.get_linestyle(), line.get_color()) for line in ax.get_lines()}
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert len(legend) == len(ax.get_lines()) == len(styles) == 5
    assert "Ønsket styrke 0,80" in legend and "Planlagt antal pr. gruppe (48)" in legend
    assert "0,8" in ticks and english_and_decimal_points(" ".join(legend + ticks)) == []
