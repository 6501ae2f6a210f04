"""The plain-language summary: the report's first section, written from the stages' typed results.

Each paragraph reads one stage's saved result (:class:`~helpers.stages.cohort.CohortResult`,
:class:`~helpers.stages.outcomes.OutcomesResult`, :class:`~helpers.stages.survival.SurvivalResult`,
``investment_results.json``); a stage that has not run gets a sentence saying so, so the
summary always renders. Words are in the catalogue (``summary.*``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import disclosure
from helpers.config import Study
from helpers.core.i18n import join_and, number, tr
from helpers.report import imbalance
from helpers.report.items import Text
from helpers.report.outcome_claims import (
    BOUND_RD,
    BOUND_W,
    bound_points,
    claim_text,
    format_p,
    has_bound,
    is_masked,
    main_columns,
)
from helpers.report.outcome_claims import p_text as outcome_p_text
from helpers.report.robustness import summary_line as robustness_line
from helpers.report.survival import ci_side
from helpers.stages.cohort import CohortResult
from helpers.stages.outcomes import OutcomesResult
from helpers.stages.robustness import RobustnessResult
from helpers.stages.survival import SurvivalResult


def _is_num(x: Any) -> bool:
    try:
        return x is not None and not isinstance(x, (str, bool)) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def p_text(p: Any, language: str) -> str:
    """``p = 0.041`` / ``p < 0.001`` with :func:`helpers.report.outcomes.format_p`'s rounding (decimal comma in Danish)."""
    text = format_p(None if p is None or isinstance(p, str) else float(p))
    text = tr("summary.p_below", language, p=text[1:]) if text.startswith("<") else tr("summary.p", language, p=text)
    return text.replace(".", ",") if language == "da" else text


def population(study: Study, language: str, group_sizes: tuple[int, ...] | None) -> str:
    """Who is compared with whom, and how the controls were found.

    ``group_sizes`` is (intervention rows, control rows[, distinct control persons]) of the
    cohort, None when the cohort stage did not run. With matching with replacement there are
    fewer control persons than control places; the sentence then says both.
    """
    if group_sizes is None:
        return tr("summary.missing.cohort", language)
    m = study.study.min_cell
    show = {k: (disclosure.MASK.format(min_cell=m) if disclosure.is_small(v, m) else str(v))
            for k, v in zip(("int", "ctl"), group_sizes[:2], strict=True)}
    controls = tr("summary.population.controls", language, n=show["ctl"])
    if len(group_sizes) > 2 and group_sizes[2] < group_sizes[1]:
        unique = group_sizes[2]
        controls = tr("summary.population.reused", language, unique=disclosure.MASK.format(min_cell=m)
                      if disclosure.is_small(unique, m) else str(unique), places=show["ctl"])
    how = ("exact" if study.matching.method == "exact"
           else "mahalanobis" if study.matching.distance == "mahalanobis" else "propensity")
    return tr("summary.population.text", language, n_int=show["int"], controls=controls,
              how=tr(f"summary.population.how.{how}", language))


def outcomes(study: Study, language: str, res: pd.DataFrame | None) -> list[str]:
    """The primary outcome at each follow-up point, and how many secondary comparisons differ.

    ``res`` is :meth:`OutcomesResult.table` (masked rows with their bounds), None when the
    outcome stage did not run. Each point claims a direction only when its 95% CI excludes 0
    (:mod:`helpers.report.outcome_claims`); a point whose counts are masked is worded from its
    bound and never counted as "not significant" (:func:`primary_verdict`).
    """
    if res is None:
        return [tr("summary.missing.outcomes", language)]
    out = []
    prim = res[res["role"] == "primary"] if "role" in res else res.iloc[0:0]
    if len(prim):
        label = str(prim["outcome_label"].iloc[0])
        design = prim["design"].iloc[0] if "design" in prim else None
        parts = [primary_point(r, design, language) for _, r in prim.iterrows()]
        out.append(tr("summary.primary.head", language, label=label.lower()) + "; ".join(parts) + ". "
                   + primary_verdict(prim, design, language))
    sec = res[res["role"] == "secondary"] if "role" in res else res.iloc[0:0]
    if len(sec) and "p_adjusted" in sec:
        out.append(secondary_text(study, sec, language))
    return out


def _estimates_masked(r, design) -> bool:
    """The row's counts are masked and its main estimate with them."""
    return is_masked(r) and not _is_num(r.get(main_columns(design)[0]))


