"""Stage 05 in the report: assumptions, savings by year, NPV, the public balance, break-even, sensitivity,
scale-up scenarios, the workbook and the ex-ante projection.

Every function takes the stage's :class:`~helpers.stages.investment.InvestmentResult` and the
study and returns a report item (or a list of them) in the requested language (default: the
study's), or ``None`` when the study's calculation has no such part (no public balance with
per-category pricing, no scenarios, no projection). The items need the unmasked analysis of a
fresh result (``stages.investment.run``); tables are built by
:mod:`helpers.report.investment_tables` and :mod:`helpers.report.investment_assumptions`,
sentences by :mod:`helpers.report.investment_text`, figures by
:mod:`helpers.report.plots.investment`. Captions are the catalogue's ``caption.<key>``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from helpers.core.i18n import tr
from helpers.disclosure import Check
from helpers.disclosure import investment as disclosure
from helpers.investment.analysis import InvestmentAnalysis
from helpers.investment.projection import ProjectionAnalysis
from helpers.report import investment_tables as tables
from helpers.report import investment_text as text
from helpers.report import workbook
from helpers.report.investment_assumptions import assumptions_table as category_assumptions
from helpers.report.investment_assumptions import code_assumptions_table
from helpers.report.investment_format import actor_label
from helpers.report.items import Figure, Table, Text
from helpers.report.plots import investment as plots
from helpers.stages.investment import InvestmentResult

#: Figure sizes (inches) as drawn in the report.
WIDE, LOW = (7.5, 4.2), (7.5, 3.8)


def _lang(study, language: str | None) -> str:
    return language or study.study.language


def _analysis(result: InvestmentResult, what: str) -> InvestmentAnalysis:
    return result.require_analysis(what)


def _check(result: InvestmentResult, study, item: str) -> Check:
    return disclosure.group_check(result.n_intervention, result.n_control, study.study.min_cell, item=item)


def _texts(*keys: str, language: str) -> list[Text]:
    return [Text(tr(f"investment.text.{k}", language)) for k in keys]


def _sensitivity_actor(study, language: str) -> dict[str, str]:
    return {"actor": actor_label(study.investment.sensitivity.actor, language).lower()}


# ---------------------------------------------------------------------------- assumptions
def assumptions_table(result: InvestmentResult, study, language: str | None = None) -> Table:
    """Every assumption of the calculation with its year and source."""
    L, a = _lang(study, language), _analysis(result, "the assumptions table")
    if a.ledger is not None:
        frame = code_assumptions_table(a, study.investment, a.costs, L)
    else:
        frame = category_assumptions(study.investment, a.prices, a.costs, L, n_participants=a.n_intervention)
    return Table("investment_assumptions", frame, disclosure.assumptions_check("investment_assumptions"))


# ------------------------------------------------------------------------ savings and NPV
def yearly_table(result: InvestmentResult, study, language: str | None = None) -> Table:
    """Net public cost per person-year and savings per year by actor (small groups' years masked)."""
    a = _analysis(result, "the yearly table")
    frame, check = tables.yearly_table(a, _lang(study, language), study.study.min_cell,
                                       actors=study.investment.perspective)
    return Table("investment_yearly", frame, check)


def savings_figure(result: InvestmentResult, study, language: str | None = None) -> Figure:
    """Savings per year by actor, stacked, with the public total's CI."""
    a = _analysis(result, "the savings figure")
    fig, ax = plt.subplots(figsize=WIDE)
    plots.savings_by_year(a.yearly, language=_lang(study, language), ax=ax)
    return Figure("investment_savings_by_year", fig, _check(result, study, "investment_savings_by_year"))


def cumulative_figure(result: InvestmentResult, study, language: str | None = None) -> Figure:
    """Cumulative discounted net savings by actor with bootstrap bands and the break-even points."""
    a = _analysis(result, "the cumulative figure")
    fig, ax = plt.subplots(figsize=WIDE)
    plots.cumulative_net(a.flows, a.summary, actors=study.investment.perspective, language=_lang(study, language),
                         ax=ax)
    return Figure("investment_cumulative", fig, _check(result, study, "investment_cumulative"))


def npv_table(result: InvestmentResult, study, language: str | None = None) -> Table:
    """NPV, return per krone and payback year by actor."""
    a = _analysis(result, "the NPV table")
    return Table("investment_npv", tables.summary_table(a, _lang(study, language), study.investment.perspective),
                 _check(result, study, "investment_npv"))


def npv_text(result: InvestmentResult, study, language: str | None = None) -> list[Text]:
    """The result in sentences (:func:`helpers.report.investment_text.narrative`)."""
    return [Text(s) for s in text.narrative(_analysis(result, "the NPV text"), _lang(study, language))]


# ------------------------------------------------------------------------- public balance
def balance_text(result: InvestmentResult, study, language: str | None = None) -> list[Text] | None:
    """Heading and explanation of the public balance (None without one)."""
    if _analysis(result, "the balance text").balance is None:
        return None
    return _texts("balance_heading", "balance_intro", language=_lang(study, language))


def balance_table(result: InvestmentResult, study, language: str | None = None) -> Table | None:
    """The public balance by actor, item and year (None without one)."""
    a, L = _analysis(result, "the balance table"), _lang(study, language)
    if a.balance is None:
        return None
    frame, check = tables.balance_table(a, L, study.study.min_cell, study.investment.perspective)
    return Table("investment_balance", frame, check, note=tr("investment.text.balance_note", L))


def earnings_share_text(result: InvestmentResult, study, language: str | None = None) -> Text | None:
    """How much of the public saving is tax on earnings (None without a balance)."""
    sentence = text.earnings_share(_analysis(result, "the earnings share"), _lang(study, language))
    return None if sentence is None else Text(sentence)


def unpriced_text(result: InvestmentResult, study, language: str | None = None) -> Text | None:
    """What the table of unpriced codes shows (None with per-category pricing)."""
    if _analysis(result, "the unpriced codes").balance is None:
        return None
    return Text(tr("investment.text.unpriced_intro", _lang(study, language)))


def unpriced_table(result: InvestmentResult, study, language: str | None = None) -> Table | None:
    """Codes met in follow-up without a price, with person-weeks by group (None with per-category pricing)."""
    a = _analysis(result, "the unpriced codes")
    if a.balance is None:
        return None
    frame, check = tables.unpriced_table(a, _lang(study, language), study.study.min_cell)
    return Table("investment_unpriced_codes", frame, check)


# ------------------------------------------------------------------- break-even, sensitivity
def break_even_table(result: InvestmentResult, study, language: str | None = None) -> Table:
    """Extra persons in lasting self-support needed to break even, against the observed effect."""
    a = _analysis(result, "the break-even table")
    return Table("investment_break_even",
                 tables.break_even_table(a, _lang(study, language), study.investment.perspective),
                 _check(result, study, "investment_break_even"))


def tornado_figure(result: InvestmentResult, study, language: str | None = None) -> Figure:
    """One-way sensitivity of the sensitivity actor's NPV."""
    a, L = _analysis(result, "the tornado figure"), _lang(study, language)
    fig, ax = plt.subplots(figsize=LOW)
    plots.tornado(a.tornado, language=L, ax=ax)
    return Figure("investment_tornado", fig, _check(result, study, "investment_tornado"),
                  caption_fields=_sensitivity_actor(study, L))


def sensitivity_table(result: InvestmentResult, study, language: str | None = None) -> Table:
    """NPV at the ends of each input's range."""
    a = _analysis(result, "the sensitivity table")
    return Table("investment_sensitivity", tables.tornado_table(a, _lang(study, language)),
                 _check(result, study, "investment_sensitivity"))


def monte_carlo_figure(result: InvestmentResult, study, language: str | None = None) -> Figure:
    """The Monte Carlo distribution of the sensitivity actor's NPV."""
    a, L = _analysis(result, "the Monte Carlo figure"), _lang(study, language)
    fig, ax = plt.subplots(figsize=LOW)
    plots.npv_histogram(a.monte_carlo.npv, a.monte_carlo.p_positive, language=L, ax=ax)
    return Figure("investment_monte_carlo", fig, _check(result, study, "investment_monte_carlo"),
                  caption_fields=_sensitivity_actor(study, L))


def monte_carlo_table(result: InvestmentResult, study, language: str | None = None) -> Table:
    """P(NPV > 0) and NPV quantiles of the Monte Carlo."""
    a = _analysis(result, "the Monte Carlo table")
    return Table("investment_monte_carlo_summary", tables.monte_carlo_table(a, _lang(study, language)),
                 _check(result, study, "investment_monte_carlo_summary"))


def notes_text(result: InvestmentResult, study, language: str | None = None) -> list[Text]:
    """The calculation's notes on its inputs, one paragraph each."""
    return [Text(n) for n in text.notes(_analysis(result, "the notes"), _lang(study, language))]


# ---------------------------------------------------------------------------- scenarios
def scenarios_text(result: InvestmentResult, study, language: str | None = None) -> list[Text] | None:
    """Heading and explanation of the scale-up scenarios (None without scenarios)."""
    if _analysis(result, "the scenarios").scenarios is None:
        return None
    return _texts("scenarios_heading", "scenarios_intro", language=_lang(study, language))


def scenarios_table(result: InvestmentResult, study, language: str | None = None) -> Table | None:
    """The scale-up scenarios by actor (None without scenarios)."""
    a = _analysis(result, "the scenarios")
    if a.scenarios is None:
        return None
    return Table("investment_scenarios",
                 tables.scenario_table(a, study.investment, _lang(study, language), study.investment.perspective),
                 _check(result, study, "investment_scenarios"))


def scenario_notes_text(result: InvestmentResult, study, language: str | None = None) -> list[Text] | None:
    """The scenarios' sources and assumptions (None without scenarios)."""
    if _analysis(result, "the scenarios").scenarios is None:
        return None
    return [Text(n) for n in text.scenario_notes(study.investment, _lang(study, language))]


# ----------------------------------------------------------------------------- workbook
def workbook_text(result: InvestmentResult, study, output_dir: str | Path, language: str | None = None
                  ) -> Text | None:
    """Export the workbook (:mod:`helpers.report.workbook`) to ``output_dir`` and say where it is, or why it
    was withheld (None without a public balance)."""
    a, L = _analysis(result, "the workbook"), _lang(study, language)
    if a.balance is None:
        return None
    try:
        workbook.write_workbook(a, study, Path(output_dir) / "investment_workbook.xlsx")
    except workbook.WorkbookWithheld as err:
        return Text(tr("investment.text.workbook_withheld", L, reason=str(err)))
    return Text(tr("investment.text.workbook_written", L))


# --------------------------------------------------------------------------- projection
def _projection(result: InvestmentResult) -> ProjectionAnalysis | None:
    return result.projection


def projection_text(result: InvestmentResult, study, language: str | None = None) -> list[Text] | None:
    """Heading and explanation of the application's projection (None without one)."""
    if _projection(result) is None:
        return None
    return _texts("projection_heading", "projection_intro", language=_lang(study, language))


def projection_table(result: InvestmentResult, study, language: str | None = None) -> Table | None:
    """The projection as in the application, reproduced by the model."""
    p = _projection(result)
    if p is None:
        return None
    return Table("investment_projection", tables.projection_table(p.result, p.config, _lang(study, language)),
                 disclosure.assumptions_check("investment_projection"))


def projection_readings_table(result: InvestmentResult, study, language: str | None = None) -> Table | None:
    """The projection's yearly totals as printed and under each reading of its assumptions."""
    p = _projection(result)
    if p is None or p.reconciliation is None:
        return None
    _, totals = tables.reconciliation_tables(p.reconciliation, p.config, _lang(study, language))
    return Table("investment_projection_readings", totals, disclosure.assumptions_check("investment_projection_readings"))


def projection_departures_table(result: InvestmentResult, study, language: str | None = None) -> Table | None:
    """Cells where the printed projection departs from its stated assumptions."""
    p = _projection(result)
    if p is None or p.reconciliation is None:
        return None
    cells, _ = tables.reconciliation_tables(p.reconciliation, p.config, _lang(study, language))
    return Table("investment_projection_departures", cells,
                 disclosure.assumptions_check("investment_projection_departures"))


def projection_notes_text(result: InvestmentResult, study, language: str | None = None) -> list[Text] | None:
    """The reconciliation in sentences."""
    p = _projection(result)
    if p is None or p.reconciliation is None:
        return None
    return [Text(n) for n in text.projection_notes(p.reconciliation, p.config, _lang(study, language))]


def projection_flows_table(result: InvestmentResult, study, language: str | None = None) -> Table | None:
    """Projected savings, costs and cumulative net, as printed and corrected."""
    p = _projection(result)
    if p is None:
        return None
    return Table("investment_projection_flows", tables.projection_flows_table(p.readings, p.config,
                                                                             _lang(study, language)),
                 disclosure.assumptions_check("investment_projection_flows"))


def projection_figure(result: InvestmentResult, study, language: str | None = None) -> Figure | None:
    """Projected savings and the cumulative net of both readings."""
    p, L = _projection(result), _lang(study, language)
    if p is None:
        return None
    fig, ax = plt.subplots(figsize=WIDE)
    plots.projection_cumulative(p.readings, language=L, labels=[lab(L) for lab in p.config.year_labels] or None,
                                ax=ax)
    return Figure("investment_projection_cumulative", fig,
                  disclosure.assumptions_check("investment_projection_cumulative"))
