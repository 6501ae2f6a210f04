"""Print the HTML report to PDF with a headless Chromium (A4, nothing loaded from the network).

``python -m helpers.report.pdf --ensure-chromium --study demo`` (what ``make pdf`` calls) installs
Debian's ``chromium-headless-shell`` when it is missing and the process may (root + apt),
otherwise says exactly what to install, then prints ``reports/<study>/report.html`` to
``reports/<study>/report.pdf``.

Why Chromium rather than nbconvert's ``webpdf`` or LaTeX: ``webpdf`` drives Playwright, whose
browser download is not reachable on research servers; LaTeX renders HTML tables as
monospaced text. Chromium prints the same page a reviewer sees, honours the report's
``@page { size: A4 }`` and ``break-inside: avoid`` rules, and needs no Python package.

The contents list gets page numbers. Chromium cannot count pages for CSS ``target-counter()``,
so :func:`print_pdf` prints twice: the first PDF tells, through the named destination Chromium
writes for every heading a link points to, on which page each heading landed
(:func:`heading_pages`, with pypdf); the second print has those numbers in the contents list
(:func:`with_page_numbers`; the first print reserves their room, so nothing moves). A third
print follows only if the numbers still changed. The contents entries stay links to their
headings, and every page carries its number (``@page`` margin box in ``report.css``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup
from pypdf import PdfReader

from helpers.core import paths

#: Executables tried in order.
CANDIDATES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Environment variable naming a Chromium executable explicitly.
CHROMIUM_ENV = "DREAM_EVAL_CHROMIUM"
#: Flags that keep a headless run offline and quiet (no background downloads, no sync, no first-run UI).
QUIET_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio")
APT_PACKAGE = "chromium-headless-shell"
INSTALL_HINT = (
    "no headless Chromium found. Install one of:\n"
    "  Debian/Ubuntu (root):  apt-get install -y --no-install-recommends chromium-headless-shell\n"
    "                         (or: apt-get install -y --no-install-recommends chromium)\n"
    "  Fedora:                dnf install chromium-headless\n"
    "  macOS:                 brew install --cask chromium\n"
    f"or point {CHROMIUM_ENV} at a Chrome/Chromium executable; then run `make pdf` again."
)


class ChromiumMissing(RuntimeError):
    """No headless Chromium is available."""


class PrintFailed(RuntimeError):
    """Chromium ran but produced no PDF/screenshot; the message holds its error output."""


def find_chromium() -> str | None:
    """Path of a usable Chromium executable (``$DREAM_EVAL_CHROMIUM`` first), or None."""
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        found = shutil.which(explicit)
        if found:
            return found
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def ensure_chromium(log=print) -> str:
    """Return a Chromium executable, installing Debian's package when root with apt.

    Raises
    ------
    ChromiumMissing
        With the exact command to run, when nothing could be installed.
    """
    found = find_chromium()
    if found:
        return found
    can_apt = shutil.which("apt-get") is not None and hasattr(os, "geteuid") and os.geteuid() == 0
    if not can_apt:
        raise ChromiumMissing(INSTALL_HINT)
    log(f"[pdf] installing {APT_PACKAGE} with apt-get (about 100 MB)")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", APT_PACKAGE]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True).returncode == 0
    if not ok:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, text=True)
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        ok = result.returncode == 0
        if not ok:
            raise ChromiumMissing(f"apt-get install {APT_PACKAGE} failed:\n{result.stderr.strip()[-800:]}\n\n"
                                  + INSTALL_HINT)
    found = find_chromium()
    if not found:
        raise ChromiumMissing(INSTALL_HINT)
    return found


@dataclass
class BrowserRun:
    """What one headless Chromium run printed."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def console(self) -> list[str]:
        """Messages the page wrote to the browser console (errors, warnings, logs)."""
        return [line for line in self.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def _run(args: list[str], target: Path, *, chromium: str | None = None, timeout: float = 120) -> BrowserRun:
    exe = chromium or find_chromium()
    if exe is None:
        raise ChromiumMissing(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="dream-eval-chromium-") as profile:
        cmd = [exe, *QUIET_FLAGS, f"--user-data-dir={profile}", *args, Path(target).resolve().as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as err:
            raise PrintFailed(f"{exe} did not finish within {timeout:.0f} s on {target}") from err
    return BrowserRun(proc.returncode, proc.stdout, proc.stderr)


#: Links of the report's contents list (helpers.report.assemble._toc) and the page-number span added to each.
TOC_LINKS = "nav.rpt-toc a[href^='#']"
PAGE_CLASS = "rpt-toc-page"
#: Printed only: the page number at the right of its contents line.
PAGE_CSS = (f"nav.rpt-toc li > a {{ display: block; }} nav.rpt-toc .{PAGE_CLASS} {{ float: right; "
            "font-variant-numeric: tabular-nums; color: #5a6470; padding-left: 0.6em; }")
#: Prints at most this often to settle the contents' page numbers.
MAX_PRINTS = 3


def heading_pages(pdf: str | os.PathLike) -> dict[str, int]:
    """``{element id: page number (1-based)}`` of every named destination of a PDF Chromium printed.

    Chromium writes one destination per element an internal link points to (the headings of the
    contents list), named after its id.
    """
    reader = PdfReader(str(pdf))
    return {str(name).lstrip("/"): reader.get_destination_page_number(dest) + 1
            for name, dest in reader.named_destinations.items()}


def with_page_numbers(text: str, pages: dict[str, int] | None, width: int = 2) -> str:
    """The page ``text`` with a page number after every contents entry (``pages=None``: ``width`` placeholders).

    Returns ``text`` unchanged when it has no contents list.
    """
    soup = BeautifulSoup(text, "html.parser")
    links = soup.select(TOC_LINKS)
    if not links:
        return text
    for a in links:
        span = a.find("span", class_=PAGE_CLASS)
        if span is None:
            span = soup.new_tag("span", attrs={"class": PAGE_CLASS})
            a.insert(0, span)  # floated right, so first in the line box
        number = None if pages is None else pages.get(a["href"][1:])
        span.string = "0" * width if number is None else str(number)
    style = soup.new_tag("style")
    style.string = PAGE_CSS
    (soup.head or soup).append(style)
    return str(soup)


def _print_once(html: Path, out: Path, chromium: str | None) -> None:
    if out.exists():
        out.unlink()
    run = _run(["--no-pdf-header-footer", f"--print-to-pdf={out}"], html, chromium=chromium)
    if not out.exists() or out.stat().st_size == 0:
        errors = "\n".join(line for line in run.stderr.splitlines() if "dbus" not in line)[-1500:]
        raise PrintFailed(f"Chromium wrote no PDF for {html} (exit {run.returncode}):\n{errors}")


def _print_with_contents(html: Path, out: Path, chromium: str | None) -> dict[str, int]:
    """Print ``html`` to ``out`` with the contents' page numbers filled in; return them ({} without contents)."""
    text = html.read_text(encoding="utf-8")
    if text == with_page_numbers(text, None):  # no contents list
        _print_once(html, out, chromium)
        return {}
    # a copy next to the report (same folder, same relative paths), removed afterwards
    fd, name = tempfile.mkstemp(prefix=f".{html.stem}.", suffix=".print.html", dir=html.parent)
    os.close(fd)
    page = Path(name)
    try:
        pages: dict[str, int] | None = None
        for _ in range(MAX_PRINTS):
            width = 2 if pages is None else max(len(str(max(pages.values(), default=1))), 1)
            page.write_text(with_page_numbers(text, pages, width), encoding="utf-8")
            _print_once(page, out, chromium)
            found = heading_pages(out)
            if found == pages:
                break
            pages = found
        return pages or {}
    finally:
        page.unlink(missing_ok=True)


def print_pdf(html: str | os.PathLike, pdf: str | os.PathLike, *, chromium: str | None = None) -> Path:
    """Print ``html`` to ``pdf`` (A4 from the page's CSS, page numbers in the contents), atomically.

    Raises
    ------
    ChromiumMissing
        No Chromium available (message says what to install).
    PrintFailed
        Chromium ran but wrote no PDF.
    """
    html, pdf = Path(html), Path(pdf)
    if not html.exists():
        raise FileNotFoundError(f"{html}: no report to print; run `make report` first")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{pdf.name}.", suffix=".tmp", dir=pdf.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        _print_with_contents(html, tmp_path, chromium)
        os.replace(tmp_path, pdf)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return pdf


def load_page(html: str | os.PathLike, *, screenshot: str | os.PathLike | None = None,
              width: int = 1280, height: int = 2000, chromium: str | None = None) -> BrowserRun:
    """Load ``html`` headless with console logging; optionally save a PNG screenshot.

    Returns the run: ``run.console`` lists what the page wrote to the console (a
    self-contained report writes nothing) and ``run.stdout`` holds the DOM.
    """
    args = ["--enable-logging=stderr", "--v=0", f"--window-size={width},{height}"]
    args += [f"--screenshot={Path(screenshot).resolve()}"] if screenshot else ["--dump-dom"]
    return _run(args, Path(html), chromium=chromium)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``make pdf``)."""
    parser = argparse.ArgumentParser(description="Print reports/<study>/report.html to report.pdf")
    parser.add_argument("--study", default="demo")
    parser.add_argument("--ensure-chromium", action="store_true", help="install chromium-headless-shell if missing")
    parser.add_argument("--html", help="HTML file (default reports/<study>/report.html)")
    parser.add_argument("--pdf", help="PDF file (default next to the HTML)")
    args = parser.parse_args(argv)
    html = Path(args.html) if args.html else paths.report_dir(args.study) / "report.html"
    pdf = Path(args.pdf) if args.pdf else html.with_suffix(".pdf")
    if not html.exists():
        print(f"error: {html} does not exist; run `make report STUDY={args.study}` first", file=sys.stderr)
        return 2
    try:
        exe = ensure_chromium() if args.ensure_chromium else find_chromium()
        if exe is None:
            raise ChromiumMissing(INSTALL_HINT)
        print_pdf(html, pdf, chromium=exe)
    except (ChromiumMissing, PrintFailed) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"[pdf] {pdf}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
