"""Figures of the investment calculation (notebook 05).

Every function takes results computed by :mod:`helpers.investment` (tidy frames or arrays),
draws on ``ax`` (or a new one) and returns the ``ax``; nothing is estimated here. Amounts
are shown in DKK million; labels follow ``language`` ("en" or "da").
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

ACTOR_STYLE = {
    "municipality": ("#1f5f8b", "Municipality", "Kommune"),
    "state": ("#e08a2c", "State", "Stat"),
    "public": ("#3a3a3a", "Public sector, total", "Offentligt i alt"),
}

TEXT = {
    "year": ("Year after the index week", "År efter indeksugen"),
    "project_year": ("Year", "År"),
    "mio": ("DKK million", "mio. kr."),
    "savings": ("Savings per year", "Besparelse pr. år"),
    "cumulative": ("Cumulative net savings", "Akkumuleret nettobesparelse"),
    "cumulative_pv": ("Cumulative net savings, discounted", "Akkumuleret nettobesparelse, diskonteret"),
    "extrapolated": ("extrapolated", "fremskrevet"),
    "break_even": ("break-even", "break-even"),
    "npv": ("Net present value", "Nettonutidsværdi"),
    "draws": ("Draws", "Træk"),
    "p_positive": ("P(NPV > 0) = {p}", "P(NNV > 0) = {p}"),
    "base": ("base case", "basis"),
    "low": ("low end of range", "lav ende af interval"),
    "high": ("high end of range", "høj ende af interval"),
    "ci": ("95% CI (public total)", "95%-KI (offentligt i alt)"),
    "costs": ("Intervention costs", "Indsatsens omkostninger"),
}


def _t(key: str, language: str) -> str:
    en, da = TEXT[key]
    return da if language == "da" else en


def _actor(actor: str, language: str) -> tuple[str, str]:
    colour, en, da = ACTOR_STYLE[actor]
    return colour, da if language == "da" else en


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
                    ms=3, capsize=3, label=_t("ci", language))
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(years)
    ax.set_xlabel(_t("year", language) + (f" (/// = {_t('extrapolated', language)})" if (~observed).any() else ""))
    ax.set_ylabel(_t("mio", language))
    ax.set_title(_t("savings", language))
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
                ax.annotate(f"{_t('break_even', language)}: {_t('project_year', language).lower()} {i}", (xc, 0.0),
                            textcoords="offset points", xytext=(-20, -14 - 11 * k), fontsize=8, color=colour)
    obs = flows[flows["actor"] == actors[0]]
    extrap = obs.loc[~obs["observed"], "year"]
    if len(extrap):
        ax.axvspan(extrap.min() - 0.5, extrap.max() + 0.5, color="grey", alpha=0.08, lw=0)
        ax.text(extrap.min() - 0.4, ax.get_ylim()[1], _t("extrapolated", language), va="top", fontsize=8, color="grey")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(_t("year", language))
    ax.set_ylabel(_t("mio", language))
    ax.set_title(_t("cumulative_pv" if discounted else "cumulative", language))
    ax.legend(frameon=False, fontsize=8)
    return ax


def tornado(frame: pd.DataFrame, *, language: str = "en", ax=None):
    """Tornado chart of a one-way sensitivity analysis (:func:`helpers.investment.one_way`)."""
    ax = _ax(ax)
    f = frame.sort_values("swing", ascending=True).reset_index(drop=True)
    base = _mio(f["npv_base"].iloc[0]) if len(f) else 0.0
    labels = f["label_da"] if language == "da" else f["label_en"]
    y = np.arange(len(f))
    lo, hi = _mio(f["npv_low"]), _mio(f["npv_high"])
    ax.barh(y, lo - base, left=base, color="#9bbbd4", label=_t("low", language))
    ax.barh(y, hi - base, left=base, color="#1f5f8b", label=_t("high", language))
    ax.axvline(base, color="black", lw=1, label=_t("base", language))
    ax.axvline(0, color="grey", lw=0.8, ls=":")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel(f"{_t('npv', language)} ({_t('mio', language)})")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax


def npv_histogram(npv: np.ndarray, p_positive: float, *, language: str = "en", bins: int = 40, ax=None):
    """Histogram of Monte Carlo NPV draws with the zero line and P(NPV > 0)."""
    ax = _ax(ax)
    v = _mio(npv)
    ax.hist(v, bins=bins, color="#1f5f8b", alpha=0.8)
    ax.axvline(0, color="black", lw=1)
    pct = f"{100 * p_positive:.1f}".replace(".", "," if language == "da" else ".") + " %"
    ax.text(0.98, 0.95, _t("p_positive", language).format(p=pct), transform=ax.transAxes, ha="right", va="top")
    ax.set_xlabel(f"{_t('npv', language)} ({_t('mio', language)})")
    ax.set_ylabel(_t("draws", language))
    return ax


def projection_cumulative(flows: dict[str, pd.DataFrame], *, language: str = "en", labels: list[str] | None = None,
                          names: dict[str, str] | None = None, ax=None):
    """Projected savings (bars) and cumulative net after costs (lines) of an ex-ante projection.

    ``flows`` maps a reading (e.g. "as printed", "corrected") to
    :func:`helpers.investment.projection_cash_flows`; bars show the first reading's savings
    and the costs, lines every reading's cumulative net.
    """
    ax = _ax(ax)
    names = names or {}
    keys = list(flows)
    first = flows[keys[0]]
    x = first["year"].to_numpy()
    ax.bar(x - 0.18, _mio(first["savings"]), width=0.36, color="#9bbbd4",
           label=f"{_t('savings', language)} ({names.get(keys[0], keys[0])})")
    ax.bar(x + 0.18, -_mio(first["costs"]), width=0.36, color="#c0504d", label=_t("costs", language))
    styles = ["-", "--", ":"]
    for i, k in enumerate(keys):
        ax.plot(x, _mio(flows[k]["cumulative_net"]), marker="o", ms=3, color="black", ls=styles[i % 3],
                label=f"{_t('cumulative', language)} ({names.get(k, k)})")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(x)
    if labels:
        ax.set_xticklabels(labels, fontsize=8, rotation=20)
    ax.set_ylabel(_t("mio", language))
    ax.legend(frameon=False, fontsize=8)
    return ax


COUNCIL_TEXT = {
    "title": ("Accumulated net saving, in today's money", "Akkumuleret nettobesparelse i dagens penge"),
    "x": ("Years after the start", "År efter start"),
    "estimated": ("estimated forward", "fremskrevet"),
    "even": ("break-even", "går i nul"),
}
COUNCIL_ACTORS = {"municipality": ("Municipality", "Kommunen"), "state": ("State", "Staten"),
                  "public": ("Public sector, total", "Det offentlige i alt")}


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
    da = language == "da"
    for actor in actors:
        f = balance[balance["actor"] == actor].sort_values("year")
        if f.empty:
            continue
        colour = ACTOR_STYLE[actor][0]
        label = COUNCIL_ACTORS[actor][1 if da else 0]
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
        ax.text(extrap.min() - 0.4, 0.98, COUNCIL_TEXT["estimated"][1 if da else 0], transform=ax.get_xaxis_transform(),
                va="top", fontsize=8, color="grey")
    ax.axhline(0, color="black", lw=0.9)
    ax.text(0.99, 0, COUNCIL_TEXT["even"][1 if da else 0], transform=ax.get_yaxis_transform(), ha="right",
            va="bottom", fontsize=8)
    ax.set_xticks(np.arange(0, int(balance["year"].max()) + 1))
    ax.set_xlabel(COUNCIL_TEXT["x"][1 if da else 0])
    ax.set_ylabel(_t("mio", language))
    ax.set_title(COUNCIL_TEXT["title"][1 if da else 0], fontsize=11)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax
