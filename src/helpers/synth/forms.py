"""Project forms: questionnaires, events and costs (the screening form is in :mod:`design`).

Questionnaires
    Rows for every intervention person (baseline at the inclusion date) and every register
    person on cash benefit in the inclusion window (baseline on a weekday of their first
    cash-benefit week in the window), each with a follow-up ``programme_weeks`` later
    (-1..+3 weeks) when that date is inside the data. Values are 0-10 integers built from
    the person's latent work ability ``a`` (self-rated work ability ``3.2 + 1.4 a + e``;
    health and social situation correlate with ``a``), with a follow-up change of
    ``N(0, 1)`` plus ``questionnaire_effect`` x (1.0 work ability, 0.6 health, 0.8 social)
    for intervention persons, plus (1.5, 0.5, 0.8) for persons employed at follow-up.
    Caseworker ratings follow the same latent values with their own noise. Missing: items
    3-5 % at baseline; at follow-up whole questionnaires 20 % (self; +10 % when ``a < -1``;
    -5 % for intervention persons) and 12 % (caseworker), items 4 %; everyone who died,
    emigrated or reached state pension before follow-up.

Events
    For intervention persons: ``praktik_start``/``praktik_end`` for every praktik episode
    (DREAM codes x7/x8) that starts in the programme window (detail ``privat``/``offentlig``);
    the first ``afklaring`` within the programme window plus 13 weeks (detail ``job`` for a
    13-week employed run, ``flexjob`` for ledighedsydelse/flexjob, ``disability_pension``,
    ``education``, ``ressourceforloeb``; register-paid outcomes are dated 0-6 weeks before
    the first payment week: the decision comes first); ``dropout`` for
    ``dropout_share`` of persons not yet clarified (detail: reason).

Costs
    Items with shares of ``investment.intervention_cost_total`` split over calendar years
    in proportion to programme person-weeks; whole kroner, summing exactly to the total.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from helpers.core import calendar
from helpers.synth.coding import DP, EDU, FLEX, LEDY, REHAB, SELF_EMP
from helpers.synth.model import praktik_mask
from helpers.synth.truth import OUT, first_run_start

MEASURE_MODEL = {
    # measure: (self intercept, self slope on a, caseworker intercept, caseworker slope,
    #           treatment shift, shift when employed at follow-up)
    "work_ability": (3.2, 1.4, 2.8, 1.5, 1.0, 1.5),
    "health": (4.5, 1.0, 4.2, 1.1, 0.6, 0.5),
    "social_situation": (5.0, 0.7, 4.8, 0.8, 0.8, 0.8),
}
GENERIC_MEASURE = (4.5, 1.0, 4.3, 1.0, 0.6, 0.8)


def _fmt(dates: np.ndarray) -> np.ndarray:
    return pd.to_datetime(pd.Series(dates)).dt.strftime("%Y-%m-%d").fillna("").to_numpy()


def questionnaires(
    pnr: np.ndarray,
    ability: np.ndarray,
    baseline: np.ndarray,
    treated: np.ndarray,
    employed_fu: np.ndarray,
    exited_fu: np.ndarray,
    programme_weeks: int,
    data_end: dt.date,
    measures: list[str],
    raters: list[str],
    labels: tuple[str, str],
    effect: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Return the long questionnaire form (see module docstring).

    Parameters
    ----------
    pnr, ability, baseline, treated, employed_fu, exited_fu : ndarray
        One entry per respondent: ID, latent ability, baseline date (datetime64[D]),
        intervention flag, latent employment and exit at follow-up.
    labels : (str, str)
        Names of the baseline and follow-up timepoints.
    """
    n = len(pnr)
    shift = rng.integers(-7, 22, n).astype("timedelta64[D]")
    followup = baseline + np.timedelta64(7 * programme_weeks, "D") + shift
    has_fu = followup <= np.datetime64(data_end, "D")
    common = {m: rng.standard_normal(n) for m in measures}
    fu_change = {m: rng.standard_normal(n) for m in measures}
    frames = []
    p_self_fu = 0.20 + 0.10 * (ability < -1) - 0.05 * treated
    resp = {
        ("baseline", "self"): rng.random(n) >= 0.04,
        ("baseline", "caseworker"): rng.random(n) >= 0.02,
        ("followup", "self"): (rng.random(n) >= p_self_fu) & ~exited_fu,
        ("followup", "caseworker"): (rng.random(n) >= 0.12) & ~exited_fu,
    }
    item_miss = {"baseline": 0.04, "followup": 0.04}
    for tp, label in zip(("baseline", "followup"), labels, strict=True):
        keep = np.ones(n, dtype=bool) if tp == "baseline" else has_fu
        date = baseline if tp == "baseline" else followup
        for rater in raters:
            for m in measures:
                si, ss, ci, cs, te, ee = MEASURE_MODEL.get(m, GENERIC_MEASURE)
                icpt, slope = (ci, cs) if rater == "caseworker" else (si, ss)
                latent = icpt + slope * ability + 0.7 * common[m]
                if tp == "followup":
                    scale = 0.8 if rater == "caseworker" else 1.0
                    latent = latent + fu_change[m] + scale * (effect * te * treated + ee * employed_fu)
                noise = rng.normal(0, 0.8, n)
                value = np.clip(np.round(latent + noise), 0, 10).astype(int)
                r = resp.get((tp, rater), np.ones(n, dtype=bool)) & (rng.random(n) >= item_miss[tp])
                vals = np.where(r, value.astype(str), "")
                frames.append(pd.DataFrame({"PNR": pnr[keep], "timepoint": label, "date": _fmt(date[keep]),
                                            "rater": rater, "measure": m, "value": vals[keep]}))
    out = pd.concat(frames, ignore_index=True)
    order = {label: i for i, label in enumerate(labels)}
    out["_tp"] = out["timepoint"].map(order)
    return out.sort_values(["PNR", "_tp", "rater", "measure"], kind="stable").drop(columns="_tp").reset_index(drop=True)


