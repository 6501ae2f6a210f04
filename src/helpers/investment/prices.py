"""Dated annual benefit costs per full-time person, by analysis category.

The shipped table ``helpers/data/benefit_prices.csv`` holds, per analysis category of
:data:`helpers.core.codes.CATEGORIES` and year, the **statutory rate** (sats) that stands for
the category, annualised (12 x monthly or 52 x weekly), with its source and a note on
what it stands for. These are rates, not average payments per full-time recipient
(jobindsats/DST averages were not retrieved); benefits are gross (taxable) and tax
revenue from work is not counted. A study chooses the price year
(``investment.price_year``: per category the latest row dated at or before it) and may
override any price (``investment.prices_override``).

Columns: ``category, benefit_en, benefit_da, year, rate_dkk, rate_unit, annual_dkk,
refusion (0/1), payer (municipality/state), source, source_url, note``.
``refusion = 1`` marks categories split between municipality and state by the 2016
refusion steps (:mod:`helpers.investment.refusion`); otherwise ``payer`` bears it all.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.core import paths
from helpers.core.codes import CATEGORIES

#: Weeks per full-time person-year (annual prices are divided by this for a week).
WEEKS_PER_YEAR = 52

REQUIRED = ("category", "benefit_en", "benefit_da", "year", "annual_dkk", "refusion", "payer", "source",
            "source_url", "note")


class PriceTableError(ValueError):
    """A price table that cannot be used; the message names file, row, column and the fix."""


def _read(prices_file: str | Path | None) -> tuple[pd.DataFrame, str]:
    if prices_file is None or str(prices_file) == "benefit_prices.csv":
        with resources.files("helpers.data").joinpath("benefit_prices.csv").open("r", encoding="utf-8") as fh:
            return pd.read_csv(fh, keep_default_na=False, dtype=str), "helpers/data/benefit_prices.csv"
    p = Path(prices_file)
    if not p.is_absolute():
        p = paths.PROJECT_ROOT / p
    if not p.exists():
        raise PriceTableError(
            f"{p}: price file not found; set investment.prices_file to a CSV with columns {', '.join(REQUIRED)} "
            "or to benefit_prices.csv (shipped)"
        )
    return pd.read_csv(p, keep_default_na=False, dtype=str), str(p)


def read_price_file(prices_file: str | Path | None = None) -> pd.DataFrame:
    """Read and validate a price table (all dated rows).

    Raises
    ------
    PriceTableError
        Naming the file, the row (as in a spreadsheet: header = row 1) and the column.
    """
    raw, name = _read(prices_file)
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise PriceTableError(f"{name}: missing column(s) {missing}; expected {', '.join(REQUIRED)}")
    out = raw.copy()
    for col, kind in (("year", int), ("annual_dkk", float), ("refusion", int)):
        values = pd.to_numeric(out[col].str.strip(), errors="coerce")
        bad = values.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise PriceTableError(
                f"{name}: row {row}, column {col!r}: {out[col].iloc[row - 2]!r} is not a number; "
                f"give a {'whole number' if kind is int else 'number'}"
            )
        out[col] = values.astype(kind)
    checks = (
        ("category", out["category"].isin(CATEGORIES), f"one of {', '.join(CATEGORIES)}"),
        ("payer", out["payer"].isin(["municipality", "state"]), "'municipality' or 'state'"),
        ("refusion", out["refusion"].isin([0, 1]), "0 or 1"),
        ("annual_dkk", out["annual_dkk"] >= 0, "a non-negative amount"),
    )
    for col, ok, expected in checks:
        if not ok.all():
            row = int(np.flatnonzero(~ok.to_numpy())[0]) + 2
            raise PriceTableError(f"{name}: row {row}, column {col!r}: {out[col].iloc[row - 2]!r}; expected {expected}")
    dup = out.duplicated(["category", "year"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 2
        raise PriceTableError(
            f"{name}: row {row}: a second price for {out['category'].iloc[row - 2]!r} in the same year; keep one"
        )
    out["refusion"] = out["refusion"].astype(bool)
    out["file"] = name
    return out


def select_prices(
    table: pd.DataFrame, price_year: int, overrides: dict[str, float] | None = None
) -> pd.DataFrame:
    """One price per category: the latest row dated at or before ``price_year``.

    A category with only later rows takes its earliest row (``year_note`` says so);
    categories missing from the table get price 0 and the note "not in the price table".
    ``overrides`` (annual DKK by category) replace the price and its source.

    Returns
    -------
    DataFrame
        Indexed by category (all :data:`~helpers.core.codes.CATEGORIES`), with the table's
        columns plus ``weekly_dkk`` and ``year_note``.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(CATEGORIES))
    if unknown:
        raise PriceTableError(
            f"investment.prices_override: unknown categories {unknown}; use one of {', '.join(CATEGORIES)}"
        )
    rows = []
    for cat in CATEGORIES:
        sub = table[table["category"] == cat].sort_values("year")
        if sub.empty:
            row = {c: "" for c in table.columns}
            row.update(category=cat, benefit_en=cat, benefit_da=cat, year=price_year, annual_dkk=0.0,
                       refusion=False, payer="state", source="not in the price table")
            row["year_note"] = "not in the price table: not priced"
        else:
            before = sub[sub["year"] <= price_year]
            chosen = before.iloc[-1] if len(before) else sub.iloc[0]
            row = chosen.to_dict()
            row["year_note"] = "" if len(before) else f"no price dated {price_year} or earlier; earliest used"
        if cat in overrides:
            row.update(annual_dkk=float(overrides[cat]), source="study YAML (investment.prices_override)",
                       source_url="", year=price_year, year_note="override")
        rows.append(row)
    out = pd.DataFrame(rows).set_index("category")
    out["annual_dkk"] = out["annual_dkk"].astype(float)
    out["weekly_dkk"] = out["annual_dkk"] / WEEKS_PER_YEAR
    return out


def load_prices(prices_file: str | Path | None = None, price_year: int = 2024,
                overrides: dict[str, float] | None = None) -> pd.DataFrame:
    """Read the price table and select one price per category (see :func:`select_prices`)."""
    return select_prices(read_price_file(prices_file), price_year, overrides)


def refusion_categories(prices: pd.DataFrame) -> list[str]:
    """Categories whose cost is split by the refusion steps."""
    return [c for c in prices.index if bool(prices.loc[c, "refusion"])]
