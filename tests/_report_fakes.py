"""Fake *executed* notebooks for the assembler tests, made without a kernel.

The Reporter's ``display`` is swapped for a collector that turns each display into the
``display_data`` output Jupyter would have stored, so the outputs are exactly what a real
run produces, in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402

from helpers.disclosure import Check, mask_counts  # noqa: E402
from helpers.report import reporter as R  # noqa: E402

SECRET_CPR = "0113901234"
SECRET_PSEUDONYM = "a1b2c3d4e5f60718"


def capture(fn) -> list:
    """Run ``fn`` (which calls Reporter methods) and return the outputs it displayed."""
    outs = []

    def disp(obj, metadata=None, **_):
        data = {"text/plain": repr(obj)}
        kind = type(obj).__name__
        if kind == "HTML":
            data["text/html"] = obj.data
        elif kind == "Markdown":
            data["text/markdown"] = obj.data
        outs.append(nbformat.v4.new_output("display_data", data=data, metadata=metadata or {}))

    old, R.display = R.display, disp
    try:
        fn()
    finally:
        R.display = old
    return outs


def code(outputs, tags=(), source="rep.table(...)"):
    c = nbformat.v4.new_code_cell(source)
    c.outputs, c.execution_count = outputs, 7
    c.metadata["tags"] = list(tags)
    return c


def md(text, tags=()):
    c = nbformat.v4.new_markdown_cell(text)
    c.metadata["tags"] = list(tags)
    return c


def write(path: Path, cells) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "dream-eval", "display_name": "Python (dream-eval)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)


def study_copy(study, **meta):
    """A copy of ``study`` with ``study.<key>`` overridden (language, min_cell, ...)."""
    new = study.model_copy(deep=True)
    for k, v in meta.items():
        setattr(new.study, k, v)
    return new


def make_staging(staging: Path, study, *, figures: int = 2, leak: str | None = None, small_count: bool = False,
                 strays: bool = True):
    """Three fake executed notebooks (02 cohort, 80 appendix, 90 summary) in ``staging/notebooks``.

    ``leak`` puts a string into a markdown cell (to test the identifier scan); ``small_count``
    shows an unmasked count of 2 (the Reporter's automatic check must FAIL it); ``strays`` adds
    outputs the report must not publish (a printed CPR, a bare data frame with a pseudonym).
    """
    (staging / "notebooks").mkdir(parents=True, exist_ok=True)
    rep = R.Reporter(study, staging)
    params = code([], ["parameters"], 'study = "demo"')
    injected = code([], ["injected-parameters"], 'study = "demo"  # Parameters injected by papermill')
    table = pd.DataFrame({"group": ["intervention", "control"], "n": [12, 3], "N": [50, 50]})

    def show_table():
        masked, check = mask_counts(table, ["n"], study.study.min_cell, item="employment_by_group")
        if small_count:
            masked = table
        rep.table(masked, "employment_by_group", ("Employment by group", "Beskæftigelse efter gruppe"), check,
                  note=("Counts below the threshold are masked.", "Antal under grænsen er skjult."))
        rep.text(f"See {rep.ref('employment_by_group')} and {rep.ref('fig_0')}.",
                 f"Se {rep.ref('employment_by_group')} og {rep.ref('fig_0')}.")

    def show_figures():
        for i in range(figures):
            fig, ax = plt.subplots(figsize=(6, 4))
            ax.plot([0, 1, 2, 3], [1.0, 0.8 - 0.1 * i, 0.6, 0.5])
            ax.set_title(f"Curve {i}")
            rep.figure(fig, f"fig_{i}", (f"Curve number {i}", f"Kurve nummer {i}"), Check(f"fig_{i}", "PASS", "ok"))

    stream = nbformat.v4.new_output("stream", name="stdout", text=f"{SECRET_CPR} printed row\n")
    bare = nbformat.v4.new_output("execute_result", execution_count=7, data={
        "text/html": f"<table><tr><td>{SECRET_PSEUDONYM}</td></tr></table>", "text/plain": "df"})
    stray = nbformat.v4.new_output("display_data", data={"text/html": "<div>plain display(df)</div>",
                                                         "text/plain": "df"})
    cells = [
        params, injected,
        md("## Data and population", ["lang-en"]), md("## Data og population", ["lang-da"]),
        md("Prose in **English**.", ["lang-en"]), md("Prosa på **dansk**.", ["lang-da"]),
        code(capture(show_table)),
        md("### Flow diagram", ["lang-en"]), md("### Flowdiagram", ["lang-da"]),
        code(capture(show_figures) + ([stream, bare, stray] if strays else [])),
        md("## Outcomes", ["lang-en"]), md("## Effektmål", ["lang-da"]),
        md("Text shown in both languages without a tag."),
        code([], source="x = 1  # no output"),
    ]
    if leak:
        cells.append(md(f"Oops: {leak}"))
    write(staging / "notebooks" / "02_cohort.ipynb", cells)

    def appendix():
        rep.checklist()
        rep.slot("timings", "<p>pending</p>")

    write(staging / "notebooks" / "80_appendix.ipynb", [
        params, md("## Disclosure checklist", ["lang-en"]), md("## Tjekliste", ["lang-da"]), code(capture(appendix))])

    def summary():
        rep.text("The programme group did better.", "Indsatsgruppen klarede sig bedre.")

    write(staging / "notebooks" / "90_summary.ipynb", [
        params, md("## Summary", ["lang-en", "front"]), md("## Sammenfatning", ["lang-da", "front"]),
        code(capture(summary), ["front"])])
    return rep
