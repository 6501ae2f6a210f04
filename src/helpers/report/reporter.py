"""Reporting from notebooks: numbered tables and figures with captions, in the study's language.

A notebook creates one :class:`Reporter` and shows every result through it, so that

- each table and figure is saved (``tables/<key>.csv|.xlsx``, ``figures/<key>.png|.svg``),
- each carries a caption and is numbered when the report is assembled,
- each has passed disclosure control: its :class:`~helpers.disclosure.Check` is logged to
  ``disclosure_log.jsonl`` and listed in the report's checklist,
- generated sentences appear in the study's language.

Every output carries ``metadata["dream_eval"]``; the assembler (:mod:`helpers.report.assemble`)
publishes only such outputs and Markdown text, so a stray ``print(df)`` or bare data frame
never reaches the report. Cross-references: ``rep.ref("key")`` inserts a placeholder that
the assembler replaces with "Table 3" / "Figur 2".
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

from helpers.config import Study  # noqa: E402
from helpers.core import atomic, i18n, paths, spreadsheet  # noqa: E402
from helpers.core.i18n import tr  # noqa: E402
from helpers.disclosure import Check, check_table, combine  # noqa: E402
from helpers.report.items import Figure, Table, Text  # noqa: E402
from helpers.report.plots.ticks import localise_ticks  # noqa: E402

#: Environment variable through which the runner points notebooks at its staging folder.
OUTPUT_ENV = "DREAM_EVAL_OUTPUT_DIR"
#: Output-metadata key that marks a display as coming from the Reporter.
META_KEY = "dream_eval"
#: Resolution of the PNG embedded in the HTML report (files on disk are 300 dpi).
EMBED_DPI = 150
#: Tables that quote the study file or the software as they are (no Danish number style).
VERBATIM_TABLES = ("provenance_parameters", "provenance_versions")
#: Cross-reference placeholder written by :meth:`Reporter.ref`, resolved by the assembler.
REF_FORMAT = "[[ref:{key}]]"


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

    Examples
    --------
    In a notebook: ``rep.show(item, ...)`` displays report items; outside one it saves them.

    >>> import tempfile
    >>> from helpers import load_study
    >>> rep = Reporter(load_study("demo"), output_dir=tempfile.mkdtemp())
    >>> rep.language, rep.min_cell
    ('en', 5)
    """

    def __init__(self, study: Study, output_dir: str | os.PathLike | None = None) -> None:
        self.study = study
        self.language = study.study.language
        self.min_cell = study.study.min_cell
        self.output_dir = output_dir_for(study, output_dir)
        (self.output_dir / "tables").mkdir(parents=True, exist_ok=True)
        (self.output_dir / "figures").mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ items
    def show(self, *items: Table | Figure | Text | None) -> None:
        """Show report items in order (``None`` is skipped).

        Tables and figures get their caption from the catalogue (``caption.<key>``, see
        :mod:`helpers.core.i18n`), are saved and numbered, and their disclosure check is logged.
        """
        for item in items:
            if item is None:
                continue
            if isinstance(item, (list, tuple)):
                self.show(*item)
            elif isinstance(item, Text):
                display(Markdown(item.markdown), metadata={META_KEY: {"kind": "text"}})
            elif isinstance(item, Table):
                caption = i18n.tr(f"caption.{item.key}", self.language, **item.caption_fields)
                self.table(item.frame, item.key, caption, item.check, note=item.note or None, index=item.index)
            elif isinstance(item, Figure):
                caption = i18n.tr(f"caption.{item.key}", self.language, **item.caption_fields)
                self.figure(item.figure, item.key, caption, item.check, note=item.note or None)
            else:
                raise TypeError(f"Reporter.show: cannot show a {type(item).__name__}; build a Table, Figure or Text")

    # ------------------------------------------------------------------ text
    def t(self, en: str, da: str) -> str:
        """Return ``en`` or ``da`` according to the study's language."""
        return da if self.language == "da" else en

    def text(self, en: str, da: str) -> None:
        """Display a generated sentence (Markdown) in the study's language."""
        display(Markdown(self.t(en, da)), metadata={META_KEY: {"kind": "text"}})

    def ref(self, key: str) -> str:
        """Placeholder for "Table n" / "Figure n" of the table or figure ``key`` (resolved at assembly)."""
        return REF_FORMAT.format(key=key)

    def slot(self, name: str, html_text: str) -> None:
        """Display ``html_text`` in a slot that the assembler may refill (e.g. the final checklist)."""
        display(HTML(f'<div class="rpt-slot" data-slot="{html.escape(name)}">{html_text}</div>'),
                metadata={META_KEY: {"kind": "slot", "slot": name}})

    def page_break(self) -> None:
        """Start a new page here in the printed report (a ``div.rpt-pagebreak`` the assembler keeps)."""
        display(HTML('<div class="rpt-pagebreak"></div>'), metadata={META_KEY: {"kind": "pagebreak"}})

    def checklist(self) -> None:
        """Show the disclosure checklist so far; the assembler replaces it with the complete one."""
        records = read_log(self.output_dir)
        self.slot("checklist", checklist_html(records, self.language, self.min_cell))

    # ------------------------------------------------------------ disclosure
    def log_check(self, check: Check, kind: str, caption: str, key: str | None = None) -> None:
        """Append a disclosure check to ``disclosure_log.jsonl``."""
        record = {"item": check.item, "key": key or check.item, "kind": kind, "caption": caption, "status": check.status,
                  "detail": check.detail, "detail_da": getattr(check, "detail_da", "") or check.detail,
                  "masked": check.masked,
                  "min_shown": getattr(check, "min_shown", None), "min_cell": self.min_cell}
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

        Notes
        -----
        The table is also checked automatically (:func:`helpers.disclosure.check_table`: no
        identifier columns or values, no minimum/maximum, no unmasked small count in a column
        named like a count); a problem turns the logged check into a FAIL.
        """
        self._claim(key)
        cap = self._pick(caption)
        if self.language == "da" and key not in VERBATIM_TABLES:
            frame = _spaced_percent(frame)
        check = combine(check.item, check, check_table(frame, self.min_cell, item=check.item))
        safe = spreadsheet.neutralise(frame)  # no input text can run as a spreadsheet formula
        atomic.write_csv(self.output_dir / "tables" / f"{key}.csv", safe, index=index)
        with atomic.atomic_path(self.output_dir / "tables" / f"{key}.xlsx") as tmp:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                safe.to_excel(xw, index=index, sheet_name=key[:31])
        self.log_check(check, "table", cap, key)
        shown = frame.copy()
        for col in shown.columns:  # nullable dtypes render missing values as "<NA>" despite na_rep
            if pd.api.types.is_extension_array_dtype(shown[col].dtype) and shown[col].isna().any():
                shown[col] = shown[col].astype(object).where(shown[col].notna(), "")
        body = shown.to_html(index=index, na_rep="", classes="rpt-table", border=0, escape=True)
        foot = f'<p class="rpt-note">{html.escape(self._pick(note))}</p>' if note else ""
        display(HTML(
            f'<div class="rpt-table-wrap" id="tab-{html.escape(key)}" data-key="{html.escape(key)}">'
            f'<p class="rpt-caption"><span class="rpt-tabnum">{i18n.tr("word.table", self.language)}</span> '
            f'{html.escape(cap)}</p>{body}{foot}</div>'
        ), metadata={META_KEY: {"kind": "table", "key": key}})

    # --------------------------------------------------------------- figures
    def figure(self, fig: plt.Figure, key: str, caption: tuple[str, str] | str, check: Check,
               *, note: tuple[str, str] | str | None = None) -> None:
        """Save (PNG 300 dpi and SVG) and display a figure that has passed disclosure control."""
        self._claim(key)
        cap = self._pick(caption)
        localise_ticks(fig, self.language)  # 0,8 and 70 % on a Danish figure's axes
        with atomic.atomic_path(self.output_dir / "figures" / f"{key}.png") as tmp:
            fig.savefig(tmp, dpi=300, bbox_inches="tight", format="png")
        with atomic.atomic_path(self.output_dir / "figures" / f"{key}.svg") as tmp:
            fig.savefig(tmp, bbox_inches="tight", format="svg")
        buf = io.BytesIO()
        fig.savefig(buf, dpi=EMBED_DPI, bbox_inches="tight", format="png")
        plt.close(fig)
        self.log_check(check, "figure", cap, key)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        # shown at its drawn size (96 CSS px per inch), never wider than the page
        width_px = round(_png_width(buf.getvalue()) * 96 / EMBED_DPI)
        foot = f'<p class="rpt-note">{html.escape(self._pick(note))}</p>' if note else ""
        display(HTML(
            f'<figure class="rpt-figure" id="fig-{html.escape(key)}" data-key="{html.escape(key)}">'
            f'<img alt="{html.escape(cap)}" style="width: {width_px}px" src="data:image/png;base64,{data}"/>'
            f'<figcaption>'
            f'<span class="rpt-fignum">{i18n.tr("word.figure", self.language)}</span> {html.escape(cap)}{foot}'
            f'</figcaption></figure>'
        ), metadata={META_KEY: {"kind": "figure", "key": key}})

    def _claim(self, key: str) -> None:
        if not key or any(ch in key for ch in '/\\ "<>'):
            raise ValueError(f"Reporter: key {key!r} must be a plain file-name stem (letters, digits, _ and -)")

    def _pick(self, text: tuple[str, str] | str | None) -> str:
        if text is None:
            return ""
        if isinstance(text, tuple):
            return self.t(*text)
        return text


def _spaced_percent(frame: pd.DataFrame) -> pd.DataFrame:
    """A Danish table with ``12,5 %`` and ``95 %-KI``: text cells and column names only; numbers keep their dtype."""
    out = frame.copy()
    for j in range(out.shape[1]):
        if out.dtypes.iloc[j] == object:
            out.iloc[:, j] = out.iloc[:, j].map(lambda v: i18n.spaced_percent(v, "da"))
    if not isinstance(out.columns, pd.MultiIndex):
        out.columns = [i18n.spaced_percent(c, "da") for c in out.columns]
    return out


def _png_width(png: bytes) -> int:
    """Pixel width from a PNG header (IHDR)."""
    return int.from_bytes(png[16:20], "big")


# ------------------------------------------------------------------ checklist
def read_log(output_dir: str | os.PathLike) -> list[dict]:
    """Disclosure records of ``disclosure_log.jsonl``; a re-logged item keeps its last record."""
    log = Path(output_dir) / "disclosure_log.jsonl"
    if not log.exists():
        return []
    records: dict[str, dict] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            ident = rec.get("key") or rec["item"]
            records.pop(ident, None)
            records[ident] = rec
    return list(records.values())


def checklist_html(records: list[dict], language: str, min_cell: int,
                   numbers: dict[str, str] | None = None) -> str:
    """HTML table of the disclosure checklist: one row per table/figure, PASS/FAIL and why.

    Parameters
    ----------
    records : list of dict
        From :func:`read_log`.
    language : {"da", "en"}
    min_cell : int
    numbers : dict, optional
        ``{key: "Table 3"}`` from the assembled report.
    """
    da = language == "da"
    numbers = numbers or {}
    head = [tr(f"checklist.column.{c}", language) for c in ("number", "item", "kind", "status", "min_shown", "reason")]
    kinds = {k: tr(f"checklist.kind.{k}", language) for k in ("table", "figure")}
    rows = []
    for rec in records:
        status = rec.get("status", "FAIL")
        shown = rec.get("min_shown")
        shown_txt = "" if shown is None else (f"{shown:g}" if isinstance(shown, (int, float)) else str(shown))
        key = rec.get("key") or rec["item"]
        rows.append([numbers.get(key, ""), f'{rec.get("caption") or key} ({key})',
                     kinds.get(rec.get("kind"), rec.get("kind", "")), status, shown_txt,
                     (rec.get("detail_da") if da else None) or rec.get("detail", "")])
    rows.append(["", tr("checklist.self", language) + " (disclosure_checklist)", kinds["table"], "–",
                 "", tr("checklist.self_reason", language)])
    n_fail = sum(r.get("status") != "PASS" for r in records)
    summary = tr("checklist.summary", language, n=len(records), min_cell=min_cell, n_fail=n_fail)
    body = "".join(
        "<tr" + (' class="rpt-fail"' if r[3] == "FAIL" else "") + ">"
        + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>" for r in rows)
    return (f'<p class="rpt-checklist-summary">{html.escape(summary)}</p>'
            f'<table class="rpt-table rpt-checklist"><thead><tr>'
            + "".join(f"<th>{html.escape(h)}</th>" for h in head)
            + f"</tr></thead><tbody>{body}</tbody></table>")
