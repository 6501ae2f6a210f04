"""Stage 04, trajectories (issue 17, items 1-2): weekly states, weeks in states, the matched-set bootstrap,
disclosure of the state distribution, the stage on a hand-made cohort, and the report's words.

Reference values are hand arithmetic written out here (weeks counted by hand on cohorts whose
weeks are known) and a paired t-interval computed with scipy (not with the bootstrap's code).
The synthetic truth (truth_spells.parquet) is checked in tests/test_end_to_end.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.config.schema.trajectories import TrajectoriesConfig
from helpers.core import calendar, store
from helpers.core.codes import CodeBook, load_code_table
from helpers.core.store import NO_DATA, MonthlyEmployment, WeeklyStatus
from helpers.disclosure import trajectories as dtraj
from helpers.outcomes import trajectories as traj
from helpers.report import trajectories as report
from helpers.report.items import Figure, Table, Text
from helpers.runner import skipped_notebooks
from helpers.stages import trajectories as stage
from helpers.stats.matched_bootstrap import MatchedDesign, mean_difference, multiplicities

S = traj.STATE_INDEX


def _names(row):
    return [traj.STATES[s] if s >= 0 else "-" for s in row]


# ------------------------------------------------------------------ states
def test_every_code_has_a_state_and_the_issue_categories_are_mapped():
    book = CodeBook.default()
    lookup = traj.state_lookup(book)
    assert set(np.unique(lookup)) <= set(range(len(traj.STATES)))
    expected = {730: "cash_benefit", 700: "cash_benefit", 720: "education_benefit", 140: "education_benefit",
                810: "ressourceforloeb", 760: "ressourceforloeb", 785: "ressourceforloeb", 890: "sickness",
                774: "sickness", 771: "flexjob", 740: "flexjob", 783: "disability_pension", 781: "disability_pension",
                111: "other_benefit", 651: "other_benefit", 881: "other_benefit", 621: "other_benefit",
                997: "exit", 998: "exit", 999: "exit", 0: "no_wage"}
    assert {c: traj.STATES[lookup[c]] for c in expected} == expected
    # every code of the dictionary is a benefit state unless it is 0 or a self-support code
    table = load_code_table()
    assert len(table) == 129 and all(lookup[int(c)] >= 0 for c in table["code"])


def test_states_follow_the_self_support_rule_and_the_overrides():
    codes = np.array([[0, 0, 121, 651, 730, 998, 0, NO_DATA]])
    job = np.array([[1, 0, 0, 0, 1, 0, 1, 0]], dtype=bool)
    book = CodeBook.default()
    assert _names(traj.weekly_states(codes, book, employed=job)[0]) == [
        "employed", "no_wage", "no_wage", "other_benefit", "cash_benefit", "exit", "exit", "-"]
    # holiday pay counts as self-support only through extra_codes; SU through a category override
    assert _names(traj.weekly_states(codes, book, employed=job, extra_codes=())[0])[2] == "other_benefit"
    over = CodeBook.default({651: "self_support"})
    assert _names(traj.weekly_states(codes, over, employed=job)[0])[3] == "no_wage"
    assert _names(traj.weekly_states(codes, book, code_states={651: "education_benefit"})[0])[3] == "education_benefit"
    # require_employment: an empty week without a wage is no_wage and not self-supported
    states = traj.weekly_states(codes, book, employed=job, require_employment=True)
    assert traj.indicator(states, "self_support", True).astype(int).tolist() == [[1, 0, 0, 0, 0, 0, 0, 0]]
    # holiday pay in a month without a wage is then not self-support either: a benefit week
    assert _names(states[0])[:3] == ["employed", "no_wage", "other_benefit"]


def test_config_validates_states_years_and_adds_the_investment_horizon():
    cfg = TrajectoriesConfig(years=[5, 1, 2, 2])
    assert cfg.years == [1, 2, 5] and cfg.windows(3) == [1, 2, 3, 5] and cfg.windows(5) == [1, 2, 5]
    with pytest.raises(ValueError, match="cannot be given to a code"):
        TrajectoriesConfig(code_states={651: "employed"})
    with pytest.raises(ValueError, match="cannot be given to a code"):
        TrajectoriesConfig(code_states={651: "student"})
    with pytest.raises(ValueError, match="1-20 years"):
        TrajectoriesConfig(years=[0])


def test_weeks_in_windows_count_hand_made_weeks():
    # relative weeks -104 .. 103; row 0: self-supported from week 10 on, cash before;
    # row 1: the extract ends after relative week 60 (so 2 years after is incomplete)
    start, width = -104, 208
    ss, cash = S["no_wage"], S["cash_benefit"]
    states = np.full((2, width), cash, dtype=np.int8)
    states[0, 104 + 10:] = ss
    states[0, 104 - 30:104 - 20] = S["employed"]  # 10 employed weeks in the year before
    states[1, 104 + 61:] = traj.NO_STATE
    states[1, 104 + 40:104 + 61] = ss
    w = traj.weeks_in_windows(states, start, [1, 2])
    get = lambda p, y, m: w[(w.period == p) & (w.years == y) & (w.measure == m)].set_index("unit")  # noqa: E731
    after1 = get("after", 1, "self_support")
    assert after1["weeks"].tolist() == [52 - 10, 52 - 40] and after1["complete"].all()
    after2 = get("after", 2, "self_support")
    assert after2["weeks"].tolist() == [104 - 10, 61 - 40] and after2["complete"].tolist() == [True, False]
    assert get("after", 1, "cash_benefit")["weeks"].tolist() == [10, 40]
    before = get("before", 1, "self_support")
    assert before["weeks"].tolist() == [10, 0] and get("before", 1, "employed")["weeks"].tolist() == [10, 0]
    assert get("before", 2, "cash_benefit")["weeks"].tolist() == [104 - 10, 104]


# ------------------------------------------------------------------ matched-set bootstrap
def _design(treated, weight, sets):
    cohort = pd.DataFrame({"group": np.where(treated, "intervention", "control"), "weight": weight,
                           "matched_set": sets})
    return MatchedDesign.from_cohort(cohort)


def test_weighted_means_of_a_one_to_two_design_by_hand():
    # set 1: intervention 10, controls 4 and 6; set 2: intervention 0, controls 2 and 4 (weights 1/2)
    d = _design([True, False, False, True, False, False], [1, .5, .5, 1, .5, .5], [1, 1, 1, 2, 2, 2])
    y = np.array([[10.0], [4], [6], [0], [2], [4]])
    est = mean_difference(y, np.ones_like(y, dtype=bool), d, multiplicities(2, 0, np.random.default_rng(0)))
    assert est.mean_treated[0] == pytest.approx((10 + 0) / 2)
    assert est.mean_control[0] == pytest.approx((.5 * 4 + .5 * 6 + .5 * 2 + .5 * 4) / 2)
    assert est.difference[0] == pytest.approx(1.0) and np.isnan(est.lower[0])
    # leaving out the 10 (not observed) leaves the intervention mean 0
    seen = np.ones_like(y, dtype=bool)
    seen[0] = False
    assert mean_difference(y, seen, d, np.ones((1, 2), dtype=int)).mean_treated[0] == 0.0
    # one replicate with set 1 twice: the difference of that replicate is 10 - 5 = 5
    one = mean_difference(y, np.ones_like(y, dtype=bool), d, np.array([[2, 0]]))
    assert one.lower[0] == pytest.approx(5.0) and one.upper[0] == pytest.approx(5.0) and one.n_draws[0] == 1


def test_bootstrap_interval_agrees_with_the_paired_t_interval():
    rng = np.random.default_rng(11)
    n = 400
    base = rng.gamma(2.0, 10.0, n)
    y1, y0 = base + rng.normal(3.0, 8.0, n), base + rng.normal(0.0, 8.0, n)
    d = _design(np.r_[np.ones(n, bool), np.zeros(n, bool)], np.ones(2 * n), np.r_[np.arange(n), np.arange(n)])
    est = mean_difference(np.r_[y1, y0][:, None], np.ones((2 * n, 1), bool), d,
                          multiplicities(n, 4000, np.random.default_rng(2)))
    diff = y1 - y0
    half = stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n)
    assert est.difference[0] == pytest.approx(diff.mean())
    assert est.lower[0] == pytest.approx(diff.mean() - half, abs=0.1 * half)
    assert est.upper[0] == pytest.approx(diff.mean() + half, abs=0.1 * half)


def test_multiplicities_are_seeded_and_resample_whole_sets():
    a = multiplicities(7, 50, np.random.default_rng(5))
    assert a.shape == (50, 7) and (a.sum(axis=1) == 7).all()
    assert (a == multiplicities(7, 50, np.random.default_rng(5))).all()
    d = _design([True, False, True], [1, 1, 1], [4, 4, None])
    assert d.n_clusters == 2 and d.cluster.tolist() == [0, 0, 1]  # a row without a set is its own cluster


# ------------------------------------------------------------------ disclosure
def _counts(cells, observed=None):
    """cells: {(group, week): {state: persons}} -> a state_counts-shaped frame (unit weights)."""
    rows = []
    for (g, week), by_state in cells.items():
        total = sum(by_state.values()) if observed is None else observed
        for s in traj.STATES:
            n = by_state.get(s, 0)
            rows.append({"group": g, "week": week, "state": s, "persons": n, "observed": total,
                         "share": n / total if total else np.nan})
    return pd.DataFrame(rows)


def _shown(out, group, week):
    sub = out[(out.group == group) & (out.week == week)]
    return dict(zip(sub.band, sub.persons, strict=True))


def test_a_small_cell_is_merged_and_the_residual_topped_up():
    counts = _counts({("intervention", 0): {"employed": 3, "cash_benefit": 40, "education_benefit": 7}})
    out = dtraj.merge_distribution(counts, 5, list(traj.STATES))
    shown = _shown(out, "intervention", 0)
    # employed (3) is rare: its family is one band throughout, still 3: the residual takes it and the
    # smallest other band (education, 7) so that it holds 10
    assert shown == {"cash_benefit": 40, dtraj.MERGED: 10}  # bands empty in every week are left out
    assert out.groupby(["group", "week"])["share"].sum().tolist() == pytest.approx([1.0])
    assert dtraj.check_distribution(out, 5, item="x").passed
    # the same counts unmerged fail the check
    raw = counts.rename(columns={"state": "band"})
    assert not dtraj.check_distribution(raw, 5, item="x").passed


def test_a_family_is_shown_together_only_in_the_weeks_where_one_is_small():
    counts = _counts({("control", 0): {"cash_benefit": 3, "education_benefit": 20, "no_wage": 30},
                      ("control", 4): {"cash_benefit": 10, "education_benefit": 20, "no_wage": 30},
                      ("control", 8): {"cash_benefit": 12, "education_benefit": 20, "no_wage": 30}})
    out = dtraj.merge_distribution(counts, 5, list(traj.STATES))
    assert _shown(out, "control", 0)["cash_benefit+education_benefit"] == 23
    assert _shown(out, "control", 0)["cash_benefit"] == 0
    assert _shown(out, "control", 4)["cash_benefit"] == 10 and _shown(out, "control", 4)["education_benefit"] == 20
    assert "flexjob" not in set(out.band)  # bands empty in every week are left out


def test_a_week_with_few_persons_observed_is_not_shown():
    counts = _counts({("intervention", 0): {"cash_benefit": 4}, ("intervention", 4): {"cash_benefit": 9}})
    out = dtraj.merge_distribution(counts, 5, list(traj.STATES))
    assert sorted(set(out.week)) == [4]


def test_random_distributions_never_show_a_small_band_or_complement():
    rng = np.random.default_rng(17)
    for trial in range(30):
        cells = {}
        for g in ("intervention", "control"):
            for week in range(0, 40, 4):
                n = rng.integers(5, 60)
                probs = rng.dirichlet(np.full(len(traj.STATES), 0.4))
                cells[(g, week)] = dict(zip(traj.STATES, rng.multinomial(n, probs), strict=True))
        out = dtraj.merge_distribution(_counts(cells), 5, list(traj.STATES))
        assert dtraj.check_distribution(out, 5, item="x").passed, trial
        comp = out["observed"] - out["persons"]
        assert not ((comp > 0) & (comp < 5)).any(), trial
        assert (out.groupby(["group", "week"])["persons"].sum() == out.groupby(["group", "week"])["observed"].first()).all()
        assert np.allclose(out.groupby(["group", "week"])["share"].sum(), 1.0)


def test_self_support_weeks_with_small_counts_are_hidden():
    frame = pd.DataFrame({"week": [0, 4, 8, 12], "ss_int": [0, 3, 47, 10], "observed_int": [50, 50, 50, 50],
                          "ss_ctl": [0, 10, 10, 10], "observed_ctl": [50, 50, 50, 4],
                          "share_int": [0, .06, .94, .2], "share_ctl": [0, .2, .2, .2], "difference": [0, -.14, .74, 0],
                          "lower": [0, -.3, .6, -.1], "upper": [0, 0, .9, .1]})
    out = dtraj.mask_difference(frame, 5)
    assert out["shown"].tolist() == [True, False, False, False]
    assert out["difference"].isna().tolist() == [False, True, True, True]
    assert dtraj.check_difference(out, 5, item="x").passed
    assert not dtraj.check_difference(frame.assign(shown=True), 5, item="x").passed


def test_a_mean_resting_on_few_persons_is_masked():
    frame = pd.DataFrame({"n_int": [50, 50, 50, 4], "positive_int": [3, 50, 20, 4], "full_int": [0, 48, 0, 0],
                          "n_ctl": [50, 50, 50, 50], "positive_ctl": [10, 10, 10, 10], "full_ctl": [0, 0, 0, 0],
                          "mean_int": [1.0, 50.0, 8.0, 9.0], "mean_ctl": [2.0] * 4, "difference": [-1.0, 48, 6, 7],
                          "lower": [-2.0] * 4, "upper": [0.0] * 4})
    out = dtraj.mask_windows(frame, 5)
    # 3 persons with weeks; 2 persons without all weeks; fine; only 4 observed
    assert out["masked_int"].tolist() == [True, True, False, True]
    assert out["mean_int"].isna().tolist() == [True, True, False, True]
    assert out["difference"].isna().tolist() == [True, True, False, True] and not out["masked_ctl"].any()
    assert dtraj.check_windows(out, 5, item="x").passed
    assert not dtraj.check_windows(frame.assign(masked_int=False, masked_ctl=False), 5, item="x").passed


# ------------------------------------------------------------------ the stage on a hand-made cohort
INDEX = 1400  # DREAM week of every index week (2018-W38)
BEFORE, AFTER = 300, 320


def _hand_made(monkeypatch, demo_study, n_pairs=20):
    """20 pairs; intervention k self-supported (with a wage) from week 10 + k, control k (no wage) from 30 + 2k.

    Before the index week everybody is on cash benefit, except 13 weeks of self-support
    from 80 weeks before the index week in both groups.
    """
    codes, ids, groups, sets = [], [], [], []
    for k in range(n_pairs):
        for g, first in (("intervention", 10 + k), ("control", 30 + 2 * k)):
            row = np.full(BEFORE + AFTER, 730, dtype=np.int16)
            row[BEFORE + first:] = 0
            row[BEFORE - 80:BEFORE - 67] = 0
            codes.append(row)
            ids.append(f"{g[0]}{k:02d}")
            groups.append(g)
            sets.append(k)
    weekly = WeeklyStatus(np.array(ids, dtype=object), INDEX - BEFORE, np.array(codes))
    first_month = int(calendar.months_of_dream_weeks(np.array([INDEX - BEFORE]))[0])
    n_months = 160
    degree = np.full((len(ids), n_months), np.nan, dtype=np.float32)
    degree[[i for i, g in enumerate(groups) if g == "intervention"]] = 1.0
    monthly = MonthlyEmployment(np.array(ids, dtype=object), first_month, degree)
    cohort = pd.DataFrame({"person_id": ids, "group": groups, "index_week": INDEX, "matched_set": sets,
                           "weight": 1.0})

    def load_weekly(study, first_week=None, last_week=None, *, person_ids=None):
        return weekly

    monkeypatch.setattr(store, "load_cohort", lambda study: cohort)
    monkeypatch.setattr(store, "load_weekly", load_weekly)
    monkeypatch.setattr(store, "load_monthly", lambda study, person_ids=None: monthly)
    study = demo_study.model_copy(deep=True)
    study.trajectories.bootstrap_draws = 500
    return study


@pytest.fixture()
def hand_made(monkeypatch, demo_study):
    study = _hand_made(monkeypatch, demo_study)
    return study, stage.run(study, write=False)


def test_stage_counts_the_weeks_of_a_hand_made_cohort(hand_made):
    study, result = hand_made
    ks = np.arange(20)
    own = lambda first, width: np.clip(width - first, 0, width)  # noqa: E731  (weeks from `first` to width - 1)
    r1 = result.row("self_support", 1)
    assert (r1.n_int, r1.n_ctl) == (20, 20)
    assert r1.mean_int == pytest.approx(np.mean(own(10 + ks, 52)))  # 32.5
    assert r1.mean_ctl == pytest.approx(np.mean(own(30 + 2 * ks, 52)))  # 6.6
    pair = own(10 + ks, 52) - own(30 + 2 * ks, 52)
    assert r1.difference == pytest.approx(pair.mean())
    # a bootstrap mean of the within-pair differences cannot leave their range
    assert pair.min() <= r1.ci_low < pair.mean() < r1.ci_high <= pair.max()
    r5 = result.row("self_support", 5)
    assert r5.mean_int == pytest.approx(np.mean(own(10 + ks, 260)))
    assert r5.mean_ctl == pytest.approx(np.mean(own(30 + 2 * ks, 260)))
    assert result.row("employed", 1).mean_int == pytest.approx(32.5)
    assert result.row("employed", 1).mean_ctl == pytest.approx(0.0)
    assert result.row("no_wage", 1).mean_ctl == pytest.approx(6.6)
    assert result.row("cash_benefit", 1).mean_int == pytest.approx(np.mean(10 + ks))
    # before the index week: 0 in the year before, 13 in the 2 and 5 years before, in both groups
    assert result.row("self_support", 1, "before").mean_int == 0.0
    b2 = result.row("self_support", 2, "before")
    assert (b2.mean_int, b2.mean_ctl, b2.difference, b2.ci_low, b2.ci_high) == (13.0, 13.0, 0.0, 0.0, 0.0)
    assert result.windows == [1, 2, 5] and result.n_sets == 20 and not result.with_replacement
    assert result.bootstrap_seed == study.study.seed + 2


def test_stage_distribution_and_weekly_difference(hand_made):
    _, result = hand_made
    dist = result.distribution
    at0 = dist[(dist.week == 0) & (dist.group == "control")].set_index("band")
    assert at0.loc["cash_benefit", "persons"] == 20 and at0.loc["cash_benefit", "share"] == pytest.approx(1.0)
    # week 40: intervention all self-supported (20 of 20), controls from 30, 32, ..., 40: 6 of 20
    week = result.self_support_frame().set_index("week")
    assert week.loc[40, "share_int"] == pytest.approx(1.0) and week.loc[40, "share_ctl"] == pytest.approx(0.3)
    assert week.loc[40, "difference"] == pytest.approx(0.7) and week.loc[40, "shown"]
    # week 12: 3 intervention persons self-supported (k = 0, 1, 2): hidden; week 64: 2 controls not yet: hidden
    assert not week.loc[12, "shown"] and np.isnan(week.loc[12, "difference"])
    assert not week.loc[64, "shown"] and week.loc[68, "shown"] and week.loc[68, "difference"] == 0.0
    assert result.last_week == AFTER - 1 and result.weeks_before == 156
    assert dtraj.check_distribution(dist, 5, item="x").passed


def test_result_round_trip_and_load(hand_made, tmp_path):
    _, result = hand_made
    back = stage.TrajectoriesResult.from_json(result.to_json())
    assert back == result and back.distribution is None and back.windows_unmasked is None
    result.save(tmp_path)
    loaded = stage.TrajectoriesResult.load(None, tmp_path)
    assert loaded == result
    # a loaded result still gives the tables and sentences; the figures need a fresh run
    loaded_study = _Study()
    assert isinstance(report.weeks_table(loaded, loaded_study, "en"), Table)
    with pytest.raises(ValueError, match="needs the result of stages.trajectories.run"):
        report.states_figure(loaded, loaded_study, "en")


class _Study:
    """Just what the report functions read (language, investment horizon, the switch)."""

    class study:  # noqa: N801
        language = "en"

    class investment:  # noqa: N801
        horizon_years = 1

    class trajectories:  # noqa: N801
        enabled = True


def test_report_items_in_both_languages(hand_made):
    study, result = hand_made
    for lang in ("en", "da"):
        items = [report.states_figure(result, study, lang), report.self_support_figure(result, study, lang),
                 report.weeks_table(result, study, lang), report.balance_table(result, study, lang)]
        assert [type(i) for i in items] == [Figure, Figure, Table, Table]
        assert all(i.check.passed for i in items)
        assert isinstance(report.weeks_text(result, study, lang), Text)
    table = report.weeks_table(result, study, "en").frame
    first = table.iloc[0].to_dict()
    assert first == {"Weeks in": "Self-supported", "Window": "First year", "N (intervention / control)": "20 / 20",
                     "Intervention": "32.5", "Control": "6.6", "Difference, weeks": "25.9",
                     "95% CI": f"{result.row('self_support', 1).ci_low:.1f} to {result.row('self_support', 1).ci_high:.1f}"}
    da = report.weeks_table(result, study, "da").frame.iloc[0].tolist()
    assert da[:6] == ["Selvforsørget", "Første år", "20 / 20", "32,5", "6,6", "25,9"]


def test_investment_citation_states_the_weeks_the_investment_rests_on(hand_made):
    study, result = hand_made
    study.investment.horizon_years = 1
    r = result.row("self_support", 1)
    ci_en = f"{r.ci_low:.1f} to {r.ci_high:.1f}"
    assert report.investment_citation(result, study, "en").markdown == (
        "The savings rest on the weeks each group spent off benefits: over the first year after the index week the "
        f"programme group were self-supported 25.9 weeks more per person than their matched controls (95% CI {ci_en}; "
        "32.5 vs 6.6 weeks; [[ref:trajectories_weeks]]).")
    ci_da = f"{r.ci_low:.1f} til {r.ci_high:.1f}".replace(".", ",")
    assert report.investment_citation(result, study, "da").markdown == (
        "Besparelsen hviler på de uger, hver gruppe var uden ydelse: i det første år efter indeksugen var "
        f"indsatsgruppen selvforsørget 25,9 uger mere pr. person end de matchede kontrolpersoner (95 %-KI {ci_da}; "
        "32,5 mod 6,6 uger; [[ref:trajectories_weeks]]).")
    study.investment.horizon_years = 5
    assert "over the first 5 years after" in report.investment_citation(result, study, "en").markdown
    assert "i de første 5 år efter" in report.investment_citation(result, study, "da").markdown
    with pytest.raises(ValueError, match="run stages.trajectories.run"):
        report.investment_citation(None, study, "en")
    study.trajectories.enabled = False
    assert report.investment_citation(None, study, "en").markdown == (
        "The weeks in self-support behind the savings are not reported: the trajectories analysis is switched off "
        "in the study file (trajectories.enabled).")
    assert "slået fra i studiefilen" in report.investment_citation(None, study, "da").markdown


def test_switched_off_stage_is_skipped_by_the_runner(demo_study):
    study = demo_study.model_copy(deep=True)
    assert "04_trajectories.ipynb" not in skipped_notebooks(study)
    study.trajectories.enabled = False
    assert skipped_notebooks(study)["04_trajectories.ipynb"][0] == (
        "the study switches the trajectories analysis off (trajectories.enabled: false)")
    with pytest.raises(ValueError, match="trajectories.enabled is false"):
        stage.run(study, write=False)


def test_investment_citation_claims_no_direction_when_the_ci_covers_zero(demo_study):
    """Issue 18.5's rule for the sentence the investment section cites: direction only when the CI excludes 0."""
    from types import SimpleNamespace

    from helpers.report import trajectories as trajectories_report

    def result(low, high, diff):
        row = SimpleNamespace(n_int=50, n_ctl=50, difference=diff, ci_low=low, ci_high=high, mean_int=46.9,
                              mean_ctl=27.5)
        return SimpleNamespace(row=lambda *a: row, min_cell=5)

    unclear = trajectories_report.investment_citation(result(-7.0, 44.3, 19.4), demo_study, "en").markdown
    assert "did not differ clearly" in unclear and "difference 19.4 weeks, 95% CI -7.0 to 44.3" in unclear
    assert "weeks more per person" not in unclear
    more = trajectories_report.investment_citation(result(2.0, 44.3, 19.4), demo_study, "en").markdown
    assert "self-supported 19.4 weeks more per person" in more
    da = trajectories_report.investment_citation(result(-7.0, 44.3, 19.4), demo_study, "da").markdown
    assert "ingen klar forskel" in da
