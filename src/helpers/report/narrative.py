"""Generated prose for the report: the plain-language summary and the methods section.

Everything here is written from the study's parameters and from the *aggregate* results
the stages saved (never from person-level data), in English and Danish. Functions return
Markdown in the requested language; a stage whose results are missing gets a sentence
saying so instead of an error, so the summary always renders.

Aggregate inputs read by :func:`summary_paragraphs` (first found in the report's output
folder, then in ``data/processed/<study>/``):

- ``cohort.parquet`` (only the group column is counted),
- ``outcome_results.parquet`` (:func:`helpers.stats.proportions.masked_results`),
- ``survival_results.json`` (:func:`helpers.stats.survival.survival_summary`),
- ``investment_results.json`` (notebook 05).
"""

from __future__ import annotations

import json
import math
import platform
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import disclosure
from helpers.config import Study


def _t(language: str, en: str, da: str) -> str:
    return da if language == "da" else en


def _find(study: Study, name: str, output_dir: str | Path | None) -> Path | None:
    for folder in ([Path(output_dir)] if output_dir else []) + [study.processed_dir]:
        if (folder / name).exists():
            return folder / name
    return None


def _num(x: Any, digits: int = 1, language: str = "en") -> str:
    """Number for prose; Danish uses a decimal comma."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    text = f"{float(x):.{digits}f}"
    return text.replace(".", ",") if language == "da" else text


def _g(x: float, language: str) -> str:
    """Short number (``%g``) with a decimal comma in Danish."""
    text = f"{x:g}"
    return text.replace(".", ",") if language == "da" else text


ACTORS = {"municipality": ("the municipality", "kommunen"), "state": ("the state", "staten"),
          "public": ("the public sector as a whole", "den samlede offentlige sektor")}


def _actors(actors, language: str) -> str:
    names = [ACTORS.get(a, (a, a))[1 if language == "da" else 0] for a in actors]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + _t(language, " and ", " og ") + names[-1]


def _p(p: Any, language: str) -> str:
    """``p = 0.041`` / ``p < 0.001`` with :func:`helpers.stats.proportions.format_p`'s rounding (decimal comma in Danish)."""
    from helpers.stats.proportions import format_p

    text = format_p(None if p is None or isinstance(p, str) else float(p))
    text = f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"
    return text.replace(".", ",") if language == "da" else text


def _is_num(x: Any) -> bool:
    try:
        return x is not None and not isinstance(x, (str, bool)) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------------ summary
def _population(study: Study, output_dir, language: str) -> str:
    path = _find(study, "cohort.parquet", output_dir)
    if path is None:
        return _t(language, "The cohort stage did not run, so the size of the groups is not known here.",
                  "Kohortetrinnet er ikke kørt, så gruppernes størrelse kendes ikke her.")
    groups = pd.read_parquet(path, columns=["group"])["group"].value_counts()
    m = study.study.min_cell
    n_int, n_ctl = int(groups.get("intervention", 0)), int(groups.get("control", 0))
    show = {k: (disclosure.MASK.format(min_cell=m) if disclosure.is_small(v, m) else str(v))
            for k, v in (("int", n_int), ("ctl", n_ctl))}
    how = {"exact": _t(language, "matched on benefit history, age and sex in the same calendar week",
                       "matchet på ydelseshistorik, alder og køn i samme kalenderuge"),
           "nearest": (_t(language, "matched on benefit history, age and sex (Mahalanobis distance) in the same "
                             "calendar week",
                          "matchet på ydelseshistorik, alder og køn (Mahalanobis-afstand) i samme kalenderuge")
                       if study.matching.distance == "mahalanobis" else
                       _t(language, "matched on a propensity score in the same calendar week",
                          "matchet på en propensity score i samme kalenderuge"))}[study.matching.method]
    return _t(language,
              f"The report compares {show['int']} persons who took part in the programme with {show['ctl']} "
              f"control persons from the register, {how}. The groups were not assigned at random: differences "
              "the matching did not remove can affect the comparisons.",
              f"Rapporten sammenligner {show['int']} personer, der deltog i indsatsen, med {show['ctl']} "
              f"kontrolpersoner fra registeret, {how}. Grupperne er ikke fordelt ved lodtrækning: forskelle, "
              "som matchningen ikke fjernede, kan påvirke sammenligningerne.")


