"""Stage 08 (robustness) in the report: one table of the checks with a verdict each, the E-value sentence,
the subgroup table and forest plot, the methods sentences and the summary's "regression-adjusted" line.

Every function takes the stage's :class:`~helpers.stages.robustness.RobustnessResult` and the
study and returns a report item (or text) in the requested language (default: the study's).
Words come from the catalogue (``robustness.*`` in ``helpers/data/i18n/robustness.yaml``). A
direction is claimed only where a 95 % CI excludes the null.
"""

from __future__ import annotations

import math

import pandas as pd

from helpers.core.i18n import number, tr
from helpers.disclosure import Check
from helpers.disclosure import robustness as disclosure
from helpers.report.cohort import covariate_label
from helpers.report.items import Figure, Table, Text
from helpers.report.plots import robustness as plots
from helpers.stages.robustness import Comparison, Effect, EValueRow, RobustnessResult

CHECKS_TABLE = "robustness_checks"
SUBGROUP_TABLE = "robustness_subgroups"
FOREST_FIGURE = "robustness_forest"
#: E-value of the CI limit from which the table reads the estimate as robust (a reading aid, not a test).
ROBUST_EVALUE = 2.0


def _lang(study, language: str | None) -> str:
    return language or study.study.language


def _ok(x) -> bool:
    return x is not None and not isinstance(x, str) and math.isfinite(float(x))


def side(low, high, null: float) -> str:
    """``above``, ``below`` or ``covers`` (a missing limit covers: no direction without an interval)."""
    if _ok(low) and _ok(high):
        if low > null:
            return "above"
        if high < null:
            return "below"
    return "covers"


def _rd(e: Effect | None, lang: str) -> str:
    """A risk difference in percentage points with its CI."""
    if e is None or e.estimate is None:
        return "–"
    ci = tr("interval", lang, low=number(100 * e.lower, 1, lang), high=number(100 * e.upper, 1, lang)) if (
        _ok(e.lower) and _ok(e.upper)) else "–"
    return tr("robustness.value.rd", lang, rd=number(100 * e.estimate, 1, lang), ci=ci)


def _ratio(e: Effect | EValueRow | None, lang: str) -> str:
    if e is None or e.estimate is None:
        return "–"
    ci = tr("interval", lang, low=number(e.lower, 2, lang), high=number(e.upper, 2, lang)) if (
        _ok(e.lower) and _ok(e.upper)) else "–"
    return tr("robustness.value.ratio", lang, est=number(e.estimate, 2, lang), ci=ci)


# ------------------------------------------------------------------ verdicts
def evalue_verdict(e: EValueRow, lang: str) -> str:
    """What the E-values say: the CI already includes no effect, or how strong confounding would have to be."""
    if e.masked:
        return tr("robustness.verdict.masked", lang)
    if not _ok(e.point):
        return tr("robustness.verdict.not_estimable", lang)
    if not _ok(e.ci) or e.ci <= 1.0:
        return tr("robustness.verdict.evalue.covers", lang, point=number(e.point, 2, lang))
    key = "strong" if e.ci >= ROBUST_EVALUE else "modest"
    return tr(f"robustness.verdict.evalue.{key}", lang, point=number(e.point, 2, lang), ci=number(e.ci, 2, lang))


def _comparison_verdict(c: Comparison, lang: str, kind: str) -> str:
    if c.rd.masked:
        return tr("robustness.verdict.masked", lang)
    if c.n_int == 0 and c.n_ctl == 0:
        return tr(f"robustness.verdict.{kind}.empty", lang)
    where = side(c.rd.lower, c.rd.upper, 0.0)
    if not (_ok(c.rd.lower) and _ok(c.rd.upper)):
        return tr("robustness.verdict.not_estimable", lang)
    return tr(f"robustness.verdict.{kind}.{'none' if where == 'covers' else 'found'}", lang)


def _hr_verdict(e: Effect, lang: str, kind: str) -> str:
    if e.masked:
        return tr("robustness.verdict.masked", lang)
    if not (_ok(e.lower) and _ok(e.upper)):
        return tr("robustness.verdict.not_estimable", lang)
    return tr(f"robustness.verdict.{kind}.{'none' if side(e.lower, e.upper, 1.0) == 'covers' else 'found'}", lang)


