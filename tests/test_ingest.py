"""Ingest: every delivery format to the same validated store; validation errors; no-op reruns.

The reference extract is built by hand below (``REF``): six persons over ISO 2019-2021
(157 weeks, 2020 has 53), with known weekly codes, residence and monthly employment. Each
format writer puts the same facts into a differently shaped file (delimiters, encodings,
empty markers, codes as numbers or text, per-year files); every one must ingest to the
ground truth written out in ``REF`` (not to the output of another ingest).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
import yaml

from helpers import stages
from helpers.config import load_study
from helpers.core import calendar, paths, store
from helpers.ingest import IngestError, ingest
from helpers.ingest.pseudonym import DEMO_KEY, PseudonymKeyError
from helpers.ingest.result import IngestResult
from helpers.stages.base import StageResultError

ROOT = Path(__file__).resolve().parents[1]
FIRST_YEAR, LAST_YEAR = 2019, 2021
WEEKS = calendar.week_columns(FIRST_YEAR, LAST_YEAR)  # y_1901 .. y_2152
MONTHS = [(y, m) for y in range(FIRST_YEAR, LAST_YEAR + 1) for m in range(1, 13)]
N_WEEKS = len(WEEKS)
DATA = Path(__file__).parent / "data" / "ingest"


# ----------------------------------------------------------------------------- reference
def _reference() -> dict:
    ids = ["0113901234", "1514851122", "3114700003", "0717071717", "2015022020", "1113111118"]
    codes = np.zeros((6, N_WEEKS), dtype=np.int16)
    codes[0, 0:30] = 730
    codes[0, 30:36] = 737  # praktik
    codes[1, 0:52] = 111
    codes[1, 52:62] = 890
    codes[2, 0:100] = 783
    codes[2, 100:] = 999  # dies in week 101 of the window and stays dead
    codes[3, :] = 651
    codes[3, WEEKS.index("y_2053")] = 130  # the 53rd week of 2020
    codes[4, 50:61] = 997
    codes[4, N_WEEKS - 1] = 810  # last week of 2021
    codes[5, 3:6] = 774
    codes[5, 7] = 121
    nykom = np.full((6, 3), 183, dtype=np.int16)
    nykom[4, 2] = 0  # no municipality in 2021
    nykom[5, :] = 101
    branche = np.full((6, len(MONTHS)), "", dtype=object)
    grad = np.full((6, len(MONTHS)), np.nan)
    branche[0, 10:21] = "471100"
    grad[0, 10:16] = 0.5  # months 16-20: branche only -> degree 1.0
    grad[1, 0:4] = 0.25  # grad without branche -> 0.25
    degree = np.full((6, len(MONTHS)), np.nan, dtype=np.float32)
    degree[0, 10:16] = 0.5
    degree[0, 16:21] = 1.0
    degree[1, 0:4] = 0.25
    return {
        "ids": ids,
        "sex": np.array([1, 2, 2, 1, 2, 1], dtype=np.int8),
        "birth": ["1990-01-01", "1985-02-15", "1970-12-31", "1977-07-07", "2002-02-20", "1961-11-11"],
        "codes": codes,
        "nykom": nykom,
        "branche": branche,
        "grad": grad,
        "degree": degree,
    }


REF = _reference()


def pseudo(raw: str, key: bytes = DEMO_KEY) -> str:
    """The contract's pseudonym, computed directly with hashlib."""
    return hashlib.blake2b(raw.encode("utf-8"), key=key, digest_size=8).hexdigest()


def wide_frame(ref: dict = REF, empty="", codes_as_text: bool = False, grad_text: str | None = None) -> pd.DataFrame:
    """The reference as a wide data frame of text cells (CSV-like)."""
    cols: dict[str, object] = {"PNR": ref["ids"], "kon": [str(s) for s in ref["sex"]], "foed_dag": ref["birth"]}
    for j, y in enumerate(range(FIRST_YEAR, LAST_YEAR + 1)):
        cols[f"nykom{y}"] = [str(v) if v else empty for v in ref["nykom"][:, j]]
    for j, name in enumerate(WEEKS):
        cols[name] = [str(v) if v else empty for v in ref["codes"][:, j]]
    for j, (y, m) in enumerate(MONTHS):
        cols[f"branche_{y}_{m:02d}"] = list(ref["branche"][:, j])
    for j, (y, m) in enumerate(MONTHS):
        g = ref["grad"][:, j]
        cols[f"grad_{y}_{m:02d}"] = ["" if np.isnan(v) else (grad_text or "{}").format(v) for v in g]
    return pd.DataFrame(cols)


def typed_frame(ref: dict = REF, codes: str = "float") -> pd.DataFrame:
    """The reference with typed columns (for Parquet and the statistical formats)."""
    frame = {"PNR": ref["ids"], "kon": ref["sex"].astype(np.float64),
             "foed_dag": [dt.date.fromisoformat(d) for d in ref["birth"]]}
    for j, y in enumerate(range(FIRST_YEAR, LAST_YEAR + 1)):
        frame[f"nykom{y}"] = np.where(ref["nykom"][:, j] > 0, ref["nykom"][:, j], np.nan)
    for j, name in enumerate(WEEKS):
        v = ref["codes"][:, j]
        if codes == "float":
            frame[name] = np.where(v > 0, v, np.nan)
        elif codes == "Int16":
            frame[name] = pd.array([int(x) if x else None for x in v], dtype="Int16")
        else:
            frame[name] = [str(x) if x else "" for x in v]
    for j, (y, m) in enumerate(MONTHS):
        frame[f"branche_{y}_{m:02d}"] = ref["branche"][:, j]
    for j, (y, m) in enumerate(MONTHS):
        frame[f"grad_{y}_{m:02d}"] = ref["grad"][:, j]
    return pd.DataFrame(frame)


