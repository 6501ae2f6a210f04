"""Stage 05 (investment) in the stage pattern: the typed result is investment_results.json, round-trips,
words its notes and tornado labels from the catalogue, and the report's items need a fresh result."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_investment import _inv, make_weeks
from test_public_balance import hand_case

from helpers import investment as I
from helpers.config import load_study
from helpers.core import paths
from helpers.investment.code_prices import load_code_prices
from helpers.report import council
from helpers.report import investment as investment_report
from helpers.stages import investment as stage


@pytest.fixture(scope="module")
def demo():
    return load_study("demo")


@pytest.fixture(scope="module")
def code_analysis():
    return hand_case(0, 1.0, load_code_prices(price_year=2024))


@pytest.fixture(scope="module")
def category_analysis():
    weeks = make_weeks(n_sets=12, years=2, same=False)
    weeks = weeks.drop(columns="state_weeks")           # no week-level refusion history: the notes say so
    return I.analyse_frames(weeks, I.load_prices(price_year=2024), _inv(horizon_years=2), seed=4)


def test_result_round_trips_and_reproduces_the_analysis(demo, code_analysis, tmp_path):
    r = stage.from_analysis(demo, code_analysis)
    assert stage.InvestmentResult.from_json(r.to_json()) == r
    assert r.analysis is code_analysis
    summary = code_analysis.summary.set_index("actor")
    for actor in I.ACTORS:
        assert r.npv[actor].estimate == summary.loc[actor, "npv"] == r.actors[actor].npv
        assert r.npv[actor].ci_low == summary.loc[actor, "npv_low"]
    assert r.horizon_total_years == 2 and r.n_intervention == 1 and r.pricing == "code"
    assert len(r.balance) == 6 and r.balance[0].cumulative_net_pv_low is not None
    path = r.save(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    # the file's keys, in the order they were always written
    assert list(data) == ["study", "npv", "actors", "horizon_total_years", "p_npv_positive", "settings",
                          "n_intervention", "n_control", "summary", "break_even", "monte_carlo", "tornado",
                          "rmst_cross_check", "notes", "pricing", "p_npv_positive_by_actor", "balance", "scenarios",
                          "unpriced_codes", "earnings", "tax"]
    assert set(data["monte_carlo"]) == {"draws", "seed", "p_npv_positive", "npv_mean", "npv_q2.5", "npv_q50",
                                        "npv_q97.5"}
    assert data["tax"] == {"year": 2024, "municipality": 183, "am_bidrag": 0.08, "bundskat": 0.1206,
                           "kommuneskat": 0.253, "personfradrag": 49700.0}
    assert data["earnings"] == {"hourly_wage_dkk": 180.0, "hours_per_week": 37.0}
    loaded = stage.InvestmentResult.load(demo, tmp_path)
    assert loaded == r and loaded.analysis is None


def test_tornado_labels_come_from_the_catalogue(demo, code_analysis):
    r = stage.from_analysis(demo, code_analysis)
    rows = {t.parameter: t for t in r.tornado}
    assert rows["effect"].label_en == "Effect (confidence interval)"
    assert rows["effect"].label_da == "Effekt (konfidensinterval)"
    assert rows["wage"].label_en == "Hourly wage in work (DKK)" and rows["wage"].low == 135.0
    assert "label_en" not in code_analysis.tornado.columns          # the computation holds no words


def test_category_pricing_writes_no_per_code_keys(demo, category_analysis):
    r = stage.from_analysis(demo, category_analysis)
    data = json.loads(r.to_json())
    assert r.pricing == "category" and not stage.CODE_ONLY & set(data)
    assert data["balance"] == [] and r.unpriced_codes is None and r.tax is None
    assert stage.InvestmentResult.from_json(r.to_json()) == r


def test_notes_are_worded_from_the_catalogue(demo, category_analysis):
    keys = [n.key for n in category_analysis.notes]
    assert keys == ["no_refusion_history"]
    r = stage.from_analysis(demo, category_analysis)
    assert r.notes == ["No week-level refusion history was given: every covered week is split at the long-term "
                       "step (20% state share)."]
    assert stage.note_text(category_analysis.notes[0], "da") == (
        "Der var ingen ugevis refusionshistorik: alle dækkede uger er fordelt efter det sidste trin (20% statslig "
        "andel).")
    note = I.Note("uncovered_months", {"share": 0.0345})
    assert stage.note_text(note, "en").startswith("3.5% of the observed weeks")


def test_survival_result_is_read_for_the_rmst_cross_check(demo, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "PROCESSED_DIR", tmp_path)
    assert stage.survival_rmst(demo) == (None, "survival_results.json not found")
    demo.processed_dir.mkdir(parents=True)
    (demo.processed_dir / "survival_results.json").write_text(json.dumps({"hr": 1.5}), encoding="utf-8")
    rmst, why = stage.survival_rmst(demo)
    assert rmst is None and why.startswith("survival_results.json unreadable (")


def test_unknown_code_is_named_from_the_catalogue():
    prices = load_code_prices(price_year=2024)
    cw = pd.DataFrame({"code": [555, 555], "group": ["intervention", "control"], "person_weeks": [3, 0],
                       "persons": [1, 0]})
    u = stage.unpriced_frame(cw, prices.table)
    assert u.iloc[0].tolist() == [555, "Code not in the dictionary", "Kode uden for kodelisten",
                                  "unknown code: no price", 3, 0, 1, 0]


def test_report_items_need_a_fresh_result_but_the_council_page_does_not(demo, code_analysis, tmp_path):
    r = stage.from_analysis(demo, code_analysis)
    r.save(tmp_path)
    loaded = stage.InvestmentResult.load(demo, tmp_path)
    with pytest.raises(ValueError, match="needs the result of stages.investment.run"):
        investment_report.yearly_table(loaded, demo)
    fresh = investment_report.npv_table(r, demo)
    assert fresh.key == "investment_npv" and len(fresh.frame) == 3
    table = council.key_figures_table(loaded, demo)
    assert table.key == "council_key_figures" and table.frame.shape == (3, 5)
    assert council.page_text(loaded, demo)[0].markdown == "## For the city council: does the programme pay?"


def test_council_page_without_a_public_balance_has_no_figure(demo, category_analysis):
    """Per-category pricing writes no balance: the page keeps its text and table and leaves out the figure
    (it used to fail on the empty balance, so notebook 90 stopped the report)."""
    r = stage.from_analysis(demo, category_analysis)
    assert r.balance == []
    assert council.cumulative_figure(r, demo) is None
    assert council.key_figures_table(r, demo).frame.shape == (3, 5)


def test_a_projection_without_a_printed_table_is_shown_without_reconciliation(demo, code_analysis):
    """An ex-ante projection need not come with a printed table to reconcile (reconcile used to be called
    anyway and raised)."""
    cfg = load_study("fundamentet").investment.projection.model_copy(update={"printed": None})
    p = I.analyse_projection(cfg, 2_200_000)
    assert p.reconciliation is None
    assert p.result.totals["value_table"].tolist() == [652.0, 2292.0, 3171.0, 3025.0, 2879.0, 2557.0]
    r = stage.from_analysis(demo, code_analysis)
    r._projection = p
    assert investment_report.projection_readings_table(r, demo) is None
    assert investment_report.projection_departures_table(r, demo) is None
    assert investment_report.projection_notes_text(r, demo) is None
    assert investment_report.projection_table(r, demo).key == "investment_projection"
