"""Disclosure control of stage 03: the outcome comparison and the questionnaire table.

Rules (see :mod:`helpers.disclosure`):

- A group's share n/N is masked when n or N - n is 1 .. ``min_cell`` - 1
  (:func:`helpers.disclosure.unsafe_proportion`); N is masked when it is itself small.
- Unless the study keeps them (``outcomes.estimates_with_masked_counts``), every estimate
  and p-value of a row with a masked share is masked too: with the other group's n/N, a
  risk difference would let a reader work out the masked count exactly.
- Questionnaire counts of 1 .. ``min_cell`` - 1 are masked, and so are the means, changes
  and differences computed from fewer than ``min_cell`` complete cases.
- Marks (:func:`share_mark`): a count of 1 .. ``min_cell`` - 1 shows ``<5``; a count hidden
  only because its complement N - n (or its N) is small shows the secondary mark ``x``
  (:data:`helpers.disclosure.SECONDARY_MASK`), because it may itself be large.
- Where a row's estimates are masked, :func:`masked_bounds` gives what can be said safely:
  the range of the difference, the widest CI and the least favourable p over every count
  the marks allow (:mod:`helpers.stats.outcome_bounds`). The bound is computed from the
  published cells only (:func:`admissible_cells`), so it is the same whatever the masked
  count is.

The functions take the unmasked frames of :func:`helpers.stats.outcome_comparison.outcome_table`
and :func:`helpers.stats.questionnaires.questionnaire_results` and return masked frames
(NaN where masked) and :class:`~helpers.disclosure.Check` objects; the wording of the
tables is in :mod:`helpers.report.outcomes` and :mod:`helpers.report.questionnaires`.

Examples
--------
>>> group_cell(3, 50, 5), group_cell(48, 50, 5), group_cell(2, 4, 5), group_cell(12, 50, 5)
('small_share', 'small_share', 'small_total', 'shown')
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from helpers.core.i18n import tr
from helpers.disclosure import MASK, SECONDARY_MASK, Check, is_small, unsafe_proportion
from helpers.stats.outcome_bounds import pair_clustered_bounds, paired_bounds, unpaired_bounds
from helpers.stats.outcome_comparison import HEADLINE
from helpers.stats.proportions import adjust_pvalues

#: Estimates and p-values of the outcome table that are masked with the row's counts. The odds
#: ratio and the weighted shares belong here too: with the other cells of the row they give the
#: masked count back (an odds ratio of 6.9 with 18/48 and N = 50 means 4 of 50).
ESTIMATE_COLUMNS = (
    "rd", "rd_lower", "rd_upper", "rr", "rr_lower", "rr_upper", "odds_ratio", "p_fisher", "paired_rd",
    "paired_lower", "paired_upper", "p_mcnemar", "w_share_int", "w_share_ctl", "w_rd", "w_lower", "w_upper",
    "p_weighted", "p_value", "p_adjusted", "headline_rd", "headline_lower", "headline_upper",
)
#: Counts of the matched analysis (complete pairs, clusters): masked when small.
DESIGN_COUNTS = ("n_pairs", "n_sets")
#: Count columns of the questionnaire results, per group (suffix ``_int`` / ``_ctl``).
QUESTIONNAIRE_COUNTS = ("n_cohort", "missing_baseline", "missing_followup", "n_complete")
#: Group columns computed from the complete cases (masked when there are fewer than min_cell).
QUESTIONNAIRE_GROUP_ESTIMATES = ("mean_baseline", "mean_followup", "mean_change", "sd_change", "change_lower",
                                 "change_upper", "p_change")
#: Between-group columns (masked when either group has fewer than min_cell complete cases).
QUESTIONNAIRE_ESTIMATES = ("diff_change", "ancova_diff", "ancova_lower", "ancova_upper", "ancova_p")

Cell = Literal["small_total", "small_share", "empty", "shown"]
#: How one group's n / N is published: ``small_total`` (N is 1 .. min_cell - 1: ``x / <5``),
#: ``small_count`` (n is: ``<5 / N``), ``small_complement`` (N - n is: ``x / N``), ``empty``
#: (``0 / 0``), ``shown``.
Mark = Literal["small_total", "small_count", "small_complement", "empty", "shown"]
#: Columns :func:`masked_bounds` adds to the masked outcome table (NaN in rows whose estimates
#: are shown): the range of the Newcombe difference (``bound_rd_low/high``), the lowest lower and
#: highest upper 95% limit (``bound_rd_lower/upper``), the largest Fisher p; the same for the
#: paired analysis of 1:1 pairs; the largest p of the main test (``bound_p_value``, when the main
#: test can be recomputed from counts) and the largest adjusted p (``bound_p_adjusted``).
BOUND_COLUMNS = (
    "bound_rd_low", "bound_rd_high", "bound_rd_lower", "bound_rd_upper", "bound_p_fisher",
    "bound_paired_low", "bound_paired_high", "bound_paired_lower", "bound_paired_upper", "bound_p_mcnemar",
    "bound_w_low", "bound_w_high", "bound_w_lower", "bound_w_upper", "bound_p_weighted",
    "bound_p_value", "bound_p_adjusted",
)


def group_cell(n, total, min_cell: int) -> Cell:
    """How one group's ``n / N`` may be shown.

    Returns
    -------
    {"small_total", "small_share", "empty", "shown"}
        ``"small_total"``: N is 1 .. min_cell - 1 (n and N masked); ``"small_share"``: n or
        N - n is (n masked); ``"empty"``: N is 0; ``"shown"``: n / N can be shown.
    """
    if bool(is_small(total, min_cell)):
        return "small_total"
    if bool(unsafe_proportion(n, total, min_cell)):
        return "small_share"
    if total == 0:
        return "empty"
    return "shown"


def share_mark(n, total, min_cell: int) -> Mark:
    """Which mark one group's ``n / N`` gets (:data:`Mark`).

    ``<min_cell`` is shown only on a count that is 1 .. min_cell - 1 (primary suppression);
    a count hidden because N - n or N is small is secondary suppression and gets
    :data:`helpers.disclosure.SECONDARY_MASK`.

    Examples
    --------
    >>> share_mark(3, 50, 5), share_mark(48, 50, 5), share_mark(2, 4, 5), share_mark(12, 50, 5)
    ('small_count', 'small_complement', 'small_total', 'shown')
    """
    cell = group_cell(n, total, min_cell)
    if cell == "small_share":
        return "small_count" if bool(is_small(n, min_cell)) else "small_complement"
    return cell


def share_text(n, total, pct, min_cell: int) -> str:
    """One group's ``n / N (%)`` as printed, with the mark of :func:`share_mark` where masked."""
    mark = share_mark(n, total, min_cell)
    small = mask_label(min_cell)
    if mark == "small_total":
        return f"{SECONDARY_MASK} / {small}"
    if mark == "small_count":
        return f"{small} / {int(total)}"
    if mark == "small_complement":
        return f"{SECONDARY_MASK} / {int(total)}"
    if mark == "empty":
        return "0 / 0"
    return f"{int(n)} / {int(total)} ({pct:.0f}%)"