def _outcomes(study: Study, output_dir, language: str) -> list[str]:
    path = _find(study, "outcome_results.parquet", output_dir)
    if path is None:
        return [_t(language, "The outcome stage did not run; this summary has no results on employment and the other "
                             "outcomes.",
                   "Effektmålstrinnet er ikke kørt; sammenfatningen har ingen resultater om beskæftigelse og de andre "
                   "effektmål.")]
    res = pd.read_parquet(path)
    out = []
    prim = res[res["role"] == "primary"] if "role" in res else res.iloc[0:0]
    if len(prim):
        label = str(prim["outcome_label"].iloc[0])
        parts = []
        for _, r in prim.iterrows():
            masked = bool(r.get("masked_int", False)) or bool(r.get("masked_ctl", False))
            hl = str(r.get("horizon_label", r["horizon"]))
            if masked or not (_is_num(r.get("pct_int")) and _is_num(r.get("pct_ctl"))):
                parts.append(_t(language, f"{hl}: not shown (too few persons)", f"{hl}: ikke vist (for få personer)"))
                continue
            diff = ""
            # the design's headline difference (helpers.stats.proportions.headline_columns), else Newcombe's
            keys = ("headline_rd", "headline_lower", "headline_upper") if _is_num(r.get("headline_rd")) else (
                "rd", "rd_lower", "rd_upper")
            if _is_num(r.get(keys[0])):
                rd, lo, hi = (100 * float(r[k]) for k in keys)  # shares -> points
                diff = _t(language, f", difference {_num(rd, 1)} percentage points (95% CI {_num(lo, 1)} to "
                                    f"{_num(hi, 1)}; {_p(r.get('p_value'), language)})",
                          f", forskel {_num(rd, 1, language)} procentpoint (95 %-KI {_num(lo, 1, language)} til "
                          f"{_num(hi, 1, language)}; {_p(r.get('p_value'), language)})")
            parts.append(_t(language, f"{hl}: {_num(r['pct_int'], 0)}% in the programme group vs "
                                      f"{_num(r['pct_ctl'], 0)}% of controls{diff}",
                            f"{hl}: {_num(r['pct_int'], 0, language)} % i indsatsgruppen mod "
                            f"{_num(r['pct_ctl'], 0, language)} % af kontrolpersonerne{diff}"))
        sig = prim["p_value"].astype(float) < 0.05 if "p_value" in prim else pd.Series(dtype=bool)
        verdict = (_t(language, "The difference is statistically significant (p < 0.05) at "
                                f"{int(sig.sum())} of {len(prim)} follow-up points.",
                      f"Forskellen er statistisk signifikant (p < 0,05) ved {int(sig.sum())} af {len(prim)} "
                      "opfølgningstidspunkter.") if len(sig) else "")
        out.append(_t(language, f"**Primary outcome, {label.lower()}.** ", f"**Primært effektmål, {label.lower()}.** ")
                   + "; ".join(parts) + ". " + verdict)
    sec = res[res["role"] == "secondary"] if "role" in res else res.iloc[0:0]
    if len(sec) and "p_adjusted" in sec:
        padj = pd.to_numeric(sec["p_adjusted"], errors="coerce")
        tested = int(padj.notna().sum())
        n_sig = int((padj < 0.05).sum())
        method = study.outcomes.multiplicity
        out.append(_t(language,
                      f"**Secondary outcomes.** Of {tested} comparisons of secondary outcomes, {n_sig} show a "
                      f"statistically significant difference after adjustment for multiple testing ({method}).",
                      f"**Sekundære effektmål.** Af {tested} sammenligninger af sekundære effektmål viser {n_sig} en "
                      f"statistisk signifikant forskel efter justering for multipel testning ({method})."))
    return out


