"""Tests of helpers.investment: seed 002 reproduction, discounting, refusion, pricing, break-even,
sensitivity, Monte Carlo determinism, and property tests (zero effect, price scaling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import investment as I
from helpers.config import load_study
from helpers.config.schema.investment import InvestmentConfig, ProjectionConfig
from helpers.core.store import WeeklyStatus
from helpers.disclosure import investment as D
from helpers.investment import realised as R
from helpers.investment.prices import PriceTableError
from helpers.report import investment_tables as T
from helpers.report.investment_assumptions import assumptions_table
from helpers.report.investment_text import projection_notes
from helpers.stages import investment as stage

# Seed 002 (Ishøj Kommune, Center for Voksne og Velfærd, "Bring ressourcerne i spil", 17 Nov 2020),
# table "Besparelse i hele 1.000 kr.": (hold, outcome) -> 6 yearly cells; None = blank cell.
# Columns: Projektår 1, Projektår 2, Efter endt projekt år 1, 2, 3, 4.
SEED_002_TABLE = {
    (1, "job"): [329, 438, 405, 394, 361, 263], (1, "flex"): [34, 45, 45, 45, 45, 45],
    (2, "job"): [146, 292, 270, 263, 241, 234], (2, "flex"): [23, 45, 45, 45, 45, 45],
    (3, "job"): [110, 438, 405, 394, 361, 263], (3, "flex"): [11, 45, 45, 45, 45, 45],
    (4, "job"): [0, 292, 270, 263, 241, 234], (4, "flex"): [0, 45, 45, 45, 45, 45],
    (5, "job"): [None, 329, 438, 405, 394, 361], (5, "flex"): [None, 34, 45, 45, 45, 45],
    (6, "job"): [None, 146, 292, 270, 263, 241], (6, "flex"): [None, 23, 45, 45, 45, 45],
    (7, "job"): [None, 110, 438, 405, 394, 361], (7, "flex"): [None, 11, 45, 45, 45, 45],
    (8, "job"): [None, 0, 292, 270, 263, 241], (8, "flex"): [None, 0, 45, 45, 45, 45],
}
SEED_002_TOTALS = [652, 2292, 3171, 3025, 2879, 2557]


@pytest.fixture(scope="module")
def fundamentet_projection() -> ProjectionConfig:
    return load_study("fundamentet").investment.projection


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return I.load_prices(price_year=2024)


# ------------------------------------------------------------------ seed 002 projection
def test_seed_002_table_reproduced_cell_for_cell(fundamentet_projection):
    result = I.project(fundamentet_projection)
    cells = result.cells.set_index(["hold", "outcome", "year"])["value_table"]
    n_numbers = 0
    for (hold, outcome), values in SEED_002_TABLE.items():
        for year, printed in enumerate(values, start=1):
            expected = 0 if printed is None else printed
            assert cells[(hold, outcome, year)] == expected, (hold, outcome, year)
            n_numbers += printed is not None
    assert n_numbers == 88  # 16 rows x 6 years, less 8 blank year-1 cells of groups 5-8
    assert result.totals["value_table"].tolist() == SEED_002_TOTALS
    # the seed's summary: 2.9 mio. in the project period, 11.6 mio. in the 4 years after
    assert sum(SEED_002_TOTALS[:2]) == 2944 and sum(SEED_002_TOTALS[2:]) == 11632


def test_study_yaml_holds_the_printed_table(fundamentet_projection):
    printed = {(r.hold, r.outcome): r.values for r in fundamentet_projection.printed.rows}
    assert printed == SEED_002_TABLE
    assert fundamentet_projection.printed.totals == SEED_002_TOTALS


def test_reconciliation_reports_departures(fundamentet_projection):
    rec = I.reconcile(fundamentet_projection)
    assert rec.reproduced and rec.mismatches.empty
    over = rec.cells[rec.cells["issue"] == "override"].sort_values("hold")
    assert over[["hold", "outcome", "year", "printed", "model"]].values.tolist() == [
        [1, "job", 6, 263, 350], [3, "job", 6, 263, 350]]
    tot = rec.totals.set_index("year")
    # investment.md §5.5 (reference reading of the seed table):
    assert tot.loc[6, "printed"] == 2557 and tot.loc[6, "stated"] == 2733          # fix 1: 2.557 -> 2.733
    assert tot["own_hold"].tolist() == [652, 2292, 3222, 3076, 2930, 2784]          # model C
    assert tot["deadweight"].tolist() == [433, 1489, 2046, 1959, 1871, 1784]        # model D
    timing = rec.cells[rec.cells["issue"] == "fallback_timing"].set_index(["hold", "outcome", "year"])
    assert timing.loc[(2, "job", 3), "model"] == 277 and timing.loc[(2, "job", 3), "printed"] == 270
    assert timing.loc[(3, "job", 3), "model"] == 427
    assert timing.loc[(4, "job", 3), "model"] == 292
    text = " ".join(projection_notes(rec, fundamentet_projection, "en"))
    assert "263" in text and "350" in text and "2.733" in text and "deadweight" in text


def test_projection_detects_a_changed_printed_cell(fundamentet_projection):
    rows = [r.model_copy() for r in fundamentet_projection.printed.rows]
    rows[2] = rows[2].model_copy(update={"values": [146, 292, 271, 263, 241, 234]})
    cfg = fundamentet_projection.model_copy(
        update={"printed": fundamentet_projection.printed.model_copy(update={"rows": rows})})
    rec = I.reconcile(cfg)
    assert not rec.reproduced
    assert rec.mismatches[["hold", "outcome", "year"]].values.tolist() == [[2, "job", 3]]


def _one_outcome(**kw) -> ProjectionConfig:
    outcome = {"label": {"en": "job", "da": "job"}, "persons_per_hold": [1], "saving_per_person_year_dkk": 100.0,
               "retention": [[0.5, 1.0]]}
    outcome.update(kw.pop("outcome", {}))
    base = {"intake_years": 1, "start_quarters": [1], "outcome_delay_quarters": 1, "horizon_years": 3,
            "outcomes": {"job": outcome}, "table_unit_dkk": 1.0}
    base.update(kw)
    return ProjectionConfig.model_validate(base)


def test_projection_hand_case_retention():
    # 1 person from t = 0.25; half fall back at t = 1.25:
    # year 1: 0.75; year 2: 0.25 * 1 + 0.75 * 0.5 = 0.625; year 3: 0.5
    res = I.project(_one_outcome())
    assert res.cells["value_dkk"].tolist() == pytest.approx([75.0, 62.5, 50.0])


def test_projection_fallback_timing_and_deadweight():
    cfg = _one_outcome(start_quarters=[1, 3], outcome={"persons_per_hold": [3], "deadweight_per_hold": 1},
                       apply_deadweight=False)
    own = I.project(cfg, fallback_timing="own_hold").cells.set_index(["hold", "year"])["value_dkk"]
    first = I.project(cfg, fallback_timing="first_hold").cells.set_index(["hold", "year"])["value_dkk"]
    # hold 2 starts at t = 0.75; own clock: fall-back at 1.75 -> year 2 = 3 * (0.75 + 0.25 * 0.5) * 100
    assert own[(2, 2)] == pytest.approx(262.5)
    # first-hold clock: fall-back at 1.25 -> year 2 = 3 * (0.25 + 0.75 * 0.5) * 100
    assert first[(2, 2)] == pytest.approx(187.5)
    assert own[(1, 2)] == first[(1, 2)]
    net = I.project(cfg, fallback_timing="own_hold", apply_deadweight=True).cells.set_index(["hold", "year"])
    assert net.loc[(1, 1), "persons"] == 2 and net.loc[(1, 1), "value_dkk"] == pytest.approx(150.0)


def test_projection_present_values_match_reference_reading(fundamentet_projection):
    # investment.md §5.5 (4): PV at 3.5 %, end of year, of the six columns, in 1,000 DKK:
    # A (as printed) 12,768; B (stated, fix 1) 12,910; C (own-group timing) 13,086; D (deadweight) 8,386
    readings = {"A": {}, "B": {"use_overrides": False},
                "C": {"use_overrides": False, "fallback_timing": "own_hold"},
                "D": {"use_overrides": False, "apply_deadweight": True}}
    expected = {"A": 12_768, "B": 12_910, "C": 13_086, "D": 8_386}
    for name, kw in readings.items():
        flows = I.projection_cash_flows(I.project(fundamentet_projection, **kw), 0.0, steps=I.flat_steps(0.035))
        assert round(float((flows["savings"] * flows["discount_factor"]).sum()) / 1000) == expected[name], name


def test_round_half_up_matches_spreadsheet():
    assert I.round_half_up([328.5, 22.5, 109.5, 651.5, 2.4999, -0.5]).tolist() == [329, 23, 110, 652, 2, -1]
    assert I.round_half_up(3170.4999999999995) == 3171  # a sum of exact halves in floating point


def test_projection_cash_flows_payback(fundamentet_projection):
    res = I.project(fundamentet_projection)
    flows = I.projection_cash_flows(res, 2_200_000, [0.5, 0.5], steps=I.flat_steps(0.0))
    assert flows["costs"].tolist()[:2] == [1_100_000, 1_100_000]
    # 651.5 - 1100 < 0; + 2291.5 - 1100 > 0 -> pays back in year 2
    assert I.payback_year(flows["cumulative_net"].to_numpy()) == 2
    assert flows["cumulative_net"].iloc[-1] == pytest.approx(14_573_800 - 2_200_000)


# ------------------------------------------------------------------------- discounting
def test_discount_factors_hand_cases():
    d = I.discount_factors([0, 1, 35, 36, 70, 71])
    # hand values: 1/1.035; 1.035^-35; 1.035^-35 * 1.025^-1; ... * 1.025^-35; ... * 1.015^-1
    assert d == pytest.approx([1.0, 0.966183574879227, 0.299976861658141, 0.292660352837211,
                               0.126401570087319, 0.124533566588492], rel=1e-12)
    assert d[3] != pytest.approx(1.025 ** -36)  # the step rate is not applied from year 0
    assert I.present_value([100, 100], [1, 2]) == pytest.approx(189.969427524563)


def test_study_yaml_default_steps_equal_finance_ministry_schedule():
    steps = InvestmentConfig().discount_rates
    years = np.arange(0, 120)
    assert I.discount_factors(years, steps) == pytest.approx(I.discount_factors(years, I.MOF_2021), rel=1e-14)
    assert I.discount_factors([10], I.flat_steps(0.0))[0] == 1.0


def test_discount_rejects_bad_input():
    with pytest.raises(ValueError):
        I.discount_factors([1.5])
    with pytest.raises(ValueError):
        I.discount_factors([3], [[10, 0.03], [5, 0.02]])


# ---------------------------------------------------------------------------- refusion
def test_refusion_steps_for_60_weeks():
    share = I.state_share_by_week(np.ones((1, 60), bool), np.zeros((1, 60), bool))[0]
    expected = [0.8] * 4 + [0.4] * 22 + [0.3] * 26 + [0.2] * 8
    assert share.tolist() == pytest.approx(expected)
    assert share.sum() == pytest.approx(21.4)


def _history(*spells):
    cov, ss = [], []
    for kind, n in spells:
        cov += [kind == "benefit"] * n
        ss += [kind == "self"] * n
    return np.array([cov]), np.array([ss])


def test_refusion_count_restarts_after_52_self_supported_weeks():
    cov, ss = _history(("benefit", 30), ("self", 52), ("benefit", 10))
    share = I.state_share_by_week(cov, ss)[0]
    assert share[82:86].tolist() == pytest.approx([0.8] * 4)       # count restarted: weeks 1-4
    assert share[86:92].tolist() == pytest.approx([0.4] * 6)


def test_refusion_count_continues_after_51_self_supported_weeks():
    cov, ss = _history(("benefit", 30), ("self", 51), ("benefit", 10))
    share = I.state_share_by_week(cov, ss)[0]
    assert share[81:91].tolist() == pytest.approx([0.3] * 10)      # cumulative weeks 31-40


def test_refusion_reset_needs_52_weeks_within_3_years():
    # 30 self-supported weeks, 140 weeks on a non-covered benefit, 30 self-supported: 60 in total,
    # but never 52 within 156 weeks -> no reset
    n = 10 + 30 + 140 + 30 + 5
    cov = np.zeros((1, n), bool)
    ss = np.zeros((1, n), bool)
    cov[0, :10] = True
    ss[0, 10:40] = True
    ss[0, 180:210] = True
    cov[0, 210:] = True
    share = I.state_share_by_week(cov, ss)[0]
    assert share[210:215].tolist() == pytest.approx([0.4] * 5)   # count continues: cumulative weeks 11-15
    # with the two spells within 3 years (no gap), the count restarts
    cov2, ss2 = _history(("benefit", 10), ("self", 30), ("benefit", 1), ("self", 22), ("benefit", 2))
    assert I.state_share_by_week(cov2, ss2)[0][-2:].tolist() == pytest.approx([0.8, 0.8])


def test_refusion_initial_count():
    share = I.state_share_by_week(np.ones((2, 2), bool), np.zeros((2, 2), bool), initial_count=np.array([0, 60]))
    assert share.ravel().tolist() == pytest.approx([0.8, 0.8, 0.2, 0.2])


def test_refusion_weeks_from_the_weekly_store(prices):
    # one person: 52 weeks of history on cash benefit (730), then year 1: 10 weeks cash benefit,
    # 42 empty; year 2: 52 weeks of sickness benefit (890)
    codes = np.concatenate([np.full(52, 730), np.full(10, 730), np.zeros(42), np.full(52, 890)]).astype(np.int16)
    weekly = WeeklyStatus(np.array(["p1"], dtype=object), 1000, codes[None, :])
    book = I.analysis.CodeBook.default()
    out = I.refusion_weeks(weekly, np.array([0]), np.array([1052]), 2, book, I.refusion_categories(prices),
                           history_weeks=52)
    got = out.set_index(["year", "category"])
    # year 1: cumulative weeks 53-62 at 20 %
    assert got.loc[(1, "cash_benefit"), "weeks"] == 10
    assert got.loc[(1, "cash_benefit"), "state_weeks"] == pytest.approx(2.0)
    # 42 self-supported weeks do not reset; sickness continues the count at 63+: 20 %
    assert got.loc[(2, "sickness"), "state_weeks"] == pytest.approx(52 * 0.2)
    assert got.loc[(1, "self_support"), "state_weeks"] == 0


# ------------------------------------------------------------------------------ prices
def test_shipped_prices(prices):
    assert prices.loc["cash_benefit", "annual_dkk"] == 147_912 == 12 * 12_326   # bm.dk 2024
    assert prices.loc["cash_benefit", "year"] == 2024
    assert prices.loc["self_support", "annual_dkk"] == 0
    assert bool(prices.loc["cash_benefit", "refusion"]) and not bool(prices.loc["education", "refusion"])
    assert prices["source"].astype(bool).all()
    older = I.load_prices(price_year=2023)
    assert older.loc["cash_benefit", "annual_dkk"] == 143_328                     # 12 x 11,944 (bm.dk 2023)
    assert older.loc["sickness", "year"] == 2022
    over = I.load_prices(price_year=2024, overrides={"education": 80_000})
    assert over.loc["education", "annual_dkk"] == 80_000 and "override" in over.loc["education", "source"]


def test_price_file_errors_name_row_and_column(tmp_path):
    bad = tmp_path / "prices.csv"
    text = I.prices.resources.files("helpers.data").joinpath("benefit_prices.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[3] = lines[3].replace(",143328,", ",lots,")
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(PriceTableError, match=r"row 4, column 'annual_dkk'"):
        I.read_price_file(bad)
    with pytest.raises(PriceTableError, match="unknown categories"):
        I.load_prices(overrides={"kontanthjaelp": 1.0})


# ---------------------------------------------------------------------------- pricing
def test_price_weeks_splits_by_refusion(prices):
    weeks = pd.DataFrame({
        "person_id": ["a", "a", "a"], "group": "intervention", "year": 1,
        "category": ["cash_benefit", "ui_benefit", "self_support"],
        "weeks": [26, 10, 16], "state_weeks": [5.2, 2.0, 0.0]})
    py, _ = I.price_weeks(weeks, prices)
    row = py.iloc[0]
    cash, ui = 147_912 / 52, 244_308 / 52
    assert row["cost_public"] == pytest.approx(26 * cash + 10 * ui)
    assert row["cost_state"] == pytest.approx(5.2 * cash + 2.0 * ui)
    assert row["cost_municipality"] == pytest.approx(20.8 * cash + 8.0 * ui)
    assert row["observed_years"] == pytest.approx(1.0)
    off, _ = I.price_weeks(weeks, prices, refusion=False)   # payer bears all
    assert off.iloc[0]["cost_state"] == pytest.approx(10 * ui)
    assert off.iloc[0]["cost_municipality"] == pytest.approx(26 * cash)


def test_price_weeks_rejects_unknown_category(prices):
    weeks = pd.DataFrame({"person_id": ["a"], "group": ["intervention"], "year": [1],
                          "category": ["kontanthjaelp"], "weeks": [3]})
    with pytest.raises(I.InvestmentInputError, match="no price"):
        I.price_weeks(weeks, prices)


# ------------------------------------------------------------------ synthetic tidy frames
def make_weeks(n_sets: int = 40, years: int = 3, p_int: float = 0.6, p_ctl: float = 0.8, seed: int = 0,
               same: bool = False) -> pd.DataFrame:
    """Hand-made tidy frame: one intervention + one control per matched set."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sets):
        draws = {}
        for g, p in (("intervention", p_int), ("control", p_ctl)):
            for y in range(1, years + 1):
                if same and g == "control":
                    cb, sick = draws[y]
                else:
                    cb = int(rng.binomial(52, p))
                    sick = int(rng.integers(0, 52 - cb + 1))
                    draws[y] = (cb, sick)
                for cat, w in (("cash_benefit", cb), ("sickness", sick), ("self_support", 52 - cb - sick)):
                    rows.append({"person_id": f"{g[0]}{s}", "group": g, "matched_set": s, "weight": 1.0,
                                 "year": y, "category": cat, "weeks": w,
                                 "state_weeks": 0.2 * w * (cat != "self_support")})
    return pd.DataFrame(rows)