# --------------------------------------------------------------------------- writers
def write_csv_comma(raw: Path) -> str:
    wide_frame().to_csv(raw / "dream.csv", index=False, encoding="utf-8")
    return "dream.csv"


def write_csv_semicolon_latin1(raw: Path) -> str:
    frame = wide_frame(empty=".", grad_text="{}")
    for c in frame.columns:
        if c.startswith("grad_"):
            frame[c] = frame[c].str.replace(".", ",", regex=False)
    frame.insert(3, "bopaelskommune", "Ishøj")
    frame.to_csv(raw / "dream_latin1.csv", index=False, sep=";", encoding="latin-1")
    assert "Ishøj".encode("latin-1") in (raw / "dream_latin1.csv").read_bytes()
    return "dream_latin1.csv"


def write_csv_cp1252_quoted(raw: Path) -> str:
    frame = wide_frame(empty="0")
    frame.insert(1, "note", "Ishøj – Vejleå")  # en dash is 0x96 in cp1252
    frame.to_csv(raw / "dream_cp1252.csv", index=False, encoding="cp1252", quoting=csv.QUOTE_ALL)
    assert b"\x96" in (raw / "dream_cp1252.csv").read_bytes()
    return "dream_cp1252.csv"


def write_csv_bom_crlf_decimals(raw: Path) -> str:
    """UTF-8 with a byte-order mark and Windows line ends; codes written as 730.0 (forces the text path)."""
    frame = wide_frame()
    for c in WEEKS:
        frame[c] = [f"{v}.0" if v else "" for v in frame[c]]
    frame.to_csv(raw / "dream_bom.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    assert (raw / "dream_bom.csv").read_bytes().startswith(b"\xef\xbb\xbfPNR")
    return "dream_bom.csv"


def write_parquet(raw: Path) -> str:
    typed_frame(codes="Int16").to_parquet(raw / "dream.parquet", index=False)
    return "dream.parquet"


def write_parquet_text_codes(raw: Path) -> str:
    typed_frame(codes="text").to_parquet(raw / "dream_text.parquet", index=False)
    return "dream_text.parquet"


def write_dta(raw: Path) -> str:
    pyreadstat.write_dta(typed_frame(codes="float"), raw / "dream.dta", version=15)
    return "dream.dta"


def write_dta_text_codes(raw: Path) -> str:
    pyreadstat.write_dta(typed_frame(codes="text"), raw / "dream_text.dta", version=15)
    return "dream_text.dta"


def write_sav(raw: Path) -> str:
    pyreadstat.write_sav(typed_frame(codes="float"), raw / "dream.sav")
    return "dream.sav"


def write_xpt(raw: Path) -> str:
    pyreadstat.write_xport(typed_frame(codes="float"), raw / "dream.xpt", file_format_version=8, table_name="DREAM")
    return "dream.xpt"


WRITERS = {
    "csv_comma_utf8": write_csv_comma,
    "csv_semicolon_latin1": write_csv_semicolon_latin1,
    "csv_cp1252_quoted": write_csv_cp1252_quoted,
    "csv_bom_crlf_decimals": write_csv_bom_crlf_decimals,
    "parquet": write_parquet,
    "parquet_text_codes": write_parquet_text_codes,
    "dta": write_dta,
    "dta_text_codes": write_dta_text_codes,
    "sav": write_sav,
    "xpt_v8": write_xpt,
}


def write_per_year(raw: Path) -> None:
    """Stata per-year files (pnr, y_01..y_52/53) plus a background CSV (no weekly columns)."""
    typed = typed_frame(codes="float")
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        src = [c for c in WEEKS if c[2:4] == f"{year % 100:02d}"]
        part = typed[["PNR", *src]].rename(columns={"PNR": "pnr", **{c: f"y_{c[-2:]}" for c in src}})
        if year == 2020:
            part = part.iloc[::-1]  # another row order in one year
        pyreadstat.write_dta(part, raw / f"dream{year}.dta", version=15)
    wide = wide_frame()
    wide[[c for c in wide.columns if not c.startswith("y_")]].to_csv(raw / "background.csv", index=False)


# --------------------------------------------------------------------------- studies
@pytest.fixture
def project(tmp_path, monkeypatch):
    """Temporary processed folder; no key in the environment; a factory for study files."""
    monkeypatch.setattr(paths, "PROCESSED_DIR", tmp_path / "processed")
    monkeypatch.delenv("DREAM_PSEUDO_KEY", raising=False)
    base = yaml.safe_load((ROOT / "studies" / "demo.yaml").read_text(encoding="utf-8"))
    base.pop("synthetic", None)

    def make(name: str, dream: dict | None = None, data: dict | None = None, forms: dict | None = None,
             raw: Path | None = None) -> Path:
        raw = raw or tmp_path / "raw" / name
        raw.mkdir(parents=True, exist_ok=True)
        spec = json.loads(json.dumps(base))
        spec["study"].update(name=name, synthetic=True)  # the demo key is refused for real studies
        spec["data"] = {
            "raw_dir": str(raw),
            "dream": {"path": "dream.csv", **(dream or {})},
            "forms": {"screening": None, "questionnaires": None, "events": None, "costs": None, **(forms or {})},
            "pseudonymisation": {"allow_demo_key": True},
            "first_year": FIRST_YEAR,
            "last_year": LAST_YEAR,
            **(data or {}),
        }
        path = tmp_path / "studies" / f"{name}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        return path

    make.tmp = tmp_path
    return make


def assert_matches_reference(study, ref: dict = REF, key: bytes = DEMO_KEY) -> None:
    expected_ids = [pseudo(i, key) for i in ref["ids"]]
    weekly = store.load_weekly(study)
    assert weekly.first_week == 1431  # (2018-12-31 - 1991-08-05) / 7 + 1: Monday of 2019-W01
    assert weekly.n_weeks == N_WEEKS == 157
    assert list(weekly.person_id) == expected_ids
    np.testing.assert_array_equal(weekly.codes, ref["codes"])
    table = pq.read_table(study.processed_dir / "weekly.parquet")
    assert table.schema.names[:2] == ["person_id", "w1431"] and table.schema.names[-1] == "w1587"
    assert table.schema.field("w1431").type == "int16"
    persons = store.load_persons(study)
    assert list(persons["person_id"]) == expected_ids
    assert persons["sex"].dtype == np.int8 and list(persons["sex"]) == list(ref["sex"])
    assert [d.date().isoformat() for d in persons["birth_date"]] == ref["birth"]
    monthly = store.load_monthly(study)
    assert monthly.first_month == calendar.month_index(FIRST_YEAR, 1)
    assert monthly.degree.dtype == np.float32
    np.testing.assert_array_equal(monthly.degree, ref["degree"])
    residence = store.load_residence(study)
    expect = [(expected_ids[i], FIRST_YEAR + j, int(ref["nykom"][i, j]))
              for i in range(len(ref["ids"])) for j in range(3) if ref["nykom"][i, j]]
    got = sorted(zip(residence["person_id"], residence["year"].astype(int), residence["municipality"].astype(int),
                     strict=True))
    assert got == sorted(expect)


# ------------------------------------------------------------------------------- formats
@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_every_format_ingests_to_the_reference_store(project, fmt):
    raw = project.tmp / "raw" / fmt
    raw.mkdir(parents=True)
    name = WRITERS[fmt](raw)
    study = load_study(project(fmt.replace("_", "-"), {"path": name}, raw=raw))
    result = ingest(study)
    assert not result.skipped and result.n_persons == 6 and result.n_weeks == 157 and result.n_months == 36
    assert_matches_reference(study)
    manifest = json.loads((study.processed_dir / "manifest.json").read_text())
    assert manifest["inputs"][0]["path"] == name and manifest["inputs"][0]["rows"] == 6
    assert manifest["demo_key"] is True


def test_per_year_stata_files_with_background_file(project):
    raw = project.tmp / "raw" / "peryear"
    raw.mkdir(parents=True)
    write_per_year(raw)
    study = load_study(project("peryear", {"path": "dream{year}.dta", "layout": "per_year",
                                           "background_path": "background.csv"}, raw=raw))
    result = ingest(study)
    assert result.n_persons == 6
    assert_matches_reference(study)
    assert [i["path"] for i in result.manifest["inputs"]] == [
        "dream2019.dta", "dream2020.dta", "dream2021.dta", "background.csv"]


def test_per_year_person_missing_from_a_year_has_empty_weeks(project):
    raw = project.tmp / "raw" / "peryear2"
    raw.mkdir(parents=True)
    write_per_year(raw)
    frame, _ = pyreadstat.read_dta(raw / "dream2019.dta")
    pyreadstat.write_dta(frame[frame["pnr"] != REF["ids"][0]], raw / "dream2019.dta", version=15)
    study = load_study(project("peryear2", {"path": "dream{year}.dta", "layout": "per_year",
                                            "background_path": "background.csv"}, raw=raw))
    result = ingest(study)
    codes = REF["codes"].copy()
    codes[0, :52] = 0  # person 0's 2019 weeks were in the dropped rows
    np.testing.assert_array_equal(store.load_weekly(study).codes, codes)
    assert any("absent from the 2019 file" in w.text for w in result.warnings)


def test_per_year_error_names_the_year_file_and_its_row(project):
    raw = project.tmp / "raw" / "peryear3"
    raw.mkdir(parents=True)
    ref = {**REF, "codes": REF["codes"].copy()}
    ref["codes"][2, 102] = 730  # 2020-W51, after person 3's death in 2020-W49
    typed = typed_frame(ref)
    src = [c for c in WEEKS if c.startswith("y_20")]
    part = typed[["PNR", *src]].rename(columns={"PNR": "pnr", **{c: f"y_{c[-2:]}" for c in src}}).iloc[::-1]
    write_per_year(raw)
    pyreadstat.write_dta(part, raw / "dream2020.dta", version=15)
    study = load_study(project("peryear3", {"path": "dream{year}.dta", "layout": "per_year",
                                            "background_path": "background.csv"}, raw=raw))
    with pytest.raises(IngestError, match=r"dream2020.dta, column y_51, data row 4: code 730 in 2020-W51"):
        ingest(study)  # rows of 2020 are reversed: person 3 of 6 is data row 4


def test_sas7bdat_fixture(project):
    """A SAS7BDAT written by ReadStat's CLI from the reference (tests/data/ingest/README.md).

    ReadStat's SAS7BDAT writer drops the date format, so the birth date arrives as days since
    1960-01-01: an error by default, read when the study says so.
    """
    src = DATA / "dream.sas7bdat"
    raw = project.tmp / "raw" / "sas"
    raw.mkdir(parents=True)
    (raw / "dream.sas7bdat").write_bytes(src.read_bytes())
    study = load_study(project("sas", {"path": "dream.sas7bdat"}, raw=raw))
    with pytest.raises(IngestError, match="column foed_dag: birth date is stored as double.*days_since_1960"):
        ingest(study)
    study = load_study(project("sas", {"path": "dream.sas7bdat", "numeric_dates": "days_since_1960"}, raw=raw))
    ingest(study)
    assert_matches_reference(study)


def test_chunked_reading_gives_the_same_store(project):
    """250 persons read 100 rows at a time: three row groups, same content as one chunk."""
    rng = np.random.default_rng(4)
    n = 250
    ref = {**REF}
    ref["ids"] = [f"{i:010d}" for i in rng.choice(10**9, size=n, replace=False)]
    ref["sex"] = rng.integers(1, 3, size=n).astype(np.int8)
    ref["birth"] = ["1980-05-05"] * n
    ref["codes"] = rng.choice(np.array([0, 0, 730, 111, 651], dtype=np.int16), size=(n, N_WEEKS))
    ref["nykom"] = np.full((n, 3), 183, dtype=np.int16)
    ref["branche"] = np.full((n, len(MONTHS)), "", dtype=object)
    ref["grad"] = np.where(rng.random((n, len(MONTHS))) < 0.3, 0.5, np.nan)
    ref["degree"] = ref["grad"].astype(np.float32)
    for fmt, writer in (("csv", lambda r: wide_frame(ref).to_csv(r / "dream.csv", index=False)),
                        ("dta", lambda r: pyreadstat.write_dta(typed_frame(ref), r / "dream.dta", version=15))):
        raw = project.tmp / "raw" / f"chunk-{fmt}"
        raw.mkdir(parents=True)
        writer(raw)
        study = load_study(project(f"chunk-{fmt}", {"chunk_rows": 100, "path": f"dream.{fmt}"}, raw=raw))
        ingest(study)
        assert pq.ParquetFile(study.processed_dir / "weekly.parquet").num_row_groups == 3
        assert_matches_reference(study, ref)


def test_grad_as_percentage_is_normalised(project):
    raw = project.tmp / "raw" / "pct"
    raw.mkdir(parents=True)
    frame = wide_frame()
    for c in frame.columns:
        if c.startswith("grad_"):
            frame[c] = [str(float(v) * 100) if v else "" for v in frame[c]]
    frame.to_csv(raw / "dream.csv", index=False)
    study = load_study(project("pct", raw=raw))
    result = ingest(study)
    assert result.summary["grad_scale"] == "percent"
    np.testing.assert_array_equal(store.load_monthly(study).degree, REF["degree"])


def test_load_weekly_reads_a_window_and_clips(project):
    raw = project.tmp / "raw" / "win"
    raw.mkdir(parents=True)
    write_csv_comma(raw)
    study = load_study(project("win", raw=raw))
    ingest(study)
    first = calendar.dream_week_from_iso(FIRST_YEAR, 1)
    w = store.load_weekly(study, first + 100, first + 104)
    assert w.first_week == first + 100 and w.codes.shape == (6, 5)
    np.testing.assert_array_equal(w.codes, REF["codes"][:, 100:105])
    clipped = store.load_weekly(study, first - 10, first + 2)
    assert clipped.first_week == first and clipped.n_weeks == 3
    only = store.load_weekly(study, person_ids=[pseudo(REF["ids"][3])])
    np.testing.assert_array_equal(only.codes, REF["codes"][3:4])
    with pytest.raises(ValueError, match="outside the weekly store"):
        store.load_weekly(study, 1, 10)


# --------------------------------------------------------------------------- validation
def snapshot(folder: Path) -> dict:
    if not folder.exists():
        return {}
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.iterdir())}


