"""The outcome rules in words: every outcome definition, the follow-up points and the exit rule.

The rules themselves are computed by :mod:`helpers.outcomes.definitions` (its module
docstring states them precisely); this module words them for the report's outcome and
methods sections, from the study file and the DREAM code table, with every phrase from the
catalogue (``outcome_rules.*`` in ``helpers/data/i18n/outcome_rules.yaml``).
"""

from __future__ import annotations

import pandas as pd

from helpers.config.schema.outcomes import EMPLOYED, OutcomeDefinition
from helpers.core.codes import load_code_table
from helpers.core.i18n import LANGUAGES, catalogue, tr
from helpers.outcomes.definitions import event_spec


def _label(kind: str, name: str, language: str) -> str:
    """Display name of an activity or benefit group; the code name with spaces when the catalogue has none."""
    key = f"outcome_rules.{kind}.{name}"
    return tr(key, language) if key in catalogue() else name.replace("_", " ")


def _criteria_text(d: OutcomeDefinition, language: str, table: pd.DataFrame) -> str:
    """The weekly criteria as a predicate on a week ("employed (see above) or coded 771 ...")."""
    parts = []
    for c in d.categories:
        if c == EMPLOYED:
            parts.append(tr("outcome_rules.criterion.employed", language))
        elif c == "self_support":
            parts.append(tr("outcome_rules.criterion.self_support", language))
        else:
            parts.append(tr("outcome_rules.criterion.category", language, label=tr(f"category.{c}", language)))
    for sub in d.subcategories:
        parts.append(tr("outcome_rules.criterion.subcategory", language, label=_label("subcategory", sub, language)))
    either = tr("outcome_rules.or", language)
    acts = [f"'{_label('activity', a, language)}'" for a in d.activities]
    if acts:
        codes = table.loc[table["activity"].isin(d.activities), "code"].tolist()
        parts.append(tr("outcome_rules.criterion.activity", language, activities=either.join(acts),
                        codes=", ".join(map(str, codes))))
    labels = dict(zip(table["code"], table["label_da"], strict=True))
    for code in d.codes:
        parts.append(tr("outcome_rules.criterion.code", language, code=code)
                     + (f" ({labels[code]})" if code in labels else ""))
    return either.join(parts)


def _events_text(d: OutcomeDefinition, language: str) -> str:
    items = []
    for spec in d.events:
        name, detail = event_spec(spec)
        items.append(tr("outcome_rules.event.with_detail", language, name=name, detail=detail) if detail
                     else f"'{name}'")
    return tr("outcome_rules.event.recorded", language, events=tr("outcome_rules.or", language).join(items))


def _definition_text(name: str, d: OutcomeDefinition, study, language: str, table: pd.DataFrame) -> str:
    crit = _criteria_text(d, language, table)
    n = d.lasting_weeks or 1
    pieces = []
    if crit and d.kind == "status_at":
        if n > 1:
            pieces.append(tr("outcome_rules.definition.status_at_lasting", language, before=n - 1, criteria=crit))
        else:
            pieces.append(tr("outcome_rules.definition.status_at", language, criteria=crit))
    elif crit:
        if n > 1:
            pieces.append(tr("outcome_rules.definition.ever_in_window_lasting", language, n=n, criteria=crit))
        else:
            pieces.append(tr("outcome_rules.definition.ever_in_window", language, criteria=crit))
    if d.events:
        pieces.append(_events_text(d, language))
    if d.kind == "any_of":
        defs = study.outcomes.definitions
        parts = [f"'{defs[o].label(language)}'" for o in d.of] + pieces
        sentence = tr("outcome_rules.definition.any_of", language, parts="; ".join(parts))
    else:
        sentence = tr("outcome_rules.or", language).join(pieces)
    primary = tr("outcome_rules.primary", language) if name == study.outcomes.primary else ""
    block = "" if d.report else tr("outcome_rules.block", language)
    return f"- **{d.label(language)}**{primary}{block}: {sentence}."


def outcome_rules_text(study, language: str) -> str:
    """Plain-language description of every outcome definition, the horizons and the exit rule.

    Parameters
    ----------
    study : helpers.config.Study
    language : {"en", "da"}

    Returns
    -------
    str
        Markdown (paragraphs and a bullet list) for the report's outcome and methods sections.

    Raises
    ------
    ValueError
        For a language other than English or Danish.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be 'en' or 'da', got {language!r}")
    cfg = study.outcomes
    ss = study.data.self_support
    table = load_code_table()
    horizons = ", ".join(tr("outcome_rules.horizon", language, label=h.label(language), weeks=h.weeks)
                         for h in cfg.horizons)
    overridden = sorted(int(c) for c, cat in study.data.category_overrides.items() if cat == "self_support")
    extra = sorted(int(c) for c in ss.extra_codes)
    self_support = (
        tr("outcome_rules.self_support.head", language)
        + (tr("outcome_rules.self_support.extra_codes", language, codes=", ".join(map(str, extra))) if extra else "")
        + (tr("outcome_rules.self_support.overridden", language, codes=", ".join(map(str, overridden)))
           if overridden else "")
        + (tr("outcome_rules.self_support.require_employment", language) if ss.require_employment else "")
        + tr("outcome_rules.self_support.employed", language)
    )
    lines = [tr("outcome_rules.intro", language, horizons=horizons), "", self_support, ""]
    for name, d in cfg.definitions.items():
        lines.append(_definition_text(name, d, study, language, table))
    lines.append("")
    rule = tr(f"outcome_rules.exit.rule.{cfg.exit_rule}", language)
    lines += [tr("outcome_rules.exit.text", language, rule=rule), "", tr("outcome_rules.missing_data", language)]
    return "\n".join(lines)