def _inv(**kw) -> InvestmentConfig:
    base = {"horizon_years": 3, "intervention_cost_total": 1_000_000, "bootstrap_draws": 200, "monte_carlo_draws": 500}
    base.update(kw)
    return InvestmentConfig.model_validate(base)


def test_zero_effect_gives_zero_savings(prices):
    a = I.analyse_frames(make_weeks(same=True), prices, _inv(extrapolate_years=2, retention=0.9), seed=1)
    assert np.abs(a.yearly["saving_total"]).max() == pytest.approx(0.0, abs=1e-6)
    s = a.summary.set_index("actor")
    assert s.loc["public", "savings_pv"] == pytest.approx(0.0, abs=1e-6)
    assert s.loc["public", "npv"] == pytest.approx(-1_000_000 / 1.035)
    assert s.loc["state", "npv"] == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(s.loc["public", "payback_year"])
    assert a.monte_carlo.p_positive == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_doubling_prices_doubles_savings(prices, seed):
    weeks = make_weeks(seed=seed)
    inv = _inv(extrapolate_years=1, retention=0.8)
    base = I.analyse_frames(weeks, prices, inv, seed=5)
    doubled = I.select_prices(I.read_price_file(), 2024, {c: 2 * prices.loc[c, "annual_dkk"] for c in prices.index})
    two = I.analyse_frames(weeks, doubled, inv, seed=5)
    assert two.yearly["saving_total"].to_numpy() == pytest.approx(2 * base.yearly["saving_total"].to_numpy())
    assert two.summary["savings_pv"].to_numpy() == pytest.approx(2 * base.summary["savings_pv"].to_numpy())
    assert two.summary["costs_pv"].to_numpy() == pytest.approx(base.summary["costs_pv"].to_numpy())


