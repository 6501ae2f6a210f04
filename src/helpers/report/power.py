"""Stage 07 in the report: the power of the analysed design, masking, the survival endpoint, planned vs observed.

Every function takes the stage's :class:`~helpers.stages.power.PowerResult` and the study
(outcome and follow-up labels) and returns a report item in the requested language
(default: the study's).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.core.i18n import number, percent, short, tr
from helpers.disclosure import Check
from helpers.report.items import Figure, Table, Text
from helpers.report.plots.power import power_curve_panels
from helpers.stages.power import PowerResult


def _lang(study, language: str | None) -> str:
    return language or study.study.language


def _share(r, language: str = "en") -> str:
    return f"{percent(r['control'], 0, language)} vs {percent(r['intervention'], 0, language)}"


def _p(x: float, digits: int, language: str) -> str:
    return number(x, digits, language)


def scenario_name(study, outcome: str, horizon: str, language: str) -> str:
    """"Employment, 1 year": the outcome's and follow-up point's labels from the study file."""
    d = study.outcomes.definitions.get(outcome)
    h = {x.key: x.label(language) for x in study.outcomes.horizons}.get(horizon, horizon)
    return tr("power.scenario", language, outcome=d.label(language) if d else outcome, horizon=h.lower())


def design_check(item: str) -> Check:
    """Disclosure check of a design table or figure: planned shares only, no person data."""
    return Check(item=item, status="PASS", detail=tr("check.design_only", "en"), detail_da=tr("check.design_only", "da"))


def test_name(result: PowerResult, language: str) -> str:
    """The headline test whose power is shown, in words."""
    return tr(f"power.test.{result.headline_test}", language, rho=short(result.pair_correlation, language),
              draws=result.monte_carlo_draws)


def power_table(result: PowerResult, study, language: str | None = None) -> Table:
    """Power per planned scenario: the headline test, Fisher's exact test and the arcsine formula."""
    lang = _lang(study, language)
    table = result.table()
    labels = {k: d.label(lang) for k, d in study.outcomes.definitions.items()}
    hlabels = {h.key: h.label(lang) for h in study.outcomes.horizons}
    adj = "power_fisher_adjusted" in table

    def col(name: str) -> str:
        return tr(f"power.column.{name}", lang)

    rows = []
    for _, r in table.iterrows():
        row = {
            tr("column.outcome", lang): labels.get(r["outcome"], r["outcome"]),
            tr("column.follow_up", lang): hlabels.get(r["horizon"], r["horizon"]),
            tr("group.control", lang): percent(r["control"], 0, lang),
            tr("group.intervention", lang): percent(r["intervention"], 0, lang),
            col("power_headline"): _p(r["power_headline"], 3, lang),
            col("power_fisher"): _p(r["power_fisher"], 3, lang),
            col("power_arcsine"): _p(r["power_arcsine"], 3, lang),
        }
        if adj:
            row[col("power_fisher_adjusted")] = ("–" if r.get("role") == "primary"
                                                 else _p(r["power_fisher_adjusted"], 3, lang))
        row[col("claim_holds")] = tr("word.yes" if r["claim_holds"] else "word.no", lang)
        rows.append(row)
    return Table("power_table", pd.DataFrame(rows), design_check("power_table"),
                 note=tr("power.note.table", lang, test=test_name(result, lang)),
                 caption_fields={"n": result.n_per_group, "n_control": result.n_control,
                                 "alpha": short(result.alpha, lang)})


def masking_table(result: PowerResult, study, language: str | None = None) -> Table:
    """Expected persons with the outcome, the chance the point is masked, and the persons needed."""
    lang = _lang(study, language)
    table = result.table()
    labels = {k: d.label(lang) for k, d in study.outcomes.definitions.items()}
    hlabels = {h.key: h.label(lang) for h in study.outcomes.horizons}

    def n_or_dash(x) -> str:
        return "–" if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)) else str(int(x))

    def col(name: str) -> str:
        return tr(f"power.column.{name}", lang)

    rows = []
    for _, r in table.iterrows():
        masked = max(r["masked_probability_intervention"], r["masked_probability_control"])
        rows.append({
            tr("column.outcome", lang): labels.get(r["outcome"], r["outcome"]),
            tr("column.follow_up", lang): hlabels.get(r["horizon"], r["horizon"]),
            col("expected_intervention"): number(r["expected_intervention"], 1, lang),
            col("expected_control"): number(r["expected_control"], 1, lang),
            col("masked_probability"): percent(masked, 0, lang),
            col("n_fisher"): n_or_dash(r["n_fisher"]),
            col("n_arcsine"): n_or_dash(r["n_arcsine"]),
        })
    return Table("power_masking", pd.DataFrame(rows), design_check("power_masking"),
                 note=tr("power.note.masking", lang),
                 caption_fields={"min_cell": result.min_cell, "target": short(result.target_power, lang)})


