"""Assemble the executed notebooks into one self-contained, numbered HTML report.

What :func:`build_report` does with ``<staging>/notebooks/NN_*.ipynb``:

1. keeps the cells of the study's language (drops cells tagged ``lang-<other>``), drops
   parameter cells, papermill's injected-parameter cells and cells tagged ``remove_cell``;
2. publishes only outputs that came through :class:`helpers.report.reporter.Reporter` (or Markdown
   text): printed output, bare expression results, warnings and stray figures are dropped
   and listed as assembly warnings, so no individual row reaches the report by accident;
3. puts a title block first, then every cell tagged ``front`` (the plain-language summary
   of ``90_summary``), then a table of contents, then the sections in notebook order;
4. numbers ``##``/``###`` headings (1, 1.1, ...), tables and figures (Table 1, Figur 2),
   resolves ``rep.ref(key)`` cross-references and fills the refillable slots (the complete
   disclosure checklist, run times), and appends a checklist if no notebook showed one;
5. renders with the project's template (``templates/report``): no code, no prompts, no
   ``<script>`` and no external resource, so the file opens offline and prints to A4;
6. refuses (:class:`DisclosureFailure`) when the page holds a CPR-shaped string or a
   pseudonymised person ID, and writes ``manifest.json`` (:mod:`helpers.report.provenance`).
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import re
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup, NavigableString
from nbconvert import HTMLExporter

from helpers.config import Study
from helpers.core import atomic
from helpers.core.i18n import tr
from helpers.disclosure import find_identifiers
from helpers.report import provenance
from helpers.report.reporter import META_KEY, checklist_html, read_log

DROP_TAGS = {"parameters", "injected-parameters", "remove_cell", "remove-cell"}
FRONT_TAG = "front"
TEMPLATES = Path(__file__).with_name("templates")
REF_RE = re.compile(r"\[\[ref:([A-Za-z0-9_.\-]+)\]\]")
NUM_RE = re.compile(r"^[<>≤≥−\-–+]?\s*[\d.,\s ]+%?\s*(\([^()]*\)|\[[^\[\]]*\])?\s*$|^<\d+$|^[-–]$")
HASH_RE = re.compile(r"^[0-9a-f]{40,}$")
#: Tables with at least this many columns get a smaller font so that they fit an A4 page.
WIDE_TABLE_COLUMNS = 9
#: Tables with more rows than this may break across pages.
LONG_TABLE_ROWS = 30


class DisclosureFailure(RuntimeError):
    """The report holds a table or figure that failed disclosure control, or an identifier."""


class AssemblyError(RuntimeError):
    """The report could not be assembled as a self-contained page."""


# ----------------------------------------------------------------------- cells
def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _keep(cell, language: str) -> bool:
    tags = _tags(cell)
    if tags & DROP_TAGS:
        return False
    other = "en" if language == "da" else "da"
    return f"lang-{other}" not in tags


def _publishable(output) -> bool:
    """An output the report may show: a Reporter display, or Markdown text."""
    if output.get("output_type") != "display_data":
        return False
    data = output.get("data", {})
    if META_KEY in output.get("metadata", {}):
        return True
    if "text/markdown" in data:
        return True
    return "text/html" in data and 'class="rpt-' in "".join(data["text/html"])


def _clean(cell, source: str, warnings: list[str]):
    """Copy of ``cell`` with unpublishable outputs removed (None when nothing is left)."""
    if cell.cell_type == "markdown":
        return cell
    if cell.cell_type != "code":
        warnings.append(f"{source}: a {cell.cell_type} cell was dropped (only Markdown and outputs are published)")
        return None
    kept, dropped = [], {}
    for out in cell.get("outputs", []):
        if _publishable(out):
            kept.append(out)
        else:
            kind = out.get("output_type", "?")
            if kind == "stream":
                kind = f"stream:{out.get('name', '')}"
            dropped[kind] = dropped.get(kind, 0) + 1
    if dropped:
        what = ", ".join(f"{k} x{v}" for k, v in sorted(dropped.items()))
        warnings.append(f"{source}: outputs not shown in the report ({what}); show results through "
                        "rep.table/rep.figure/rep.text")
    if not kept:
        return None
    new = copy.deepcopy(cell)
    new.outputs = kept
    new.source = ""
    new.execution_count = None
    return new


def _marker(name: str):
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/html": f'<div class="rpt-marker" data-marker="{name}"></div>'},
        metadata={META_KEY: {"kind": "marker"}})]
    return cell


def combined_notebook(study: Study, staging: Path, warnings: list[str] | None = None) -> nbformat.NotebookNode:
    """Concatenate the executed notebooks' publishable cells in report order.

    Order: title marker, every cell tagged ``front`` (in notebook order), contents marker,
    then the remaining cells in notebook order. Parameter cells, injected-parameter cells,
    cells in the other language and unpublishable outputs are dropped.
    """
    warnings = [] if warnings is None else warnings
    language = study.study.language
    merged = nbformat.v4.new_notebook()
    merged.metadata["title"] = study.study.title
    front, body = [], []
    for path in sorted((Path(staging) / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for key in ("kernelspec", "language_info"):
            if nb.metadata.get(key) and key not in merged.metadata:
                merged.metadata[key] = nb.metadata[key]
        for i, cell in enumerate(nb.cells):
            if not _keep(cell, language):
                continue
            kept = _clean(cell, f"{path.name} cell {i}", warnings)
            if kept is not None:
                (front if FRONT_TAG in _tags(cell) else body).append(kept)
    merged.cells = [_marker("title"), *front, _marker("toc"), *body, _marker("end")]
    return merged


# ---------------------------------------------------------------------- render
def _exporter() -> HTMLExporter:
    exporter = HTMLExporter(template_name="report", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.exclude_anchor_links = True
    return exporter


def render(nb: nbformat.NotebookNode, language: str) -> str:
    """HTML of a (combined) notebook with the report template, before post-processing."""
    css = (TEMPLATES / "report" / "report.css").read_text(encoding="utf-8")
    body, _ = _exporter().from_notebook_node(nb, resources={"report_css": css, "report_language": language})
    return body


def _title_block(soup: BeautifulSoup, study: Study, manifest: dict, n_fail: int):
    lang = study.study.language
    meta = study.study
    block = soup.new_tag("header", attrs={"class": "rpt-titleblock"})
    h1 = soup.new_tag("h1")
    h1.string = meta.title
    block.append(h1)
    if meta.subtitle:
        p = soup.new_tag("p", attrs={"class": "rpt-subtitle"})
        p.string = meta.subtitle
        block.append(p)
    rows = []
    if meta.authors:
        rows.append((tr("report.title.authors", lang), ", ".join(meta.authors)))
    rows.append((tr("report.title.study", lang), meta.name))
    rows.append((tr("report.title.data", lang),
                 tr("report.title.data_synthetic" if meta.synthetic else "report.title.data_register", lang)))
    created = manifest.get("created") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows.append((tr("report.title.date", lang), created[:10]))
    rows.append((tr("report.title.min_cell", lang), str(meta.min_cell)))
    git = manifest.get("git") or {}
    if git.get("available"):
        code = git["commit"][:12] + (tr("report.title.uncommitted", lang) if git.get("dirty") else "")
        rows.append((tr("report.title.code", lang), code))
    dl = soup.new_tag("dl")
    for k, v in rows:
        dt_tag, dd = soup.new_tag("dt"), soup.new_tag("dd")
        dt_tag.string, dd.string = k, v
        dl.extend([dt_tag, dd])
    block.append(dl)
    if meta.synthetic:
        banner = soup.new_tag("p", attrs={"class": "rpt-banner"})
        banner.string = tr("report.banner.synthetic", lang)
        block.append(banner)
    if n_fail:
        banner = soup.new_tag("p", attrs={"class": "rpt-banner rpt-fail-banner"})
        banner.string = tr("report.banner.disclosure_failed", lang, n_fail=n_fail)
        block.append(banner)
    return block


def _unwrap_cells(soup: BeautifulSoup) -> None:
    """Replace the notebook's cell/output wrappers by their content; drop prompts and collapsers."""
    for cls in ("jp-Collapser", "jp-InputPrompt", "jp-OutputPrompt", "jp-InputArea-editor", "jp-CodeMirrorEditor"):
        for tag in soup.select(f"div.{cls}"):
            tag.decompose()
    for cls in ("jp-Cell", "jp-Cell-inputWrapper", "jp-InputArea", "jp-Cell-outputWrapper", "jp-OutputArea", "jp-OutputArea-child", "jp-RenderedHTMLCommon",
                "jp-RenderedMarkdown", "jp-RenderedHTML", "jp-MarkdownOutput", "jp-OutputArea-output"):
        for tag in soup.select(f"div.{cls}"):
            tag.unwrap()
    for tag in soup.select("a.anchor-link"):
        tag.decompose()
    for tag in soup.select("table.dataframe tr[style]"):
        del tag["style"]


