"""Disclosure control of the trajectories stage: state distributions, the self-support difference, weeks in states.

Takes computed numbers (:mod:`helpers.outcomes.trajectories`, :mod:`helpers.stats.matched_bootstrap`)
and ``min_cell`` and returns masked frames and :class:`~helpers.disclosure.Check` objects.
The unit counted is a person of the analysis cohort (distinct persons per cell).

State distribution (:func:`merge_distribution`, verified by :func:`check_distribution`)
    The distribution is shown only on a grid of weeks (``trajectories.grid_weeks``, as the
    survival curves), never every week unless asked. Then, in three steps:

    1. *Rare states, for the whole figure.* A state that is small (1 .. min_cell - 1
       persons) in more than half of the group-weeks in which it occurs is shown together
       with its family (:data:`FAMILIES`, neighbours in the stacking order: employed and no
       wage; cash and education benefit; ressourceforløb and sick pay; flexjob and disability
       pension; other benefits and exit) as one band throughout.
    2. *Week by week, with the family.* In a group-week in which a band of a family is
       small, the family's bands are shown as one family band (drawn hatched in place).
    3. *Week by week, the rest.* Every band still holding 1 .. min_cell - 1 persons goes
       into a residual band (``merged``, on top); while the residual itself holds
       1 .. min_cell - 1 persons, the smallest other band with persons joins it. A week in
       which fewer than ``min_cell`` persons of a group are observed is not shown for that
       group.

    So every shown band holds 0 or at least ``min_cell`` persons, and because the bands of
    a week add up to the persons observed, so does every complement (the persons *not* in a
    band). Differences between two shown weeks are net changes of a cross-section, not
    counts of persons with a characteristic, and are not masked.

Self-support difference (:func:`mask_difference`)
    A week's difference (and band) is shown only when, in each group, the persons
    self-supported and the persons observed but not self-supported are 0 or at least
    ``min_cell`` (the rule of the outcome table); other weeks are gaps.

Weeks in states (:func:`mask_windows`)
    A group's mean weeks in a measure over a window is shown only when at least
    ``min_cell`` persons have the whole window observed, and the persons with at least one
    week in the measure and the persons with at least one week not in it are each 0 or at
    least ``min_cell`` (no mean rests on the weeks of fewer than ``min_cell`` persons); the
    difference and its interval are shown only when both groups' means are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.disclosure import Check

#: Families of analysis states that may be shown as one band: neighbours in the stacking order.
FAMILIES: tuple[tuple[str, ...], ...] = (
    ("employed", "no_wage"),
    ("cash_benefit", "education_benefit"),
    ("ressourceforloeb", "sickness"),
    ("flexjob", "disability_pension"),
    ("other_benefit", "exit"),
)
#: Band of the cells merged week by week (last step).
MERGED = "merged"
#: Share of a state's occupied cells that may be small before its family is one band in the whole figure.
RARE_SHARE = 0.5


def _small(x, min_cell: int):
    x = np.asarray(x)
    return (x > 0) & (x < min_cell)


def family_of(state: str) -> tuple[str, ...]:
    """The family (:data:`FAMILIES`) of an analysis state (a state in none is a family of its own)."""
    for fam in FAMILIES:
        if state in fam:
            return fam
    return (state,)


def _name(states) -> str:
    return "+".join(states)


def band_of_states(counts: pd.DataFrame, min_cell: int, states: list[str]) -> dict[str, str]:
    """State -> band for the whole figure (step 1): a rare state's family becomes one band.

    A state is rare when more than :data:`RARE_SHARE` of the group-weeks in which it has
    persons have 1 .. min_cell - 1 of them. A band is named by its states joined with ``+``.

    Parameters
    ----------
    counts : DataFrame
        ``group, week, state, persons`` (shown weeks only).
    states : list of str
        All states, in stacking order.
    """
    occupied = counts[counts["persons"] > 0]
    small = pd.Series(_small(occupied["persons"].to_numpy(), min_cell), index=occupied.index)
    rare_share = small.groupby(occupied["state"]).mean()
    band = {s: s for s in states}
    for s in states:
        if rare_share.get(s, 0.0) > RARE_SHARE:
            fam = [x for x in states if x in family_of(s)]
            for x in fam:
                band[x] = _name(fam)
    return band


def band_order(bands: dict[str, str], states: list[str]) -> list[str]:
    """Bands in stacking order: per family its bands, then (if it has several) the family band of the weeks in
    which its states are shown together; the residual :data:`MERGED` last."""
    order: list[str] = []
    done: set[str] = set()
    for s in states:
        fam = [x for x in states if x in family_of(s)]
        if fam[0] in done:
            continue
        done.update(fam)
        own = list(dict.fromkeys(bands[x] for x in fam))
        order += own
        if len(own) > 1:
            order.append(_name(fam))
    return order + [MERGED]


def merge_distribution(counts: pd.DataFrame, min_cell: int, states: list[str]) -> pd.DataFrame:
    """The state distribution as shown: bands merged so that each holds 0 or at least ``min_cell`` persons.

    Parameters
    ----------
    counts : DataFrame
        :func:`helpers.outcomes.trajectories.state_counts` output (``group, state, persons,
        observed, share``) with ``week`` (relative to the index week), for the shown weeks only.
    min_cell : int
    states : list of str
        States in stacking order.

    Returns
    -------
    DataFrame
        ``group, week, band, states (the states in the band that week), persons, observed,
        share``: every band of :func:`band_order` that holds persons in some week, in every shown
        group-week (0 where empty).
        Weeks where a group has fewer than ``min_cell`` persons observed are left out for that group.
    """
    shown = counts[counts["observed"] >= min_cell]
    bands = band_of_states(shown, min_cell, states)
    order = band_order(bands, states)
    rows = []
    for (group, week), cell in shown.groupby(["group", "week"], sort=False):
        agg = {b: [0, 0.0, []] for b in order}
        for rec in cell.itertuples(index=False):
            a = agg[bands[rec.state]]
            a[0] += int(rec.persons)
            a[1] += float(rec.share) if np.isfinite(rec.share) else 0.0
            a[2].append(rec.state)
        # step 2: a small band is shown together with its family that week
        for fam_band in [b for b in order if b != MERGED and b not in bands.values()]:
            inside = set(fam_band.split("+"))
            members = [b for b in order if b not in (fam_band, MERGED) and set(b.split("+")) < inside]
            if any(0 < agg[b][0] < min_cell for b in members):
                for b in members:
                    agg[fam_band][0] += agg[b][0]
                    agg[fam_band][1] += agg[b][1]
                    agg[fam_band][2] += agg[b][2]
                    agg[b] = [0, 0.0, []]
        # step 3: what is still small goes into the residual, topped up to min_cell
        residual = [b for b in order if b != MERGED and 0 < agg[b][0] < min_cell]
        while 0 < sum(agg[b][0] for b in residual) < min_cell:
            rest = [b for b in order if b != MERGED and b not in residual and agg[b][0] > 0]
            if not rest:
                break
            residual.append(min(rest, key=lambda b: (agg[b][0], order.index(b))))
        for b in residual:
            agg[MERGED][0] += agg[b][0]
            agg[MERGED][1] += agg[b][1]
            agg[MERGED][2] += agg[b][2]
            agg[b] = [0, 0.0, []]
        observed = int(cell["observed"].iloc[0])
        for b in order:
            rows.append({"group": group, "week": int(week), "band": b, "states": [s for s in states if s in agg[b][2]],
                         "persons": agg[b][0], "observed": observed, "share": agg[b][1]})
    out = pd.DataFrame(rows, columns=["group", "week", "band", "states", "persons", "observed", "share"])
    used = out.groupby("band", sort=False)["persons"].sum()
    return out[out["band"].map(used).gt(0)].reset_index(drop=True)  # bands empty in every week are left out


def check_distribution(shown: pd.DataFrame, min_cell: int, *, item: str) -> Check:
    """Verify a shown distribution: every band 0 or >= ``min_cell`` persons, every week >= ``min_cell`` observed."""
    bad = shown[_small(shown["persons"].to_numpy(), min_cell) | (shown["observed"].to_numpy() < min_cell)]
    if len(bad):
        where = "; ".join(f"{r.group} week {r.week}: {r.band}" for r in bad.head(3).itertuples())
        return Check(item=item, status="FAIL", detail=f"{len(bad)} band(s) with fewer than {min_cell} persons ({where})",
                     detail_da=f"{len(bad)} bånd med færre end {min_cell} personer")
    n_merged = int(((shown["band"] == MERGED) & (shown["persons"] > 0)).sum())
    n_bands = int(shown.loc[shown["band"] != MERGED, "band"].nunique())
    positive = shown.loc[shown["persons"] > 0, "persons"]
    return Check(item=item, status="PASS", masked=n_merged,
                 min_shown=float(positive.min()) if len(positive) else None,
                 detail=f"{n_bands} bands, each 0 or >= {min_cell} persons in every shown week; "
                        f"{n_merged} group-week(s) with small cells merged",
                 detail_da=f"{n_bands} bånd, hver 0 eller >= {min_cell} personer i hver viste uge; "
                           f"{n_merged} gruppe-uge(r) med små celler lagt sammen")


def mask_difference(frame: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Hide the weeks of the self-support difference whose counts are small (see the module docstring).

    ``frame`` has per week ``ss_int, observed_int, ss_ctl, observed_ctl`` (persons) and the
    estimates ``share_int, share_ctl, difference, lower, upper``; returns a copy with the
    estimates NaN and ``shown`` False where the rule fails.
    """
    out = frame.copy()
    ok = np.ones(len(out), dtype=bool)
    for g in ("int", "ctl"):
        n = out[f"ss_{g}"].to_numpy()
        total = out[f"observed_{g}"].to_numpy()
        ok &= (total >= min_cell) & ~_small(n, min_cell) & ~_small(total - n, min_cell)
    for col in ("share_int", "share_ctl", "difference", "lower", "upper"):
        out[col] = np.where(ok, out[col].to_numpy(dtype=float), np.nan)
    out["shown"] = ok
    return out


