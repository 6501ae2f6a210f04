"""Covariates over the balance threshold after matching are named in the summary and the methods (issue 17.8).

The balance tables are computed from hand-made samples whose SMDs are worked out by hand
(MatchIt's ATT convention: the SD of the treated group before matching; for a binary term
sqrt(p (1 - p))).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers.cohort.balance import compare_balance, over_threshold
from helpers.report import imbalance, methods, summary
from helpers.stages.cohort import ImbalancedTerm, residual_imbalance


def _sample(n_active_ctl: int, *, age_shift: float = 0.0) -> pd.DataFrame:
    """20 treated (11 in an active measure: 55%) and 20 controls (``n_active_ctl`` in one)."""
    age = np.tile([30.0, 40.0, 50.0, 60.0], 5)
    return pd.DataFrame({
        "_treat": [1] * 20 + [0] * 20,
        "active_measure": [1] * 11 + [0] * 9 + [1] * n_active_ctl + [0] * (20 - n_active_ctl),
        "age": np.r_[age, age + age_shift],
        "sex": [1, 2] * 20,
    })


def _balance(n_active_ctl: int, **kw) -> pd.DataFrame:
    frame = _sample(n_active_ctl, **kw)
    return compare_balance(frame, frame, ["age", "sex", "active_measure"], "_treat", categorical=["sex"])


def test_the_known_imbalanced_covariate_is_named_with_its_values():
    bal = _balance(5)                                   # controls 25% in an active measure
    smd = (0.55 - 0.25) / math.sqrt(0.55 * 0.45)        # 0.603
    terms = residual_imbalance(bal, 0.1, min_cell=5)
    assert [t.variable for t in terms] == ["active_measure"]
    assert terms[0].smd == pytest.approx(smd)
    text = imbalance.sentence(terms, 0.1, "en")
    assert text == ("After matching, one covariate is still above the balance threshold (|SMD| > 0.1): "
                    "in an active measure (week before index) (SMD 0.603; 55% vs 25%).")
    da = imbalance.sentence(terms, 0.1, "da")
    assert da == ("Efter matchningen er én kovariat stadig over balancegrænsen (|SMD| > 0,1): "
                  "i aktivt tilbud (ugen før indeks) (SMD 0,603; 55 % mod 25 %).")


def test_several_terms_largest_first_and_a_two_level_category_once():
    # age shifted by 5 years in the controls: SMD = -5 / SD(treated ages) = -5 / 11.47 = -0.436
    bal = _balance(5, age_shift=5.0)
    age_sd = np.std(np.tile([30.0, 40.0, 50.0, 60.0], 5), ddof=1)
    terms = residual_imbalance(bal, 0.1, min_cell=5)
    assert [t.variable for t in terms] == ["active_measure", "age"]
    assert terms[1].smd == pytest.approx(-5 / age_sd)
    assert "age, years (SMD -0.436; mean 45.0 vs 50.0)" in imbalance.sentence(terms, 0.1, "en")
    # sex (two levels, same |SMD|) is one comparison: with a threshold below its |SMD| it is named once
    sexed = _sample(5)
    sexed.loc[sexed["_treat"] == 0, "sex"] = [1] * 14 + [2] * 6
    bal = compare_balance(sexed, sexed, ["sex"], "_treat", categorical=["sex"])
    assert len(over_threshold(bal, 0.1)) == 1


def test_none_over_the_threshold_gives_no_sentence():
    bal = _balance(11)                                  # identical shares, identical ages
    assert residual_imbalance(bal, 0.1, min_cell=5) == []
    assert imbalance.sentence([], 0.1, "en") == ""


def test_a_term_with_small_counts_is_named_without_values():
    bal = _balance(2)                                   # 2 controls in an active measure: disclosive
    terms = residual_imbalance(bal, 0.1, min_cell=5)
    assert terms[0].smd is None and terms[0].mean_control is None
    text = imbalance.sentence(terms, 0.1, "en")
    assert "in an active measure (week before index) (SMD and group values not shown: small counts)" in text
    assert "10%" not in text


TERM = ImbalancedTerm(variable="active_measure", level=None, kind="binary", smd=0.77, mean_treated=0.55,
                      mean_control=0.17)


def test_summary_names_the_term_after_the_population(demo_study):
    text = imbalance.sentence([TERM], 0.1, "en")
    paras = summary.compose(demo_study, "en", group_sizes=(50, 50), outcome_rows=None, survival_result=None,
                            investment_results=None, residual_imbalance=text)
    assert paras[0].endswith("in an active measure (week before index) (SMD 0.770; 55% vs 17%).")
    plain = summary.compose(demo_study, "en", group_sizes=(50, 50), outcome_rows=None, survival_result=None,
                            investment_results=None)
    assert "balance threshold" not in " ".join(plain)


def test_methods_name_the_term_when_the_cohort_result_has_one(demo_study, monkeypatch):
    fake = SimpleNamespace(residual_imbalance=[TERM])
    monkeypatch.setattr(methods.CohortResult, "load_or_none", classmethod(lambda cls, study: fake))
    text = methods.matching(demo_study, "da").markdown
    assert text.endswith("i aktivt tilbud (ugen før indeks) (SMD 0,770; 55 % mod 17 %).")
    fake.residual_imbalance = []
    assert "balancegrænsen" not in methods.matching(demo_study, "da").markdown


def test_summary_largest_smd_skips_a_term_the_balance_table_hides():
    # a binary term with 3 of 50 controls exposed is hidden in the balance table; its SMD (0.6) must not come
    # back as the summary's "largest |SMD| after matching" (with the group sizes it gives the count away)
    from types import SimpleNamespace

    from helpers.stages.cohort import _published_smds

    def term(sample, variable, kind, smd, ct, cc):
        return dict(sample=sample, variable=variable, level=("1" if kind == "binary" else None), kind=kind, smd=smd,
                    mean_treated=0.5, mean_control=0.2, var_ratio=1.0, count_treated=ct, count_control=cc,
                    n_treated=50, n_control=50, missing_treated=0, missing_control=0)

    bal = pd.DataFrame([term("after", "age", "continuous", 0.08, None, None),
                        term("after", "active_measure", "binary", 0.60, 25, 3),
                        term("after", "weeks_transfer_104", "continuous", -0.05, None, None),
                        term("before", "age", "continuous", 0.30, None, None),
                        term("before", "active_measure", "binary", 0.90, 30, 2)])
    build = SimpleNamespace(balance=bal)
    out = _published_smds(build, 5)
    assert out["after"] == pytest.approx(0.08)
    assert out["after_history"] == pytest.approx(0.05)
    assert out["before"] == pytest.approx(0.30)
    assert _published_smds(SimpleNamespace(balance=bal[bal["kind"] == "binary"]), 5)["after"] is None