@pytest.fixture
def good(project):
    """A study with forms, ingested once from the comma CSV; returns (study, raw folder)."""
    raw = project.tmp / "raw" / "val"
    raw.mkdir(parents=True)
    write_csv_comma(raw)
    pd.DataFrame({"PNR": REF["ids"][:3], "screening_date": ["2019-03-01"] * 3, "included": ["1", "0", "1"],
                  "exclusion_reason": ["", "declined", ""], "inclusion_date": ["2019-04-01", "", "2019-04-02"],
                  "group": ["intervention", "", "intervention"]}).to_csv(raw / "screening.csv", index=False)
    pd.DataFrame({"PNR": [REF["ids"][0]] * 2, "timepoint": ["baseline", "followup"],
                  "date": ["2019-04-01", "2020-04-01"], "rater": ["self", "self"],
                  "measure": ["work_ability", "work_ability"], "value": ["3", ""]}).to_csv(
        raw / "questionnaires.csv", index=False)
    pd.DataFrame({"PNR": [REF["ids"][2]], "event": ["praktik_start"], "date": ["2019-06-03"],
                  "detail": [""]}).to_csv(raw / "events.csv", index=False)
    pd.DataFrame({"item": ["coordinator"], "amount_dkk": ["520000"], "year": ["2019"], "per_person": ["0"],
                  "note": [""]}).to_csv(raw / "costs.csv", index=False)
    study = load_study(project("val", forms={"screening": "screening.csv", "questionnaires": "questionnaires.csv",
                                             "events": "events.csv", "costs": "costs.csv"}, raw=raw))
    ingest(study)
    return study, raw