def _survival(study: Study, output_dir, language: str) -> str:
    path = _find(study, "survival_results.json", output_dir)
    if path is None:
        return _t(language, "The time-to-event stage did not run; there is no result on how fast people reached lasting "
                            "self-support.",
                  "Forløbsanalysen er ikke kørt; der er intet resultat om, hvor hurtigt deltagerne blev varigt "
                  "selvforsørgende.")
    res = json.loads(path.read_text(encoding="utf-8"))
    hr, lo, hi = res.get("hr"), res.get("hr_ci_low"), res.get("hr_ci_high")
    weeks = study.survival.lasting_weeks
    if not _is_num(hr):
        return _t(language, "The hazard ratio for lasting self-support could not be estimated (too few events).",
                  "Hazard ratio for varig selvforsørgelse kunne ikke estimeres (for få hændelser).")
    direction = (_t(language, "faster", "hurtigere") if float(hr) > 1 else _t(language, "slower", "langsommere"))
    text = _t(language,
              f"**Time to lasting self-support** ({weeks} consecutive weeks without public benefits). The programme "
              f"group reached it {direction} than the controls: hazard ratio {_num(hr, 2)} (95% CI {_num(lo, 2)} to "
              f"{_num(hi, 2)}; {_p(res.get('hr_p'), language)}).",
              f"**Tid til varig selvforsørgelse** ({weeks} sammenhængende uger uden offentlig ydelse). "
              f"Indsatsgruppen nåede den {direction} end kontrolgruppen: hazard ratio {_num(hr, 2, language)} "
              f"(95 %-KI {_num(lo, 2, language)} til {_num(hi, 2, language)}; {_p(res.get('hr_p'), language)}).")
    d = res.get("rmst_difference_weeks")
    if _is_num(d):
        text += " " + _t(language,
                         f"Within {_num(res.get('rmst_horizon_weeks'), 0)} weeks, the programme group spent on average "
                         f"{_num(d, 1)} more weeks after reaching lasting self-support than the controls (95% CI "
                         f"{_num(res.get('rmst_difference_ci_low'), 1)} to {_num(res.get('rmst_difference_ci_high'), 1)}).",
                         f"Inden for {_num(res.get('rmst_horizon_weeks'), 0, language)} uger havde indsatsgruppen i gennemsnit "
                         f"{_num(d, 1, language)} flere uger efter at være blevet varigt selvforsørgende end "
                         f"kontrolgruppen (95 %-KI {_num(res.get('rmst_difference_ci_low'), 1, language)} til "
                         f"{_num(res.get('rmst_difference_ci_high'), 1, language)}).")
    return text


def _find_npv(res: dict, actor: str) -> tuple[float, float | None, float | None] | None:
    """(NPV, low, high) for ``actor`` from ``investment_results.json``'s ``npv`` block
    (written by :meth:`helpers.investment.InvestmentAnalysis.results`)."""
    v = (res.get("npv") or {}).get(actor)
    if not isinstance(v, dict):
        return None
    return v.get("estimate"), v.get("ci_low"), v.get("ci_high")


