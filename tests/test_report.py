"""Report assembly on fake executed notebooks: order, numbering, language, clean-up, gate, manifest."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml
from _report_fakes import SECRET_CPR, SECRET_PSEUDONYM, make_staging, study_copy
from bs4 import BeautifulSoup
from PIL import Image

from helpers import runner
from helpers.core import paths
from helpers.report import assemble

ROOT = Path(__file__).resolve().parents[1]


def build(tmp_path, study, **kw):
    staging = tmp_path / "staging"
    make_staging(staging, study, **kw)
    html = assemble.build_report(study, staging, timings={"02_cohort.ipynb": 1.5}, started=None, log=lambda *_: None)
    return staging, html.read_text(encoding="utf-8")


def text_of(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text(" ", strip=True)


@pytest.fixture
def en(demo_study):
    return study_copy(demo_study, language="en")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One English report shared by the read-only tests: (study, staging, html)."""
    from helpers.config import load_study

    study = study_copy(load_study("demo"), language="en")
    staging, html = build(tmp_path_factory.mktemp("built"), study, figures=3)
    return study, staging, html


@pytest.fixture
def da(demo_study):
    return study_copy(demo_study, language="da")


def test_title_summary_contents_then_numbered_sections(built):
    en, _, html = built
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main")
    order = [t.name for t in main.find_all(["header", "nav", "h2"], recursive=True)]
    assert order[:3] == ["header", "h2", "nav"]  # title block, summary (front), contents
    assert main.find("header").find("h1").get_text() == en.study.title
    summary = main.find_all("h2")[0]
    assert summary.get_text() == "Summary" and "rpt-section" not in summary.get("class", [])
    sections = [h.get_text(" ", strip=True) for h in main.find_all(["h2", "h3"]) if h.get("id", "").startswith("sec-")]
    assert sections == ["1 Data and population", "1.1 Flow diagram", "2 Outcomes", "3 Disclosure checklist"]
    toc = [a.get_text(" ", strip=True) for a in soup.select("nav.rpt-toc a")]
    assert toc == ["1 Data and population", "1.1 Flow diagram", "2 Outcomes", "3 Disclosure checklist"]
    assert [a["href"] for a in soup.select("nav.rpt-toc a")] == ["#sec-1", "#sec-1-1", "#sec-2", "#sec-3"]
    # the front-matter summary comes before the first numbered section
    assert html.index("The programme group did better.") < html.index('id="sec-1"')


def test_tables_figures_numbered_and_cross_referenced(built):
    _, _, html = built
    soup = BeautifulSoup(html, "html.parser")
    assert [s.get_text() for s in soup.select("span.rpt-tabnum")][0] == "Table 1."
    assert [s.get_text() for s in soup.select("figure span.rpt-fignum")] == ["Figure 1.", "Figure 2.", "Figure 3."]
    assert '<a class="rpt-ref" href="#tab-employment_by_group">Table 1</a>' in html
    assert '<a class="rpt-ref" href="#fig-fig_0">Figure 1</a>' in html
    assert "[[ref:" not in html
    assert all(img["src"].startswith("data:image/png;base64,") for img in soup.find_all("img"))


def test_language_filter_and_danish_labels(tmp_path, da):
    _, html = build(tmp_path, da)
    text = text_of(html)
    assert '<html lang="da">' in html
    for word in ("Sammenfatning", "Indhold", "1 Data og population", "1.1 Flowdiagram", "Tabel 1.", "Figur 1.",
                 "Rapportdato", "Prosa på dansk", "Indsatsgruppen klarede sig bedre", "Antal under grænsen er skjult",
                 "Begrundelse", "Denne tjekliste", "syntetiske data"):
        assert word in text, word
    for word in ("Prose in", "Summary", "Contents", "Table 1", "Figure 1", "did better", "Report date"):
        assert word not in text, word
    assert "Text shown in both languages without a tag." in text


def test_no_code_prompts_parameters_or_unpublishable_outputs(built):
    _, staging, html = built
    for bad in ('study = "demo"', "Parameters injected", "In&nbsp;[", "In [", "Out[", "x = 1", "rep.table(",
                "printed row", SECRET_CPR, SECRET_PSEUDONYM, "plain display(df)", "jp-InputArea-editor",
                "highlight"):
        assert bad not in html, bad
    warnings = (staging / "assembly_warnings.txt").read_text()
    assert "02_cohort.ipynb cell 9" in warnings and "stream:stdout x1" in warnings and "execute_result x1" in warnings


