"""Stage 04 in the report: definitions, event counts, curves, hazard ratios, competing risks, RMST.

Every function takes the stage's :class:`~helpers.stages.survival.SurvivalResult` and the
study and returns a report item in the requested language (default: the study's). Words
come from the catalogue (``survival.*`` in ``helpers/data/i18n/survival.yaml``); numbers are
formatted with :func:`helpers.core.i18n.number` (Danish decimal comma). The tables and
figures need the unmasked analysis of a fresh result (``stages.survival.run``); they mask
through :mod:`helpers.disclosure.survival`. The sentences need only the saved result.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from helpers.core.i18n import group_label, number, tr
from helpers.disclosure import combine
from helpers.disclosure import survival as disclosure
from helpers.report.items import Figure, Table, Text
from helpers.report.plots import survival as plots
from helpers.stages.survival import SurvivalResult
from helpers.stats.survival.tte import GROUPS, SELF_SUPPORT


def _lang(study, language: str | None) -> str:
    return language or study.study.language


# ------------------------------------------------------------------ numbers as shown
def _shown(x, fmt) -> str:
    """Masked strings pass through; missing or infinite numbers become blank; else ``fmt(x)``."""
    if isinstance(x, str):
        return x
    if x is None or not np.isfinite(x):
        return ""
    return fmt(x)


def _fmt(x, lang: str, digits: int = 2) -> str:
    return _shown(x, lambda v: number(v, digits, lang))


def _pct(x, lang: str) -> str:
    return _shown(x, lambda v: number(100 * v, 1, lang))


def _p(x, lang: str) -> str:
    return _shown(x, lambda v: "<" + number(0.001, 3, lang) if v < 0.001 else number(v, 3, lang))


def _interval(low: str, high: str, lang: str) -> str:
    return tr("interval", lang, low=low, high=high)


def _col(name: str, lang: str, **fields) -> str:
    return tr(f"survival.column.{name}", lang, **fields)


def event_label(event: int, language: str) -> str:
    """Display name of an event code (0 censored, 1 lasting self-support, 2 disability pension, 3 exit)."""
    return plots.event_label(event, language)


# ------------------------------------------------------------------ text
def definition_text(result: SurvivalResult, study, language: str | None = None) -> Text:
    """The time-to-event definitions the stage used, as a paragraph."""
    lang = _lang(study, language)
    d = result.definition
    n = d.lasting_weeks
    employment = tr("survival.definition.employment", lang) if d.require_employment else ""
    parts = [
        tr("survival.definition.start", lang, n=n, employment=employment),
        tr("survival.definition.disability_pension."
           + ("competing" if d.competing_disability_pension else "not_competing"), lang),
        tr(f"survival.definition.exits.{d.exits}", lang),
        tr("survival.definition.censoring", lang, n=n, n_before=n - 1,
           max_weeks=tr("survival.definition.max_weeks", lang, max_weeks=d.max_weeks) if d.max_weeks else ""),
    ]
    return Text(" ".join(parts))


def ci_side(low, high, null: float) -> str:
    """Where a 95% CI lies with respect to the null value: ``"above"``, ``"below"`` or ``"covers"``.

    A missing limit counts as covering the null: no direction is claimed without an interval.

    >>> ci_side(0.87, 3.79, 1.0), ci_side(1.2, 4.45, 1.0), ci_side(-30.0, -2.0, 0.0)
    ('covers', 'above', 'below')
    """
    lo, hi = _finite(low), _finite(high)
    if lo is not None and hi is not None:
        if lo > null:
            return "above"
        if hi < null:
            return "below"
    return "covers"


def _finite(x) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def hr_text(result: SurvivalResult, study, language: str | None = None) -> Text:
    """The hazard-ratio result in words; a direction only when the 95% CI excludes 1 (:func:`ci_side`)."""
    lang = _lang(study, language)
    if result.hr is None:
        return Text(tr("survival.hr.not_estimable", lang, note=result.cox_note or ""))
    low, high = number(result.hr_ci_low, 2, lang), number(result.hr_ci_high, 2, lang)
    wording = {"above": "higher", "below": "lower", "covers": "no_clear_difference"}[
        ci_side(result.hr_ci_low, result.hr_ci_high, 1.0)]
    return Text(tr(f"survival.hr.{wording}", lang, hr=number(result.hr, 2, lang), ci=_interval(low, high, lang),
                   low=low, high=high, p=_p(result.hr_p, lang),
                   method=tr(f"survival.hr.method.{result.cox_method}", lang)))


def ph_text(result: SurvivalResult, study, language: str | None = None) -> Text:
    """Plain-language reading of the proportional-hazards test of the intervention (rank transform)."""
    lang = _lang(study, language)
    a = result.require_analysis("survival_report.ph_text")
    rows = a.ph[(a.ph["covariate"] == "intervention") & (a.ph["transform"] == "rank")] if len(a.ph) else a.ph
    if not len(rows):
        return Text(tr("survival.ph.not_computed", lang))
    p = float(rows["p"].iloc[0])
    return Text(tr("survival.ph.significant" if p < 0.05 else "survival.ph.not_significant", lang, p=_p(p, lang)))


def rmst_text(result: SurvivalResult, study, language: str | None = None) -> Text:
    """The restricted-mean result in words; "earlier"/"later" only when the 95% CI excludes 0 (:func:`ci_side`)."""
    lang = _lang(study, language)
    d = result.rmst_difference_weeks
    h = int(result.rmst_horizon_weeks)
    if d is None:
        return Text(tr("survival.rmst.masked", lang, horizon=h))
    lo, hi = result.rmst_difference_ci_low, result.rmst_difference_ci_high
    cif = result.cif_weeks_after_difference
    side = ci_side(lo, hi, 0.0)
    ci = (_interval(number(lo, 1, lang), number(hi, 1, lang), lang) if _finite(lo) is not None
          and _finite(hi) is not None else tr("survival.rmst.no_ci", lang))
    fields = dict(horizon=h, difference=number(d, 1, lang), ci=ci,
                  cif=tr("survival.rmst.cif", lang, cif=number(cif, 1, lang)) if cif is not None else "")
    if side == "covers":
        return Text(tr("survival.rmst.no_clear_difference", lang, **fields))
    return Text(tr("survival.rmst.result", lang, abs_difference=number(abs(d), 1, lang),
                   way=tr("survival.rmst.earlier" if side == "above" else "survival.rmst.later", lang), **fields))


# ------------------------------------------------------------------ tables
def events_table(result: SurvivalResult, study, language: str | None = None) -> Table:
    """Persons and first events by group: counts below min_cell as ``"<5"``, complementary ones as ``"x"``."""
    lang = _lang(study, language)
    a = result.require_analysis("survival_report.events_table")
    key = "survival_events"
    masked, check = disclosure.mask_event_counts(a.events, a.min_cell, item=key)
    names = {"group": _col("group", lang), "n": _col("n", lang),
             **{name: tr(f"survival.event.{name}", lang)
                for name in ("self_support", "disability_pension", "exit", "censored")}}
    masked["group"] = [group_label(g, lang) for g in masked["group"]]
    return Table(key, masked.rename(columns=names), check)


def published(result: SurvivalResult):
    """Which shares of the fixed-weeks and cumulative-incidence tables are printed (one decision for both)."""
    a = result.require_analysis("survival_report.published")
    return disclosure.published_estimates(a.tte, a.times, a.events, a.min_cell)


def medians_table(result: SurvivalResult, study, language: str | None = None) -> Table:
    """Median weeks to lasting self-support (rounded up to the curve grid) and the log-rank test."""
    lang = _lang(study, language)
    a = result.require_analysis("survival_report.medians_table")
    key = "survival_medians"
    nr = tr("survival.table.not_reached", lang)
    rows = []
    for _, r in a.medians.iterrows():
        reached = np.isfinite(r["median"])
        rows.append({"group": group_label(r["group"], lang),
                     "median": f"{r['median']:.0f}" if reached else nr,
                     "ci": _interval(_fmt(r["lower"], lang, 0) or "-", _fmt(r["upper"], lang, 0) or nr, lang)
                     if reached else ""})
    rows.append({"group": tr("survival.table.logrank", lang),
                 "median": tr("survival.table.chi2", lang, chi2=number(a.logrank.chi2, 2, lang, missing="nan")),
                 "ci": tr("survival.table.p", lang, p=_p(a.logrank.p, lang))})
    names = {"group": _col("group", lang), "median": _col("median", lang, grid=a.grid), "ci": _col("ci", lang)}
    return Table(key, pd.DataFrame(rows).rename(columns=names), disclosure.check_medians(a.grid, item=key),
                 note=tr("survival.note.medians", lang))


def fixed_times_table(result: SurvivalResult, study, language: str | None = None) -> Table:
    """Cumulative share reaching lasting self-support at fixed weeks, by group, and the difference.

    A group's share is hidden (``"x"``) when it rests on small counts or would reveal a count
    that the events table hides (:func:`helpers.disclosure.survival.published_estimates`); the
    difference, its CI and p are hidden when either share is.
    """
    lang = _lang(study, language)
    a = result.require_analysis("survival_report.fixed_times_table")
    key = "survival_fixed_times"
    f = a.fixed
    pub = published(result)
    hide = {g: [not disclosure.is_shown(pub, g, SELF_SUPPORT, t) for t in f["time"]] for g in GROUPS}
    either = [c or i for c, i in zip(hide["control"], hide["intervention"], strict=True)]
    shown = pd.DataFrame({
        "weeks": f["time"].astype(int),
        "control": [_pct(x, lang) for x in f["control"]],
        "intervention": [_pct(x, lang) for x in f["intervention"]],
        "difference": [_pct(x, lang) for x in f["difference"]],
        "ci": [_interval(_pct(lo, lang), _pct(hi, lang), lang) if np.isfinite(lo) else ""
               for lo, hi in zip(f["ci_low"], f["ci_high"], strict=True)],
        "p": [_p(x, lang) for x in f["p"]],
    })
    masked, check = disclosure.mask_cells(shown, {**hide, "difference": either, "ci": either, "p": either},
                                          item=key, min_cell=a.min_cell)
    names = {"weeks": _col("weeks_after_index", lang),
             **{g: _col("group_share", lang, group=group_label(g, lang)) for g in GROUPS},
             "difference": _col("difference_points", lang), "ci": _col("ci", lang), "p": _col("p", lang)}
    return Table(key, masked.rename(columns=names), check, note=tr("survival.note.fixed_times", lang))


#: The Cox model's English remarks (helpers.stats.survival.cox) -> catalogue key (``survival.cox_note.<key>``).
COX_NOTES = (
    (re.compile(r"controls reused across matched sets \(matching with replacement\): robust variance clustered by "
                r"matched set, sets sharing a control merged \((?P<clusters>\d+) clusters\)"), "reused"),
    (re.compile(r"covariates constant within matched sets left out \(absorbed by the strata\): (?P<covariates>[^;]*)"),
     "constant"),
    (re.compile(re.escape("lifelines reported a convergence problem (few events or separation); read the estimate "
                          "with care")), "convergence"),
    (re.compile(r"the Cox model did not converge \((?P<reason>[^)]*)\)"), "not_converged"),
    (re.compile(re.escape("no lasting self-support events in one group: the hazard ratio cannot be estimated")),
     "no_events"),
)


def cox_note(note: str, language: str) -> str:
    """The Cox model's remarks in ``language``: every remark the catalogue knows is written in its words."""
    for pattern, key in COX_NOTES:
        note = pattern.sub(lambda m, k=key: tr(f"survival.cox_note.{k}", language, **m.groupdict()), note or "")
    return note