def test_forms_are_pseudonymised_and_typed(good):
    study, raw = good
    screening = store.load_form(study, "screening")
    assert list(screening.columns[:2]) == ["person_id", "screening_date"]
    assert list(screening["person_id"]) == [pseudo(i) for i in REF["ids"][:3]]
    assert str(screening["screening_date"].dtype).startswith("datetime64")
    assert pd.isna(screening["inclusion_date"][1])
    q = store.load_form(study, "questionnaires")
    assert q["value"].tolist()[0] == 3 and pd.isna(q["value"].tolist()[1])
    costs = store.load_form(study, "costs")
    assert "person_id" not in costs and costs["amount_dkk"].iloc[0] == 520000
    # the same screening form as an Excel workbook gives the same table
    pd.read_csv(raw / "screening.csv", dtype=str, keep_default_na=False).to_excel(raw / "screening.xlsx", index=False)
    spec = yaml.safe_load(study.source.read_text())
    spec["data"]["forms"]["screening"] = "screening.xlsx"
    study.source.write_text(yaml.safe_dump(spec))
    ingest(load_study(study.source))
    pd.testing.assert_frame_equal(store.load_form(study, "screening"), screening)


def _expect_error(study, match: str, forbidden=()):
    before = snapshot(study.processed_dir)
    with pytest.raises(IngestError, match=match) as info:
        ingest(study, force=True)
    assert snapshot(study.processed_dir) == before, "a failed ingest changed the processed store"
    staging = [p for p in study.processed_dir.parent.iterdir() if p.name.startswith(".")]
    assert not staging, f"staging left behind: {staging}"
    message = str(info.value)
    for raw_id in REF["ids"] + list(forbidden):
        assert raw_id not in message
    return message