def primary_point(r, design, language: str) -> str:
    """One follow-up point of the primary outcome: shares, difference (95% CI; p) and the claim its CI allows."""
    hl = str(r.get("horizon_label", r["horizon"]))
    if _estimates_masked(r, design) and has_bound(r):
        return _bound_point(r, hl, design, language)
    if is_masked(r) or not (_is_num(r.get("pct_int")) and _is_num(r.get("pct_ctl"))):
        return tr("summary.primary.masked", language, horizon=hl)
    col, lo, hi = main_columns(design)
    diff = ""
    if _is_num(r.get(col)):
        rd, low, high = (100 * float(r[k]) for k in (col, lo, hi))  # shares -> points
        diff = tr("summary.primary.difference", language, rd=number(rd, 1, language),
                  low=number(low, 1, language), high=number(high, 1, language),
                  p=p_text(r.get("p_value"), language), claim=claim_text(r[lo], r[hi], language))
    return tr("summary.primary.point", language, horizon=hl, pct_int=number(r["pct_int"], 0, language),
              pct_ctl=number(r["pct_ctl"], 0, language), difference=diff)


def _bound_point(r, hl: str, design, language: str) -> str:
    """A point whose counts are masked: the shown share, and what holds for every count the mask allows."""
    shown = "".join(tr(f"summary.primary.shown.{tag}", language, pct=number(r[f"pct_{tag}"], 0, language))
                    for tag in ("int", "ctl") if not bool(r.get(f"masked_{tag}", False)) and _is_num(r.get(f"pct_{tag}")))
    who = "both" if bool(r.get("masked_int")) and bool(r.get("masked_ctl")) else (
        "int" if bool(r.get("masked_int")) else "ctl")
    clustered = has_bound(r, BOUND_W)  # 1:1 pairs led by the pair-clustered difference
    columns = BOUND_W if clustered else BOUND_RD
    low, high, lower, upper = bound_points(r, columns, language)
    weighted = design == "weighted"
    p = r.get("bound_p_fisher") if weighted else r.get("bound_p_value")
    return tr("summary.primary.bound_unweighted" if weighted else "summary.primary.bound", language, horizon=hl,
              shown=shown, who=tr(f"summary.primary.who.{who}", language), low=low, high=high,
              interval=tr("interval", language, low=lower, high=upper),
              p=outcome_p_text(p, language, at_most=True),
              claim=claim_text(r[columns[2]], r[columns[3]], language, masked=True))


def primary_verdict(prim: pd.DataFrame, design, language: str) -> str:
    """At how many follow-up points the primary difference is significant; masked points apart.

    A point whose counts (and so its p) are masked is not counted as "not significant": the
    sentence names the points that can be shown, then, for the masked ones, whether the least
    favourable p over every count the mask allows (``bound_p_value``) is below 0.05.
    """
    if "p_value" not in prim:
        return ""
    rows = [r for _, r in prim.iterrows()]
    masked = [r for r in rows if _estimates_masked(r, design)]
    shown = [r for r in rows if not _estimates_masked(r, design)]
    bounded = [r for r in masked if _is_num(r.get("bound_p_value"))]
    unbounded = [str(r.get("horizon_label", r["horizon"])).lower() for r in masked
                 if not _is_num(r.get("bound_p_value"))]
    n_sig = sum(1 for r in shown if _is_num(r.get("p_value")) and float(r["p_value"]) < 0.05)
    if not masked:
        return tr("summary.primary.significant", language, n_sig=n_sig, n=len(rows))
    text = tr("summary.primary.significant_shown", language, n_sig=n_sig, n_shown=len(shown)) if shown else ""
    if bounded:
        k = sum(1 for r in bounded if float(r["bound_p_value"]) < 0.05)
        p_list = join_and([tr("summary.primary.p_at", language,
                              p=outcome_p_text(r["bound_p_value"], language, at_most=True),
                              horizon=str(r.get("horizon_label", r["horizon"])).lower()) for r in bounded], language)
        which = "all" if k == len(bounded) else "none" if k == 0 else "some"
        text += tr(f"summary.primary.masked_p.{which}", language, p_list=p_list, k=k, n=len(bounded))
    if unbounded:
        text += tr("summary.primary.masked_unbounded", language, horizons=join_and(unbounded, language))
    return text.strip()


