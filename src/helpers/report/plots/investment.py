"""Figures of the investment calculation (notebook 05) and the council's page (notebook 90).

Every function takes results computed by :mod:`helpers.investment` (tidy frames or arrays),
draws on ``ax`` (or a new one) and returns the ``ax``; nothing is estimated here. Amounts
are shown in DKK million; labels come from the catalogue (``investment.figure.*``,
``council.figure_text.*``, the actors' names) in ``language`` ("en" or "da").
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.core.i18n import number, tr
from helpers.report.investment_format import actor_label

#: Line and bar colour of each actor (names: :func:`helpers.report.investment_format.actor_label`).
ACTOR_COLOUR = {"municipality": "#1f5f8b", "state": "#e08a2c", "public": "#3a3a3a"}


def _label(key: str, language: str, **fields) -> str:
    return tr(f"investment.figure.{key}", language, **fields)


def _actor(actor: str, language: str) -> tuple[str, str]:
    return ACTOR_COLOUR[actor], actor_label(actor, language)


def _ax(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.2))
    return ax


def _mio(x) -> np.ndarray:
    return np.asarray(x, dtype=float) / 1e6


def savings_by_year(yearly: pd.DataFrame, *, stacked=("municipality", "state"), ci_actor: str = "public",
                    language: str = "en", ax=None):
    """Stacked bars of total savings per year by actor, with the CI of ``ci_actor`` as error bars.

    Parameters
    ----------
    yearly : DataFrame
        :attr:`helpers.investment.InvestmentAnalysis.yearly` (``year, actor, observed,
        saving_total, total_low, total_high``).
    """
    ax = _ax(ax)
    years = np.sort(yearly["year"].unique())
    bottom_pos = np.zeros(len(years))
    bottom_neg = np.zeros(len(years))
    observed = yearly[yearly["actor"] == ci_actor].set_index("year").loc[years, "observed"].to_numpy()
    for actor in stacked:
        colour, label = _actor(actor, language)
        vals = _mio(yearly[yearly["actor"] == actor].set_index("year").loc[years, "saving_total"])
        base = np.where(vals >= 0, bottom_pos, bottom_neg)
        bars = ax.bar(years, vals, bottom=base, color=colour, label=label, width=0.7)
        for bar, obs in zip(bars, observed, strict=True):
            if not obs:
                bar.set_alpha(0.45)
                bar.set_hatch("//")
        bottom_pos = np.where(vals >= 0, bottom_pos + vals, bottom_pos)
        bottom_neg = np.where(vals < 0, bottom_neg + vals, bottom_neg)
    tot = yearly[yearly["actor"] == ci_actor].set_index("year").loc[years]
    mid = _mio(tot["saving_total"])
    lo, hi = _mio(tot["total_low"]), _mio(tot["total_high"])
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.any():
        ax.errorbar(years[ok], mid[ok], yerr=[mid[ok] - lo[ok], hi[ok] - mid[ok]], fmt="o", color="black",
                    ms=3, capsize=3, label=_label("ci", language))
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(years)
    hatched = f" (/// = {tr('investment.extrapolated', language)})" if (~observed).any() else ""
    ax.set_xlabel(_label("year", language) + hatched)
    ax.set_ylabel(_label("mio", language))
    ax.set_title(_label("savings", language))
    ax.legend(frameon=False, fontsize=8)
    return ax


def cumulative_net(flows: pd.DataFrame, summary: pd.DataFrame | None = None, *,
                   actors=("municipality", "state", "public"), discounted: bool = True, bands: bool = True,
                   language: str = "en", ax=None):
    """Cumulative net savings by actor (after the intervention's costs), with the break-even point.

    Parameters
    ----------
    flows : DataFrame
        :attr:`helpers.investment.InvestmentAnalysis.flows`.
    summary : DataFrame, optional
        :attr:`~helpers.investment.InvestmentAnalysis.summary`, for the payback markers.
    """
    ax = _ax(ax)
    col = "cumulative_net_pv" if discounted else "cumulative_net"
    pay_col = "payback_year_pv" if discounted else "payback_year"
    for k, actor in enumerate(actors):
        f = flows[flows["actor"] == actor].sort_values("year")
        colour, label = _actor(actor, language)
        x = np.concatenate([[0], f["year"].to_numpy()])
        y = np.concatenate([[0.0], _mio(f[col])])
        ax.plot(x, y, marker="o", ms=3, color=colour, label=label)
        if bands and discounted and f"{col}_low" in f:
            ax.fill_between(f["year"], _mio(f[f"{col}_low"]), _mio(f[f"{col}_high"]), color=colour, alpha=0.12, lw=0)
        if summary is not None:
            pb = summary.set_index("actor").get(pay_col, pd.Series(dtype=float)).get(actor, np.nan)
            if pd.notna(pb):
                # mark where the line crosses zero within the payback year (display only)
                i = int(pb)
                y0, y1 = y[i - 1], y[i]
                xc = i - 1 + (-y0 / (y1 - y0) if y1 != y0 and y0 < 0 else 1.0)
                ax.plot([xc], [0.0], marker="*", ms=12, color=colour, mec="black", zorder=5)
                text = f"{_label('break_even', language)}: {_label('project_year', language).lower()} {i}"
                ax.annotate(text, (xc, 0.0), textcoords="offset points", xytext=(-20, -14 - 11 * k), fontsize=8,
                            color=colour)
    obs = flows[flows["actor"] == actors[0]]
    extrap = obs.loc[~obs["observed"], "year"]
    if len(extrap):
        ax.axvspan(extrap.min() - 0.5, extrap.max() + 0.5, color="grey", alpha=0.08, lw=0)
        ax.text(extrap.min() - 0.4, ax.get_ylim()[1], tr("investment.extrapolated", language), va="top", fontsize=8,
                color="grey")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(_label("year", language))
    ax.set_ylabel(_label("mio", language))
    ax.set_title(_label("cumulative_pv" if discounted else "cumulative", language))
    ax.legend(frameon=False, fontsize=8)
    return ax


def tornado(frame: pd.DataFrame, *, language: str = "en", ax=None):
    """Tornado chart of a one-way sensitivity analysis (:func:`helpers.investment.one_way`)."""
    ax = _ax(ax)
    f = frame.sort_values("swing", ascending=True).reset_index(drop=True)
    base = _mio(f["npv_base"].iloc[0]) if len(f) else 0.0
    labels = [tr(f"investment.parameter.{p}", language) for p in f["parameter"]]
    y = np.arange(len(f))
    lo, hi = _mio(f["npv_low"]), _mio(f["npv_high"])
    ax.barh(y, lo - base, left=base, color="#9bbbd4", label=_label("low", language))
    ax.barh(y, hi - base, left=base, color="#1f5f8b", label=_label("high", language))
    ax.axvline(base, color="black", lw=1, label=_label("base", language))
    ax.axvline(0, color="grey", lw=0.8, ls=":")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel(f"{_label('npv', language)} ({_label('mio', language)})")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax


def npv_histogram(npv: np.ndarray, p_positive: float, *, language: str = "en", bins: int = 40, ax=None):
    """Histogram of Monte Carlo NPV draws with the zero line and P(NPV > 0)."""
    ax = _ax(ax)
    v = _mio(npv)
    ax.hist(v, bins=bins, color="#1f5f8b", alpha=0.8)
    ax.axvline(0, color="black", lw=1)
    pct = number(100 * p_positive, 1, language) + " %"
    ax.text(0.98, 0.95, _label("p_positive", language, p=pct), transform=ax.transAxes, ha="right", va="top")
    ax.set_xlabel(f"{_label('npv', language)} ({_label('mio', language)})")
    ax.set_ylabel(_label("draws", language))
    return ax


def projection_cumulative(flows: dict[str, pd.DataFrame], *, language: str = "en", labels: list[str] | None = None,
                          ax=None):
    """Projected savings (bars) and cumulative net after costs (lines) of an ex-ante projection.

    ``flows`` maps a reading (``as_printed``, ``corrected``: names ``investment.figure.reading.<key>``)
    to :func:`helpers.investment.projection_cash_flows`; bars show the first reading's savings
    and the costs, lines every reading's cumulative net. ``labels`` are the study file's year labels.
    """
    ax = _ax(ax)
    names = {k: _label(f"reading.{k}", language) for k in flows}
    keys = list(flows)
    first = flows[keys[0]]
    x = first["year"].to_numpy()
    ax.bar(x - 0.18, _mio(first["savings"]), width=0.36, color="#9bbbd4",
           label=f"{_label('savings', language)} ({names[keys[0]]})")
    ax.bar(x + 0.18, -_mio(first["costs"]), width=0.36, color="#c0504d", label=_label("costs", language))
    styles = ["-", "--", ":"]
    for i, k in enumerate(keys):
        ax.plot(x, _mio(flows[k]["cumulative_net"]), marker="o", ms=3, color="black", ls=styles[i % 3],
                label=f"{_label('cumulative', language)} ({names[k]})")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(x)
    if labels:
        ax.set_xticklabels(labels, fontsize=8, rotation=20)
    ax.set_ylabel(_label("mio", language))
    ax.legend(frameon=False, fontsize=8)
    return ax


def council_cumulative(balance: pd.DataFrame, *, actors=("municipality", "state", "public"), language: str = "en",
                       ax=None):
    """The council page's figure: accumulated discounted net saving per actor with its 95 % band.

    Parameters
    ----------
    balance : DataFrame
        The ``balance`` records of ``investment_results.json`` (``year, actor, observed,
        cumulative_net_pv`` and, when present, ``cumulative_net_pv_low/high``).
    """
    ax = _ax(ax)
    for actor in actors:
        f = balance[balance["actor"] == actor].sort_values("year")
        if f.empty:
            continue
        colour = ACTOR_COLOUR[actor]
        label = tr(f"council.actor.{actor}", language)
        x = np.concatenate([[0], f["year"].to_numpy()])
        ax.plot(x, np.concatenate([[0.0], _mio(f["cumulative_net_pv"])]), marker="o", ms=3, color=colour, label=label,
                lw=2 if actor == "public" else 1.5)
        if "cumulative_net_pv_low" in f and f["cumulative_net_pv_low"].notna().all():
            ax.fill_between(x, np.concatenate([[0.0], _mio(f["cumulative_net_pv_low"])]),
                            np.concatenate([[0.0], _mio(f["cumulative_net_pv_high"])]), color=colour, alpha=0.13, lw=0)
    first = balance[balance["actor"] == actors[0]]
    extrap = first.loc[~first["observed"].astype(bool), "year"]
    if len(extrap):
        ax.axvspan(extrap.min() - 0.5, extrap.max() + 0.2, color="grey", alpha=0.07, lw=0)
        ax.text(extrap.min() - 0.4, 0.98, tr("council.figure_text.estimated", language),
                transform=ax.get_xaxis_transform(), va="top", fontsize=8, color="grey")
    ax.axhline(0, color="black", lw=0.9)
    ax.text(0.99, 0, tr("council.figure_text.even", language), transform=ax.get_yaxis_transform(), ha="right",
            va="bottom", fontsize=8)
    ax.set_xticks(np.arange(0, int(balance["year"].max()) + 1))
    ax.set_xlabel(tr("council.figure_text.x", language))
    ax.set_ylabel(_label("mio", language))
    ax.set_title(tr("council.figure_text.title", language), fontsize=11)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax
