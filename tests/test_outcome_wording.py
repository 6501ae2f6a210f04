"""Issue 18, items 1 and 5 for the outcome sentences: claims follow the CI, masked points are not failures.

The primary outcome's sentence (report/outcomes.py::primary_sentence) and the summary's outcome
paragraph (report/summary.py::outcomes) choose their words from the 95% CI of the main analysis:
a direction only when the CI excludes 0, "no clear difference" when it covers 0; a masked point is
worded from its bound over every count the mask allows. Each case is tested in both languages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.disclosure import outcomes as dout
from helpers.report import outcomes as rout
from helpers.report import summary
from helpers.stats import outcome_comparison as oc

NAN = float("nan")
BOUNDS = ("bound_rd_low", "bound_rd_high", "bound_rd_lower", "bound_rd_upper", "bound_p_fisher", "bound_p_value",
          "bound_p_adjusted")


def _row(horizon, label, pct_int, pct_ctl, rd, lo, hi, p, **kw):
    base = dict(outcome="employment", outcome_label="Employed", role="primary", design="pairs", masked_int=False,
                masked_ctl=False, w_rd=NAN, w_lower=NAN, w_upper=NAN, p_adjusted=NAN, **{c: NAN for c in BOUNDS})
    row = {**base, "horizon": horizon, "horizon_label": label, "pct_int": pct_int, "pct_ctl": pct_ctl, "rd": rd,
           "rd_lower": lo, "rd_upper": hi, "p_value": p, **kw}
    # the headline columns the outcome table names since issue 17.7 (headline_columns): the weighted
    # difference in the weighted design, here Newcombe's otherwise (outcomes.headline: classic)
    src = ("w_rd", "w_lower", "w_upper") if row["design"] == "weighted" else ("rd", "rd_lower", "rd_upper")
    row.update(headline_rd=row[src[0]], headline_lower=row[src[1]], headline_upper=row[src[2]])
    return row


def _masked(horizon, label, pct_int, low, high, lower, upper, p, **kw):
    return _row(horizon, label, pct_int, NAN, NAN, NAN, NAN, NAN, masked_ctl=True, bound_rd_low=low,
                bound_rd_high=high, bound_rd_lower=lower, bound_rd_upper=upper, bound_p_fisher=p, bound_p_value=p,
                **kw)


#: One follow-up point per case: (row, report sentence part en/da, summary part en/da). A bound's ends are
#: rounded outwards (49.73 -> 49.8) and its p up (0.00106 -> 0.002): "for every count" holds for the printed numbers.
CASES = {
    "ci_above_0": (
        _row("FU", "End of programme", 28, 10, 0.18, 0.025, 0.328, 0.0404),
        "end of programme 18.0 (2.5 to 32.8) percentage points (p = 0.040), higher in the programme group",
        "end of programme 18,0 (2,5 til 32,8) procentpoint (p = 0,040), højere i indsatsgruppen",
        "End of programme: 28% in the programme group vs 10% of controls, difference 18.0 percentage points "
        "(95% CI 2.5 to 32.8; p = 0.040), higher in the programme group",
        "End of programme: 28 % i indsatsgruppen mod 10 % af kontrolpersonerne, forskel 18,0 procentpoint "
        "(95 %-KI 2,5 til 32,8; p = 0,040), højere i indsatsgruppen"),
    "ci_below_0": (
        _row("FU", "End of programme", 20, 35, -0.15, -0.30, -0.02, 0.031),
        "end of programme -15.0 (-30.0 to -2.0) percentage points (p = 0.031), lower in the programme group",
        "end of programme -15,0 (-30,0 til -2,0) procentpoint (p = 0,031), lavere i indsatsgruppen",
        "End of programme: 20% in the programme group vs 35% of controls, difference -15.0 percentage points "
        "(95% CI -30.0 to -2.0; p = 0.031), lower in the programme group",
        "End of programme: 20 % i indsatsgruppen mod 35 % af kontrolpersonerne, forskel -15,0 procentpoint "
        "(95 %-KI -30,0 til -2,0; p = 0,031), lavere i indsatsgruppen"),
    "ci_covers_0": (  # the "28.9 more weeks" on a CI of -11 to 66, here in percentage points
        _row("FU", "End of programme", 40, 11, 0.289, -0.11, 0.66, 0.12),
        "end of programme 28.9 (-11.0 to 66.0) percentage points (p = 0.12), no clear difference",
        "end of programme 28,9 (-11,0 til 66,0) procentpoint (p = 0,12), ingen klar forskel",
        "End of programme: 40% in the programme group vs 11% of controls, difference 28.9 percentage points "
        "(95% CI -11.0 to 66.0; p = 0.12), no clear difference",
        "End of programme: 40 % i indsatsgruppen mod 11 % af kontrolpersonerne, forskel 28,9 procentpoint "
        "(95 %-KI -11,0 til 66,0; p = 0,12), ingen klar forskel"),
    "masked_bound_above_0": (  # the demo at 2 years: 18/48 vs <5/50
        _masked("FU", "2 years after", 38, 0.295, 0.355, 0.1312, 0.4973, 0.000565),
        "2 years after: counts masked; for every count the mask allows the difference is 29.5 to 35.5 percentage "
        "points (95% CI within 13.1 to 49.8; p < 0.001), higher in the programme group",
        "2 years after: antal skjult; for alle antal, skjulningen tillader, er forskellen 29,5 til 35,5 procentpoint "
        "(95 %-KI inden for 13,1 til 49,8; p < 0,001), højere i indsatsgruppen",
        "2 years after: 38% in the programme group; the controls' count is masked (too few persons), but for every "
        "count the mask allows the difference is 29.5 to 35.5 percentage points (95% CI within 13.1 to 49.8; "
        "p < 0.001), higher in the programme group",
        "2 years after: 38 % i indsatsgruppen; kontrolgruppens antal er skjult (for få personer), men for alle antal, "
        "skjulningen tillader, er forskellen 29,5 til 35,5 procentpoint (95 %-KI inden for 13,1 til 49,8; "
        "p < 0,001), højere i indsatsgruppen"),
    "masked_bound_covers_0": (
        _masked("FU", "2 years after", 12, -0.02, 0.06, -0.09, 0.16, 0.61),
        "2 years after: counts masked; for every count the mask allows the difference is -2.0 to 6.0 percentage "
        "points (95% CI within -9.0 to 16.0; p ≤ 0.61), no clear difference can be shown",
        "2 years after: antal skjult; for alle antal, skjulningen tillader, er forskellen -2,0 til 6,0 procentpoint "
        "(95 %-KI inden for -9,0 til 16,0; p ≤ 0,61), en klar forskel kan ikke påvises",
        "2 years after: 12% in the programme group; the controls' count is masked (too few persons), but for every "
        "count the mask allows the difference is -2.0 to 6.0 percentage points (95% CI within -9.0 to 16.0; "
        "p ≤ 0.61), no clear difference can be shown",
        "2 years after: 12 % i indsatsgruppen; kontrolgruppens antal er skjult (for få personer), men for alle antal, "
        "skjulningen tillader, er forskellen -2,0 til 6,0 procentpoint (95 %-KI inden for -9,0 til 16,0; "
        "p ≤ 0,61), en klar forskel kan ikke påvises"),
    "masked_without_bound": (
        _row("FU", "2 years after", NAN, 3, NAN, NAN, NAN, NAN, masked_int=True),
        "2 years after: not shown (small counts)", "2 years after: ikke vist (små antal)",
        "2 years after: not shown (too few persons)", "2 years after: ikke vist (for få personer)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_primary_sentence_follows_the_ci(case):
    row, en, da, _, _ = CASES[case]
    rows = pd.DataFrame([row])
    assert rout.primary_sentence(rows, "en") == \
        f"**Primary outcome: Employed.** Difference intervention − control (95% CI): {en}."
    assert rout.primary_sentence(rows, "da") == \
        f"**Primært effektmål: Employed.** Forskel indsats − kontrol (95 %-KI): {da}."


@pytest.mark.parametrize("case", list(CASES))
def test_summary_point_follows_the_ci(case, demo_study):
    row, _, _, en, da = CASES[case]
    rows = pd.DataFrame([row])
    assert summary.outcomes(demo_study, "en", rows)[0].startswith(f"**Primary outcome, employed.** {en}. ")
    assert summary.outcomes(demo_study, "da", rows)[0].startswith(f"**Primært effektmål, employed.** {da}. ")


def test_weighted_design_words_the_weighted_interval(demo_study):
    """fundamentet at 3 months: Newcombe 1.1 to 21.1 but the main (weighted) analysis -0.3 to 21.5, p = 0.055."""
    rows = pd.DataFrame([_row("M3", "3 months after", 25, 14, 0.106, 0.011, 0.211, 0.0553, design="weighted",
                              w_rd=0.106, w_lower=-0.003, w_upper=0.215)])
    assert summary.outcomes(demo_study, "en", rows)[0] == (
        "**Primary outcome, employed.** 3 months after: 25% in the programme group vs 14% of controls, difference "
        "10.6 percentage points (95% CI -0.3 to 21.5; p = 0.055), no clear difference. The difference is "
        "statistically significant (p < 0.05) at 0 of 1 follow-up points.")
    assert "forskel 10,6 procentpoint (95 %-KI -0,3 til 21,5; p = 0,055), ingen klar forskel" in \
        summary.outcomes(demo_study, "da", rows)[0]
    assert "3 months after 10.6 (-0.3 to 21.5) percentage points (p = 0.055), no clear difference" in \
        rout.primary_sentence(rows, "en")


def _demo_rows():
    return pd.DataFrame([
        _row("FU", "End of programme", 28, 10, 0.18, 0.025, 0.328, 0.0404),
        _row("Y1", "1 year after", 30, 10, 0.20, 0.043, 0.349, 0.023),
        _masked("Y2", "2 years after", 38, 0.295, 0.355, 0.1312, 0.4973, 0.000565),
        _masked("Y5", "5 years after", 36, 0.282, 0.342, 0.1185, 0.4856, 0.00106),
    ])


def test_summary_never_counts_a_masked_point_as_a_failure(demo_study):
    """Before: "significant (p < 0.05) at 2 of 4 follow-up points" with 2 points masked."""
    text = summary.outcomes(demo_study, "en", _demo_rows())[0]
    assert "at 2 of 4 follow-up points" not in text
    assert text.endswith(
        "The difference is statistically significant (p < 0.05) at 2 of the 2 follow-up points that can be shown. "
        "Where counts are masked, the difference is significant whatever the masked count: the least favourable p "
        "over every count the mask allows is p < 0.001 at 2 years after and p ≤ 0.002 at 5 years after.")
    da = summary.outcomes(demo_study, "da", _demo_rows())[0]
    assert da.endswith(
        "Forskellen er statistisk signifikant (p < 0,05) ved 2 af de 2 opfølgningstidspunkter, der kan vises. "
        "Hvor antal er skjult, er forskellen signifikant uanset det skjulte antal: den mindst gunstige p over alle "
        "antal, skjulningen tillader, er p < 0,001 ved 2 years after og p ≤ 0,002 ved 5 years after.")


def test_summary_masked_points_not_all_significant(demo_study):
    rows = _demo_rows()
    rows.loc[3, "bound_p_value"] = 0.21
    assert summary.outcomes(demo_study, "en", rows)[0].endswith(
        "Where counts are masked, the least favourable p over every count the mask allows is p < 0.001 at 2 years "
        "after and p ≤ 0.21 at 5 years after: significant whatever the masked count at 1 of these 2 points.")
    rows.loc[2, "bound_p_value"] = 0.07
    assert summary.outcomes(demo_study, "da", rows)[0].endswith(
        "Hvor antal er skjult, kan signifikans ikke vises for alle antal, skjulningen tillader: den mindst gunstige "
        "p er p ≤ 0,070 ved 2 years after og p ≤ 0,21 ved 5 years after.")
    rows.loc[[2, 3], "bound_p_value"] = NAN  # e.g. the weighted design: the main test has no bound
    assert summary.outcomes(demo_study, "en", rows)[0].endswith(
        "at 2 of the 2 follow-up points that can be shown. At 2 years after and 5 years after the counts are "
        "masked and the test cannot be bounded from the published counts.")


def test_summary_of_the_demo_like_comparison_from_counts(demo_study):
    """The whole path on counts: 18/48 vs 1..4 of 50 at 2 years gives the demo's bound and wording."""
    def pairs(int_values, ctl_values, horizon, weeks):
        rows = []
        for i, (a, b) in enumerate(zip(int_values, ctl_values, strict=True)):
            rows.append(dict(person_id=f"i{i}", group="intervention", matched_set=i, weight=1.0, value=a))
            rows.append(dict(person_id=f"c{i}", group="control", matched_set=i, weight=1.0, value=b))
        return pd.DataFrame(rows).assign(outcome="employment", horizon=horizon, horizon_weeks=weeks)

    po = pd.concat([pairs([1.0] * 14 + [0.0] * 36, [1.0] * 5 + [0.0] * 45, "FU", 26),
                    pairs([1.0] * 18 + [0.0] * 30 + [np.nan] * 2, [1.0] * 3 + [0.0] * 47, "Y2", 156)],
                   ignore_index=True)
    res = oc.outcome_table(po, demo_study)
    rows = dout.masked_results(res, 5, multiplicity="holm")
    en = summary.outcomes(demo_study, "en", rows)[0]
    assert ("2 years after: 38% in the programme group; the controls' count is masked (too few persons), but for "
            "every count the mask allows the difference is 29.5 to 35.5 percentage points") in en
    # the least favourable p is the pair-clustered t test's, the headline of 1:1 pairs since issue 17.7
    # (Fisher's would be < 0.001)
    assert "at 1 of the 1 follow-up points that can be shown" in en and "p ≤ 0.002 at 2 years after" in en