def test_savings_hand_case(prices):
    # 2 sets; controls on cash benefit all year, participants half the year (26 weeks), refusion 20 %
    rows = []
    for s in range(2):
        for g, cb in (("intervention", 26), ("control", 52)):
            rows += [{"person_id": f"{g}{s}", "group": g, "matched_set": s, "year": 1, "category": "cash_benefit",
                      "weeks": cb, "state_weeks": 0.2 * cb},
                     {"person_id": f"{g}{s}", "group": g, "matched_set": s, "year": 1, "category": "self_support",
                      "weeks": 52 - cb}]
    a = I.analyse_frames(pd.DataFrame(rows), prices, _inv(horizon_years=1, intervention_cost_total=200_000),
                         seed=1, rmst={"estimate": 4.0, "ci_low": 1.0, "ci_high": 7.0, "horizon_weeks": 52})
    y = a.yearly.set_index("actor")
    assert y.loc["public", "saving_per_participant"] == pytest.approx(147_912 / 2)
    assert y.loc["public", "saving_total"] == pytest.approx(147_912)
    assert y.loc["municipality", "saving_total"] == pytest.approx(0.8 * 147_912)
    s = a.summary.set_index("actor")
    assert s.loc["public", "npv"] == pytest.approx((147_912 - 200_000) / 1.035)
    assert s.loc["municipality", "return_per_krone"] == pytest.approx(0.8 * 147_912 / 200_000)
    # break-even: PV per person in lasting self-support = control cost 147,912 (public) / 1.035
    be = a.break_even.set_index("actor")
    assert be.loc["public", "persons_needed"] == pytest.approx(200_000 / 147_912)
    assert be.loc["municipality", "persons_needed"] == pytest.approx(200_000 / (0.8 * 147_912))
    assert be.loc["public", "observed_equivalent"] == pytest.approx(1.0)
    # RMST cross-check: 4 extra weeks x the controls' weekly cost (147,912 / 52) x 2 participants
    assert a.rmst["savings_from_rmst"] == pytest.approx(4 * 147_912 / 52 * 2)
    assert a.rmst["savings_observed"] == pytest.approx(147_912)


