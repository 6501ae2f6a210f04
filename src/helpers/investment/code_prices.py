"""Dated weekly benefit prices per DREAM code (not per analysis category).

The shipped table ``helpers/data/prices/benefit_prices_by_code.csv`` holds one row per
weekly DREAM code of the code dictionary and year: the statutory rate (sats) the code
stands for, who pays it, whether the 2016 refusion steps split it between municipality
and state, whether it is taxable, and whether a week on the code carries wage earnings
(fleksjob 771, skånejob 781, holiday pay from work 121-123). Every row has a ``source``
and a ``note``. Codes that carry a public payment whose rate was not retrieved have
``priced = 0``: they are **not** silently priced at zero, the report lists them with
their person-weeks (:func:`helpers.investment.ledger.code_weeks`).

Columns
-------
``code, year, priced (0/1), rate_dkk, rate_unit (week/month/year), share, amount_rule
(flat/flexjob_subsidy/none), payer (municipality/state/none), refusion_rule
(trappe_2016/none), taxable (0/1), with_earnings (0/1), benefit_en, benefit_da, source,
source_url, note``.

The weekly gross price is derived exactly, never rounded:

.. math::

    p_{\\mathrm{week}} = \\mathrm{rate} \\times f_{\\mathrm{unit}} \\times \\mathrm{share},
    \\qquad f_{\\mathrm{week}} = 1,\\ f_{\\mathrm{month}} = 12/52,\\ f_{\\mathrm{year}} = 1/52.

``share`` prices partial weeks (e.g. 112 "ledighed >= 50 pct. i ugen" at 75 % of the full
rate, an assumption stated in the row's source). For ``amount_rule = flexjob_subsidy`` the
rate is the highest a-dagpenge rate the wage subsidy is computed from
(:func:`helpers.investment.ledger.flexjob_subsidy`).

``refusion_rule = trappe_2016`` splits the payment by the person's cumulative benefit
weeks (:mod:`helpers.investment.refusion`): the state's share is 80/40/30/20 %, the
municipality's the rest. For a-dagpenge the state pays and the municipality co-finances
(medfinansiering) by the same steps, so the split is the same. ``none`` leaves the whole
payment with the payer.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.core import paths
from helpers.core.codes import MAX_CODE, load_code_table

#: Shipped per-code price table (in ``helpers/data/prices``).
DEFAULT_FILE = "benefit_prices_by_code.csv"
UNIT_FACTOR = {"week": 1.0, "month": 12.0 / 52.0, "year": 1.0 / 52.0}
AMOUNT_RULES = ("flat", "flexjob_subsidy", "none")
PAYERS = ("municipality", "state", "none")
REFUSION_RULES = ("trappe_2016", "none")
REQUIRED = ("code", "year", "priced", "rate_dkk", "rate_unit", "share", "amount_rule", "payer", "refusion_rule",
            "taxable", "with_earnings", "benefit_en", "benefit_da", "source", "source_url", "note")


class CodePriceError(ValueError):
    """A per-code price table that cannot be used; the message names file, row, column and the fix."""


def data_file(name: str) -> tuple[object, str]:
    """Open a file shipped in ``helpers/data/prices`` (returns the handle's path-like and its display name)."""
    return resources.files("helpers.data").joinpath("prices").joinpath(name), f"helpers/data/prices/{name}"


def read_table(name_or_path: str | Path, default: str, required) -> tuple[pd.DataFrame, str]:
    """Read a shipped (``default`` or a bare shipped name) or user CSV as strings; check the columns."""
    shipped, display = data_file(str(name_or_path))
    if str(name_or_path) == default or (not Path(str(name_or_path)).is_absolute() and shipped.is_file()):
        with shipped.open("r", encoding="utf-8") as fh:
            raw = pd.read_csv(fh, keep_default_na=False, dtype=str)
        name = display
    else:
        p = Path(name_or_path)
        if not p.is_absolute():
            p = paths.PROJECT_ROOT / p
        if not p.exists():
            raise CodePriceError(f"{p}: file not found; give a CSV with columns {', '.join(required)} or {default} "
                                 "(shipped)")
        raw = pd.read_csv(p, keep_default_na=False, dtype=str)
        name = str(p)
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise CodePriceError(f"{name}: missing column(s) {missing}; expected {', '.join(required)}")
    return raw, name


def _numbers(out: pd.DataFrame, name: str, col: str, *, blank_ok: bool = False, integer: bool = False) -> pd.Series:
    text = out[col].str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & ~(blank_ok & (text == ""))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise CodePriceError(f"{name}: row {row}, column {col!r}: {out[col].iloc[row - 2]!r} is not a "
                             f"{'whole number' if integer else 'number'}; give one")
    return values


def read_code_price_file(path: str | Path = DEFAULT_FILE) -> pd.DataFrame:
    """Read and validate a per-code price table (all dated rows).

    Raises
    ------
    CodePriceError
        Naming the file, the row (header = row 1) and the column.
    """
    raw, name = read_table(path, DEFAULT_FILE, REQUIRED)
    out = raw.copy()
    for col in ("code", "year", "priced", "taxable", "with_earnings"):
        out[col] = _numbers(out, name, col, integer=True).astype(int)
    out["rate_dkk"] = _numbers(out, name, "rate_dkk", blank_ok=True).fillna(0.0).astype(float)
    out["share"] = _numbers(out, name, "share", blank_ok=True).fillna(1.0).astype(float)
    priced = out["priced"] == 1
    checks = (
        ("priced", out["priced"].isin([0, 1]), "0 or 1"),
        ("taxable", out["taxable"].isin([0, 1]), "0 or 1"),
        ("with_earnings", out["with_earnings"].isin([0, 1]), "0 or 1"),
        ("code", out["code"].between(1, MAX_CODE - 1), f"a DREAM code 1..{MAX_CODE - 1}"),
        ("rate_unit", ~priced | out["rate_unit"].isin(list(UNIT_FACTOR)), f"one of {', '.join(UNIT_FACTOR)}"),
        ("rate_dkk", out["rate_dkk"] >= 0, "a non-negative amount"),
        ("share", (out["share"] >= 0) & (out["share"] <= 1), "a share between 0 and 1"),
        ("amount_rule", out["amount_rule"].isin(AMOUNT_RULES), f"one of {', '.join(AMOUNT_RULES)}"),
        ("payer", out["payer"].isin(PAYERS), f"one of {', '.join(PAYERS)}"),
        ("refusion_rule", out["refusion_rule"].isin(REFUSION_RULES), f"one of {', '.join(REFUSION_RULES)}"),
        ("source", out["source"].str.strip() != "", "a source (document and year)"),
    )
    for col, ok, expected in checks:
        if not ok.all():
            row = int(np.flatnonzero(~ok.to_numpy())[0]) + 2
            raise CodePriceError(f"{name}: row {row}, column {col!r}: {out[col].iloc[row - 2]!r}; expected {expected}")
    paid = priced & (out["rate_dkk"] > 0)
    no_payer = paid & (out["payer"] == "none")
    if no_payer.any():
        row = int(np.flatnonzero(no_payer.to_numpy())[0]) + 2
        raise CodePriceError(f"{name}: row {row}, column 'payer': a priced payment needs a payer (municipality or "
                             "state)")
    dup = out.duplicated(["code", "year"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 2
        raise CodePriceError(f"{name}: row {row}: a second price for code {out['code'].iloc[row - 2]} in the same "
                             "year; keep one")
    factor = out["rate_unit"].map(UNIT_FACTOR).fillna(0.0)
    out["weekly_gross_dkk"] = np.where(priced, out["rate_dkk"] * factor * out["share"], 0.0)
    out["file"] = name
    return out


def select_code_prices(table: pd.DataFrame, price_year: int, overrides: dict[int, float] | None = None
                       ) -> pd.DataFrame:
    """One row per code: the latest row dated at or before ``price_year`` (else the earliest).

    ``overrides`` maps a code to a weekly gross price (DKK) from the study YAML; it prices
    the code (``priced = 1``) and replaces its source.

    Returns
    -------
    DataFrame
        Indexed by ``code``, with the table's columns plus ``year_note``.
    """
    rows = []
    for code, sub in table.sort_values("year").groupby("code", sort=True):
        before = sub[sub["year"] <= price_year]
        chosen = (before.iloc[-1] if len(before) else sub.iloc[0]).to_dict()
        chosen["year_note"] = "" if len(before) else f"no price dated {price_year} or earlier; earliest used"
        rows.append(chosen)
    out = pd.DataFrame(rows).set_index("code")
    for code, weekly in (overrides or {}).items():
        code = int(code)
        if code not in out.index:
            raise CodePriceError(f"investment.code_prices_override: code {code} is not in the price table; add a row "
                                 "for it to the price file")
        out.loc[code, ["weekly_gross_dkk", "priced", "amount_rule"]] = [float(weekly), 1, "flat"]
        out.loc[code, ["source", "source_url", "year_note"]] = ["study YAML (investment.code_prices_override)", "",
                                                                "override"]
        if out.loc[code, "payer"] == "none" and weekly > 0:
            raise CodePriceError(f"investment.code_prices_override: code {code} has no payer in the price table; "
                                 "set its payer there first")
    return out


def missing_dictionary_codes(selected: pd.DataFrame) -> list[int]:
    """Codes of the shipped dictionary without a row in the price table (should be none)."""
    return sorted(set(load_code_table()["code"].astype(int)) - set(selected.index.astype(int)))


@dataclass(frozen=True)
class CodePrices:
    """Per-code lookups of length :data:`~helpers.core.codes.MAX_CODE` for the weekly ledger.

    Index 0 is the empty week (no transfer: not priced, no payment, may carry earnings).
    Codes without a row (unknown codes) are unpriced, unpaid and carry no earnings.

    Attributes
    ----------
    table : DataFrame
        The selected prices (:func:`select_code_prices`).
    weekly : float array
        Weekly gross price (DKK); for flexjob-subsidy codes the highest a-dagpenge rate per week.
    priced, paid_by_state, trappe, taxable, with_earnings, flexjob, known : bool arrays
    """

    table: pd.DataFrame
    weekly: np.ndarray
    priced: np.ndarray
    paid_by_state: np.ndarray
    trappe: np.ndarray
    taxable: np.ndarray
    with_earnings: np.ndarray
    flexjob: np.ndarray
    known: np.ndarray

    @classmethod
    def from_table(cls, selected: pd.DataFrame) -> CodePrices:
        """Build the lookups from :func:`select_code_prices` output."""
        n = MAX_CODE

        def lookup(values, dtype, empty):
            arr = np.zeros(n, dtype=dtype)
            arr[0] = empty
            arr[selected.index.to_numpy(dtype=int)] = np.asarray(values, dtype=dtype)
            return arr

        priced = selected["priced"].to_numpy() == 1
        known = np.zeros(n, dtype=bool)
        known[0] = True
        known[selected.index.to_numpy(dtype=int)] = True
        return cls(
            table=selected,
            weekly=lookup(np.where(priced, selected["weekly_gross_dkk"].astype(float), 0.0), float, 0.0),
            priced=lookup(priced, bool, False),
            paid_by_state=lookup(selected["payer"] == "state", bool, False),
            trappe=lookup(priced & (selected["refusion_rule"] == "trappe_2016"), bool, False),
            taxable=lookup(priced & (selected["taxable"] == 1), bool, False),
            with_earnings=lookup(selected["with_earnings"] == 1, bool, True),
            flexjob=lookup(priced & (selected["amount_rule"] == "flexjob_subsidy"), bool, False),
            known=known,
        )


def load_code_prices(path: str | Path = DEFAULT_FILE, price_year: int = 2024,
                     overrides: dict[int, float] | None = None) -> CodePrices:
    """Read, select and index the per-code prices (see :func:`select_code_prices`)."""
    return CodePrices.from_table(select_code_prices(read_code_price_file(path), price_year, overrides))
