"""Stage 06 in the report: the power table, a verdict per planned effect, the claim summary, curves.

Every function takes the stage's :class:`~helpers.stages.power.PowerResult` and the study
(outcome and follow-up labels) and returns a report item in the requested language
(default: the study's).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.core.i18n import tr
from helpers.disclosure import Check
from helpers.report.items import Figure, Table, Text
from helpers.report.plots.power import power_curve_panels
from helpers.stages.power import PowerResult


def _lang(study, language: str | None) -> str:
    return language or study.study.language


def _share(r) -> str:
    return f"{r['control']:.0%} vs {r['intervention']:.0%}"


def scenario_name(study, outcome: str, horizon: str, language: str) -> str:
    """"Employment, 1 year": the outcome's and follow-up point's labels from the study file."""
    d = study.outcomes.definitions.get(outcome)
    h = {x.key: x.label(language) for x in study.outcomes.horizons}.get(horizon, horizon)
    return tr("power.scenario", language, outcome=d.label(language) if d else outcome, horizon=h.lower())


def design_check(item: str) -> Check:
    """Disclosure check of a design table or figure: planned shares only, no person data."""
    return Check(item=item, status="PASS", detail=tr("check.design_only", "en"), detail_da=tr("check.design_only", "da"))


def power_table(result: PowerResult, study, language: str | None = None) -> Table:
    """The power table as printed: shares in %, powers to 3 decimals, n as integers."""
    lang = _lang(study, language)
    table = result.table()
    labels = {k: d.label(lang) for k, d in study.outcomes.definitions.items()}
    hlabels = {h.key: h.label(lang) for h in study.outcomes.horizons}
    adj = "power_fisher_adjusted" in table

    def n_or_dash(x) -> str:
        return "–" if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)) else str(int(x))

    def col(name: str) -> str:
        return tr(f"power.column.{name}", lang)

    rows = []
    for _, r in table.iterrows():
        row = {
            tr("column.outcome", lang): labels.get(r["outcome"], r["outcome"]),
            tr("column.follow_up", lang): hlabels.get(r["horizon"], r["horizon"]),
            tr("group.control", lang): f"{100 * r['control']:.0f}%",
            tr("group.intervention", lang): f"{100 * r['intervention']:.0f}%",
            col("power_arcsine"): f"{r['power_arcsine']:.3f}",
            col("power_fisher"): f"{r['power_fisher']:.3f}",
        }
        if adj:
            row[col("power_fisher_adjusted")] = "–" if r.get("role") == "primary" else f"{r['power_fisher_adjusted']:.3f}"
        row.update({
            col("n_arcsine"): n_or_dash(r["n_arcsine"]),
            col("n_fisher"): n_or_dash(r["n_fisher"]),
            col("claim_holds"): tr("word.yes" if r["claim_holds"] else "word.no", lang),
        })
        rows.append(row)
    cfg = study.power
    return Table("power_table", pd.DataFrame(rows), design_check("power_table"), note=tr("power.note.table", lang),
                 caption_fields={"n": cfg.n_per_group, "alpha": cfg.alpha, "target": cfg.target_power})


def verdicts(result: PowerResult, study, language: str | None = None) -> pd.DataFrame:
    """A plain-language verdict per scenario on the claim "n + n gives power >= target".

    Returns
    -------
    DataFrame
        ``outcome, horizon, verdict``.
    """
    lang = _lang(study, language)
    table = result.table()
    n, target = result.n_per_group, result.target_power
    adj = "power_fisher_adjusted" in table
    out = []
    for _, r in table.iterrows():
        pf, pa = r["power_fisher"], r["power_arcsine"]
        fields = {"share": _share(r), "power": f"{pf:.2f}", "n": n, "target": f"{target:.2f}"}
        text = tr("power.verdict.holds" if pf >= target else "power.verdict.fails", lang, **fields)
        if pa - pf >= 0.02:
            text += tr("power.verdict.arcsine_overstates", lang, arcsine=f"{pa:.2f}")
        if not pd.isna(r["n_fisher"]):
            text += tr("power.verdict.n_needed", lang, n_needed=int(r["n_fisher"]), target=f"{target:.2f}")
        if adj and r.get("role", "primary") == "secondary" and np.isfinite(r["power_fisher_adjusted"]):
            pj = r["power_fisher_adjusted"]
            key = "power.verdict.adjusted_below" if pj < target <= pf else "power.verdict.adjusted"
            text += tr(key, lang, adjusted=f"{pj:.2f}")
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
    n, target, alpha = result.n_per_group, result.target_power, result.alpha
    if table.empty:
        return Text(tr("power.claim.no_scenarios", lang))

    def name(r) -> str:
        return scenario_name(study, r["outcome"], r["horizon"], lang)

    t2 = f"{target:.2f}"
    worst = table.loc[table["power_fisher"].idxmin()]
    gap = table["power_arcsine"] - table["power_fisher"]
    most = table.loc[gap.idxmax()]
    big = table.loc[(table["intervention"] - table["control"]).abs().idxmax()]
    parts = [tr("power.claim.head", lang, n=n, target=t2, alpha=alpha, holds=int(table["claim_holds"].sum()),
                k=len(table), worst=name(worst), share=_share(worst), power=f"{worst['power_fisher']:.3f}")]
    if gap.max() >= 0.005:
        parts.append(tr("power.claim.arcsine_most", lang, scenario=name(most), share=_share(most),
                        arcsine=f"{most['power_arcsine']:.3f}", fisher=f"{most['power_fisher']:.3f}"))
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
            items = "; ".join(f"{name(r)} ({r['power_fisher_adjusted']:.2f})" for _, r in low.iterrows())
            parts.append(tr("power.claim.secondary_low", lang, m=m, target=t2, items=items))
        elif m > 1:
            parts.append(tr("power.claim.secondary_ok", lang, m=m, target=t2))
    parts.append(tr("power.claim.caveat", lang, scenario=name(big), share=_share(big)))
    return Text(" ".join(parts))


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
                                        share=f"{r.control:.0%} vs {r.intervention:.0%}")
             for r in keys.itertuples()}
    curves.insert(0, "scenario", [label[k] for k in zip(curves["outcome"], curves["horizon"], strict=True)])
    axes = power_curve_panels(curves, target=result.target_power, planned_n=result.n_per_group, language=lang)
    return Figure("power_curves", axes.flat[0].figure, design_check("power_curves"))
