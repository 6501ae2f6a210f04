"""Bad input (issue 13): every kind of broken extract, form or study YAML gets a clear message.

One parametrised test holds the whole list. For each kind the test breaks a small, valid,
hand-written study (comma CSV extract 2019-2020, inclusion list, questionnaires, events) in
one way and asserts that

- ``make check`` (:func:`helpers.ingest.check.check_study`) reports it as an error naming the
  file, the column (or YAML key) and the data row where there is one, with what to do;
- the run stops before anything is written: ``make report``'s first step
  (:func:`helpers.runner.input_check`) raises with the same table, and the ingest itself
  raises too (where it can see the problem), leaving nothing under ``data/processed/`` or
  ``reports/``;
- no raw person ID appears in any message.

docs/checks.md lists every check with its message.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from _extracts import TEST_KEY, iso_weeks, pid, study_spec
from helpers import runner
from helpers.config import StudyConfigError, load_study
from helpers.core import paths
from helpers.ingest import IngestError, ingest
from helpers.ingest.check import check_study
from helpers.ingest.problems import from_message
from helpers.ingest.pseudonym import PseudonymKeyError

IDS = [pid(10, k + 1) for k in range(12)]
WEEKS = iso_weeks(2019, 2020)
WCOLS = [f"y_{y % 100:02d}{w:02d}" for y, w in WEEKS]
DEATH_COL = "y_2010"  # person 3 (data row 3) dies in 2020-W10


def base_frame() -> pd.DataFrame:
    frame = {"PNR": IDS, "kon": [str(1 + k % 2) for k in range(12)],
             "foed_dag": [f"{1970 + k}-0{1 + k % 9}-15" for k in range(12)],
             "nykom2019": ["183"] * 12, "nykom2020": ["183"] * 12}
    for col in WCOLS:
        frame[col] = ["730" if k < 8 else "" for k in range(12)]
    out = pd.DataFrame(frame)
    after = WCOLS.index(DEATH_COL)
    out.loc[2, WCOLS[after]] = "999"
    out.loc[2, WCOLS[after + 1:]] = ""
    return out


def write_base(raw: Path) -> None:
    raw.mkdir(parents=True, exist_ok=True)
    base_frame().to_csv(raw / "dream.csv", index=False)
    pd.DataFrame({"PNR": IDS[:3], "group": ["intervention"] * 3,
                  "inclusion_date": ["2020-03-02", "2020-03-09", "2020-03-16"]}).to_csv(raw / "inclusion.csv",
                                                                                      index=False)
    pd.DataFrame({"PNR": IDS[:2], "timepoint": ["baseline", "followup"], "date": ["2020-03-02", "2020-09-01"],
                  "rater": ["self", "self"], "measure": ["work_ability"] * 2, "value": ["4", "6"]}).to_csv(
        raw / "questionnaires.csv", index=False)
    pd.DataFrame({"PNR": [IDS[0]], "event": ["praktik_start"], "date": ["2020-05-04"], "detail": [""]}).to_csv(
        raw / "events.csv", index=False)


DATA = {
    "dream": {"path": "dream.csv"},
    "forms": {"inclusion_list": {"path": "inclusion.csv"}, "questionnaires": "questionnaires.csv",
              "events": "events.csv", "costs": None},
    "first_year": 2019, "last_year": 2020,
}


# ------------------------------------------------------------------ ways to break the study
def edit_dream(fn):
    def apply(raw, spec):
        frame = pd.read_csv(raw / "dream.csv", dtype=str, keep_default_na=False)
        frame = fn(frame) if fn(frame) is not None else frame
        frame.to_csv(raw / "dream.csv", index=False)
    return apply


def cell(row, col, value):
    def fn(frame):
        frame.loc[row - 1, col] = value
        return frame
    return edit_dream(fn)


def edit_form(name, row, col, value):
    def apply(raw, spec):
        frame = pd.read_csv(raw / name, dtype=str, keep_default_na=False)
        frame.loc[row - 1, col] = value
        frame.to_csv(raw / name, index=False)
    return apply


def write_bytes(data: bytes, name: str = "dream.csv"):
    def apply(raw, spec):
        (raw / name).write_bytes(data)
    return apply


def dream_text(transform):
    def apply(raw, spec):
        text = (raw / "dream.csv").read_text(encoding="utf-8")
        out = transform(text)
        if isinstance(out, bytes):
            (raw / "dream.csv").write_bytes(out)
        else:
            (raw / "dream.csv").write_text(out, encoding="utf-8")
    return apply


def set_spec(path: list[str], value):
    def apply(raw, spec):
        node = spec
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    return apply


def both(*fns):
    def apply(raw, spec):
        for fn in fns:
            fn(raw, spec)
    return apply


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("dream.csv", "PNR,kon\n")
    return buf.getvalue()


def _xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    base_frame().iloc[:2, :8].to_excel(buf, index=False)
    return buf.getvalue()


def _no_key(raw, spec):
    spec["_no_key"] = True


def _demo_key(raw, spec):
    spec["_no_key"] = True
    spec["data"]["pseudonymisation"] = {"allow_demo_key": True}


def _age_column(raw, spec):
    spec["data"]["dream"].update(age_column="ALDER", age_reference_date="2020-12-31")
    frame = pd.read_csv(raw / "dream.csv", dtype=str, keep_default_na=False)
    frame.insert(3, "ALDER", ["40"] * 12)
    frame.loc[5, "ALDER"] = "abc"
    frame.to_csv(raw / "dream.csv", index=False)


def _prefix_is_one_column(raw, spec):
    spec["data"]["dream"]["municipality_prefix"] = "KOMNR"
    frame = pd.read_csv(raw / "dream.csv", dtype=str, keep_default_na=False)
    frame = frame.rename(columns={"nykom2019": "KOMNR"}).drop(columns=["nykom2020"])
    frame.to_csv(raw / "dream.csv", index=False)


def _events_outcome_without_form(raw, spec):
    spec["data"]["forms"]["events"] = None
    spec["outcomes"]["definitions"]["praktik"] = {"label": {"en": "p", "da": "p"}, "kind": "ever_in_window",
                                                  "events": ["praktik_start"]}


# kind -> (break it, file (suffix), column, data row or None, words of the message, ingest sees it)
CASES = {
    "duplicate_ids": (edit_dream(lambda f: pd.concat([f, f.iloc[[1]]], ignore_index=True)), "dream.csv", "",
                      "2 and 13", "more than one row", True),
    "week_53_in_a_52_week_year": (edit_dream(lambda f: f.assign(y_1953="")), "dream.csv", "y_1953", None,
                                  "2019 has 52 ISO weeks", True),
    "week_54": (edit_dream(lambda f: f.assign(y_2054="")), "dream.csv", "y_2054", None, "week 54 does not exist",
                True),
    "non_numeric_code": (cell(3, "y_1905", "7x0"), "dream.csv", "y_1905", "3", "is not a number", True),
    "negative_code": (cell(4, "y_1906", "-730"), "dream.csv", "y_1906", "4", "'-730' is outside 1-999", True),
    "code_above_999": (cell(5, "y_1907", "1234"), "dream.csv", "y_1907", "5", "outside 1-999", True),
    "code_after_death": (cell(3, "y_2020", "730"), "dream.csv", "y_2020", "3", "after the person's death", True),
    "unknown_code_with_policy_error": (both(cell(9, "y_1910", "555"), set_spec(["data", "unknown_codes"], "error")),
                                       "dream.csv", "", None, "not in the code dictionary", True),
    "no_week_columns": (edit_dream(lambda f: f.drop(columns=WCOLS)), "dream.csv", "", None, "no weekly code column",
                        True),
    "gap_inside_the_weeks": (edit_dream(lambda f: f.drop(columns=["y_1926"])), "dream.csv", "", None,
                             "y_1926 (2019-W26)", True),
    "malformed_week_name": (edit_dream(lambda f: f.rename(columns={"y_1905": "y_19w5"})), "dream.csv", "y_19w5",
                            None, "malformed weekly column", True),
    "four_digit_weeks_without_week_pattern": (
        edit_dream(lambda f: f.rename(columns={c: f"y_20{c[2:]}" for c in WCOLS})), "dream.csv", "y_201901", None,
        "week_pattern", True),
    "no_id_column": (edit_dream(lambda f: f.rename(columns={"PNR": "ident"})), "dream.csv", "PNR", None,
                     "data.dream.id_column", True),
    "empty_id": (cell(5, "PNR", ""), "dream.csv", "PNR", "5", "the person ID is empty", True),
    "duplicate_column_names": (dream_text(lambda t: t.replace("nykom2020,", "NYKOM2019,", 1)), "dream.csv", "",
                               None, "more than once", True),
    "ragged_row": (dream_text(lambda t: "\n".join(ln + (",extra" if i == 4 else "")
                                                   for i, ln in enumerate(t.split("\n")))), "dream.csv", "", None,
                   "fields", True),
    "empty_file": (write_bytes(b""), "dream.csv", "", None, "empty", True),
    "header_only": (dream_text(lambda t: t.split("\n")[0] + "\n"), "dream.csv", "", None, "header but no data rows",
                    True),
    "binary_garbage": (write_bytes(bytes(range(256)) * 40), "dream.csv", "", None, "binary data", True),
    "zip_named_csv": (write_bytes(_zip_bytes()), "dream.csv", "", None, "ZIP archive", True),
    "xlsx_named_csv": (write_bytes(_xlsx_bytes()), "dream.csv", "", None, "Excel .xlsx", True),
    "utf16_text": (dream_text(lambda t: t.encode("utf-16")), "dream.csv", "", None, "UTF-16", True),
    "extract_missing": (lambda raw, spec: (raw / "dream.csv").unlink(), "dream.csv", "", None, "does not exist",
                        True),
    "unknown_sex_value": (cell(4, "kon", "X"), "dream.csv", "kon", "4", "data.dream.sex_codes", True),
    "missing_sex": (cell(4, "kon", ""), "dream.csv", "kon", "4", "sex is missing", True),
    "age_not_a_number": (_age_column, "dream.csv", "ALDER", "6", "is not a number", True),
    "birth_date_after_the_window": (cell(7, "foed_dag", "2030-01-01"), "dream.csv", "foed_dag", "7",
                                    "birth date is after", True),
    "municipality_prefix_names_one_column": (_prefix_is_one_column, "dream.csv", "KOMNR", None,
                                             "municipality_column", True),
    "form_date_outside_the_extract": (edit_form("questionnaires.csv", 2, "date", "2030-01-01"), "questionnaires.csv",
                                      "date", "2", "outside the extract's window", True),
    "form_date_unparseable": (edit_form("events.csv", 1, "date", "32-13-2020"), "events.csv", "date", "1",
                              "not a date", True),
    "form_id_not_in_the_extract": (edit_form("events.csv", 1, "PNR", pid(99, 1)), "events.csv", "PNR", "1",
                                   "not in the DREAM extract", True),
    "rating_out_of_range": (edit_form("questionnaires.csv", 1, "value", "11"), "questionnaires.csv", "value", "1",
                            "not a whole number in 0-10", True),
    "form_header_only": (write_bytes(b"PNR,timepoint,date,rater,measure,value\n", "questionnaires.csv"),
                         "questionnaires.csv", "", None, "header but no data rows", True),
    "form_named_xlsx_but_text": (both(write_bytes(b"PNR,event,date\n1,2,3\n", "events.xlsx"),
                                      set_spec(["data", "forms", "events"], "events.xlsx")), "events.xlsx", "", None,
                                 "not an Excel workbook", True),
    "inclusion_date_outside_the_data": (edit_form("inclusion.csv", 1, "inclusion_date", "2018-05-01"),
                                        "inclusion.csv", "inclusion_date", "1", "outside the extract's window", True),
    "inclusion_list_column_not_mapped": (set_spec(["data", "forms", "inclusion_list", "date_column"], "Startdato"),
                                         "inclusion.csv", "Startdato", None,
                                         "data.forms.inclusion_list.date_column", True),
    "inclusion_list_empty_group": (edit_form("inclusion.csv", 2, "group", ""), "inclusion.csv", "group", "2",
                                   "the group is empty", True),
    "yaml_typo": (set_spec(["data", "dream", "municipalty_prefix"], "nykom"), "bad.yaml", "", None,
                  "unknown key 'data.dream.municipalty_prefix'", True),
    "no_pseudonymisation_key": (_no_key, "bad.yaml", "data.pseudonymisation", None, "DREAM_PSEUDO_KEY", True),
    "demo_key_in_a_real_study": (_demo_key, "bad.yaml", "data.pseudonymisation", None, "not synthetic", True),
    "outcome_counts_events_without_an_events_form": (_events_outcome_without_form, "bad.yaml",
                                                     "outcomes.definitions.praktik.events", None,
                                                     "data.forms.events is null", False),
}


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "PROCESSED_DIR", tmp_path / "data" / "processed")
    monkeypatch.setattr(paths, "REPORTS_DIR", tmp_path / "reports")
    monkeypatch.setenv("DREAM_PSEUDO_KEY", TEST_KEY)
    return tmp_path


def _written(root: Path) -> list[Path]:
    return [p for d in ("data/processed", "reports") for p in (root / d).rglob("*") if p.is_file()]


def test_the_base_study_is_clean(sandbox):
    raw = sandbox / "raw"
    write_base(raw)
    path = sandbox / "good.yaml"
    path.write_text(yaml.safe_dump(study_spec("good", raw, DATA)), encoding="utf-8")
    report = check_study(load_study(path))
    assert report.ok and not report.problems, report.text()


def test_at_least_30_kinds():
    assert len(CASES) >= 30


@pytest.mark.parametrize("kind", sorted(CASES))
def test_bad_input_gives_a_clear_message_and_writes_nothing(sandbox, monkeypatch, kind):
    brk, file, column, row, words, ingest_sees_it = CASES[kind]
    raw = sandbox / "raw"
    write_base(raw)
    spec = study_spec("bad", raw, yaml.safe_load(yaml.safe_dump(DATA)))
    brk(raw, spec)
    if spec.pop("_no_key", False):
        monkeypatch.delenv("DREAM_PSEUDO_KEY")
    path = sandbox / "bad.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    try:
        study = load_study(path)
    except StudyConfigError as err:  # the YAML itself: `make check` prints this one problem
        problems, text = [from_message(str(err))], str(err)
        study = None
    else:
        report = check_study(study)
        problems, text = report.errors, report.text()
    hits = [p for p in problems if p.file.endswith(file) and column in p.column and words in f"{p.what} {p.todo}"]
    assert hits, f"{kind}: no error names {file} / {column!r} / {words!r}:\n{text}"
    p = hits[0]
    if row is not None:
        assert row in p.rows, f"{kind}: rows {p.rows!r}, expected {row!r}\n{text}"
    assert p.todo, f"{kind}: no 'what to do' in {p}"
    assert not any(i in text for i in IDS), f"{kind}: a person ID is in the message"
    if study is not None:
        with pytest.raises(runner.InputCheckFailed) as info:
            runner.input_check(study, log=lambda *_: None)
        assert str(info.value) == text  # make report stops with the same table
        if ingest_sees_it:
            with pytest.raises((IngestError, StudyConfigError, PseudonymKeyError)):
                ingest(study, force=True)
    assert _written(sandbox) == [], f"{kind}: files were written: {_written(sandbox)}"


def test_an_id_shaped_like_a_formula_is_warned_and_never_written_unescaped(sandbox, tmp_path):
    from helpers.core import spreadsheet

    raw = sandbox / "raw"
    write_base(raw)
    frame = pd.read_csv(raw / "dream.csv", dtype=str, keep_default_na=False)
    frame.loc[9, "PNR"] = "=cmd|' /C calc'!A0"
    frame.to_csv(raw / "dream.csv", index=False)
    path = sandbox / "f.yaml"
    path.write_text(yaml.safe_dump(study_spec("f", raw, DATA)), encoding="utf-8")
    report = check_study(load_study(path))
    assert report.ok
    warn = [p for p in report.problems if "spreadsheet formula" in p.what]
    assert warn and "data row 10" in warn[0].what and "cmd" not in report.text()
    # a text cell of a published table that starts like a formula is written with a leading apostrophe
    table = pd.DataFrame({"item": ["=HYPERLINK(\"x\")", "@SUM(A1)", "+cmd|x", "\tx", "plain", "-0.05 (-0.10 to 0.01)"],
                          "n": [1, 2, 3, 4, 5, 6]})
    safe = spreadsheet.neutralise(table)
    assert safe["item"].tolist() == ["'=HYPERLINK(\"x\")", "'@SUM(A1)", "'+cmd|x", "'\tx", "plain",
                                     "-0.05 (-0.10 to 0.01)"]
    assert safe["n"].tolist() == [1, 2, 3, 4, 5, 6]
    assert spreadsheet.neutralise(pd.DataFrame({"=x": [1]})).columns.tolist() == ["'=x"]


def test_inclusion_dates_in_excel_serials_and_dd_mm_yyyy(sandbox):
    """Form date formats (ISO, dd-mm-yyyy, dd.mm.yyyy, Excel serials) read to the same dates."""
    from helpers.ingest.errors import Where
    from helpers.ingest.forms import parse_dates

    w = Where(sandbox / "f.csv", "date")
    expected = [pd.Timestamp("2020-03-02"), pd.Timestamp("2021-12-31")]
    for values in (["2020-03-02", "2021-12-31"], ["02-03-2020", "31-12-2021"], ["02.03.2020", "31.12.2021"],
                   ["43892", "44561"], ["2020-03-02 00:00:00", "2021-12-31 00:00:00"]):
        assert parse_dates(pd.Series(values), w, "auto").tolist() == expected, values
    assert parse_dates(pd.Series(["02/03/2020"]), w, "dd/mm/yyyy").tolist() == expected[:1]
    with pytest.raises(IngestError, match=r"f.csv, column date, data row 2: the date '2020' is not in the format "
                                          r"dd-mm-yyyy"):
        parse_dates(pd.Series(["02-03-2020", "2020"]), w, "dd-mm-yyyy")
    assert (dt.date(1899, 12, 30) + dt.timedelta(days=43892)).isoformat() == "2020-03-02"


def test_docs_list_every_kind():
    text = (Path(__file__).resolve().parents[1] / "docs" / "checks.md").read_text(encoding="utf-8")
    missing = [k for k in CASES if f"`{k}` †" not in text]
    assert not missing, f"docs/checks.md does not list {missing}"
