"""Investment calculation: projected (ex ante) and realised (ex post) savings, break-even, sensitivity.

Municipal analysts present such calculations to the city council (the Skandia model, SØM,
the municipal "investeringsmodel"); this package makes them reproducible from the study
YAML and the register data. Modules, one per concern:

- :mod:`~helpers.investment.discounting`: the Finance Ministry's piecewise discount rate.
- :mod:`~helpers.investment.prices`: dated benefit prices per full-time person (shipped CSV).
- :mod:`~helpers.investment.refusion`: the 2016 refusion steps, per person and week.
- :mod:`~helpers.investment.projection`: ex-ante projection by cohorts of holds (seed 002's
  table, reproduced and reconciled).
- :mod:`~helpers.investment.realised`: ex-post savings from weeks on benefit, intervention
  vs matched control, cash flows, payback, break-even effect.
- :mod:`~helpers.investment.sensitivity`: one-way (tornado) and Monte Carlo.
- :mod:`~helpers.investment.analysis`: the whole realised calculation of a study.
- :mod:`~helpers.investment.tables`: report tables in the study's language.

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
    save_results,
)
from helpers.investment.discounting import (
    MOF_2021,
    discount_factors,
    flat_steps,
    present_value,
)
from helpers.investment.prices import (
    load_prices,
    read_price_file,
    refusion_categories,
    select_prices,
)
from helpers.investment.projection import (
    ProjectionResult,
    Reconciliation,
    project,
    projection_cash_flows,
    projection_table,
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
from helpers.investment.sensitivity import (
    MonteCarloResult,
    NPVModel,
    monte_carlo,
    one_way,
)

__all__ = [
    "ACTORS",
    "MOF_2021",
    "STEPS_2016",
    "InvestmentAnalysis",
    "InvestmentInputError",
    "MonteCarloResult",
    "NPVModel",
    "ProjectionResult",
    "Reconciliation",
    "analyse",
    "analyse_frames",
    "break_even_persons",
    "build_weeks",
    "cash_flows",
    "discount_factors",
    "flat_steps",
    "intervention_costs",
    "load_cohort",
    "load_prices",
    "monte_carlo",
    "one_way",
    "payback_year",
    "present_value",
    "price_weeks",
    "project",
    "projection_cash_flows",
    "projection_table",
    "read_price_file",
    "reconcile",
    "refusion_categories",
    "refusion_weeks",
    "round_half_up",
    "save_results",
    "select_prices",
    "state_share_by_week",
    "summarise_flows",
]
