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


CONTENTS_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 18mm; @bottom-right { content: counter(page) " / " counter(pages); } }
h2 { break-before: page; }
</style></head><body><main>
<nav class="rpt-toc"><h2 style="break-before: auto">Contents</h2><ol>
<li><a href="#sec-1"><span class="rpt-secnum">1</span> Alpha</a></li>
<li><a href="#sec-2"><span class="rpt-secnum">2</span> Bravo</a>
  <ol><li><a href="#sec-2-1"><span class="rpt-secnum">2.1</span> Bravo tail</a></li></ol></li>
<li><a href="#sec-3"><span class="rpt-secnum">3</span> Charlie</a></li>
</ol></nav>
<h2 id="sec-1"><span class="rpt-secnum">1</span> Alpha</h2><p>one page</p>
<h2 id="sec-2"><span class="rpt-secnum">2</span> Bravo</h2><div style="height: 2400px">two and a half pages</div>
<h3 id="sec-2-1"><span class="rpt-secnum">2.1</span> Bravo tail</h3><p>after the tall block</p>
<h2 id="sec-3"><span class="rpt-secnum">3</span> Charlie</h2><p>last</p>
</main></body></html>"""


@needs_chromium
def test_contents_list_has_the_right_page_numbers_and_links(tmp_path):
    """Issue 18.8: two prints put each heading's page into the contents; the entries stay links."""
    from pypdf import PdfReader

    html = tmp_path / "toc.html"
    html.write_text(CONTENTS_PAGE, encoding="utf-8")
    out = pdf.print_pdf(html, tmp_path / "toc.pdf")
    reader = PdfReader(out)
    texts = [p.extract_text() for p in reader.pages]
    # where each heading really is (its text at the start of a line of that page)
    actual = {name: next(i + 1 for i, t in enumerate(texts) if i > 0 and any(
        line.strip() == f"{num} {name}" for line in t.splitlines())) for num, name in
        (("1", "Alpha"), ("2", "Bravo"), ("2.1", "Bravo tail"), ("3", "Charlie"))}
    assert actual == {"Alpha": 2, "Bravo": 3, "Bravo tail": 5, "Charlie": 6}, actual
    assert pdf.heading_pages(out) == {"sec-1": 2, "sec-2": 3, "sec-2-1": 5, "sec-3": 6}
    # the contents page shows those numbers, one per entry, in the entries' order
    contents = [line.strip() for line in texts[0].splitlines()]
    assert [line for line in contents if line.isdigit()] == [str(actual[n]) for n in
                                                            ("Alpha", "Bravo", "Bravo tail", "Charlie")], contents
    links = [a.get_object() for a in reader.pages[0].get("/Annots") or []]
    assert sorted(str(a["/Dest"]) for a in links if a.get("/Subtype") == "/Link") == [
        "/sec-1", "/sec-2", "/sec-2-1", "/sec-3"]
    assert not list(tmp_path.glob(".toc.*.print.html"))  # the print copy is removed


def test_page_numbers_go_into_the_contents_without_chromium():
    text = pdf.with_page_numbers(CONTENTS_PAGE, {"sec-1": 2, "sec-2": 3, "sec-2-1": 5, "sec-3": 12})
    from bs4 import BeautifulSoup

    spans = [s.get_text() for s in BeautifulSoup(text, "html.parser").select("nav.rpt-toc .rpt-toc-page")]
    assert spans == ["2", "3", "5", "12"]
    placeholders = BeautifulSoup(pdf.with_page_numbers(CONTENTS_PAGE, None), "html.parser")
    assert [s.get_text() for s in placeholders.select(".rpt-toc-page")] == ["00"] * 4
    assert pdf.with_page_numbers("<p>no contents</p>", None) == "<p>no contents</p>"
