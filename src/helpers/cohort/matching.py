"""Drawing controls for intervention persons: exact matching on strata, or greedy nearest neighbour on a propensity score.

Two methods, chosen by ``matching.method`` in the study YAML (:class:`helpers.config.schema.cohort.MatchingConfig`):

``exact``
    What seed 000 describes ("tilfældigt udvalgt ... matchet til målgruppen"): controls are
    drawn at random (seeded) among candidates in the same stratum: the same index week, the
    same band of every ``strata`` covariate and the same value of every ``exact`` covariate.
``nearest``
    Greedy 1:k nearest-neighbour matching on a logistic propensity score (statsmodels GLM),
    as R MatchIt's ``method = "nearest"``: treated units are taken in ``order`` (default:
    largest score first), each picks the closest available candidate; with ``ratio = k`` this
    runs in k rounds (every treated unit gets its first control before any gets a second).
    An optional caliper (in SDs of the distance over all units, MatchIt's ``std.caliper``)
    and exact variables restrict the candidates. With ``distance = "mahalanobis"`` the
    closest candidate is the one with the smallest Mahalanobis distance on the covariates
    (pooled within-group covariance, Rubin 1980, as MatchIt and optmatch); a caliper then
    applies to the logit propensity score (MatchIt's ``mahvars`` with a caliper).

With a ``time_col`` (the index week), candidates are **risk sets**: a candidate row is a
(person, index week) pair evaluated at that week, and a treated unit only sees rows of its
own index week. Without replacement, a person used as a control is removed from every week.

Weights (ATT): treated 1; each control ``1/m`` in its matched set of ``m`` controls. A
control used in several sets (with replacement) appears once per set, so its person-level
weight is the sum, as in MatchIt (which also rescales control weights to sum to the number
of matched controls; that constant factor changes no weighted mean).

Examples
--------
>>> t = pd.DataFrame({"person_id": ["a", "b"], "age": [25.0, 45.0]})
>>> c = pd.DataFrame({"person_id": ["c", "d", "e"], "age": [24.0, 47.0, 60.0]})
>>> cfg = MatchingConfig(method="exact", strata={"age": [18, 30, 50, 66]})
>>> res = match(t, c, cfg, seed=1, time_col=None)
>>> res.cohort[["person_id", "group", "matched_set", "weight"]]
  person_id         group  matched_set  weight
0         a  intervention            1     1.0
1         c       control            1     1.0
2         b  intervention            2     1.0
3         d       control            2     1.0
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.cohort.balance import effective_sample_size
from helpers.config.schema.cohort import MatchingConfig
from helpers.core import calendar

#: Offset added to the study seed for matching draws (docs/architecture.md, "Randomness").
MATCHING_SEED_OFFSET = 1

#: Why a treated unit got no control (the report's wording: catalogue ``cohort.unmatched_reason.<key>``).
UNMATCHED_REASONS = {
    "no_candidates": "no eligible control in its risk set / stratum",
    "exhausted": "all eligible controls already used by earlier matches",
    "caliper": "no eligible control within the caliper",
    "outside_strata": "covariate outside the strata bands",
}


class MatchingError(ValueError):
    """Matching cannot give every intervention person a control (or cannot run at all)."""


@dataclass
class MatchResult:
    """Outcome of :func:`match`.

    Attributes
    ----------
    cohort : DataFrame
        Matched treated rows and their controls: the input columns plus ``group``
        (``"intervention"``/``"control"``), ``matched_set`` (1-based, the treated row's position
        in the input), ``weight`` and ``distance`` (NaN for the exact method).
    unmatched : DataFrame
        One row per treated unit without a control: ``position`` (row in ``treated``),
        ``stratum`` (readable label of its risk set/stratum), ``reason`` (key of
        :data:`UNMATCHED_REASONS`). Contains no identifiers.
    summary : dict
        Aggregates: method, ratio, caliper, numbers matched/unmatched by reason, controls
        used, effective sample size of the controls.
    distance_treated, distance_candidates : ndarray or None
        The matching distance (logit PS or PS) of every input row (nearest method).
    """

    cohort: pd.DataFrame
    unmatched: pd.DataFrame
    summary: dict
    distance_treated: np.ndarray | None = None
    distance_candidates: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- PS model
def design_matrix(frame: pd.DataFrame, covariates: Sequence[str], *, categorical: Sequence[str] = ()) -> pd.DataFrame:
    """Numeric model matrix: numeric covariates as float, categorical ones as 0/1 dummies (first level dropped).

    Constant columns are dropped (they carry no information and make the fit singular).

    Raises
    ------
    MatchingError
        When a covariate is missing from ``frame`` or has missing values.
    """
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        raise MatchingError(f"matching covariate(s) {missing} are not in the data (columns: {list(frame.columns)})")
    parts = []
    for name in covariates:
        s = frame[name]
        n_na = int(s.isna().sum())
        if n_na:
            raise MatchingError(
                f"matching covariate {name!r} has {n_na} missing value(s); matching needs complete covariates "
                "(remove the covariate from matching.covariates or fix the data)"
            )
        if name in categorical or not pd.api.types.is_numeric_dtype(s):
            dummies = pd.get_dummies(s.astype(str), prefix=name, prefix_sep="=", drop_first=True, dtype=float)
            parts.append(dummies)
        else:
            parts.append(s.astype("Float64").astype(float).rename(name).to_frame())
    x = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    keep = [c for c in x.columns if x[c].nunique() > 1]
    return x[keep]


def propensity_score(treat: np.ndarray, x: pd.DataFrame) -> np.ndarray:
    """Logistic-regression propensity score (statsmodels GLM, binomial family, logit link).

    Raises
    ------
    MatchingError
        When the model cannot be fitted (e.g. perfect separation).
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import (
        PerfectSeparationError,
        PerfectSeparationWarning,
    )

    exog = sm.add_constant(x.to_numpy(dtype=float), has_constant="add")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            fit = sm.GLM(np.asarray(treat, dtype=float), exog, family=sm.families.Binomial()).fit()
    except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError) as err:
        raise MatchingError(
            f"the propensity-score model could not be fitted ({type(err).__name__}): some covariate "
            "separates intervention persons from candidates perfectly; match exactly on it instead "
            "(matching.exact) or drop it from matching.covariates"
        ) from None
    return np.asarray(fit.fittedvalues, dtype=float)