def secondary_text(study: Study, sec: pd.DataFrame, language: str) -> str:
    """How many secondary comparisons differ after adjustment; those with masked counts apart."""
    padj = pd.to_numeric(sec["p_adjusted"], errors="coerce")
    method = tr(f"outcomes.multiplicity.{study.outcomes.multiplicity}", language)
    text = tr("summary.secondary", language, tested=int(padj.notna().sum()), n_sig=int((padj < 0.05).sum()),
              method=method)
    masked = [r for _, r in sec.iterrows() if is_masked(r) and not _is_num(r.get("p_adjusted"))]
    bounded = [r for r in masked if _is_num(r.get("bound_p_adjusted"))]
    if bounded:
        text += tr("summary.secondary_masked.bounded", language, n=len(bounded),
                   k=sum(1 for r in bounded if float(r["bound_p_adjusted"]) < 0.05))
    if len(masked) > len(bounded):
        text += tr("summary.secondary_masked.unbounded", language, n=len(masked) - len(bounded))
    return text


def survival(study: Study, language: str, res: SurvivalResult | None) -> str:
    """The hazard ratio of lasting self-support and the restricted mean weeks after it.

    A direction ("faster", "more weeks") is claimed only when the 95% CI excludes the null
    (:func:`helpers.report.survival.ci_side`); otherwise the sentence says there was no clear difference.
    """
    if res is None:
        return tr("summary.missing.survival", language)
    if not _is_num(res.hr):
        return tr("summary.survival.not_estimable", language)
    fields = dict(weeks=study.survival.lasting_weeks, hr=number(res.hr, 2, language),
                  low=number(res.hr_ci_low, 2, language), high=number(res.hr_ci_high, 2, language),
                  p=p_text(res.hr_p, language))
    side = ci_side(res.hr_ci_low, res.hr_ci_high, 1.0)
    if side == "covers":
        text = tr("summary.survival.hr_unclear", language, **fields)
    else:
        direction = tr("summary.survival.faster" if side == "above" else "summary.survival.slower", language)
        text = tr("summary.survival.hr", language, direction=direction, **fields)
    if _is_num(res.rmst_difference_weeks):
        d = float(res.rmst_difference_weeks)
        side = ci_side(res.rmst_difference_ci_low, res.rmst_difference_ci_high, 0.0)
        key = {"above": "rmst", "below": "rmst_fewer", "covers": "rmst_unclear"}[side]
        text += tr(f"summary.survival.{key}", language, horizon=number(res.rmst_horizon_weeks, 0, language),
                   d=number(d if side == "covers" else abs(d), 1, language),
                   low=number(res.rmst_difference_ci_low, 1, language),
                   high=number(res.rmst_difference_ci_high, 1, language))
    return text


def _find(study: Study, name: str, output_dir: str | Path | None) -> Path | None:
    for folder in ([Path(output_dir)] if output_dir else []) + [study.processed_dir]:
        if (folder / name).exists():
            return folder / name
    return None


def investment(study: Study, language: str, res: dict | None) -> str:
    """Net present value per actor over the horizon, and the chance that it is positive.

    ``res`` is the content of ``investment_results.json``, None when the investment stage did not run.
    """
    if res is None:
        return tr("summary.missing.investment", language)
    parts = []
    for actor in study.investment.perspective:
        v = (res.get("npv") or {}).get(actor)
        if not isinstance(v, dict) or not _is_num(v.get("estimate")):
            continue
        npv, lo, hi = v.get("estimate"), v.get("ci_low"), v.get("ci_high")
        ci = ""
        if _is_num(lo) and _is_num(hi):
            ci = tr("summary.investment.ci", language, npv=number(float(npv) / 1e6, 1, language),
                    low=number(float(lo) / 1e6, 1, language), high=number(float(hi) / 1e6, 1, language))
        covers = _is_num(lo) and _is_num(hi) and float(lo) <= 0 <= float(hi)
        if covers or round(abs(float(npv)) / 1e6, 1) == 0:  # wording follows the interval (issue 18.5)
            parts.append(tr("summary.investment.unclear", language, actor=tr(f"actor_phrase.{actor}", language),
                            ci=ci or tr("summary.investment.npv_only", language,
                                        npv=number(float(npv) / 1e6, 1, language))))
            continue
        word = tr("summary.investment.gain" if float(npv) >= 0 else "summary.investment.cost", language)
        parts.append(tr("summary.investment.actor", language, actor=tr(f"actor_phrase.{actor}", language), word=word,
                        amount=number(abs(float(npv)) / 1e6, 1, language), ci=ci))
    years = res.get("horizon_total_years") or study.investment.horizon_years
    p_pos = res.get("p_npv_positive")
    sens = getattr(study.investment, "sensitivity", None)
    extra = ""
    if parts and _is_num(p_pos):
        extra = tr("summary.investment.monte_carlo", language, pct=number(100 * float(p_pos), 0, language),
                   actor=tr(f"actor_phrase.{getattr(sens, 'actor', 'public')}", language))
    if not parts:
        return tr("summary.investment.see_section", language)
    if res.get("tax"):
        extra += tr("summary.investment.tax", language)
    return tr("summary.investment.text", language, years=years, parts="; ".join(parts)) + extra


