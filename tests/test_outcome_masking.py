"""Issue 18, items 1 and 3 for the outcome tables: what a masked count still lets us say, and honest marks.

- A masked row gives the range of the difference, the widest CI and the least favourable p over
  every count the mask allows; that bound is computed from the published cells only, so it is the
  same for every masked count (it cannot give the count back).
- ``<5`` marks only counts of 1..4; a count hidden because N - n (or N) is small is ``x``; no
  ``<5`` in a percentage, difference or p-value column.
"""

from __future__ import annotations

import doctest
import itertools
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.disclosure import outcomes as dout
from helpers.report import outcome_claims
from helpers.report import outcomes as rout
from helpers.report import questionnaires as qreport
from helpers.report.plots.outcomes import forest_plot
from helpers.stages import outcomes as stage
from helpers.stats import outcome_bounds, outcome_comparison as oc
from helpers.stats import questionnaires as q

MIN_CELL = 5


def _pairs(int_values, ctl_values, outcome="employment", horizon="FU", weeks=52):
    """1:1 pairs: pair i has intervention value int_values[i] and control ctl_values[i] (NaN: not followed)."""
    rows = []
    for i, (a, b) in enumerate(zip(int_values, ctl_values, strict=True)):
        rows.append(dict(person_id=f"i{i}", group="intervention", matched_set=i, weight=1.0, value=a))
        rows.append(dict(person_id=f"c{i}", group="control", matched_set=i, weight=1.0, value=b))
    return pd.DataFrame(rows).assign(outcome=outcome, horizon=horizon, horizon_weeks=weeks)


def _demo_like(control_positives: int, order: str = "first"):
    """The demo at 2 years: intervention 18/48 (2 not followed), control ``control_positives``/50."""
    intervention = [1.0] * 18 + [0.0] * 30 + [np.nan] * 2
    control = [0.0] * 50
    idx = range(control_positives) if order == "first" else range(50 - control_positives, 50)  # last: pairs 48-49
    for k in idx:
        control[k] = 1.0
    return _pairs(intervention, control)


def _published(masked: pd.DataFrame) -> pd.DataFrame:
    """Everything of the masked rows that is published (estimates, bounds, shown counts): no unmasked column."""
    return masked.drop(columns=[c for c in ("odds_ratio",) if c in masked])


# --------------------------------------------------------------------------- item 1: the bound


def test_demo_bound_hand_worked():
    """18/48 vs 1..4 of 50: the difference runs from 18/48 - 4/50 = 29.5 to 18/48 - 1/50 = 35.5 points."""
    res = oc.outcome_table(_demo_like(3), primary="employment")
    m = dout.masked_results(res, MIN_CELL)
    r = m.iloc[0]
    assert bool(r["masked_ctl"]) and np.isnan(r["rd"]) and np.isnan(r["p_value"])
    assert (round(100 * r["bound_rd_low"], 1), round(100 * r["bound_rd_high"], 1)) == (29.5, 35.5)
    # the least favourable Fisher p is the one at 4 of 50 (scipy directly, not the project's wrapper)
    worst = max(stats.fisher_exact([[18, 30], [c, 50 - c]]).pvalue for c in range(1, 5))
    assert worst == pytest.approx(stats.fisher_exact([[18, 30], [4, 46]]).pvalue)
    assert r["bound_p_fisher"] == pytest.approx(worst) and r["bound_p_value"] == pytest.approx(worst)
    assert r["bound_p_value"] < 0.001
    # paired: complete pairs hold 18 intervention positives of 48; the control positives within them are
    # c - 2 .. c (2 controls are in incomplete pairs): paired difference (18 - a0) / 48 for a0 = 0 .. 4
    assert (r["bound_paired_low"], r["bound_paired_high"]) == (pytest.approx(14 / 48), pytest.approx(18 / 48))


