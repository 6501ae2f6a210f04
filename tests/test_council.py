"""The council's page: plain-language text from the results contract, its own printed page."""

from __future__ import annotations

import nbformat
from _investment_fakes import investment_result
from _report_fakes import capture, code, make_staging, study_copy
from bs4 import BeautifulSoup

from helpers.config import load_study
from helpers.report import assemble
from helpers.report import council

RESULTS = {
    "actors": {
        "municipality": {"npv": -1.46e6, "npv_low": -7.8e6, "npv_high": 5.0e6, "costs": 5_914_277.0,
                         "payback_year_pv": None},
        "state": {"npv": 3.49e6, "npv_low": 0.7e6, "npv_high": 6.7e6, "costs": 0.0, "payback_year_pv": None},
        "public": {"npv": 2.03e6, "npv_low": -6.5e6, "npv_high": 10.4e6, "costs": 5_914_277.0, "payback_year_pv": 8.0},
    },
    "horizon_total_years": 10, "n_intervention": 50, "n_control": 50,
    "settings": {"cost_bearer": "municipality", "horizon_years": 5},
    "break_even": [{"actor": "municipality", "persons_needed": 10.1, "observed_equivalent": 7.5},
                   {"actor": "public", "persons_needed": 8.4, "observed_equivalent": 11.4}],
    "p_npv_positive_by_actor": {"municipality": 0.293, "state": 0.99, "public": 0.64},
    "balance": [{"year": 1, "actor": "public", "observed": True, "cumulative_net_pv": -5.7e6}],
}
RESULT = investment_result(RESULTS)


def test_council_page_says_cost_savings_payback_break_even_and_chance():
    en = " ".join(council.paragraphs(RESULT, "en"))
    assert "The programme cost DKK 5.9 million for 50 participants (DKK 118,286 per participant)" in en
    # issue 18.5: a direction is stated plainly only when the 95 % range excludes 0 (the state's 0.7 to 6.7)
    assert ("the public sector as a whole comes out DKK 2.0 million ahead on our best estimate, though chance alone "
            "could turn it into a loss") in en
    assert ("the municipality DKK 1.5 million behind on the best estimate (could go either way); the state DKK 3.5 "
            "million ahead.") in en
    assert "For the municipality not within 10 years; for the public sector as a whole in year 8" in en
    assert "brings 10.1 more of the 50 participants off public support for good" in en and "7.5 citizens" in en
    assert "29% for the municipality and 64% for the public sector as a whole" in en
    assert "udligning" in en
    da = " ".join(council.paragraphs(RESULT, "da"))
    assert "Indsatsen kostede 5,9 mio. kr. for 50 deltagere (118.286 kr. pr. deltager)" in da
    assert "står det offentlige samlet efter vores bedste skøn 2,0 mio. kr. bedre, men tilfældigheder alene" in da
    assert "For kommunen ikke inden for 10 år; for det offentlige samlet i år 8" in da
    assert "29 % for kommunen og 64 % for det offentlige samlet" in da
    table = council.key_figures(RESULT, "en")
    assert table.iloc[1].tolist() == ["State", "3.5", "0.7 to 6.7", "no cost to pay back", "99%"]
    assert table.iloc[2, 3] == "year 8" and table.iloc[0, 3] == "not within 10 years"
    assert council.paragraphs(None, "en")[1].startswith("The investment calculation did not run")


def test_council_page_starts_and_ends_a_printed_page(tmp_path):
    study = study_copy(load_study("demo"), language="en")
    staging = tmp_path / "staging"
    rep = make_staging(staging, study)

    def page():
        rep.page_break()
        for en, da in zip(council.paragraphs(RESULT, "en"), council.paragraphs(RESULT, "da"), strict=True):
            rep.text(en, da)
        rep.page_break()

    path = staging / "notebooks" / "90_summary.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(code(capture(page), ["front"]))
    nbformat.write(nb, path)
    html = assemble.build_report(study, staging, timings={}, started=None, log=lambda *_: None).read_text()
    soup = BeautifulSoup(html, "html.parser")
    breaks = soup.select("div.rpt-pagebreak")
    assert len(breaks) == 2
    heading = soup.find("h2", string=lambda s: s and "For the city council" in s)
    toc = soup.find("nav", class_="rpt-toc")
    order = [t for t in soup.find_all(["div", "h2", "nav"]) if t in (breaks[0], heading, breaks[1], toc)]
    assert order == [breaks[0], heading, breaks[1], toc]       # summary, break, council page, break, contents
    assert "rpt-section" not in heading.get("class", [])       # front matter: not numbered
    css = soup.find("style").get_text()
    assert ".rpt-pagebreak { break-before: page; page-break-before: always;" in css