def _strip_active_content(soup: BeautifulSoup, warnings: list[str]) -> None:
    """Remove scripts, external links and any element loading a non-embedded resource."""
    for tag in soup.find_all(["script", "link", "iframe", "object", "embed"]):
        warnings.append(f"removed <{tag.name}> from the report (the report must be self-contained)")
        tag.decompose()
    for tag in soup.find_all(src=True):
        if not str(tag["src"]).startswith("data:"):
            warnings.append(f"removed <{tag.name} src={str(tag['src'])[:60]!r}> (not embedded)")
            tag.decompose()
    for tag in soup.find_all(True):
        for attr in list(tag.attrs):
            if attr.lower().startswith("on"):
                del tag[attr]


def _number_headings(soup: BeautifulSoup, front_end) -> list[tuple[int, str, str, str]]:
    """Number h2/h3 after the front matter; return (level, number, text, id) for the contents."""
    entries = []
    h2 = h3 = 0
    in_front = True
    used_ids: set[str] = set()
    for tag in soup.find_all(["h1", "h2", "h3", "div"]):
        if tag is front_end:
            in_front = False
            continue
        if tag.name == "div" or tag.find_parent("header", class_="rpt-titleblock"):
            continue
        if tag.name == "h1":
            tag.name = "h2"
        if in_front:
            tag["class"] = tag.get("class", []) + ["rpt-front-heading"]
            continue
        if tag.name == "h2":
            h2, h3 = h2 + 1, 0
            number = f"{h2}"
            tag["class"] = tag.get("class", []) + ["rpt-section"]
        else:
            if h2 == 0:
                h2 = 1
            h3 += 1
            number = f"{h2}.{h3}"
        text = tag.get_text(" ", strip=True)
        ident = "sec-" + number.replace(".", "-")
        while ident in used_ids:
            ident += "x"
        used_ids.add(ident)
        tag["id"] = ident
        num = soup.new_tag("span", attrs={"class": "rpt-secnum"})
        num.string = number
        tag.insert(0, num)
        tag.insert(1, NavigableString(" "))
        entries.append((2 if tag.name == "h2" else 3, number, text, ident))
    return entries