def _investment(study: Study, output_dir, language: str) -> str:
    path = _find(study, "investment_results.json", output_dir)
    if path is None:
        return _t(language, "The investment stage did not run; whether the programme pays off is not assessed here.",
                  "Investeringstrinnet er ikke kørt; om indsatsen betaler sig, vurderes ikke her.")
    res = json.loads(path.read_text(encoding="utf-8"))
    names = ACTORS
    parts = []
    for actor in study.investment.perspective:
        found = _find_npv(res, actor)
        if found is None or not _is_num(found[0]):
            continue
        npv, lo, hi = found
        ci = ""
        if _is_num(lo) and _is_num(hi):
            ci = _t(language, f" (net present value {_num(float(npv) / 1e6, 1)} million, 95% interval "
                              f"{_num(float(lo) / 1e6, 1)} to {_num(float(hi) / 1e6, 1)})",
                    f" (nutidsværdi {_num(float(npv) / 1e6, 1, language)} mio. kr., 95 %-interval "
                    f"{_num(float(lo) / 1e6, 1, language)} til {_num(float(hi) / 1e6, 1, language)})")
        word = (_t(language, "a net gain", "en nettogevinst") if float(npv) >= 0
                else _t(language, "a net cost", "en nettoudgift"))
        who = names.get(actor, (actor, actor))
        parts.append(_t(language, f"for {who[0]} {word} of DKK {_num(abs(float(npv)) / 1e6, 1)} million{ci}",
                        f"for {who[1]} {word} på {_num(abs(float(npv)) / 1e6, 1, language)} mio. kr.{ci}"))
    years = res.get("horizon_total_years") or study.investment.horizon_years
    p_pos = res.get("p_npv_positive")
    sens = getattr(study.investment, "sensitivity", None)
    mc_actor = ACTORS.get(getattr(sens, "actor", "public"), ("", ""))[1 if language == "da" else 0]
    extra = ""
    if parts and _is_num(p_pos) and mc_actor:
        extra = " " + _t(language, f"In {_num(100 * float(p_pos), 0)}% of the simulated scenarios the net present "
                                   f"value for {mc_actor} is positive.",
                         f"I {_num(100 * float(p_pos), 0, language)} % af de simulerede scenarier er nutidsværdien "
                         f"for {mc_actor} positiv.")
    if not parts:
        return _t(language, "**Investment.** See the investment section for the savings and costs.",
                  "**Investering.** Se afsnittet om investering for besparelser og udgifter.")
    return _t(language, f"**Investment.** Over {years} years, discounted, the programme gives " + "; ".join(parts) + ".",
              f"**Investering.** Over {years} år, tilbagediskonteret, giver indsatsen " + "; ".join(parts) + ".") + extra


def summary_paragraphs(study: Study, output_dir: str | Path | None = None, language: str | None = None) -> list[str]:
    """The plain-language summary as Markdown paragraphs, from the stages' aggregate results."""
    language = language or study.study.language
    paras = [_population(study, output_dir, language), *_outcomes(study, output_dir, language),
             _survival(study, output_dir, language), _investment(study, output_dir, language)]
    if study.study.synthetic:
        paras.append(_t(language, "*All numbers come from synthetic data with a known, injected effect; they "
                                  "demonstrate the method, not the programme.*",
                        "*Alle tal stammer fra syntetiske data med en kendt, indlagt effekt; de demonstrerer metoden, "
                        "ikke indsatsen.*"))
    return paras