def events(
    pnr: np.ndarray,
    inclusion_date: np.ndarray,
    index_week: np.ndarray,
    index_state: np.ndarray,
    states: np.ndarray,
    codes: np.ndarray,
    programme_weeks: int,
    dropout_share: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Return the events form for intervention persons (see module docstring).

    ``states``/``codes`` are the factual latent states and codes aligned on each
    person's index week (column 0 = index + 1), at least ``programme_weeks + 40`` long;
    ``index_state`` is the latent state in the index week (an afklaring is an *entry*).
    """
    rows: list[tuple[str, str, np.datetime64, str]] = []
    n = len(pnr)
    monday0 = np.array([np.datetime64(calendar.monday_of_dream_week(int(w) + 1), "D") for w in index_week])
    incl = inclusion_date.astype("datetime64[D]")

    # praktik episodes starting within the programme
    prak = praktik_mask(np.where(codes < 0, 0, codes))
    prev = np.zeros_like(prak)
    prev[:, 1:] = prak[:, :-1]
    nxt = np.zeros_like(prak)
    nxt[:, :-1] = prak[:, 1:]
    starts = prak & ~prev
    ends = prak & ~nxt
    for i in range(n):
        s_cols = np.flatnonzero(starts[i, :programme_weeks])
        e_cols = np.flatnonzero(ends[i])
        for s in s_cols:
            e = e_cols[e_cols >= s][0]
            detail = "privat" if codes[i, s] % 10 == 7 else "offentlig"
            d0 = monday0[i] + 7 * s + int(rng.integers(0, 3))
            d1 = monday0[i] + 7 * e + int(rng.integers(2, 5))
            rows.append((pnr[i], "praktik_start", d0, detail))
            rows.append((pnr[i], "praktik_end", d1, detail))

    # first afklaring within programme + 13 weeks
    horizon = programme_weeks + 13
    emp_run = first_run_start(states[:, : horizon + 13] == SELF_EMP, 13)
    st = states[:, :horizon]
    prev = np.concatenate([np.asarray(index_state)[:, None], st[:, :-1]], axis=1)

    def entry(kind_states: tuple[int, ...], extra: np.ndarray | bool = True) -> np.ndarray:
        now = np.isin(st, kind_states) & extra
        return now & ~np.isin(prev, kind_states)

    kinds = {
        "flexjob": entry((LEDY, FLEX)),
        "disability_pension": entry((DP,)),
        "ressourceforloeb": entry((REHAB,), codes[:, :horizon] // 10 == 81),
        "education": entry((EDU,)),
    }
    first = {k: np.where(m.any(axis=1), m.argmax(axis=1), 10_000) for k, m in kinds.items()}
    first["job"] = np.where((emp_run >= 0) & (emp_run < horizon), emp_run, 10_000)
    names = list(first)
    mat = np.stack([first[k] for k in names])
    which = mat.argmin(axis=0)
    when = mat.min(axis=0)
    afk_week = np.full(n, 10_000)
    for i in range(n):
        if when[i] >= 10_000:
            continue
        kind = names[which[i]]
        base = monday0[i] + 7 * int(when[i])
        if kind in ("flexjob", "disability_pension", "ressourceforloeb"):
            date = base - 7 * int(rng.integers(0, 7))
        else:
            date = base + int(rng.integers(0, 5))
        date = max(date, incl[i])
        afk_week[i] = when[i]
        rows.append((pnr[i], "afklaring", date, kind))

    # dropout among persons not yet clarified
    drop = rng.random(n) < dropout_share
    drop_week = rng.integers(2, max(programme_weeks - 1, 3), n)
    for i in np.flatnonzero(drop & (drop_week < afk_week)):
        if states[i, drop_week[i]] == OUT:
            continue
        reason = ("declined_to_continue", "illness", "moved")[int(rng.integers(0, 3))]
        rows.append((pnr[i], "dropout", monday0[i] + 7 * int(drop_week[i]) + int(rng.integers(0, 5)), reason))

    out = pd.DataFrame(rows, columns=["PNR", "event", "date", "detail"])
    out["date"] = _fmt(out["date"].to_numpy(dtype="datetime64[D]")) if len(out) else []
    order = {"praktik_start": 0, "praktik_end": 1, "afklaring": 2, "dropout": 3}
    out["_o"] = out["event"].map(order)
    return out.sort_values(["PNR", "date", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def costs(items: dict[str, float], total: float, index_week: np.ndarray, programme_weeks: int) -> pd.DataFrame:
    """Return the costs form: items x years summing exactly to ``total`` (whole kroner)."""
    weeks = (np.asarray(index_week)[:, None] + 1 + np.arange(programme_weeks)[None, :]).ravel()
    years = np.array([calendar.month_of_dream_week(int(w))[0] for w in np.unique(weeks)])
    counts = np.unique(weeks, return_counts=True)[1]
    by_year = pd.Series(counts, index=years).groupby(level=0).sum()
    shares = pd.Series(items, dtype=float)
    shares = shares / shares.sum()
    cells = []
    for item, s in shares.items():
        for year, c in by_year.items():
            cells.append((item, s * c / by_year.sum() * total, int(year)))
    frame = pd.DataFrame(cells, columns=["item", "exact", "year"])
    target = int(round(total))
    frame["amount_dkk"] = np.floor(frame["exact"]).astype(np.int64)
    frame.loc[frame["exact"].idxmax(), "amount_dkk"] += target - int(frame["amount_dkk"].sum())
    frame["per_person"] = 0
    frame["note"] = "synthetic split of investment.intervention_cost_total"
    return frame[["item", "amount_dkk", "year", "per_person", "note"]]
