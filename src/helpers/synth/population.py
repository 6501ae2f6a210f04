"""The synthetic register population: IDs, sex, birth dates, segments, residence.

IDs are CPR-shaped (``DDMMYY`` + 4 digits, no dash): the 7th digit follows the CPR
century rule (0-3 for births 1900-1999, 4 for 2000-2036) and the last digit is odd for
men and even for women. The numbers are random and not checked against (or built to
pass) the modulus-11 rule; about a third start with ``0`` so every reader must keep the
ID as a string.

Residence (``nykom<YYYY>``: municipality on 1 January) starts in the study municipality
for ``share_study_municipality`` of persons and in one of its neighbours otherwise, and
moves with probability 3 % a year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from helpers.synth.model import (
    ABILITY_MEAN,
    CORE,
    IMMIGRANT,
    MARGINAL,
    VULNERABLE,
    YOUNG,
    Persons,
)

#: Ishøj and its neighbours (3-digit municipality codes since 2007) with Danish names.
MUNICIPALITIES = {
    183: "Ishøj",
    187: "Vallensbæk",
    153: "Brøndby",
    253: "Greve",
    169: "Høje-Taastrup",
    165: "Albertslund",
}
#: Segment shares of the pool: core, marginal, vulnerable, young, immigrant.
SEGMENT_SHARES = np.array([0.42, 0.17, 0.27, 0.07, 0.07])
MOVE_PROBABILITY = 0.03


@dataclass
class Population:
    """Persons in the pool (row order = extract order after sorting by PNR)."""

    pnr: np.ndarray  # str
    persons: Persons
    residence: np.ndarray  # int16, persons x years (municipality on 1 January; 0 = unknown)
    years: np.ndarray  # int, the years of ``residence``

    def __len__(self) -> int:
        return len(self.pnr)


def _ages(segment: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Age (years) at the reference date by segment."""
    n = len(segment)
    age = np.empty(n)
    for seg, (lo, hi) in {CORE: (20, 66), MARGINAL: (18, 62), YOUNG: (16, 30), IMMIGRANT: (20, 60)}.items():
        m = segment == seg
        age[m] = rng.uniform(lo, hi, m.sum())
    m = segment == VULNERABLE
    age[m] = 18 + 47 * rng.beta(2.0, 2.0, m.sum())
    return age


def make_pnr(birth: np.ndarray, sex: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return unique CPR-shaped IDs for the given birth dates and sexes."""
    birth = birth.astype("datetime64[D]")
    years = birth.astype("datetime64[Y]").astype(int) + 1970
    months = birth.astype("datetime64[M]").astype(int) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(int) + 1
    century = np.where(years >= 2000, 4, rng.integers(0, 4, len(birth)))
    prefix = np.char.add(
        np.char.add(np.char.zfill(days.astype(str), 2), np.char.zfill(months.astype(str), 2)),
        np.char.zfill((years % 100).astype(str), 2),
    )
    out = np.empty(len(birth), dtype=object)
    todo = np.arange(len(birth))
    seen: set[str] = set()
    while todo.size:
        mid = rng.integers(0, 100, todo.size)
        last = rng.integers(0, 5, todo.size) * 2 + (sex[todo] == 1)
        cand = [f"{p}{c}{m:02d}{x}" for p, c, m, x in zip(prefix[todo], century[todo], mid, last, strict=True)]
        retry = []
        for i, pnr in zip(todo, cand, strict=True):
            if pnr in seen:
                retry.append(i)
            else:
                seen.add(pnr)
                out[i] = pnr
        todo = np.asarray(retry, dtype=np.int64)
    return out


def make_population(
    n: int,
    reference: dt.date,
    years: np.ndarray,
    study_municipality: int,
    share_study_municipality: float,
    rng: np.random.Generator,
) -> Population:
    """Draw ``n`` persons (segments, ability, sex, birth date, ID, residence by year).

    Parameters
    ----------
    n : int
        Pool size.
    reference : date
        Date at which the segment-specific age distributions apply (inclusion start).
    years : array of int
        Years with a ``nykom`` column.
    study_municipality : int
        Municipality of the intervention (gets ``share_study_municipality`` of persons).
    rng : numpy.random.Generator
    """
    segment = rng.choice(len(SEGMENT_SHARES), size=n, p=SEGMENT_SHARES).astype(np.int8)
    ability = (ABILITY_MEAN[segment] + rng.standard_normal(n)).astype(np.float32)
    sex = np.where(rng.random(n) < np.where(segment == IMMIGRANT, 0.45, 0.5), 2, 1).astype(np.int8)
    age = _ages(segment, rng)
    ref = np.datetime64(reference, "D")
    birth = ref - np.round(age * 365.25).astype("timedelta64[D]")
    pnr = make_pnr(birth, sex, rng)

    codes = list(MUNICIPALITIES)
    if study_municipality not in codes:
        codes = [study_municipality, *codes]
    codes_arr = np.array(codes, dtype=np.int16)
    k = len(codes_arr)
    others = [i for i, c in enumerate(codes) if c != study_municipality]
    p_home = np.zeros(k)
    p_home[codes.index(study_municipality)] = share_study_municipality
    p_home[others] = (1 - share_study_municipality) / len(others)
    home = rng.choice(k, size=n, p=p_home)
    residence = np.empty((n, len(years)), dtype=np.int16)
    for j in range(len(years)):
        if j:
            move = rng.random(n) < MOVE_PROBABILITY
            shift = rng.integers(1, k, n)
            home = np.where(move, (home + shift) % k, home)
        residence[:, j] = codes_arr[home]
    order = np.argsort(pnr.astype(str), kind="stable")
    persons = Persons(sex[order], birth[order], segment[order], ability[order])
    return Population(pnr[order], persons, residence[order], np.asarray(years))


__all__ = ["MUNICIPALITIES", "Population", "make_population", "make_pnr"]