def design_text(result: PowerResult, study, language: str | None = None) -> Text:
    """The design the power is computed for (and, with replacement, how many persons fill the control places)."""
    lang = _lang(study, language)
    key = "power.design.pairs" if result.design == "pairs" else "power.design.weighted"
    text = tr(key, lang, n=result.n_per_group, n_control=result.n_control,
              ratio=max(1, round(result.n_control / result.n_per_group)))
    if (result.unique_controls is not None and result.control_places is not None
            and result.unique_controls < result.control_places):
        text += tr("power.design.reused", lang, places=result.control_places, unique=result.unique_controls)
    return Text(text)


def _masked_note(r, result: PowerResult, lang: str) -> str:
    """'; the control group is expected to have 2.5 persons ...' when a group will probably be masked."""
    for group, n in (("control", result.n_control), ("intervention", result.n_per_group)):
        prob = r[f"masked_probability_{group}"]
        if prob >= 0.5:
            with_outcome = r[f"expected_{group}"]
            side, expected = ("with", with_outcome) if with_outcome <= n / 2 else ("without", n - with_outcome)
            return tr("power.verdict.masked", lang, group=tr(f"power.group_word.{group}", lang),
                      expected=number(expected, 1, lang), n=n, side=tr(f"power.side.{side}", lang),
                      probability=percent(prob, 0, lang))
    return ""


def verdicts(result: PowerResult, study, language: str | None = None) -> pd.DataFrame:
    """A plain-language verdict per scenario on the claim "n + n gives power >= target".

    Returns
    -------
    DataFrame
        ``outcome, horizon, verdict``.
    """
    lang = _lang(study, language)
    table = result.table()
    target = result.target_power
    adj = "power_fisher_adjusted" in table
    out = []
    for _, r in table.iterrows():
        ph, pf, pa = r["power_headline"], r["power_fisher"], r["power_arcsine"]
        fields = {"share": _share(r, lang), "power": _p(ph, 2, lang), "n": result.n_per_group,
                  "n_control": result.n_control, "target": _p(target, 2, lang)}
        text = tr("power.verdict.holds" if ph >= target else "power.verdict.fails", lang, **fields)
        if pa - pf >= 0.02:
            text += tr("power.verdict.arcsine_overstates", lang, arcsine=_p(pa, 2, lang))
        if not pd.isna(r["n_fisher"]):
            text += tr("power.verdict.n_needed", lang, n_needed=int(r["n_fisher"]), target=_p(target, 2, lang))
        if adj and r.get("role", "primary") == "secondary" and np.isfinite(r["power_fisher_adjusted"]):
            pj = r["power_fisher_adjusted"]
            key = "power.verdict.adjusted_below" if pj < target <= pf else "power.verdict.adjusted"
            text += tr(key, lang, adjusted=_p(pj, 2, lang))
        text += _masked_note(r, result, lang)
        out.append({"outcome": r["outcome"], "horizon": r["horizon"],
                    "verdict": tr("power.verdict.line", lang,
                                  scenario=scenario_name(study, r["outcome"], r["horizon"], lang), verdict=text)})
    return pd.DataFrame(out, columns=["outcome", "horizon", "verdict"])


def verdicts_text(result: PowerResult, study, language: str | None = None) -> Text:
    """The verdicts as a Markdown bullet list."""
    return Text("\n".join(f"- {v}" for v in verdicts(result, study, language)["verdict"]))


def claim_text(result: PowerResult, study, language: str | None = None) -> Text:
    """Plain-language verdict on the design claim "n + n gives power >= target for all outcomes"."""
    lang = _lang(study, language)
    table = result.table()
    target, alpha = result.target_power, result.alpha
    if table.empty:
        return Text(tr("power.claim.no_scenarios", lang))

    def name(r) -> str:
        return scenario_name(study, r["outcome"], r["horizon"], lang)

    t2 = _p(target, 2, lang)
    worst = table.loc[table["power_headline"].idxmin()]
    gap = table["power_arcsine"] - table["power_fisher"]
    most = table.loc[gap.idxmax()]
    big = table.loc[(table["intervention"] - table["control"]).abs().idxmax()]
    how = tr("power.claim.how.monte_carlo" if result.headline_test == "weighted_clustered" else "power.claim.how.exact",
             lang)
    parts = [tr("power.claim.head", lang, n=result.n_per_group, n_control=result.n_control, target=t2,
                alpha=short(alpha, lang), how=how, holds=int(table["claim_holds"].sum()), k=len(table),
                worst=name(worst), share=_share(worst, lang), power=_p(worst["power_headline"], 3, lang),
                fisher_holds=int((table["power_fisher"] >= target).sum()))]
    if gap.max() >= 0.005:
        parts.append(tr("power.claim.arcsine_most", lang, scenario=name(most), share=_share(most, lang),
                        arcsine=_p(most["power_arcsine"], 3, lang), fisher=_p(most["power_fisher"], 3, lang)))
    zero = table[(table["control"] == 0) & table["n_arcsine"].notna() & table["n_fisher"].notna()]
    if len(zero):
        z = zero.iloc[0]
        parts.append(tr("power.claim.zero_control", lang, n_arcsine=int(z["n_arcsine"]), n_fisher=int(z["n_fisher"]),
                        scenario=name(z)))
    if "power_fisher_adjusted" in table:
        sec = table[table["role"] == "secondary"]
        m = int(len(sec))
        low = sec[(sec["power_fisher_adjusted"] < target) & (sec["power_fisher"] >= target)]
        if m > 1 and len(low):
            items = "; ".join(f"{name(r)} ({_p(r['power_fisher_adjusted'], 2, lang)})" for _, r in low.iterrows())
            parts.append(tr("power.claim.secondary_low", lang, m=m, target=t2, items=items))
        elif m > 1:
            parts.append(tr("power.claim.secondary_ok", lang, m=m, target=t2))
    masked = table[(table["masked_probability_control"] >= 0.5) | (table["masked_probability_intervention"] >= 0.5)]
    if len(masked):
        items = "; ".join(f"{name(r)} ({_masked_note(r, result, lang).lstrip('; ')})" for _, r in masked.iterrows())
        parts.append(tr("power.claim.masked", lang, k=len(masked), min_cell=result.min_cell, items=items))
    parts.append(tr("power.claim.caveat", lang, scenario=name(big), share=_share(big, lang)))
    return Text(" ".join(parts))


