"""Real-world-shaped DREAM extracts and forms, written directly by the tests (not by helpers.synth).

Every person is hand-made: the weekly codes are written here, so the tests know each
person's eligibility and outcome. IDs are CPR-shaped strings with an impossible month (13),
so none can be a real person's number. Dates: ISO weeks (2020 has 53).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

TEST_KEY = "issue13-test-key-0123456789abcdef"


def pid(group: int, serial: int) -> str:
    """A 10-digit CPR-shaped ID with month 13 (impossible): ``01 13 gg ssss``."""
    return f"0113{group:02d}{serial:04d}"


def iso_weeks(first_year: int, last_year: int) -> list[tuple[int, int]]:
    """Every ISO (year, week) from ``first_year`` W01 to the last week of ``last_year``."""
    out = []
    for y in range(first_year, last_year + 1):
        n = dt.date(y, 12, 28).isocalendar()[1]
        out += [(y, w) for w in range(1, n + 1)]
    return out


def monday(year: int, week: int) -> dt.date:
    return dt.date.fromisocalendar(year, week, 1)


# ----------------------------------------------------------------------------- shape A
#: Shape A (SAS export, semicolon, latin-1): PNR;KOEN;ALDER;KOMNR;y_YYWW..., 2010-2025.
A_FIRST, A_LAST = 2010, 2025
A_INDEX_WEEKS = [(2020, 10 + i) for i in range(20)]  # inclusion weeks of the 20 participants


def shape_a_people() -> pd.DataFrame:
    """One row per hand-made person: id, role, sex, age, municipality, spells of code 730 / other codes.

    Roles and what the tests expect of them (cohort: municipality 183, age 18-65, on
    kontanthjælp in the week before and the index week; inclusion weeks 2020-W10..W29):

    - ``I01``..``I20`` participants (group ``Indsats``): on 730 from 2018-W01; I01-I10 leave
      benefits 8 weeks after their index week for good (self-supported at end of
      programme, index + 26 weeks), I11-I20 stay on 730 to the end (not self-supported);
    - ``L1``..``L5`` listed with group ``Kontrol``: screened, not participants, never controls;
    - ``C001``..``C150`` eligible register persons: on 730 from 2018-W(1 + j % 20) to 2020-W(40 + j % 13);
    - ``X01``..``X10`` living in municipality 101 (fail the municipality criterion);
    - ``Y01``..``Y05`` aged 80 (fail the age criterion);
    - ``Z01``..``Z10`` never on a benefit (fail the benefit criterion);
    - ``W01`` code 811 (not in the 2016 code list) in 2019, then nothing (fails the benefit criterion).
    """
    rows = []
    for i in range(20):
        iy, iw = A_INDEX_WEEKS[i]
        rows.append({"id": pid(1, i + 1), "role": f"I{i + 1:02d}", "sex": 1 + i % 2, "age": 30 + i, "kom": 183,
                     "spells": [(730, (2018, 1), "leave" if i < 10 else (A_LAST, 52))], "index_yw": (iy, iw),
                     "leave_after": 8 if i < 10 else None})
    for k in range(5):
        rows.append({"id": pid(2, k + 1), "role": f"L{k + 1}", "sex": 1 + k % 2, "age": 40, "kom": 183,
                     "spells": [(730, (2018, 1), (2021, 30))]})
    for j in range(150):
        rows.append({"id": pid(3, j + 1), "role": f"C{j + 1:03d}", "sex": 1 + j % 2, "age": 25 + j % 35,
                     "kom": 183, "spells": [(730, (2018, 1 + j % 20), (2020, 40 + j % 13))]})
    for j in range(10):
        rows.append({"id": pid(4, j + 1), "role": f"X{j + 1:02d}", "sex": 1 + j % 2, "age": 40, "kom": 101,
                     "spells": [(730, (2018, 1), (2021, 30))]})
    for j in range(5):
        rows.append({"id": pid(5, j + 1), "role": f"Y{j + 1:02d}", "sex": 1 + j % 2, "age": 80, "kom": 183,
                     "spells": [(730, (2018, 1), (2021, 30))]})
    for j in range(10):
        rows.append({"id": pid(6, j + 1), "role": f"Z{j + 1:02d}", "sex": 1 + j % 2, "age": 40, "kom": 183,
                     "spells": []})
    rows.append({"id": pid(7, 1), "role": "W01", "sex": 2, "age": 40, "kom": 183,
                 "spells": [(811, (2019, 1), (2019, 52))]})
    return pd.DataFrame(rows)


def week_matrix(people: pd.DataFrame, weeks: list[tuple[int, int]]) -> np.ndarray:
    """Codes (persons x weeks, 0 = empty) from the people's spells."""
    pos = {yw: j for j, yw in enumerate(weeks)}
    codes = np.zeros((len(people), len(weeks)), dtype=np.int16)
    for r, p in enumerate(people.itertuples()):
        for code, start, stop in p.spells:
            if stop == "leave":
                a = pos[p.index_yw]
                stop_j = a + int(p.leave_after)
            else:
                stop_j = pos[stop]
            codes[r, pos[start]:stop_j + 1] = code
    return codes


