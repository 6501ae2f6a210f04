"""The realised investment calculation of a study, end to end (what stage 05 calls).

:func:`analyse` loads the cohort, the weekly store and the costs, prices the weeks,
estimates yearly savings by actor with a bootstrap over matched sets, and derives cash
flows, NPV, payback, return per krone, the break-even effect, the one-way sensitivity and
the Monte Carlo. :func:`analyse_frames` does the same from data frames (used by tests).
The stage (:mod:`helpers.stages.investment`) turns the :class:`InvestmentAnalysis` into
its typed result, ``investment_results.json``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.config import Study
from helpers.config.schema.investment import InvestmentConfig
from helpers.core import calendar, store
from helpers.core.codes import CodeBook
from helpers.investment import balance as BAL
from helpers.investment import by_code
from helpers.investment import realised as R
from helpers.investment.discounting import discount_factors, normalise_steps
from helpers.investment.notes import Note
from helpers.investment.prices import load_prices, refusion_categories
from helpers.investment.refusion import refusion_weeks
from helpers.investment.scenarios import run_scenarios
from helpers.investment.sensitivity import (
    MonteCarloResult,
    NPVModel,
    monte_carlo,
    one_way,
)
from helpers.investment.wage_sensitivity import add_row, wage_row
from helpers.outcomes import status

#: Seed offsets (docs/architecture.md, "Randomness").
BOOTSTRAP_OFFSET, MONTE_CARLO_OFFSET = 2, 3


@dataclass
class InvestmentAnalysis:
    """Result of the realised investment calculation (aggregates only).

    Attributes
    ----------
    settings : dict
        Horizon, extrapolation, retention, discount steps, draws, seeds, level, bearer.
    prices : DataFrame
        The price per category used (:func:`~helpers.investment.prices.select_prices`).
    costs : DataFrame
        The intervention's cost items (:func:`~helpers.investment.realised.intervention_costs`).
    n_intervention, n_control : int
        Persons in each group.
    yearly : DataFrame
        ``year, actor, observed, cost_intervention, cost_control`` (per person-year),
        ``saving_per_participant, saving_low, saving_high, saving_total, total_low,
        total_high, n_intervention, n_control`` (persons with data that year).
    flows : DataFrame
        :func:`~helpers.investment.realised.cash_flows` plus ``cumulative_net_pv_low/high``.
    summary : DataFrame
        Per actor: PV of savings and costs, NPV with CI, return per krone with CI,
        payback years, bootstrap share with NPV > 0.
    break_even : DataFrame
        Per actor bearing costs: PV saved per person in lasting self-support, persons
        needed to break even (with CI), as share of participants, observed equivalent.
    tornado : DataFrame
        :func:`~helpers.investment.sensitivity.one_way` for ``sensitivity.actor``.
    monte_carlo : MonteCarloResult
    rmst : dict or None
        Cross-check from the survival analysis' RMST difference, when available.
    notes : list of Note
        What the report says about the inputs (:mod:`helpers.investment.notes`).
    balance : DataFrame or None
        Per-code pricing: the yearly public balance by actor
        (:func:`helpers.investment.balance.actor_balance`).
    ledger : CodeLedger or None
        Per-code pricing: the ledger (code prices, tax rates, earnings, person-weeks per code).
    scenarios : DataFrame or None
        :func:`helpers.investment.scenarios.run_scenarios` of ``investment.scenarios``.
    p_positive_by_actor : dict
        Monte Carlo P(NPV > 0) for every actor (same draws as :attr:`monte_carlo`).
    """

    settings: dict
    prices: pd.DataFrame
    costs: pd.DataFrame
    n_intervention: int
    n_control: int
    yearly: pd.DataFrame
    flows: pd.DataFrame
    summary: pd.DataFrame
    break_even: pd.DataFrame
    tornado: pd.DataFrame
    monte_carlo: MonteCarloResult
    rmst: dict | None = None
    notes: list[Note] = field(default_factory=list)
    replicates: dict = field(default_factory=dict, repr=False)
    balance: pd.DataFrame | None = None
    ledger: by_code.CodeLedger | None = field(default=None, repr=False)
    scenarios: pd.DataFrame | None = None
    p_positive_by_actor: dict = field(default_factory=dict)

    def npv(self, actor: str = "public") -> float:
        """Net present value for ``actor``."""
        return float(self.summary.set_index("actor").loc[actor, "npv"])


# ----------------------------------------------------------------------------- loading
def load_cohort(study: Study) -> pd.DataFrame:
    """The analysis cohort (:func:`helpers.core.store.load_cohort`, written by stage 02), with its columns checked."""
    try:
        cohort = store.load_cohort(study)
    except FileNotFoundError:
        raise R.InvestmentInputError(
            f"{study.processed_dir / 'cohort.parquet'}: not found; run the cohort stage first "
            f"(notebooks/02_cohort.ipynb, or `make report STUDY={study.name}`)"
        ) from None
    missing = [c for c in ("person_id", "group", "index_week") if c not in cohort.columns]
    if missing:
        raise R.InvestmentInputError(
            f"{study.processed_dir / 'cohort.parquet'}: missing column(s) {missing}; expected the contract of "
            "docs/architecture.md"
        )
    return cohort


def load_costs_form(study: Study) -> pd.DataFrame | None:
    """The costs form from the processed store, or None when the study has none."""
    if study.data.forms.costs is None:
        return None
    loader = getattr(store, "load_form", None)
    if loader is not None:
        try:
            return loader(study, "costs")
        except (FileNotFoundError, KeyError):
            return None
    path = study.processed_dir / "forms_costs.parquet"
    return pd.read_parquet(path) if path.exists() else None


def _load_weekly(study: Study, first_week: int, last_week: int, person_ids=None):
    loader = getattr(store, "load_weekly", None)
    if loader is None:
        raise R.InvestmentInputError("helpers.core.store.load_weekly is not available; run the ingest stage first")
    try:
        return loader(study, first_week=first_week, last_week=last_week, person_ids=person_ids)
    except TypeError:
        return loader(study)


def build_weeks(study: Study, cohort: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """Person x year x category weeks with refusion-weighted weeks, from the weekly store.

    Weeks come from :func:`helpers.outcomes.status.weeks_by_category_per_year`; ``state_weeks``
    from :func:`helpers.investment.refusion.refusion_weeks` with
    ``investment.refusion_history_weeks`` of history before the index week.
    """
    inv = study.investment
    years = inv.horizon_years
    index = cohort["index_week"].to_numpy(dtype=np.int64)
    first = int(index.min()) - inv.refusion_history_weeks
    last = int(index.max()) + 52 * years - 1
    weekly = _load_weekly(study, first, last, pd.unique(cohort["person_id"]))
    rows = weekly.rows_of(cohort["person_id"].to_numpy())
    book = CodeBook.default(study.data.category_overrides)
    weeks = status.weeks_by_category_per_year(weekly, rows, index, years, book)
    weeks["category"] = weeks["category"].astype(str)
    if inv.refusion:
        rf = refusion_weeks(weekly, rows, index, years, book, refusion_categories(prices),
                            history_weeks=inv.refusion_history_weeks)
        weeks = weeks.merge(rf[["unit", "year", "category", "state_weeks"]], on=["unit", "year", "category"],
                            how="left")
        weeks["state_weeks"] = weeks["state_weeks"].fillna(0.0)
    return weeks


def parse_rmst(js: dict) -> tuple[dict | None, str]:
    """Find ``rmst_difference_weeks`` (a number or a dict with estimate and CI) in survival results.

    :mod:`helpers.stats.survival` writes ``rmst_difference_weeks`` = RMST(control) - RMST(intervention),
    the extra weeks after first reaching lasting self-support (positive favours the
    intervention), with ``rmst_difference_ci_low``/``_high`` and ``rmst_horizon_weeks``.
    """
    v = js.get("rmst_difference_weeks")
    if v is None and isinstance(js.get("rmst"), dict):
        v = js["rmst"].get("difference_weeks", js["rmst"].get("rmst_difference_weeks"))
    if v is None:
        return None, "rmst_difference_weeks not available in survival_results.json (missing or masked)"
    est = lo = hi = None
    if isinstance(v, (int, float)):
        est = float(v)
        ci = js.get("rmst_difference_ci") or js.get("rmst_difference_weeks_ci")
        if isinstance(ci, (list, tuple)) and len(ci) == 2:
            lo, hi = float(ci[0]), float(ci[1])
        lo = js.get("rmst_difference_ci_low", lo)
        hi = js.get("rmst_difference_ci_high", hi)
    elif isinstance(v, dict):
        est = next((v[k] for k in ("estimate", "value", "difference", "diff") if k in v), None)
        ci = v.get("ci")
        if isinstance(ci, (list, tuple)) and len(ci) == 2:
            lo, hi = ci
        lo = next((v[k] for k in ("ci_low", "lower", "low", "lcl") if k in v), lo)
        hi = next((v[k] for k in ("ci_high", "upper", "high", "ucl") if k in v), hi)
    if est is None:
        return None, "rmst_difference_weeks has no estimate"
    horizon = js.get("rmst_horizon", js.get("rmst_horizon_weeks"))
    return {"estimate": float(est), "ci_low": None if lo is None else float(lo),
            "ci_high": None if hi is None else float(hi),
            "horizon_weeks": None if horizon is None else float(horizon)}, ""


# ---------------------------------------------------------------------------- analysis
def analyse(study: Study, *, cohort: pd.DataFrame | None = None, weeks: pd.DataFrame | None = None,
            costs_form: pd.DataFrame | None = None, rmst: dict | None = None,
            rmst_missing: str = "not requested") -> InvestmentAnalysis:
    """Run the realised investment calculation of ``study``.

    Parameters
    ----------
    study : Study
    cohort, weeks, costs_form : DataFrame, optional
        Inputs; loaded from the processed store when not given.
    rmst : dict, optional
        The survival analysis' RMST difference (:func:`parse_rmst`) for a cross-check.
    rmst_missing : str
        Why ``rmst`` is missing (stated in the note that the effect's uncertainty then
        comes from the bootstrap only).

    Returns
    -------
    InvestmentAnalysis
    """
    inv = study.investment
    cohort = load_cohort(study) if cohort is None else cohort
    ledger = None
    if inv.pricing == "code":
        ledger = by_code.build_code_ledger(study, cohort)
        prices = ledger.prices.table
    else:
        prices = load_prices(inv.prices_file, inv.price_year, inv.prices_override)
        if weeks is None:
            weeks = build_weeks(study, cohort, prices)
    form = load_costs_form(study) if costs_form is None else costs_form
    n_part = int((cohort["group"] == "intervention").sum())
    first_year = calendar.iso_from_dream_week(int(cohort["index_week"].min()))[0]
    costs = R.intervention_costs(total=inv.intervention_cost_total, form=form, source=inv.costs_source,
                                 n_participants=n_part, first_year=first_year, cost_year=inv.cost_year,
                                 form_name=f"costs form ({study.data.forms.costs})")
    result = analyse_frames(weeks, prices, inv, study.study.seed, cohort=cohort, costs=costs, rmst=rmst,
                            rmst_horizon_weeks=study.survival.rmst_horizon if hasattr(study.survival, "rmst_horizon")
                            else None, ledger=ledger)
    if rmst is None:
        result.notes.append(Note("bootstrap_only", {"why": rmst_missing}))
    return result


def analyse_frames(weeks: pd.DataFrame, prices: pd.DataFrame, inv: InvestmentConfig, seed: int, *,
                   cohort: pd.DataFrame | None = None, costs: pd.DataFrame | None = None,
                   rmst: dict | None = None, rmst_horizon_weeks: float | None = None,
                   ledger: by_code.CodeLedger | None = None) -> InvestmentAnalysis:
    """The realised calculation from a tidy weeks frame (see :func:`helpers.investment.realised.price_weeks`),
    or, with ``ledger`` (per-code pricing), from its person-years (``weeks`` is then ignored)."""
    if ledger is not None:
        person_years, notes = ledger.person_years, list(ledger.notes)
    else:
        weeks = R.attach_cohort(weeks, cohort)
        person_years, notes = R.price_weeks(weeks, prices, refusion=inv.refusion)
    H, E = inv.horizon_years, inv.extrapolate_years
    T = H + E
    steps = normalise_steps(inv.discount_rates)
    d = discount_factors(np.arange(1, T + 1), steps)
    panel = R.make_panel(person_years, H)
    n_int, n_ctl = int(panel.intervention.sum()), int((~panel.intervention).sum())
    if n_int == 0 or n_ctl == 0:
        raise R.InvestmentInputError(f"weeks frame: {n_int} intervention and {n_ctl} control persons; need both groups")
    mean_i, mean_c = (m[0] for m in R.group_means(panel))
    empty = [(t + 1, g) for t in range(H) for g, m in (("intervention", mean_i), ("control", mean_c))
             if np.isnan(m[t]).any()]
    if empty:
        raise R.InvestmentInputError(
            f"no observed person-years in year {empty[0][0]} for the {empty[0][1]} group; "
            f"lower investment.horizon_years (now {H}) to the years the data cover"
        )
    if costs is None:
        costs = R.intervention_costs(total=inv.intervention_cost_total, source=inv.costs_source,
                                     n_participants=n_int, cost_year=inv.cost_year)
    costs_actor = R.actor_costs(R.costs_by_year(costs, T), inv.cost_bearer)

    rng = np.random.default_rng(seed + BOOTSTRAP_OFFSET)
    mult = R.bootstrap_multipliers(panel, inv.bootstrap_draws, rng)
    boot_i, boot_c = R.group_means(panel, mult)
    saving_pp = mean_c - mean_i                        # (H, 3)
    boot_pp = boot_c - boot_i                          # (B, H, 3)
    level = inv.sensitivity.effect_level
    qlo, qhi = (1 - level) / 2, (1 + level) / 2

    savings_obs = n_int * saving_pp                    # (H, 3)
    savings = R.extend(savings_obs.T, E, inv.retention).T
    flows = R.cash_flows(savings, costs_actor, steps, H)
    summary = R.summarise_flows(flows)

    # bootstrap per actor: cash flows of every replicate
    boot_tot = n_int * boot_pp                         # (B, H, 3)
    extra = {k: [] for k in ("npv_low", "npv_high", "return_low", "return_high", "p_npv_positive_bootstrap",
                             "payback_low", "payback_high")}
    cum_bands = {}
    for a, actor in enumerate(R.ACTORS):
        ext = R.extend(boot_tot[:, :, a], E, inv.retention)          # (B, T)
        net = ext - costs_actor[None, :, a]
        net_pv = net * d
        npv_b = net_pv.sum(axis=1)
        cpv = costs_actor[:, a] @ d
        extra["npv_low"].append(np.nanquantile(npv_b, qlo))
        extra["npv_high"].append(np.nanquantile(npv_b, qhi))
        ratio = (ext @ d) / cpv if cpv > 0 else np.full(len(npv_b), np.nan)
        extra["return_low"].append(np.nanquantile(ratio, qlo) if cpv > 0 else np.nan)
        extra["return_high"].append(np.nanquantile(ratio, qhi) if cpv > 0 else np.nan)
        extra["p_npv_positive_bootstrap"].append(float(np.mean(npv_b > 0)))
        pb = R.payback_year(np.cumsum(net, axis=1)) if cpv > 0 else np.full(len(npv_b), np.nan)
        pb_inf = np.where(np.isnan(pb), np.inf, pb)
        lo_hi = np.quantile(pb_inf, [qlo, qhi], method="inverted_cdf") if cpv > 0 else [np.nan, np.nan]
        extra["payback_low"].append(lo_hi[0])
        extra["payback_high"].append(lo_hi[1])
        cum = np.cumsum(net_pv, axis=1)
        cum_bands[actor] = (np.nanquantile(cum, qlo, axis=0), np.nanquantile(cum, qhi, axis=0))
    for k, v in extra.items():
        summary[k] = v
    flows["cumulative_net_pv_low"] = np.concatenate([cum_bands[a][0] for a in R.ACTORS])
    flows["cumulative_net_pv_high"] = np.concatenate([cum_bands[a][1] for a in R.ACTORS])

    # yearly table
    n_obs_i = ((panel.observed > 0) & panel.intervention[:, None]).sum(axis=0)
    n_obs_c = ((panel.observed > 0) & ~panel.intervention[:, None]).sum(axis=0)
    rows = []
    for a, actor in enumerate(R.ACTORS):
        for t in range(T):
            obs = t < H
            row = {"year": t + 1, "actor": actor, "observed": obs,
                   "cost_intervention": mean_i[t, a] if obs else np.nan,
                   "cost_control": mean_c[t, a] if obs else np.nan,
                   "saving_per_participant": savings[t, a] / n_int,
                   "saving_low": np.nanquantile(boot_pp[:, t, a], qlo) if obs else np.nan,
                   "saving_high": np.nanquantile(boot_pp[:, t, a], qhi) if obs else np.nan,
                   "saving_total": savings[t, a],
                   "n_intervention": int(n_obs_i[t]) if obs else np.nan,
                   "n_control": int(n_obs_c[t]) if obs else np.nan}
            row["total_low"] = row["saving_low"] * n_int
            row["total_high"] = row["saving_high"] * n_int
            rows.append(row)
    yearly = pd.DataFrame(rows)

    # break-even effect
    be_rows = []
    for a, actor in enumerate(R.ACTORS):
        cpv = costs_actor[:, a] @ d
        if cpv <= 0:
            continue
        ctrl = R.extend(mean_c[:, a], E, inv.retention)
        ctrl_b = R.extend(boot_c[:, :, a], E, inv.retention)
        pv_person = float(ctrl @ d)
        needed = float(R.break_even_persons(cpv, ctrl, d))
        needed_b = R.break_even_persons(cpv, ctrl_b, d)
        spv = float(savings[:, a] @ d)
        equiv_b = (R.extend(boot_tot[:, :, a], E, inv.retention) @ d) / (ctrl_b @ d)
        be_rows.append({
            "actor": actor, "costs_pv": cpv, "pv_per_person": pv_person,
            "persons_needed": needed, "persons_needed_low": np.nanquantile(needed_b, qlo),
            "persons_needed_high": np.nanquantile(needed_b, qhi),
            "share_of_participants": needed / n_int,
            "observed_equivalent": spv / pv_person,
            "observed_equivalent_low": np.nanquantile(equiv_b, qlo),
            "observed_equivalent_high": np.nanquantile(equiv_b, qhi),
        })
    break_even = pd.DataFrame(be_rows)

    # public balance by component (per-code ledger)
    balance, fixed_pp, fixed_boot = None, np.zeros_like(saving_pp), np.zeros_like(boot_pp)
    if BAL.has_components(person_years):
        comp = BAL.component_array(person_years, panel, H)
        comp_pp = BAL.component_savings(comp, panel)[0]                   # (H, 3, 3)
        balance = BAL.actor_balance(comp_pp, n_int, costs_actor, E, inv.retention, steps, H)
        fixed_pp, fixed_boot = comp_pp[:, :, 2], BAL.component_savings(comp, panel, mult)[:, :, :, 2]

    # sensitivity: the tax gained on earnings does not move with benefit prices
    sens = inv.sensitivity

    def npv_model(a: int) -> NPVModel:
        return NPVModel(savings=savings_obs[:, a] - n_int * fixed_pp[:, a],
                        replicates=boot_tot[:, :, a] - n_int * fixed_boot[:, :, a], costs=costs_actor[:, a],
                        extrapolate_years=E, retention=inv.retention, steps=steps, fixed=n_int * fixed_pp[:, a],
                        fixed_replicates=n_int * fixed_boot[:, :, a])

    model = npv_model(R.ACTORS.index(sens.actor))
    tornado = one_way(model, prices=sens.prices, costs=sens.costs, discount_rate=sens.discount_rate,
                      retention=sens.retention, level=level)
    if ledger is not None:
        tornado = add_row(tornado, wage_row(ledger, model, sens.actor, sens.wage, H))
    mc_args = dict(prices=sens.prices, costs=sens.costs, retention=sens.retention)
    mc = monte_carlo(model, inv.monte_carlo_draws, seed + MONTE_CARLO_OFFSET, **mc_args)
    p_by_actor = {actor: monte_carlo(npv_model(k), inv.monte_carlo_draws, seed + MONTE_CARLO_OFFSET,
                                     **mc_args).p_positive for k, actor in enumerate(R.ACTORS)}

    scen = None
    if inv.scenarios:
        boot_ext = np.stack([R.extend(boot_pp[:, :, k], E, inv.retention) for k in range(len(R.ACTORS))], axis=-1)
        scen = run_scenarios(inv.scenarios, savings / n_int, boot_ext,
                             default_cost_per_person=float(costs["total_dkk"].sum()) / n_int, bearer=inv.cost_bearer,
                             steps=steps, level=level)

    rmst_check = None
    if rmst is not None:
        h_weeks = rmst.get("horizon_weeks") or rmst_horizon_weeks
        yrs = min(H, max(1, math.ceil(h_weeks / 52))) if h_weeks else H
        weekly_ctrl = float(np.mean(mean_c[:yrs, R.ACTORS.index("public")])) / 52
        def conv(x):
            return None if x is None else x * weekly_ctrl * n_int
        rmst_check = {"rmst_difference_weeks": rmst["estimate"], "ci_low_weeks": rmst.get("ci_low"),
                      "ci_high_weeks": rmst.get("ci_high"), "years": yrs,
                      "weekly_control_cost": weekly_ctrl,
                      "savings_from_rmst": conv(rmst["estimate"]), "savings_from_rmst_low": conv(rmst.get("ci_low")),
                      "savings_from_rmst_high": conv(rmst.get("ci_high")),
                      "savings_observed": float(savings_obs[:yrs, R.ACTORS.index("public")].sum())}

    settings = {
        "horizon_years": H, "extrapolate_years": E, "retention": inv.retention,
        "discount_steps": [[None if not math.isfinite(s[0]) else s[0], s[1]] for s in steps],
        "refusion": inv.refusion, "refusion_history_weeks": inv.refusion_history_weeks,
        "price_year": inv.price_year, "cost_bearer": inv.cost_bearer,
        "bootstrap_draws": inv.bootstrap_draws, "bootstrap_seed": seed + BOOTSTRAP_OFFSET,
        "monte_carlo_draws": inv.monte_carlo_draws, "monte_carlo_seed": seed + MONTE_CARLO_OFFSET,
        "level": level, "sensitivity_actor": sens.actor, "pricing": "code" if ledger is not None else "category",
    }
    return InvestmentAnalysis(settings=settings, prices=prices, costs=costs, n_intervention=n_int, n_control=n_ctl,
                              yearly=yearly, flows=flows, summary=summary, break_even=break_even, tornado=tornado,
                              monte_carlo=mc, rmst=rmst_check, notes=notes,
                              replicates={"saving_per_participant": boot_pp, "control_cost": boot_c},
                              balance=balance, ledger=ledger, scenarios=scen, p_positive_by_actor=p_by_actor)