def survival_text(result: PowerResult, study, language: str | None = None) -> Text:
    """Power of the time-to-event endpoint for the planned hazard ratio (or why it is not computed)."""
    lang = _lang(study, language)
    s = result.survival
    if s is None:
        return Text(tr("power.survival.none", lang))
    return Text(tr("power.survival.text", lang, hr=short(s.hazard_ratio, lang),
                   q0=percent(s.control_event_share, 0, lang), q1=percent(s.intervention_event_share, 0, lang),
                   n=result.n_per_group, n_control=result.n_control, events=number(s.expected_events, 0, lang),
                   power=_p(s.power, 2, lang), alpha=short(result.alpha, lang),
                   needed=number(s.events_needed, 0, lang), target=_p(result.target_power, 2, lang),
                   source=tr("power.survival.source", lang, source=s.source) if s.source else ""))


def observed_table(result: PowerResult, study, language: str | None = None) -> Table | Text:
    """Planned shares beside the observed ones (masked points not shown)."""
    lang = _lang(study, language)
    if not result.observed:
        return Text(tr("power.observed.none", lang))
    labels = {k: d.label(lang) for k, d in study.outcomes.definitions.items()}
    hlabels = {h.key: h.label(lang) for h in study.outcomes.horizons}
    masked = tr("power.masked_cell", lang, min_cell=result.min_cell)

    def col(name: str) -> str:
        return tr(f"power.column.{name}", lang)

    rows = []
    for o in result.observed:
        shown = not o.masked and o.observed_control is not None
        ci = (f"{number(100 * o.observed_difference, 1, lang)} ("
              + tr("interval", lang, low=number(100 * o.ci_low, 1, lang), high=number(100 * o.ci_high, 1, lang)) + ")"
              if shown and o.observed_difference is not None and o.ci_low is not None else "–")
        rows.append({
            tr("column.outcome", lang): labels.get(o.outcome, o.outcome),
            tr("column.follow_up", lang): hlabels.get(o.horizon, o.horizon),
            col("planned"): f"{percent(o.planned_control, 0, lang)} / {percent(o.planned_intervention, 0, lang)}",
            col("observed"): (f"{percent(o.observed_control, 0, lang)} / {percent(o.observed_intervention, 0, lang)}"
                              if shown else masked),
            col("observed_difference"): ci if shown else masked,
            col("planned_in_ci"): ("–" if o.planned_difference_in_ci is None
                                   else tr("word.yes" if o.planned_difference_in_ci else "word.no", lang)),
        })
    check = Check(item="power_observed", status="PASS",
                  detail="shares of points whose counts passed disclosure control; masked points not shown",
                  detail_da="andele ved tidspunkter, hvis antal bestod diskretionskontrollen; skjulte tidspunkter vises ikke")
    return Table("power_observed", pd.DataFrame(rows), check)


def curves_figure(result: PowerResult, study, language: str | None = None) -> Figure:
    """Power curves of the primary outcome's scenarios and the weakest scenario (needs a fresh result)."""
    lang = _lang(study, language)
    curves = result.curves
    if curves is None:
        raise ValueError("PowerResult.curves is empty: the figure needs the result of stages.power.run, not a "
                         "result read back from power_results.json")
    curves = curves.copy()
    keys = curves[["outcome", "horizon", "control", "intervention"]].drop_duplicates()
    label = {(r.outcome, r.horizon): tr("power.figure.panel", lang,
                                        scenario=scenario_name(study, r.outcome, r.horizon, lang),
                                        share=f"{percent(r.control, 0, lang)} vs {percent(r.intervention, 0, lang)}")
             for r in keys.itertuples()}
    curves.insert(0, "scenario", [label[k] for k in zip(curves["outcome"], curves["horizon"], strict=True)])
    axes = power_curve_panels(curves, target=result.target_power, planned_n=result.n_per_group, language=lang)
    return Figure("power_curves", axes.flat[0].figure, design_check("power_curves"))
