"""Checks that run on every chunk, and the aggregates they keep (never individual rows).

- :class:`WeeklyChecks`: unknown codes (by code, with first and last week), codes used
  outside their validity dates (warning), codes after death (error or warning), and
  person-weeks and persons by analysis category and ISO year.
- :class:`DuplicateTracker`: duplicate persons, from the hashed IDs only.
- :class:`GradScale`: detects whether ``grad`` is a share (0-1) or a percentage (0-100).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.core import calendar
from helpers.core.codes import CATEGORIES, CATEGORY_INDEX, DEAD, MAX_CODE, CodeBook
from helpers.ingest.errors import IngestError

#: ``locate(row_in_chunk, column_in_chunk) -> "file, column y_1705, data row 17"``
Locator = Callable[[int, int], str]


@dataclass
class CodeTally:
    """Person-weeks, persons and first/last DREAM week of one code."""

    person_weeks: int = 0
    persons: int = 0
    first_week: int = 1 << 30
    last_week: int = -1

    def add(self, weeks: np.ndarray, rows: np.ndarray) -> None:
        self.person_weeks += int(len(weeks))
        self.persons += int(len(np.unique(rows)))
        self.first_week = min(self.first_week, int(weeks.min()))
        self.last_week = max(self.last_week, int(weeks.max()))


def _iso(week: int) -> str:
    y, w = calendar.iso_from_dream_week(week)
    return f"{y}-W{w:02d}"


def tallies_frame(tallies: dict[int, CodeTally], extra: dict[int, dict] | None = None) -> pd.DataFrame:
    """Tidy frame of code tallies: code, person_weeks, persons, first/last DREAM and ISO week."""
    rows = []
    for code in sorted(tallies):
        t = tallies[code]
        row = {"code": code, "person_weeks": t.person_weeks, "persons": t.persons,
               "first_week": t.first_week, "last_week": t.last_week,
               "first_iso_week": _iso(t.first_week), "last_iso_week": _iso(t.last_week)}
        row.update((extra or {}).get(code, {}))
        rows.append(row)
    cols = ["code", "person_weeks", "persons", "first_week", "last_week", "first_iso_week", "last_iso_week"]
    return pd.DataFrame(rows, columns=cols + ([k for k in next(iter(extra.values()))] if extra else []))


def _as_slice(idx: np.ndarray) -> slice | np.ndarray:
    """``idx`` as a slice when it is one contiguous run (a view instead of a copy), else as is."""
    if len(idx) and idx[-1] - idx[0] + 1 == len(idx):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


@dataclass
class WeeklyChecks:
    """Checks and aggregates over chunks of the weekly code matrix.

    Parameters
    ----------
    weeks : ndarray
        DREAM week of each column.
    codebook : CodeBook
        Dictionary with the study's category overrides.
    after_death : {"error", "warn"}
        What a non-empty code other than 999 after the first 999 is.
    """

    weeks: np.ndarray
    codebook: CodeBook
    after_death: str = "error"
    unknown: dict[int, CodeTally] = field(default_factory=dict)
    invalid: dict[int, CodeTally] = field(default_factory=dict)
    after_death_persons: int = 0
    after_death_weeks: int = 0

    def __post_init__(self) -> None:
        self.weeks = np.asarray(self.weeks, dtype=np.int64)
        lo = np.full(MAX_CODE, -(1 << 30), dtype=np.int64)
        hi = np.full(MAX_CODE, 1 << 30, dtype=np.int64)
        has = np.zeros(MAX_CODE, dtype=bool)
        self._validity: dict[int, dict] = {}
        for code, start, stop in self.codebook.validity().itertuples(index=False):
            has[code] = True
            if pd.notna(start):
                lo[code] = calendar.dream_week_of_date(start.date())
            if pd.notna(stop):
                hi[code] = calendar.dream_week_of_date(stop.date())
            self._validity[int(code)] = {
                "valid_from": None if pd.isna(start) else start.date().isoformat(),
                "valid_to": None if pd.isna(stop) else stop.date().isoformat(),
            }
        self._lo, self._hi, self._has_validity = lo, hi, has
        years = np.array([calendar.iso_from_dream_week(int(w))[0] for w in self.weeks])
        self.years = np.unique(years)
        self._year_slices = [_as_slice(np.flatnonzero(years == y)) for y in self.years]
        self.person_weeks = np.zeros((len(self.years), len(CATEGORIES)), dtype=np.int64)
        self.persons = np.zeros((len(self.years), len(CATEGORIES)), dtype=np.int64)

    # ----------------------------------------------------------------- chunk
    def consume(self, codes: np.ndarray, locate: Locator) -> None:
        """Check one chunk (rows x weeks, ``int16``) and add it to the aggregates."""
        self._check_after_death(codes, locate)
        cats = self.codebook.categories(codes)
        # a code is unknown when neither the dictionary nor a study override gives it a category
        self._tally(codes, cats == CATEGORY_INDEX["unknown"], self.unknown)
        cand = self._has_validity[codes]
        if cand.any():
            rr, cc = np.nonzero(cand)
            vals = codes[rr, cc]
            w = self.weeks[cc]
            bad = (w < self._lo[vals]) | (w > self._hi[vals])
            if bad.any():
                mask = np.zeros(codes.shape, dtype=bool)
                mask[rr[bad], cc[bad]] = True
                self._tally(codes, mask, self.invalid)
        n_cat = len(CATEGORIES)
        one = np.uint16(1) if n_cat <= 16 else np.uint32(1)
        for y, cols in enumerate(self._year_slices):
            block = cats[:, cols]
            self.person_weeks[y] += np.bincount(block.ravel(order="K"), minlength=n_cat)[:n_cat]
            # the categories a person has in the year: OR of one bit per week's category, then count each bit
            seen = np.bitwise_or.reduce(np.left_shift(one, block.astype(one.dtype)), axis=1)
            self.persons[y] += [int((seen >> c & 1).sum()) for c in range(n_cat)]

    def _tally(self, codes: np.ndarray, mask: np.ndarray, into: dict[int, CodeTally]) -> None:
        if not mask.any():
            return
        rr, cc = np.nonzero(mask)
        vals = codes[rr, cc]
        for code in np.unique(vals):
            sel = vals == code
            into.setdefault(int(code), CodeTally()).add(self.weeks[cc[sel]], rr[sel])

    def _check_after_death(self, codes: np.ndarray, locate: Locator) -> None:
        dead = codes == DEAD
        rows = np.flatnonzero(dead.any(axis=1))
        if not len(rows):
            return
        sub = codes[rows]
        first = dead[rows].argmax(axis=1)
        after = (np.arange(codes.shape[1])[None, :] > first[:, None]) & (sub != DEAD) & (sub != 0)
        if not after.any():
            return
        if self.after_death == "error":
            r, c = np.argwhere(after)[0]
            raise IngestError(
                f"{locate(int(rows[r]), int(c))}: code {int(sub[r, c])} in {_iso(int(self.weeks[c]))} comes after "
                f"the person's death (code 999 in {_iso(int(self.weeks[first[r]]))}). Ask the data provider to "
                "check the person, or set data.dream.codes_after_death: warn to keep the codes"
            )
        self.after_death_persons += int(after.any(axis=1).sum())
        self.after_death_weeks += int(after.sum())

    # -------------------------------------------------------------- results
    def unknown_frame(self) -> pd.DataFrame:
        """Unknown codes: code, person_weeks, persons, first/last week."""
        return tallies_frame(self.unknown)

    def invalid_frame(self) -> pd.DataFrame:
        """Codes used outside their validity dates, with the dates."""
        extra = {c: self._validity[c] for c in self.invalid} if self.invalid else None
        frame = tallies_frame(self.invalid, extra)
        if not self.invalid:
            frame["valid_from"] = pd.Series(dtype=object)
            frame["valid_to"] = pd.Series(dtype=object)
        return frame

    def category_frame(self) -> pd.DataFrame:
        """Person-weeks and persons (with at least one week) by ISO year and category."""
        rows = []
        for y, year in enumerate(self.years):
            for k, cat in enumerate(CATEGORIES):
                rows.append({"year": int(year), "category": cat, "person_weeks": int(self.person_weeks[y, k]),
                             "persons": int(self.persons[y, k])})
        return pd.DataFrame(rows, columns=["year", "category", "person_weeks", "persons"])


@dataclass
class DuplicateTracker:
    """Collects hashed IDs with their file and row; :meth:`check` reports duplicates by row number."""

    hashes: list[np.ndarray] = field(default_factory=list)
    files: list[np.ndarray] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)

    def add(self, hashes: np.ndarray, file_index: int, first_row: int) -> None:
        self.hashes.append(np.asarray(hashes, dtype=np.uint64))
        self.files.append(np.full(len(hashes), file_index, dtype=np.int16))
        self.rows.append(np.arange(first_row + 1, first_row + 1 + len(hashes), dtype=np.int64))

    def all_hashes(self) -> np.ndarray:
        """Every hashed ID, in input order."""
        return np.concatenate(self.hashes) if self.hashes else np.array([], dtype=np.uint64)

    def check(self, file_names: list[str]) -> None:
        """Raise :class:`IngestError` naming the rows of the first duplicated persons."""
        h = self.all_hashes()
        if len(h) < 2:
            return
        order = np.argsort(h, kind="stable")
        hs = h[order]
        dup = np.flatnonzero(hs[1:] == hs[:-1])
        if not len(dup):
            return
        files, rows = np.concatenate(self.files)[order], np.concatenate(self.rows)[order]
        groups = []
        for i in dup:
            if files[i] == files[i + 1]:
                pair = f"data rows {rows[i]} and {rows[i + 1]}"
            else:
                pair = (f"data row {rows[i]} of {file_names[files[i]]} and data row {rows[i + 1]} of "
                        f"{file_names[files[i + 1]]}")
            groups.append(pair)
            if len(groups) == 5:
                break
        n_persons = len(np.unique(hs[dup]))
        where = file_names[files[dup[0]]]
        raise IngestError(
            f"{where}: {n_persons} person ID(s) occur on more than one row ({'; '.join(groups)}"
            f"{' ...' if len(dup) > 5 else ''}). The extract must hold one row per person: ask the data provider "
            "for a de-duplicated extract"
        )


class GradScale:
    """Normalise ``grad`` (employment degree) to a share in [0, 1].

    Rule (``data.dream.grad_scale: auto``): the scale is decided on the first chunk that
    holds any ``grad`` value: percentages when any value exceeds 1, shares otherwise. A
    later value above 1 when shares were decided is an error (set ``grad_scale: percent``);
    so are negative values and percentages above 100.
    """

    def __init__(self, setting: str = "auto") -> None:
        self.setting = setting
        self.scale: str | None = None if setting == "auto" else setting

    def normalise(self, grad: np.ndarray, locate: Locator) -> np.ndarray:
        """Return ``grad`` as shares (NaN kept)."""
        finite = ~np.isnan(grad)
        if not finite.any():
            return grad
        if (grad[finite] < 0).any():
            r, c = np.argwhere(finite & (np.nan_to_num(grad, nan=0.0) < 0))[0]
            raise IngestError(f"{locate(int(r), int(c))}: employment degree (grad) is negative; correct it")
        top = float(grad[finite].max())
        if self.scale is None:
            self.scale = "percent" if top > 1 else "share"
        limit = 1.0 if self.scale == "share" else 100.0
        if top > limit:
            r, c = np.argwhere(finite & (np.nan_to_num(grad, nan=0.0) > limit))[0]
            hint = ("earlier rows had only values up to 1 (shares); if grad is a percentage set "
                    "data.dream.grad_scale: percent" if self.scale == "share" else "percentages cannot exceed 100")
            raise IngestError(f"{locate(int(r), int(c))}: employment degree (grad) above {limit:g}; {hint}")
        return grad / 100.0 if self.scale == "percent" else grad
