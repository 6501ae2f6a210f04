"""The generated limitations section (issue 18.7): each item appears exactly when its condition holds."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from helpers.report import limitations
from helpers.stages.cohort import ImbalancedTerm

ROOT = Path(__file__).resolve().parents[1]
AGE = ImbalancedTerm(variable="age", level=None, kind="continuous", smd=-0.105, mean_treated=34.1, mean_control=35.3)


def _cohort(*, imbalance=(), notes=(), unmirrored=(), unique=50, places=50):
    texts = {"lookback": ("The longest look-back (520 weeks) reaches before the start of the register extract "
                          "(2008-W01); weeks before it count as not on benefit.",
                          "Det længste tilbageblik (520 uger) rækker før registerudtrækkets start (2008-W01); "
                          "uger før tæller som uden ydelse."),
             "sets_short": ("Some sets are short.", "Nogle sæt er korte.")}
    return SimpleNamespace(residual_imbalance=list(imbalance), note_keys=list(notes),
                           note_texts=lambda lang: [texts[k][lang == "da"] for k in notes],
                           unmirrored_exclusions=list(unmirrored),
                           match_summary=SimpleNamespace(n_controls_unique=unique, n_control_rows=places))


def _outcomes(pct_int, pct_ctl):
    return SimpleNamespace(questionnaires=SimpleNamespace(missing_followup_pct_int=pct_int,
                                                          missing_followup_pct_ctl=pct_ctl))


def _matching(study, **kw):
    return study.model_copy(update={"matching": study.matching.model_copy(update=kw)})


def test_non_random_assignment_is_always_there(demo_study):
    items = limitations.compose(_matching(demo_study, caliper=0.2), "en", None, None)
    assert list(items) == ["non_random"]
    assert items["non_random"].startswith("**Non-random assignment.**")


def test_residual_imbalance_names_the_covariates_over_the_threshold(demo_study):
    items = limitations.compose(demo_study, "en", _cohort(imbalance=[AGE]), None)
    assert ("After matching, one covariate is still above the balance threshold (|SMD| > 0.1): age, years "
            "(SMD -0.105; mean 34.1 vs 35.3).") in items["residual_imbalance"]
    assert "residual_imbalance" not in limitations.compose(demo_study, "en", _cohort(), None)


def test_lookback_before_the_extract_only_with_the_cohort_note(demo_study):
    items = limitations.compose(demo_study, "da", _cohort(notes=["sets_short", "lookback"]), None)
    assert "Det længste tilbageblik (520 uger)" in items["lookback"]
    assert "uger før tæller som uden ydelse" in items["lookback"]
    assert "lookback" not in limitations.compose(demo_study, "da", _cohort(notes=["sets_short"]), None)


def test_complete_case_questionnaires_with_the_missing_shares(demo_study):
    items = limitations.compose(demo_study, "en", None, _outcomes(22.0, 35.0))
    assert "22% of the intervention group's and 35% of the controls' follow-up ratings are missing" in \
        items["complete_case"]
    da = limitations.compose(demo_study, "da", None, _outcomes(22.0, 35.0))
    assert "22 % af indsatsgruppens og 35 % af kontrolpersonernes" in da["complete_case"]
    for quiet in (_outcomes(0.0, 0.0), _outcomes(None, None), SimpleNamespace(questionnaires=None)):
        assert "complete_case" not in limitations.compose(demo_study, "en", None, quiet)


@pytest.mark.parametrize(("kw", "shown"), [({"method": "nearest", "caliper": None}, True),
                                           ({"method": "nearest", "caliper": 0.2}, False),
                                           ({"method": "exact", "caliper": None}, False)])
def test_greedy_matching_without_caliper(demo_study, kw, shown):
    assert ("greedy_no_caliper" in limitations.compose(_matching(demo_study, **kw), "en", None, None)) is shown


def test_exclusions_the_register_cannot_mirror(demo_study):
    items = limitations.compose(demo_study, "en", _cohort(unmirrored=["exempt_from_activation", "declined"]), None)
    text = items["unmirrored"]
    assert "reasons the register cannot show: exempt from activation and declined." in text
    # demo mirrors two reasons with proxies; the item says they are approximations
    assert ("The register proxies used for 'in medical treatment or assessment' and 'in another project' only "
            "approximate") in text
    assert "unmirrored" not in limitations.compose(demo_study, "en", _cohort(), None)


def test_reused_controls_only_when_controls_fill_several_places(demo_study):
    items = limitations.compose(demo_study, "en", _cohort(unique=150, places=192), None)
    assert "150 control persons fill 192 control places" in items["reused_controls"]
    small = limitations.compose(demo_study, "en", _cohort(unique=3, places=4), None)
    assert "<5 control persons fill <5 control places" in small["reused_controls"]
    assert "reused_controls" not in limitations.compose(demo_study, "en", _cohort(unique=50, places=50), None)


def test_the_appendix_notebook_shows_the_section():
    nb = nbformat.read(ROOT / "notebooks" / "80_appendix.ipynb", as_version=4)
    sources = [c.source for c in nb.cells]
    assert "rep.show(limitations.limitations_text(cfg))" in sources
    assert "## Limitations" in sources and "## Begrænsninger" in sources
    assert limitations.KEY == "limitations"
