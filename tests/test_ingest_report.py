"""Stage 01 in the report: the paragraph, the tables and the figure from an IngestResult, in both languages.

The result is built by hand (no ingest runs): 20,000 persons, 939 weeks, two unknown codes
(one held by 2 persons, one by 30) and two warnings (counts 3 and 1,234). Expected texts are
written out in full.
"""

from __future__ import annotations

import doctest
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from helpers.disclosure.ingest import category_shares
from helpers.ingest import result as result_module
from helpers.ingest.result import IngestResult
from helpers.report import ingest as ingest_report
from helpers.report.items import Figure, Table, Text


def study(language: str = "en", min_cell: int = 5):
    return SimpleNamespace(study=SimpleNamespace(language=language, min_cell=min_cell))


def result(*, months: int = 216, warnings: bool = True, unknown: bool = True, demo: bool = True,
           skipped: bool = False) -> IngestResult:
    counts = [{"year": y, "category": c, "person_weeks": pw, "persons": p} for y in (2019, 2020)
              for c, pw, p in (("self_support", 40_000, 900), ("cash_benefit", 12_000, 300), ("dead", 60, 2))]
    r = IngestResult(
        study="x", persons=20_000, weeks=939, first_week=857, last_week=1795, first_iso_week="2008-W01",
        last_iso_week="2025-W52", months=months, first_month="2008-01" if months else None,
        last_month="2025-12" if months else None, grad_scale="share", residence_rows=343_831,
        forms={"screening": 80, "events": 3}, unknown_codes_policy="warn", category_counts=counts,
        unknown_codes=[{"code": 555, "person_weeks": 4, "persons": 2, "first_week": 1, "last_week": 3,
                        "first_iso_week": "2020-W09", "last_iso_week": "2020-W19"},
                       {"code": 556, "person_weeks": 1_200, "persons": 30, "first_week": 1, "last_week": 90,
                        "first_iso_week": "2019-W06", "last_iso_week": "2021-W02"}] if unknown else [],
        validity_warnings=[],
        warnings=[{"kind": "validity", "count": 3, "text": "person-weeks with codes outside their validity dates"},
                  {"kind": "id_shape", "count": 1_234, "text": "IDs that are not 10 digits"}] if warnings else [],
        seconds=1.5)
    manifest = {"demo_key": demo,
                "pseudonymisation": {"key_source": "demo" if demo else "env:DREAM_PSEUDO_KEY"},
                "inputs": [{"path": "dream.csv", "kind": "dream", "sha256": "0123456789abcdef", "bytes": 12_345_678,
                            "rows": 20_000},
                           {"path": "events.csv", "kind": "form:events", "sha256": "fedcba9876543210", "bytes": 999,
                            "rows": 3}]}
    return r.attach(manifest, skipped=skipped, paths={})


def test_summary_paragraph_word_for_word():
    text = ingest_report.summary_text(result(skipped=True), study("en"))
    assert isinstance(text, Text)
    assert text.markdown == (
        "The DREAM extract holds 20,000 persons with weekly benefit codes for 939 weeks (2008-W01 to 2025-W52) and "
        "employment degree for 216 months. Person IDs were replaced by keyed hashes (BLAKE2b) at ingest with the "
        "fixed demo key (synthetic data only). The ingest raised 2 warning(s), listed below. Inputs and parameters "
        "were unchanged since the last run, so the stored data were re-used.")
    da = ingest_report.summary_text(result(months=0, warnings=False, demo=False), study("da"))
    assert da.markdown == (
        "DREAM-udtrækket omfatter 20.000 personer med ugentlige ydelseskoder for 939 uger (2008-W01 til 2025-W52). "
        "Personnumre er erstattet af nøglebaserede hash-værdier (BLAKE2b) ved indlæsningen (nøgle fra "
        "miljøvariablen DREAM_PSEUDO_KEY). Indlæsningen gav ingen advarsler.")


def test_paragraph_and_inputs_need_the_manifest():
    loaded = IngestResult.from_json(result().to_json())
    with pytest.raises(ValueError, match="needs the result of stages.ingest.run"):
        ingest_report.summary_text(loaded, study())
    with pytest.raises(ValueError, match="needs the result of stages.ingest.run"):
        ingest_report.manifest_table(loaded, study())
    assert isinstance(ingest_report.read_table(loaded, study()), Table)  # the summary alone suffices


