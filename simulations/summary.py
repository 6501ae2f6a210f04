"""Performance of each estimator over replications: bias, SEs, coverage and the headline decision.

Measures (Morris, White & Crowther 2019, "Using simulation studies to evaluate statistical
methods", Stat Med 38:2074-2102), per scenario x estimator over the replications that gave
an estimate and a CI:

- ``mean_estimate``: mean of the estimates (log HR, or RD), and ``mean_hr = exp(mean log HR)``;
- ``bias`` = mean estimate - truth, with Monte Carlo SE ``emp_se / sqrt(R)``;
- ``emp_se``: empirical SE (SD of the estimates); ``model_se``: mean of the model SEs
  (NaN where the method gives an interval without an SE: Newcombe);
- ``coverage``: share of 95 % CIs that contain the truth, with Monte Carlo SE
  ``sqrt(c (1 - c) / R)``; ``ci_width``: mean CI width;
- ``reject``: share with p < 0.05 (type I error under the null, power otherwise);
- ``failed``: replications without an estimate or CI (or with a convergence warning).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Design classes of the outcome stage (helpers.stats.proportions.matching_design).
PAIRS, WEIGHTED = "pairs", "weighted"


def design_class(ratio: int, replace: bool) -> str:
    """``pairs`` for 1:1 without replacement, else ``weighted`` (the stages' own split)."""
    return PAIRS if ratio == 1 and not replace else WEIGHTED


def performance(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per scenario x estimator (see the module docstring for the columns)."""
    keys = ["target_hr", "ratio", "replace", "n_treated", "estimand", "estimator"]
    rows = []
    for key, g in raw.groupby(keys, sort=True):
        ok = g[~g["failed"].astype(bool)]
        r = len(ok)
        truth = float(g["truth"].iloc[0])
        est = ok["estimate"].to_numpy(dtype=float)
        cover = ((ok["lower"] <= truth) & (truth <= ok["upper"])).to_numpy()
        emp = float(np.std(est, ddof=1)) if r > 1 else math.nan
        c = float(cover.mean()) if r else math.nan
        rows.append({
            **dict(zip(keys, key, strict=True)), "design": design_class(int(key[1]), bool(key[2])),
            "replications": len(g), "failed": int(len(g) - r), "truth": truth,
            "mean_estimate": float(est.mean()) if r else math.nan,
            "mean_hr": float(math.exp(est.mean())) if r and key[4] == "log_hr" else math.nan,
            "bias": float(est.mean() - truth) if r else math.nan,
            "bias_mcse": emp / math.sqrt(r) if r > 1 else math.nan,
            "emp_se": emp, "model_se": float(ok["se"].mean()) if ok["se"].notna().any() else math.nan,
            "coverage": c, "coverage_mcse": math.sqrt(c * (1 - c) / r) if r else math.nan,
            "ci_width": float((ok["upper"] - ok["lower"]).mean()) if r else math.nan,
            "reject": float((ok["p"] < 0.05).mean()) if r else math.nan,
            "control_reuse": float(g["control_reuse"].mean()),
        })
    return pd.DataFrame(rows)


#: Estimators whose mean |coverage - 0.95| is within this of the best are tied.
TIE = 0.0005


def decide(perf: pd.DataFrame, candidates: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Per estimand x design class: mean |coverage - 0.95| of each candidate and the winner.

    The headline is the candidate whose coverage is closest to 95 % on average over the
    design's scenarios; a tie (within :data:`TIE`) is broken by the rejection rate of its test
    under the null (true HR 1) closest to 5 %.

    Parameters
    ----------
    perf : DataFrame
        Output of :func:`performance`.
    candidates : dict
        Estimand -> estimators eligible as the headline.

    Returns
    -------
    DataFrame
        ``estimand, design, estimator, scenarios, mean_abs_dev, worst_coverage, mean_bias,
        mean_abs_bias, null_reject, headline``.
    """
    rows = []
    for (estimand, design), g in perf.groupby(["estimand", "design"], sort=True):
        for est, h in g.groupby("estimator", sort=True):
            if est not in candidates.get(estimand, ()):
                continue
            rows.append({"estimand": estimand, "design": design, "estimator": est, "scenarios": len(h),
                         "mean_abs_dev": float((h["coverage"] - 0.95).abs().mean()),
                         "worst_coverage": float(h["coverage"].min()),
                         "mean_bias": float(h["bias"].mean()), "mean_abs_bias": float(h["bias"].abs().mean())})
    out = pd.DataFrame(rows)
    null = perf[perf["target_hr"] == 1.0].groupby(["estimand", "design", "estimator"])["reject"].mean()
    out["null_reject"] = [null.get((r.estimand, r.design, r.estimator), np.nan) for r in out.itertuples()]
    out["headline"] = False
    for _, g in out.groupby(["estimand", "design"]):
        # ties (within TIE of the best, e.g. estimators that coincide in these designs) are broken by the
        # type I error of the estimator's test under the null closest to 5 %
        best = g[g["mean_abs_dev"] <= g["mean_abs_dev"].min() + TIE]
        out.loc[(best["null_reject"] - 0.05).abs().fillna(1.0).idxmin(), "headline"] = True
    return out


def _f(x, digits=3) -> str:
    return "" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{digits}f}"


def markdown_table(perf: pd.DataFrame, estimand: str) -> str:
    """The performance table of one estimand as GitHub markdown."""
    p = perf[perf["estimand"] == estimand].sort_values(["target_hr", "ratio", "replace", "n_treated", "estimator"],
                                                       ascending=[False, True, True, True, True])
    what = "log HR" if estimand == "log_hr" else "RD"
    head = (f"| true HR | design | n treated | estimator | truth ({what}) | mean est. | bias (MCSE) | emp. SE | "
            "model SE | CI width | coverage (MCSE) | p<0.05 | failed |")
    lines = [head, "|" + "---|" * 13]
    for _, r in p.iterrows():
        design = f"1:{r['ratio']} {'with' if r['replace'] else 'w/o'} repl."
        mean = _f(r["mean_estimate"]) + (f" (HR {_f(r['mean_hr'], 2)})" if estimand == "log_hr" else "")
        lines.append(
            f"| {r['target_hr']:g} | {design} | {r['n_treated']} | {r['estimator']} | {_f(r['truth'])} | {mean} | "
            f"{_f(r['bias'])} ({_f(r['bias_mcse'])}) | {_f(r['emp_se'])} | {_f(r['model_se'])} | "
            f"{_f(r['ci_width'])} | {_f(r['coverage'])} ({_f(r['coverage_mcse'])}) | {_f(r['reject'], 2)} | "
            f"{r['failed']}/{r['replications']} |")
    return "\n".join(lines)


def markdown_decision(dec: pd.DataFrame) -> str:
    """The decision table as GitHub markdown."""
    lines = ["| estimand | design | estimator | scenarios | mean abs(coverage - 0.95) | worst coverage | "
             "mean bias | p<0.05 under the null | headline |", "|" + "---|" * 9]
    for _, r in dec.sort_values(["estimand", "design", "mean_abs_dev"]).iterrows():
        lines.append(f"| {r['estimand']} | {r['design']} | {r['estimator']} | {r['scenarios']} | "
                     f"{_f(r['mean_abs_dev'], 4)} | {_f(r['worst_coverage'])} | {_f(r['mean_bias'])} | "
                     f"{_f(r['null_reject'], 3)} | {'**yes**' if r['headline'] else ''} |")
    return "\n".join(lines)
