"""Stage 02 in the report: the flow diagram, the attrition table, Table 1, balance, the match summary.

The item functions take the stage's :class:`~helpers.stages.cohort.CohortResult` and the
study and return report items in the requested language (default: the study's); the
figures and tables need the build's frames, i.e. the result of
:func:`helpers.stages.cohort.run` (the summary and the notes also work on a result read
back with ``CohortResult.load``). Masking comes from :mod:`helpers.disclosure.attrition`
and :mod:`helpers.disclosure.balance`; every word from the catalogue (``cohort.*``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.cohort.balance import overlap_histogram, smd_wide
from helpers.cohort.build import CATEGORICAL_NUMERIC, CohortBuild
from helpers.core.i18n import catalogue, count, tr
from helpers.disclosure import MASK, Check, is_small
from helpers.disclosure.attrition import mask_attrition
from helpers.disclosure.balance import mask_balance, mask_histogram
from helpers.report import balance as balance_report
from helpers.report.items import Figure, Table, Text
from helpers.report.plots.cohort import flow_diagram, love_plot, ps_overlap
from helpers.stages.cohort import CohortResult

#: Groups in the order of the flow diagram's columns.
GROUPS = ("intervention", "control")
#: Rows of the flow diagram: the attrition stages shown together.
FLOW_SLOTS = (("screening", "register"), ("linkage",), ("eligibility",), ("screening_proxy",), ("matching",),
              ("follow_up",), ("analysis",))
#: Stages whose side box has its own heading (``cohort.flow.head.<stage>``); others: "Excluded:".
HEADED_STAGES = ("eligibility", "screening_proxy", "follow_up")
#: Catalogue prefix of covariate levels with a label (``cohort.level.<variable>.<level>``).
LEVEL_PREFIX = "cohort.level."


def _lang(study, language: str | None) -> str:
    return language or study.study.language


def _label(key: str, fallback: str, language: str) -> str:
    """``tr(key)``, or ``fallback`` for a value the catalogue does not name (e.g. a form's own reason)."""
    return tr(key, language) if key in catalogue() else fallback


def _build(result: CohortResult) -> CohortBuild:
    if result.build is None:
        raise ValueError("CohortResult.build is empty: the cohort's tables and figures need the result of "
                         "stages.cohort.run, not a result read back from cohort_summary.json")
    return result.build


# ------------------------------------------------------------------ attrition and flow
def reason_label(reason: str, language: str) -> str:
    """Readable label of an attrition reason (merged reasons joined by " / ")."""
    return " / ".join(_label(f"cohort.reason.{r}", r.replace("_", " "), language) for r in str(reason).split("+"))


def attrition_display(masked: pd.DataFrame, language: str) -> pd.DataFrame:
    """The (masked) attrition log as a report table with readable labels."""

    def col(name: str) -> str:
        return tr(f"cohort.attrition.column.{name}", language)

    return pd.DataFrame({
        col("group"): [_label(f"group.{g}", g, language) for g in masked["group"]],
        col("stage"): [_label(f"cohort.stage.{s}", s, language) for s in masked["stage"]],
        col("reason"): [reason_label(r, language) for r in masked["reason"]],
        col("n_before"): masked["n_before"].to_numpy(),
        col("n_excluded"): masked["n_excluded"].to_numpy(),
        col("n_flagged"): masked["n_flagged"].to_numpy(),
        col("n_after"): masked["n_after"].to_numpy(),
    })


@dataclass(frozen=True)
class FlowBox:
    """A box of the flow diagram: ``kind`` "main" (the chain) or "side" (exclusions/flags)."""

    group: str
    slot: int
    kind: str
    text: str


def flow_boxes(masked: pd.DataFrame, language: str, *, wrap: int = 38, follow_up: pd.DataFrame | None = None,
               horizon_labels: Mapping[str, str] | None = None, min_cell: int = 1) -> list[FlowBox]:
    """Boxes of a CONSORT-style flow diagram, from the (masked) attrition log and the follow-up counts.

    Each group is a column: a start box (screened / register population), then per stage
    a side box listing that stage's exclusions and flags, and a main box with the number
    remaining. Stages without exclusions or flags get no box, except "analysed". Below it,
    one box per follow-up point with the persons followed to it (``follow_up``,
    :func:`helpers.cohort.follow_up.followed_by_horizon`; masked by :func:`followed_counts`).
    """
    boxes: list[FlowBox] = []

    def fmt(v) -> str:
        return count(v, language) if isinstance(v, int | np.integer) else str(v)

    def box(label: str, n) -> str:
        return tr("cohort.flow.count", language, label=label, n=fmt(n))

    for grp in GROUPS:
        chain = masked[masked["group"] == grp]
        if chain.empty:
            continue
        first = chain.iloc[0]
        boxes.append(FlowBox(grp, 0, "main", _wrap(box(tr(f"cohort.flow.start.{grp}", language), first["n_before"]),
                                                    wrap)))
        for slot, stages in enumerate(FLOW_SLOTS, start=1):
            part = chain[chain["stage"].isin(stages)]
            if part.empty:
                continue
            lines = []
            for _, r in part.iterrows():
                if r["reason"] == "analysed":
                    continue
                if _nonzero(r["n_excluded"]):
                    lines.append(box(reason_label(r["reason"], language), r["n_excluded"]))
                if _nonzero(r["n_flagged"]):
                    lines.append(tr("cohort.flow.flagged", language, label=reason_label(r["reason"], language),
                                    n=fmt(r["n_flagged"])))
            stage = part["stage"].iloc[-1]
            if lines:
                head = tr(f"cohort.flow.head.{stage if stage in HEADED_STAGES else 'other'}", language)
                text = head + "\n" + "\n".join(_wrap("• " + ln, wrap) for ln in lines)
                boxes.append(FlowBox(grp, slot, "side", text))
            if lines or stage == "analysis":
                key = f"cohort.flow.box.{stage}"
                if stage == "matching" and grp == "control":
                    key = "cohort.flow.matched_controls"
                if stage == "eligibility" and grp == "control":
                    key = "cohort.flow.eligible_candidates"
                if stage == "eligibility" and grp == "intervention" and part["n_excluded"].map(_nonzero).sum() == 0:
                    key = "cohort.flow.checked_criteria"
                if stage == "screening_proxy" and grp == "intervention":
                    key = "cohort.flow.checked_proxies"
                boxes.append(FlowBox(grp, slot, "main", _wrap(box(tr(key, language), part["n_after"].iloc[-1]), wrap)))
    if follow_up is not None and len(follow_up):
        labels = dict(horizon_labels or {})
        order = list(dict.fromkeys(follow_up["horizon"]))
        for grp, part in follow_up.groupby("group", sort=False):
            part = part.set_index("horizon").loc[[h for h in order if h in set(part["horizon"])]]
            shown = followed_counts(part["n_followed"].astype(int).tolist(), int(part["n_persons"].iloc[0]),
                                    min_cell, language)
            for (key, r), n in zip(part.iterrows(), shown, strict=True):
                label = tr("cohort.flow.followed", language, label=lower_first(labels.get(key, key)),
                           weeks=int(r["weeks"]))
                boxes.append(FlowBox(grp, len(FLOW_SLOTS) + 1 + order.index(key), "main", _wrap(box(label, n), wrap)))
    return boxes


def lower_first(label: str) -> str:
    """A label inside a sentence: "End of programme" -> "end of programme"; "FU" and "SMD ..." stay."""
    if len(label) > 1 and not label[1].isupper():
        return label[0].lower() + label[1:]
    return label


def followed_counts(followed: list[int], n_persons: int, min_cell: int, language: str) -> list[str]:
    """Persons followed to each follow-up point (in order), safe to publish below the analysed total.

    The counts only fall from one point to the next. A count is shown exactly when it differs
    from the last exact value above it (the analysed total first) by 0 or at least
    ``min_cell``; otherwise as the range it lies in (``150–153``), so no difference between
    two shown boxes is a small count. A count of 1..min_cell-1 is masked (``<5``).
    """
    out = []
    anchor = n_persons
    for n in followed:
        lost = anchor - n
        if is_small(n, min_cell):
            out.append(MASK.format(min_cell=min_cell))
        elif is_small(lost, min_cell):
            out.append(f"{count(anchor - min_cell + 1, language)}–{count(anchor - 1, language)}")
        else:
            out.append(count(n, language))
            anchor = n
    return out


def _nonzero(v) -> bool:
    return isinstance(v, str) or (pd.notna(v) and float(v) > 0)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width, subsequent_indent="  " if line.startswith("•") else "")
                     for line in text.split("\n"))


