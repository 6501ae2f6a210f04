"""The DREAM weekly code dictionary and its grouping into analysis categories.

The dictionary ships as ``helpers/data/dream_codes.csv`` (code, Danish label, category,
subcategory, activity type, valid from/to). It transcribes the c.-2016 list of 129 codes
("Status fra DREAM dokumentation", LokeSonne/DREAM-CSV-til-JSON) with a proposed grouping;
reform validity dates are background knowledge to check against STAR's documentation.
See ``docs/sources.md``.

Weekly codes are held as ``int16`` with ``0`` meaning an empty week (no public transfer).
:class:`CodeBook` turns code arrays into category or activity arrays with a lookup table,
so classifying 180 million person-weeks is one ``numpy.take``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

#: Analysis categories, in a fixed order (the index is the stored category number).
CATEGORIES: tuple[str, ...] = (
    "self_support",  # 0: empty week (no public transfer) or holiday pay from work
    "cash_benefit",
    "ui_benefit",
    "sickness",
    "flexjob",
    "rehab_clarification",
    "disability_pension",
    "education",
    "retirement",
    "other",
    "emigrated",
    "dead",
    "unknown",
)
CATEGORY_INDEX = {name: i for i, name in enumerate(CATEGORIES)}
# Their labels, in English and Danish, are in the catalogue: ``tr(f"category.{name}", language)``
# (helpers/data/i18n/common.yaml).

#: Codes that end follow-up: emigration (may return), state pension and death (absorbing).
EMIGRATED, STATE_PENSION, DEAD = 997, 998, 999
MAX_CODE = 1000


def load_code_table() -> pd.DataFrame:
    """Return the shipped code dictionary as a data frame (one row per code)."""
    with resources.files("helpers.data").joinpath("dream_codes.csv").open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"code": "int16"}, keep_default_na=False)
    for col in ("valid_from", "valid_to"):
        table[col] = pd.to_datetime(table[col].replace("", None))
    return table


@dataclass(frozen=True)
class CodeBook:
    """Code -> category/activity lookups for a study.

    Parameters
    ----------
    table : DataFrame
        The code dictionary (see :func:`load_code_table`).
    overrides : mapping of int to str, optional
        Per-study category overrides, e.g. ``{651: "self_support"}`` to count SU as
        self-support.

    Examples
    --------
    >>> book = CodeBook.default()
    >>> book.category_names(np.array([0, 730, 783, 999, 555]))
    array(['self_support', 'cash_benefit', 'disability_pension', 'dead', 'unknown'], dtype=object)
    """

    table: pd.DataFrame
    overrides: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def default(cls, overrides: Mapping[int, str] | None = None) -> CodeBook:
        """Return the shipped dictionary with optional category overrides."""
        return cls(load_code_table(), dict(overrides or {}))

    def __post_init__(self) -> None:
        unknown = {c for c in self.overrides.values() if c not in CATEGORY_INDEX}
        if unknown:
            raise ValueError(f"category overrides name unknown categories {sorted(unknown)}; use one of {CATEGORIES}")
        lookup = np.full(MAX_CODE, CATEGORY_INDEX["unknown"], dtype=np.int8)
        lookup[0] = CATEGORY_INDEX["self_support"]
        for code, cat in zip(self.table["code"], self.table["category"], strict=True):
            lookup[code] = CATEGORY_INDEX[cat]
        for code, cat in self.overrides.items():
            lookup[int(code)] = CATEGORY_INDEX[cat]
        known = np.zeros(MAX_CODE, dtype=bool)
        known[0] = True
        known[self.table["code"].to_numpy()] = True
        object.__setattr__(self, "_category_lookup", lookup)
        object.__setattr__(self, "_known", known)

    @property
    def known_codes(self) -> np.ndarray:
        """Boolean lookup of length 1000: True for 0 (empty) and every dictionary code."""
        return self._known

    def categories(self, codes: np.ndarray) -> np.ndarray:
        """Return the category number (index into :data:`CATEGORIES`) of each code."""
        codes = np.asarray(codes)
        in_range = (codes >= 0) & (codes < MAX_CODE)
        out = self._category_lookup[np.where(in_range, codes, 0)]
        return np.where(in_range, out, CATEGORY_INDEX["unknown"]).astype(np.int8)

    def category_names(self, codes: np.ndarray) -> np.ndarray:
        """Return the category name of each code."""
        return np.asarray(CATEGORIES, dtype=object)[self.categories(codes)]

    def codes_where(self, *, categories: Iterable[str] = (), subcategories: Iterable[str] = (),
                    activities: Iterable[str] = (), codes: Iterable[int] = ()) -> np.ndarray:
        """Return a boolean lookup of length 1000 marking codes that match any criterion.

        ``categories`` take study overrides into account; an empty week (code 0) is
        marked when ``"self_support"`` is among ``categories``.
        """
        mask = np.zeros(MAX_CODE, dtype=bool)
        cats = [CATEGORY_INDEX[c] for c in categories]
        if cats:
            mask |= np.isin(self._category_lookup, cats)
            mask &= self._known | np.isin(np.arange(MAX_CODE), list(self.overrides))
            if CATEGORY_INDEX["self_support"] in cats:
                mask[0] = True
        table = self.table
        sel = table["subcategory"].isin(list(subcategories)) | table["activity"].isin(list(activities))
        mask[table.loc[sel, "code"].to_numpy()] = True
        for code in codes:
            mask[int(code)] = True
        return mask

    def validity(self) -> pd.DataFrame:
        """Return code, valid_from, valid_to for codes with a known validity period."""
        t = self.table
        return t.loc[t["valid_from"].notna() | t["valid_to"].notna(), ["code", "valid_from", "valid_to"]]