@pytest.mark.parametrize("npv, low, high, en_words", [
    (2.2e6, -6.4e6, 10.6e6, "no clear net gain or cost (net present value 2.2 million, 95% interval -6.4 to 10.6)"),
    (3.7e6, 0.8e6, 6.8e6, "a net gain of DKK 3.7 million"),
    (-1.5e6, -2.0e6, -0.1e6, "a net cost of DKK 1.5 million"),
    (0.04e6, None, None, "no clear net gain or cost (net present value 0.0 million)"),
])
def test_summary_investment_sentence_follows_the_interval(demo_study, npv, low, high, en_words):
    # issue 18.5: "net gain of DKK 0.0 million" and a direction on an interval that covers 0 are not claims the
    # numbers allow; the sentence names a direction only when the 95% interval excludes 0
    from helpers.report import summary

    res = {"npv": {"public": {"estimate": npv, "ci_low": low, "ci_high": high}}, "horizon_total_years": 10}
    study = demo_study.model_copy(update={"investment": demo_study.investment.model_copy(update={"perspective": ["public"]})})
    assert en_words in summary.investment(study, "en", res)
    da = summary.investment(study, "da", res)
    assert ("hverken en klar nettogevinst eller en klar nettoudgift" in da) == en_words.startswith("no clear")
