"""Issue 18 in the survival stage: truthful marks, figures that agree with the tables, claims from the CI.

The study below is made by hand to have the demo's shape (50 + 50 persons, follow-up to
about week 470, the fixed weeks 26, 52, 104, 260): in the intervention group 27 reach
lasting self-support, 10 get disability pension, 1 exits and 12 are censored, so the events
table must hide the single exit and one more count of the row (the group size is shown).
Before issue 18 that second count (10 disability pensions) was printed as "<5", the
cumulative-incidence table printed "<5" in its percentage columns, and the coarsened curves
lagged the printed values (1 - KM at week 52 shown as the week-48 step, the median crossed
at the last step instead of the printed week).
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from helpers.disclosure import MASK, SECONDARY_MASK, km_step_times
from helpers.disclosure import survival as sd
from helpers.report import summary
from helpers.report import survival as survival_report
from helpers.stages import survival as survival_stage
from helpers.stages.survival import SurvivalResult
from helpers.stats import survival as sv

matplotlib.use("Agg")

LESS = MASK.format(min_cell=5)

#: Hand-made durations (weeks) per group and event type; 50 persons per group.
DESIGN = {
    "control": {
        1: [3, 19, 22, 25, 31, 40, 47, 55, 58, 110, 120, 127, 185, 205, 223, 250, 305, 330, 360, 410, 433],
        2: [9, 43, 61, 86, 95, 129, 137, 187, 190, 270, 276, 329, 348, 391],
        3: [237, 380, 431],
        0: [446, 448, 454, 457, 460, 461, 463, 464, 466, 467, 468, 470],
    },
    "intervention": {
        1: [1, 2, 4, 5, 7, 14, 17, 19, 20, 25, 39, 58, 73, 79, 87, 150, 153, 181, 209, 219, 232, 266, 277, 294,
            319, 392, 410],
        2: [3, 6, 10, 42, 45, 47, 61, 217, 291, 401],
        3: [118],
        0: [449, 450, 451, 452, 455, 458, 459, 461, 462, 466, 467, 469],
    },
}


def hand_made_tte(design=DESIGN) -> pd.DataFrame:
    rows = []
    for g, by_event in design.items():
        i = 0
        for event, durations in by_event.items():
            for d in durations:
                rows.append({"person_id": f"{g[0]}{i}", "group": g, "matched_set": i, "weight": 1.0,
                             "duration": d, "event": event})
                i += 1
    return pd.DataFrame(rows)


def _study(demo_study, **survival):
    study = demo_study.model_copy(deep=True)
    for key, value in {"bootstrap_draws": 0, "times": [26, 52, 104, 260], **survival}.items():
        setattr(study.survival, key, value)
    return study


@pytest.fixture(scope="module")
def result(demo_study):
    study = _study(demo_study)
    return study, survival_stage.summarise(sv.analyse(hand_made_tte(), study), study)


def test_hand_made_study_has_the_intended_counts(result):
    _, res = result
    ev = res.analysis.events.set_index("group")
    assert ev.loc["intervention", ["n", "self_support", "disability_pension", "exit", "censored"]].tolist() == \
        [50, 27, 10, 1, 12]
    assert ev.loc["control", ["n", "self_support", "disability_pension", "exit", "censored"]].tolist() == \
        [50, 21, 14, 3, 12]


# ------------------------------------------------------------------ item 3: marks
def test_events_table_marks_complementary_cells_x_not_small(result):
    study, res = result
    frame = survival_report.events_table(res, study, "en").frame.set_index("Group")
    # intervention: 27 + "<5" (1 exit) + 12 = 50 leaves 11; the second hidden cell is the 10 disability
    # pensions, shown "x" (before issue 18: "<5")
    assert frame.loc["Intervention"].tolist() == [50, 27, SECONDARY_MASK, LESS, 12]
    # control: 3 exits "<5"; the smallest other count (12 censored) hides them, shown "x" (before: "<5")
    assert frame.loc["Control"].tolist() == [50, 21, 14, LESS, SECONDARY_MASK]


def test_no_cell_marked_below_min_cell_holds_min_cell_or_more(result):
    """For each survival table built from unmasked inputs: "<5" only on a count that is 1..4."""
    study, res = result
    a = res.analysis
    events = a.events.set_index("group")
    kinds = {"Lasting self-support": "self_support", "Disability pension": "disability_pension",
             "Death, emigration or state pension": "exit", "Censored": "censored", "N": "n"}
    item = survival_report.events_table(res, study, "en")
    for _, row in item.frame.iterrows():
        group = row["Group"].lower()
        for col, kind in kinds.items():
            if row[col] == LESS:
                assert 0 < events.loc[group, kind] < 5, (col, group)
    cox = survival_report.cox_table(res, study, "en").frame
    for col, true in (("Events", a.cox.n_events), ("N", a.cox.n)):
        assert all(v != LESS or 0 < true < 5 for v in cox[col])
    # tables of shares, intervals, p-values and medians hold no count: never "<5"
    for fn in (survival_report.fixed_times_table, survival_report.cif_table, survival_report.medians_table,
               survival_report.rmst_table, survival_report.ph_table):
        for language in ("en", "da"):
            frame = fn(res, study, language).frame
            assert not (frame.astype(str) == LESS).any().any(), fn.__name__


def test_fixed_weeks_table_hides_shares_with_x_per_group(result):
    study, res = result
    frame = survival_report.fixed_times_table(res, study, "en").frame
    # Kaplan-Meier by hand. Intervention: events at 1, 2 (50, 49 at risk), disability pension at 3
    # censors, events at 4, 5 (47, 46), censored at 6, event 7 (44), censored 10, events 14, 17, 19,
    # 20, 25 (42..38 at risk); then 39 (37 at risk) before week 52. Control by 52: 3 (50), censored 9,
    # 19, 22, 25, 31, 40 (48..44), censored 43, 47 (42).
    s26 = (49 / 50) * (48 / 49) * (46 / 47) * (45 / 46) * (43 / 44) * (37 / 42)
    s52 = s26 * 36 / 37
    c52 = (49 / 50) * (43 / 48) * (41 / 42)
    assert [f"{100 * (1 - s26):.1f}", f"{100 * (1 - s52):.1f}", f"{100 * (1 - c52):.1f}"] == ["20.9", "23.0", "14.3"]
    # week 26: 4 control events (hidden, "x"), 10 intervention events (shown, as in the CIF table)
    assert frame.iloc[0].tolist() == [26, SECONDARY_MASK, "20.9", SECONDARY_MASK, SECONDARY_MASK, SECONDARY_MASK]
    assert frame.iloc[1].tolist()[:4] == [52, "14.3", "23.0", f"{100 * (c52 - s52):.1f}".lstrip("-")]
    cif = survival_report.cif_table(res, study, "en").frame
    km = cif[(cif["Event"] == "Lasting self-support") & (cif["Group"] == "Intervention")]
    assert km["1 - Kaplan-Meier, %"].tolist()[:2] == ["20.9", "23.0"]  # the same shares as above


def test_cif_table_cannot_pin_a_count_the_events_table_hides(demo_study):
    # All 10 disability pensions of the intervention group before week 52: the events table hides them
    # ("x", to protect the single exit), but a printed 20% at week 52, 104 or 260 would tell a reader
    # that at least 10 had it; with 11 = 50 - 27 - 12 hidden in all and the exit at least 1, the exit
    # would be exactly 1 and the disability pensions exactly 10. So those three shares are hidden;
    # week 26 (5 by then) stays: it leaves 5..10 disability pensions and 1..4 exits.
    design = {g: dict(v) for g, v in DESIGN.items()}
    design["intervention"][2] = [3, 6, 10, 14, 21, 30, 33, 36, 39, 44]
    study = _study(demo_study)
    res = survival_stage.summarise(sv.analyse(hand_made_tte(design), study), study)
    events = survival_report.events_table(res, study, "en").frame.set_index("Group")
    assert events.loc["Intervention", "Disability pension"] == SECONDARY_MASK
    assert events.loc["Intervention", "Death, emigration or state pension"] == LESS
    pub = sd.published_estimates(res.analysis.tte, res.analysis.times, res.analysis.events, 5)
    dp = pub[(pub["group"] == "intervention") & (pub["event"] == 2)].set_index("time")
    assert dp["events"].tolist() == [5, 10, 10, 10]
    assert dp["shown"].tolist() == [True, False, False, False]
    assert dp["reason"].tolist() == ["", "derivable", "derivable", "derivable"]
    cif = survival_report.cif_table(res, study, "en").frame
    rows = cif[(cif["Event"] == "Disability pension") & (cif["Group"] == "Intervention")]
    assert rows["Cumulative incidence, %"].tolist() == ["10.0", SECONDARY_MASK, SECONDARY_MASK, SECONDARY_MASK]
    # and the figure draws none of the hidden values: after week 26 the curve stays at 10%
    curve, check = survival_report.cif_curves_shown(res)
    assert check.passed
    c = curve[(curve["group"] == "intervention") & (curve["event"] == 2)]
    assert sd.value_at(c, "intervention", 52) == pytest.approx(0.10)
    assert sd.value_at(c, "intervention", 260) == pytest.approx(0.10)


def test_demo_shape_keeps_printed_disability_pension_shares(result):
    # with the demo's spread (6 by week 52, 8 by 260, 10 in all) the printed shares leave the hidden
    # counts open: disability pension 8..10, exit 1..3; nothing more is hidden
    _, res = result
    pub = sd.published_estimates(res.analysis.tte, res.analysis.times, res.analysis.events, 5)
    assert (pub["reason"] != "derivable").all()


# ------------------------------------------------------------------ item 4: figures agree with tables
def _pct(x):
    return f"{100 * x:.1f}"


def pre_issue_18_value(tte, group, event, t, estimate, *, grid=4, min_cell=5):
    """The value the curve before issue 18 showed at week ``t``: steps from ``km_step_times`` on 4-week bins.

    (Groups of bins with >= 5 events; a last smaller group moved the step before it to its end.)
    """
    sub = tte[tte["group"] == group]
    d, e = sub["duration"].to_numpy(dtype=float), sub["event"].to_numpy() == event
    end = sv.last_grid_time_at_risk(d, min_cell, grid)
    bins = np.arange(grid, end + grid / 2, grid)
    steps = km_step_times(bins, [int(((d > b - grid) & (d <= b) & e).sum()) for b in bins], min_cell)
    before = [s for s in steps if s <= t]
    return float(estimate([before[-1]])[0]) if before else 0.0


def test_km_curve_passes_through_every_printed_share_and_the_median(result):
    study, res = result
    curve, check = survival_report.km_curve_shown(res)
    assert check.passed, check.detail
    fixed = survival_report.fixed_times_table(res, study, "en").frame
    for g, col in (("control", "Control, %"), ("intervention", "Intervention, %")):
        for t, printed in zip(fixed["Weeks after index"], fixed[col], strict=True):
            if printed != SECONDARY_MASK:
                assert _pct(sd.value_at(curve, g, t)) == printed, (g, t)
    medians = survival_report.medians_table(res, study, "en").frame.set_index("Group")
    col = "Median weeks (rounded up to 4 weeks)"
    for g in ("control", "intervention"):
        assert sd.first_time_at_or_above(curve, g, 0.5) == float(medians.loc[g.capitalize(), col])
    # the curve before issue 18 (no anchors) disagreed: it lagged the printed 23.0% at week 52 for the
    # intervention group, and it crossed 50% only after week 400 for a printed median of 268
    a = res.analysis

    def km(times):
        return sv.km_at({"intervention": a.km["intervention"]}, times)["cumulative"].to_numpy()

    assert _pct(pre_issue_18_value(a.tte, "intervention", 1, 52, km)) != "23.0"
    old_steps = [t for t in range(4, 465, 4) if pre_issue_18_value(a.tte, "intervention", 1, t, km) >= 0.5]
    assert old_steps[0] > 400 and medians.loc["Intervention", col] == "268"


def test_km_curve_steps_still_reflect_min_cell_events_between_grid_steps(result):
    _, res = result
    a = res.analysis
    curve, _ = survival_report.km_curve_shown(res)
    for g, c in curve.groupby("group"):
        sub = a.tte[a.tte["group"] == g]
        steps = c[c["kind"] == "step"]
        assert (steps["time"] % 4 == 0).all()  # grid steps only on the grid
        prev = 0.0
        for _, r in c[c["kind"].isin(["step", "anchor"])].iterrows():
            n = ((sub["duration"] > prev) & (sub["duration"] <= r["time"]) & (sub["event"] == 1)).sum()
            if r["kind"] == "step":
                assert n >= 5
            prev = r["time"]
        # every shown value is the Kaplan-Meier estimate at its week
        shown = c[c["kind"].isin(["step", "anchor"])]
        est = sv.km_at({g: a.km[g]}, list(shown["time"]))["cumulative"].to_numpy()
        np.testing.assert_allclose(shown["estimate"].to_numpy(), est)


def test_cif_curves_pass_through_every_printed_incidence(result):
    study, res = result
    curve, check = survival_report.cif_curves_shown(res)
    assert check.passed, check.detail
    names = {"Lasting self-support": 1, "Disability pension": 2, "Death, emigration or state pension": 3}
    table = survival_report.cif_table(res, study, "en").frame
    checked = 0
    for _, r in table.iterrows():
        if r["Cumulative incidence, %"] != SECONDARY_MASK:
            c = curve[curve["event"] == names[r["Event"]]]
            assert _pct(sd.value_at(c, r["Group"].lower(), r["Weeks"])) == r["Cumulative incidence, %"], tuple(r)
            checked += 1
    assert checked >= 14
    # intervention disability pension: 12.0% at week 52 in the table; the curve before issue 18 stayed at
    # 0 until week 404 (its only step had been moved to the end)
    dp = curve[(curve["event"] == 2)]
    assert _pct(sd.value_at(dp, "intervention", 52)) == "12.0"
    aj = res.analysis.cif[("intervention", 2)]
    assert pre_issue_18_value(res.analysis.tte, "intervention", 2, 52,
                              lambda times: sv.cif_at({("intervention", 2): aj}, times)["cif"].to_numpy()) == 0.0


def test_axis_ticks_at_every_follow_up_point_and_risk_table_to_the_plotted_range(result):
    study, res = result
    fig = survival_report.km_figure(res, study, "en").figure
    ax, tab = fig.axes[0], fig.axes[1]
    ticks = [float(t) for t in ax.get_xticks()]
    # follow-up points 26, 52, 104, 260, then yearly; the curves reach week 464 (5 still at risk)
    assert ticks == [0, 26, 52, 104, 260, 312, 364, 416]
    assert sorted({round(t.get_position()[0], 6) for t in tab.texts}) == ticks  # a risk column at every tick
    assert sv.plotted_range(res.analysis.tte, 5, 4) == 464.0
    cif = survival_report.cif_figure(res, study, "en")
    for axis in cif.figure.axes:
        assert [float(t) for t in axis.get_xticks()] == ticks
    matplotlib.pyplot.close("all")


def test_cif_figure_has_no_empty_panel_and_one_line_style(result):
    study, res = result
    for language, title, note in (
            ("en", ["Lasting self-support", "Disability pension"],
             "Not drawn: Death, emigration or state pension (fewer than 5 events in each group, so the curves "
             "never leave 0)."),
            ("da", ["Varig selvforsørgelse", "Førtidspension"],
             "Ikke tegnet: Død, udvandring eller folkepension (færre end 5 hændelser i hver gruppe, så kurverne "
             "forbliver på 0).")):
        item = survival_report.cif_figure(res, study, language)
        axes = item.figure.axes
        assert [a.get_title() for a in axes] == title  # 1 and 3 exits: no empty third panel
        assert item.note == note
        styles = {line.get_linestyle() for a in axes for line in a.get_lines()}
        assert styles == {"-"}  # the event is the panel's title; the line style no longer varies unexplained
        matplotlib.pyplot.close("all")


def test_step_plan_merges_a_small_remainder_into_the_anchor():
    # events at weeks 1..5 (5), 9, 10 (2) and an anchor at 12: the grid step at 8 would leave 2 events
    # for the anchor's step, so it is merged: one step at 12 with 7 events
    d = np.array([1, 2, 3, 4, 5, 9, 10] + [40] * 10)
    e = np.array([True] * 7 + [False] * 10)
    plan = sd.step_plan(d, e, grid=4, min_cell=5, anchors=[12])
    assert plan.to_dict("records") == [{"time": 12.0, "events": 7, "kind": "anchor"},
                                       {"time": 40.0, "events": 0, "kind": "end"}]
    # without the anchor: one grid step at 8 (5 events); the 2 after it are not drawn
    plan = sd.step_plan(d, e, grid=4, min_cell=5)
    assert plan.to_dict("records") == [{"time": 8.0, "events": 5, "kind": "step"},
                                       {"time": 40.0, "events": 2, "kind": "end"}]


# ------------------------------------------------------------------ item 5: wording from the CI
def _res(**fields) -> SurvivalResult:
    base = dict(hr=1.82, hr_ci_low=0.87, hr_ci_high=3.79, hr_p=0.111, cox_method="strata", cox_note="",
                rmst_difference_weeks=28.9, rmst_difference_ci_low=-11.0, rmst_difference_ci_high=66.3,
                rmst_horizon_weeks=260.0, cif_weeks_after_difference=None)
    return SurvivalResult.model_construct(**{**base, **fields})


HR_CASES = {
    "covers": (dict(), (
        "There is no clear difference between the groups in the rate of reaching lasting self-support (hazard "
        "ratio 1.82, 95% CI 0.87 to 3.79, p = 0.111; Cox model stratified by matched set): the data are "
        "compatible with a rate in the intervention group from 0.87 to 3.79 times that of the control group.",
        "Der er ingen klar forskel mellem grupperne i raten af overgang til varig selvforsørgelse (hazard ratio "
        "1,82, 95 %-KI 0,87 til 3,79, p = 0,111; Cox-model stratificeret på matchet sæt): data er forenelige med en "
        "rate i indsatsgruppen fra 0,87 til 3,79 gange kontrolgruppens.")),
    "above": (dict(hr=2.31, hr_ci_low=1.2, hr_ci_high=4.45, hr_p=0.012), (
        "The rate of reaching lasting self-support was 2.31 times as high in the intervention group as in the "
        "control group (hazard ratio 2.31, 95% CI 1.20 to 4.45, p = 0.012; Cox model stratified by matched set).",
        "Raten af overgang til varig selvforsørgelse var 2,31 gange så høj i indsatsgruppen som i kontrolgruppen "
        "(hazard ratio 2,31, 95 %-KI 1,20 til 4,45, p = 0,012; Cox-model stratificeret på matchet sæt).")),
    "below": (dict(hr=0.5, hr_ci_low=0.3, hr_ci_high=0.83, hr_p=0.007, cox_method="cluster"), (
        "The rate of reaching lasting self-support was lower in the intervention group than in the control "
        "group, 0.50 times the control group's rate (hazard ratio 0.50, 95% CI 0.30 to 0.83, p = 0.007; Cox model "
        "with matched-set clustered robust errors).",
        "Raten af overgang til varig selvforsørgelse var lavere i indsatsgruppen end i kontrolgruppen, 0,50 gange "
        "kontrolgruppens rate (hazard ratio 0,50, 95 %-KI 0,30 til 0,83, p = 0,007; Cox-model med robuste fejl "
        "klynget på matchet sæt).")),
}


@pytest.mark.parametrize("case", sorted(HR_CASES))
def test_hazard_ratio_sentence_follows_the_ci(demo_study, case):
    fields, (en, da) = HR_CASES[case]
    res = _res(**fields)
    assert survival_report.hr_text(res, demo_study, "en").markdown == en
    assert survival_report.hr_text(res, demo_study, "da").markdown == da


RMST_TAIL_EN = (" Weeks after first reaching lasting self-support are not the same as self-supported weeks: people "
                "can fall back onto benefits.")
RMST_TAIL_DA = (" Uger efter første varige selvforsørgelse er ikke det samme som selvforsørgede uger: man kan falde "
                "tilbage på ydelse.")
RMST_CASES = {
    # the demo's numbers: 28.9 (-11.0 to 66.3) used to read "28.9 weeks earlier"
    "covers": (dict(), (
        "Within the first 260 weeks there is no clear difference between the groups in the time to lasting "
        "self-support: the difference in weeks after reaching it (intervention minus control) is 28.9, 95% CI "
        "-11.0 to 66.3." + RMST_TAIL_EN,
        "Inden for de første 260 uger er der ingen klar forskel mellem grupperne i tiden til varig "
        "selvforsørgelse: forskellen i uger efter at have nået den (indsats minus kontrol) er 28,9, 95 %-KI -11,0 "
        "til 66,3." + RMST_TAIL_DA)),
    "above": (dict(rmst_difference_ci_low=3.2, cif_weeks_after_difference=24.7), (
        "Within the first 260 weeks the intervention group reached lasting self-support on average 28.9 weeks "
        "earlier than the control group (difference in weeks after reaching it 28.9, 95% CI 3.2 to 66.3); when "
        "competing events are not treated as censoring (Aalen-Johansen) the difference is 24.7 weeks."
        + RMST_TAIL_EN,
        "Inden for de første 260 uger nåede indsatsgruppen i gennemsnit varig selvforsørgelse 28,9 uger tidligere "
        "end kontrolgruppen (forskel 28,9 uger efter at have nået den, 95 %-KI 3,2 til 66,3); når konkurrerende "
        "hændelser ikke censureres (Aalen-Johansen), er forskellen 24,7 uger." + RMST_TAIL_DA)),
    "below": (dict(rmst_difference_weeks=-12.5, rmst_difference_ci_low=-20.0, rmst_difference_ci_high=-4.0), (
        "Within the first 260 weeks the intervention group reached lasting self-support on average 12.5 weeks "
        "later than the control group (difference in weeks after reaching it -12.5, 95% CI -20.0 to -4.0)."
        + RMST_TAIL_EN,
        "Inden for de første 260 uger nåede indsatsgruppen i gennemsnit varig selvforsørgelse 12,5 uger senere "
        "end kontrolgruppen (forskel -12,5 uger efter at have nået den, 95 %-KI -20,0 til -4,0)." + RMST_TAIL_DA)),
}


@pytest.mark.parametrize("case", sorted(RMST_CASES))
def test_restricted_mean_sentence_follows_the_ci(demo_study, case):
    fields, (en, da) = RMST_CASES[case]
    res = _res(**fields)
    assert survival_report.rmst_text(res, demo_study, "en").markdown == en
    assert survival_report.rmst_text(res, demo_study, "da").markdown == da


SUMMARY_CASES = {
    "both covers": (dict(), (
        "**Time to lasting self-support** (4 consecutive weeks without public benefits). There was no clear "
        "difference between the groups in how fast they reached it: hazard ratio 1.82 (95% CI 0.87 to 3.79; "
        "p = 0.11). Within 260 weeks, the weeks after reaching lasting self-support did not differ clearly "
        "between the groups: 28.9 weeks, programme group minus controls (95% CI -11.0 to 66.3).",
        "**Tid til varig selvforsørgelse** (4 sammenhængende uger uden offentlig ydelse). Der var ingen klar "
        "forskel mellem grupperne i, hvor hurtigt de nåede den: hazard ratio 1,82 (95 %-KI 0,87 til 3,79; "
        "p = 0,11). Inden for 260 uger var der ingen klar forskel mellem grupperne i antal uger efter at være "
        "blevet varigt selvforsørgende: 28,9 uger, indsatsgruppen minus kontrolgruppen (95 %-KI -11,0 til 66,3).")),
    "both above": (dict(hr=2.31, hr_ci_low=1.2, hr_ci_high=4.45, hr_p=0.012, rmst_difference_weeks=21.5,
                        rmst_difference_ci_low=3.25, rmst_difference_ci_high=40.0), (
        "**Time to lasting self-support** (4 consecutive weeks without public benefits). The programme group "
        "reached it faster than the controls: hazard ratio 2.31 (95% CI 1.20 to 4.45; p = 0.012). Within 260 "
        "weeks, the programme group spent on average 21.5 more weeks after reaching lasting self-support than "
        "the controls (95% CI 3.2 to 40.0).",
        "**Tid til varig selvforsørgelse** (4 sammenhængende uger uden offentlig ydelse). Indsatsgruppen nåede "
        "den hurtigere end kontrolgruppen: hazard ratio 2,31 (95 %-KI 1,20 til 4,45; p = 0,012). Inden for 260 "
        "uger havde indsatsgruppen i gennemsnit 21,5 flere uger efter at være blevet varigt selvforsørgende end "
        "kontrolgruppen (95 %-KI 3,2 til 40,0).")),
    "both below": (dict(hr=0.5, hr_ci_low=0.3, hr_ci_high=0.83, hr_p=0.007, rmst_difference_weeks=-12.5,
                        rmst_difference_ci_low=-20.0, rmst_difference_ci_high=-4.0), (
        "**Time to lasting self-support** (4 consecutive weeks without public benefits). The programme group "
        "reached it slower than the controls: hazard ratio 0.50 (95% CI 0.30 to 0.83; p = 0.007). Within 260 "
        "weeks, the programme group spent on average 12.5 fewer weeks after reaching lasting self-support than "
        "the controls (95% CI -20.0 to -4.0).",
        "**Tid til varig selvforsørgelse** (4 sammenhængende uger uden offentlig ydelse). Indsatsgruppen nåede "
        "den langsommere end kontrolgruppen: hazard ratio 0,50 (95 %-KI 0,30 til 0,83; p = 0,007). Inden for 260 "
        "uger havde indsatsgruppen i gennemsnit 12,5 færre uger efter at være blevet varigt selvforsørgende end "
        "kontrolgruppen (95 %-KI -20,0 til -4,0).")),
}


@pytest.mark.parametrize("case", sorted(SUMMARY_CASES))
def test_summary_survival_paragraph_follows_the_ci(demo_study, case):
    fields, (en, da) = SUMMARY_CASES[case]
    res = _res(**fields)
    assert summary.survival(demo_study, "en", res) == en
    assert summary.survival(demo_study, "da", res) == da


def test_ci_side_treats_a_missing_limit_as_covering_the_null():
    assert survival_report.ci_side(None, 3.0, 1.0) == "covers"
    assert survival_report.ci_side(float("nan"), 3.0, 1.0) == "covers"
    assert survival_report.ci_side(1.0, 3.0, 1.0) == "covers"  # a limit on the null is not "above"
    assert survival_report.ci_side(1.01, 3.0, 1.0) == "above"
