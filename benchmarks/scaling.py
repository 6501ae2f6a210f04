"""Scaling of each step with the number of persons: fitted exponents, extrapolation and a log-log figure.

For a step measured at several pool sizes ``n``, the exponent ``b`` of ``time = a * n^b``
(and likewise for peak RSS) is the least-squares slope of ``log(time)`` on ``log(n)``
(1.0 = linear, < 1 = fixed costs still dominate, > 1 = worse than linear). The national
figure is extrapolated from the largest measured size along that exponent:
``t(N) = t(n_max) * (N / n_max)^b``, times ``(1,750 / 939)`` for the longer extract
(every step's work per person is proportional to the weeks it reads; the bench varies
persons only, so this factor is an assumption, stated with the result).

An exponent below 1 over 50,000-1,000,000 persons often means fixed costs (interpreter,
imports, a few hundred MB of libraries) still weigh in, and then the power law
understates the national figure. :func:`exponents` therefore also gives the "marginal"
extrapolation: the straight line through the two largest sizes (the measured cost of one
more person), continued to 5.3 million; the larger of the two is the safer planning figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NATIONAL_PERSONS = 5_300_000
NATIONAL_WEEKS = 1_750
BENCH_WEEKS = 939


def fit_exponent(sizes, values) -> float:
    """Least-squares slope of log(values) on log(sizes); NaN with fewer than two positive points.

    Examples
    --------
    >>> round(fit_exponent([1, 10, 100], [2, 20, 200]), 6)
    1.0
    >>> round(fit_exponent([1, 10, 100], [5, 50, 5000]), 3)
    1.5
    """
    x = np.asarray(sizes, dtype=float)
    y = np.asarray(values, dtype=float)
    ok = (x > 0) & (y > 0) & np.isfinite(y)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def exponents(table: pd.DataFrame) -> pd.DataFrame:
    """Per step: exponent of time and of peak RSS, and the extrapolated national time and memory.

    ``table`` has columns ``step, n_persons, seconds, peak_rss_mb`` (one row per step and size).
    """
    rows = []
    for step, g in table.groupby("step", sort=False):
        g = g.sort_values("n_persons")
        if g["n_persons"].nunique() < 2:
            continue
        b_t = fit_exponent(g["n_persons"], g["seconds"])
        b_m = fit_exponent(g["n_persons"], g["peak_rss_mb"])
        b_c = fit_exponent(g["n_persons"], g["cpu_seconds"]) if "cpu_seconds" in g else float("nan")
        last = g.iloc[-1]
        factor = NATIONAL_PERSONS / last["n_persons"]
        weeks = NATIONAL_WEEKS / BENCH_WEEKS
        prev = g.iloc[-2]
        rows.append({"step": step, "sizes": ", ".join(f"{int(n):,}" for n in g["n_persons"]),
                     "time_exponent": round(b_t, 2), "memory_exponent": round(b_m, 2), "cpu_exponent": round(b_c, 2),
                     "national_seconds": float(last["seconds"] * factor ** b_t * weeks),
                     "national_rss_mb": float(last["peak_rss_mb"] * factor ** b_m * weeks),
                     "national_seconds_marginal": _marginal(prev, last, "seconds") * weeks,
                     "national_cpu_seconds": (float(last["cpu_seconds"] * factor ** b_c * weeks)
                                              if "cpu_seconds" in g else float("nan")),
                     "national_rss_mb_marginal": _marginal(prev, last, "peak_rss_mb") * weeks})
    return pd.DataFrame(rows)


def _marginal(prev, last, col: str) -> float:
    """Value at the national size on the line through the two largest sizes (the marginal cost per person)."""
    slope = (last[col] - prev[col]) / (last["n_persons"] - prev["n_persons"])
    return float(last[col] + max(slope, 0.0) * (NATIONAL_PERSONS - last["n_persons"]))


def figure(table: pd.DataFrame, ax_time, ax_mem, ax_cpu=None):
    """Log-log lines of seconds, peak RSS (and CPU seconds) against persons, one per step; returns the axes."""
    panels = [(ax_time, "seconds", "seconds (wall clock)"), (ax_mem, "peak_rss_mb", "peak RSS (MB)")]
    if ax_cpu is not None and "cpu_seconds" in table:
        panels.append((ax_cpu, "cpu_seconds", "CPU seconds"))
    sizes = np.sort(table["n_persons"].unique())
    for ax, col, label in panels:
        for step, g in table.groupby("step", sort=False):
            g = g.sort_values("n_persons")
            if g[col].notna().any():
                ax.plot(g["n_persons"], g[col], marker="o", label=step)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("persons in the extract (939 weeks)")
        ax.set_ylabel(label)
        if len(sizes):
            ref = table[col].median()
            ax.plot(sizes, ref * sizes / sizes[len(sizes) // 2], ls=":", color="grey", label="linear (slope 1)")
        ax.grid(True, which="both", alpha=0.3)
    ax_time.legend(fontsize=7)
    return tuple(p[0] for p in panels)