def adjusted_verdict(matched: Effect | None, adjusted: Effect | None, null: float, lang: str) -> str:
    """Whether adjusting for the matching covariates changes what the headline can claim."""
    if matched is None or adjusted is None or adjusted.masked or matched.masked:
        return tr("robustness.verdict.masked", lang)
    if adjusted.estimate is None or matched.estimate is None:
        return tr("robustness.verdict.not_estimable", lang)
    same = side(matched.lower, matched.upper, null) == side(adjusted.lower, adjusted.upper, null)
    return tr(f"robustness.verdict.adjusted.{'same' if same else 'differs'}", lang)


# ------------------------------------------------------------------ the checks table
def _rows(result: RobustnessResult, lang: str) -> list[dict]:
    rows = []
    col = {k: tr(f"robustness.column.{k}", lang) for k in ("check", "estimate", "verdict")}

    def add(check: str, estimate: str, verdict: str, **fields):
        rows.append({col["check"]: tr(f"robustness.check.{check}", lang, **fields), col["estimate"]: estimate,
                     col["verdict"]: verdict})

    if result.evalue_rr is not None:
        e = result.evalue_rr
        add("evalue_rr", tr("robustness.value.evalue", lang, rr=_ratio(e, lang), point=number(e.point, 2, lang),
                            ci=number(e.ci, 2, lang)) if not e.masked else tr("robustness.value.masked", lang),
            evalue_verdict(e, lang))
    if result.evalue_hr is not None:
        e = result.evalue_hr
        add("evalue_hr", tr("robustness.value.evalue_hr", lang, hr=_ratio(e, lang), rr=number(e.rr, 2, lang),
                            point=number(e.point, 2, lang), ci=number(e.ci, 2, lang)), evalue_verdict(e, lang))
    if result.adjusted_rd is not None:
        add("adjusted_rd", tr("robustness.value.versus", lang, adjusted=_rd(result.adjusted_rd, lang),
                              matched=_rd(result.matched_rd, lang)),
            adjusted_verdict(result.matched_rd, result.adjusted_rd, 0.0, lang))
    if result.adjusted_hr is not None:
        add("adjusted_hr", tr("robustness.value.versus", lang, adjusted=_ratio(result.adjusted_hr, lang),
                              matched=_ratio(result.matched_hr, lang)),
            adjusted_verdict(result.matched_hr, result.adjusted_hr, 1.0, lang))
    p = result.placebo
    if p is not None:
        add("placebo_rd", _rd(p.outcome.rd, lang) if not p.outcome.rd.masked else tr("robustness.value.masked", lang),
            _comparison_verdict(p.outcome, lang, "placebo"), shift=p.shift_weeks, weeks=p.horizon_weeks)
        add("placebo_hr", _ratio(p.hr, lang) if not p.hr.masked else tr("robustness.value.masked", lang),
            _hr_verdict(p.hr, lang, "placebo") if not (p.events_int == 0 and p.events_ctl == 0)
            else tr("robustness.verdict.placebo.empty", lang), shift=p.shift_weeks)
    nc = result.negative_control
    if nc is not None:
        label = nc.label_da if lang == "da" else nc.label_en
        add("negative_control", _rd(nc.outcome.rd, lang) if not nc.outcome.rd.masked
            else tr("robustness.value.masked", lang), _comparison_verdict(nc.outcome, lang, "negative_control"),
            label=label.lower(), weeks=nc.horizon_weeks)
    return rows


def checks_table(result: RobustnessResult, study, language: str | None = None) -> Table:
    """One table: E-values, regression-adjusted vs matched, placebo and negative control, each with a verdict."""
    lang = _lang(study, language)
    frame = pd.DataFrame(_rows(result, lang))
    hidden = sum(1 for e in (result.evalue_rr, result.adjusted_rd) if e is not None and e.masked)
    if result.placebo is not None:
        hidden += int(result.placebo.outcome.rd.masked) + int(result.placebo.hr.masked)
    if result.negative_control is not None:
        hidden += int(result.negative_control.outcome.rd.masked)
    check = Check(CHECKS_TABLE, "PASS", masked=hidden,
                  detail=f"estimates only; {hidden} estimate(s) resting on a cell below {result.min_cell} hidden",
                  detail_da=f"kun estimater; {hidden} estimat(er) med en celle under {result.min_cell} skjult")
    return Table(CHECKS_TABLE, frame, check, note=checks_note(result, study, lang))