def cox_table(result: SurvivalResult, study, language: str | None = None) -> Table:
    """Hazard ratios (primary and sensitivity model) with 95% CI and p; the model's remark as note."""
    lang = _lang(study, language)
    a = result.require_analysis("survival_report.cox_table")
    key = "survival_cox"
    rows = []
    for role, cox in (("primary", a.cox), ("sensitivity", a.cox_sensitivity)):
        model = tr(f"survival.table.model.{cox.method}", lang)
        if role == "sensitivity":
            model = tr("survival.table.model.sensitivity", lang, model=model)
        for _, r in cox.summary.iterrows():
            rows.append({
                "model": model,
                "covariate": (tr("survival.table.intervention_vs_control", lang) if r["covariate"] == "intervention"
                              else r["covariate"]),
                "hr": _fmt(r["hr"], lang),
                "ci": _interval(_fmt(r["hr_low"], lang), _fmt(r["hr_high"], lang), lang)
                if np.isfinite(r["hr_low"]) else "",
                "p": _p(r["p"], lang), "events": cox.n_events, "n": cox.n,
            })
    frame, check = disclosure.mask_count_columns(pd.DataFrame(rows), ["events", "n"], a.min_cell, item=key)
    names = {name: _col(col, lang) for name, col in (("model", "model"), ("covariate", "covariate"),
                                                     ("hr", "hazard_ratio"), ("ci", "ci"), ("p", "p"),
                                                     ("events", "events"), ("n", "n"))}
    return Table(key, frame.rename(columns=names), check, note=cox_note(a.cox.note, lang))


