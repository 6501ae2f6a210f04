"""The city council's page: the business case in plain language (notebook 90, its own printed page).

Everything comes from the investment stage's saved result
(:class:`~helpers.stages.investment.InvestmentResult`, ``investment_results.json``), so the
page can sit in the report's front matter. Words come from the catalogue (``council.*``,
``council.yaml``; the municipality and the state are ``actor_phrase.*``); numbers are
formatted in the study's language. Words a councillor may not know are explained in the
glossary line at the bottom of the page.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd

from helpers.core.i18n import join_and, tr
from helpers.disclosure import Check
from helpers.disclosure import investment as disclosure
from helpers.report.investment_format import fmt_number, fmt_pct
from helpers.report.items import Figure, Table, Text
from helpers.report.plots.investment import council_cumulative
from helpers.stages.cohort import CohortResult
from helpers.stages.investment import ActorSummary, InvestmentResult

ACTORS = ("municipality", "state", "public")


def _c(key: str, language: str, **fields) -> str:
    return tr(f"council.{key}", language, **fields)


def _who(actor: str, language: str) -> str:
    """The actor in a sentence: ``actor_phrase.<actor>``; the public sector as the page words it."""
    return _c("public_whole", language) if actor == "public" else tr(f"actor_phrase.{actor}", language)


def _mio(x: float, language: str) -> str:
    return fmt_number(abs(x) / 1e6, language, 1)


def _ok(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _payback(actor: ActorSummary, years: int, language: str) -> str:
    if not actor.costs:
        return _c("no_cost", language)
    pb = actor.payback_year_pv
    return _c("year_n", language, year=int(pb)) if _ok(pb) else _c("not_within", language, years=years)


def _direction(actor, prefix: str = "") -> str:
    """``ahead``/``behind`` when the 95 % range of the NPV excludes 0, else ``either_way`` (issue 18.5)."""
    lo, hi = actor.npv_low, actor.npv_high
    if _ok(lo) and _ok(hi) and lo <= 0 <= hi:
        return prefix + ("either_way_ahead" if actor.npv >= 0 else "either_way_behind")
    return prefix + ("ahead" if actor.npv >= 0 else "behind")


def paragraphs(result: InvestmentResult | None, language: str, *, perspective=ACTORS,
               unique_controls: int | None = None) -> list[str]:
    """The page's text as Markdown paragraphs (heading first; only the heading and a line when
    the investment stage did not run).

    ``unique_controls``: distinct control persons when matching reused controls (the
    comparison is then with that many citizens, not with the number of control places).
    """
    L = language
    out = [_c("heading", L)]
    if result is None:
        return out + [_c("no_results", L)]
    actors, years = result.actors, int(result.horizon_total_years or 0)
    n, n_ctl = result.n_intervention, result.n_control
    if unique_controls is not None and unique_controls < n_ctl:
        n_ctl = unique_controls
    cost = float(actors["public"].costs or 0.0) if "public" in actors else 0.0
    out.append(_c("cost", L, cost=_mio(cost, L), n=n, pp=fmt_number(cost / n if n else 0, L),
                  bearer=_who(result.settings.cost_bearer, L)))
    shown = [a for a in perspective if a in actors]
    whole = actors.get("public", actors[shown[-1]])
    parts = [_c(_direction(actors[a], "part_"), L, who=_who(a, L), x=_mio(actors[a].npv, L))
             for a in shown if a != "public"]
    measured = int(result.settings.horizon_years or years)
    out.append(_c("saved", L, n_ctl=n_ctl, years=years, measured=measured,
                  whole=_c(_direction(whole), L, who=_who("public", L), x=_mio(whole.npv, L)),
                  parts="; ".join(parts)))
    pay = [(_c("pays_in", L, who=_who(a, L), year=int(actors[a].payback_year_pv))
            if _ok(actors[a].payback_year_pv) else _c("pays_not", L, who=_who(a, L), years=years))
           for a in shown if actors[a].costs]
    if pay:
        text = "; ".join(pay)
        out.append(_c("payback", L, parts=text[0].upper() + text[1:]))
    be = {r.actor: r for r in result.break_even if r.actor in shown}
    for a in [x for x in ("municipality", "public") if x in be][:1]:
        r = be[a]
        if _ok(r.persons_needed) and _ok(r.observed_equivalent):
            out.append(_c("break_even", L, who=_who(a, L), need=fmt_number(r.persons_needed, L, 1), n=n,
                          seen=_c("persons", L, x=fmt_number(r.observed_equivalent, L, 1))))
    p = result.p_npv_positive_by_actor
    sure = [_c("sure_part", L, p=fmt_pct(p[a], L, 0), who=_who(a, L)) for a in ("municipality", "public")
            if a in shown and _ok(p.get(a))]
    if sure:
        out.append(_c("sure", L, parts=join_and(sure, L)))
    out += [_c("figure", L), _c("not_included", L)]
    return out


def closing(language: str, *, synthetic: bool = False) -> list[str]:
    """The lines after the figure and table: glossary (and the synthetic-data note)."""
    return [_c("glossary", language)] + ([_c("synthetic", language)] if synthetic else [])


def key_figures(result: InvestmentResult, language: str, perspective=ACTORS) -> pd.DataFrame:
    """One row per actor: net saving in today's money, its 95 % range, payback, chance it pays off."""
    L = language
    actors, years = result.actors, int(result.horizon_total_years or 0)
    p = result.p_npv_positive_by_actor
    rows = []
    for a in perspective:
        if a not in actors:
            continue
        r = actors[a]
        rng = (tr("interval", L, low=fmt_number(r.npv_low / 1e6, L, 1), high=fmt_number(r.npv_high / 1e6, L, 1))
               if _ok(r.npv_low) and _ok(r.npv_high) else "")
        rows.append([_c(f"actor.{a}", L), fmt_number(r.npv / 1e6, L, 1), rng, _payback(r, years, L),
                     fmt_pct(p[a], L, 0) if _ok(p.get(a)) else ""])
    return pd.DataFrame(rows, columns=[_c(f"column.{k}", L) for k in ("who", "net", "range", "pays", "chance")])