def admissible_cells(mark: Mark, n_shown, total_shown, min_cell: int) -> list[tuple[int, int]]:
    """Every (n, N) a reader of the table cannot tell apart from the published cell.

    Takes only what is published (the mark, and n and N where shown), never the masked count:
    ``<5 / 50`` admits n = 1 .. 4; ``x / 50`` admits the n >= min_cell with 50 - n = 1 .. 4;
    ``x / <5`` admits N = 1 .. 4 with any n = 0 .. N.
    """
    m = int(min_cell)
    if mark == "small_total":
        return [(n, big_n) for big_n in range(1, m) for n in range(big_n + 1)]
    if mark == "small_count":
        return [(n, int(total_shown)) for n in range(1, min(m, int(total_shown) + 1))]
    if mark == "small_complement":
        N = int(total_shown)
        return [(n, N) for n in range(max(m, N - m + 1), N)]
    return [(int(n_shown), int(total_shown))]


def admissible_pairs(n_pairs_shown, min_cell: int) -> list[int]:
    """The numbers of complete pairs a published pair count admits (1 .. min_cell - 1 when masked)."""
    if n_pairs_shown is None or not np.isfinite(n_pairs_shown):
        return list(range(1, int(min_cell)))
    return [int(n_pairs_shown)]


def _published(r, tag: str, min_cell: int) -> tuple[Mark, float, float]:
    """The mark and the shown n and N of one group in an unmasked row (NaN where masked)."""
    n, N = r[f"n_{tag}"], r[f"N_{tag}"]
    mark = share_mark(n, N, min_cell)
    return (mark, float(n) if mark in ("shown", "empty") else np.nan,
            np.nan if mark == "small_total" else float(N))


#: The main test of the outcome table (``test``) and the bound that applies to it.
_MAIN_TEST_BOUND = {"Fisher exact": "bound_p_fisher", HEADLINE["clustered"]["pairs"]["test"]: "bound_p_weighted"}


