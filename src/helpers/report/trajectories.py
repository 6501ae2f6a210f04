"""Stage 04 (trajectories) in the report: state distributions, the self-support difference, weeks in each state.

Every function takes the stage's :class:`~helpers.stages.trajectories.TrajectoriesResult`
and the study and returns a report item in the requested language (default: the study's).
Words come from the catalogue (``trajectories.*`` in ``helpers/data/i18n/trajectories.yaml``).
The figures need a fresh result (``stages.trajectories.run``); the tables and sentences
need only the saved result. :func:`investment_citation` is the sentence the investment
section cites.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.core.i18n import group_label, number, tr
from helpers.disclosure import trajectories as disclosure
from helpers.report.items import Figure, Table, Text
from helpers.report.plots import trajectories as plots
from helpers.report.reporter import REF_FORMAT
from helpers.stages.trajectories import GROUPS, TrajectoriesResult, WindowRow

#: Table and figure keys (file names under reports/<study>/tables and figures).
STATES_FIGURE = "trajectories_states"
DIFFERENCE_FIGURE = "trajectories_self_support"
WEEKS_TABLE = "trajectories_weeks"
BALANCE_TABLE = "trajectories_balance"


def _lang(study, language: str | None) -> str:
    return language or study.study.language


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _weeks(x, lang: str) -> str:
    return "–" if _missing(x) else number(x, 1, lang)


def _ci(low, high, lang: str) -> str:
    if _missing(low) or _missing(high):
        return "–"
    return tr("interval", lang, low=number(low, 1, lang), high=number(high, 1, lang))


def window_label(years: int, period: str, language: str) -> str:
    """"First 2 years" / "2 years before" (Danish "Første 2 år" / "2 år før")."""
    return tr(f"trajectories.window.{period}.{'one' if years == 1 else 'many'}", language, years=years)


def measure_label(measure: str, language: str) -> str:
    """Display name of a measure: self-support or an analysis state."""
    return tr(f"trajectories.measure.{measure}", language)


def _require_fresh(result: TrajectoriesResult, what: str) -> pd.DataFrame:
    if result.distribution is None:
        raise ValueError(f"TrajectoriesResult.distribution is empty: {what} needs the result of stages.trajectories.run, "
                         "not a result read back from trajectories_results.json")
    return result.distribution


# ------------------------------------------------------------------ text
def states_text(result: TrajectoriesResult, study, language: str | None = None) -> Text:
    """What the states are, how the distribution is computed and how it was protected."""
    lang = _lang(study, language)
    employed = "employment" if result.require_employment else "default"
    return Text(" ".join([
        tr("trajectories.text.states", lang),
        tr(f"trajectories.text.self_support.{employed}", lang),
        tr("trajectories.text.distribution", lang, before=result.weeks_before, last=result.last_week,
           grid=result.grid_weeks),
        tr("trajectories.text.disclosure", lang, min_cell=result.min_cell),
    ]))


def _difference_phrase(row: WindowRow, lang: str, n_int: int | None = None) -> str:
    window = window_label(row.years, row.period, lang).lower()
    if row.n_int == 0 or row.n_ctl == 0:
        return tr("trajectories.text.not_observed", lang, window=window)
    if row.difference is None:
        return tr("trajectories.text.masked", lang, window=window)
    text = tr("trajectories.text.difference", lang, window=window, difference=number(row.difference, 1, lang),
              ci=_ci(row.ci_low, row.ci_high, lang), mean_int=_weeks(row.mean_int, lang),
              mean_ctl=_weeks(row.mean_ctl, lang))
    if n_int is not None and isinstance(row.n_int, int) and row.n_int < n_int:
        text += tr("trajectories.text.fewer_observed", lang, n=row.n_int, total=n_int)
    return text


def weeks_text(result: TrajectoriesResult, study, language: str | None = None) -> Text:
    """The difference in weeks self-supported (and employed) after the index week, window by window."""
    lang = _lang(study, language)
    parts = []
    for measure in ("self_support", "employed"):
        rows = [result.row(measure, y, "after") for y in result.windows]
        parts.append(tr("trajectories.text.weeks", lang, measure=measure_label(measure, lang).lower(),
                        parts="; ".join(_difference_phrase(r, lang, result.n_int) for r in rows)))
    parts.append(tr("trajectories.text.method", lang, n_sets=result.n_sets, draws=result.bootstrap_draws,
                    seed=result.bootstrap_seed))
    if result.with_replacement:
        parts.append(tr("trajectories.text.with_replacement", lang))
    return Text(" ".join(parts))


def balance_text(result: TrajectoriesResult, study, language: str | None = None) -> Text:
    """Weeks self-supported *before* the index week by group: a balance check of the matching."""
    lang = _lang(study, language)
    rows = [result.row("self_support", y, "before") for y in result.windows]
    shown = [r for r in rows if r.difference is not None]
    covers = [r for r in shown if r.ci_low is not None and r.ci_low <= 0 <= r.ci_high]
    verdict = ("none" if not shown else "balanced" if len(covers) == len(shown) else "imbalanced")
    return Text(" ".join([
        tr("trajectories.text.balance", lang, parts="; ".join(_difference_phrase(r, lang) for r in rows)),
        tr(f"trajectories.text.balance_verdict.{verdict}", lang),
    ]))


def investment_citation(result: TrajectoriesResult | None, study, language: str | None = None) -> Text:
    """The weeks-in-self-support difference the investment rests on, as a sentence for the investment section.

    Uses the window of the investment's observed horizon (``investment.horizon_years``; the
    stage always computes it) and points to the weeks table of the trajectories section.
    ``result`` is None when the stage did not run: the sentence then says that the study
    switched it off (``trajectories.enabled: false``).

    Raises
    ------
    ValueError
        When ``result`` is None although the study has the stage switched on (run it first).
    """
    lang = _lang(study, language)
    years = study.investment.horizon_years
    if result is None:
        if study.trajectories.enabled:
            raise ValueError("investment_citation: no trajectories result although trajectories.enabled is true; run "
                             "stages.trajectories.run (notebook 04) before the investment notebook")
        return Text(tr("trajectories.citation.off", lang))
    try:
        row = result.row("self_support", years, "after")
    except KeyError:
        return Text(tr("trajectories.citation.off", lang))
    window = tr(f"trajectories.citation.window.{'one' if years == 1 else 'many'}", lang, years=years)
    ref = REF_FORMAT.format(key=WEEKS_TABLE)
    if row.n_int == 0 or row.n_ctl == 0:
        return Text(tr("trajectories.citation.not_observed", lang, window=window, ref=ref))
    if row.difference is None:
        return Text(tr("trajectories.citation.masked", lang, window=window, ref=ref, min_cell=result.min_cell))
    covers_zero = row.ci_low is not None and row.ci_high is not None and row.ci_low <= 0 <= row.ci_high
    direction = "unclear" if covers_zero else ("more" if row.difference >= 0 else "fewer")  # claims follow the CI
    return Text(tr(f"trajectories.citation.{direction}", lang, window=window, ref=ref,
                   difference=number(row.difference if covers_zero else abs(row.difference), 1, lang),
                   ci=_ci(row.ci_low, row.ci_high, lang),
                   mean_int=_weeks(row.mean_int, lang), mean_ctl=_weeks(row.mean_ctl, lang)))


# ------------------------------------------------------------------ tables
def _count(x, lang: str) -> str:
    return x if isinstance(x, str) else number(x, 0, lang)


def _rows_frame(result: TrajectoriesResult, period: str, lang: str) -> pd.DataFrame:
    mask = tr("mark.fewer_than", lang, min_cell=result.min_cell)
    col = {k: tr(f"trajectories.column.{k}", lang) for k in ("measure", "window", "n", "difference", "ci")}
    out = []
    measures = list(dict.fromkeys(r.measure for r in result.rows))
    for measure in measures:
        for years in result.windows:
            r = result.row(measure, years, period)
            cells = {col["measure"]: measure_label(measure, lang), col["window"]: window_label(years, period, lang),
                     col["n"]: f"{_count(r.n_int, lang)} / {_count(r.n_ctl, lang)}"}
            for g, mean, masked in (("intervention", r.mean_int, r.masked_int), ("control", r.mean_ctl, r.masked_ctl)):
                cells[group_label(g, lang)] = mask if masked else _weeks(mean, lang)
            either = r.masked_int or r.masked_ctl
            cells[col["difference"]] = mask if either else _weeks(r.difference, lang)
            cells[col["ci"]] = mask if either else _ci(r.ci_low, r.ci_high, lang)
            out.append(cells)
    return pd.DataFrame(out)


def _table_note(result: TrajectoriesResult, lang: str) -> str:
    parts = [tr("trajectories.note.weeks", lang),
             tr("trajectories.note.method", lang, n_sets=result.n_sets, draws=result.bootstrap_draws,
                seed=result.bootstrap_seed),
             tr("trajectories.note.masked", lang, min_cell=result.min_cell)]
    if result.with_replacement:
        parts.append(tr("trajectories.text.with_replacement", lang))
    return " ".join(parts)


def _windows_check(result: TrajectoriesResult, item: str, period: str):
    frame = result.windows_unmasked
    if frame is not None:
        shown = disclosure.mask_windows(frame[frame["period"] == period], result.min_cell)
        return disclosure.check_windows(shown, result.min_cell, item=item)
    # a result read back from JSON holds only what passed: its masks are already applied
    rows = [r for r in result.rows if r.period == period]
    return disclosure.saved_check(item, sum(r.masked_int + r.masked_ctl for r in rows))


def weeks_table(result: TrajectoriesResult, study, language: str | None = None) -> Table:
    """Mean weeks per person in self-support, employment and each state after the index week, and the difference."""
    lang = _lang(study, language)
    return Table(WEEKS_TABLE, _rows_frame(result, "after", lang), _windows_check(result, WEEKS_TABLE, "after"),
                 note=_table_note(result, lang))


def balance_table(result: TrajectoriesResult, study, language: str | None = None) -> Table:
    """The same weeks *before* the index week (a balance check of the matching)."""
    lang = _lang(study, language)
    return Table(BALANCE_TABLE, _rows_frame(result, "before", lang), _windows_check(result, BALANCE_TABLE, "before"),
                 note=_table_note(result, lang))


# ------------------------------------------------------------------ figures
def states_figure(result: TrajectoriesResult, study, language: str | None = None) -> Figure:
    """Stacked state distribution per group (needs a fresh result)."""
    lang = _lang(study, language)
    shown = _require_fresh(result, "the state distribution figure")
    titles = [tr("trajectories.figure.panel", lang, group=group_label(g, lang), n=n)
              for g, n in zip(GROUPS, (result.n_int, result.n_ctl), strict=True)]
    axes = plots.state_distribution_panels(shown, GROUPS, language=lang, min_cell=result.min_cell,
                                           grid_weeks=result.grid_weeks, titles=titles)
    check = disclosure.check_distribution(shown, result.min_cell, item=STATES_FIGURE)
    return Figure(STATES_FIGURE, axes[0].figure, check, note=tr("trajectories.note.states", lang,
                                                                 min_cell=result.min_cell, grid=result.grid_weeks),
                  caption_fields={"before": result.weeks_before, "last": result.last_week})


def self_support_figure(result: TrajectoriesResult, study, language: str | None = None) -> Figure:
    """The difference in the share self-supported per grid week with its pointwise 95 % band."""
    lang = _lang(study, language)
    frame = result.self_support_frame()
    ax = plots.difference_plot(frame, language=lang)
    unmasked = result.difference_unmasked
    if unmasked is not None:
        check = disclosure.check_difference(disclosure.mask_difference(unmasked, result.min_cell), result.min_cell,
                                            item=DIFFERENCE_FIGURE)
    else:
        check = disclosure.saved_check(DIFFERENCE_FIGURE, result.weeks_hidden)
    hidden = int(np.sum([not r.shown for r in result.self_support]))
    return Figure(DIFFERENCE_FIGURE, ax.figure, check,
                  note=tr("trajectories.note.difference", lang, hidden=hidden, weeks=len(result.self_support),
                          below=result.min_cell - 1, n_sets=result.n_sets, draws=result.bootstrap_draws),
                  caption_fields={"grid": result.grid_weeks})