@pytest.mark.parametrize("case", ["small_count", "small_complement", "small_total", "both"])
def test_bound_is_the_same_for_every_masked_count(case):
    """The published row (counts, marks, bounds) does not change with the masked count: it cannot reveal it."""
    if case == "small_count":  # control 1..4 of 50
        frames = {c: _pairs([1.0] * 20 + [0.0] * 30, [1.0] * c + [0.0] * (50 - c)) for c in range(1, 5)}
    elif case == "small_complement":  # control 46..49 of 50: the 1..4 without the outcome are small
        frames = {c: _pairs([1.0] * 20 + [0.0] * 30, [1.0] * c + [0.0] * (50 - c)) for c in range(46, 50)}
    elif case == "small_total":  # control N = 1..4 followed, any n = 0..N
        frames = {(n, big_n): _pairs([1.0] * 20 + [0.0] * 30,
                                     [1.0] * n + [0.0] * (big_n - n) + [np.nan] * (50 - big_n))
                  for big_n in range(1, 5) for n in range(big_n + 1)}
    else:  # both groups 1..4 of 60
        frames = {(a, b): _pairs([1.0] * a + [0.0] * (60 - a), [1.0] * b + [0.0] * (60 - b))
                  for a in range(1, 5) for b in range(1, 5)}
    published, tables = [], []
    for truth, po in frames.items():
        res = oc.outcome_table(po, primary="employment")
        m = dout.masked_results(res, MIN_CELL)
        published.append(_published(m).drop(columns=["excluded_ctl"]))
        tables.append((rout.format_outcome_table(res, MIN_CELL).frame, rout.format_comparison_table(m, MIN_CELL).frame))
        # the bound holds the true estimate, CI and p
        r, t = m.iloc[0], res.iloc[0]
        assert r["bound_rd_low"] - 1e-12 <= t["rd"] <= r["bound_rd_high"] + 1e-12, truth
        assert r["bound_rd_lower"] <= t["rd_lower"] + 1e-12 and t["rd_upper"] <= r["bound_rd_upper"] + 1e-12, truth
        assert t["p_fisher"] <= r["bound_p_fisher"] + 1e-12, truth
        assert r["bound_paired_low"] - 1e-12 <= t["paired_rd"] <= r["bound_paired_high"] + 1e-12, truth
        assert t["p_mcnemar"] <= r["bound_p_mcnemar"] + 1e-12, truth
    for other in published[1:]:
        pd.testing.assert_frame_equal(other, published[0])
    for shares, comparison in tables[1:]:
        pd.testing.assert_frame_equal(shares, tables[0][0])
        pd.testing.assert_frame_equal(comparison, tables[0][1])


def test_paired_bound_holds_wherever_the_controls_sit():
    """The paired bound covers every pairing: control positives in complete or in incomplete pairs."""
    m_first = dout.masked_results(oc.outcome_table(_demo_like(4, "first"), primary="employment"), MIN_CELL)
    m_last = dout.masked_results(oc.outcome_table(_demo_like(4, "last"), primary="employment"), MIN_CELL)
    pd.testing.assert_frame_equal(m_first[list(dout.BOUND_COLUMNS)], m_last[list(dout.BOUND_COLUMNS)])
    for po in (_demo_like(4, "first"), _demo_like(4, "last"), _demo_like(1, "last")):
        t = oc.outcome_table(po, primary="employment").iloc[0]
        assert m_first.loc[0, "bound_paired_lower"] <= t["paired_lower"]
        assert t["paired_upper"] <= m_first.loc[0, "bound_paired_upper"]
        assert t["p_mcnemar"] <= m_first.loc[0, "bound_p_mcnemar"]


def test_pair_tables_enumerate_the_margins():
    # intervention 2 of 3, control 1 of 3, 2 complete pairs: positives within pairs 1..2 and 0..1
    tables = outcome_bounds.pair_tables((2, 3), (1, 3), 2)
    assert sorted(tables) == sorted([(0, 1, 0, 1), (0, 1, 1, 0), (1, 0, 0, 1), (0, 2, 0, 0), (1, 1, 0, 0)])
    assert all(sum(t) == 2 for t in tables)
    assert outcome_bounds.pair_tables((1, 2), (1, 2), 3) == []  # more pairs than persons followed


def test_admissible_cells_use_only_what_is_published():
    assert dout.admissible_cells("small_count", np.nan, 50, 5) == [(1, 50), (2, 50), (3, 50), (4, 50)]
    assert dout.admissible_cells("small_complement", np.nan, 50, 5) == [(46, 50), (47, 50), (48, 50), (49, 50)]
    # N = 7: n = 5 or 6 have 7 - n small; n = 3 or 4 would show "<5" instead
    assert dout.admissible_cells("small_complement", np.nan, 7, 5) == [(5, 7), (6, 7)]
    assert len(dout.admissible_cells("small_total", np.nan, np.nan, 5)) == 2 + 3 + 4 + 5
    assert dout.admissible_cells("shown", 12, 50, 5) == [(12, 50)]
    assert dout.admissible_pairs(np.nan, 5) == [1, 2, 3, 4] and dout.admissible_pairs(48, 5) == [48]