def masked_bounds(results: pd.DataFrame, min_cell: int, *, alpha: float = 0.05,
                  multiplicity: str | None = None) -> pd.DataFrame:
    """What can be said about each row whose counts are masked: ranges over every admissible count.

    For each row with a masked share (:func:`row_masked`), the admissible counts of each group
    (:func:`admissible_cells`; and of the complete pairs, :func:`admissible_pairs`) are built
    from the published cells alone, and the Newcombe difference and Fisher test (and, for 1:1
    pairs, the paired difference and McNemar test) are recomputed for every combination
    (:mod:`helpers.stats.outcome_bounds`). In the weighted design the weighted test cannot
    be recomputed from counts: ``bound_p_value`` is NaN there and only the unweighted bounds
    are given.

    Parameters
    ----------
    results : DataFrame
        Unmasked :func:`helpers.stats.outcome_comparison.outcome_table` output.
    min_cell : int
    alpha : float
        1 - confidence level (as used for the table).
    multiplicity : {"holm", "bonferroni", "none"}, optional
        The secondary family's adjustment; with it, ``bound_p_adjusted`` is the adjusted p of
        each masked secondary row with every masked row's p at its largest admissible value
        (an unknown one at 1); adjusted p-values only grow with any p, so this is an upper
        bound.

    Returns
    -------
    DataFrame
        :data:`BOUND_COLUMNS`, indexed like ``results``; NaN in rows whose estimates are shown.
    """
    out = pd.DataFrame(np.nan, index=results.index, columns=list(BOUND_COLUMNS))
    for i, r in results.iterrows():
        if not row_masked(r, min_cell):
            continue
        cells = {}
        for tag in ("int", "ctl"):
            mark, n_shown, total_shown = _published(r, tag, min_cell)
            cells[tag] = admissible_cells(mark, n_shown, total_shown, min_cell)
        b = unpaired_bounds(cells["int"], cells["ctl"], alpha)
        out.loc[i, ["bound_rd_low", "bound_rd_high", "bound_rd_lower", "bound_rd_upper", "bound_p_fisher"]] = (
            b.low, b.high, b.lower, b.upper, b.p_max)
        if r.get("design") == "pairs":
            shown_pairs = r["n_pairs"] if not bool(is_small(r["n_pairs"], min_cell)) else np.nan
            pb = paired_bounds(cells["int"], cells["ctl"], admissible_pairs(shown_pairs, min_cell), alpha)
            out.loc[i, ["bound_paired_low", "bound_paired_high", "bound_paired_lower", "bound_paired_upper",
                        "bound_p_mcnemar"]] = (pb.low, pb.high, pb.lower, pb.upper, pb.p_max)
            if str(r.get("test", "")) == HEADLINE["clustered"]["pairs"]["test"]:  # the pair-clustered headline
                cb = pair_clustered_bounds(cells["int"], cells["ctl"], admissible_pairs(shown_pairs, min_cell), alpha)
                out.loc[i, ["bound_w_low", "bound_w_high", "bound_w_lower", "bound_w_upper", "bound_p_weighted"]] = (
                    cb.low, cb.high, cb.lower, cb.upper, cb.p_max)
        main = _MAIN_TEST_BOUND.get(str(r.get("test", "")))
        if main is None and str(r.get("test", "")).startswith("McNemar"):
            main = "bound_p_mcnemar"
        if main is not None:
            out.loc[i, "bound_p_value"] = out.loc[i, main]
    if multiplicity is not None and "role" in results:
        out["bound_p_adjusted"] = _adjusted_bounds(results, out["bound_p_value"], min_cell, multiplicity)
    return out


def worst_case_adjusted(results: pd.DataFrame, bound_p: pd.Series, min_cell: int, multiplicity: str) -> pd.Series:
    """Adjusted p of every secondary row with each masked row's p at its largest admissible value (unknown: 1).

    Adjusted p-values only grow when any p in the family grows (Holm, Bonferroni), so: for a
    masked row this is an upper bound of its adjusted p; for a shown row it is a valid,
    slightly conservative adjusted p that, unlike the one computed from the true p-values,
    does not depend on the masked counts (their p-values move the ranks and factors of Holm's
    steps). Rows outside the secondary family are NaN.
    """
    sec = (results["role"] == "secondary") & np.isfinite(results["p_value"].astype(float))
    masked = results.apply(lambda r: row_masked(r, min_cell), axis=1).astype(bool) if len(results) else sec
    worst = results["p_value"].astype(float).where(~masked, bound_p.fillna(1.0))
    adjusted = pd.Series(np.nan, index=results.index)
    if sec.any():
        adjusted[sec] = adjust_pvalues(worst[sec].to_numpy(), multiplicity)
    return adjusted


