"""Per-code prices, tax, the weekly ledger, the public balance by actor, scenarios.

The three hand-worked cases (kontanthjælp -> ordinary job / fleksjob / førtidspension in the
middle of year 1) have their arithmetic written out below from the published rates; every
actor's net in each year must match to the krone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import investment as I
from helpers.config.schema.investment import InvestmentConfig
from helpers.config.schema.public_balance import ScenarioConfig
from helpers.core.codes import CodeBook, load_code_table
from helpers.core.store import MonthlyEmployment
from helpers.investment import by_code
from helpers.investment import ledger as L
from helpers.investment.code_prices import (
    CodePriceError,
    load_code_prices,
    read_code_price_file,
    select_code_prices,
)
from helpers.investment.scenarios import cohort_sum, run_scenarios
from helpers.investment.tax import TaxRates, load_tax_rates, person_year_taxes
from helpers.stages.investment import unpriced_frame

# ---- published 2024 rates used in the hand cases (sources in helpers/data/prices/*.csv)
KTH_MONTH = 12_326          # kontanthjælp, 30+, ikke-forsørger (bm.dk satser 2024)
FTP_MONTH = 20_370          # førtidspension, enlig (Serviceforbundet satser 2024)
DP_MONTH = 20_359           # highest a-dagpenge rate (Serviceforbundet satser 2024)
AM, BUND, KOM, PF = 0.08, 0.1206, 0.253, 49_700          # AM-bidrag, bundskat, Ishøj kommuneskat, personfradrag
BF_RATE, BF_CEIL = 0.1065, 45_100                        # beskæftigelsesfradrag 2024
JF_RATE, JF_THR, JF_CEIL = 0.045, 216_100, 2_800         # jobfradrag 2024
WAGE_WEEK = 180 * 37                                     # 6,660 DKK: hourly wage assumption x 37 hours
COST = 20_000                                            # programme cost in year 1, borne by the municipality


@pytest.fixture(scope="module")
def prices():
    return load_code_prices(price_year=2024)


def hand_case(after_code: int, grad_after: float, prices):
    """One participant and one matched control, both with 156 weeks of kontanthjælp before the index week
    (so every covered week is at the 20 % refusion step). The control stays on kontanthjælp for 2 years; the
    participant moves to ``after_code`` after 26 weeks, with employment degree ``grad_after`` from then on."""
    hist = np.full(156, 730)
    fu_i = np.array([730] * 26 + [after_code] * 78)
    codes_all = np.vstack([np.concatenate([hist, fu_i]), np.concatenate([hist, np.full(104, 730)])]).astype(np.int16)
    share = L.refusion_shares(codes_all, prices, CodeBook.default())[:, 156:]
    degree = np.zeros((2, 104))
    degree[0, 26:] = grad_after
    cohort = pd.DataFrame({"person_id": ["i1", "c1"], "group": ["intervention", "control"], "matched_set": [0, 0],
                           "weight": 1.0, "index_week": 1500})
    led = by_code.ledger_from_arrays(codes_all[:, 156:], degree, share, cohort=cohort, prices=prices,
                                     tax=load_tax_rates(year=2024, municipality=183),
                                     earnings=L.Earnings(180.0, 37.0), flex=L.load_flex_rule(year=2024), years=2)
    inv = InvestmentConfig.model_validate({"pricing": "code", "tax": {"enabled": True}, "horizon_years": 2,
                                           "intervention_cost_total": COST, "bootstrap_draws": 50,
                                           "monte_carlo_draws": 100})
    return I.analyse_frames(None, led.prices.table, inv, 1, cohort=cohort, ledger=led)


def net_by_actor_year(analysis) -> dict:
    b = analysis.balance.set_index(["actor", "year"])
    return {k: float(v) for k, v in b["net"].items()}


# Control, each year: 52 weeks kontanthjælp = 12 x 12,326 = 147,912; no earnings.
CTL_B = 12 * KTH_MONTH                               # 147,912
CTL_KOM = KOM * (CTL_B - PF)                         # 0.253 x 98,212 = 24,847.64 (all on benefits)
CTL_BUND = BUND * (CTL_B - PF)                       # 0.1206 x 98,212 = 11,844.37


def test_hand_case_kontanthjaelp_to_ordinary_job(prices):
    a = hand_case(0, 1.0, prices)
    # Year 1, participant: 26 weeks kontanthjælp = 6 x 12,326 = 73,956; 26 weeks full-time work = 26 x 6,660
    b1, w1 = 6 * KTH_MONTH, 26 * WAGE_WEEK                          # 73,956 and 173,160
    am1 = AM * w1                                                    # 13,852.80
    a1 = w1 - am1                                                    # arbejdsindkomst 159,307.20
    bf1 = min(BF_RATE * a1, BF_CEIL)                                 # 16,966.22
    jf1 = min(max(0.0, JF_RATE * (a1 - JF_THR)), JF_CEIL)            # 0 (below the threshold)
    kom1 = KOM * (b1 + a1 - bf1 - jf1 - PF)                          # 0.253 x 166,596.98 = 42,149.04
    kom1_b = kom1 * b1 / (b1 + a1 - bf1 - jf1)                       # share on benefits: 14,411.55
    bund1 = BUND * (b1 + a1 - PF)                                    # 0.1206 x 183,563.20 = 22,137.72
    bund1_b = bund1 * b1 / (b1 + a1)                                 # 7,018.76
    # Year 2, participant: 52 weeks of work = 346,320; no benefits
    w2 = 52 * WAGE_WEEK
    am2 = AM * w2                                                    # 27,705.60
    a2 = w2 - am2                                                    # 318,614.40
    bf2 = min(BF_RATE * a2, BF_CEIL)                                 # 33,932.43
    jf2 = min(max(0.0, JF_RATE * (a2 - JF_THR)), JF_CEIL)            # 4,613.15 -> capped at 2,800
    kom2 = KOM * (a2 - bf2 - jf2 - PF)                               # 58,742.04
    bund2 = BUND * (a2 - PF)                                         # 32,431.08
    # Municipality: 80 % of benefits (20 % state refusion), kommuneskat, programme cost
    m1 = 0.8 * (CTL_B - b1) + (kom1_b - CTL_KOM) + (kom1 - kom1_b) - COST     # 59,164.80 - 10,436.09 + 27,737.49 - 20,000
    m2 = 0.8 * (CTL_B - 0) + (0 - CTL_KOM) + kom2                              # 118,329.60 - 24,847.64 + 58,742.04
    # State: 20 % of benefits, bundskat and AM-bidrag
    s1 = 0.2 * (CTL_B - b1) + (bund1_b - CTL_BUND) + (bund1 - bund1_b + am1)  # 14,791.20 - 4,825.61 + 28,971.77
    s2 = 0.2 * CTL_B + (0 - CTL_BUND) + (bund2 + am2)                          # 29,582.40 - 11,844.37 + 60,136.68
    expected = {("municipality", 1): m1, ("municipality", 2): m2, ("state", 1): s1, ("state", 2): s2,
                ("public", 1): m1 + s1, ("public", 2): m2 + s2}
    got = net_by_actor_year(a)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=0.5), key
    assert round(m1) == 56_466 and round(s2) == 77_875                # the same numbers, in whole kroner
    b = a.balance.set_index(["actor", "year"])
    assert b.loc[("municipality", 1), "gross_benefit_savings"] == pytest.approx(0.8 * 73_956)
    assert b.loc[("public", 1), "programme_cost"] == COST and b.loc[("state", 1), "programme_cost"] == 0


def test_hand_case_kontanthjaelp_to_fleksjob(prices):
    a = hand_case(771, 0.5, prices)
    # Fleksjob at half time: wage 0.5 x 6,660 = 3,330 a week. Fleksløntilskud per week:
    # 0.98 x highest a-dagpenge (20,359 x 12/52 = 4,698.23) = 4,604.27, less 30 % of the wage
    # (the wage is below the threshold 15,401 x 12/52 = 3,554.08 a week): 4,604.27 - 999.00 = 3,605.27
    wage = 0.5 * WAGE_WEEK
    assert wage < 15_401 * 12 / 52
    subsidy = 0.98 * DP_MONTH * 12 / 52 - 0.30 * wage
    b1, w1 = 6 * KTH_MONTH + 26 * subsidy, 26 * wage              # 73,956 + 93,736.92; 86,580
    b2, w2 = 52 * subsidy, 52 * wage                              # 187,473.84; 173,160

    def taxes(b, w):
        am = AM * w
        a_ = w - am
        bf = min(BF_RATE * a_, BF_CEIL)
        jf = min(max(0.0, JF_RATE * (a_ - JF_THR)), JF_CEIL)      # 0 in both years (a_ < 216,100)
        kom = KOM * (b + a_ - bf - jf - PF)
        bund = BUND * (b + a_ - PF)
        return kom * b / (b + a_ - bf - jf), kom * (a_ - bf - jf) / (b + a_ - bf - jf), bund * b / (b + a_), \
            bund * a_ / (b + a_) + am
    net = {}
    for year, (b, w) in ((1, (b1, w1)), (2, (b2, w2))):
        kb, ke, sb, se = taxes(b, w)
        net[("municipality", year)] = 0.8 * (CTL_B - b) + (kb - CTL_KOM) + ke - (COST if year == 1 else 0)
        net[("state", year)] = 0.2 * (CTL_B - b) + (sb - CTL_BUND) + se
        net[("public", year)] = net[("municipality", year)] + net[("state", year)]
    got = net_by_actor_year(a)
    for key, value in net.items():
        assert got[key] == pytest.approx(value, abs=0.5), key
    # the subsidy costs more than kontanthjælp, so gross benefit savings are negative, and tax makes up for it
    b = a.balance.set_index(["actor", "year"])
    assert b.loc[("public", 2), "gross_benefit_savings"] == pytest.approx(CTL_B - 52 * subsidy)   # -39,561.84
    assert round(net[("public", 2)]) == 44_296


def test_hand_case_kontanthjaelp_to_foertidspension(prices):
    a = hand_case(783, 0.0, prices)
    # Year 1: 26 weeks kontanthjælp (73,956) + 26 weeks førtidspension (6 x 20,370 = 122,220) = 196,176
    b1, b2 = 6 * KTH_MONTH + 6 * FTP_MONTH, 12 * FTP_MONTH        # 196,176; 244,440
    net = {}
    for year, b in ((1, b1), (2, b2)):
        kom, bund = KOM * (b - PF), BUND * (b - PF)              # no earnings: all tax is tax on benefits
        net[("municipality", year)] = 0.8 * (CTL_B - b) + (kom - CTL_KOM) - (COST if year == 1 else 0)
        net[("state", year)] = 0.2 * (CTL_B - b) + (bund - CTL_BUND)
        net[("public", year)] = net[("municipality", year)] + net[("state", year)]
    got = net_by_actor_year(a)
    for key, value in net.items():
        assert got[key] == pytest.approx(value, abs=0.5), key
    # year 1, municipality: 0.8 x (147,912 - 196,176) + 0.253 x 48,264 - 20,000 = -38,611.20 + 12,210.79 - 20,000
    assert round(net[("municipality", 1)]) == -46_400
    assert (a.balance["gained_tax_on_earnings"].abs() < 1e-9).all()


@pytest.mark.parametrize("code,grad", [(0, 1.0), (771, 0.5), (783, 0.0)])
def test_balance_adds_up_to_the_npv_and_actors_to_the_public_total(prices, code, grad):
    a = hand_case(code, grad, prices)
    b = a.balance
    npv = a.summary.set_index("actor")["npv"]
    for actor in ("municipality", "state", "public"):
        assert b.loc[b["actor"] == actor, "net_pv"].sum() == pytest.approx(npv[actor], abs=1e-6)
    wide = b.pivot_table(index="year", columns="actor", values="net")
    assert (wide["municipality"] + wide["state"]).to_numpy() == pytest.approx(wide["public"].to_numpy())
    parts = b[["gross_benefit_savings", "lost_tax_on_benefits", "gained_tax_on_earnings"]].sum(axis=1)
    assert parts.to_numpy() == pytest.approx((b["net"] + b["programme_cost"]).to_numpy())


# ------------------------------------------------------------------------------- tax
def test_tax_splits_by_source_and_prorates_the_allowance():
    r = TaxRates(am_bidrag=0.08, bundskat=0.12, kommuneskat=0.25, personfradrag=52_000, bf_rate=0.1, bf_ceiling=10_000)
    # half a year observed: allowance 26,000, employment-deduction ceiling 5,000
    t = person_year_taxes(np.array([40_000.0]), np.array([100_000.0]), r, observed=0.5)
    # AM 8,000; A = 92,000; bf = min(9,200, 5,000) = 5,000; kommune base 40,000 + 92,000 - 5,000 = 127,000
    kom = 0.25 * (127_000 - 26_000)                   # 25,250
    bund = 0.12 * (132_000 - 26_000)                  # 12,720
    assert t.municipal_on_benefits[0] + t.municipal_on_earnings[0] == pytest.approx(kom)
    assert t.municipal_on_benefits[0] == pytest.approx(kom * 40_000 / 127_000)
    assert t.state_on_benefits[0] == pytest.approx(bund * 40_000 / 132_000)
    assert t.state_on_earnings[0] == pytest.approx(bund * 92_000 / 132_000 + 8_000)
    zero = person_year_taxes(np.array([20_000.0]), np.array([0.0]), r)
    assert zero.municipal_on_benefits[0] == 0 and zero.state_on_benefits[0] == 0   # below the allowance


def test_shipped_tax_rates_have_sources():
    t = load_tax_rates(year=2024, municipality=183)
    assert (t.am_bidrag, t.bundskat, t.personfradrag, t.kommuneskat) == (0.08, 0.1206, 49_700, 0.253)
    assert t.sources["source"].str.len().gt(10).all()
    assert "assumption" in t.sources.set_index("parameter").loc["kommuneskat_rate", "source"]
    with pytest.raises(I.code_prices.CodePriceError, match="municipality 101"):
        load_tax_rates(year=2024, municipality=101)


def test_flexjob_subsidy_above_the_threshold():
    rule = L.FlexRule(0.98, 0.30, 0.55, 15_401.0)
    t = 15_401 * 12 / 52                                       # 3,554.08 a week
    high = 5_000.0
    expected = 0.98 * 4_000 - 0.30 * t - 0.55 * (high - t)     # 3,920 - 1,066.22 - 795.24 = 2,058.54
    assert L.flexjob_subsidy(np.array([4_000.0]), np.array([high]), rule)[0] == pytest.approx(expected)
    assert L.flexjob_subsidy(np.array([4_000.0]), np.array([20_000.0]), rule)[0] == 0.0


# ---------------------------------------------------------------------------- prices
def test_every_dictionary_code_has_a_dated_price_row_with_source():
    table = read_code_price_file()
    codes = set(load_code_table()["code"].astype(int))
    assert codes == set(table["code"])
    assert (table["source"].str.strip() != "").all() and table["year"].between(2016, 2025).all()
    sel = select_code_prices(table, 2024)
    # fleksjob has its own rule (wage subsidy), apart from ledighedsydelse
    assert sel.loc[771, "amount_rule"] == "flexjob_subsidy" and sel.loc[740, "amount_rule"] == "flat"
    assert sel.loc[740, "weekly_gross_dkk"] == 4_185
    assert sel.loc[730, "weekly_gross_dkk"] == pytest.approx(12_326 * 12 / 52)
    assert sel.loc[651, "payer"] == "state" and sel.loc[651, "weekly_gross_dkk"] == pytest.approx(6_820 * 12 / 52)
    assert sel.loc[785, "weekly_gross_dkk"] == 4_695 and sel.loc[783, "refusion_rule"] == "trappe_2016"
    assert sel.loc[112, "weekly_gross_dkk"] == pytest.approx(0.75 * 20_359 * 12 / 52)
    assert "assumption" in sel.loc[112, "source"]
    unpriced = set(sel.index[sel["priced"] == 0])
    assert {700, 151, 152, 661} <= unpriced and 730 not in unpriced
    assert sel.loc[999, "priced"] == 1 and sel.loc[999, "weekly_gross_dkk"] == 0   # no payment, by definition
    older = select_code_prices(table, 2023)
    assert older.loc[730, "weekly_gross_dkk"] == pytest.approx(11_944 * 12 / 52)
    assert older.loc[651, "year_note"].startswith("no price dated 2023")


def test_code_price_file_errors_name_row_and_column(tmp_path):
    text = I.code_prices.data_file("benefit_prices_by_code.csv")[0].read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "p.csv"
    bad.write_text("\n".join([text[0], text[1].replace(",state,", ",kommune,")]), encoding="utf-8")
    with pytest.raises(CodePriceError, match=r"row 2, column 'payer'"):
        read_code_price_file(bad)
    with pytest.raises(CodePriceError, match="code 555"):
        select_code_prices(read_code_price_file(), 2024, {555: 10.0})
    with pytest.raises(ValueError, match="pricing: code"):
        InvestmentConfig.model_validate({"tax": {"enabled": True}})


def test_unknown_and_unpriced_codes_are_listed_with_person_weeks(prices):
    codes = np.array([[700] * 10 + [730] * 42, [555] * 3 + [0] * 49, [730] * 52], dtype=np.int16)
    cw = L.code_weeks(codes, np.array([True, True, False]))
    un = unpriced_frame(cw, prices.table).set_index("code")
    assert un.loc[700, "person_weeks_intervention"] == 10 and un.loc[700, "persons_intervention"] == 1
    assert un.loc[555, "benefit_en"] == "Code not in the dictionary"
    assert 730 not in un.index and 0 not in un.index
    wl = L.week_ledger(codes, np.zeros(codes.shape), np.zeros(codes.shape), prices, L.Earnings(180.0),
                       L.FlexRule())
    assert wl.benefit[0, :10].sum() == 0 and wl.benefit[1].sum() == 0


def test_aligned_degree_uses_the_month_of_the_thursday():
    # DREAM week 1 is the week of Monday 5 Aug 1991; months from Aug 1991 (index 1991*12 + 7)
    monthly = MonthlyEmployment(np.array(["p"], dtype=object), 1991 * 12 + 7, np.array([[0.5, np.nan, 1.0]],
                                                                                       dtype=np.float32))
    degree, covered = L.aligned_degree(monthly, ["p"], np.array([1]), 0, 14)
    # weeks 1-4 have their Thursday in August (8, 15, 22, 29 Aug), week 5 in September (5 Sep)
    assert degree[0, :4].tolist() == [0.5] * 4 and degree[0, 4] == 0 and covered[0, 4]
    assert degree[0, 9] == 1.0 and not covered[0, 13]


# -------------------------------------------------------------------------- scenarios
def test_scenario_cohorts_add_up_by_hand():
    s = np.array([10.0, 20.0, 5.0])                       # saving per participant in years 1-3 after start
    # 4 persons a year for 2 years: year 1: 4x10; year 2: 4x20 + 4x10; year 3: 4x5 + 4x20; year 4: 4x5
    assert cohort_sum(s, 4, 2).tolist() == [40.0, 120.0, 100.0, 20.0]


def test_one_cohort_of_the_study_size_reproduces_the_study_npv(prices):
    a = hand_case(0, 1.0, prices)
    per_pp = a.flows.pivot_table(index="year", columns="actor", values="savings")[list(I.ACTORS)].to_numpy()
    boot = np.repeat(per_pp[None], 10, axis=0)
    sc = [ScenarioConfig(name="same", label={"en": "x", "da": "x"}, persons_per_year=1, years=1),
          ScenarioConfig(name="double", label={"en": "y", "da": "y"}, persons_per_year=2, years=3,
                         cost_per_person_dkk=5_000, effect_scale=0.5)]
    res = run_scenarios(sc, per_pp, boot, default_cost_per_person=COST, bearer="municipality",
                        steps=I.MOF_2021).set_index(["scenario", "actor"])
    npv = a.summary.set_index("actor")["npv"]
    for actor in I.ACTORS:
        assert res.loc[("same", actor), "npv"] == pytest.approx(npv[actor])
    # 2 persons x 3 years at half the effect: savings of cohort years 1..4, costs 10,000 in years 1-3
    d = I.discount_factors([1, 2, 3, 4])
    pub = per_pp[:, 2] * 0.5
    flows = 2 * np.array([pub[0], pub[0] + pub[1], pub[0] + pub[1], pub[1]]) - np.array([10_000] * 3 + [0])
    assert res.loc[("double", "public"), "npv"] == pytest.approx(flows @ d)
    assert res.loc[("double", "state"), "costs"] == 0 and res.loc[("double", "municipality"), "persons"] == 6


def test_wage_sensitivity_recomputes_the_ledger(prices):
    a = hand_case(0, 1.0, prices)
    w = a.tornado.set_index("parameter").loc["wage"]
    assert (w["low"], w["high"]) == (135.0, 225.0)
    assert w["npv_low"] < w["npv_base"] < w["npv_high"]          # a higher wage gives more tax
    led = a.ledger
    same = led.at_wage(180.0)
    assert same["cost_public"].to_numpy() == pytest.approx(led.person_years["cost_public"].to_numpy())
