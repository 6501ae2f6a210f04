"""The shipped DREAM code dictionary and the code -> category lookups.

The expected values are copied from the project's reference notes on DREAM (docs/sources.md):
the c.-2016 list of 129 weekly codes ("Status fra DREAM dokumentation" in
LokeSonne/DREAM-CSV-til-JSON) and its proposed analysis categories.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.core.codes import CATEGORIES, CodeBook, load_code_table
from helpers.core.i18n import catalogue

# the 129 codes of the c.-2016 list, in order (reference dream_codes.csv, column "code")
CODES_2016 = [
    111, 112, 113, 114, 121, 122, 123, 124, 125, 126, 130, 131, 133, 134, 135, 136, 137, 138, 139, 140, 143,
    144, 145, 146, 147, 148, 149, 151, 152, 211, 213, 214, 215, 216, 217, 218, 231, 232, 299, 412, 413, 511,
    521, 522, 611, 621, 622, 651, 652, 661, 700, 703, 704, 705, 706, 707, 708, 709, 710, 713, 714, 715, 716,
    717, 718, 719, 720, 723, 724, 725, 726, 727, 728, 729, 730, 731, 733, 734, 735, 736, 737, 738, 739, 740,
    741, 743, 744, 745, 746, 747, 748, 750, 753, 754, 755, 756, 757, 758, 760, 763, 764, 765, 766, 767, 768,
    771, 774, 781, 783, 785, 810, 813, 814, 815, 816, 817, 818, 881, 890, 893, 894, 895, 896, 897, 898, 899,
    997, 998, 999,
]


@pytest.fixture(scope="module")
def table():
    return load_code_table()


def test_the_dictionary_covers_the_2016_list(table):
    assert len(CODES_2016) == 129
    assert table["code"].tolist() == CODES_2016
    assert table["code"].is_unique
    assert set(table["category"]) <= set(CATEGORIES) - {"unknown"}
    assert (table["label_da"].str.len() > 0).all()


@pytest.mark.parametrize("code, category, subcategory, activity, label", [
    (111, "ui_benefit", "", "passiv_or_na", "Dagpenge, Fuld ledighed"),
    (121, "self_support", "", "passiv_or_na", "Feriedagpenge fra beskæftigelse"),
    (130, "cash_benefit", "kontanthjaelp", "passiv", "Kontanthjælp, Jobparat, Passiv."),
    (651, "education", "", "passiv_or_na", "SU med ydelse"),
    (730, "cash_benefit", "kontanthjaelp", "passiv", "Kontanthjælp, Passiv."),
    (737, "cash_benefit", "kontanthjaelp", "virksomhedspraktik_privat", "Kontanthjælp, Virksomhedspraktik, Privat"),
    (740, "flexjob", "ledighedsydelse", "passiv", "Ledighedsydelse, Passiv."),
    (771, "flexjob", "fleksjob", "passiv_or_na", "Fleksjob"),
    (774, "sickness", "sdp_under_fleksjob", "passiv_or_na", "Fleksjob, Sygedagpenge under fleksjob"),
    (781, "disability_pension", "", "passiv_or_na", "Skånejob"),
    (783, "disability_pension", "", "passiv_or_na", "Førtidspension"),
    (785, "rehab_clarification", "jobafklaringsforloeb", "passiv_or_na", "Jobafklaring"),
    (810, "rehab_clarification", "ressourceforloeb", "passiv", "Ressourceforløb, Passiv."),
    (881, "other", "barsel", "passiv_or_na", "Barselsdagpenge"),
    (899, "sickness", "sdp_delvis_rask", "delvis_raskmeldt", "Sygedagpenge, Delvis rask"),
    (997, "emigrated", "", "passiv_or_na", "Ikke bosiddende i Danmark"),
    (998, "retirement", "", "passiv_or_na", "Folkepension"),
    (999, "dead", "", "passiv_or_na", "Død"),
])
def test_spot_checks_against_the_reference_table(table, code, category, subcategory, activity, label):
    row = table.set_index("code").loc[code]
    assert (row["category"], row["subcategory"], row["activity"], row["label_da"]) == (
        category, subcategory, activity, label)


def test_validity_dates_are_the_reform_dates_marked_as_inferred(table):
    # reference §2.4 (background knowledge [I]): integrationsydelse 1 Sep 2015 (2015-W36 starts 2015-08-31),
    # kontanthjælpsreform 1 Jan 2014, ressourceforløb 1 Jan 2013, jobafklaring 1 Jul 2014 (2014-W27)
    t = table.set_index("code")
    assert str(t.loc[700, "valid_from"].date()) == "2015-08-31"
    assert str(t.loc[710, "valid_to"].date()) == "2015-08-30"
    assert str(t.loc[140, "valid_from"].date()) == "2014-01-01"
    assert str(t.loc[810, "valid_from"].date()) == "2013-01-01"
    assert str(t.loc[785, "valid_from"].date()) == "2014-06-30"
    dated = t[t["valid_from"].notna() | t["valid_to"].notna()]
    # 139-149 (9), 151-152 (2), 700-709 (8), 710-719 (8), 720-729 (8), 739, 785, 810-818 (7) = 44
    assert len(dated) == 44 and dated["validity_note"].str.contains(r"\[I\]").all()
    both = dated.dropna(subset=["valid_from", "valid_to"])
    assert (both["valid_from"] < both["valid_to"]).all()
    assert set(CodeBook.default().validity()["code"]) == set(dated.index)


def test_category_lookup():
    book = CodeBook.default()
    names = book.category_names(np.array([0, 730, 783, 999, 555, -1, 1000]))
    assert names.tolist() == ["self_support", "cash_benefit", "disability_pension", "dead", "unknown", "unknown",
                              "unknown"]
    assert book.known_codes.sum() == 130  # 129 codes and the empty week
    labels = {k.removeprefix("category."): v for k, v in catalogue().items() if k.startswith("category.")}
    for lang in ("en", "da"):
        assert set(k for k, v in labels.items() if v[lang]) == set(CATEGORIES)


def test_study_overrides_change_categories():
    default = CodeBook.default()
    su = CodeBook.default({651: "self_support", 121: "other"})
    assert default.category_names(np.array([651, 121])).tolist() == ["education", "self_support"]
    assert su.category_names(np.array([651, 121])).tolist() == ["self_support", "other"]
    lookup = su.codes_where(categories=["self_support"])
    assert lookup[0] and lookup[651] and lookup[122] and not lookup[121] and not lookup[730]
    with pytest.raises(ValueError, match="unknown categories"):
        CodeBook.default({651: "self-support"})


def test_codes_where_by_subcategory_activity_and_code():
    book = CodeBook.default()
    praktik = book.codes_where(activities=["virksomhedspraktik_privat", "virksomhedspraktik_offentlig"])
    assert sorted(np.flatnonzero(praktik).tolist()) == [
        137, 138, 147, 148, 217, 218, 707, 708, 717, 718, 727, 728, 737, 738, 747, 748, 757, 758, 767, 768, 817,
        818, 897, 898]
    kth = book.codes_where(subcategories=["kontanthjaelp"])
    assert kth[130] and kth[739] and not kth[720]
    assert np.flatnonzero(book.codes_where(codes=[771])).tolist() == [771]