def ph_table(result: SurvivalResult, study, language: str | None = None) -> Table:
    """Proportional-hazards tests (scaled Schoenfeld residuals; rank and Kaplan-Meier time scales)."""
    lang = _lang(study, language)
    a = result.require_analysis("survival_report.ph_table")
    key = "survival_ph_table"
    frame = a.ph.copy()
    frame["covariate"] = [group_label("intervention", lang) if c == "intervention" else c for c in frame["covariate"]]
    frame["statistic"] = [_fmt(x, lang) for x in frame["statistic"]]
    frame["p"] = [_p(x, lang) for x in frame["p"]]
    names = {"covariate": _col("covariate", lang), "transform": _col("time_scale", lang),
             "statistic": _col("chi_square", lang), "p": _col("p", lang)}
    return Table(key, frame.rename(columns=names), disclosure.check_statistics_only(key))


def cif_table(result: SurvivalResult, study, language: str | None = None) -> Table:
    """Cumulative incidence (Aalen-Johansen) of each event at fixed weeks, with 1 - KM beside self-support.

    Hidden shares show ``"x"`` (:func:`helpers.disclosure.survival.published_estimates`, the same
    decision as the fixed-weeks table's).
    """
    lang = _lang(study, language)
    a = result.require_analysis("survival_report.cif_table")
    key = "survival_cif_table"
    km = a.fixed.set_index("time")  # 1 - Kaplan-Meier of each group at the fixed times
    rows = []
    for _, r in a.cif_table.iterrows():
        one_minus_km = km.loc[r["time"], r["group"]] if r["event"] == SELF_SUPPORT else np.nan
        rows.append({"event": event_label(int(r["event"]), lang), "group": group_label(r["group"], lang),
                     "weeks": int(r["time"]), "cif": _pct(r["cif"], lang),
                     "ci": _interval(_pct(r["lower"], lang), _pct(r["upper"], lang), lang)
                     if np.isfinite(r["lower"]) else "",
                     "km": _pct(one_minus_km, lang)})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return Table(key, frame, disclosure.check_no_rows(key))
    pub = published(result)
    hide = [not disclosure.is_shown(pub, r["group"], int(r["event"]), r["time"]) for _, r in a.cif_table.iterrows()]
    hide_km = [h and has_km for h, has_km in zip(hide, frame["km"] != "", strict=True)]
    masked, check = disclosure.mask_cells(frame, {"cif": hide, "ci": hide, "km": hide_km}, item=key,
                                          min_cell=a.min_cell)
    names = {"event": _col("event", lang), "group": _col("group", lang), "weeks": _col("weeks", lang),
             "cif": _col("cumulative_incidence", lang), "ci": _col("ci", lang), "km": _col("one_minus_km", lang)}
    return Table(key, masked.rename(columns=names), check)


