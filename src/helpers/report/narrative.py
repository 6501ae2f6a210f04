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
    from helpers.report.outcomes import format_p

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
            if _is_num(r.get("rd")):
                rd, lo, hi = (100 * float(r[k]) for k in ("rd", "rd_lower", "rd_upper"))  # shares -> points
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
    if res.get("tax"):
        extra += " " + _t(language, "Benefits are priced per DREAM code, and the income tax and AM-bidrag on benefits "
                                    "and earnings are counted.",
                          "Ydelserne er prissat pr. DREAM-kode, og skat og AM-bidrag af ydelser og lønindkomst er "
                          "medregnet.")
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
# (design, matching, tests, disclosure and software: helpers.report.methods)
def methods_outcomes(study: Study, language: str | None = None) -> str:
    """Outcome definitions (from :func:`helpers.outcomes.definitions.outcome_rules_text` when available)."""
    lang = language or study.study.language
    try:
        from helpers.report.outcome_rules import outcome_rules_text

        return outcome_rules_text(study, lang)
    except (ImportError, AttributeError, FileNotFoundError, KeyError) as err:  # pragma: no cover - defensive
        lines = [f"- **{d.label(lang)}**: {d.kind}" for d in study.outcomes.definitions.values()]
        return _t(lang, f"(Outcome rules could not be rendered: {err}.)", f"(Effektmål kunne ikke beskrives: {err}.)") \
            + "\n\n" + "\n".join(lines)