# ------------------------------------------------------------------ covariates and balance
def _level_label(variable: str, level, language: str) -> str | None:
    """Catalogue label of a covariate level (``cohort.level.<variable>.<level>``; ``1.0`` finds ``1``)."""
    tries = [level]
    try:
        tries.append(int(float(level)))
    except (TypeError, ValueError):
        pass
    for lv in tries:
        key = f"{LEVEL_PREFIX}{variable}.{lv}"
        if key in catalogue():
            return tr(key, language)
    return None


def covariate_label(variable: str, level, language: str) -> str:
    """Display label of a balance term."""
    name = _label(f"cohort.covariate.{variable}", variable, language)
    if level is None or (isinstance(level, float) and np.isnan(level)) or level == "":
        return name
    lv = _level_label(variable, level, language)
    return f"{name}: {lv if lv else str(level).replace('_', ' ')}"


def love_data(balance: pd.DataFrame, language: str, min_cell: int) -> tuple[pd.DataFrame, Check]:
    """SMD before/after per term with display labels, largest |SMD| before matching first.

    A categorical covariate with two levels (e.g. sex) is one comparison and gets one row
    (its last level: the levels' SMDs differ only in sign). Disclosive binary terms are dropped.
    """
    masked, check = mask_balance(balance, min_cell, item="love_plot")
    wide = smd_wide(masked)
    n_levels = wide.groupby("variable", sort=False)["level"].transform(lambda s: int((s != "").sum()))
    wide = wide[(n_levels != 2) | ~wide.duplicated("variable", keep="last")]
    wide = wide.iloc[np.argsort(-wide["smd_before"].abs().fillna(np.inf).to_numpy(), kind="stable")]
    wide = wide.reset_index(drop=True)
    wide["label"] = [covariate_label(v, lv, language) for v, lv in zip(wide["variable"], wide["level"], strict=True)]
    dropped = int(wide["smd_after"].isna().sum() + (wide["smd_before"].isna() & wide["smd_after"].notna()).sum())
    wide = wide.dropna(subset=["smd_before", "smd_after"]).reset_index(drop=True)
    if dropped:
        check.notes.append(tr("check.balance.terms_not_shown", "en", n=dropped))
    return wide, check