def _rewrite(raw: Path, frame: pd.DataFrame, name: str = "dream.csv") -> None:
    frame.to_csv(raw / name, index=False)


def test_duplicate_person_names_rows_not_ids(good):
    study, raw = good
    frame = wide_frame()
    frame = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    _rewrite(raw, frame)
    msg = _expect_error(study, "more than one row")
    assert "data rows 2 and 7" in msg and "dream.csv" in msg


def test_week_53_in_a_52_week_year_names_the_column(good):
    study, raw = good
    frame = wide_frame()
    frame.insert(frame.columns.get_loc("y_1952") + 1, "y_1953", "")
    _rewrite(raw, frame)
    msg = _expect_error(study, "y_1953")
    assert "2019 has 52 ISO weeks" in msg


def test_malformed_week_column(good):
    study, raw = good
    frame = wide_frame().rename(columns={"y_2001": "y_20w1"})
    _rewrite(raw, frame)
    _expect_error(study, r"column y_20w1: malformed weekly column")


def test_missing_week_inside_the_window_is_named(good):
    study, raw = good
    _rewrite(raw, wide_frame().drop(columns=["y_2053"]))
    _expect_error(study, r"y_2053 \(2020-W53\)")


@pytest.mark.parametrize("value", ["7x0", "1234", "73.5"])
def test_non_numeric_or_out_of_range_code_names_column_and_row(good, value):
    study, raw = good
    frame = wide_frame()
    frame.loc[2, "y_2005"] = value
    _rewrite(raw, frame)
    msg = _expect_error(study, "column y_2005, data row 3")
    assert "DREAM codes are whole numbers" in msg


def test_code_after_death_is_an_error_or_a_counted_warning(good, project):
    study, raw = good
    frame = wide_frame()
    frame.loc[2, "y_2110"] = "730"  # person 3 (data row 3) died in week 101 of the window
    _rewrite(raw, frame)
    msg = _expect_error(study, "after the person's death")
    assert "column y_2110, data row 3" in msg and "2020-W49" in msg
    spec = yaml.safe_load(study.source.read_text())
    spec["data"]["dream"]["codes_after_death"] = "warn"
    study.source.write_text(yaml.safe_dump(spec))
    result = ingest(load_study(study.source), force=True)
    rec = [w for w in result.warning_records if w["kind"] == "after_death"]
    assert rec and rec[0]["count"] == 1


def test_form_person_not_in_extract(good):
    study, raw = good
    frame = pd.read_csv(raw / "events.csv", dtype=str, keep_default_na=False)
    frame.loc[1] = ["0909099999", "dropout", "2019-08-01", ""]
    _rewrite(raw, frame, "events.csv")
    msg = _expect_error(study, "not in the DREAM extract", forbidden=["0909099999"])
    assert "events.csv, column PNR: 1 row(s)" in msg and "data rows 2" in msg


def test_form_date_outside_the_window(good):
    study, raw = good
    frame = pd.read_csv(raw / "screening.csv", dtype=str, keep_default_na=False)
    frame.loc[1, "screening_date"] = "2018-12-30"  # Sunday before 2019-W01 (Monday 2018-12-31)
    _rewrite(raw, frame, "screening.csv")
    _expect_error(study, r"screening.csv, column screening_date, data row 2: the date is outside the extract's "
                             r"window 2018-12-31 to 2022-01-02")