def test_page_is_self_contained(built):
    _, _, html = built
    assert assemble.check_self_contained(html) == []
    assert not re.search(r"<script", html, re.I)
    plain = re.sub(r'data:image/[^"]+', "", html).lower()  # base64 may spell anything
    assert "cdn" not in plain and "mathjax" not in plain and "require" not in plain and "http" not in plain
    assert "@page" in html and "break-inside: avoid" in html and "size: A4" in html
    # the checker itself recognises what it must reject
    assert assemble.check_self_contained('<script src="https://cdn.jsdelivr.net/x.js"></script>')
    assert assemble.check_self_contained('<img src="figure.png">')


def test_checklist_is_complete_numbered_and_last(built):
    _, _, html = built
    soup = BeautifulSoup(html, "html.parser")
    rows = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in soup.select("table.rpt-checklist tbody tr")]
    assert [(r[0], r[3]) for r in rows[:4]] == [("Table 1", "PASS"), ("Figure 1", "PASS"), ("Figure 2", "PASS"),
                                                ("Figure 3", "PASS")]
    assert "This checklist" in rows[-1][1] and rows[-1][3] == "–"
    # nothing but the run-time slot and the footer follows the checklist
    after = html[html.index('class="rpt-checklist-summary"'):]
    assert 'class="rpt-figure"' not in after and 'class="rpt-table-wrap' not in after


def test_checklist_appended_when_no_notebook_shows_it(tmp_path, en):
    staging = tmp_path / "staging"
    make_staging(staging, en)
    (staging / "notebooks" / "80_appendix.ipynb").unlink()
    html = assemble.build_report(en, staging, log=lambda *_: None).read_text()
    soup = BeautifulSoup(html, "html.parser")
    last = [h.get_text(" ", strip=True) for h in soup.select("h2.rpt-section")][-1]
    assert last == "3 Disclosure checklist"
    assert soup.select("table.rpt-checklist")


def test_identifier_in_the_page_refuses_the_report(tmp_path, en):
    staging = tmp_path / "staging"
    make_staging(staging, en, leak=f"person {SECRET_CPR}")
    with pytest.raises(assemble.DisclosureFailure, match="CPR-shaped"):
        assemble.build_report(en, staging, log=lambda *_: None)
    assert not (staging / "report.html").exists()


def test_unmasked_small_count_fails_the_gate(tmp_path, en):
    staging, html = build(tmp_path, en, small_count=True)
    with pytest.raises(assemble.DisclosureFailure, match="employment_by_group"):
        assemble.disclosure_gate(en, staging)
    rows = {r["key"]: r for r in assemble.read_disclosure_log(staging)}
    assert rows["employment_by_group"]["status"] == "FAIL"
    assert "unmasked count(s) below 5 in n (1)" in rows["employment_by_group"]["detail"]
    assert "INTERNAL USE ONLY" in html and 'class="rpt-fail"' in html


def test_gate_allows_failures_only_when_the_study_says_so(tmp_path, en):
    internal = study_copy(en, allow_disclosure_failures=True)
    staging, _ = build(tmp_path, internal, small_count=True)
    assemble.disclosure_gate(internal, staging)  # no exception


def test_manifest_and_artefacts(built):
    en, staging, _ = built
    manifest = json.loads((staging / "manifest.json").read_text())
    for key in ("inputs", "study_yaml", "parameters", "packages", "all_packages", "git", "python",
                "notebook_seconds", "outputs", "created"):
        assert key in manifest, key
    assert manifest["parameters"] == en.resolved()
    assert manifest["notebook_seconds"] == {"02_cohort.ipynb": 1.5}
    assert manifest["packages"]["pandas"] and "commit" in manifest["git"] and "dirty" in manifest["git"]
    assert "study:" in manifest["study_yaml"]["text"] and len(manifest["study_yaml"]["sha256"]) == 64
    outputs = {o["path"] for o in manifest["outputs"]}
    assert {"report.html", "tables/employment_by_group.csv", "tables/employment_by_group.xlsx",
            "figures/fig_0.png", "figures/fig_0.svg"} <= outputs
    dpi = Image.open(staging / "figures" / "fig_0.png").info["dpi"]
    assert round(dpi[0]) == 300