def balance_display(balance: pd.DataFrame, language: str, min_cell: int) -> tuple[pd.DataFrame, Check]:
    """Balance table for the report: means, SMD before/after and variance ratio after, per term.

    Means, SMDs and variance ratios of binary terms with disclosive counts are hidden
    (:func:`helpers.disclosure.balance.mask_balance`); no minimum or maximum is shown.
    """
    masked, check = mask_balance(balance, min_cell, item="balance")
    key = ["variable", "level"]
    masked = masked.assign(level=masked["level"].fillna(""))
    b = masked[masked["sample"] == "before"].set_index(key)
    a = masked[masked["sample"] == "after"].set_index(key)
    sep = tr("cohort.decimal_sep", language)

    def f(v, d: int) -> str:
        return "" if pd.isna(v) else f"{v:.{d}f}".replace(".", sep)

    def col(name: str) -> str:
        return tr(f"cohort.balance.column.{name}", language)

    rows = []
    for k in a.index:
        var, lev = k
        kind = a.loc[k, "kind"]
        d = 3 if kind == "binary" or var == "distance" else 1
        rows.append({
            col("covariate"): covariate_label(var, lev or None, language),
            col("mean_treated"): f(a.loc[k, "mean_treated"], d),
            col("mean_pool"): f(b.loc[k, "mean_control"], d) if k in b.index else "",
            col("mean_control"): f(a.loc[k, "mean_control"], d),
            col("smd_before"): f(b.loc[k, "smd"], 3) if k in b.index else "",
            col("smd_after"): f(a.loc[k, "smd"], 3),
            col("var_ratio"): f(a.loc[k, "var_ratio"], 2),
        })
    table = pd.DataFrame(rows)
    stats = table.columns[1:]
    hidden = (table[stats] == "").all(axis=1)
    if hidden.any():
        check.notes.append(tr("check.balance.terms_not_shown", "en", n=int(hidden.sum())))
    return table[~hidden].reset_index(drop=True), check


