"""The investment calculation as one Excel workbook for a municipal finance officer (an export).

Sheets: **Inputs** (participants, discounting, retention, programme cost by year, tax
rates, wage and every price assumption with its source), one **yearly sheet per actor**
(municipality, state, public sector) and a **Summary**. Cells computed by dream-eval are
values (light blue fill, "(value)" in the header); everything that follows from them is
an Excel formula referring to the inputs, so the arithmetic can be checked and changed in
the spreadsheet:

- observed years: total = saving per participant (value) x participants (``Inputs``);
- extrapolated years: total = previous year's total x retention (``Inputs``);
- net = gross benefit savings + lost tax on benefits + gained tax on earnings - programme
  cost; discount factor = 1 / (1 + rate) ^ year; present value and cumulative sums;
- the public sector's rows are the sum of the municipality's and the state's;
- Summary: NPV = SUM of the actor sheet's present values.

The discount factor formula uses the first step of the Finance Ministry schedule (3.5 %
for years 1-35); beyond year 35 the factors are written as values. The workbook holds
aggregates only (means over groups and totals); it is written only when every year's
groups pass disclosure control. Values are rounded (per-participant amounts to 0.0001 DKK),
so a recomputed total can differ from the report by a fraction of a krone.

Sheet names, headings and labels come from the catalogue (``workbook.*``; the actors'
sheets are ``actor.<actor>``); the workbook is written in English unless another
``language`` is asked for.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from helpers.core import atomic
from helpers.core.i18n import tr
from helpers.disclosure import investment as disclosure
from helpers.investment.analysis import InvestmentAnalysis
from helpers.investment.realised import ACTORS
from helpers.report.investment_assumptions import code_assumptions_table
from helpers.report.investment_format import SOURCE_DISCOUNT

VALUE_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
ITEMS = ("gross_benefit_savings", "lost_tax_on_benefits", "gained_tax_on_earnings")
#: Columns of an actor's sheet (headings ``workbook.actor_sheet.column.<name>``).
COLUMNS = ("year", "observed", "gross_per_participant", "lost_per_participant", "gained_per_participant", "gross",
           "lost", "gained", "cost", "net", "discount_factor", "net_pv", "cumulative", "cumulative_pv")
#: Columns of the summary sheet (headings ``workbook.summary.column.<name>``).
SUMMARY_COLUMNS = ("actor", "npv", "cost", "payback", "chance", "npv_low", "npv_high", "break_even")
FIRST_ROW = 4          # first year's row on the actor sheets (row 3 = header)
LANGUAGE = "en"


class WorkbookWithheld(RuntimeError):
    """The workbook would show money of groups below the disclosure threshold."""


def _w(key: str, language: str, **fields) -> str:
    return tr(f"workbook.{key}", language, **fields)


def sheet_names(language: str = LANGUAGE) -> dict[str, str]:
    """Sheet name of each actor (``actor.<actor>`` of the catalogue)."""
    return {a: tr(f"actor.{a}", language) for a in ACTORS}


def sheet_ref(sheet: str) -> str:
    """``Sheet!`` for a formula; quoted when the name holds anything but letters, digits and ``_``."""
    return f"{sheet}!" if re.fullmatch(r"[A-Za-z0-9_]+", sheet) else f"'{sheet}'!"


def _value(ws, ref: str, v) -> None:
    ws[ref] = v
    ws[ref].fill = VALUE_FILL


def _inputs(wb: Workbook, analysis: InvestmentAnalysis, study, L: str) -> dict[str, str]:
    ws = wb.active
    ws.title = _w("sheet.inputs", L)
    here = sheet_ref(ws.title)
    inv = study.investment
    steps = analysis.settings["discount_steps"]
    ws.append([_w(f"inputs.header.{h}", L) for h in ("input", "value", "unit", "source")])
    refs = {}
    rows = [("participants", analysis.n_intervention, "unit_persons", _w("inputs.source_cohort", L)),
            ("controls", analysis.n_control, "unit_persons", _w("inputs.source_cohort", L)),
            ("rate", steps[0][1], "unit_per_year", SOURCE_DISCOUNT),
            ("retention", inv.retention, "unit_share", _w("inputs.source_retention", L)),
            ("observed", inv.horizon_years, "unit_years", _w("inputs.source_observed", L))]
    for key, value, unit, source in rows:
        ws.append([_w(f"inputs.{key}", L), value, _w(f"inputs.{unit}", L), source])
        refs[key] = f"{here}$B${ws.max_row}"
        ws.cell(ws.max_row, 2).fill = VALUE_FILL
    ws.append([])
    ws.append([_w("inputs.costs_heading", L, bearer=tr(f"actor_phrase.{inv.cost_bearer}", L)),
               _w("inputs.costs_unit", L), "", ""])
    ws.cell(ws.max_row, 1).font = BOLD
    costs = analysis.flows[analysis.flows["actor"] == "public"].sort_values("year")["costs"].to_numpy()
    for t, c in enumerate(costs, start=1):
        ws.append([_w("inputs.cost_year", L, year=t), round(float(c), 2), _w("inputs.unit_dkk", L),
                   _w("inputs.source_costs", L)])
        ws.cell(ws.max_row, 2).fill = VALUE_FILL
        refs[f"cost_{t}"] = f"{here}$B${ws.max_row}"
    ws.append([])
    ws.append([_w("inputs.assumptions", L), "", "", ""])
    ws.cell(ws.max_row, 1).font = BOLD
    table = code_assumptions_table(analysis, inv, analysis.costs, L)
    for r in table.itertuples(index=False):
        ws.append([r[0], r[1], r[2], r[3]])
    for col, width in zip("ABCD", (60, 70, 10, 80), strict=True):
        ws.column_dimensions[col].width = width
    ws["A1"].font = ws["B1"].font = ws["C1"].font = ws["D1"].font = BOLD
    return refs


def _actor_sheet(wb: Workbook, actor: str, analysis: InvestmentAnalysis, refs: dict, bearer: str, L: str) -> str:
    names = sheet_names(L)
    ws = wb.create_sheet(names[actor])
    ws["A1"] = _w("actor_sheet.title", L, sheet=names[actor])
    ws.append([])
    ws.append([_w(f"actor_sheet.column.{c}", L) for c in COLUMNS])
    for c in range(1, len(COLUMNS) + 1):
        ws.cell(3, c).font = BOLD
        ws.column_dimensions[get_column_letter(c)].width = 18
    b = analysis.balance[analysis.balance["actor"] == actor].sort_values("year")
    n = analysis.n_intervention
    H = int(analysis.settings["horizon_years"])
    mun, state = sheet_ref(names["municipality"]), sheet_ref(names["state"])
    for i, row in enumerate(b.itertuples()):
        r = FIRST_ROW + i
        t = int(row.year)
        ws[f"A{r}"] = t
        ws[f"B{r}"] = tr("word.yes", L) if t <= H else _w("actor_sheet.extrapolated", L)
        for k, item in enumerate(ITEMS):
            per, tot = "CDE"[k], "FGH"[k]
            if actor == "public":
                ws[f"{tot}{r}"] = f"={mun}{tot}{r}+{state}{tot}{r}"
                if t <= H:
                    ws[f"{per}{r}"] = f"={mun}{per}{r}+{state}{per}{r}"
            elif t <= H:
                _value(ws, f"{per}{r}", round(float(getattr(row, item)) / n, 4))
                ws[f"{tot}{r}"] = f"={per}{r}*{refs['participants']}"
            else:
                ws[f"{tot}{r}"] = f"={tot}{r - 1}*{refs['retention']}"
        if actor == "public":
            ws[f"I{r}"] = f"={mun}I{r}+{state}I{r}"
        elif actor == bearer:
            ws[f"I{r}"] = f"={refs[f'cost_{t}']}"
        else:
            _value(ws, f"I{r}", 0.0)
        ws[f"J{r}"] = f"=F{r}+G{r}+H{r}-I{r}"
        if t <= 35:
            ws[f"K{r}"] = f"=1/(1+{refs['rate']})^A{r}"
        else:
            _value(ws, f"K{r}", round(float(row.discount_factor), 10))
        ws[f"L{r}"] = f"=J{r}*K{r}"
        ws[f"M{r}"] = f"=J{r}" if i == 0 else f"=M{r - 1}+J{r}"
        ws[f"N{r}"] = f"=L{r}" if i == 0 else f"=N{r - 1}+L{r}"
    return str(FIRST_ROW + len(b) - 1) if len(b) else ""


def build_workbook(analysis: InvestmentAnalysis, study, language: str = LANGUAGE) -> Workbook:
    """The workbook (see the module notes); raises :class:`WorkbookWithheld` under disclosure."""
    if analysis.balance is None:
        raise ValueError("the workbook needs the per-code public balance (investment.pricing: code)")
    min_cell = study.study.min_cell
    if min(analysis.n_intervention, analysis.n_control) < min_cell or disclosure.masked_years(analysis.yearly,
                                                                                                 min_cell):
        raise WorkbookWithheld(f"a group has fewer than {min_cell} persons in some year; the workbook is not written")
    L = language
    wb = Workbook()
    refs = _inputs(wb, analysis, study, L)
    names = sheet_names(L)
    last = {a: _actor_sheet(wb, a, analysis, refs, study.investment.cost_bearer, L) for a in ACTORS}
    ws = wb.create_sheet(_w("sheet.summary", L))
    ws.append([_w(f"summary.column.{c}", L) for c in SUMMARY_COLUMNS])
    s = analysis.summary.set_index("actor")
    be = analysis.break_even.set_index("actor") if len(analysis.break_even) else None
    for actor in ACTORS:
        ref = sheet_ref(names[actor])
        ws.append([names[actor], f"=SUM({ref}L{FIRST_ROW}:L{last[actor]})", f"=SUM({ref}I{FIRST_ROW}:I{last[actor]})"])
        r = ws.max_row
        pb = s.loc[actor, "payback_year_pv"]
        vals = [int(pb) if np.isfinite(pb) else _w("summary.not_within", L),
                round(float(analysis.p_positive_by_actor.get(actor, np.nan)), 4), round(float(s.loc[actor, "npv_low"])),
                round(float(s.loc[actor, "npv_high"])),
                round(float(be.loc[actor, "persons_needed"]), 2) if be is not None and actor in be.index else ""]
        for c, v in enumerate(vals, start=4):
            _value(ws, f"{get_column_letter(c)}{r}", v)
    for c in range(1, len(SUMMARY_COLUMNS) + 1):
        ws.cell(1, c).font = BOLD
        ws.column_dimensions[get_column_letter(c)].width = 24
    return wb


def write_workbook(analysis: InvestmentAnalysis, study, path: str | Path, language: str = LANGUAGE) -> Path:
    """Build and write the workbook atomically; returns the path."""
    wb = build_workbook(analysis, study, language)
    with atomic.atomic_path(Path(path)) as tmp:
        wb.save(tmp)
    return Path(path)
