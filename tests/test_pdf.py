"""PDF printing and browser loading with a headless Chromium (skipped, with the reason, when none is installed)."""

from __future__ import annotations

import pytest
from _report_fakes import make_staging, study_copy
from PIL import Image

from helpers.report import assemble, pdf

CHROMIUM = pdf.find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no headless Chromium on PATH: apt-get install -y --no-install-recommends chromium-headless-shell "
           "(or set DREAM_EVAL_CHROMIUM); .ci/run installs it when it can",
)
A4 = (595.28, 841.89)  # points


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from helpers.config import load_study

    study = study_copy(load_study("demo"), language="en")
    staging = tmp_path_factory.mktemp("pdf")
    make_staging(staging, study, figures=3)
    return assemble.build_report(study, staging, log=lambda *_: None)


@needs_chromium
def test_pdf_is_a4_with_text_and_figures(report, tmp_path):
    from pypdf import PdfReader

    out = pdf.print_pdf(report, tmp_path / "report.pdf")
    reader = PdfReader(out)
    assert len(reader.pages) > 1
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - A4[0]) < 1 and abs(float(box.height) - A4[1]) < 1
    text = "\n".join(p.extract_text() for p in reader.pages)
    for words in ("Holistic social-medicine programme", "Table 1", "Figure 3", "Disclosure checklist"):
        assert words in text, words
    # three figures, three images: a figure split by a page break would appear on two pages
    assert sum(len(p.images) for p in reader.pages) == 3


@needs_chromium
def test_page_loads_without_console_messages_and_renders(report, tmp_path):
    shot = tmp_path / "shot.png"
    run = pdf.load_page(report, screenshot=shot, width=1100, height=1400)
    assert run.console == [], run.console
    img = Image.open(shot).convert("L")
    assert img.size == (1100, 1400)
    low, high = img.getextrema()
    assert high - low > 100  # not a blank page
    dom = pdf.load_page(report)
    assert dom.console == [] and "Table 1." in dom.stdout and "<script" not in dom.stdout


@needs_chromium
def test_console_errors_are_detected(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<html><body><p>x</p><script>console.error('boom'); missing();</script></body></html>")
    run = pdf.load_page(page)
    assert any("boom" in line for line in run.console)
    assert any("missing" in line for line in run.console)


def test_missing_chromium_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "find_chromium", lambda: None)
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)  # no apt-get either
    with pytest.raises(pdf.ChromiumMissing, match="apt-get install -y --no-install-recommends chromium-headless-shell"):
        pdf.ensure_chromium(log=lambda *_: None)
    (tmp_path / "r.html").write_text("<p>x</p>")
    with pytest.raises(pdf.ChromiumMissing):
        pdf.print_pdf(tmp_path / "r.html", tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_cli_without_report_names_the_command(tmp_path, capsys):
    code = pdf.main(["--study", "demo", "--html", str(tmp_path / "none.html")])
    assert code == 2 and "make report" in capsys.readouterr().err
