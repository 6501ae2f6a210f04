"""Income tax and labour-market contribution on earnings and taxable benefits, by actor.

The rates live in ``helpers/data/prices/tax_rates.csv`` (one row per parameter, year and,
for the municipal rate, municipality; with source and note). For one person and one
analysis year with taxable benefits :math:`B`, earnings :math:`W` and observed share of
the year :math:`o` (allowances and thresholds are pro rata to it):

.. math::

    AM &= a\\,W \\quad\\text{(arbejdsmarkedsbidrag, state)} \\\\
    P &= B + W - AM \\quad\\text{(personlig indkomst)} \\\\
    A &= W - AM \\quad\\text{(arbejdsindkomst)} \\\\
    F &= \\min(f_b A,\\ o\\,F_b^{\\max}) + \\min\\big(\\max(0, f_j (A - o\\,T_j)),\\ o\\,F_j^{\\max}\\big)
        \\quad\\text{(beskæftigelses- and jobfradrag)} \\\\
    K &= k \\max(0,\\ P - F - o\\,\\mathrm{PF}) \\quad\\text{(kommuneskat, municipality)} \\\\
    S &= b \\max(0,\\ P - o\\,\\mathrm{PF}) \\quad\\text{(bundskat, state)}

Tax is split between the two income sources in proportion to their part of each base
(the personal allowance is shared pro rata): the municipal tax on benefits is
:math:`K \\cdot B / (B + A - F)`, the state tax on benefits :math:`S \\cdot B / (B + A)`; the
rest, and all of AM-bidrag, is tax on earnings. The split only labels the components:
their sum, and so every actor's net, does not depend on it.

Not modelled: top tax (topskat; the report notes person-years above its threshold),
church tax (it funds the church, not the public sector), capital income and other
deductions, and the equalisation scheme (udligning) and block grant that in reality
pass much of one municipality's extra tax base on to other municipalities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.investment.code_prices import CodePriceError, read_table

DEFAULT_FILE = "tax_rates.csv"
REQUIRED = ("parameter", "municipality", "year", "value", "unit", "source", "source_url", "note")
NATIONAL = ("am_bidrag_rate", "bundskat_rate", "personfradrag_dkk", "beskaeftigelsesfradrag_rate",
            "beskaeftigelsesfradrag_ceiling_dkk", "jobfradrag_rate", "jobfradrag_threshold_dkk",
            "jobfradrag_ceiling_dkk", "topskat_threshold_dkk")


class TaxRateError(CodePriceError):
    """A tax-rate table that cannot be used (file, row, column and the fix in the message)."""


@dataclass(frozen=True)
class TaxRates:
    """The rates of one tax year and municipality.

    Attributes
    ----------
    am_bidrag, bundskat, kommuneskat, bf_rate, jf_rate : float
        Shares.
    personfradrag, bf_ceiling, jf_threshold, jf_ceiling, topskat_threshold : float
        DKK per year.
    municipality : int
    year : int
    sources : DataFrame
        The selected rows (parameter, year, value, unit, source, source_url, note).
    """

    am_bidrag: float
    bundskat: float
    kommuneskat: float
    personfradrag: float
    bf_rate: float = 0.0
    bf_ceiling: float = 0.0
    jf_rate: float = 0.0
    jf_threshold: float = 0.0
    jf_ceiling: float = 0.0
    topskat_threshold: float = float("inf")
    municipality: int = 0
    year: int = 0
    sources: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False, compare=False)


def read_tax_file(path: str | Path = DEFAULT_FILE) -> pd.DataFrame:
    """Read and validate a tax-rate table (all rows)."""
    raw, name = read_table(path, DEFAULT_FILE, REQUIRED)
    out = raw.copy()
    for col, integer in (("year", True), ("value", False)):
        values = pd.to_numeric(out[col].str.strip(), errors="coerce")
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 2
            raise TaxRateError(f"{name}: row {row}, column {col!r}: {out[col].iloc[row - 2]!r} is not a number")
        out[col] = values.astype(int if integer else float)
    muni = pd.to_numeric(out["municipality"].str.strip().replace("", None), errors="coerce")
    out["municipality"] = muni.astype("Int64")
    known = set(NATIONAL) | {"kommuneskat_rate"}
    bad = ~out["parameter"].isin(known)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise TaxRateError(f"{name}: row {row}, column 'parameter': {out['parameter'].iloc[row - 2]!r}; expected one "
                           f"of {', '.join(sorted(known))}")
    no_muni = (out["parameter"] == "kommuneskat_rate") & out["municipality"].isna()
    if no_muni.any():
        row = int(np.flatnonzero(no_muni.to_numpy())[0]) + 2
        raise TaxRateError(f"{name}: row {row}, column 'municipality': kommuneskat_rate needs the municipality code")
    out["file"] = name
    return out


def select_rates(table: pd.DataFrame, year: int, municipality: int,
                 overrides: dict[str, float] | None = None) -> TaxRates:
    """Per parameter the latest row dated at or before ``year`` (else the earliest).

    ``overrides`` (parameter -> value, from the study YAML) replace a value and its source.

    Raises
    ------
    TaxRateError
        When a parameter (or the municipal rate of ``municipality``) is missing.
    """
    chosen = []
    for param in (*NATIONAL, "kommuneskat_rate"):
        sub = table[table["parameter"] == param]
        if param == "kommuneskat_rate":
            sub = sub[sub["municipality"] == municipality]
        sub = sub.sort_values("year")
        if sub.empty:
            if param == "topskat_threshold_dkk":
                continue
            where = f" for municipality {municipality}" if param == "kommuneskat_rate" else ""
            raise TaxRateError(f"{table['file'].iloc[0] if len(table) else 'tax table'}: no {param}{where}; add a "
                               "row (parameter, municipality, year, value, unit, source, source_url, note) or set "
                               f"investment.tax.overrides.{param} in the study YAML")
        before = sub[sub["year"] <= year]
        chosen.append((before.iloc[-1] if len(before) else sub.iloc[0]).to_dict())
    sel = pd.DataFrame(chosen)
    for param, value in (overrides or {}).items():
        if param not in set(NATIONAL) | {"kommuneskat_rate"}:
            raise TaxRateError(f"investment.tax.overrides: unknown parameter {param!r}")
        sel.loc[sel["parameter"] == param, ["value", "source", "source_url"]] = [
            float(value), "study YAML (investment.tax.overrides)", ""]
    v = dict(zip(sel["parameter"], sel["value"].astype(float), strict=True))
    return TaxRates(am_bidrag=v["am_bidrag_rate"], bundskat=v["bundskat_rate"], kommuneskat=v["kommuneskat_rate"],
                    personfradrag=v["personfradrag_dkk"], bf_rate=v["beskaeftigelsesfradrag_rate"],
                    bf_ceiling=v["beskaeftigelsesfradrag_ceiling_dkk"], jf_rate=v["jobfradrag_rate"],
                    jf_threshold=v["jobfradrag_threshold_dkk"], jf_ceiling=v["jobfradrag_ceiling_dkk"],
                    topskat_threshold=v.get("topskat_threshold_dkk", float("inf")), municipality=int(municipality),
                    year=int(year),
                    sources=sel[["parameter", "municipality", "year", "value", "unit", "source", "source_url",
                                 "note"]].reset_index(drop=True))


def load_tax_rates(path: str | Path = DEFAULT_FILE, year: int = 2024, municipality: int = 183,
                   overrides: dict[str, float] | None = None) -> TaxRates:
    """Read the tax table and select the rates of ``year`` and ``municipality``."""
    return select_rates(read_tax_file(path), year, municipality, overrides)


@dataclass(frozen=True)
class PersonYearTax:
    """Taxes of person-years (arrays of one shape), DKK.

    Attributes
    ----------
    municipal_on_benefits, municipal_on_earnings : kommuneskat
    state_on_benefits, state_on_earnings : bundskat (+ AM-bidrag on earnings)
    am_bidrag : the AM-bidrag part of ``state_on_earnings``
    personal_income : personlig indkomst (for the top-tax note)
    """

    municipal_on_benefits: np.ndarray
    municipal_on_earnings: np.ndarray
    state_on_benefits: np.ndarray
    state_on_earnings: np.ndarray
    am_bidrag: np.ndarray
    personal_income: np.ndarray


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, part / whole, 0.0)


def person_year_taxes(benefits: np.ndarray, earnings: np.ndarray, rates: TaxRates,
                      observed: np.ndarray | float = 1.0) -> PersonYearTax:
    """Taxes on taxable benefits and earnings per person-year (see the module notes).

    Parameters
    ----------
    benefits, earnings : float arrays
        Taxable benefits and wage earnings in the person-year (DKK).
    rates : TaxRates
    observed : float or array
        Share of the year observed (allowances, thresholds and ceilings are pro rata).

    Examples
    --------
    >>> r = TaxRates(am_bidrag=0.08, bundskat=0.12, kommuneskat=0.25, personfradrag=50_000)
    >>> t = person_year_taxes(np.array([150_000.0]), np.array([0.0]), r)
    >>> float(t.municipal_on_benefits[0]), float(t.state_on_benefits[0])   # 0.25 and 0.12 x 100,000
    (25000.0, 12000.0)
    """
    B = np.asarray(benefits, dtype=float)
    W = np.asarray(earnings, dtype=float)
    o = np.broadcast_to(np.asarray(observed, dtype=float), B.shape)
    am = rates.am_bidrag * W
    work = W - am
    personal = B + work
    bf = np.minimum(rates.bf_rate * work, o * rates.bf_ceiling)
    jf = np.minimum(np.maximum(0.0, rates.jf_rate * (work - o * rates.jf_threshold)), o * rates.jf_ceiling)
    municipal_base = personal - bf - jf
    kom = rates.kommuneskat * np.maximum(0.0, municipal_base - o * rates.personfradrag)
    bund = rates.bundskat * np.maximum(0.0, personal - o * rates.personfradrag)
    kom_b = kom * _share(B, municipal_base)
    bund_b = bund * _share(B, personal)
    return PersonYearTax(municipal_on_benefits=kom_b, municipal_on_earnings=kom - kom_b,
                         state_on_benefits=bund_b, state_on_earnings=bund - bund_b + am, am_bidrag=am,
                         personal_income=personal)