def test_questionnaire_value_out_of_range(good):
    study, raw = good
    frame = pd.read_csv(raw / "questionnaires.csv", dtype=str, keep_default_na=False)
    frame.loc[1, "value"] = "11"
    _rewrite(raw, frame, "questionnaires.csv")
    _expect_error(study, r"column value, data row 2: questionnaire value '11' is not a whole number in 0-10")


def test_empty_id_and_missing_sex_name_rows(good):
    study, raw = good
    frame = wide_frame()
    frame.loc[4, "PNR"] = " "
    _rewrite(raw, frame)
    _expect_error(study, "column PNR, data row 5: the person ID is empty")
    frame = wide_frame()
    frame.loc[1, "kon"] = ""
    _rewrite(raw, frame)
    _expect_error(study, "column kon, data row 2: sex is missing")


def test_ragged_csv_row_does_not_leak_the_row(good):
    study, raw = good
    text = (raw / "dream.csv").read_text().splitlines()
    text[3] = text[3] + ",extra"
    (raw / "dream.csv").write_text("\n".join(text) + "\n")
    msg = _expect_error(study, "fields, the header has")
    assert "extra" not in msg


# ------------------------------------------------------------------ codes and warnings
def test_validity_dates_give_a_warning(project):
    raw = project.tmp / "raw" / "valid"
    raw.mkdir(parents=True)
    ref = {**REF, "codes": REF["codes"].copy()}
    ref["codes"][5, 20:24] = 710  # kontanthjælp under integrationsloven: replaced from 2015-W36 [I]
    wide_frame(ref).to_csv(raw / "dream.csv", index=False)
    study = load_study(project("valid", raw=raw))
    result = ingest(study)
    validity = result.validity_frame()
    assert validity["code"].tolist() == [710] and validity["person_weeks"].tolist() == [4]
    assert validity["first_iso_week"].tolist() == ["2019-W21"] and validity["valid_to"].tolist() == ["2015-08-30"]
    assert any(w["kind"] == "validity" and w["count"] == 4 for w in result.warning_records)


def test_unknown_codes_counted_with_week_range_or_error(project):
    raw = project.tmp / "raw" / "unknown"
    raw.mkdir(parents=True)
    ref = {**REF, "codes": REF["codes"].copy()}
    ref["codes"][0, 60:63] = 555
    ref["codes"][1, 70] = 555
    ref["codes"][3, 5] = 556
    wide_frame(ref).to_csv(raw / "dream.csv", index=False)
    study = load_study(project("unknown", raw=raw))
    result = ingest(study)
    u = result.unknown_codes_frame().set_index("code")
    assert u.loc[555, "person_weeks"] == 4 and u.loc[555, "persons"] == 2
    assert u.loc[555, "first_iso_week"] == "2020-W09" and u.loc[555, "last_iso_week"] == "2020-W19"
    assert u.loc[556, "first_iso_week"] == u.loc[556, "last_iso_week"] == "2019-W06"
    counts = result.category_counts_frame()
    assert counts.query("year == 2020 and category == 'unknown'")["person_weeks"].item() == 4
    np.testing.assert_array_equal(store.load_weekly(study).codes, ref["codes"])  # kept as delivered
    # the study may declare a code (category override): then it is not unknown
    study2 = load_study(project("unknown2", data={"category_overrides": {555: "cash_benefit", 556: "education"}},
                                raw=raw))
    assert ingest(study2).unknown_codes_frame().empty
    study3 = load_study(project("unknown3", data={"unknown_codes": "error"}, raw=raw))
    with pytest.raises(IngestError, match=r"2 code\(s\) are not in the code dictionary: 555 \(4 person-weeks, "
                                          r"2020-W09 to 2020-W19\)"):
        ingest(study3)
    assert not study3.processed_dir.exists()


def test_category_counts_by_year(project):
    raw = project.tmp / "raw" / "cats"
    raw.mkdir(parents=True)
    write_csv_comma(raw)
    result = ingest(load_study(project("cats", raw=raw)))
    c = result.category_counts_frame().set_index(["year", "category"])
    # 2019 (52 weeks): cash 730 x30 + 737 x6 (person 0); UI 111 x52 (person 1); dp 783 x52 (person 2);
    # education 651 x52 (person 3); emigrated 997 x2 (weeks 51-52, person 4); sickness 774 x3 (person 5)
    assert c.loc[(2019, "cash_benefit"), "person_weeks"] == 36
    assert c.loc[(2019, "ui_benefit"), "person_weeks"] == 52
    assert c.loc[(2019, "emigrated"), ["person_weeks", "persons"]].tolist() == [2, 1]
    assert c.loc[(2019, "sickness"), "person_weeks"] == 3
    # 2020 (53 weeks): dead from window week 101 = 2020-W49 -> 5 weeks; cash 130 once (person 3)
    assert c.loc[(2020, "dead"), "person_weeks"] == 5
    assert c.loc[(2020, "cash_benefit"), ["person_weeks", "persons"]].tolist() == [1, 1]
    totals = result.category_counts_frame().groupby("year")["person_weeks"].sum()
    assert totals.to_dict() == {2019: 6 * 52, 2020: 6 * 53, 2021: 6 * 52}