# ------------------------------------------------------------------------ methods
def methods_design(study: Study, language: str | None = None) -> str:
    """Data, index week and eligibility, from ``data`` and ``cohort``."""
    lang = language or study.study.language
    c = study.cohort
    muni = ", ".join(str(m) for m in c.municipality) or _t(lang, "any", "alle")
    subs = ", ".join(c.target_subcategories)
    cash = ", ".join(c.cash_subcategories)
    rules = [
        (_t(lang, f"resident in municipality {muni} in the index year", f"bopæl i kommune {muni} i indeksåret")
         if not c.control_municipalities else
         _t(lang, f"resident in municipality {muni} in the index year (controls: in one of the municipalities "
                  f"{', '.join(str(m) for m in c.control_municipalities)})",
            f"bopæl i kommune {muni} i indeksåret (kontrolpersoner: i en af kommunerne "
            f"{', '.join(str(m) for m in c.control_municipalities)})")),
        _t(lang, f"aged {c.age_min} to {c.age_max} years at the index week",
           f"{c.age_min}-{c.age_max} år i indeksugen"),
        _t(lang, f"on a public transfer in at least {c.min_weeks_on_transfers} of the {c.transfers_lookback_weeks} "
                 "weeks before the index week",
           f"på offentlig forsørgelse i mindst {c.min_weeks_on_transfers} af de {c.transfers_lookback_weeks} uger "
           "før indeksugen"),
        (_t(lang, f"receiving one of the benefits {subs} in the week before the index week and in the index week "
                  "itself (so a control has not left benefits at that calendar time)",
            f"modtager en af ydelserne {subs} i ugen før indeksugen og i selve indeksugen (så en kontrolperson "
            "ikke har forladt ydelsen på det tidspunkt)")
         if c.benefit_weeks == "before_and_index" else
         _t(lang, f"receiving one of the benefits {subs} in the week before the index week",
            f"modtager en af ydelserne {subs} i ugen før indeksugen")),
    ]
    if c.max_weeks_cash_benefit is not None:
        rules.append(_t(lang, f"at most {c.max_weeks_cash_benefit} weeks on {cash} in the "
                              f"{c.cash_benefit_lookback_weeks} weeks before the index week",
                        f"højst {c.max_weeks_cash_benefit} uger på {cash} i de {c.cash_benefit_lookback_weeks} "
                        "uger før indeksugen"))
    keep = {"keep": _t(lang, "Intervention persons who fail a register criterion are kept (intention to treat) and "
                             "counted in the flow diagram.",
                       "Indsatspersoner, der ikke opfylder et registerkriterium, beholdes (intention to treat) og "
                       "tælles i flowdiagrammet."),
            "exclude": _t(lang, "Intervention persons who fail a register criterion are excluded.",
                          "Indsatspersoner, der ikke opfylder et registerkriterium, udelukkes.")}[c.intervention_failing_criteria]
    pool = {"not_screened": _t(lang, "never screened for the programme", "aldrig screenet til indsatsen"),
            "not_included": _t(lang, "not included in the programme (screened persons may be controls)",
                               "ikke inkluderet i indsatsen (screenede personer kan være kontroller)")}[c.controls_from]
    d = study.data
    return "\n".join([
        _t(lang, f"**Data.** The DREAM register extract, weekly transfer codes from {d.first_year} to {d.last_year} "
                 "with monthly employment from eIndkomst, linked to the project's screening, questionnaire, event and "
                 "cost forms by a keyed pseudonym of the person number.",
           f"**Data.** DREAM-udtræk med ugentlige ydelseskoder fra {d.first_year} til {d.last_year} og månedlig "
           "beskæftigelse fra eIndkomst, koblet til projektets screenings-, spørgeskema-, hændelses- og "
           "omkostningsskemaer via et nøglet pseudonym af personnummeret."),
        "",
        _t(lang, "**Index week.** For a participant, the DREAM week that contains the inclusion date; controls are "
                 "evaluated at the same calendar week as the participant they are matched to (risk-set sampling). "
                 f"The programme lasts up to {c.programme_weeks} weeks (end of programme = index week + "
                 f"{c.programme_weeks}).",
           "**Indeksuge.** For en deltager den DREAM-uge, der indeholder inklusionsdatoen; kontrolpersoner "
           "vurderes i samme kalenderuge som den deltager, de matches til (risk-set sampling). "
           f"Forløbet varer op til {c.programme_weeks} uger (forløbsafslutning = indeksuge + {c.programme_weeks})."),
        "",
        _t(lang, "**Eligibility** (checked at the index week for participants and controls alike):",
           "**Kriterier** (opgjort i indeksugen for både deltagere og kontrolpersoner):"),
        "",
        *[f"- {r}" for r in rules],
        "",
        keep + " " + _t(lang, f"Controls are register persons {pool}.", f"Kontrolpersoner er personer i registeret, "
                                                                         f"der er {pool}."),
    ])