# ------------------------------------------------------------------ the real notebooks
@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A project root with only notebooks 80 and 90 and a study whose raw inputs are stubs."""
    for d in ("studies", "notebooks", "reports", "raw"):
        (tmp_path / d).mkdir()
    data = yaml.safe_load((ROOT / "studies" / "demo.yaml").read_text(encoding="utf-8"))
    data["study"]["name"] = "mini"
    data["data"]["raw_dir"] = str(tmp_path / "raw")
    for f in ("dream.csv", "screening.csv", "questionnaires.csv", "events.csv", "costs.csv"):
        (tmp_path / "raw" / f).write_text("x\n")
    (tmp_path / "studies" / "mini.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for nb in ("80_appendix.ipynb", "90_summary.ipynb"):
        shutil.copy(ROOT / "notebooks" / nb, tmp_path / "notebooks" / nb)
    monkeypatch.setenv("DREAM_EVAL_ROOT", str(tmp_path))  # the kernels resolve paths from it
    for name, sub in (("PROJECT_ROOT", ""), ("STUDIES_DIR", "studies"), ("REPORTS_DIR", "reports"),
                      ("NOTEBOOKS_DIR", "notebooks"), ("PROCESSED_DIR", "processed")):
        monkeypatch.setattr(paths, name, tmp_path / sub if sub else tmp_path)
    return tmp_path


@pytest.mark.slow
def test_appendix_and_summary_notebooks_run_and_assemble(sandbox):
    result = runner.run("mini", pdf=False, log=lambda *_: None)
    html = result.html.read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    sections = [h.get_text(" ", strip=True) for h in soup.select("h2.rpt-section")]
    assert sections == ["1 Methods", "2 Limitations", "3 Provenance", "4 Reporting checklist (STROBE and RECORD)",
                        "5 Disclosure checklist"]
    subs = [h.get_text(" ", strip=True) for h in soup.select("h3")]
    assert subs[:6] == ["1.1 Study design, index week and eligibility", "1.2 Matching", "1.3 Outcome definitions",
                        "1.4 Estimators and tests", "1.5 Disclosure control", "1.6 Software"]
    text = text_of(html)
    # summary first, saying which stages did not run; methods written from the YAML
    assert text.index("The cohort stage did not run") < text.index("1 Methods")
    assert "municipality 183" in text and "aged 18 to 65" in text and "nearest-neighbour matching 1:1" in text
    assert "Mahalanobis distance" in text
    assert "Fisher's exact test" in text and "Counts of 1 to 4 persons are masked" in text
    assert "Run started" in text and "80_appendix.ipynb" in text  # the run-time slot was filled
    # limitations from the run: with no cohort stage only the ones the study file decides
    assert "Non-random assignment." in text and text.index("2 Limitations") < text.index("3 Provenance")
    checklist = [tr.find_all("td")[1].get_text() for tr in soup.select("table.rpt-checklist tbody tr")]
    assert any("provenance_inputs" in c for c in checklist) and "This checklist" in checklist[-1]
    manifest = json.loads((result.report_dir / "manifest.json").read_text())
    assert set(manifest["notebook_seconds"]) == {"80_appendix.ipynb", "90_summary.ipynb"}
    # committed notebooks stay clean (no outputs), and every narrative cell exists in both languages
    for name in ("80_appendix.ipynb", "90_summary.ipynb"):
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
        en = sum("lang-en" in c.metadata.get("tags", []) for c in nb.cells)
        assert en and en == sum("lang-da" in c.metadata.get("tags", []) for c in nb.cells)


# ------------------------------------------------------------------ generated prose
def _aggregates(folder: Path) -> None:
    import pandas as pd

    pd.DataFrame({"group": ["intervention"] * 50 + ["control"] * 50}).to_parquet(folder / "cohort.parquet")
    pd.DataFrame([
        {"outcome": "employment", "outcome_label": "Employed", "horizon": "FU", "horizon_label": "End of programme",
         "role": "primary", "pct_int": 24.0, "pct_ctl": 6.0, "rd": 0.18, "rd_lower": 0.04, "rd_upper": 0.31,
         "headline_rd": 0.18, "headline_lower": 0.04, "headline_upper": 0.31,
         "p_value": 0.0214, "p_adjusted": 0.0214, "masked_int": False, "masked_ctl": False},
        {"outcome": "employment", "outcome_label": "Employed", "horizon": "Y1", "horizon_label": "1 year after",
         "role": "primary", "pct_int": float("nan"), "pct_ctl": 2.0, "rd": 0.1, "rd_lower": 0.0, "rd_upper": 0.2,
         "headline_rd": 0.1, "headline_lower": 0.0, "headline_upper": 0.2, "p_value": 0.3, "p_adjusted": 0.3, "masked_int": True, "masked_ctl": False},
        {"outcome": "praktik", "outcome_label": "Praktik", "horizon": "FU", "horizon_label": "End of programme",
         "role": "secondary", "pct_int": 60.0, "pct_ctl": 10.0, "rd": 0.5, "rd_lower": 0.3, "rd_upper": 0.6,
         "p_value": 0.0001, "p_adjusted": 0.0003, "masked_int": False, "masked_ctl": False},
    ]).to_parquet(folder / "outcome_results.parquet")
    (folder / "survival_results.json").write_text(json.dumps(
        {"hr": 2.31, "hr_ci_low": 1.2, "hr_ci_high": 4.45, "hr_p": 0.012, "rmst_difference_weeks": 21.5,
         "rmst_difference_ci_low": 3.25, "rmst_difference_ci_high": 40.0, "rmst_horizon_weeks": 260}))
    (folder / "investment_results.json").write_text(json.dumps(
        {"npv": {"municipality": {"estimate": -1.3e6, "ci_low": -3e6, "ci_high": 0.5e6},
                 "public": {"estimate": 2.5e6, "ci_low": -1e6, "ci_high": 6e6}},
         "horizon_total_years": 10, "p_npv_positive": 0.83}))


def _summary(study, folder, language):
    """The summary composed from the hand-made aggregates of :func:`_aggregates`."""
    import pandas as pd

    from helpers.report import summary
    from helpers.stages.survival import SurvivalResult

    groups = pd.read_parquet(folder / "cohort.parquet")["group"].value_counts()
    # a partial result: only the fields the summary reads (model_construct skips validation)
    surv = SurvivalResult.model_construct(**json.loads((folder / "survival_results.json").read_text()))
    return summary.compose(study, language, group_sizes=(int(groups["intervention"]), int(groups["control"])),
                           outcome_rows=pd.read_parquet(folder / "outcome_results.parquet"), survival_result=surv,
                           investment_results=json.loads((folder / "investment_results.json").read_text()))


def test_summary_is_written_from_aggregates_in_both_languages(tmp_path, en, monkeypatch):
    monkeypatch.setattr(paths, "PROCESSED_DIR", tmp_path / "processed")
    _aggregates(tmp_path)
    text = "\n".join(_summary(en, tmp_path, "en"))
    assert "compares 50 persons who took part in the programme with 50 control persons" in text
    assert ("End of programme: 24% in the programme group vs 6% of controls, difference 18.0 percentage points "
            "(95% CI 4.0 to 31.0; p = 0.021)") in text
    assert "1 year after: not shown (too few persons)" in text
    assert "statistically significant (p < 0.05) at 1 of 2 follow-up points" in text
    assert "Of 1 comparisons of secondary outcomes, 1 show" in text
    assert "reached it faster than the controls: hazard ratio 2.31 (95% CI 1.20 to 4.45; p = 0.012)" in text
    # the municipality's interval covers 0: no direction is claimed (issue 18.5)
    assert ("for the municipality no clear net gain or cost (net present value -1.3 million, 95% interval -3.0 "
            "to 0.5)") in text
    assert ("for the public sector as a whole no clear net gain or cost (net present value 2.5 million, 95% interval "
            "-1.0 to 6.0)") in text
    assert "net gain of DKK" not in text and "net cost of DKK" not in text
    assert "Over 10 years" in text and "In 83% of the simulated scenarios" in text
    da = "\n".join(_summary(en, tmp_path, "da"))
    assert "24 % i indsatsgruppen mod 6 % af kontrolpersonerne, forskel 18,0 procentpoint" in da
    assert "hazard ratio 2,31 (95 %-KI 1,20 til 4,45; p = 0,012)" in da
    assert "for kommunen hverken en klar nettogevinst eller en klar nettoudgift (nutidsværdi -1,3 mio. kr." in da


def test_summary_says_which_stages_did_not_run(tmp_path, en, monkeypatch):
    from helpers.report import summary
    monkeypatch.setattr(paths, "PROCESSED_DIR", tmp_path / "processed")
    text = " ".join(summary.paragraphs(en, tmp_path / "empty", "en"))
    for stage in ("cohort stage did not run", "outcome stage did not run", "time-to-event stage did not run",
                  "investment stage did not run"):
        assert stage in text


def test_reporter_table_shows_missing_nullable_values_as_blank(demo_study, tmp_path, monkeypatch):
    import pandas as pd

    from helpers.disclosure import Check
    from helpers.report.reporter import Reporter

    shown = []
    monkeypatch.setattr("helpers.report.reporter.display", lambda obj, **kw: shown.append(obj))
    rep = Reporter(demo_study, output_dir=tmp_path)
    frame = pd.DataFrame({"Year": ["1", "2"], "Value": pd.array([None, 329], dtype="Int64")})
    rep.table(frame, "na_table", ("Caption", "Billedtekst"), Check(item="na_table", status="PASS", detail="x",
                                                                    detail_da="x"))
    html_text = shown[-1].data
    assert "&lt;NA&gt;" not in html_text and "<NA>" not in html_text
    assert ">329<" in html_text


def test_methods_data_sentence_follows_the_extract_and_the_forms(tmp_path, demo_study, monkeypatch):
    """Issue 13's report side: the weeks held, no monthly employment, the inclusion list, the residence assumption."""
    from helpers.config.schema.data import InclusionList
    from helpers.ingest.result import IngestResult
    from helpers.report import methods

    monkeypatch.setattr(paths, "PROCESSED_DIR", tmp_path)
    study = demo_study.model_copy(deep=True)
    (tmp_path / study.name).mkdir()
    IngestResult(study=study.name, persons=6, weeks=261, first_week=1, last_week=261, first_iso_week="2019-W01",
                 last_iso_week="2023-W52", months=0, first_month=None, last_month=None, grad_scale=None,
                 residence_rows=6, forms={}, unknown_codes_policy="warn", category_counts=[], unknown_codes=[],
                 validity_warnings=[], warnings=[], seconds=0.1).save(tmp_path / study.name)
    forms = study.data.forms
    forms.screening, forms.questionnaires, forms.events = None, None, None
    forms.inclusion_list = InclusionList(path="inclusion.csv")
    study.data.dream.municipality_assumed = 183
    en = methods.data_text(study, "en")
    assert "from 2019-W01 to 2023-W52 (the weeks the extract holds; the study file names 2008 to 2025)" in en
    assert "without monthly employment (the extract has none" in en
    assert "linked to the project's inclusion list and cost form" in en
    assert "every person is taken to live in municipality 183" in en
    assert "inklusionsliste og omkostningsskema" in methods.data_text(study, "da")


