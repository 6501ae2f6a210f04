"""Register proxies of the screening exclusions applied to control candidates (issue 18.2), on a hand-built register."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_cohort import C, FIRST, N_WEEKS, W, _register, _study

from helpers.cohort import build as cohort
from helpers.cohort import register
from helpers.cohort.eligibility import control_exclusion_masks
from helpers.config.schema.cohort import ControlExclusion
from helpers.core.store import WeeklyStatus
from helpers.disclosure.attrition import mask_attrition
from helpers.report import cohort as cohort_report

#: Seed 000's "i lægelig behandling": sygedagpenge 890-899 or jobafklaring 785 in the 13 weeks before index.
MEDICAL = {"reason": "in_medical_treatment", "codes": ["890-899", 785], "weeks_before": 13}
#: "deltager i et andet projekt": a work placement (virksomhedspraktik) in the 4 weeks before index.
PROJECT = {"reason": "other_project", "activities": ["virksomhedspraktik_privat", "virksomhedspraktik_offentlig"],
           "weeks_before": 4}


def _extended():
    """The ten persons of test_cohort plus five controls whose proxy status is known by construction.

    All five are on kontanthjælp (730) from W-90 to W+5, male, born 1980, living in Ishøj, so
    they meet every register criterion at W and W+2; they differ only in the proxy codes.
    """
    persons, residence, weekly, monthly, screening = _register()
    extra = {
        "S1": {C - 10: 890, C - 9: 890},   # sick 10-9 weeks before W (and 12-11 before W+2): inside 13 -> out
        "S2": {C - 20: 890},               # sick 20 weeks before W: outside 13 at W and W+2 -> kept
        "S3": {C - 3: 785},                # jobafklaring 3 weeks before W -> out
        "P1": {C - 1: 737},                # kontanthjælp in virksomhedspraktik in W-1 (a target code) -> out
        "P2": {C - 6: 737},                # praktik 6 weeks before W, 8 before W+2: outside 4 -> kept
    }
    ids = list(extra)
    codes = np.zeros((len(ids), N_WEEKS), dtype=np.int16)
    for k, pid in enumerate(ids):
        codes[k, C - 90:C + 5] = 730
        for col, code in extra[pid].items():
            codes[k, col] = code
    weekly = WeeklyStatus(np.r_[weekly.person_id, ids].astype(object), FIRST, np.vstack([weekly.codes, codes]))
    persons = pd.concat([persons, pd.DataFrame({"person_id": ids, "sex": 1,
                                                "birth_date": pd.to_datetime(["1980-01-01"] * len(ids))})],
                        ignore_index=True)
    residence = pd.concat([residence, pd.DataFrame([(i, y, 183) for i in ids for y in range(2013, 2020)],
                                                   columns=["person_id", "year", "municipality"])], ignore_index=True)
    monthly = type(monthly)(np.r_[monthly.person_id, ids].astype(object), monthly.first_month,
                            np.vstack([monthly.degree, np.full((len(ids), monthly.degree.shape[1]), np.nan,
                                                               dtype=np.float32)]))
    return persons, residence, weekly, monthly, screening


def _allow_unmatched(study):
    return study.model_copy(update={"matching": study.matching.model_copy(update={"allow_unmatched": True})})


def _log(res, group):
    a = res.attrition
    return a[a["group"] == group].set_index("reason")


def test_rule_codes_expand_ranges_and_reject_unknown_names():
    assert ControlExclusion(**MEDICAL).code_list() == [785, *range(890, 900)]
    with pytest.raises(ValueError, match="not a screening exclusion reason"):
        ControlExclusion(reason="sick", codes=[890], weeks_before=4)
    with pytest.raises(ValueError, match="unknown activities"):
        ControlExclusion(reason="other_project", activities=["praktik"], weeks_before=4)
    with pytest.raises(ValueError, match="outside"):
        ControlExclusion(reason="other_project", codes=["899-890"], weeks_before=4)


def test_masks_per_rule_by_hand(demo_study):
    study = _study(demo_study, control_exclusions=[MEDICAL, PROJECT])
    persons, residence, weekly, monthly, _ = _extended()
    reg = register.prepare_register(study, persons, residence, weekly, monthly)
    rows = np.arange(10, 15).repeat(2)             # S1, S2, S3, P1, P2 at W and W + 2
    weeks = np.tile([W, W + 2], 5)
    masks = control_exclusion_masks(reg, rows, weeks, study.cohort)
    assert list(masks) == ["proxy_in_medical_treatment", "proxy_other_project"]
    #                                                      S1 W, W+2    S2            S3            P1            P2
    assert masks["proxy_in_medical_treatment"].tolist() == [False, False, True, True, False, False, True, True, True, True]
    # P1: 737 in W-1 is inside the 4 weeks before W and before W+2 (W-1 = (W+2)-3)
    assert masks["proxy_other_project"].tolist() == [True, True, True, True, True, True, False, False, True, True]


def test_proxies_exclude_the_known_controls_and_are_logged(demo_study):
    data = _extended()
    base = cohort.build_cohort(_study(demo_study), *data)
    res = cohort.build_cohort(_allow_unmatched(_study(demo_study, control_exclusions=[MEDICAL, PROJECT])), *data)
    ctrl, ctrl0 = _log(res, "control"), _log(base, "control")
    assert ctrl0.loc["cash_benefit_max", "n_after"] == 7             # C1, C8 and the five new persons
    assert "proxy_in_medical_treatment" not in ctrl0.index           # no rule: nothing logged
    assert ctrl.loc["proxy_in_medical_treatment", "stage"] == "screening_proxy"
    # S1, S3, and C8 (sygedagpenge in W-1 of W+2, the only week it met the criteria)
    assert ctrl.loc["proxy_in_medical_treatment", "n_excluded"] == 3
    assert ctrl.loc["proxy_other_project", "n_excluded"] == 1            # P1
    assert ctrl.loc["proxy_other_project", "n_after"] == 3               # C1, S2, P2
    assert set(res.candidates["person_id"]) == {"C1", "S2", "P2"}
    # the intervention side: T1 and T2 have no proxy code, counted (0) and kept
    inter = _log(res, "intervention")
    assert inter.loc["proxy_in_medical_treatment", "n_flagged"] == 0
    assert inter.loc["proxy_in_medical_treatment", "n_excluded"] == 0
    # the chains stay consistent
    a = res.attrition
    for _, g in a.groupby("group"):
        assert (g["n_before"].iloc[1:].to_numpy() == g["n_after"].iloc[:-1].to_numpy()).all()
    # "declined" (C7's reason) has no register counterpart; in_medical_treatment would have one
    assert res.unmirrored_reasons == ["declined"]


def test_intervention_persons_meeting_a_proxy_are_counted_not_excluded(demo_study):
    persons, residence, weekly, monthly, screening = _extended()
    weekly.codes[0, C - 5] = 890                                   # T1 sick 5 weeks before its index week W
    res = cohort.build_cohort(_allow_unmatched(_study(demo_study, control_exclusions=[MEDICAL])), persons,
                              residence, weekly, monthly, screening)
    inter = _log(res, "intervention")
    assert inter.loc["proxy_in_medical_treatment", "n_flagged"] == 1
    assert "T1" in set(res.cohort["person_id"])                 # flagged, still in the analysis


def test_flow_diagram_shows_both_sides_of_the_proxies(demo_study):
    persons, residence, weekly, monthly, screening = _extended()
    weekly.codes[0, C - 5] = 890                                   # T1 meets the medical proxy
    res = cohort.build_cohort(_allow_unmatched(_study(demo_study, control_exclusions=[MEDICAL, PROJECT])), persons,
                              residence, weekly, monthly, screening)
    masked, _ = mask_attrition(res.attrition, 1)
    boxes = [b for b in cohort_report.flow_boxes(masked, "en", wrap=400) if b.slot == 4]   # the proxies' row
    side = {b.group: b.text for b in boxes if b.kind == "side"}
    assert side["control"].splitlines() == [
        "Screening exclusions in the register:",
        "• Register proxy of 'in medical treatment' (e.g. sickness benefit, jobafklaring) (n = 3)",
        "• Register proxy of 'in another project' (e.g. a work placement) (n = 1)"]
    assert "(flagged: n = 1)" in side["intervention"]
    main = {b.group: b.text for b in boxes if b.kind == "main"}
    assert main["control"] == "Eligible after the register proxies of the screening exclusions (n = 3)"
    assert main["intervention"].startswith("Checked against the controls' register proxies (kept) (n = 2)")