def methods_matching(study: Study, language: str | None = None) -> str:
    """Matching method and balance criterion, from ``matching``."""
    lang = language or study.study.language
    m = study.matching
    ratio = f"1:{m.ratio}"
    repl = _t(lang, "with replacement", "med tilbagelægning") if m.replace else _t(lang, "without replacement",
                                                                                    "uden tilbagelægning")
    if m.method == "exact":
        bands = "; ".join(f"{k} [{', '.join(f'{e:g}' for e in v)})" for k, v in m.strata.items()) or "–"
        exact = ", ".join(m.exact)
        text = _t(lang, f"Exact matching {ratio} {repl}: each participant's controls are drawn at random "
                        f"(seed {study.study.seed} + 1) among candidates in the same index week and the same band of "
                        f"every stratum variable ({bands})" + (f" and the same value of {exact}" if exact else "") + ".",
                  f"Eksakt matchning {ratio} {repl}: hver deltagers kontrolpersoner trækkes tilfældigt "
                  f"(seed {study.study.seed} + 1) blandt kandidater i samme indeksuge og samme interval af hver "
                  f"stratavariabel ({bands})" + (f" og samme værdi af {exact}" if exact else "") + ".")
    else:
        cal = (_t(lang, f"a caliper of {m.caliper:g} SD of the {m.distance} distance",
                  f"en caliper på {_g(m.caliper, 'da')} SD af {m.distance}-afstanden") if m.caliper
               else _t(lang, "no caliper", "ingen caliper"))
        exact = ", ".join(m.exact)
        within_en = f", exactly within {exact}" if exact else ""
        within_da = f", eksakt inden for {exact}" if exact else ""
        if m.distance == "mahalanobis":
            text = _t(lang, f"Greedy nearest-neighbour matching {ratio} {repl} on the Mahalanobis distance of "
                            f"{', '.join(m.covariates)}, within the index week{within_en}, with {cal}; "
                            f"participants pick controls in '{m.order}' order.",
                      f"Grådig nærmeste-nabo-matchning {ratio} {repl} på Mahalanobis-afstanden af "
                      f"{', '.join(m.covariates)}, inden for indeksugen{within_da}, med {cal}; deltagerne "
                      f"vælger kontroller i rækkefølgen '{m.order}'.")
        else:
            text = _t(lang, f"Greedy nearest-neighbour matching {ratio} {repl} on the {m.distance} of a "
                            f"logistic propensity score of {', '.join(m.covariates)}, within the index week{within_en}, "
                            f"with {cal}; participants pick controls in '{m.order}' order.",
                      f"Grådig nærmeste-nabo-matchning {ratio} {repl} på {m.distance} af en logistisk "
                      f"propensity score af {', '.join(m.covariates)}, inden for indeksugen{within_da}, med {cal}; "
                      f"deltagerne vælger kontroller i rækkefølgen '{m.order}'.")
    text += " " + _t(lang, "Control weights are 1/m in a matched set with m controls (ATT). Balance is judged by the "
                           f"standardised mean difference (SMD), with |SMD| <= {m.smd_threshold:g} taken as balanced.",
                     "Kontrolpersoners vægt er 1/m i et matchet sæt med m kontroller (ATT). Balancen vurderes med "
                     f"den standardiserede middelforskel (SMD); |SMD| <= {_g(m.smd_threshold, 'da')} regnes som balance.")
    return text


def methods_outcomes(study: Study, language: str | None = None) -> str:
    """Outcome definitions (from :func:`helpers.outcomes.definitions.outcome_rules_text` when available)."""
    lang = language or study.study.language
    try:
        from helpers.outcomes.definitions import outcome_rules_text

        return outcome_rules_text(study, lang)
    except (ImportError, AttributeError, FileNotFoundError, KeyError) as err:  # pragma: no cover - defensive
        lines = [f"- **{d.label(lang)}**: {d.kind}" for d in study.outcomes.definitions.values()]
        return _t(lang, f"(Outcome rules could not be rendered: {err}.)", f"(Effektmål kunne ikke beskrives: {err}.)") \
            + "\n\n" + "\n".join(lines)