def _adjusted_bounds(results: pd.DataFrame, bound_p: pd.Series, min_cell: int, multiplicity: str) -> pd.Series:
    """:func:`worst_case_adjusted` in the masked secondary rows that have a bound, NaN elsewhere."""
    masked = results.apply(lambda r: row_masked(r, min_cell), axis=1).astype(bool) if len(results) else bound_p.notna()
    return worst_case_adjusted(results, bound_p, min_cell, multiplicity).where(masked & bound_p.notna())


def row_masked(row, min_cell: int) -> bool:
    """True when either group's share in an outcome-table row is masked."""
    return any(group_cell(row[f"n_{t}"], row[f"N_{t}"], min_cell) in ("small_total", "small_share")
               for t in ("int", "ctl"))


def masked_results(results: pd.DataFrame, min_cell: int, *, keep_estimates: bool = False,
                   multiplicity: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """The numeric results with unsafe counts set to NaN (for ``outcome_results.parquet``).

    ``n``, ``pct`` (and ``N`` when small) of a group are blanked when n or N - n is
    1 .. ``min_cell`` - 1; ``masked_int`` / ``masked_ctl`` flag the rows. The persons left
    out (``excluded``) are blanked when small, and also when N is masked (the group size,
    published with the cohort, minus ``excluded`` is N). The pair and cluster counts
    (:data:`DESIGN_COUNTS`) are blanked when small. Unless ``keep_estimates``, the estimates,
    p-values and weighted shares of a masked row are blanked as well, as in
    :func:`helpers.report.outcomes.format_outcome_table` (so the forest plot and the
    summary never show them). The columns of :func:`masked_bounds` (``bound_*``) are appended:
    what can be said about the masked rows. With ``multiplicity`` (the secondary family's
    adjustment) the shown rows' adjusted p-values are recomputed with every masked row's p at
    its largest admissible value (:func:`worst_case_adjusted`), so that they do not depend on
    the masked counts either.
    """
    out = results.copy()
    for tag in ("int", "ctl"):
        unsafe = unsafe_proportion(out[f"n_{tag}"], out[f"N_{tag}"], min_cell)
        small_N = is_small(out[f"N_{tag}"], min_cell)
        out[f"masked_{tag}"] = unsafe | small_N
        out[f"n_{tag}"] = out[f"n_{tag}"].astype(float).where(~out[f"masked_{tag}"])
        out[f"pct_{tag}"] = out[f"pct_{tag}"].where(~out[f"masked_{tag}"])
        out[f"N_{tag}"] = out[f"N_{tag}"].astype(float).where(~small_N)
        out[f"excluded_{tag}"] = out[f"excluded_{tag}"].astype(float).where(
            ~is_small(out[f"excluded_{tag}"], min_cell) & ~small_N)
    for col in DESIGN_COUNTS:
        if col in out and is_small(out[col], min_cell).any():
            out[col] = out[col].astype(float).where(~is_small(out[col], min_cell))
    if not keep_estimates:
        hide = out["masked_int"] | out["masked_ctl"]
        for col in ESTIMATE_COLUMNS:
            if col in out:
                out[col] = out[col].astype(float).where(~hide)
    bounds = masked_bounds(results, min_cell, alpha=alpha, multiplicity=multiplicity)
    if multiplicity is not None and not keep_estimates and len(out):
        shown = ~(out["masked_int"] | out["masked_ctl"]) & (out["role"] == "secondary")
        worst = worst_case_adjusted(results, bounds["bound_p_value"], min_cell, multiplicity)
        out.loc[shown, "p_adjusted"] = worst[shown]
    return pd.concat([out, bounds], axis=1)


def mask_label(min_cell: int) -> str:
    """What a masked count shows (``<5``)."""
    return MASK.format(min_cell=min_cell)


def safe_count(x, min_cell: int, label: str | None = None) -> str:
    """A count as shown: ``–`` when missing, the mask when 1 .. min_cell - 1, else the whole number."""
    if x is None or not np.isfinite(x):
        return "–"
    return (label or mask_label(min_cell)) if bool(is_small(x, min_cell)) else str(int(x))


def _check_texts(key: str, **fields) -> dict[str, str]:
    return {"detail": tr(key, "en", **fields), "detail_da": tr(key, "da", **fields)}


def outcome_table_check(results: pd.DataFrame, min_cell: int, *, keep_estimates: bool = False,
                        item: str = "outcome_table") -> Check:
    """Disclosure check of the outcome table built from ``results`` (unmasked).

    Counts masked cells (2 when N is small, 1 when only n is), the rows with a masked cell,
    and the smallest count shown (n and N of 0 or at least ``min_cell``).
    """
    n_masked = rows = 0
    for _, r in results.iterrows():
        cells = [group_cell(r[f"n_{t}"], r[f"N_{t}"], min_cell) for t in ("int", "ctl")]
        n_masked += sum({"small_total": 2, "small_share": 1}.get(c, 0) for c in cells)
        rows += int(any(c in ("small_total", "small_share") for c in cells))
    if n_masked:
        text = _check_texts("outcomes.check.masked", n=n_masked, min_cell=min_cell, rows=rows)
    else:
        text = _check_texts("outcomes.check.none_masked", min_cell=min_cell)
    if rows and keep_estimates:
        kept = _check_texts("outcomes.check.estimates_kept")
        text = {k: v + kept[k] for k, v in text.items()}
    shown = [r[f"{k}_{t}"] for _, r in results.iterrows() for t in ("int", "ctl") for k in ("n", "N")]
    shown = [x for x in shown if x > 0 and not is_small(x, min_cell)]
    return Check(item=item, status="PASS", masked=n_masked, min_shown=float(min(shown)) if shown else None, **text)


def comparison_check(rows: pd.DataFrame, *, keep_estimates: bool = False, item: str = "outcome_comparison") -> Check:
    """Disclosure check of the comparison table built from the masked ``rows`` (with their bounds).

    Counts the rows whose estimates are masked (shown as bounds over every count the mask
    allows, which are computed from the published cells only: :func:`masked_bounds`), or
    says they were kept (``keep_estimates``).
    """
    masked = int((rows["masked_int"].astype(bool) | rows["masked_ctl"].astype(bool)).sum()) if len(rows) else 0
    if not masked:
        return Check(item=item, status="PASS", **_check_texts("outcomes.check.no_masked_rows"))
    key = "outcomes.check.estimates_kept_rows" if keep_estimates else "outcomes.check.bounds"
    return Check(item=item, status="PASS", masked=0 if keep_estimates else masked, **_check_texts(key, rows=masked))


def differences_only_check(item: str = "outcome_forest") -> Check:
    """Disclosure check of a figure that shows only differences, their CIs and bounds (no counts)."""
    return Check(item=item, status="PASS", **_check_texts("outcomes.check.differences_only"))


# --------------------------------------------------------------------------- questionnaires


def masked_questionnaire(results: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Questionnaire results with small counts and the estimates computed from them set to NaN.

    Counts (:data:`QUESTIONNAIRE_COUNTS`) of 1 .. ``min_cell`` - 1 are blanked; a group's
    means and change when it has 1 .. ``min_cell`` - 1 complete cases; the between-group
    difference when the smaller group has; the number of matched sets when small.
    """
    out = results.copy()
    n_int, n_ctl = results["n_complete_int"], results["n_complete_ctl"]
    for tag, n in (("int", n_int), ("ctl", n_ctl)):
        for col in QUESTIONNAIRE_COUNTS:
            out[f"{col}_{tag}"] = out[f"{col}_{tag}"].astype(float).where(~is_small(out[f"{col}_{tag}"], min_cell))
        for col in QUESTIONNAIRE_GROUP_ESTIMATES:
            out[f"{col}_{tag}"] = out[f"{col}_{tag}"].astype(float).where(~is_small(n, min_cell))
    if "n_sets" in out:
        out["n_sets"] = out["n_sets"].astype(float).where(~is_small(out["n_sets"], min_cell))
    fewest = np.minimum(n_int.to_numpy(dtype=float), n_ctl.to_numpy(dtype=float))
    for col in QUESTIONNAIRE_ESTIMATES:
        out[col] = out[col].astype(float).where(~is_small(fewest, min_cell))
    return out


def questionnaire_check(results: pd.DataFrame, min_cell: int, *, item: str = "questionnaire_table",
                        counts: tuple[str, ...] = QUESTIONNAIRE_COUNTS) -> Check:
    """Disclosure check of a questionnaire table: how many of its ``counts`` of 1 .. min_cell - 1 are masked."""
    cols = [f"{c}_{t}" for t in ("int", "ctl") for c in counts]
    masked = int(is_small(results[cols].to_numpy(), min_cell).sum()) if len(results) else 0
    key = "questionnaires.check.masked" if masked else "questionnaires.check.none_masked"
    return Check(item=item, status="PASS", masked=masked, **_check_texts(key, n=masked, min_cell=min_cell))