def test_category_shares_merge_small_groups():
    from helpers.disclosure.ingest import category_shares

    # 2019 (52 weeks) of 100 persons: 5,200 person-weeks
    counts = pd.DataFrame([
        (2019, "self_support", 4000, 100), (2019, "cash_benefit", 1000, 50), (2019, "dead", 20, 2),
        (2019, "emigrated", 180, 10), (2019, "flexjob", 0, 0),
    ], columns=["year", "category", "person_weeks", "persons"])
    shares, check = category_shares(counts, min_cell=5)
    # dead (2 persons) is merged; the merged group could then hold only 2 persons, so the smallest
    # other category (emigrated, 180 person-weeks) joins it; flexjob (no one) is dropped
    got = shares.set_index("category")["share"].round(6).to_dict()
    assert got == {"cash_benefit": round(1000 / 5200, 6), "merged": round(200 / 5200, 6),
                   "self_support": round(4000 / 5200, 6)}
    assert check.passed and "dead, emigrated" in check.detail
    shares, check = category_shares(counts, min_cell=2)
    assert set(shares["category"]) == {"self_support", "cash_benefit", "dead", "emigrated"} and check.passed


# ----------------------------------------------------------------------- pseudonymisation
def test_no_raw_id_in_any_processed_byte(good):
    study, _ = good
    files = [p for p in study.processed_dir.rglob("*") if p.is_file()]
    assert len(files) >= 8
    for p in files:
        data = p.read_bytes()
        for raw_id in REF["ids"]:
            assert raw_id.encode() not in data, f"{p.name} holds a raw ID"


def test_same_key_same_pseudonyms_other_key_other(project, monkeypatch):
    raw = project.tmp / "raw" / "keys"
    raw.mkdir(parents=True)
    write_csv_comma(raw)
    key = "a-secret-key-of-enough-length-123"
    monkeypatch.setenv("DREAM_PSEUDO_KEY", key)
    study = load_study(project("keys", raw=raw))
    result = ingest(study)
    assert result.manifest["demo_key"] is False and result.manifest["pseudonymisation"]["key_source"] == \
        "env:DREAM_PSEUDO_KEY"
    first = store.load_persons(study)["person_id"].tolist()
    assert first == [pseudo(i, key.encode()) for i in REF["ids"]]
    assert ingest(study).skipped  # same key: nothing to do
    monkeypatch.setenv("DREAM_PSEUDO_KEY", "another-secret-key-of-enough-length")
    result = ingest(study)  # a new key is a change: re-ingest without force
    assert not result.skipped
    second = store.load_persons(study)["person_id"].tolist()
    assert not set(first) & set(second)
    assert key not in (study.processed_dir / "manifest.json").read_text()


def test_missing_key_explains_how_to_set_it(project):
    raw = project.tmp / "raw" / "nokey"
    raw.mkdir(parents=True)
    write_csv_comma(raw)
    path = project("nokey", raw=raw)
    spec = yaml.safe_load(path.read_text())
    spec["data"]["pseudonymisation"] = {"allow_demo_key": False}
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(PseudonymKeyError, match="set the environment variable DREAM_PSEUDO_KEY"):
        ingest(load_study(path))


# ------------------------------------------------------------------------- re-running
@pytest.mark.parametrize("writer", ["parquet", "dta", "sas7bdat"])
def test_a_binary_extract_has_its_checksum_in_the_manifest(project, writer):
    """The manifest holds the SHA-256 of a binary extract, and a rerun compares it."""
    raw = project.tmp / "raw" / f"hashed_{writer}"
    raw.mkdir(parents=True)
    if writer == "sas7bdat":
        name = "dream.sas7bdat"
        shutil.copy(DATA / name, raw / name)
    else:
        name = write_parquet(raw) if writer == "parquet" else write_dta(raw)
    extra = {"numeric_dates": "days_since_1960"} if writer == "sas7bdat" else {}  # see tests/data/ingest/README.md
    study = load_study(project(f"hashed_{writer}", raw=raw, dream={"path": name, **extra}))
    result = ingest(study)
    manifest = json.loads((study.processed_dir / "manifest.json").read_text())
    dream = next(i for i in manifest["inputs"] if i["kind"] == "dream")
    assert dream["sha256"] == hashlib.sha256((raw / name).read_bytes()).hexdigest()
    assert dream["bytes"] == (raw / name).stat().st_size and not result.skipped
    assert ingest(study).skipped  # the rerun compares the checksum first
    forced = ingest(study, force=True)
    assert not forced.skipped and forced.manifest["inputs"] == manifest["inputs"]
    if writer == "parquet":
        typed_frame(codes="Int16").assign(y_1901=111).to_parquet(raw / name, index=False)
    else:  # bytes after the data section: only the checksum sees them
        with open(raw / name, "ab") as fh:
            fh.write(b"\0" * 16)
    assert not ingest(study).skipped  # a changed file is noticed


def test_rerun_is_a_noop_unless_forced(good):
    study, raw = good
    before = snapshot(study.processed_dir)
    manifest = (study.processed_dir / "manifest.json").read_text()
    result = ingest(study)
    assert result.skipped and result.n_persons == 6
    assert snapshot(study.processed_dir) == before
    assert (study.processed_dir / "manifest.json").read_text() == manifest
    forced = ingest(study, force=True)
    assert not forced.skipped
    after = snapshot(study.processed_dir)
    assert after.keys() == before.keys()
    assert all(after[k][0] > before[k][0] for k in before), "force must rewrite every file"
    # a changed input is noticed by its checksum
    frame = wide_frame()
    frame.loc[0, "y_1901"] = "111"
    frame.to_csv(raw / "dream.csv", index=False)
    assert not ingest(study).skipped
    assert store.load_weekly(study).codes[0, 0] == 111