def methods_tests(study: Study, language: str | None = None) -> str:
    """Estimators and tests of each stage, with the parameters that set them."""
    lang = language or study.study.language
    s, o, inv, pw = study.survival, study.outcomes, study.investment, study.power
    mult = {"holm": ("Holm's step-down method", "Holms metode"), "bonferroni": ("Bonferroni", "Bonferroni"),
            "none": ("no adjustment", "ingen justering")}[o.multiplicity]
    exits = {"competing": _t(lang, "emigration, state pension and death are competing events",
                             "udvandring, folkepension og død er konkurrerende hændelser"),
             "censor": _t(lang, "emigration, state pension and death censor follow-up",
                          "udvandring, folkepension og død censurerer opfølgningen")}[s.exits]
    items = [
        _t(lang, "**Proportions** at each follow-up point: shares with Wilson intervals; risk difference with "
                 "Newcombe's hybrid score interval; risk ratio with Koopman's score interval; Fisher's exact test "
                 "(two-sided). With 1:1 matched pairs also McNemar's test and Newcombe's paired interval; with k:1 "
                 "matching or unequal weights a weighted difference with a matched-set clustered variance. "
                 + ("The headline difference and test of every matched design use a standard error clustered by "
                    "matched set (t test; chosen by simulation). " if o.headline == "clustered" else "")
                 + f"The primary outcome ({o.primary}) is tested unadjusted; secondary outcomes are adjusted with "
                 f"{mult[0]}.",
           "**Andele** ved hvert opfølgningstidspunkt: andele med Wilson-intervaller; risikoforskel med Newcombes "
           "hybride score-interval; relativ risiko med Koopmans score-interval; Fishers eksakte test (tosidet). "
           "Ved 1:1-matchede par også McNemars test og Newcombes parrede interval; ved k:1-matchning eller "
           "ulige vægte en vægtet forskel med varians klynget på matchede sæt. "
           + ("Hovedforskellen og -testen i alle matchede design bruger standardfejl klynget på matchet sæt "
              "(t-test; valgt ved simulation). " if o.headline == "clustered" else "")
           + f"Det primære effektmål ({o.primary}) testes ujusteret; sekundære effektmål justeres med {mult[1]}."),
        _t(lang, f"**Time to lasting self-support** (first week of {s.lasting_weeks} consecutive self-supported weeks"
                 + (", in months with employment" if s.require_employment else "") + f"): {exits}"
                 + ("; the first week on disability pension is a competing event" if s.competing_disability_pension
                    else "") + ". Kaplan-Meier curves, log-rank test and a Cox model ("
                 + {"auto": "stratified by matched set when every set is 1:1 with unit weights, otherwise cluster-"
                            "robust", "strata": "stratified by matched set",
                    "cluster": "cluster-robust by matched set"}[s.cox_method]
                 + (f", adjusted for {', '.join(s.adjust_for)}" if s.adjust_for else "")
                 + "); Aalen-Johansen cumulative incidence for competing events; restricted mean time to "
                   f"{s.rmst_horizon} weeks with a bootstrap over matched sets ({s.bootstrap_draws} draws, seed + 2).",
           f"**Tid til varig selvforsørgelse** (første uge af {s.lasting_weeks} sammenhængende selvforsørgede uger"
           + (", i måneder med beskæftigelse" if s.require_employment else "") + f"): {exits}"
           + ("; første uge på førtidspension er en konkurrerende hændelse" if s.competing_disability_pension else "")
           + ". Kaplan-Meier-kurver, log-rank-test og en Cox-model ("
           + {"auto": "stratificeret på matchet sæt, når alle sæt er 1:1 med vægt 1, ellers klynge-robust",
              "strata": "stratificeret på matchet sæt", "cluster": "klynge-robust på matchet sæt"}[s.cox_method]
           + (f", justeret for {', '.join(s.adjust_for)}" if s.adjust_for else "")
           + "); Aalen-Johansen kumuleret incidens for konkurrerende hændelser; restricted mean time til "
             f"{s.rmst_horizon} uger med bootstrap over matchede sæt ({s.bootstrap_draws} træk, seed + 2)."),
        _t(lang, f"**Investment**: benefit weeks priced at {inv.price_year} prices"
                 + (" and split between municipality and state by the refusion rules" if inv.refusion else "")
                 + f", over {inv.horizon_years} observed years"
                 + (f" and {inv.extrapolate_years} extrapolated years (last observed saving x {inv.retention:g} per year)"
                    if inv.extrapolate_years else "")
                 + f" for {_actors(inv.perspective, lang)}, "
                   "discounted with the Ministry of Finance's social discount rate; uncertainty by a bootstrap over "
                   f"matched sets (seed + 2) and "
                   f"{inv.monte_carlo_draws} Monte Carlo draws (seed + 3).",
           f"**Investering**: ydelsesuger prissat i {inv.price_year}-priser"
           + (" og fordelt mellem kommune og stat efter refusionsreglerne" if inv.refusion else "")
           + f", over {inv.horizon_years} observerede år"
           + (f" og {inv.extrapolate_years} fremskrevne år (sidste observerede besparelse x "
              f"{_g(inv.retention, 'da')} pr. år)" if inv.extrapolate_years else "")
           + f" for {_actors(inv.perspective, lang)}, tilbagediskonteret med "
             "Finansministeriets samfundsøkonomiske diskonteringsrente; usikkerhed ved bootstrap over matchede sæt "
             f"(seed + 2) og {inv.monte_carlo_draws} Monte Carlo-træk (seed + 3)."),
        _t(lang, f"**Power** of the design: exact power of Fisher's test (alpha {pw.alpha:g}) for {pw.n_per_group} "
                 f"persons per group and the planned shares, compared with normal approximations; target power "
                 f"{pw.target_power:g}.",
           f"**Styrke** af designet: eksakt styrke af Fishers test (alfa {_g(pw.alpha, lang)}) for {pw.n_per_group} "
           f"personer pr. gruppe og de planlagte andele, sammenholdt med normalapproksimationer; målstyrke "
           f"{_g(pw.target_power, lang)}."),
    ]
    return "\n\n".join(items)