def check_difference(frame: pd.DataFrame, min_cell: int, *, item: str) -> Check:
    """Verify a shown difference series: no shown week rests on a small count."""
    shown = frame[frame["shown"]]
    problems = 0
    for g in ("int", "ctl"):
        n = shown[f"ss_{g}"].to_numpy()
        total = shown[f"observed_{g}"].to_numpy()
        problems += int((_small(n, min_cell) | _small(total - n, min_cell) | (total < min_cell)).sum())
    if problems:
        return Check(item=item, status="FAIL", detail=f"{problems} shown week(s) rest on fewer than {min_cell} persons",
                     detail_da=f"{problems} viste uge(r) bygger på færre end {min_cell} personer")
    hidden = int((~frame["shown"]).sum())
    return Check(item=item, status="PASS", masked=hidden,
                 detail=f"{hidden} of {len(frame)} weeks hidden (a group's self-supported or other persons "
                        f"1-{min_cell - 1}); shown weeks rest on 0 or >= {min_cell} persons",
                 detail_da=f"{hidden} af {len(frame)} uger skjult (selvforsørgede eller øvrige personer i en gruppe "
                           f"1-{min_cell - 1}); viste uger bygger på 0 eller >= {min_cell} personer")


def mean_shown(n: np.ndarray, n_positive: np.ndarray, n_full: np.ndarray, min_cell: int) -> np.ndarray:
    """Boolean: a group mean may be shown (``n`` persons, ``n_positive`` with a week in the measure, ``n_full`` with all)."""
    n = np.asarray(n)
    return (n >= min_cell) & ~_small(n_positive, min_cell) & ~_small(n - np.asarray(n_full), min_cell)