def test_store_without_manifest_is_incomplete(good):
    study, _ = good
    (study.processed_dir / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="run notebooks/01_ingest.ipynb"):
        store.load_weekly(study)
    assert not ingest(study).skipped


def test_result_is_the_summary_file_and_survives_a_round_trip(good):
    study, _ = good
    result = stages.ingest.run(study)
    assert result.skipped and isinstance(result, IngestResult)
    assert IngestResult.from_json(result.to_json()) == result
    # the result is the file: same bytes, and the file read back is the same result
    text = (study.processed_dir / "ingest_summary.json").read_text(encoding="utf-8")
    assert text == result.to_json() + "\n"
    loaded = IngestResult.load(study)
    assert loaded == result and loaded.manifest is None and loaded.skipped is None
    assert list(json.loads(text)) == list(IngestResult.model_fields)
    assert result.persons == result.n_persons == 6 and result.forms == {"screening": 3, "questionnaires": 2,
                                                                         "events": 1, "costs": 1}
    assert result.manifest == json.loads((study.processed_dir / "manifest.json").read_text())
    assert result.paths["weekly"] == study.processed_dir / "weekly.parquet"
    # 3 years x 13 categories, typed rows
    assert len(result.category_counts) == 39 and result.category_counts[0].year == 2019
    with pytest.raises(StageResultError, match="persons"):
        IngestResult.from_json(text.replace('"persons"', '"personz"', 1))


def test_dry_run_writes_nothing_and_summarises_the_same(project):
    raw = project.tmp / "raw" / "dry"
    raw.mkdir(parents=True)
    write_csv_comma(raw)
    study = load_study(project("dry", raw=raw))
    dry = stages.ingest.run(study, write=False)
    assert not study.processed_dir.exists() and dry.paths == {} and dry.skipped is False
    assert dry.persons == 6 and dry.weeks == 157 and dry.manifest["inputs"][0]["rows"] == 6
    wet = stages.ingest.run(study)
    assert not wet.skipped and (study.processed_dir / "manifest.json").exists()
    assert dry.model_dump(exclude={"seconds"}) == wet.model_dump(exclude={"seconds"})


def test_unreadable_summary_is_rewritten(good):
    study, _ = good
    path = study.processed_dir / "ingest_summary.json"
    path.write_text(path.read_text().replace('"persons"', '"personz"', 1))  # same size: the manifest still matches
    result = ingest(study)
    assert not result.skipped and IngestResult.load(study).persons == 6


def test_summary_holds_aggregates_only(good):
    study, _ = good
    summary = json.loads((study.processed_dir / "ingest_summary.json").read_text())
    assert summary["persons"] == 6 and summary["weeks"] == 157
    assert summary["first_iso_week"] == "2019-W01" and summary["last_iso_week"] == "2021-W52"
    assert summary["forms"] == {"screening": 3, "questionnaires": 2, "events": 1, "costs": 1}
    text = json.dumps(summary)
    for raw_id in REF["ids"]:
        assert raw_id not in text and pseudo(raw_id) not in text


def test_report_tables_mask_small_counts(good):
    from helpers.disclosure.ingest import category_shares, mask_unknown_codes
    from helpers.report import ingest as ingest_report
    from helpers.report.items import Text

    study, _ = good
    assert study.study.min_cell == 5
    result = ingest(study)
    item = ingest_report.read_table(result, study)
    table, check = item.frame, item.check
    assert check.passed and table.iloc[0, 1] == 6
    form_rows = table[table.iloc[:, 0].str.startswith("Form")].iloc[:, 1].tolist()
    assert form_rows == ["<5", "<5", "<5", "<5"]
    shares, check = category_shares(result.category_counts_frame(), min_cell=5)
    # six persons: every category holds 1-3 persons in some year, so all merge into one group of 6
    assert set(shares["category"]) == {"merged"} and check.passed
    assert np.allclose(shares["share"], 1.0)
    item = ingest_report.manifest_table(result, study)
    man, check = item.frame, item.check
    assert man.iloc[0, 2] == result.manifest["inputs"][0]["sha256"][:8] + "…"
    unk, _ = mask_unknown_codes(result.unknown_codes_frame(), 5)
    assert unk.empty
    assert isinstance(ingest_report.unknown_codes_table(result, study), Text)  # no table of nothing


def test_category_area_plot_draws_one_band_per_group():
    import matplotlib.pyplot as plt

    from helpers.report.plots.ingest import category_shares_area

    shares = pd.DataFrame({"year": [2019, 2019, 2020, 2020], "category": ["self_support", "merged"] * 2,
                           "share": [0.7, 0.3, 0.6, 0.4]})
    fig, ax = plt.subplots()
    assert category_shares_area(shares, ax=ax, language="da") is ax
    assert len(ax.collections) == 2 and ax.get_ylim() == (0, 100)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Øvrige (sammenlagte små grupper)",
                                                                   "Selvforsørgende (ingen ydelse)"]
    plt.close(fig)


def test_missing_form_is_a_clear_error(project):
    raw = project.tmp / "raw" / "noform"
    raw.mkdir(parents=True)
    write_csv_comma(raw)
    study = load_study(project("noform", raw=raw))
    ingest(study)
    with pytest.raises(FileNotFoundError, match="has no 'events' form"):
        store.load_form(study, "events")