def methods_disclosure(study: Study, language: str | None = None) -> str:
    """The disclosure-control rules applied to every table and figure."""
    lang = language or study.study.language
    m = study.study.min_cell
    return _t(lang,
              f"Counts of 1 to {m - 1} persons are masked (shown as <{m}); a share n/N is "
              f"masked when n or N - n is 1 to {m - 1}; where a masked count could be recovered from a row or column "
              "total, further cells are masked; percentages from masked counts are masked; no minimum or maximum of "
              f"individual values is shown; survival and incidence curves change only at steps that reflect at least "
              f"{m} events, and their risk tables are masked likewise. No person identifier leaves the pipeline. "
              "Each table and figure is listed with its result in the checklist that ends the report.",
              f"Antal på 1 til {m - 1} personer skjules (vist som <{m}); en andel n/N skjules, "
              f"når n eller N - n er 1 til {m - 1}; hvor et skjult antal kan genskabes fra en række- eller "
              "kolonnesum, skjules yderligere celler; procenter af skjulte antal skjules; intet minimum eller maksimum "
              "af enkeltværdier vises; overlevelses- og incidenskurver ændrer sig kun i trin, der hver afspejler "
              f"mindst {m} hændelser, og deres risikotabeller skjules tilsvarende. Ingen personidentifikation forlader "
              "analysen. Hver tabel og figur står med sit resultat i tjeklisten sidst i rapporten.")


def methods_software(language: str, packages: dict[str, str]) -> str:
    """One sentence naming Python and the versions of the statistical packages."""
    names = ", ".join(f"{k} {v}" for k, v in packages.items() if k != "helpers")
    return _t(language,
              f"Python {sys.version.split()[0]} on {platform.system()}; {names}. Notebooks were executed "
              "with papermill and assembled with nbconvert; the full environment is in the supplement's lock file.",
              f"Python {sys.version.split()[0]} på {platform.system()}; {names}. Notesbøgerne blev kørt "
              "med papermill og samlet med nbconvert; hele miljøet står i supplementets låsefil.")