def test_break_even_persons_hand_case():
    # control cost 100,000 a year for 2 years at 3.5 %: PV per person 189,969.43; costs 500,000
    d = I.discount_factors([1, 2])
    assert I.break_even_persons(500_000, np.array([100_000, 100_000]), d) == pytest.approx(500_000 / 189_969.4275)
    assert I.break_even_persons(500_000, np.array([100_000, 100_000]), np.ones(2)) == pytest.approx(2.5)


def test_cash_flows_payback_and_return():
    savings = np.tile(np.array([[100.0], [100.0], [100.0]]), (1, 3))
    costs = R.actor_costs(np.array([250.0, 0, 0]), "municipality")
    flows = I.cash_flows(savings, costs, I.flat_steps(0.0), observed_years=2)
    s = I.summarise_flows(flows).set_index("actor")
    assert s.loc["municipality", "payback_year"] == 3
    assert s.loc["municipality", "return_per_krone"] == pytest.approx(300 / 250)
    assert np.isnan(s.loc["state", "payback_year"])
    assert flows[flows["actor"] == "public"]["observed"].tolist() == [True, True, False]
    assert I.payback_year(np.array([[-1.0, 1.0, -0.5], [-1.0, 0.0, 2.0]])).tolist()[1] == 2


def test_extrapolation_with_retention():
    assert R.extend(np.array([10.0, 20.0]), 2, 0.5).tolist() == [10, 20, 10, 5]
    assert R.extend(np.array([[1.0], [2.0]]), 1, np.array([0.5, 1.0])).tolist() == [[1.0, 0.5], [2.0, 2.0]]