def _toc(soup: BeautifulSoup, entries, language: str):
    nav = soup.new_tag("nav", attrs={"class": "rpt-toc"})
    head = soup.new_tag("h2")
    head.string = tr("report.contents", language)
    nav.append(head)
    top = soup.new_tag("ol")
    nav.append(top)
    current = None
    for level, number, text, ident in entries:
        li = soup.new_tag("li")
        a = soup.new_tag("a", href=f"#{ident}")
        num = soup.new_tag("span", attrs={"class": "rpt-secnum"})
        num.string = number
        a.append(num)
        a.append(NavigableString(" " + text))
        li.append(a)
        if level == 2 or current is None:
            top.append(li)
            current = li
        else:
            sub = current.find("ol")
            if sub is None:
                sub = soup.new_tag("ol")
                current.append(sub)
            sub.append(li)
    return nav


def _number_items(soup: BeautifulSoup, warnings: list[str]) -> dict[str, str]:
    """Number tables and figures in document order; return ``{key: "Table 3"}``."""
    numbers: dict[str, str] = {}
    for selector, span in (("div.rpt-table-wrap", "rpt-tabnum"), ("figure.rpt-figure", "rpt-fignum")):
        for n, wrap in enumerate(soup.select(selector), start=1):
            label = wrap.find("span", class_=span)
            word = label.get_text(strip=True).split()[0] if label and label.get_text(strip=True) else ""
            if label is not None:
                label.string = f"{word} {n}."
            key = wrap.get("data-key", "")
            if key in numbers:
                warnings.append(f"the key {key!r} is used by more than one table/figure; its files were overwritten")
            numbers[key] = f"{word} {n}"
            if selector.startswith("div"):
                first = wrap.find("tr")
                if first is not None and len(first.find_all(["th", "td"])) >= WIDE_TABLE_COLUMNS:
                    for table in wrap.find_all("table"):
                        table["class"] = table.get("class", []) + ["rpt-wide"]
            if selector.startswith("div") and len(wrap.find_all("tr")) > LONG_TABLE_ROWS:
                wrap["class"] = wrap.get("class", []) + ["rpt-long"]
                for table in wrap.find_all("table"):
                    table["class"] = table.get("class", []) + ["rpt-compact"]
    return numbers


