"""A complete :class:`InvestmentResult` from the few numbers a test cares about (the rest zero or missing).

The council's page and the summary read the saved result; their tests give hand-chosen
numbers for NPV, payback, break-even and chance, and this fills in every other field the
result file requires, so the test numbers stay visible in the test.
"""

from __future__ import annotations

from helpers.stages.investment import InvestmentResult

ACTOR = {"savings": 0.0, "costs": 0.0, "net": 0.0, "savings_pv": 0.0, "costs_pv": 0.0, "npv": 0.0, "npv_observed": 0.0,
         "return_per_krone": None, "payback_year": None, "payback_year_pv": None, "npv_low": None, "npv_high": None,
         "return_low": None, "return_high": None, "p_npv_positive_bootstrap": None, "payback_low": None,
         "payback_high": None}
BREAK_EVEN = {"costs_pv": 0.0, "pv_per_person": None, "persons_needed": None, "persons_needed_low": None,
              "persons_needed_high": None, "share_of_participants": None, "observed_equivalent": None,
              "observed_equivalent_low": None, "observed_equivalent_high": None}
BALANCE = {"year": 1, "actor": "public", "observed": True, "gross_benefit_savings": 0.0, "lost_tax_on_benefits": 0.0,
           "gained_tax_on_earnings": 0.0, "savings": 0.0, "programme_cost": 0.0, "net": 0.0, "discount_factor": 1.0,
           "net_pv": 0.0, "cumulative_net": 0.0, "cumulative_net_pv": 0.0, "cumulative_net_pv_low": None,
           "cumulative_net_pv_high": None}
SETTINGS = {"horizon_years": 1, "extrapolate_years": 0, "retention": 1.0, "discount_steps": [[None, 0.035]],
            "refusion": True, "refusion_history_weeks": 156, "price_year": 2024, "cost_bearer": "municipality",
            "bootstrap_draws": 0, "bootstrap_seed": 2, "monte_carlo_draws": 0, "monte_carlo_seed": 3, "level": 0.95,
            "sensitivity_actor": "public", "pricing": "code"}
MONTE_CARLO = {"draws": 0, "seed": 3, "p_npv_positive": None, "npv_mean": None, "npv_q2.5": None, "npv_q50": None,
               "npv_q97.5": None}


def investment_result(partial: dict) -> InvestmentResult:
    """The result of ``partial`` (keys of ``investment_results.json``, actors' and rows' fields as far as given)."""
    actors = {a: {**ACTOR, **v} for a, v in partial.get("actors", {}).items()}
    fields = {
        "study": "test", "horizon_total_years": 0, "p_npv_positive": None, "n_intervention": 0, "n_control": 0,
        "tornado": [], "rmst_cross_check": None, "notes": [], "pricing": "code", "p_npv_positive_by_actor": {},
        "scenarios": [], "unpriced_codes": [], "earnings": None, "tax": None,
        **{k: v for k, v in partial.items() if k not in ("actors", "settings", "break_even", "balance")},
        "npv": {a: {"estimate": v["npv"], "ci_low": v["npv_low"], "ci_high": v["npv_high"]} for a, v in actors.items()},
        "actors": actors,
        "summary": [{"actor": a, **v} for a, v in actors.items()],
        "settings": {**SETTINGS, **partial.get("settings", {})},
        "break_even": [{**BREAK_EVEN, **r} for r in partial.get("break_even", [])],
        "monte_carlo": MONTE_CARLO,
        "balance": [{**BALANCE, **r} for r in partial.get("balance", [])],
    }
    return InvestmentResult.model_validate(fields)
