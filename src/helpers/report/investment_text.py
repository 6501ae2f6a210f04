"""The investment section's sentences: the result in words, the calculation's notes, the projection's departures.

Every function returns text in one language, from the catalogue (``investment.narrative.*``,
``investment.note.*``, ``investment.projection.note.*``, ``investment.scenario.*``); numbers
are printed with the language's separators (:mod:`helpers.report.investment_format`).
"""

from __future__ import annotations

import math

import numpy as np

from helpers.config.schema.investment import InvestmentConfig, ProjectionConfig
from helpers.core.i18n import number, tr
from helpers.investment.analysis import InvestmentAnalysis
from helpers.investment.notes import Note
from helpers.investment.projection import Reconciliation
from helpers.report.investment_format import actor_label, fmt_number, fmt_pct
from helpers.report.investment_tables import year_labels
from helpers.stages.investment import note_text


def _n(key: str, language: str, **fields) -> str:
    return tr(f"investment.narrative.{key}", language, **fields)


def _mio(x: float, language: str) -> str:
    return fmt_number(x / 1e6, language, 1)


def narrative(analysis: InvestmentAnalysis, language: str) -> list[str]:
    """Sentences summarising the result: NPV, return and payback for the public sector and the municipality,
    the break-even effect, the Monte Carlo and the RMST cross-check."""
    L = language
    s = analysis.summary.set_index("actor")
    out = []
    H, E = analysis.settings["horizon_years"], analysis.settings["extrapolate_years"]
    span = (_n("span_extrapolated", L, observed=H, extrapolated=E) if E else _n("span_observed", L, observed=H))
    for actor in ("public", "municipality"):
        r = s.loc[actor]
        pb = r["payback_year_pv"]
        pay = _n("pays_back", L, year=int(pb)) if math.isfinite(pb) else _n("no_payback", L)
        out.append(_n("actor", L, actor=actor_label(actor, L), span=span, npv=_mio(r["npv"], L),
                      low=_mio(r["npv_low"], L), high=_mio(r["npv_high"], L),
                      ret=fmt_number(r["return_per_krone"], L, 2), pay=pay))
    b = analysis.break_even.set_index("actor")
    if "public" in b.index:
        r = b.loc["public"]
        out.append(_n("break_even", L, need=fmt_number(r["persons_needed"], L, 1),
                      share=fmt_pct(r["share_of_participants"], L), n=analysis.n_intervention,
                      seen=fmt_number(r["observed_equivalent"], L, 1)))
    mc = analysis.monte_carlo
    out.append(_n("monte_carlo", L, draws=len(mc.npv), p=fmt_pct(mc.p_positive, L)))
    if analysis.rmst is not None:
        r = analysis.rmst
        out.append(_n("rmst", L, weeks=fmt_number(r["rmst_difference_weeks"], L, 1),
                      rmst=_mio(r["savings_from_rmst"], L), years=r["years"], observed=_mio(r["savings_observed"], L)))
    return out


def earnings_share(analysis: InvestmentAnalysis, language: str) -> str | None:
    """How much of the public saving comes from tax on earnings, in present value (None without a balance)."""
    if analysis.balance is None:
        return None
    pub = analysis.balance[analysis.balance["actor"] == "public"]
    d = pub["discount_factor"].to_numpy()
    parts = {k: float(pub[k].to_numpy() @ d) for k in ("gross_benefit_savings", "lost_tax_on_benefits",
                                                        "gained_tax_on_earnings")}
    if not np.isfinite(list(parts.values())).all():
        return None
    gross, lost, gained = (_mio(v, language) for v in parts.values())
    return tr("investment.text.earnings_share", language, gross=gross, lost=lost, gained=gained)


def scenario_notes(inv: InvestmentConfig, language: str) -> list[str]:
    """The scenarios' notes (sources and assumptions) in ``language``, plus the model's own assumptions."""
    L = language
    out = [tr("investment.scenario.line", L, label=sc.label(L), note=sc.note(L)) for sc in inv.scenarios
           if sc.note is not None]
    out.append(tr("investment.scenario.model", L))
    return out


def notes(analysis: InvestmentAnalysis, language: str) -> list[str]:
    """The calculation's notes on its inputs (:class:`~helpers.investment.notes.Note`) in ``language``."""
    return [note_text(n, language) for n in analysis.notes]


# --------------------------------------------------------------------------- projection
def _thousands(x: float) -> str:
    """Whole numbers with a dot between thousands, as the application prints them (both languages)."""
    return f"{x:,.0f}".replace(",", ".")


def _reason(cfg: ProjectionConfig, f, language: str) -> str:
    for o in cfg.cell_overrides:
        if (o.hold, o.outcome, o.year) == (f["hold"], f["outcome"], f["year"]):
            return {"en": o.reason, "da": o.reason_da or o.reason}[language]
    return ""


def projection_note(note: Note, cfg: ProjectionConfig, language: str) -> str:
    """One note of :func:`helpers.investment.projection.reconcile` in ``language``."""
    L, f = language, note.fields
    key = f"investment.projection.note.{note.key}"
    if note.key == "override":
        return tr(key, L, hold=f["hold"], outcome=cfg.outcomes[f["outcome"]].label(L),
                  year=year_labels(cfg, L)[f["year"] - 1], printed=_thousands(f["printed"]),
                  model=_thousands(f["model"]), reason=_reason(cfg, f, L),
                  printed_total=_thousands(f["printed_total"]), stated_total=_thousands(f["stated_total"]))
    if note.key == "timing":
        return tr(key, L, cells=f["cells"], totals=", ".join(_thousands(v) for v in f["totals"]))
    if note.key == "deadweight":
        persons = ", ".join(tr("investment.projection.note.deadweight_persons." + ("one" if v == 1 else "many"), L,
                               n=_thousands(v) if v >= 1 else number(v, 1, L), outcome=cfg.outcomes[o].label(L))
                            for o, v in f["persons"].items())
        return tr(key, L, persons=persons, totals=", ".join(_thousands(v) for v in f["totals"]),
                  total=_thousands(f["total"]), stated_total=_thousands(f["stated_total"]))
    return tr(key, L, **f)


def projection_notes(rec: Reconciliation, cfg: ProjectionConfig, language: str) -> list[str]:
    """Where the printed projection departs from its stated assumptions, in ``language``."""
    return [projection_note(n, cfg, language) for n in rec.notes]