def checks_note(result: RobustnessResult, study, language: str | None = None) -> str:
    """The table's footnote: what each check is and how the verdicts are read."""
    lang = _lang(study, language)
    parts = [tr("robustness.note.horizon", lang, weeks=result.horizon_weeks)]
    if result.evalue_rr is not None or result.evalue_hr is not None:
        parts.append(tr("robustness.note.evalue", lang, robust=number(ROBUST_EVALUE, 1, lang)))
    if result.adjusted_rd is not None:
        parts.append(tr("robustness.note.adjusted", lang, covariates="; ".join(covariate_label(c, None, lang) for c in result.covariates) or "–"))
    if result.placebo is not None:
        parts.append(tr("robustness.note.placebo", lang, shift=result.placebo.shift_weeks,
                        weeks=result.placebo.horizon_weeks))
    parts.append(tr("robustness.note.masked", lang, min_cell=result.min_cell))
    return " ".join(parts)


def evalue_text(result: RobustnessResult, study, language: str | None = None) -> Text:
    """What an E-value means, with the study's numbers."""
    lang = _lang(study, language)
    parts = [tr("robustness.text.evalue_meaning", lang)]
    e = result.evalue_rr
    if e is not None and not e.masked and _ok(e.point):
        parts.append(tr("robustness.text.evalue_rr", lang, point=number(e.point, 2, lang),
                        ci=number(e.ci, 2, lang), rr=number(e.estimate, 2, lang)))
    h = result.evalue_hr
    if h is not None and _ok(h.point):
        parts.append(tr("robustness.text.evalue_hr", lang, point=number(h.point, 2, lang), ci=number(h.ci, 2, lang),
                        hr=number(h.estimate, 2, lang), rr=number(h.rr, 2, lang)))
    return Text(" ".join(parts))


# ------------------------------------------------------------------ subgroups
def level_label(subgroup: str, level: str, lang: str) -> str:
    """``Sex: women``, ``Age: under 30``, ``Benefit: kontanthjaelp`` (Danish in Danish)."""
    if subgroup.startswith("age_under_"):
        years = subgroup.rpartition("_")[2]
        return tr(f"robustness.subgroup.age.{level}", lang, years=years) if level in ("under", "over") else level
    if subgroup == "sex":
        return tr(f"robustness.subgroup.sex.{level}", lang) if level in ("male", "female") else level
    return tr("robustness.subgroup.benefit", lang, level=level)


def _p(p, lang: str) -> str:
    if not _ok(p):
        return "–"
    return "<0,001" if (lang == "da" and p < 0.001) else "<0.001" if p < 0.001 else number(p, 3, lang)


def subgroup_table(result: RobustnessResult, study, language: str | None = None) -> Table:
    """The primary difference and the hazard ratio per subgroup level, with interaction tests (exploratory)."""
    lang = _lang(study, language)
    col = {k: tr(f"robustness.column.{k}", lang) for k in ("subgroup", "n", "outcome", "rd", "events", "hr",
                                                           "interaction")}
    tests = {t.subgroup: t for t in result.interactions}
    out = []
    for r in result.subgroups:
        t = tests.get(r.subgroup)
        first = not out or out[-1]["_sub"] != r.subgroup
        inter = ""
        if first and t is not None:
            inter = tr("robustness.value.interaction", lang, rd=_p(t.rd_p, lang), hr=_p(t.hr_p, lang)) if (
                t.levels > 1) else tr("robustness.value.one_level", lang)
        rd = Effect(estimate=r.rd, lower=r.rd_lower, upper=r.rd_upper)
        hr = Effect(estimate=r.hr, lower=r.hr_lower, upper=r.hr_upper)
        out.append({"_sub": r.subgroup, col["subgroup"]: level_label(r.subgroup, r.level, lang),
                    col["n"]: f"{r.persons_int} / {r.persons_ctl}",
                    col["outcome"]: f"{r.n_int}/{r.N_int} vs {r.n_ctl}/{r.N_ctl}" if lang == "en"
                    else f"{r.n_int}/{r.N_int} mod {r.n_ctl}/{r.N_ctl}",
                    col["rd"]: _rd(rd, lang), col["events"]: f"{r.events_int} / {r.events_ctl}",
                    col["hr"]: _ratio(hr, lang), col["interaction"]: inter})
    frame = pd.DataFrame(out).drop(columns="_sub") if out else pd.DataFrame(columns=list(col.values()))
    unmasked = result.subgroups_unmasked
    if unmasked is not None and len(unmasked):
        check = disclosure.check_subgroups(disclosure.mask_subgroups(unmasked, result.min_cell), result.min_cell,
                                           item=SUBGROUP_TABLE)
    else:
        check = disclosure.check_subgroups(result.subgroup_frame().assign(
            masked=[r.masked for r in result.subgroups]), result.min_cell, item=SUBGROUP_TABLE)
    return Table(SUBGROUP_TABLE, frame, check, note=tr("robustness.note.subgroups", lang, min_cell=result.min_cell),
                 caption_fields={"weeks": result.horizon_weeks})


