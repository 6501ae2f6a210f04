"""Investment calculation: projected (ex ante) and realised (ex post) savings, break-even, sensitivity.

Municipal analysts present such calculations to the city council (the Skandia model, SØM,
the municipal "investeringsmodel"); this package makes them reproducible from the study
YAML and the register data. Modules, one per concern:

- :mod:`~helpers.investment.discounting`: the Finance Ministry's piecewise discount rate.
- :mod:`~helpers.investment.prices`: dated benefit prices per full-time person and analysis
  category (shipped CSV; ``investment.pricing: category``).
- :mod:`~helpers.investment.code_prices`: dated weekly prices per DREAM code, payer, refusion
  rule, taxable, earnings (``investment.pricing: code``).
- :mod:`~helpers.investment.tax`: income tax and AM-bidrag per person-year, by actor.
- :mod:`~helpers.investment.ledger`: the weekly public ledger (benefits by actor, fleksløntilskud,
  earnings) and person-years with taxes; :mod:`~helpers.investment.by_code` builds it from the store.
- :mod:`~helpers.investment.balance`: the yearly balance by actor and component.
- :mod:`~helpers.investment.scenarios`: "N persons a year for K years" from the estimated effect.
- :mod:`~helpers.investment.wage_sensitivity`: the one-way row of the wage assumption.
- :mod:`~helpers.investment.refusion`: the 2016 refusion steps, per person and week.
- :mod:`~helpers.investment.projection`: ex-ante projection by cohorts of holds (seed 002's
  table, reproduced and reconciled).
- :mod:`~helpers.investment.realised`: ex-post savings from weeks on benefit, intervention
  vs matched control, cash flows, payback, break-even effect.
- :mod:`~helpers.investment.sensitivity`: one-way (tornado) and Monte Carlo.
- :mod:`~helpers.investment.analysis`: the whole realised calculation of a study.
- :mod:`~helpers.investment.notes`: what the calculation says about its inputs, as catalogue keys.

The package computes only: numbers in tidy frames and small result objects, no words. The
stage (:mod:`helpers.stages.investment`) writes ``investment_results.json``; the report
(:mod:`helpers.report.investment`, :mod:`helpers.report.council`, :mod:`helpers.report.workbook`)
words, masks and shows it.

Examples
--------
>>> from helpers import investment
>>> from helpers.config import load_study
>>> cfg = load_study("fundamentet").investment.projection
>>> investment.project(cfg).totals["value_table"].tolist()
[652.0, 2292.0, 3171.0, 3025.0, 2879.0, 2557.0]
"""

from helpers.investment.analysis import (
    InvestmentAnalysis,
    analyse,
    analyse_frames,
    build_weeks,
    load_cohort,
)
from helpers.investment.code_prices import CodePrices, load_code_prices
from helpers.investment.discounting import (
    MOF_2021,
    discount_factors,
    flat_steps,
    present_value,
)
from helpers.investment.notes import Note
from helpers.investment.prices import (
    load_prices,
    read_price_file,
    refusion_categories,
    select_prices,
)
from helpers.investment.projection import (
    ProjectionAnalysis,
    ProjectionResult,
    Reconciliation,
    analyse_projection,
    project,
    projection_cash_flows,
    projection_readings,
    reconcile,
    round_half_up,
)
from helpers.investment.realised import (
    ACTORS,
    InvestmentInputError,
    break_even_persons,
    cash_flows,
    intervention_costs,
    payback_year,
    price_weeks,
    summarise_flows,
)
from helpers.investment.refusion import STEPS_2016, refusion_weeks, state_share_by_week
from helpers.investment.scenarios import run_scenarios
from helpers.investment.sensitivity import (
    MonteCarloResult,
    NPVModel,
    monte_carlo,
    one_way,
)
from helpers.investment.tax import TaxRates, load_tax_rates, person_year_taxes

__all__ = [
    "ACTORS",
    "CodePrices",
    "MOF_2021",
    "STEPS_2016",
    "InvestmentAnalysis",
    "InvestmentInputError",
    "MonteCarloResult",
    "NPVModel",
    "Note",
    "ProjectionAnalysis",
    "ProjectionResult",
    "Reconciliation",
    "TaxRates",
    "analyse",
    "analyse_frames",
    "analyse_projection",
    "break_even_persons",
    "build_weeks",
    "cash_flows",
    "discount_factors",
    "flat_steps",
    "intervention_costs",
    "load_code_prices",
    "load_cohort",
    "load_prices",
    "load_tax_rates",
    "monte_carlo",
    "one_way",
    "payback_year",
    "person_year_taxes",
    "present_value",
    "price_weeks",
    "project",
    "projection_cash_flows",
    "projection_readings",
    "read_price_file",
    "reconcile",
    "refusion_categories",
    "refusion_weeks",
    "round_half_up",
    "run_scenarios",
    "select_prices",
    "state_share_by_week",
    "summarise_flows",
]
