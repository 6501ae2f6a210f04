"""Residual imbalance in words: every covariate term over the balance threshold after matching, named.

A term over ``matching.smd_threshold`` after matching is not left in the balance table: the
summary (:mod:`helpers.report.summary`), the methods (:mod:`helpers.report.methods`) and the
limitations (:mod:`helpers.report.limitations`) name it with its SMD and its group values
(shares of a binary term, means of a continuous one), from
:attr:`helpers.stages.cohort.CohortResult.residual_imbalance`; a term whose counts are
disclosive is named without values. Words: catalogue ``cohort.imbalance.*``.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpers.core.i18n import join_and, number, short, tr
from helpers.report.cohort import covariate_label, lower_first
from helpers.stages.cohort import ImbalancedTerm


def term_text(term: ImbalancedTerm, language: str) -> str:
    """``label (SMD 0.77; 55% vs 17%)``, or the label and "values not shown" when masked."""
    label = lower_first(covariate_label(term.variable, term.level, language))
    if term.smd is None or term.mean_treated is None or term.mean_control is None:
        return tr("cohort.imbalance.term_masked", language, label=label)
    if term.kind == "binary":
        return tr("cohort.imbalance.term_binary", language, label=label, smd=number(term.smd, 3, language),
                  t=number(100 * term.mean_treated, 0, language), c=number(100 * term.mean_control, 0, language))
    return tr("cohort.imbalance.term_continuous", language, label=label, smd=number(term.smd, 3, language),
              t=number(term.mean_treated, 1, language), c=number(term.mean_control, 1, language))


def sentence(terms: Sequence[ImbalancedTerm], threshold: float, language: str) -> str:
    """One sentence naming every term over the threshold; empty when there is none."""
    if not terms:
        return ""
    key = "cohort.imbalance.one" if len(terms) == 1 else "cohort.imbalance.many"
    return tr(key, language, n=len(terms), threshold=short(threshold, language),
              terms=join_and([term_text(t, language) for t in terms], language))