def balance_frame(result: InvestmentResult) -> pd.DataFrame:
    """The yearly balance records of the result as a frame (for the figure)."""
    return pd.DataFrame([r.model_dump() for r in result.balance])


def check(result: InvestmentResult, min_cell: int, *, item: str) -> Check:
    """PASS when both groups hold 0 or at least ``min_cell`` persons (the page shows sums over them)."""
    return disclosure.group_check(result.n_intervention, result.n_control, min_cell, item=item)


# ------------------------------------------------------------------ report items
def _lang(study, language: str | None) -> str:
    return language or study.study.language


def page_text(result: InvestmentResult | None, study, language: str | None = None) -> list[Text]:
    """The page's paragraphs (:func:`paragraphs`) for the study's perspective."""
    cohort = CohortResult.load_or_none(study)
    unique = cohort.match_summary.n_controls_unique if cohort is not None else None
    return [Text(p) for p in paragraphs(result, _lang(study, language), perspective=study.investment.perspective,
                                        unique_controls=unique)]


def cumulative_figure(result: InvestmentResult, study, language: str | None = None) -> Figure | None:
    """Accumulated discounted net saving per actor with its 95 % band (None without a public balance)."""
    if not result.balance:
        return None
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    council_cumulative(balance_frame(result), actors=study.investment.perspective, language=_lang(study, language),
                       ax=ax)
    return Figure("council_cumulative", fig, check(result, study.study.min_cell, item="council_cumulative"))


def key_figures_table(result: InvestmentResult, study, language: str | None = None) -> Table:
    """:func:`key_figures` as the page's table."""
    return Table("council_key_figures", key_figures(result, _lang(study, language), study.investment.perspective),
                 check(result, study.study.min_cell, item="council_key_figures"))


def closing_text(study, language: str | None = None) -> list[Text]:
    """:func:`closing` for the study (the synthetic-data line for synthetic studies)."""
    return [Text(t) for t in closing(_lang(study, language), synthetic=study.study.synthetic)]
