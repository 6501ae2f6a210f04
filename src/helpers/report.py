"""Reporting from notebooks: numbered tables and figures with captions, in the study's language.

A notebook creates one :class:`Reporter` and shows every result through it, so that

- each table and figure is saved (``tables/<key>.csv|.xlsx``, ``figures/<key>.png|.svg``),
- each carries a caption and is numbered when the report is assembled,
- each has passed disclosure control: its :class:`~helpers.disclosure.Check` is logged to
  ``disclosure_log.jsonl`` and listed in the report's checklist,
- generated sentences appear in the study's language.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import HTML, Markdown, display  # noqa: E402

from helpers import atomic, paths  # noqa: E402
from helpers.config import Study  # noqa: E402
from helpers.disclosure import Check  # noqa: E402

#: Environment variable through which the runner points notebooks at its staging folder.
OUTPUT_ENV = "DREAM_EVAL_OUTPUT_DIR"


def output_dir_for(study: Study, output_dir: str | os.PathLike | None = None) -> Path:
    """Folder for a notebook's artefacts: explicit, from the runner, or ``reports/<study>``."""
    if output_dir:
        return Path(output_dir)
    if os.environ.get(OUTPUT_ENV):
        return Path(os.environ[OUTPUT_ENV])
    return paths.report_dir(study.name)


class Reporter:
    """Show and save a notebook's tables, figures and sentences.

    Parameters
    ----------
    study : Study
        The loaded study (language, min_cell).
    output_dir : path, optional
        Where artefacts go (default: see :func:`output_dir_for`).
    """

    def __init__(self, study: Study, output_dir: str | os.PathLike | None = None) -> None:
        self.study = study
        self.language = study.study.language
        self.min_cell = study.study.min_cell
        self.output_dir = output_dir_for(study, output_dir)
        (self.output_dir / "tables").mkdir(parents=True, exist_ok=True)
        (self.output_dir / "figures").mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ text
    def t(self, en: str, da: str) -> str:
        """Return ``en`` or ``da`` according to the study's language."""
        return da if self.language == "da" else en

    def text(self, en: str, da: str) -> None:
        """Display a generated sentence (Markdown) in the study's language."""
        display(Markdown(self.t(en, da)))

    # ------------------------------------------------------------ disclosure
    def log_check(self, check: Check, kind: str, caption: str) -> None:
        """Append a disclosure check to ``disclosure_log.jsonl``."""
        record = {"item": check.item, "kind": kind, "caption": caption, "status": check.status,
                  "detail": check.detail, "masked": check.masked}
        with open(self.output_dir / "disclosure_log.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    # ---------------------------------------------------------------- tables
    def table(self, frame: pd.DataFrame, key: str, caption: tuple[str, str] | str, check: Check,
              *, note: tuple[str, str] | str | None = None, index: bool = False) -> None:
        """Save and display a table that has passed disclosure control.

        Parameters
        ----------
        frame : DataFrame
            The table as it will be published (already masked).
        key : str
            File name stem and checklist key.
        caption : (en, da) or str
            Caption; numbered ("Table n") at assembly.
        check : Check
            Result of disclosure control for this table.
        note : (en, da) or str, optional
            Footnote under the table.
        """
        cap = self._pick(caption)
        atomic.write_csv(self.output_dir / "tables" / f"{key}.csv", frame, index=index)
        with atomic.atomic_path(self.output_dir / "tables" / f"{key}.xlsx") as tmp:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                frame.to_excel(xw, index=index, sheet_name=key[:31])
        self.log_check(check, "table", cap)
        body = frame.to_html(index=index, na_rep="", classes="rpt-table", border=0, escape=True)
        foot = f'<p class="rpt-note">{html.escape(self._pick(note))}</p>' if note else ""
        display(HTML(
            f'<div class="rpt-table-wrap" data-key="{key}"><p class="rpt-caption">'
            f'<span class="rpt-tabnum">{self.t("Table", "Tabel")}</span> {html.escape(cap)}</p>{body}{foot}</div>'
        ))

    # --------------------------------------------------------------- figures
    def figure(self, fig: plt.Figure, key: str, caption: tuple[str, str] | str, check: Check,
               *, note: tuple[str, str] | str | None = None) -> None:
        """Save (PNG 300 dpi and SVG) and display a figure that has passed disclosure control."""
        cap = self._pick(caption)
        with atomic.atomic_path(self.output_dir / "figures" / f"{key}.png") as tmp:
            fig.savefig(tmp, dpi=300, bbox_inches="tight", format="png")
        with atomic.atomic_path(self.output_dir / "figures" / f"{key}.svg") as tmp:
            fig.savefig(tmp, bbox_inches="tight", format="svg")
        buf = io.BytesIO()
        fig.savefig(buf, dpi=110, bbox_inches="tight", format="png")
        plt.close(fig)
        self.log_check(check, "figure", cap)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        foot = f'<p class="rpt-note">{html.escape(self._pick(note))}</p>' if note else ""
        display(HTML(
            f'<figure class="rpt-figure" data-key="{key}"><img alt="{html.escape(cap)}" '
            f'src="data:image/png;base64,{data}"/><figcaption><span class="rpt-fignum">'
            f'{self.t("Figure", "Figur")}</span> {html.escape(cap)}{foot}</figcaption></figure>'
        ))

    def _pick(self, text: tuple[str, str] | str | None) -> str:
        if text is None:
            return ""
        if isinstance(text, tuple):
            return self.t(*text)
        return text