def mask_windows(frame: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Mask the weeks-in-states rows (see the module docstring).

    ``frame`` has per row ``n_int, positive_int, full_int`` and the same for ``_ctl``
    (persons) and the estimates ``mean_int, mean_ctl, difference, lower, upper``; returns a
    copy with masked estimates NaN and ``masked_int`` / ``masked_ctl`` set.
    """
    out = frame.copy()
    keep = {}
    for g in ("int", "ctl"):
        keep[g] = mean_shown(out[f"n_{g}"].to_numpy(), out[f"positive_{g}"].to_numpy(), out[f"full_{g}"].to_numpy(),
                             min_cell)
        out[f"mean_{g}"] = np.where(keep[g], out[f"mean_{g}"].to_numpy(dtype=float), np.nan)
        out[f"masked_{g}"] = ~keep[g] & (out[f"n_{g}"].to_numpy() > 0)
    both = keep["int"] & keep["ctl"]
    for col in ("difference", "lower", "upper"):
        out[col] = np.where(both, out[col].to_numpy(dtype=float), np.nan)
    return out


def check_windows(frame: pd.DataFrame, min_cell: int, *, item: str) -> Check:
    """Verify a masked weeks-in-states frame: no shown mean breaks :func:`mean_shown`."""
    problems = 0
    for g in ("int", "ctl"):
        shown = np.isfinite(frame[f"mean_{g}"].to_numpy(dtype=float))
        ok = mean_shown(frame[f"n_{g}"].to_numpy(), frame[f"positive_{g}"].to_numpy(), frame[f"full_{g}"].to_numpy(),
                        min_cell)
        problems += int((shown & ~ok).sum())
    diff_shown = np.isfinite(frame["difference"].to_numpy(dtype=float))
    problems += int((diff_shown & ~(np.isfinite(frame["mean_int"].to_numpy(dtype=float))
                                    & np.isfinite(frame["mean_ctl"].to_numpy(dtype=float)))).sum())
    if problems:
        return Check(item=item, status="FAIL", detail=f"{problems} mean(s) shown that rest on fewer than {min_cell} "
                     "persons", detail_da=f"{problems} gennemsnit vist, som bygger på færre end {min_cell} personer")
    masked = int(frame["masked_int"].sum() + frame["masked_ctl"].sum())
    return Check(item=item, status="PASS", masked=masked,
                 detail=(f"{masked} group mean(s) masked (fewer than {min_cell} persons with or without weeks in the "
                         f"measure)" if masked else f"every mean rests on 0 or >= {min_cell} persons either way"),
                 detail_da=(f"{masked} gruppegennemsnit skjult (færre end {min_cell} personer med eller uden uger i "
                            f"målet)" if masked else f"hvert gennemsnit bygger på 0 eller >= {min_cell} personer"))


def saved_check(item: str, masked: int) -> Check:
    """The check of an item built from a result read back from JSON: the stage saved only masked values."""
    return Check(item=item, status="PASS", masked=int(masked),
                 detail=f"masked by the stage before it was saved ({int(masked)} value(s) hidden)",
                 detail_da=f"skjult af trinnet, før det blev gemt ({int(masked)} værdi(er) skjult)")