def _mark_cells(soup: BeautifulSoup) -> None:
    """Right-align columns whose every filled cell is a number; let checksums wrap."""
    for table in soup.select("main table"):
        rows = [tr.find_all(["td", "th"]) for tr in table.select("tbody tr")]
        width = max((len(r) for r in rows), default=0)
        for j in range(width):
            cells = [r[j] for r in rows if len(r) > j and r[j].name == "td"]
            texts = [c.get_text(strip=True) for c in cells]
            filled = [t for t in texts if t]
            if filled and all(NUM_RE.match(t) for t in filled):
                for c in cells:
                    c["class"] = c.get("class", []) + ["num"]
                head = table.select("thead tr")
                for tr in head[-1:]:
                    ths = tr.find_all("th")
                    if len(ths) == width:
                        ths[j]["class"] = ths[j].get("class", []) + ["num"]
        for td in table.find_all("td"):
            if HASH_RE.match(td.get_text(strip=True)):
                td["class"] = td.get("class", []) + ["hash"]


def _fill_slots(soup: BeautifulSoup, study: Study, staging: Path, manifest: dict, numbers: dict[str, str]) -> None:
    language = study.study.language
    records = read_log(staging)
    filled = False
    for slot in soup.select("div.rpt-slot"):
        name = slot.get("data-slot")
        if name == "checklist":
            new = checklist_html(records, language, study.study.min_cell, numbers)
            filled = True
        elif name == "timings":
            new = provenance.timings_html(manifest, language)
        else:
            continue
        slot.clear()
        slot.append(BeautifulSoup(new, "html.parser"))
    if not filled:
        end = soup.find("div", class_="rpt-marker", attrs={"data-marker": "end"})
        section = BeautifulSoup(
            f'<h2>{tr("report.checklist_heading", language)}</h2>'
            f'<div class="rpt-slot" data-slot="checklist">'
            f'{checklist_html(records, language, study.study.min_cell, numbers)}</div>', "html.parser")
        end.insert_before(section)


def _resolve_refs(text: str, numbers: dict[str, str], warnings: list[str]) -> str:
    def repl(m: re.Match) -> str:
        key = m.group(1)
        if key not in numbers:
            warnings.append(f"cross-reference to unknown table/figure {key!r}")
            return f"[?{html.escape(key)}]"
        prefix = "fig" if numbers[key].startswith(("Figure", "Figur")) else "tab"
        return f'<a class="rpt-ref" href="#{prefix}-{html.escape(key)}">{numbers[key]}</a>'

    return REF_RE.sub(repl, text)


