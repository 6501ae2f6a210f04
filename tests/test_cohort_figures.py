"""Cohort figures (issue 18.8): love plot order and labels, follow-up boxes of the flow diagram, PS overlap."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from test_cohort import W, _register, _study

from helpers.cohort import build as cohort
from helpers.cohort import register
from helpers.cohort.balance import compare_balance, overlap_histogram
from helpers.cohort.follow_up import followed_by_horizon
from helpers.config.schema.outcomes import Horizon
from helpers.disclosure.attrition import mask_attrition
from helpers.report import cohort as cohort_report
from helpers.report.plots import cohort as pc


def _balance() -> pd.DataFrame:
    """20 treated vs 20 pool persons; |SMD| before by construction (treated SDs, sqrt(p (1 - p)) for levels):

    age 1.0; kontanthjælp (0.5 - 0.8) / 0.5 = -0.6; uddannelseshjælp 0.2 / sqrt(0.21) = 0.436;
    sex (female 50% vs 30%) 0.4; ressourceforløb 0.1 / 0.4 = 0.25; weeks employed 0.
    """
    t_age = np.tile([30.0, 40.0, 50.0, 60.0], 5)
    sd = np.std(t_age, ddof=1)
    frame = pd.DataFrame({
        "_treat": [1] * 20 + [0] * 20,
        "age": np.r_[t_age, t_age - sd],                                    # SMD before = 1.0
        "sex": [1, 2] * 10 + [1] * 14 + [2] * 6,                           # female 50% vs 30%: SMD 0.4
        "benefit_subcategory": (["kontanthjaelp"] * 10 + ["uddannelseshjaelp"] * 6 + ["ressourceforloeb"] * 4
                                + ["kontanthjaelp"] * 16 + ["uddannelseshjaelp"] * 2 + ["ressourceforloeb"] * 2),
        "weeks_employed_156": np.r_[t_age, t_age],                          # SMD 0
    })
    after = frame.copy()
    after.loc[after["_treat"] == 0, ["age", "sex", "benefit_subcategory"]] = frame.loc[
        frame["_treat"] == 1, ["age", "sex", "benefit_subcategory"]].to_numpy()
    return compare_balance(frame, after, ["weeks_employed_156", "sex", "benefit_subcategory", "age"], "_treat",
                           categorical=["sex"])


def test_love_plot_sorted_by_smd_before_one_row_per_binary_and_danish_labels():
    love, _ = cohort_report.love_data(_balance(), "da", 1)
    assert love["smd_before"].abs().round(3).tolist() == [1.0, 0.6, 0.436, 0.4, 0.25, 0.0]
    assert love["label"].tolist() == [
        "Alder, år",
        "Ydelse (ugen før indeks): Kontanthjælp",
        "Ydelse (ugen før indeks): Uddannelseshjælp",
        "Køn: Kvinde",                                  # sex once (its two levels are one comparison)
        "Ydelse (ugen før indeks): Ressourceforløb",
        "Uger med beskæftigelse, seneste 156"]
    ax = pc.love_plot(love, language="da")
    ticks = {t.get_position()[1]: t.get_text() for t in ax.get_yticklabels()}
    # top to bottom: the largest imbalance before matching first
    assert [ticks[y] for y in sorted(ticks, reverse=True)] == love["label"].tolist()
    plt.close(ax.figure)
    en, _ = cohort_report.love_data(_balance(), "en", 1)
    assert "Benefit (week before index): Education benefit (uddannelseshjælp)" in en["label"].tolist()


def test_table_one_uses_the_catalogue_benefit_labels(demo_study):
    persons = pd.DataFrame({"group": ["intervention", "control"] * 10,
                            "benefit_subcategory": ["uddannelseshjaelp", "kontanthjaelp"] * 10})
    labels = cohort_report._level_labels(persons, ["benefit_subcategory"], "da")
    assert labels["benefit_subcategory"] == {"uddannelseshjaelp": "Uddannelseshjælp", "kontanthjaelp": "Kontanthjælp"}


HORIZONS = [Horizon(key="H26", weeks=26, label={"en": "half a year", "da": "et halvt år"}),
            Horizon(key="H104", weeks=104, label={"en": "2 years", "da": "2 år"}),
            Horizon(key="H109", weeks=109, label={"en": "109 weeks", "da": "109 uger"})]


def test_followed_by_horizon_on_the_hand_register(demo_study):
    """Data end at column C + 110; C1 dies 20 weeks after W; T2 and C8 are indexed at W + 2."""
    study = _study(demo_study)
    persons, residence, weekly, monthly, screening = _register()
    reg = register.prepare_register(study, persons, residence, weekly, monthly)
    coh = pd.DataFrame({"person_id": ["T1", "T2", "C1", "C8"], "group": ["intervention"] * 2 + ["control"] * 2,
                        "index_week": [W, W + 2, W, W + 2]})
    fu = followed_by_horizon(reg, coh, HORIZONS).set_index(["horizon", "group"])
    assert fu.loc[("H26", "intervention"), ["n_persons", "n_followed"]].tolist() == [2, 2]
    assert fu.loc[("H26", "control"), ["n_followed", "n_exit", "n_data_end"]].tolist() == [1, 1, 0]   # C1 died
    assert fu.loc[("H104", "control"), "n_followed"] == 1
    # W + 2 + 109 is past the data: T2 and C8 are not followed that far
    assert fu.loc[("H109", "intervention"), ["n_followed", "n_data_end"]].tolist() == [1, 1]
    assert fu.loc[("H109", "control"), ["n_followed", "n_exit", "n_data_end"]].tolist() == [0, 1, 1]


def test_flow_diagram_gets_one_follow_up_box_per_horizon_and_group(demo_study):
    study = _study(demo_study)
    study = study.model_copy(update={"outcomes": study.outcomes.model_copy(update={"horizons": HORIZONS})})
    res = cohort.build_cohort(study, *_register())
    masked, _ = mask_attrition(res.attrition, 1)
    boxes = cohort_report.flow_boxes(masked, "en", wrap=400, follow_up=res.follow_up,
                                     horizon_labels={h.key: h.label("en") for h in HORIZONS}, min_cell=1)
    last = max(b.slot for b in boxes)
    fu = sorted((b.slot, b.group, b.text) for b in boxes if b.slot > last - 3)
    assert fu == [(last - 2, "control", "Followed to half a year (26 weeks) (n = 1)"),
                  (last - 2, "intervention", "Followed to half a year (26 weeks) (n = 2)"),
                  (last - 1, "control", "Followed to 2 years (104 weeks) (n = 1)"),
                  (last - 1, "intervention", "Followed to 2 years (104 weeks) (n = 2)"),
                  (last, "control", "Followed to 109 weeks (109 weeks) (n = 0)"),
                  (last, "intervention", "Followed to 109 weeks (109 weeks) (n = 1)")]
    ax = pc.flow_diagram(boxes)
    assert "Followed to 2 years (104 weeks) (n = 2)" in [t.get_text() for t in ax.texts]
    plt.close(ax.figure)


@pytest.mark.parametrize(("followed", "persons", "shown"), [(40, 50, "40"), (48, 50, "46–49"), (3, 50, "<5"),
                                                            (50, 50, "50"), (0, 50, "0")])
def test_followed_counts_are_masked_against_the_analysed_total(followed, persons, shown):
    assert cohort_report.followed_counts([followed], persons, 5, "en") == [shown]


def test_no_difference_between_shown_follow_up_boxes_is_a_small_count():
    # fundamentet's controls: 154 analysed; 150, 149, 146, 143 followed to the four points
    shown = cohort_report.followed_counts([150, 149, 146, 143], 154, 5, "en")
    assert shown == ["150–153", "149", "145–148", "143"]    # 154-149 = 5, 149-143 = 6 exact; 4 and 3 as ranges


def test_overlap_histogram_on_known_values():
    hist = overlap_histogram({"a": np.array([0.0, 0.0, 1.0]), "b": np.array([0.5, 1.0, 5.0])}, n_bins=2)
    # pooled 1st/99th percentiles 0.0 and 4.8: edges 0, 2.4, 4.8; 5.0 falls into the last bin
    assert hist["left"].round(2).tolist() == [0.0, 2.4] and hist["a"].tolist() == [3, 0]
    assert hist["b"].tolist() == [2, 1]


def test_ps_overlap_shares_and_masked_bars():
    rng = np.random.default_rng(5)
    treated = rng.normal(1.0, 0.5, 60)
    pool = np.r_[rng.normal(0.0, 0.5, 400), treated[:3] + 0.01]
    controls = pool[np.argsort(np.abs(pool[:, None] - treated[None, :]).min(axis=1))[:60]]
    build = SimpleNamespace(
        candidates=pd.DataFrame({"distance": pool}),
        cohort=pd.DataFrame({"group": ["intervention"] * 60 + ["control"] * 60, "distance": np.r_[treated, controls],
                             "weight": 1.0}))
    data, check = cohort_report.overlap_data(build, 5, n_bins=10)
    hist = overlap_histogram({"intervention": treated, "pool": pool, "control": controls}, n_bins=10)
    small = (hist[["intervention", "pool", "control"]] > 0) & (hist[["intervention", "pool", "control"]] < 5)
    assert check.masked == int(small.to_numpy().sum()) > 0
    assert data[["intervention", "pool", "control"]].isna().to_numpy().tolist() == small.to_numpy().tolist()
    assert data.loc[~small["pool"], "pool"].to_numpy() == pytest.approx(hist.loc[~small["pool"], "pool"] / len(pool))
    ax = pc.ps_overlap(data, language="da")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Indsatsgruppe", "Egnet pulje (før matchning)", "Matchede kontrolpersoner (vægtet)"]
    plt.close(ax.figure)


def test_no_overlap_figure_without_a_propensity_score(demo_study):
    study = _study(demo_study)                           # exact matching: no propensity score
    build = cohort.build_cohort(study, *_register())
    from helpers.stages.cohort import from_build
    assert cohort_report.ps_overlap_figure(from_build(study, build), study) is None


def test_horizon_labels_read_inside_the_box_sentence():
    assert cohort_report.lower_first("End of programme") == "end of programme"
    assert cohort_report.lower_first("FU") == "FU" and cohort_report.lower_first("1 year after") == "1 year after"


def test_danish_axes_use_decimal_commas():
    data = pd.DataFrame({"left": [-1.5, -1.0], "right": [-1.0, -0.5], "intervention": [0.25, 0.75],
                         "pool": [0.5, 0.5], "control": [0.3, 0.7]})
    ax = pc.ps_overlap(data, language="da")
    ax.figure.canvas.draw()
    xt = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert any("," in t for t in xt) and not any("." in t for t in xt)
    assert all(t.get_text().endswith(" %") for t in ax.get_yticklabels() if t.get_text())
    plt.close(ax.figure)