def test_adjusted_p_bound_of_a_masked_secondary_row():
    po = pd.concat([
        _pairs([1.0] * 20 + [0.0] * 30, [1.0] * 5 + [0.0] * 45, outcome="employment"),
        _pairs([1.0] * 30 + [0.0] * 20, [1.0] * 10 + [0.0] * 40, outcome="praktik"),
        _pairs([1.0] * 20 + [0.0] * 30, [1.0] * 2 + [0.0] * 48, outcome="afklaret"),  # control masked
    ], ignore_index=True)
    res = oc.outcome_table(po, primary="employment", multiplicity="holm")
    m = dout.masked_results(res, MIN_CELL, multiplicity="holm")
    i = int(np.flatnonzero(res["outcome"] == "afklaret")[0])
    j = int(np.flatnonzero(res["outcome"] == "praktik")[0])
    worst = m.loc[i, "bound_p_value"]
    # Holm over two secondary tests: the masked row's adjusted p with its p at the largest value
    assert m.loc[i, "bound_p_adjusted"] == pytest.approx(min(1.0, max(2 * min(worst, res.loc[j, "p_value"]), worst)))
    assert m.loc[i, "bound_p_adjusted"] >= res.loc[i, "p_adjusted"]
    assert np.isnan(m.loc[j, "bound_p_adjusted"]) and np.isnan(m.loc[i, "p_adjusted"])


def test_shown_adjusted_p_does_not_depend_on_a_masked_count():
    """Holm's steps rank the masked rows' p too: the shown rows' adjusted p use the masked p at its worst."""
    def family(c):
        return pd.concat([
            _pairs([1.0] * 20 + [0.0] * 30, [1.0] * 10 + [0.0] * 40, outcome="employment"),
            _pairs([1.0] * 16 + [0.0] * 34, [1.0] * c + [0.0] * (50 - c), outcome="afklaret"),  # control c/50: masked
            _pairs([1.0] * 17 + [0.0] * 33, [1.0] * 4 + [0.0] * 46, outcome="praktik"),  # masked
            _pairs([1.0] * 17 + [0.0] * 33, [1.0] * 5 + [0.0] * 45, outcome="progress"),  # shown
        ], ignore_index=True)

    true_adjusted, published = {}, {}
    for c in range(1, 5):
        res = oc.outcome_table(family(c), primary="employment", multiplicity="holm")
        i = int(np.flatnonzero(res["outcome"] == "progress")[0])
        true_adjusted[c] = res.loc[i, "p_adjusted"]
        published[c] = dout.masked_results(res, MIN_CELL, multiplicity="holm").loc[i, "p_adjusted"]
    # computed from the true p-values, the shown row's adjusted p tells c = 4 apart from c = 1..3
    assert true_adjusted[3] == pytest.approx(true_adjusted[1]) and true_adjusted[4] != pytest.approx(true_adjusted[3])
    assert len({round(v, 12) for v in published.values()}) == 1  # published: the same for every c
    assert all(published[c] >= true_adjusted[c] - 1e-12 for c in published)  # and conservative


def test_weighted_design_has_no_bound_for_the_weighted_test():
    rows = []
    for s in range(30):
        rows.append(dict(person_id=f"i{s}", group="intervention", matched_set=s, weight=1.0, value=float(s < 12)))
        rows += [dict(person_id=f"c{s}{k}", group="control", matched_set=s, weight=0.5,
                      value=float(s < 3 and k == 0)) for k in range(2)]
    res = oc.outcome_table(pd.DataFrame(rows).assign(outcome="employment", horizon="FU", horizon_weeks=52),
                           primary="employment")
    m = dout.masked_results(res, MIN_CELL).iloc[0]
    assert res.iloc[0]["design"] == "weighted" and bool(m["masked_ctl"])
    assert np.isnan(m["bound_p_value"]) and np.isfinite(m["bound_p_fisher"])  # only the unweighted counts
    assert (round(100 * m["bound_rd_low"], 1), round(100 * m["bound_rd_high"], 1)) == (
        round(100 * (12 / 30 - 4 / 60), 1), round(100 * (12 / 30 - 1 / 60), 1))
    assert np.isnan(m["bound_paired_low"])