def rmst_table(result: SurvivalResult, study, language: str | None = None) -> Table:
    """Restricted mean weeks before and after reaching lasting self-support, and the difference."""
    lang = _lang(study, language)
    a = result.require_analysis("survival_report.rmst_table")
    key = "survival_rmst"
    label = disclosure.mask_label(a.min_cell)
    t = a.rmst.table.set_index("group")
    small = disclosure.rmst_masked(a.rmst.table, a.min_cell)
    area = a.cif_weeks_after.set_index("group")["weeks_after"]

    def shown(x) -> str:
        return label if small else _fmt(x, lang, 1)

    rows = [{"row": group_label(g, lang), "before": shown(t.loc[g, "rmst"]), "after": shown(t.loc[g, "weeks_after"]),
             "after_cif": shown(area[g]), "ci": ""} for g in GROUPS]
    lo, hi = result.rmst_difference_ci_low, result.rmst_difference_ci_high
    clo, chi = result.cif_weeks_after_difference_ci_low, result.cif_weeks_after_difference_ci_high
    if small:
        ci = label
    else:
        ci = _interval(_fmt(lo, lang, 1), _fmt(hi, lang, 1), lang) if lo is not None else ""
        if clo is not None:
            ci += "; " + _interval(_fmt(clo, lang, 1), _fmt(chi, lang, 1), lang)
    rows.append({"row": tr("survival.table.rmst_difference", lang), "before": shown(-a.rmst.difference),
                 "after": shown(a.rmst.difference), "after_cif": shown(area["intervention"] - area["control"]),
                 "ci": ci})
    h = int(a.horizon)
    names = {"row": "", "before": _col("rmst_before", lang, horizon=h), "after": _col("rmst_after_km", lang),
             "after_cif": _col("rmst_after_aj", lang), "ci": _col("rmst_ci", lang)}
    method = tr("survival.rmst_ci_method." + ("bootstrap" if result.rmst_ci_bootstrap else "greenwood"), lang)
    note = tr("survival.note.rmst", lang, method=method, draws=result.bootstrap_draws,
              offset=result.seed_offsets.bootstrap)
    return Table(key, pd.DataFrame(rows).rename(columns=names), disclosure.check_rmst(small, a.min_cell, item=key),
                 note=note, caption_fields={"horizon": h})