def mahalanobis_transform(x: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Linear map under which Euclidean distance is the Mahalanobis distance.

    Uses the pooled within-group covariance :math:`S_W = ((n_1-1)S_1 + (n_0-1)S_0)/(n_1+n_0-2)`
    (Rubin 1980; MatchIt and optmatch). Returns ``x @ W`` with :math:`W W^T = S_W^{-1}`; a
    singular :math:`S_W` (e.g. a covariate constant within both groups) is handled with the
    pseudo-inverse.
    """
    x = np.asarray(x, dtype=float)
    if x.shape[1] == 0:
        return x
    t = np.asarray(treated, dtype=bool)
    parts = [x[t], x[~t]]
    dof = sum(max(len(p) - 1, 0) for p in parts)
    if dof <= 0:
        raise MatchingError("Mahalanobis matching needs at least two persons in a group")
    s = sum((len(p) - 1) * np.cov(p, rowvar=False).reshape(x.shape[1], x.shape[1]) for p in parts if len(p) > 1) / dof
    vals, vecs = np.linalg.eigh(s)
    keep = vals > 1e-10 * max(vals.max(), 1e-300)
    w = vecs[:, keep] / np.sqrt(vals[keep])
    return x @ w


# ----------------------------------------------------------------------------- strata
def stratum_codes(frame: pd.DataFrame, strata: dict[str, list[float]], exact: Sequence[str],
                  time_col: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Stratum of each row: band of every ``strata`` covariate, value of every ``exact`` one, index week.

    Bands are ``[edge_i, edge_{i+1})``. Returns the key columns and a boolean array that is
    False where a value falls outside the bands (or is missing).
    """
    keys = {}
    inside = np.ones(len(frame), dtype=bool)
    if time_col is not None:
        keys[time_col] = frame[time_col].to_numpy()
    for name, edges in strata.items():
        vals = pd.to_numeric(frame[name], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        band = np.digitize(vals, edges, right=False) - 1
        ok = (band >= 0) & (band < len(edges) - 1) & ~np.isnan(vals)
        inside &= ok
        keys[f"band:{name}"] = np.where(ok, band, -1)
    for name in exact:
        col = frame[name]
        inside &= col.notna().to_numpy()
        keys[f"exact:{name}"] = col.astype(str).to_numpy()
    return pd.DataFrame(keys, index=frame.index), inside


def _label(key_row: dict, strata: dict[str, list[float]], time_col: str | None) -> str:
    parts = []
    for col, value in key_row.items():
        if col == time_col:
            y, w = calendar.iso_from_dream_week(int(value))
            parts.append(f"week {y}-W{w:02d}")
        elif col.startswith("band:"):
            name = col[5:]
            edges = strata[name]
            b = int(value)
            parts.append(f"{name} outside {edges[0]:g}-{edges[-1]:g}" if b < 0 else f"{name} {edges[b]:g}-<{edges[b + 1]:g}")
        else:
            parts.append(f"{col[6:]}={value}")
    return ", ".join(parts) if parts else "all"


# ----------------------------------------------------------------------------- matching
def match(treated: pd.DataFrame, candidates: pd.DataFrame, config: MatchingConfig, seed: int, *,
          id_col: str = "person_id", time_col: str | None = "index_week", allow_unmatched: bool | None = None,
          categorical: Sequence[str] = ()) -> MatchResult:
    """Match every treated row to ``config.ratio`` candidate rows.

    Parameters
    ----------
    treated : DataFrame
        One row per intervention person: ``id_col``, ``time_col`` (if given) and the covariates.
    candidates : DataFrame
        Candidate rows (person, index week pairs when ``time_col`` is given).
    config : MatchingConfig
        Method, ratio, replacement, caliper, distance, exact/strata covariates, order.
    seed : int
        Seed of ``numpy.random.default_rng`` (the study seed + :data:`MATCHING_SEED_OFFSET`).
        The same inputs (in the same row order) and seed give the same matches.
    id_col : str
        Person identifier (a person is used once without replacement, whatever the week).
    time_col : str or None
        Risk-set column: treated rows only see candidates with the same value.
    allow_unmatched : bool, optional
        Return treated units without a control in ``unmatched`` instead of raising
        (default: ``config.allow_unmatched``).
    categorical : sequence of str
        Numeric covariates to enter the propensity model as categories.

    Returns
    -------
    MatchResult

    Raises
    ------
    MatchingError
        When some treated unit gets no control and unmatched units are not allowed; the
        message gives how many, why, and in which weeks/strata (never identifiers).
    """
    t0 = time.perf_counter()
    allow = config.allow_unmatched if allow_unmatched is None else allow_unmatched
    nt, nc = len(treated), len(candidates)
    if nt == 0:
        raise MatchingError("there are no intervention persons to match")
    if id_col not in candidates.columns:
        raise MatchingError(f"candidates have no {id_col!r} column")
    rng = np.random.default_rng(seed)
    treated = treated.reset_index(drop=True)
    candidates = candidates.reset_index(drop=True)
    strata = dict(config.strata)
    for name in [*strata, *config.exact]:
        for what, frame in (("intervention persons", treated), ("candidates", candidates)):
            if name not in frame.columns:
                raise MatchingError(f"matching variable {name!r} is not a column of the {what}")

    # ---- distance (nearest method)
    dist_t = dist_c = None
    z_t = z_c = None
    caliper_abs = np.inf
    if config.method == "nearest":
        both = pd.concat([treated[config.covariates], candidates[config.covariates]], ignore_index=True)
        x = design_matrix(both, config.covariates, categorical=categorical)
        z = np.r_[np.ones(nt), np.zeros(nc)]
        maha = config.distance == "mahalanobis"
        if not maha or config.caliper is not None or config.order in ("largest", "smallest"):
            ps = propensity_score(z, x)
            dist = np.log(ps / (1.0 - ps)) if config.distance in ("logit", "mahalanobis") else ps
            dist_t, dist_c = dist[:nt], dist[nt:]
            if config.caliper is not None:
                caliper_abs = float(config.caliper * np.std(dist, ddof=1))
        if maha:
            zz = mahalanobis_transform(x.to_numpy(dtype=float), z.astype(bool))
            z_t, z_c = zz[:nt], zz[nt:]

    # ---- strata / risk sets
    key_t, inside_t = stratum_codes(treated, strata, config.exact, time_col)
    key_c, inside_c = stratum_codes(candidates, strata, config.exact, time_col)
    key_cols = list(key_t.columns)
    if key_cols:
        allkeys = pd.concat([key_t, key_c], ignore_index=True)
        codes, _ = pd.MultiIndex.from_frame(allkeys).factorize() if len(key_cols) > 1 else pd.factorize(allkeys.iloc[:, 0])
        code_t, code_c = codes[:nt], codes[nt:]
    else:
        code_t, code_c = np.zeros(nt, dtype=np.int64), np.zeros(nc, dtype=np.int64)
    code_c = np.where(inside_c, code_c, -1)
    order_c = np.argsort(code_c, kind="stable")
    sorted_codes = code_c[order_c]
    person_code, _ = pd.factorize(candidates[id_col])
    used = np.zeros(person_code.max() + 1 if nc else 0, dtype=bool)

    # ---- order of the treated
    if config.method == "nearest" and dist_t is not None:
        if config.order == "largest":
            order_t = np.argsort(-dist_t, kind="stable")
        elif config.order == "smallest":
            order_t = np.argsort(dist_t, kind="stable")
        elif config.order == "random":
            order_t = rng.permutation(nt)
        else:
            order_t = np.arange(nt)
    elif config.method == "nearest":
        order_t = rng.permutation(nt) if config.order == "random" else np.arange(nt)
    else:
        order_t = np.arange(nt) if config.order == "data" else rng.permutation(nt)

    group_cache: dict[int, np.ndarray] = {}

    def group_rows(code: int) -> np.ndarray:
        if code not in group_cache:
            lo, hi = np.searchsorted(sorted_codes, [code, code + 1], side="left")
            group_cache[code] = order_c[lo:hi]  # data order within the group (stable sort)
        return group_cache[code]

    matches: list[list[int]] = [[] for _ in range(nt)]
    reason: list[str | None] = [None if inside_t[i] else "outside_strata" for i in range(nt)]
    for r in range(config.ratio):
        for i in order_t:
            if reason[i] is not None or len(matches[i]) < r:
                continue
            rows = group_rows(int(code_t[i]))
            if config.replace:
                avail = rows if not matches[i] else rows[~np.isin(person_code[rows], person_code[matches[i]])]
            else:
                avail = rows[~used[person_code[rows]]]
            if avail.size == 0:
                if r == 0:
                    reason[i] = "exhausted" if rows.size else "no_candidates"
                continue
            if config.method == "nearest":
                if np.isfinite(caliper_abs):
                    avail = avail[np.abs(dist_c[avail] - dist_t[i]) <= caliper_abs]
                    if avail.size == 0:
                        if r == 0:
                            reason[i] = "caliper"
                        continue
                if z_t is not None:
                    d = np.einsum("ij,ij->i", z_c[avail] - z_t[i], z_c[avail] - z_t[i])
                else:
                    d = np.abs(dist_c[avail] - dist_t[i])
                pick = int(avail[int(np.argmin(d))])
            else:
                pick = int(avail[rng.integers(avail.size)])
            matches[i].append(pick)
            if not config.replace:
                used[person_code[pick]] = True

    # ---- assemble
    matched_t = np.array([i for i in range(nt) if matches[i]], dtype=np.int64)
    t_rows = treated.iloc[matched_t].copy()
    t_rows["group"] = "intervention"
    t_rows["matched_set"] = matched_t + 1
    t_rows["weight"] = 1.0
    t_rows["distance"] = dist_t[matched_t] if dist_t is not None else np.nan
    c_idx = np.array([c for i in matched_t for c in matches[i]], dtype=np.int64)
    c_set = np.array([i + 1 for i in matched_t for _ in matches[i]], dtype=np.int64)
    c_w = np.array([1.0 / len(matches[i]) for i in matched_t for _ in matches[i]], dtype=float)
    c_rows = candidates.iloc[c_idx].copy()
    c_rows["group"] = "control"
    c_rows["matched_set"] = c_set
    c_rows["weight"] = c_w
    c_rows["distance"] = dist_c[c_idx] if dist_c is not None else np.nan
    cohort = pd.concat([t_rows, c_rows], ignore_index=True)
    cohort = cohort.sort_values(["matched_set", "group"], ascending=[True, False], kind="stable").reset_index(drop=True)

    um = [i for i in range(nt) if not matches[i]]
    key_rows = key_t.iloc[um].to_dict("records") if key_cols else [{} for _ in um]
    unmatched = pd.DataFrame({
        "position": np.asarray(um, dtype=np.int64),
        "stratum": [_label(k, strata, time_col) for k in key_rows],
        "reason": [reason[i] or "no_candidates" for i in um],
    })
    n_short = sum(1 for i in matched_t if len(matches[i]) < config.ratio)
    summary = {
        "method": config.method,
        "ratio": config.ratio,
        "replace": config.replace,
        "distance": config.distance if config.method == "nearest" else None,
        "distance_ps": dist_t is not None,
        "caliper_sd": config.caliper if config.method == "nearest" else None,
        "caliper": caliper_abs if np.isfinite(caliper_abs) else None,
        "n_treated": nt,
        "n_treated_matched": int(matched_t.size),
        "n_unmatched": len(um),
        **{f"n_unmatched_{k}": int((unmatched["reason"] == k).sum()) for k in UNMATCHED_REASONS},
        "n_sets_short": int(n_short),
        "n_candidate_rows": nc,
        "n_candidate_persons": int(used.size),
        "n_control_rows": int(c_idx.size),
        "n_controls_unique": int(np.unique(person_code[c_idx]).size) if c_idx.size else 0,
        "ess_control": effective_sample_size(_person_weights(person_code[c_idx], c_w)) if c_idx.size else 0.0,
        "seconds": time.perf_counter() - t0,
    }
    result = MatchResult(cohort=cohort, unmatched=unmatched, summary=summary,
                         distance_treated=dist_t, distance_candidates=dist_c)
    if n_short:
        result.notes.append(f"{n_short} of {matched_t.size} matched intervention persons got fewer than "
                            f"{config.ratio} controls")
    if um and not allow:
        raise MatchingError(unmatched_message(unmatched, nt, config))
    return result


def _person_weights(person: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Sum of set weights per control person (MatchIt's unit weight)."""
    _, inv = np.unique(person, return_inverse=True)
    return np.bincount(inv, weights=w)


def unmatched_message(unmatched: pd.DataFrame, n_treated: int, config: MatchingConfig) -> str:
    """Readable account of unmatched intervention persons: how many, why, where (no identifiers)."""
    lines = [f"{len(unmatched)} of {n_treated} intervention persons have no matching control:"]
    for reason, sub in unmatched.groupby("reason", sort=True):
        where = sub["stratum"].value_counts().sort_index()
        shown = "; ".join(f"{lab} ({n})" for lab, n in list(where.items())[:8])
        more = f"; ... {len(where) - 8} more" if len(where) > 8 else ""
        lines.append(f"  - {len(sub)}: {UNMATCHED_REASONS[reason]} [{shown}{more}]")
    tips = []
    if (unmatched["reason"] == "caliper").any():
        tips.append(f"widen matching.caliper (now {config.caliper} SD)")
    if (unmatched["reason"].isin(["no_candidates", "outside_strata"])).any():
        tips.append("coarsen or widen matching.strata / drop matching.exact variables")
    if (unmatched["reason"] == "exhausted").any():
        tips.append("set matching.replace: true or lower matching.ratio")
    tips.append("or set matching.allow_unmatched: true to continue without them (they are logged in the flow diagram)")
    lines.append("Options: " + "; ".join(tips) + ".")
    return "\n".join(lines)
