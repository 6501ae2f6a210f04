"""The investment calculation as one Excel workbook for a municipal finance officer (presentation).

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
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from helpers.core import atomic
from helpers.investment.analysis import InvestmentAnalysis
from helpers.investment.balance_tables import code_assumptions_table, masked_years
from helpers.investment.realised import ACTORS

VALUE_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
SHEETS = {"municipality": "Municipality", "state": "State", "public": "Public sector"}
ITEMS = ("gross_benefit_savings", "lost_tax_on_benefits", "gained_tax_on_earnings")
HEAD = ("Year", "Observed", "Gross benefit savings per participant (value)", "Lost tax on benefits per participant "
        "(value)", "Gained tax on earnings per participant (value)", "Gross benefit savings (formula)",
        "Lost tax on benefits (formula)", "Gained tax on earnings (formula)", "Programme cost (formula)",
        "Net (formula)", "Discount factor (formula)", "Net, present value (formula)", "Cumulative net (formula)",
        "Cumulative net, present value (formula)")
FIRST_ROW = 4          # first year's row on the actor sheets (row 3 = header)


class WorkbookWithheld(RuntimeError):
    """The workbook would show money of groups below the disclosure threshold."""


def _value(ws, ref: str, v) -> None:
    ws[ref] = v
    ws[ref].fill = VALUE_FILL


def _inputs(wb: Workbook, analysis: InvestmentAnalysis, study) -> dict[str, str]:
    ws = wb.active
    ws.title = "Inputs"
    inv = study.investment
    steps = analysis.settings["discount_steps"]
    ws.append(["Input", "Value", "Unit", "Source"])
    refs = {}
    rows = [("participants", "Participants", analysis.n_intervention, "persons", "the evaluation's cohort"),
            ("controls", "Matched controls", analysis.n_control, "persons", "the evaluation's cohort"),
            ("rate", "Discount rate, years 1-35", steps[0][1], "per year",
             "Finansministeriet, Vejledning i samfundsøkonomiske konsekvensvurderinger (2023)"),
            ("retention", "Retention of the saving per extrapolated year", inv.retention, "share",
             "study YAML (investment.retention)"),
            ("observed", "Observed years", inv.horizon_years, "years", "study YAML (investment.horizon_years)")]
    for key, label, value, unit, source in rows:
        ws.append([label, value, unit, source])
        refs[key] = f"Inputs!$B${ws.max_row}"
        ws.cell(ws.max_row, 2).fill = VALUE_FILL
    ws.append([])
    ws.append(["Programme cost by year (borne by the " + inv.cost_bearer + ")", "DKK (value)", "", ""])
    ws.cell(ws.max_row, 1).font = BOLD
    costs = analysis.flows[analysis.flows["actor"] == "public"].sort_values("year")["costs"].to_numpy()
    for t, c in enumerate(costs, start=1):
        ws.append([f"Programme cost, year {t}", round(float(c), 2), "DKK", "study YAML / costs form"])
        ws.cell(ws.max_row, 2).fill = VALUE_FILL
        refs[f"cost_{t}"] = f"Inputs!$B${ws.max_row}"
    ws.append([])
    ws.append(["Assumptions of the calculation (as in the report)", "", "", ""])
    ws.cell(ws.max_row, 1).font = BOLD
    table = code_assumptions_table(analysis, inv, analysis.costs, "en")
    for r in table.itertuples(index=False):
        ws.append([r[0], r[1], r[2], r[3]])
    for col, width in zip("ABCD", (60, 70, 10, 80), strict=True):
        ws.column_dimensions[col].width = width
    ws["A1"].font = ws["B1"].font = ws["C1"].font = ws["D1"].font = BOLD
    return refs


def _actor_sheet(wb: Workbook, actor: str, analysis: InvestmentAnalysis, refs: dict, bearer: str) -> str:
    ws = wb.create_sheet(SHEETS[actor])
    ws["A1"] = f"{SHEETS[actor]}: yearly balance, DKK. Blue cells are values computed by dream-eval; the rest are formulas."
    ws.append([])
    ws.append(list(HEAD))
    for c in range(1, len(HEAD) + 1):
        ws.cell(3, c).font = BOLD
        ws.column_dimensions[get_column_letter(c)].width = 18
    b = analysis.balance[analysis.balance["actor"] == actor].sort_values("year")
    n = analysis.n_intervention
    H = int(analysis.settings["horizon_years"])
    for i, row in enumerate(b.itertuples()):
        r = FIRST_ROW + i
        t = int(row.year)
        ws[f"A{r}"] = t
        ws[f"B{r}"] = "yes" if t <= H else "extrapolated"
        for k, item in enumerate(ITEMS):
            per, tot = "CDE"[k], "FGH"[k]
            if actor == "public":
                ws[f"{tot}{r}"] = f"=Municipality!{tot}{r}+State!{tot}{r}"
                if t <= H:
                    ws[f"{per}{r}"] = f"=Municipality!{per}{r}+State!{per}{r}"
            elif t <= H:
                _value(ws, f"{per}{r}", round(float(getattr(row, item)) / n, 4))
                ws[f"{tot}{r}"] = f"={per}{r}*{refs['participants']}"
            else:
                ws[f"{tot}{r}"] = f"={tot}{r - 1}*{refs['retention']}"
        if actor == "public":
            ws[f"I{r}"] = f"=Municipality!I{r}+State!I{r}"
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
    last = FIRST_ROW + len(b) - 1
    return f"{SHEETS[actor]}!L{FIRST_ROW}:L{last}" if len(b) else ""


def build_workbook(analysis: InvestmentAnalysis, study) -> Workbook:
    """The workbook (see the module notes); raises :class:`WorkbookWithheld` under disclosure."""
    if analysis.balance is None:
        raise ValueError("the workbook needs the per-code public balance (investment.pricing: code)")
    min_cell = study.study.min_cell
    if min(analysis.n_intervention, analysis.n_control) < min_cell or masked_years(analysis, min_cell):
        raise WorkbookWithheld(f"a group has fewer than {min_cell} persons in some year; the workbook is not written")
    wb = Workbook()
    refs = _inputs(wb, analysis, study)
    ranges = {a: _actor_sheet(wb, a, analysis, refs, study.investment.cost_bearer) for a in ACTORS}
    ws = wb.create_sheet("Summary")
    ws.append(["Actor", "Net present value (formula)", "Programme cost, total (formula)",
               "Payback year, discounted (value)", "Chance of a positive NPV (value)",
               "NPV 95% interval, low (value)", "NPV 95% interval, high (value)",
               "Extra persons in lasting self-support to break even (value)"])
    s = analysis.summary.set_index("actor")
    be = analysis.break_even.set_index("actor") if len(analysis.break_even) else None
    for actor in ACTORS:
        sheet = SHEETS[actor]
        last = ranges[actor].split(":")[-1][1:]
        ws.append([sheet, f"=SUM({ranges[actor]})", f"=SUM('{sheet}'!I{FIRST_ROW}:I{last})" if " " in sheet
                   else f"=SUM({sheet}!I{FIRST_ROW}:I{last})"])
        r = ws.max_row
        pb = s.loc[actor, "payback_year_pv"]
        vals = [int(pb) if np.isfinite(pb) else "not within the horizon",
                round(float(analysis.p_positive_by_actor.get(actor, np.nan)), 4), round(float(s.loc[actor, "npv_low"])),
                round(float(s.loc[actor, "npv_high"])),
                round(float(be.loc[actor, "persons_needed"]), 2) if be is not None and actor in be.index else ""]
        for c, v in enumerate(vals, start=4):
            _value(ws, f"{get_column_letter(c)}{r}", v)
    for c in range(1, 9):
        ws.cell(1, c).font = BOLD
        ws.column_dimensions[get_column_letter(c)].width = 24
    # sheets whose names hold a space must be quoted in formulas
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("=") and "Public sector!" in cell.value:
                    cell.value = cell.value.replace("Public sector!", "'Public sector'!")
    return wb


def write_workbook(analysis: InvestmentAnalysis, study, path: str | Path) -> Path:
    """Build and write the workbook atomically; returns the path."""
    wb = build_workbook(analysis, study)
    with atomic.atomic_path(Path(path)) as tmp:
        wb.save(tmp)
    return Path(path)