def test_bootstrap_resamples_whole_matched_sets(prices):
    py, _ = I.price_weeks(make_weeks(n_sets=10), prices)
    panel = R.make_panel(py, 3)
    m = R.bootstrap_multipliers(panel, 50, np.random.default_rng(0))
    for s in np.unique(panel.cluster):
        members = m[:, panel.cluster == s]
        assert (members == members[:, :1]).all()
    assert (m.sum(axis=1) == len(panel.weight)).all()


# ------------------------------------------------------------------------- sensitivity
def _model() -> I.NPVModel:
    rng = np.random.default_rng(0)
    return I.NPVModel(savings=np.array([100.0, 100.0]), replicates=100 + rng.normal(0, 10, (300, 2)),
                      costs=np.array([150.0, 0.0, 0.0]), extrapolate_years=1, retention=0.5)


def test_one_way_hand_values():
    m = _model()
    tor = I.one_way(m, prices=(0.8, 1.2), costs=(0.75, 1.25), discount_rate=(0.0, 0.07),
                    retention=(0.0, 1.0)).set_index("parameter")
    assert tor.loc["discount_rate", "npv_low"] == pytest.approx(100 + 100 + 50 - 150)
    d = I.discount_factors([1, 2, 3])
    pv_s = 100 * d[0] + 100 * d[1] + 50 * d[2]
    assert tor.loc["prices", "npv_high"] == pytest.approx(1.2 * pv_s - 150 * d[0])
    assert tor.loc["costs", "npv_low"] == pytest.approx(pv_s - 0.75 * 150 * d[0])
    assert tor.loc["retention", "npv_low"] == pytest.approx(100 * d[0] + 100 * d[1] - 150 * d[0])
    assert tor.loc["effect", "npv_low"] < tor.loc["effect", "npv_base"] < tor.loc["effect", "npv_high"]
    assert list(tor["swing"]) == sorted(tor["swing"], reverse=True)


