"""The limitations section (STROBE item 19): generated from the run's results, each item only when it holds.

:func:`compose` turns the stages' saved results into the items below (catalogue
``limitations.item.<key>``, English and Danish); :func:`limitations_text` loads the results
and returns them as report items for notebook 80. Items and their conditions:

``non_random``
    always: assignment was not random.
``residual_imbalance``
    a covariate over ``matching.smd_threshold`` after matching
    (:attr:`~helpers.stages.cohort.CohortResult.residual_imbalance`, worded by :mod:`helpers.report.imbalance`).
``lookback``
    the longest look-back reaches before the extract (the cohort note ``lookback``).
``complete_case``
    questionnaire follow-up ratings are missing (complete-case analysis; the missing shares per group).
``greedy_no_caliper``
    ``matching.method: nearest`` with ``caliper: null``.
``unmirrored``
    screening exclusion reasons that excluded someone and that no register rule mirrors for the
    controls (:attr:`~helpers.stages.cohort.CohortResult.unmirrored_exclusions`, issue 18.2).
``reused_controls``
    matching with replacement used some control persons more than once.
"""

from __future__ import annotations

from helpers.core.i18n import join_and, number, tr
from helpers.disclosure import MASK, is_small
from helpers.report import imbalance
from helpers.report.items import Text
from helpers.stages.cohort import CohortResult
from helpers.stages.outcomes import OutcomesResult

#: Item key of the section (the reporting checklist maps STROBE item 19 to it).
KEY = "limitations"
#: Items in the order they are shown.
ITEMS = ("non_random", "residual_imbalance", "lookback", "complete_case", "greedy_no_caliper", "unmirrored",
         "reused_controls")


def _lang(study, language: str | None) -> str:
    return language or study.study.language


def _reason(reason: str, language: str) -> str:
    return tr(f"cohort.reason.{reason}", language).lower()


def compose(study, language: str, cohort: CohortResult | None, outcomes: OutcomesResult | None) -> dict[str, str]:
    """The limitations that hold for this run, ``{item key: text}`` in :data:`ITEMS` order.

    Parameters
    ----------
    study : Study
    language : {"en", "da"}
    cohort, outcomes : stage results or None
        Saved results of stages 02 and 03 (None: the stage did not run; its items are left out).
    """
    m = study.matching
    mc = study.study.min_cell
    out = {"non_random": tr("limitations.item.non_random", language)}
    if cohort is not None and cohort.residual_imbalance:
        out["residual_imbalance"] = tr("limitations.item.residual_imbalance", language,
                                       sentence=imbalance.sentence(cohort.residual_imbalance, m.smd_threshold,
                                                                   language))
    if cohort is not None and "lookback" in cohort.note_keys:
        note = cohort.note_texts(language)[cohort.note_keys.index("lookback")]
        out["lookback"] = tr("limitations.item.lookback", language, note=note)
    q = None if outcomes is None else outcomes.questionnaires
    shares = [] if q is None else [q.missing_followup_pct_int, q.missing_followup_pct_ctl]
    if shares and all(s is not None for s in shares) and any(s > 0 for s in shares):
        out["complete_case"] = tr("limitations.item.complete_case", language, pct_int=number(shares[0], 0, language),
                                  pct_ctl=number(shares[1], 0, language))
    if m.method == "nearest" and m.caliper is None:
        out["greedy_no_caliper"] = tr("limitations.item.greedy_no_caliper", language)
    if cohort is not None and cohort.unmirrored_exclusions:
        proxies = list(dict.fromkeys(r.reason for r in study.cohort.control_exclusions))
        mirrored = (tr("limitations.item.mirrored", language,
                       reasons=join_and([f"'{_reason(r, language)}'" for r in proxies], language))
                    if proxies else "")
        out["unmirrored"] = tr("limitations.item.unmirrored", language, mirrored=mirrored,
                               reasons=join_and([_reason(r, language) for r in cohort.unmirrored_exclusions],
                                                language))
    s = None if cohort is None else cohort.match_summary
    if s is not None and s.n_controls_unique < s.n_control_rows:
        def cnt(k: int) -> str:
            return MASK.format(min_cell=mc) if is_small(k, mc) else str(k)

        out["reused_controls"] = tr("limitations.item.reused_controls", language, unique=cnt(s.n_controls_unique),
                                    places=cnt(s.n_control_rows))
    return out


def limitations_text(study, language: str | None = None) -> list[Text]:
    """The limitations section as report items: the introduction, then one item per limitation that holds."""
    lang = _lang(study, language)
    items = compose(study, lang, CohortResult.load_or_none(study), OutcomesResult.load_or_none(study))
    return [Text(tr("limitations.intro", lang)), *(Text(f"- {text}") for text in items.values())]
