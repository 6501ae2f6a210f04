"""The methods section: written from the study's parameters, in the study's language.

The only results it reads: the weeks the extract holds (:func:`data_text`) and the covariates
left over the balance threshold after matching (:func:`matching`, named, issue 17.8).

Each function takes the study and returns Markdown; the words are in the catalogue
(``methods.*`` in ``helpers/data/i18n/methods.yaml``).
"""

from __future__ import annotations

import platform
import sys

from helpers.core.i18n import catalogue, join_and, short, tr
from helpers.ingest.result import IngestResult
from helpers.report import imbalance
from helpers.report.cohort import covariate_label
from helpers.report.items import Text
from helpers.report.outcome_rules import outcome_rules_text
from helpers.report.robustness import methods_text as robustness_methods
from helpers.stages.cohort import CohortResult
from helpers.stats.power import planned_controls


def _lang(study, language: str | None) -> str:
    return language or study.study.language


def _benefits(names, language: str) -> str:
    """Display names of benefit subcategories (``outcome_rules.subcategory.<name>``), not their codes."""
    keys = [f"outcome_rules.subcategory.{n}" for n in names]
    return join_and([tr(k, language) if k in catalogue() else n for k, n in zip(keys, names, strict=True)], language)


def design(study, language: str | None = None) -> Text:
    """Data, index week and eligibility, from ``data`` and ``cohort``."""
    lang = _lang(study, language)
    c = study.cohort
    muni = ", ".join(str(m) for m in c.municipality) or tr("methods.any_municipality", lang)
    subs = _benefits(c.target_subcategories, lang)
    if c.control_municipalities:
        resident = tr("methods.design.resident_with_controls", lang, muni=muni,
                      controls=", ".join(str(m) for m in c.control_municipalities))
    else:
        resident = tr("methods.design.resident", lang, muni=muni)
    benefit = ("methods.design.benefit_before_and_index" if c.benefit_weeks == "before_and_index"
               else "methods.design.benefit_before")
    rules = [
        resident,
        tr("methods.design.age", lang, age_min=c.age_min, age_max=c.age_max),
        tr("methods.design.transfers", lang, min_weeks=c.min_weeks_on_transfers, lookback=c.transfers_lookback_weeks),
        tr(benefit, lang, subs=subs),
    ]
    if c.max_weeks_cash_benefit is not None:
        rules.append(tr("methods.design.cash_max", lang, max_weeks=c.max_weeks_cash_benefit,
                        cash=_benefits(c.cash_subcategories, lang), lookback=c.cash_benefit_lookback_weeks))
    rules.extend(tr("methods.design.control_proxy_min" if r.min_weeks > 1 else "methods.design.control_proxy", lang, reason=tr(f"cohort.reason.{r.reason}", lang).lower(),
                    codes=_proxy_selection(r, lang), weeks=r.weeks_before, min_weeks=r.min_weeks)
                 for r in c.control_exclusions)
    keep = tr(f"methods.design.failing_{c.intervention_failing_criteria}", lang)
    pool = tr(f"methods.design.pool_{c.controls_from}", lang)
    return Text("\n".join([
        data_text(study, lang),
        "",
        tr("methods.design.index_week", lang, weeks=c.programme_weeks),
        "",
        tr("methods.design.eligibility", lang),
        "",
        *[f"- {r}" for r in rules],
        "",
        keep + " " + tr("methods.design.controls", lang, pool=pool),
    ]))


def _proxy_selection(rule, language: str) -> str:
    """The codes a control-exclusion proxy selects, as written in the study file."""
    codes = [tr("methods.design.proxy_codes", language, codes=", ".join(str(x) for x in rule.codes))] if rule.codes else []
    names = [n.replace("_", " ") for n in (*rule.categories, *rule.subcategories, *rule.activities)]
    return join_and(codes + names, language)


def data_text(study, language: str | None = None) -> str:
    """The data sentence: the weeks the extract holds, employment, the forms used, the residence assumption."""
    lang = _lang(study, language)
    d = study.data
    ingest = IngestResult.load_or_none(study)
    first, last = str(d.first_year), str(d.last_year)
    employment = "monthly"
    if ingest is not None:
        full = ingest.first_iso_week.startswith(f"{d.first_year}-W01") and ingest.last_iso_week[:4] == str(d.last_year)
        if not full:
            first, last = ingest.first_iso_week, ingest.last_iso_week + tr(
                "methods.design.partial", lang, first_year=d.first_year, last_year=d.last_year)
        employment = "monthly" if ingest.months else "none"
    f = d.forms
    present = [k for k in ("screening", "questionnaires", "events", "costs") if getattr(f, k)]
    if f.inclusion_list is not None:
        present = ["inclusion_list", *[k for k in present if k != "screening"]]
    forms = (tr("methods.design.forms.all", lang) if present == ["screening", "questionnaires", "events", "costs"]
             else join_and([tr(f"methods.design.forms.{k}", lang) for k in present], lang))
    dream = d.dream
    residence = ""
    if dream.municipality_assumed is not None:
        residence = tr("methods.design.residence.assumed", lang, municipality=dream.municipality_assumed)
    elif dream.municipality_column is not None:
        residence = tr("methods.design.residence.one_column", lang, column=dream.municipality_column)
    return tr("methods.design.data", lang, first=first, last=last,
              employment=tr(f"methods.design.employment.{employment}", lang), forms=forms, residence=residence)


