"""The investment workbook: its Excel formulas, evaluated here, give the report's numbers to the krone;
the supplement scanner accepts it."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from helpers import investment as I
from helpers.config import load_study
from helpers.config.schema.investment import InvestmentConfig
from helpers.core.codes import CodeBook
from helpers.investment import by_code
from helpers.investment import ledger as L
from helpers.investment.code_prices import load_code_prices
from helpers.investment.tax import load_tax_rates
from helpers.report import supplement
from helpers.report import workbook as W

SUM_RE = re.compile(r"SUM\(((?:'[^']+'|[A-Za-z]+)!)?\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)\)")
REF_RE = re.compile(r"(?:('[^']+'|[A-Za-z]+)!)?\$?([A-Z]{1,2})\$?(\d+)")


def evaluate(wb, sheet: str, ref: str, cache: dict) -> float:
    """Value of a cell, evaluating the (+ - * / ^, SUM, cross-sheet) formulas the workbook uses."""
    key = (sheet, ref)
    if key in cache:
        return cache[key]
    v = wb[sheet][ref].value
    if isinstance(v, str) and v.startswith("="):
        expr = v[1:]

        def total(m):
            sh = (m.group(1) or f"{sheet}!")[:-1].strip("'")
            col, lo, col2, hi = m.group(2), int(m.group(3)), m.group(4), int(m.group(5))
            assert col == col2
            return repr(sum(evaluate(wb, sh, f"{col}{r}", cache) for r in range(lo, hi + 1)))

        expr = SUM_RE.sub(total, expr)
        expr = REF_RE.sub(lambda m: repr(evaluate(wb, (m.group(1) or sheet).strip("'"), f"{m.group(2)}{m.group(3)}",
                                                  cache)), expr)
        value = float(eval(expr.replace("^", "**"), {"__builtins__": {}}))  # noqa: S307 - digits and operators only
    else:
        value = float(v or 0.0)
    cache[key] = value
    return value


@pytest.fixture(scope="module")
def analysis_and_study():
    """8 participants (4 move into work after 26 weeks, 2 into fleksjob, 2 stay) and 8 controls on kontanthjælp."""
    prices = load_code_prices(price_year=2024)
    n = 8
    moves = [0, 0, 0, 0, 771, 771, 730, 730]
    hist = np.full((2 * n, 156), 730)
    follow = np.full((2 * n, 104), 730)
    degree = np.zeros((2 * n, 104))
    for i, code in enumerate(moves):
        follow[i, 26 + i:] = code
        degree[i, 26 + i:] = 1.0 if code == 0 else 0.5 if code == 771 else 0.0
    codes_all = np.hstack([hist, follow]).astype(np.int16)
    share = L.refusion_shares(codes_all, prices, CodeBook.default())[:, 156:]
    cohort = pd.DataFrame({"person_id": [f"p{i}" for i in range(2 * n)],
                           "group": ["intervention"] * n + ["control"] * n, "matched_set": list(range(n)) * 2,
                           "weight": 1.0, "index_week": 1500})
    led = by_code.ledger_from_arrays(codes_all[:, 156:], degree, share, cohort=cohort, prices=prices,
                                     tax=load_tax_rates(year=2024, municipality=183), earnings=L.Earnings(180.0),
                                     flex=L.load_flex_rule(year=2024), years=2)
    inv = InvestmentConfig.model_validate({"pricing": "code", "tax": {"enabled": True}, "horizon_years": 2,
                                           "extrapolate_years": 3, "retention": 0.9,
                                           "intervention_cost_total": 150_000, "bootstrap_draws": 50,
                                           "monte_carlo_draws": 100})
    a = I.analyse_frames(None, led.prices.table, inv, 1, cohort=cohort, ledger=led)
    study = load_study("demo").model_copy(deep=True)
    study.investment = inv
    return a, study


def test_workbook_formulas_reproduce_the_npv_and_yearly_net(analysis_and_study, tmp_path):
    a, study = analysis_and_study
    path = W.write_workbook(a, study, tmp_path / "investment_workbook.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Inputs", "Municipality", "State", "Public sector", "Summary"]
    cache: dict = {}
    npv = a.summary.set_index("actor")["npv"]
    for row, actor in zip((2, 3, 4), I.ACTORS, strict=True):
        assert wb["Summary"][f"B{row}"].value.startswith("=SUM(")
        assert evaluate(wb, "Summary", f"B{row}", cache) == pytest.approx(npv[actor], abs=1.0)
    bal = a.balance.set_index(["actor", "year"])
    for actor, sheet in W.sheet_names("en").items():
        for t in range(1, 6):
            r = W.FIRST_ROW + t - 1
            assert wb[sheet][f"J{r}"].value == f"=F{r}+G{r}+H{r}-I{r}"
            assert evaluate(wb, sheet, f"J{r}", cache) == pytest.approx(bal.loc[(actor, t), "net"], abs=1.0)
    # extrapolated years are formulas on the retention input, observed totals on the participants input
    assert wb["Municipality"]["F6"].value == "=F5*Inputs!$B$5"
    assert wb["Municipality"]["F4"].value == "=C4*Inputs!$B$2"
    assert wb["Public sector"]["F4"].value == "=Municipality!F4+State!F4"


def test_workbook_passes_the_supplement_scan_and_is_withheld_for_small_groups(analysis_and_study, tmp_path):
    a, study = analysis_and_study
    data = W.write_workbook(a, study, tmp_path / "w.xlsx").read_bytes()
    assert supplement.scan_member("investment_workbook.xlsx", data, min_cell=5) == []
    strict = study.model_copy(deep=True)
    strict.study.min_cell = 10
    with pytest.raises(W.WorkbookWithheld):
        W.build_workbook(a, strict)


def test_danish_workbook_has_the_same_formulas_under_danish_names(analysis_and_study, tmp_path):
    a, study = analysis_and_study
    wb = load_workbook(W.write_workbook(a, study, tmp_path / "da.xlsx", language="da"))
    assert wb.sheetnames == ["Forudsætninger", "Kommune", "Stat", "Offentlig sektor i alt", "Resumé"]
    assert wb["Offentlig sektor i alt"]["F4"].value == "=Kommune!F4+Stat!F4"
    assert wb["Kommune"]["F4"].value == "=C4*'Forudsætninger'!$B$2"
    cache: dict = {}
    npv = a.summary.set_index("actor")["npv"]
    for row, actor in zip((2, 3, 4), I.ACTORS, strict=True):
        assert evaluate(wb, "Resumé", f"B{row}", cache) == pytest.approx(npv[actor], abs=1.0)