def compose(study: Study, language: str, *, group_sizes: tuple[int, int] | None,
            outcome_rows: pd.DataFrame | None, survival_result: SurvivalResult | None,
            investment_results: dict | None, skipped: dict[str, tuple[str, str]] | None = None,
            robustness_result: RobustnessResult | None = None, residual_imbalance: str = "") -> list[str]:
    """The summary's paragraphs from the stages' results (None: the stage did not run).

    ``skipped`` maps a stage the runner skipped (``skipped_sections.json``) to its reason
    (en, da); such a stage's paragraph says why instead of "did not run". ``robustness_result``
    adds the regression-adjusted difference and hazard ratio after the headline ones (nothing when
    the robustness stage did not run). ``residual_imbalance`` (:func:`helpers.report.imbalance.sentence`)
    follows the population.
    """
    skipped = skipped or {}

    def why(stage: str) -> str | None:
        if stage not in skipped:
            return None
        return tr("summary.skipped", language, section=tr(f"summary.section.{stage}", language),
                  reason=skipped[stage][1 if language == "da" else 0])

    paras = [why("cohort") if group_sizes is None and "cohort" in skipped
             else " ".join(filter(None, [population(study, language, group_sizes), residual_imbalance])),
             *([why("outcomes")] if outcome_rows is None and "outcomes" in skipped
               else outcomes(study, language, outcome_rows)),
             why("survival") if survival_result is None and "survival" in skipped
             else survival(study, language, survival_result),
             robustness_line(robustness_result, language),  # regression-adjusted RD and HR beside the headline
             why("investment") if investment_results is None and "investment" in skipped
             else investment(study, language, investment_results)]
    paras = [p for p in paras if p]
    if study.study.synthetic:
        paras.append(tr("summary.synthetic", language))
    return paras


def paragraphs(study: Study, output_dir: str | Path | None = None, language: str | None = None) -> list[str]:
    """The plain-language summary as Markdown paragraphs, from the stages' saved results."""
    cohort = CohortResult.load_or_none(study)
    outcome_result = OutcomesResult.load_or_none(study)
    inv_path = _find(study, "investment_results.json", output_dir)
    return compose(
        study, language or study.study.language,
        group_sizes=None if cohort is None else (cohort.match_summary.n_treated_matched,
                                                 cohort.match_summary.n_control_rows,
                                                 cohort.match_summary.n_controls_unique),
        outcome_rows=None if outcome_result is None else outcome_result.table(),
        survival_result=SurvivalResult.load_or_none(study),
        investment_results=None if inv_path is None else json.loads(inv_path.read_text(encoding="utf-8")),
        skipped=skipped_stages(output_dir), robustness_result=RobustnessResult.load_or_none(study),
        residual_imbalance="" if cohort is None else imbalance.sentence(
            cohort.residual_imbalance, study.matching.smd_threshold, language or study.study.language))


def skipped_stages(output_dir: str | Path | None) -> dict[str, tuple[str, str]]:
    """Stages the runner skipped, from ``skipped_sections.json``: ``{stage: (reason en, reason da)}``."""
    path = Path(output_dir) / "skipped_sections.json" if output_dir else None
    if path is None or not path.exists():
        return {}
    out = {}
    for rec in json.loads(path.read_text(encoding="utf-8")):
        stage = Path(str(rec.get("notebook", ""))).stem.partition("_")[2]
        out[stage] = (str(rec.get("reason_en", "")), str(rec.get("reason_da", "")))
    return out


def summary_text(study: Study, output_dir: str | Path | None = None, language: str | None = None) -> list[Text]:
    """The summary's paragraphs as report items."""
    return [Text(p) for p in paragraphs(study, output_dir, language)]