def test_summary_says_why_a_stage_was_skipped(tmp_path, en, monkeypatch):
    from helpers.report import summary

    monkeypatch.setattr(paths, "PROCESSED_DIR", tmp_path / "processed")
    out = tmp_path / "staging"
    out.mkdir()
    (out / "skipped_sections.json").write_text(json.dumps([{
        "notebook": "06_investment.ipynb", "reason_en": "the study has no intervention costs",
        "reason_da": "studiet har ingen omkostninger til indsatsen"}]))
    text = " ".join(summary.paragraphs(en, out, "en"))
    assert "The investment calculation was skipped: the study has no intervention costs." in text
    assert "investment stage did not run" not in text and "cohort stage did not run" in text
    da = " ".join(summary.paragraphs(en, out, "da"))
    assert "Investeringsberegningen er sprunget over: studiet har ingen omkostninger til indsatsen." in da


def test_summary_and_council_count_persons_not_control_places(en):
    """Issue 18.6: '192 kontrolpersoner' where the cohort has 150 different persons in 192 control places."""
    from helpers.report import summary

    text = summary.population(en, "en", (96, 192, 150))
    assert "150 different control persons in 192 control places (matching with replacement" in text
    assert "with 50 control persons from the register" in summary.population(en, "en", (50, 50, 50))
    assert "150 forskellige kontrolpersoner på 192 kontrolpladser" in summary.population(en, "da", (96, 192, 150))