def test_result_keeps_the_bounds(demo_study):
    po = pd.concat([_demo_like(3).assign(horizon="Y2", horizon_weeks=156),
                    _pairs([1.0] * 14 + [0.0] * 36, [1.0] * 5 + [0.0] * 45)], ignore_index=True)
    res = oc.outcome_table(po, demo_study)
    result = stage.from_frames(demo_study, res, dout.masked_results(res, MIN_CELL, multiplicity="holm"))
    back = stage.OutcomesResult.from_json(result.to_json())
    assert back == result
    row = back.row("employment", "Y2")
    assert row.n_ctl == "<5" and row.rd is None
    assert round(100 * row.bound_rd_low, 1) == 29.5 and row.bound_p_fisher < 0.001
    # the headline test of 1:1 pairs is the pair-clustered t (issue 17.7): its own bound is the main test's
    assert row.bound_p_value == row.bound_p_weighted and row.bound_p_value < 0.002
    assert round(100 * row.bound_w_low, 1) == 29.5
    assert back.row("employment", "FU").bound_rd_low is None


# --------------------------------------------------------------------------- item 3: marks


def _grid():
    """Constructed rows covering every mark: n or N - n small, N small, 0, shown (N = 50 unless small)."""
    cases = [(n, 50) for n in (0, 1, 4, 5, 12, 45, 46, 49, 50)] + [(n, N) for N in (1, 3, 4) for n in (0, N)]
    cases += [(3, 6), (5, 7), (6, 7), (2, 8)]
    frames = []
    for k, ((n1, N1), (n0, N0)) in enumerate(itertools.product(cases[:9], cases)):
        iv = [1.0] * n1 + [0.0] * (N1 - n1) + [np.nan] * (60 - N1)
        cv = [1.0] * n0 + [0.0] * (N0 - n0) + [np.nan] * (60 - N0)
        frames.append(_pairs(iv, cv, outcome=f"o{k}"))
    return pd.concat(frames, ignore_index=True)


SMALL = re.compile(rf"<{MIN_CELL}(?![\d.])")


def test_no_cell_marked_small_holds_a_large_value():
    """Every "<5" in the outcome tables stands on a count of 1..4; "<5" never in a %, difference or p column."""
    res = oc.outcome_table(_grid(), primary="o0")
    shares = rout.format_outcome_table(res, MIN_CELL).frame
    seen = set()
    for i, r in res.iterrows():
        for tag, col in (("int", "Intervention"), ("ctl", "Control")):
            cell = shares.loc[i, col]
            n_text, rest = cell.split(" / ")
            total_text = rest.split(" ")[0]
            for text, value in ((n_text, r[f"n_{tag}"]), (total_text, r[f"N_{tag}"])):
                if SMALL.fullmatch(text):
                    assert 1 <= value < MIN_CELL, (cell, value)
                    seen.add("small")
                elif text == "x":
                    seen.add("x")
                else:
                    assert int(text) == value
            assert "%" not in cell or not SMALL.search(cell)  # a percentage is shown only with its counts
        assert not SMALL.search(str(shares.loc[i, "Pairs"])) or 1 <= r["n_pairs"] < MIN_CELL
    assert seen == {"small", "x"}
    comparison = rout.format_comparison_table(dout.masked_results(res, MIN_CELL), MIN_CELL).frame
    assert not comparison.map(lambda v: bool(SMALL.search(str(v)))).any().any()
    assert (comparison == "x").any().any() and comparison.map(lambda v: str(v).endswith("†")).any().any()