def matching(study, language: str | None = None) -> Text:
    """Matching method and balance criterion, from ``matching``."""
    lang = _lang(study, language)
    m = study.matching
    ratio = f"1:{m.ratio}"
    repl = tr("methods.matching.with_replacement" if m.replace else "methods.matching.without_replacement", lang)
    if m.method == "exact":
        bands = "; ".join(f"{k} [{', '.join(f'{e:g}' for e in v)})" for k, v in m.strata.items()) or "–"
        exact = ", ".join(m.exact)
        text = tr("methods.matching.exact", lang, ratio=ratio, repl=repl, seed=study.study.seed, bands=bands,
                  exact_part=tr("methods.matching.exact_value", lang, exact=exact) if exact else "")
    else:
        cal = (tr("methods.matching.caliper", lang, caliper=short(m.caliper, lang), distance=m.distance) if m.caliper
               else tr("methods.matching.no_caliper", lang))
        exact = "; ".join(covariate_label(c, None, lang) for c in m.exact)
        within = tr("methods.matching.within", lang, exact=exact) if exact else ""
        key = "methods.matching.mahalanobis" if m.distance == "mahalanobis" else "methods.matching.propensity"
        covariates = "; ".join(covariate_label(c, None, lang) for c in m.covariates)  # display names, not columns
        text = tr(key, lang, ratio=ratio, repl=repl, covariates=covariates, within=within, caliper=cal,
                  order=tr(f"methods.matching.order.{m.order}", lang), distance=m.distance)
    cohort = CohortResult.load_or_none(study)
    residual = "" if cohort is None else imbalance.sentence(cohort.residual_imbalance, m.smd_threshold, lang)
    return Text(text + tr("methods.matching.weights", lang, threshold=short(m.smd_threshold, lang))
                + (" " + residual if residual else ""))


def tests(study, language: str | None = None) -> Text:
    """Estimators and tests of each stage, with the parameters that set them."""
    lang = _lang(study, language)
    s, o, inv, pw = study.survival, study.outcomes, study.investment, study.power
    survival = tr(
        "methods.tests.survival", lang, lasting=s.lasting_weeks,
        employment=tr("methods.tests.employment_months", lang) if s.require_employment else "",
        exits=tr(f"methods.tests.exits_{s.exits}", lang),
        competing=tr("methods.tests.competing_dp", lang) if s.competing_disability_pension else "",
        cox=tr(f"methods.tests.cox.{s.cox_method}", lang),
        adjusted=tr("methods.tests.adjusted_for", lang, covariates=", ".join(s.adjust_for)) if s.adjust_for else "",
        horizon=s.rmst_horizon, draws=s.bootstrap_draws)
    actors = join_and([tr(f"actor_phrase.{a}", lang) for a in inv.perspective], lang)
    investment = tr(
        "methods.tests.investment", lang, price_year=inv.price_year,
        refusion=tr("methods.tests.refusion", lang) if inv.refusion else "", years=inv.horizon_years,
        extrapolated=(tr("methods.tests.extrapolated", lang, years=inv.extrapolate_years,
                         retention=short(inv.retention, lang)) if inv.extrapolate_years else ""),
        actors=actors, draws=inv.monte_carlo_draws)
    items = [
        tr("methods.tests.proportions", lang, primary=o.definitions[o.primary].label(lang),
           multiplicity=tr(f"methods.tests.multiplicity.{o.multiplicity}", lang),
           headline=tr("methods.tests.headline_clustered", lang) if o.headline == "clustered" else ""),
        survival,
        investment,
        tr("methods.tests.power", lang, alpha=short(pw.alpha, lang), n=pw.n_per_group,
           n_control=planned_controls(study), rho=short(pw.pair_correlation, lang),
           target=short(pw.target_power, lang)),
        " ".join(robustness_methods(study, lang)),  # empty when robustness.enabled is false
    ]
    return Text("\n\n".join(i for i in items if i))


def disclosure(study, language: str | None = None) -> Text:
    """The disclosure-control rules applied to every table and figure."""
    m = study.study.min_cell
    return Text(tr("methods.disclosure", _lang(study, language), below=m - 1, min_cell=m))


def software(study, packages: dict[str, str], language: str | None = None) -> Text:
    """One sentence naming Python and the versions of the statistical packages."""
    names = ", ".join(f"{k} {v}" for k, v in packages.items() if k != "helpers")
    return Text(tr("methods.software", _lang(study, language), python=sys.version.split()[0], system=platform.system(),
                   packages=names))


def outcomes(study, language: str | None = None) -> Text:
    """The outcome definitions, in words (:func:`helpers.report.outcome_rules.outcome_rules_text`)."""
    return Text(outcome_rules_text(study, _lang(study, language)))