def test_read_table_rows_and_masking():
    item = ingest_report.read_table(result(), study("da"))
    assert item.key == "ingest_read" and item.check.passed
    assert list(item.frame.columns) == ["Hvad", "Antal", "Detaljer"]
    assert item.frame.values.tolist() == [
        ["Personer i udtrækket", 20_000, "én række pr. person; id'er pseudonymiseret"],
        ["Uger (DREAM-ugekoder)", 939, "2008-W01 – 2025-W52"],
        ["Måneder (beskæftigelsesgrad)", 216, "2008-01 – 2025-12"],
        ["Personår med bopælskommune", 343_831, ""],
        ["Skema: screening (rækker)", 80, ""],
        ["Skema: hændelser (rækker)", "<5", ""],
    ]
    assert item.check.masked == 1
    none = ingest_report.read_table(result(months=0), study("en")).frame
    assert none.iloc[2].tolist() == ["Months (employment degree)", 0, "none"]


def test_unknown_codes_mask_small_codes_with_their_weeks():
    item = ingest_report.unknown_codes_table(result(), study("en"))
    assert item.key == "ingest_unknown_codes" and item.check.masked == 1
    assert list(item.frame.columns) == ["Code", "Persons", "Person-weeks", "First week", "Last week"]
    assert item.frame.values.tolist() == [[555, "<5", "<5", "<5", "<5"], [556, 30, 1_200, "2019-W06", "2021-W02"]]
    none = ingest_report.unknown_codes_table(result(unknown=False), study("da"))
    assert none == Text("Alle ugekoder findes i kodelisten.")


def test_warnings_and_inputs_tables():
    item = ingest_report.warnings_table(result(), study("en"))
    assert list(item.frame.columns) == ["Warning", "Kind", "Count"]
    assert item.frame["Count"].tolist() == ["<5", 1_234]
    assert ingest_report.warnings_table(result(warnings=False), study("en")) == Text("The checks raised no warnings.")
    man = ingest_report.manifest_table(result(), study("da"))
    assert list(man.frame.columns) == ["Fil", "Type", "SHA-256", "Størrelse (MB)", "Rækker"]
    # the form's Danish name and a decimal comma (issue 18.9)
    assert man.frame.values.tolist() == [["dream.csv", "DREAM-udtræk", "01234567…", "12,346", 20_000],
                                         ["events.csv", "skema: hændelser", "fedcba98…", "0,001", "<5"]]
    en = ingest_report.manifest_table(result(), study("en")).frame.values.tolist()
    assert en[1][1:4] == ["form: events", "fedcba98…", "0.001"]


def test_category_figure_merges_small_categories_and_says_so():
    item = ingest_report.categories_figure(result(), study("da"))
    assert isinstance(item, Figure) and item.key == "ingest_categories"
    # dead (2 persons) is merged; the merged group could hold only 2 persons, so cash benefit joins it
    assert item.check.passed and item.check.masked == 2
    assert item.check.detail == ("categories with fewer than 5 persons in a year merged into one group: dead, "
                                 "cash_benefit")
    assert item.check.detail_da == ("kategorier med færre end 5 personer i et år lagt sammen i én gruppe: dead, "
                                    "cash_benefit")
    ax = item.figure.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Øvrige (sammenlagte små grupper)",
                                                                   "Selvforsørgende (ingen ydelse)"]
    assert ax.get_xlabel() == "ISO-år" and ax.get_ylabel() == "Andel af personuger (%)"
    plt.close(item.figure)


def test_category_shares_fail_when_even_everyone_is_few():
    # 3 persons, all self-supporting all year: merging cannot make a group of 5
    counts = pd.DataFrame([(2019, "self_support", 3 * 52, 3)], columns=["year", "category", "person_weeks", "persons"])
    shares, check = category_shares(counts, min_cell=5)
    assert shares["category"].tolist() == ["merged"] and shares["share"].tolist() == [1.0]
    assert check.status == "FAIL"
    assert check.detail == ("categories with fewer than 5 persons in a year merged into one group: self_support; "
                            "the merged group may still hold fewer persons")
    assert check.detail_da.endswith("; den sammenlagte gruppe kan stadig rumme færre personer")


def test_result_doctest():
    assert doctest.testmod(result_module).failed == 0