def write_shape_a(raw: Path) -> pd.DataFrame:
    """Write ``dream.csv`` (semicolon, latin-1) and ``inklusion.csv`` into ``raw``; return the people."""
    raw.mkdir(parents=True, exist_ok=True)
    people = shape_a_people()
    weeks = iso_weeks(A_FIRST, A_LAST)
    codes = week_matrix(people, weeks)
    cols = [f"y_{y % 100:02d}{w:02d}" for y, w in weeks]
    lines = [";".join(["PNR", "KOEN", "ALDER", "KOMNR", *cols])]
    for r, p in enumerate(people.itertuples()):
        cells = ["" if c == 0 else str(int(c)) for c in codes[r]]
        lines.append(";".join([p.id, str(p.sex), str(p.age), str(p.kom), *cells]))
    (raw / "dream.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    inc = ["CPR;Gruppe;Startdato;Bemærkning"]
    for p in people.itertuples():
        if p.role.startswith("I"):
            y, w = p.index_yw
            inc.append(f"{p.id};Indsats;{monday(y, w) + dt.timedelta(days=2):%d-%m-%Y};visiteret på jobcenter")
        elif p.role.startswith("L"):
            inc.append(f"{p.id};Kontrol;{monday(2020, 12):%d-%m-%Y};ønskede ikke forløb")
    (raw / "inklusion.csv").write_bytes(("\n".join(inc) + "\n").encode("latin-1"))
    return people


#: The study-YAML ``data.dream`` / ``data.forms`` mapping of shape A.
SHAPE_A_DATA = {
    "dream": {"path": "dream.csv", "id_column": "PNR", "sex_column": "KOEN", "birth_date_column": None,
              "age_column": "ALDER", "age_reference_date": "2025-12-31", "municipality_prefix": None,
              "municipality_column": "KOMNR", "week_pattern": "y_{yy}{ww}"},
    "forms": {"inclusion_list": {"path": "inklusion.csv", "id_column": "CPR", "group_column": "Gruppe",
                                 "date_column": "Startdato", "intervention_groups": ["Indsats"]},
              "questionnaires": None, "events": None, "costs": None},
    "first_year": A_FIRST, "last_year": A_LAST,
}


# ----------------------------------------------------------------------------- shape B
B_YEARS = (2018, 2019, 2020, 2021, 2022)


def write_shape_b(raw: Path) -> dict:
    """Per-year Stata files ``dream{year}.dta`` (pnr, y_01..y_52/53) and ``baggrund.dta``.

    30 persons; person k (0-based) has code 730 in every week of 2019 when k < 10, code 111 in
    2020-W01..W10 when 10 <= k < 20, else nothing; persons 25-29 are absent from the 2021 file.
    Sex is written as M/K, birth dates as Stata dates, municipality yearly ``nykomYYYY``; the
    screening form is the documented ``screening.csv`` (persons 0 and 1 included).
    """
    import pyreadstat

    raw.mkdir(parents=True, exist_ok=True)
    ids = [pid(8, k + 1) for k in range(30)]
    for year in B_YEARS:
        n = dt.date(year, 12, 28).isocalendar()[1]
        keep = [k for k in range(30) if not (year == 2021 and k >= 25)]
        frame = {"pnr": [ids[k] for k in keep]}
        for w in range(1, n + 1):
            col = []
            for k in keep:
                v = np.nan
                if year == 2019 and k < 10:
                    v = 730.0
                if year == 2020 and 10 <= k < 20 and w <= 10:
                    v = 111.0
                col.append(v)
            frame[f"y_{w:02d}"] = col
        pyreadstat.write_dta(pd.DataFrame(frame), str(raw / f"dream{year}.dta"))
    bg = pd.DataFrame({"pnr": ids, "kon": ["M" if k % 2 == 0 else "K" for k in range(30)],
                       "foed_dag": [dt.date(1970 + k, 1 + k % 12, 1 + k % 28) for k in range(30)]})
    for year in B_YEARS:
        bg[f"nykom{year}"] = [183 if k < 20 else 187 for k in range(30)]
    pyreadstat.write_dta(bg, str(raw / "baggrund.dta"))
    pd.DataFrame({"PNR": ids[:3], "screening_date": ["2019-05-01"] * 3, "included": [1, 1, 0],
                  "exclusion_reason": ["", "", "declined"], "inclusion_date": ["2019-05-06", "2019-05-13", ""],
                  "group": ["intervention", "intervention", ""]}).to_csv(raw / "screening.csv", index=False)
    return {"ids": ids}


SHAPE_B_DATA = {
    "dream": {"path": "dream{year}.dta", "layout": "per_year", "background_path": "baggrund.dta",
              "id_column": "PNR", "sex_column": "kon", "sex_codes": {"M": "male", "K": "female"},
              "birth_date_column": "foed_dag", "municipality_prefix": "nykom", "week_pattern": "y_{ww}"},
    "forms": {"screening": "screening.csv", "questionnaires": None, "events": None, "costs": None},
    "first_year": 2016, "last_year": 2022,  # the files start in 2018: the window follows the data
}


# ----------------------------------------------------------------------------- shape C
def write_shape_c(raw: Path) -> dict:
    """Parquet ``dream.parquet`` (pnr, koen 1/2, foed_dag dd.mm.yyyy, nykomYYYY, y_YYYYWW text, "NA" blank)
    and an Excel inclusion list ``deltagere.xlsx`` (CPR, Startdato as Excel serial day numbers).

    12 persons; persons 0-5 have code 730 in every week of 2020, the others 121 (holiday pay)
    in 2019-W30..W33; persons 0-3 are on the inclusion list with start dates 2020-03-02 + 7k days.
    """
    raw.mkdir(parents=True, exist_ok=True)
    ids = [pid(9, k + 1) for k in range(12)]
    weeks = iso_weeks(2019, 2021)
    frame = {"pnr": ids, "koen": [1 + k % 2 for k in range(12)],
             "foed_dag": [f"{1 + k:02d}.{1 + k % 12:02d}.{1960 + k}" for k in range(12)]}
    for year in (2019, 2020, 2021):
        frame[f"nykom{year}"] = [183] * 12
    for y, w in weeks:
        col = []
        for k in range(12):
            v = "NA"
            if k < 6 and y == 2020:
                v = "730"
            if k >= 6 and y == 2019 and 30 <= w <= 33:
                v = "121"
            col.append(v)
        frame[f"y_{y}{w:02d}"] = col
    pd.DataFrame(frame).to_parquet(raw / "dream.parquet", index=False)
    starts = [dt.date(2020, 3, 2) + dt.timedelta(days=7 * k) for k in range(4)]
    serials = [(d - dt.date(1899, 12, 30)).days for d in starts]
    pd.DataFrame({"CPR": ids[:4], "Startdato": serials}).to_excel(raw / "deltagere.xlsx", index=False)
    return {"ids": ids, "starts": starts, "serials": serials}


SHAPE_C_DATA = {
    "dream": {"path": "dream.parquet", "id_column": "PNR", "sex_column": "koen", "birth_date_column": "foed_dag",
              "municipality_prefix": "nykom", "week_pattern": "y_{yyyy}{ww}", "blank_values": ["", ".", "NA"]},
    "forms": {"inclusion_list": {"path": "deltagere.xlsx", "id_column": "CPR", "group_column": None,
                                 "date_column": "Startdato"},
              "questionnaires": None, "events": None, "costs": None},
    "first_year": 2019, "last_year": 2021,
}


def study_spec(name: str, raw: Path, data: dict, *, synthetic: bool = False) -> dict:
    """A complete study YAML (as a dict) for ``data`` in ``raw``: register-only outcomes, no costs."""
    return {
        "study": {"name": name, "title": f"Test study {name}", "language": "en", "seed": 13, "min_cell": 5,
                  "synthetic": synthetic},
        "data": {"raw_dir": str(raw), **data},
        "cohort": {"municipality": [183], "age_min": 18, "age_max": 65, "min_weeks_on_transfers": 1,
                   "transfers_lookback_weeks": 52, "target_subcategories": ["kontanthjaelp"],
                   "programme_weeks": 26},
        "matching": {"method": "nearest", "distance": "mahalanobis", "exact": ["sex"], "ratio": 1,
                     "covariates": ["age", "sex", "weeks_transfer_52", "weeks_transfer_104"]},
        "outcomes": {"primary": "self_support",
                     "horizons": [{"key": "FU", "weeks": 26, "label": {"en": "End", "da": "Slut"}},
                                  {"key": "Y1", "weeks": 78, "label": {"en": "1 year", "da": "1 år"}}],
                     "definitions": {"self_support": {"label": {"en": "Self-supported", "da": "Selvforsørgende"},
                                                      "kind": "status_at", "categories": ["self_support"]}}},
        "survival": {"bootstrap_draws": 50},
        "power": {"n_per_group": 20,
                  "scenarios": [{"outcome": "self_support", "horizon": "FU", "control": 0.2, "intervention": 0.5}]},
    }