def test_questionnaire_marks():
    persons = [(f"i{k}", "intervention", k) for k in range(8)] + [(f"c{k}", "control", k) for k in range(3)]
    cohort = pd.DataFrame([(p, g, s, 1.0) for p, g, s in persons], columns=["person_id", "group", "matched_set",
                                                                            "weight"])
    rows = []
    for k, (p, _, _) in enumerate(persons):
        rows.append((p, "baseline", "self", "health", 3 + k % 3))
        rows.append((p, "followup", "self", "health", 5 + k % 4))
    res = q.questionnaire_results(pd.DataFrame(rows, columns=["person_id", "timepoint", "rater", "measure", "value"]),
                                  cohort, None)
    table = qreport.format_questionnaire_table(res, MIN_CELL).frame
    counts = qreport.format_questionnaire_counts(res, MIN_CELL).frame
    # means, changes and differences are not counts: masked with "x", never "<5"
    assert not table.map(lambda v: bool(SMALL.search(str(v)))).any().any()
    row = table.iloc[[i for i, m in enumerate(table["Measure"]) if m.startswith("Health (self)")][0]]
    assert row["Control: change (95% CI)"] == "x" and row["p"] == "x"
    assert row["Intervention: change (95% CI)"].startswith("+")
    crow = counts.iloc[[i for i, m in enumerate(counts["Measure"]) if m.startswith("Health (self)")][0]]
    assert crow["Control: analysed"] == "<5" and crow["Intervention: analysed"] == "8"
    for i, r in res.iterrows():  # every "<5" of the counts stands on 1..4
        for tag, group in (("int", "Intervention"), ("ctl", "Control")):
            baseline, followup = counts.loc[i, f"{group}: missing baseline / follow-up"].split(" / ")
            cells = {"n_cohort": counts.loc[i, f"{group}: N"], "missing_baseline": baseline,
                     "missing_followup": followup, "n_complete": counts.loc[i, f"{group}: analysed"]}
            for col, text in cells.items():
                if text == "<5":
                    assert 1 <= r[f"{col}_{tag}"] < MIN_CELL
                else:
                    assert int(text) == r[f"{col}_{tag}"]
    assert len(counts.columns) == 7 and len(table.columns) == 7  # was one table of 15 columns


# --------------------------------------------------------------------------- item 1: figure and sentences


def test_forest_plot_labels_masked_rows():
    po = pd.concat([_demo_like(3).assign(horizon="Y2"), _pairs([1.0] * 14 + [0.0] * 36, [1.0] * 5 + [0.0] * 45)],
                   ignore_index=True)
    res = oc.outcome_table(po, primary="employment")
    m = dout.masked_results(res, MIN_CELL).assign(outcome_label="Employed", horizon_label=["2 years", "End"])
    ax = forest_plot(m, language="en")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Employed – 2 years (counts masked)", "Employed – End"]  # rows top to bottom
    bars = [(p.get_x(), p.get_x() + p.get_width()) for p in ax.patches]
    assert (pytest.approx(100 * m.loc[0, "bound_rd_lower"]), pytest.approx(100 * m.loc[0, "bound_rd_upper"])) in [
        (pytest.approx(a), pytest.approx(b)) for a, b in bars]
    assert [t.get_text() for t in ax.get_legend().get_texts()][1].startswith("Counts masked: range")
    da = forest_plot(m, language="da")
    assert da.get_yticklabels()[0].get_text() == "Employed – 2 years (antal skjult)"


def test_bounds_are_not_taken_for_spreadsheet_formulas():
    from helpers.core.spreadsheet import is_formula_like

    assert not is_formula_like("-1.1…3.6 (-4.4 til 9.7)†") and not is_formula_like("-0.05 (-0.10 to 0.01)")
    assert is_formula_like("-cmd…") and is_formula_like("=1…2")


def test_doctests_of_the_new_modules():
    for module in (outcome_bounds, outcome_claims, dout):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_claim_from_the_interval():
    assert outcome_claims.claim(0.025, 0.328) == "above" and outcome_claims.claim(-0.3, -0.02) == "below"
    assert outcome_claims.claim(-0.002, 0.364) == "covers" and outcome_claims.claim(0.0, 0.2) == "covers"
    assert outcome_claims.claim(math.nan, 0.2) is None


def test_bounds_are_printed_rounded_outwards():
    """A bound printed to the nearest value could claim less than it is: 0.00106 is not "≤ 0.001"."""
    assert outcome_claims.format_p_at_most(0.00106) == "0.002" and outcome_claims.format_p_at_most(0.004) == "0.004"
    assert outcome_claims.format_p_at_most(0.0004) == "<0.001" and outcome_claims.format_p_at_most(0.3345) == "0.34"
    row = {"bound_rd_low": 0.295, "bound_rd_high": 0.355, "bound_rd_lower": 0.13118, "bound_rd_upper": 0.49733}
    assert outcome_claims.table_bound(row, outcome_claims.BOUND_RD, " to ") == "29.5…35.5 (13.1 to 49.8)†"
    assert outcome_claims.bound_points(row, outcome_claims.BOUND_RD, "da") == ("29,5", "35,5", "13,1", "49,8")