def postprocess(raw_html: str, study: Study, staging: Path, manifest: dict,
                warnings: list[str] | None = None) -> str:
    """Title block, contents, numbering, slots, cross-references and clean-up on rendered HTML."""
    warnings = [] if warnings is None else warnings
    language = study.study.language
    soup = BeautifulSoup(raw_html, "html.parser")
    _unwrap_cells(soup)
    _strip_active_content(soup, warnings)
    n_fail = sum(r.get("status") != "PASS" for r in read_log(staging))
    title = soup.find("div", class_="rpt-marker", attrs={"data-marker": "title"})
    toc_marker = soup.find("div", class_="rpt-marker", attrs={"data-marker": "toc"})
    end = soup.find("div", class_="rpt-marker", attrs={"data-marker": "end"})
    if title is None or toc_marker is None or end is None:
        raise AssemblyError("report markers missing after rendering; is templates/report intact?")
    title.replace_with(_title_block(soup, study, manifest, n_fail))
    numbers = _number_items(soup, warnings)
    _fill_slots(soup, study, staging, manifest, numbers)
    entries = _number_headings(soup, toc_marker)
    toc_marker.replace_with(_toc(soup, entries, language))
    footer = soup.new_tag("footer", attrs={"class": "rpt-footer"})
    footer.string = tr("report.footer", language, study=study.name)
    end.replace_with(footer)
    _mark_cells(soup)
    out = _resolve_refs(str(soup), numbers, warnings)
    return out


def check_self_contained(text: str) -> list[str]:
    """Problems that would make the page load anything from outside itself (empty = none)."""
    soup = BeautifulSoup(text, "html.parser")
    problems = []
    if soup.find("script"):
        problems.append("a <script> element")
    if soup.find(["link", "iframe", "object", "embed"]):
        problems.append("a <link>/<iframe>/<object>/<embed> element")
    external = [t for t in soup.find_all(src=True) if not str(t["src"]).startswith("data:")]
    if external:
        problems.append(f"{len(external)} element(s) with a non-embedded src (e.g. {str(external[0]['src'])[:60]!r})")
    styles = " ".join(t.get_text() for t in soup.find_all("style")) + " ".join(
        str(t.get("style", "")) for t in soup.find_all(style=True))
    if re.search(r"@import|url\(\s*['\"]?(https?:|//)", styles, re.I):
        problems.append("a CSS @import or remote url()")
    return problems


def build_report(study: Study, staging: Path, *, timings: dict | None = None, started: float | None = None,
                 log=print) -> Path:
    """Write ``report.html`` and ``manifest.json`` into ``staging`` and return the HTML path.

    Raises
    ------
    DisclosureFailure
        The page holds a CPR-shaped string or a pseudonymised person ID.
    AssemblyError
        The page would not be self-contained.
    """
    staging = Path(staging)
    warnings: list[str] = []
    manifest = provenance.collect(study, timings=timings, started=started)
    nb = combined_notebook(study, staging, warnings)
    text = postprocess(render(nb, study.study.language), study, staging, manifest, warnings)
    problems = check_self_contained(text)
    if problems:
        raise AssemblyError(f"report.html is not self-contained: it holds {', '.join(problems)}")
    found = find_identifiers(text, where="report.html")
    if found:
        raise DisclosureFailure(
            f"report.html holds {len(found)} identifier-shaped string(s), e.g. {found[0]}; "
            "find the notebook output that shows person IDs and aggregate it")
    out = atomic.write_text(staging / "report.html", text)
    if warnings:
        atomic.write_text(staging / "assembly_warnings.txt", "\n".join(warnings) + "\n")
        for w in dict.fromkeys(warnings):
            log(f"[assemble] warning: {w}")
    provenance.write_manifest(study, staging, manifest=manifest)
    return out


def read_disclosure_log(staging: Path) -> list[dict]:
    """Records of every table and figure's disclosure check (last record per item)."""
    return read_log(staging)


def disclosure_gate(study: Study, staging: Path) -> None:
    """Raise :class:`DisclosureFailure` when any check failed, unless the study allows it."""
    fails = [r for r in read_disclosure_log(staging) if r["status"] != "PASS"]
    if fails and not study.study.allow_disclosure_failures:
        items = ", ".join(f"{r.get('key') or r['item']} ({r['detail']})" for r in fails)
        raise DisclosureFailure(
            f"disclosure control failed for {len(fails)} item(s): {items}. Fix the tables (mask or group small "
            "counts), or set study.allow_disclosure_failures: true for internal use only."
        )