def test_monte_carlo_is_deterministic_by_seed():
    m = _model()
    a, b, c = I.monte_carlo(m, 400, 7), I.monte_carlo(m, 400, 7), I.monte_carlo(m, 400, 8)
    assert np.array_equal(a.npv, b.npv) and a.p_positive == b.p_positive
    assert not np.array_equal(a.npv, c.npv)
    assert 0 <= a.p_positive <= 1 and a.inputs["price"].between(0.8, 1.2).all()


def test_analysis_is_deterministic_and_uses_the_study_seed(prices):
    weeks = make_weeks()
    a1 = I.analyse_frames(weeks, prices, _inv(), seed=11)
    a2 = I.analyse_frames(weeks, prices, _inv(), seed=11)
    assert np.array_equal(a1.monte_carlo.npv, a2.monte_carlo.npv)
    assert a1.summary.equals(a2.summary)
    assert a1.settings["bootstrap_seed"] == 13 and a1.settings["monte_carlo_seed"] == 14


# ------------------------------------------------------------------------------ costs
def test_intervention_costs_from_form():
    form = pd.DataFrame({"item": ["coach", "materials", "lunch"], "amount_dkk": [500_000, 100_000, 1_000],
                         "year": [2017, 2018, 2017], "per_person": [0, 0, 1], "note": ["", "", ""]})
    c = I.intervention_costs(form=form, n_participants=50, first_year=2016)
    assert c["total_dkk"].tolist() == [500_000, 100_000, 50_000]
    assert c["analysis_year"].tolist() == [2, 3, 2]
    bad = form.assign(amount_dkk=["500000", "many", "1000"])
    with pytest.raises(I.InvestmentInputError, match=r"row 3, column 'amount_dkk'"):
        I.intervention_costs(form=bad, n_participants=50)
    with pytest.raises(I.InvestmentInputError, match="intervention_cost_total"):
        I.intervention_costs(form=None)