def _level_labels(persons: pd.DataFrame, covs: list[str], language: str) -> dict[str, dict]:
    """Table 1 level names: the catalogue's (keyed by the value and its text), else the value without underscores."""
    out: dict[str, dict] = {}
    for key in catalogue():
        if key.startswith(LEVEL_PREFIX):
            variable, _, level = key[len(LEVEL_PREFIX):].rpartition(".")
            text = tr(key, language)
            out.setdefault(variable, {})[level] = text
            if level.isdigit():
                out[variable][int(level)] = text
    for c in ("benefit_category", "benefit_subcategory", "activity"):
        if c in covs:
            known = out.get(c, {})
            out[c] = {lv: known.get(lv, _label(f"outcome_rules.subcategory.{lv}", str(lv).replace("_", " "), language)
                                   if c == "benefit_subcategory" else str(lv).replace("_", " "))
                      for lv in persons[c].dropna().unique()}
    return out


# ------------------------------------------------------------------ report items
def flow_figure(result: CohortResult, study, language: str | None = None) -> Figure:
    """The CONSORT-style flow diagram, from the masked attrition log."""
    lang = _lang(study, language)
    build = _build(result)
    masked, check = mask_attrition(build.attrition, study.study.min_cell, item="flow_diagram")
    labels = {h.key: h.label(lang) for h in study.outcomes.horizons}
    ax = flow_diagram(flow_boxes(masked, lang, follow_up=build.follow_up, horizon_labels=labels,
                                 min_cell=study.study.min_cell), language=lang)
    return Figure("flow_diagram", ax.figure, check)


def attrition_table(result: CohortResult, study, language: str | None = None) -> Table:
    """Attrition by step and group (the same masked log as the flow diagram)."""
    lang = _lang(study, language)
    masked, check = mask_attrition(_build(result).attrition, study.study.min_cell, item="attrition")
    return Table("attrition", attrition_display(masked, lang), check, note=tr("cohort.note.attrition", lang))


def baseline_table(result: CohortResult, study, language: str | None = None) -> Table:
    """Table 1 of the analysis cohort (one row per person; SMD after matching, weighted)."""
    lang = _lang(study, language)
    build = _build(result)
    covs = [c for c in build.balance_covariates if c != "distance"]
    persons = build.cohort.drop_duplicates(["person_id", "group"])
    labels = {c: _label(f"cohort.covariate.{c}", c, lang) for c in covs}
    groups = {g: tr(f"group.{g}", lang) for g in GROUPS}
    frame, check = balance_report.table_one(
        persons, covs, "group", min_cell=study.study.min_cell, item="table1", group_labels=groups, labels=labels,
        level_labels=_level_labels(persons, covs, lang), categorical=[c for c in CATEGORICAL_NUMERIC if c in covs],
        smd=build.balance_after, language=lang)
    return Table("table1", frame, check, note=tr("cohort.note.table1", lang))


def love_figure(result: CohortResult, study, language: str | None = None) -> Figure:
    """Absolute SMDs before and after matching (terms with disclosive counts left out)."""
    lang = _lang(study, language)
    love, check = love_data(_build(result).balance, lang, study.study.min_cell)
    ax = love_plot(love, threshold=study.matching.smd_threshold, language=lang)
    return Figure("love_plot", ax.figure, check)