# ------------------------------------------------------------------ figures
def km_figure(result: SurvivalResult, study, language: str | None = None) -> Figure:
    """Cumulative share reaching lasting self-support (1 - KM, disclosure-safe steps) with the risk table.

    The curve steps at every week whose share the fixed-weeks table prints and at the printed
    median, so each printed value lies on it; the x axis is ticked at week 0, every follow-up
    point and yearly after the last one, and the risk table has a column at every tick.
    """
    lang = _lang(study, language)
    a = result.require_analysis("survival_report.km_figure")
    key = "survival_km"
    curve, curve_check = km_curve_shown(result, item=key)
    risk, risk_check = disclosure.mask_risk_table(a.risk, a.min_cell, item=key,
                                                  keep=disclosure.shown_weeks(published(result)))
    ax = plots.plot_cumulative_share(curve, risk, language=lang)
    note = tr("survival.note.km", lang, grid=a.grid, min_cell=a.min_cell, secondary=disclosure.SECONDARY_MASK)
    return Figure(key, ax.figure, combine(key, curve_check, risk_check), note=note)


def km_curve_shown(result: SurvivalResult, *, item: str = "survival_km"):
    """The disclosure-safe 1 - Kaplan-Meier curve that :func:`km_figure` draws, and its check."""
    a = result.require_analysis("survival_report.km_curve_shown")
    freeze = {g: week for (g, k), week in disclosure.frozen_after(published(result)).items() if k == SELF_SUPPORT}
    return disclosure.km_curve(a.tte, a.km, a.min_cell, a.grid, item=item, anchors=km_anchors(result),
                               freeze=freeze)


def cif_curves_shown(result: SurvivalResult, *, item: str = "survival_cif"):
    """The disclosure-safe Aalen-Johansen curves that :func:`cif_figure` draws, and their check."""
    a = result.require_analysis("survival_report.cif_curves_shown")
    pub = published(result)
    anchors = {(g, int(k)): [float(t) for t in s["time"]]
               for (g, k), s in pub[pub["shown"]].groupby(["group", "event"], sort=False)}
    return disclosure.cif_curves(a.tte, a.cif, a.min_cell, a.grid, item=item, anchors=anchors,
                                 freeze=disclosure.frozen_after(pub))


def km_anchors(result: SurvivalResult) -> dict:
    """``{group: weeks}`` at which the Kaplan-Meier figure shows its exact value: printed shares and medians."""
    a = result.require_analysis("survival_report.km_anchors")
    anchors = disclosure.shown_weeks(published(result))
    for _, r in a.medians.iterrows():
        if np.isfinite(r["median"]):
            anchors[r["group"]] = sorted({*anchors.get(r["group"], []), float(r["median"])})
    return anchors


def ph_figure(result: SurvivalResult, study, language: str | None = None) -> Figure:
    """Binned scaled Schoenfeld residuals of the intervention against the constant Cox estimate."""
    lang = _lang(study, language)
    a = result.require_analysis("survival_report.ph_figure")
    key = "survival_ph_figure"
    ax = plots.plot_schoenfeld(a.ph_bins, float(a.cox.row("intervention")["coef"]), language=lang)
    return Figure(key, ax.figure, disclosure.check_bins(a.ph_bins, a.min_cell, item=key))


def cif_figure(result: SurvivalResult, study, language: str | None = None) -> Figure:
    """Aalen-Johansen cumulative incidence of each event type by group (disclosure-safe steps).

    The curves step at every week whose incidence the table prints; an event type whose curves
    never leave 0 (fewer than min_cell events in every group) gets no panel, and the note says so.
    """
    lang = _lang(study, language)
    a = result.require_analysis("survival_report.cif_figure")
    key = "survival_cif"
    curve, check = cif_curves_shown(result, item=key)
    drawn = sorted(int(k) for k, c in curve.groupby("event") if (c["estimate"] > 0).any()) if len(curve) else []
    left_out = [event_label(int(k), lang) for k in sorted(curve["event"].unique()) if int(k) not in drawn] \
        if len(curve) else []
    axes = plots.plot_cif(curve[curve["event"].isin(drawn)] if len(curve) else curve, language=lang,
                          ticks=list(a.risk.columns.drop(["group", "measure"])))
    note = tr("survival.note.cif_not_drawn", lang, events=", ".join(left_out), min_cell=a.min_cell) \
        if left_out else ""
    return Figure(key, axes[0].figure, check, note=note)