# ---------------------------------------------------------------------- study wiring
def test_study_yaml_investment_sections():
    demo, fund = load_study("demo").investment, load_study("fundamentet").investment
    assert demo.intervention_cost_total == 5_914_277 and demo.projection is None
    assert fund.projection is not None and fund.projection.fallback_timing == "first_hold"
    with pytest.raises(ValueError, match="low <= high"):
        InvestmentConfig.model_validate({"sensitivity": {"prices": [1.2, 0.8]}})


def test_analyse_from_a_weekly_store(monkeypatch, prices):
    """analyse() on a tiny fake store: weeks from helpers.outcomes.status, refusion from the history."""
    study = load_study("demo").model_copy(deep=True)
    study.investment = _inv(horizon_years=2, bootstrap_draws=100, monte_carlo_draws=200,
                            intervention_cost_total=100_000)
    n = 12
    rng = np.random.default_rng(3)
    codes = np.zeros((2 * n, 52 * 4), dtype=np.int16)
    codes[:, :104] = 730                                    # two years of cash benefit before index
    for i in range(2 * n):
        stay = 20 if i < n else 80                          # participants leave earlier
        codes[i, 104:104 + stay + int(rng.integers(0, 5))] = 730
    ids = np.array([f"{i:016x}" for i in range(2 * n)], dtype=object)
    weekly = WeeklyStatus(ids, 2000, codes)
    monkeypatch.setattr(I.analysis, "_load_weekly", lambda *a, **k: weekly)
    cohort = pd.DataFrame({"person_id": ids, "group": ["intervention"] * n + ["control"] * n,
                           "index_week": 2104, "matched_set": list(range(n)) * 2, "weight": 1.0})
    a = I.analyse(study, cohort=cohort, costs_form=pd.DataFrame())
    y = a.yearly.set_index(["actor", "year"])
    assert y.loc[("public", 1), "saving_total"] > 0
    # long history: every covered week is at the 20 % step -> state share of savings = 20 %
    assert y.loc[("state", 1), "saving_total"] == pytest.approx(0.2 * y.loc[("public", 1), "saving_total"])
    table, check = T.yearly_table(a, "en", min_cell=5)
    assert check.passed and len(table) == 6
    small, check_small = T.yearly_table(a, "en", min_cell=20)
    assert "<20" in small.iloc[0].astype(str).tolist()
    assert not D.group_check(a.n_intervention, a.n_control, 20, item="x").passed
    assert assumptions_table(study.investment, a.prices, a.costs, "da", n_participants=n).shape[1] == 4
    res = stage.from_analysis(study, a)
    assert res.n_intervention == n and "person_id" not in res.to_json()


def test_parse_rmst_variants():
    est, _ = I.analysis.parse_rmst({"rmst_difference_weeks": 6.5, "rmst_difference_ci": [1.0, 12.0]})
    assert est == {"estimate": 6.5, "ci_low": 1.0, "ci_high": 12.0, "horizon_weeks": None}
    est, _ = I.analysis.parse_rmst({"rmst_difference_weeks": {"estimate": 3, "ci_low": -1, "ci_high": 7}})
    assert est["ci_low"] == -1
    assert I.analysis.parse_rmst({"hr": 1.5})[0] is None
    # the shape helpers.stats.survival writes
    est, _ = I.analysis.parse_rmst({"rmst_difference_weeks": 9.0, "rmst_difference_ci_low": 2.0,
                                    "rmst_difference_ci_high": 16.0, "rmst_horizon_weeks": 260})
    assert est == {"estimate": 9.0, "ci_low": 2.0, "ci_high": 16.0, "horizon_weeks": 260.0}
    assert I.analysis.parse_rmst({"rmst_difference_weeks": None})[0] is None