def overlap_data(build: CohortBuild, min_cell: int, n_bins: int = 20) -> tuple[pd.DataFrame, Check] | None:
    """Shares per propensity-score bin (intervention, pool, matched controls), small bars hidden; None without a PS.

    The pool is every eligible (person, index week) candidate row; the matched controls are
    their rows in the cohort (weighted by the matching weights, so they compare with the
    intervention group as the balance table does). A bar with 1..min_cell-1 units is not drawn.
    """
    cand = build.candidates
    if cand is None or "distance" not in cand or cand["distance"].isna().all():
        return None
    coh = build.cohort
    treated = coh[coh["group"] == "intervention"]
    ctrl = coh[coh["group"] == "control"]
    hist = overlap_histogram({"intervention": treated["distance"].to_numpy(), "pool": cand["distance"].to_numpy(),
                              "control": ctrl["distance"].to_numpy()}, n_bins)
    masked, check = mask_histogram(hist, ["intervention", "pool", "control"], min_cell, item="ps_overlap")
    edges = np.r_[hist["left"].to_numpy(), hist["right"].to_numpy()[-1:]]
    w_bin = np.clip(np.searchsorted(edges, ctrl["distance"].to_numpy(), side="right") - 1, 0, n_bins - 1)
    weighted = np.bincount(w_bin, weights=ctrl["weight"].to_numpy(dtype=float), minlength=n_bins)
    out = masked[["bin", "left", "right"]].copy()
    out["intervention"] = masked["intervention"] / len(treated)
    out["pool"] = masked["pool"] / len(cand)
    out["control"] = np.where(masked["control"].isna(), np.nan, weighted / weighted.sum())
    return out, check


def ps_overlap_figure(result: CohortResult, study, language: str | None = None) -> Figure | None:
    """Propensity-score overlap before and after matching; None when the match used no propensity score."""
    if not result.match_summary.distance_ps:
        return None
    data = overlap_data(_build(result), study.study.min_cell)
    if data is None:
        return None
    ax = ps_overlap(data[0], language=_lang(study, language))
    return Figure("ps_overlap", ax.figure, data[1])


def balance_table(result: CohortResult, study, language: str | None = None) -> Table:
    """Covariate balance before and after matching, per term."""
    frame, check = balance_display(_build(result).balance, _lang(study, language), study.study.min_cell)
    return Table("balance", frame, check)


def summary_text(result: CohortResult, study, language: str | None = None) -> Text:
    """How many were matched, how, and the balance achieved (counts masked)."""
    lang = _lang(study, language)
    s = result.match_summary
    mc = study.study.min_cell
    sep = tr("cohort.decimal_sep", lang)

    def cnt(k: int) -> str:
        return MASK.format(min_cell=mc) if is_small(k, mc) else count(k, lang)

    def dec(x: float | None) -> str:
        return "–" if x is None else f"{x:.3f}".replace(".", sep)

    shown = result.published_smd or {}  # hidden binary terms left out (the balance table's mask)

    if s.method == "exact":
        how = tr("cohort.summary.how.exact", lang,
                 strata=", ".join(list(study.matching.strata) + list(study.matching.exact)))
    elif s.distance == "mahalanobis":
        cal = tr("cohort.summary.how.caliper_logit", lang, caliper=s.caliper_sd) if s.caliper_sd else ""
        how = tr("cohort.summary.how.mahalanobis", lang, caliper=cal)
    else:
        cal = tr("cohort.summary.how.caliper", lang, caliper=s.caliper_sd) if s.caliper_sd else ""
        logit = tr("cohort.summary.how.logit", lang) if s.distance == "logit" else ""
        how = tr("cohort.summary.how.propensity", lang, logit=logit, caliper=cal)
    replacement = tr("cohort.summary.with_replacement" if s.replace else "cohort.summary.without_replacement", lang)
    return Text(tr("cohort.summary.sentence", lang, n_matched=cnt(s.n_treated_matched), n_treated=cnt(s.n_treated),
                   ratio=s.ratio, replacement=replacement, n_controls=cnt(s.n_controls_unique),
                   n_eligible=cnt(s.n_eligible_control_persons), n_weeks=s.n_index_weeks, how=how,
                   smd_after=dec(shown.get("after")), smd_history=dec(shown.get("after_history")),
                   threshold=str(study.matching.smd_threshold).replace(".", sep),
                   smd_before=dec(shown.get("before"))))


def notes_text(result: CohortResult, study, language: str | None = None) -> list[Text]:
    """The build's notes (data coverage, persons kept despite failing criteria, ...), one text each."""
    return [Text(t) for t in result.note_texts(_lang(study, language))]