def forest_figure(result: RobustnessResult, study, language: str | None = None) -> Figure:
    """Forest plot of the subgroup estimates (masked levels have no point), the whole cohort first."""
    lang = _lang(study, language)
    frame = result.subgroup_frame()
    frame["label"] = [level_label(r.subgroup, r.level, lang) + (" †" if r.masked else "") for r in result.subgroups]
    m, h = result.matched_rd, result.matched_hr
    overall = {"rd": m.estimate if m else None, "rd_lower": m.lower if m else None,
               "rd_upper": m.upper if m else None, "hr": h.estimate if h else None,
               "hr_lower": h.lower if h else None, "hr_upper": h.upper if h else None}
    overall = {k: (math.nan if v is None else v) for k, v in overall.items()}
    axes = plots.subgroup_forest(frame, language=lang, overall=overall)
    hidden = sum(1 for r in result.subgroups if r.masked)
    check = Check(FOREST_FIGURE, "PASS", masked=hidden,
                  detail=f"estimates only; {hidden} subgroup level(s) with a cell below {result.min_cell} not drawn",
                  detail_da=f"kun estimater; {hidden} undergruppe(r) med en celle under {result.min_cell} ikke vist")
    return Figure(FOREST_FIGURE, axes[0].figure, check, note=tr("robustness.note.forest", lang,
                                                                min_cell=result.min_cell),
                  caption_fields={"weeks": result.horizon_weeks})


def subgroup_text(result: RobustnessResult, study, language: str | None = None) -> Text:
    """The subgroup analysis is exploratory: what it can and cannot say."""
    lang = _lang(study, language)
    tested = [t for t in result.interactions if t.levels > 1 and (_ok(t.rd_p) or _ok(t.hr_p))]
    below = [t for t in tested if (_ok(t.rd_p) and t.rd_p < 0.05) or (_ok(t.hr_p) and t.hr_p < 0.05)]
    hidden = sum(1 for r in result.subgroups if r.masked)
    return Text(" ".join([tr("robustness.text.exploratory", lang),
                          tr("robustness.text.interactions", lang, n=len(tested), k=len(below)),
                          tr("robustness.text.hidden", lang, n=hidden, min_cell=result.min_cell) if hidden else ""]
                         ).strip())


# ------------------------------------------------------------------ summary and methods
def summary_line(result: RobustnessResult | None, language: str) -> str:
    """``Regression-adjusted: ...`` for the summary, beside the headline difference and hazard ratio ("" if none)."""
    if result is None or (result.adjusted_rd is None and result.adjusted_hr is None):
        return ""
    return tr("robustness.summary.adjusted", language, rd=_rd(result.adjusted_rd, language),
              hr=_ratio(result.adjusted_hr, language), weeks=result.horizon_weeks)


def methods_text(study, language: str) -> list[str]:
    """One sentence per robustness analysis the study switches on (for the methods section)."""
    cfg = study.robustness
    if not cfg.enabled:
        return []
    out = []
    if cfg.evalues:
        out.append(tr("robustness.methods.evalue", language))
    if cfg.doubly_robust:
        out.append(tr("robustness.methods.adjusted", language))
    if cfg.placebo.enabled:
        out.append(tr("robustness.methods.placebo", language, shift=cfg.placebo.shift_weeks,
                      weeks=cfg.placebo.horizon_weeks))
    if cfg.negative_control.enabled and cfg.negative_control.definition is not None:
        out.append(tr("robustness.methods.negative_control", language,
                      label=cfg.negative_control.definition.label(language).lower()))
    if cfg.heterogeneity.enabled:
        out.append(tr("robustness.methods.subgroups", language))
    return out
