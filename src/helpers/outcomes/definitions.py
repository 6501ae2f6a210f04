"""Binary outcomes at follow-up points (horizons), from DREAM weeks and project-form events.

Each outcome is defined in the study YAML (``outcomes.definitions``, see
:mod:`helpers.config.schema.outcomes`) and evaluated at every horizon (``outcomes.horizons``),
counted in weeks from each person's index week (week 0). :func:`evaluate_outcomes`
returns one row per cohort row x outcome x horizon;
:func:`helpers.report.outcome_rules.outcome_rules_text` states the rules in words for the
report's outcome and methods sections.

Rules
-----
Matching weeks
    A week matches a definition when its DREAM code is in one of ``categories`` (via
    :class:`helpers.core.codes.CodeBook` with ``data.category_overrides``), ``subcategories``,
    ``activities`` or ``codes``. Two categories are special: ``"self_support"`` is a
    self-supported week by the study's rule (``data.self_support``: empty week or an
    ``extra_codes`` code, or a code overridden to ``self_support``; with
    ``require_employment`` also employment in the month), and ``"employed"`` is a
    self-supported week *and* employment (``grad`` > 0) in the calendar month of the
    week's ISO Thursday. From a person's first death (999) or state-pension (998) week on,
    only weeks whose own code is matched count (no self-support, employment or benefit
    weeks after death; see :func:`helpers.outcomes.status.absorbed`).
``status_at``
    The horizon week (index week + ``weeks``) matches. With ``lasting_weeks: N``, the
    horizon week and the N-1 weeks before it all match (weeks before the index week count
    when the horizon is shorter than N).
``ever_in_window``
    A week from the index week to the horizon week (both included) matches. With
    ``lasting_weeks: N``, a run of at least N consecutive matching weeks *starts* in that
    window; the run may continue past the horizon but must lie wholly inside the data. If
    no complete run has started by the horizon but a run that started on or before the
    horizon is still under way when the data end, the value is unknown (NaN,
    ``exit_status="no_data"``).
Events
    A project-form event listed in ``events`` (``"afklaring"`` or ``"afklaring:job"`` for
    one ``detail``) counts when its date falls from the Monday of the index week to the
    Sunday of the horizon week. Events count in the same way for every kind.
``any_of``
    A three-valued OR: 1 if any component is 1; else NaN if any component is NaN; else 0.
    The components are the outcomes in ``of`` (each evaluated with its own rules, the
    exit rule included) and, if the definition has its own criteria, one more
    ``ever_in_window`` component built from them (with its ``lasting_weeks``). Because
    the exit rule acts on every component alike, an exited person's components are all
    NaN or 1, so for exits this equals "NaN only if all components are NaN"; the two
    differ only when one component is unknown for lack of data (e.g. a lasting run
    under way at the data end, or months missing from the monthly data) while the others
    are 0 -- then the combination is unknown, not 0.
Exits at a horizon (``exit_status``)
    ``"dead"`` if a 999 week lies in weeks 0..h, else ``"state_pension"`` if a 998 week
    does, else ``"emigrated"`` if the horizon week itself is 997 (an emigration lasting
    until the horizon; a person who has returned is not an exit), else ``"none"``
    (:func:`helpers.outcomes.status.exit_status_at`). For an exited person whose value is not
    already 1, ``exit_rule: exclude`` sets the value to NaN (out of the denominator) and
    ``exit_rule: failure`` sets it to 0. A value of 1 reached before the exit (e.g. a work
    placement before death) is kept under both rules.
Horizon beyond the data
    When the horizon week lies after the last week of the person's data (for outcomes
    that use employment: after the last week whose month is in the monthly data), the
    value is NaN with ``exit_status="no_data"``, whatever happened before. This takes
    precedence over the exit rule, so each horizon's denominator holds only persons
    whose horizon is observed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.config.schema.outcomes import EMPLOYED, OutcomeDefinition
from helpers.core import calendar
from helpers.core.codes import CodeBook
from helpers.outcomes.status import (
    ABSORBING_CODES,
    absorbed,
    aligned_codes,
    aligned_employment,
    code_mask,
    exit_status_at,
    first_true,
    last_true,
    observed,
    run_starts,
    self_supported,
)

#: Columns the cohort frame must have (docs/architecture.md, ``cohort.parquet``).
COHORT_COLUMNS = ("person_id", "group", "index_week", "matched_set", "weight")
#: Columns of :func:`evaluate_outcomes` (``outcomes_person.parquet``).
OUTCOME_COLUMNS = (
    "person_id", "group", "matched_set", "weight", "outcome", "horizon", "horizon_weeks",
    "value", "exit_status", "reported",
)
#: Values of ``exit_status``.
EXIT_STATUSES = ("none", "emigrated", "state_pension", "dead", "no_data")
EVENT_COLUMNS = ("person_id", "event", "date")


def evaluate_outcomes(
    cohort: pd.DataFrame,
    weekly,
    monthly,
    events: pd.DataFrame | None,
    study,
) -> pd.DataFrame:
    """Evaluate every outcome definition at every horizon for every cohort row.

    Parameters
    ----------
    cohort : DataFrame
        ``person_id, group, index_week, matched_set, weight`` (``cohort.parquet``); one row
        per person in a matched set (a control reused across sets appears once per set).
    weekly : helpers.core.store.WeeklyStatus
        Must start no later than the earliest index week.
    monthly : helpers.core.store.MonthlyEmployment or None
        Needed only when an outcome uses ``"employed"`` (or ``"self_support"`` under
        ``data.self_support.require_employment``).
    events : DataFrame or None
        The events form: ``person_id, event, date`` (and ``detail``). Needed only when an
        outcome lists ``events``.
    study : helpers.config.Study

    Returns
    -------
    DataFrame
        Long and tidy, ordered by outcome (definition order), horizon (YAML order), then
        cohort row: ``person_id, group, matched_set, weight, outcome, horizon`` (key),
        ``horizon_weeks``, ``value`` (1.0 / 0.0 / NaN), ``exit_status`` (one of
        :data:`EXIT_STATUSES`), ``reported`` (False for ``report: false`` building blocks).
        The rules are in the module docstring and in
        :func:`helpers.report.outcome_rules.outcome_rules_text`.

    Raises
    ------
    ValueError
        Missing cohort columns, index weeks before the weekly data, an outcome that
        needs monthly data or events that were not given, unreadable event dates.
    KeyError
        A cohort person missing from the weekly (or the needed monthly) store.
    """
    _check_columns(cohort, COHORT_COLUMNS, "cohort (cohort.parquet)", "run 02_cohort again")
    cfg = study.outcomes
    defs: dict[str, OutcomeDefinition] = dict(cfg.definitions)
    n = len(cohort)
    person_ids = cohort["person_id"].astype(str).to_numpy(dtype=object)
    index_weeks = _index_weeks(cohort, weekly)
    rows = weekly.rows_of(person_ids) if n else np.zeros(0, dtype=np.int64)
    horizons = [(h.key, int(h.weeks)) for h in cfg.horizons]
    max_h = max(w for _, w in horizons)
    ever_n = max([d.lasting_weeks or 1 for d in defs.values() if d.kind != "status_at"] or [1])
    back = max([(d.lasting_weeks or 1) - 1 for d in defs.values() if d.kind == "status_at"] or [0])

    ctx = _Context.build(
        weekly, monthly, rows, person_ids, index_weeks, start=-back, stop=max_h + ever_n,
        study=study, defs=defs, horizons=horizons,
    )
    ctx.event_first = _event_first_weeks(events, defs, person_ids, index_weeks)

    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in defs:
        ctx.evaluate(name, results)

    names = list(defs)
    n_h = len(horizons)
    blocks = len(names) * n_h
    value = np.concatenate([results[name][0][:, j] for name in names for j in range(n_h)]) if blocks else []
    status = np.concatenate([results[name][1][:, j] for name in names for j in range(n_h)]) if blocks else []
    out = pd.DataFrame(
        {
            "person_id": np.tile(person_ids, blocks),
            "group": np.tile(cohort["group"].to_numpy(), blocks),
            "matched_set": np.tile(cohort["matched_set"].to_numpy(), blocks),
            "weight": np.tile(cohort["weight"].to_numpy(dtype=float), blocks),
            "outcome": np.repeat(np.asarray(names, dtype=object), n * n_h),
            "horizon": np.tile(np.repeat(np.asarray([k for k, _ in horizons], dtype=object), n), len(names)),
            "horizon_weeks": np.tile(np.repeat(np.asarray([w for _, w in horizons], dtype=np.int64), n), len(names)),
            "value": np.asarray(value, dtype=float),
            "exit_status": np.asarray(status, dtype=object),
            "reported": np.repeat(np.asarray([defs[name].report for name in names], dtype=bool), n * n_h),
        }
    )
    return out[list(OUTCOME_COLUMNS)]


# --------------------------------------------------------------------------- internals


def _check_columns(frame: pd.DataFrame, required: Sequence[str], what: str, fix: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; found {list(frame.columns)}; {fix}")


def _index_weeks(cohort: pd.DataFrame, weekly) -> np.ndarray:
    raw = pd.to_numeric(cohort["index_week"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(raw) | (raw != np.round(raw)))
    if len(bad):
        raise ValueError(
            f"cohort (cohort.parquet): column 'index_week' must be a whole DREAM week number; "
            f"{len(bad)} row(s) are not, e.g. row(s) {bad[:5].tolist()}; run 02_cohort again"
        )
    weeks = raw.astype(np.int64)
    early = np.flatnonzero(weeks < weekly.first_week)
    if len(early):
        raise ValueError(
            f"cohort (cohort.parquet): column 'index_week': {len(early)} row(s) (e.g. {early[:5].tolist()}) "
            f"lie before the first week held in the weekly data (DREAM week {weekly.first_week}); "
            "load the weekly store from the earliest index week on"
        )
    return weeks


def event_spec(spec: str) -> tuple[str, str | None]:
    """``"afklaring:job"`` -> ``("afklaring", "job")``; ``"praktik_start"`` -> ``("praktik_start", None)``."""
    name, _, detail = spec.partition(":")
    return name.strip(), (detail.strip() or None)


def _event_first_weeks(
    events: pd.DataFrame | None,
    defs: dict[str, OutcomeDefinition],
    person_ids: np.ndarray,
    index_weeks: np.ndarray,
) -> dict[str, np.ndarray]:
    """First event week (weeks after the index week, >= 0; -1 none) per cohort row and event spec."""
    specs = sorted({s for d in defs.values() for s in d.events})
    if not specs:
        return {}
    users = sorted(name for name, d in defs.items() if d.events)
    if events is None:
        raise ValueError(
            f"outcomes {users} count project-form events, but no events form was given; "
            "set data.forms.events and re-run 01_ingest, or remove 'events' from these definitions"
        )
    wants_detail = any(event_spec(s)[1] for s in specs)
    required = (*EVENT_COLUMNS, "detail") if wants_detail else EVENT_COLUMNS
    _check_columns(events, required, "events form (forms_events.parquet)", "check the events form")
    names = {event_spec(s)[0] for s in specs}
    ev = events.loc[events["event"].astype(str).str.strip().isin(names)].copy()
    ev["event"] = ev["event"].astype(str).str.strip()
    dates = pd.to_datetime(ev["date"], errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        where = ev.index[bad[:5]].tolist()
        raise ValueError(
            f"events form (forms_events.parquet): column 'date': {len(bad)} row(s) of events {sorted(names)} "
            f"have a missing or unreadable date (rows {where}); add the dates (YYYY-MM-DD) or remove the rows"
        )
    seen = set(ev["event"])
    for spec in specs:
        if event_spec(spec)[0] not in seen:
            warnings.warn(f"no event {event_spec(spec)[0]!r} in the events form; outcomes {users} get none",
                          stacklevel=3)
    ev["dream_week"] = calendar.dream_weeks_of_dates(dates.to_numpy(dtype="datetime64[D]"))
    cohort_rows = pd.DataFrame({"pos": np.arange(len(person_ids)), "person_id": person_ids, "index_week": index_weeks})
    ev["person_id"] = ev["person_id"].astype(str)
    cols = ["person_id", "event", "dream_week"] + (["detail"] if wants_detail else [])
    merged = cohort_rows.merge(ev[cols], on="person_id", how="inner")
    merged["rel"] = merged["dream_week"] - merged["index_week"]
    merged = merged.loc[merged["rel"] >= 0]
    out = {}
    for spec in specs:
        name, detail = event_spec(spec)
        sel = merged["event"] == name
        if detail is not None:
            sel &= merged["detail"].astype(str).str.strip() == detail
        first = merged.loc[sel].groupby("pos")["rel"].min()
        arr = np.full(len(person_ids), -1, dtype=np.int64)
        arr[first.index.to_numpy()] = first.to_numpy()
        out[spec] = arr
    return out


def _uses_employment(d: OutcomeDefinition, require_employment: bool) -> bool:
    return EMPLOYED in d.categories or (require_employment and "self_support" in d.categories)


def _has_weekly_criteria(d: OutcomeDefinition) -> bool:
    return bool(d.categories or d.subcategories or d.activities or d.codes)


@dataclass
class _Context:
    """Aligned arrays shared by all definitions (columns: weeks ``start .. stop-1`` after index)."""

    codes: np.ndarray
    off: int  # column of the index week
    codebook: CodeBook
    self_support: np.ndarray
    employed: np.ndarray | None
    kill: np.ndarray  # weeks after an absorbing exit that are not themselves 998/999
    last_weekly: np.ndarray  # last observed week after index (weekly data)
    last_monthly: np.ndarray | None  # ... and within the monthly data
    horizons: list[tuple[str, int]]
    exits: np.ndarray  # (n, n_h) exit status per horizon
    exit_rule: str
    require_employment: bool
    defs: dict[str, OutcomeDefinition]
    event_first: dict[str, np.ndarray] | None = None

    @classmethod
    def build(cls, weekly, monthly, rows, person_ids, index_weeks, *, start, stop, study, defs, horizons):
        ss_cfg = study.data.self_support
        codebook = CodeBook.default(overrides=study.data.category_overrides)
        codes = aligned_codes(weekly, rows, index_weeks, start, stop)
        off = -start
        need_monthly = [name for name, d in defs.items() if _uses_employment(d, ss_cfg.require_employment)]
        employed = last_monthly = None
        covered = None
        if need_monthly:
            if monthly is None:
                raise ValueError(
                    f"outcomes {need_monthly} need monthly employment data (category 'employed', or "
                    "'self_support' with data.self_support.require_employment), but none was given; "
                    "pass load_monthly(study) or change the definitions"
                )
            employed, covered = aligned_employment(monthly, person_ids, index_weeks, start, stop)
        ss = self_supported(codes, codebook, extra_codes=ss_cfg.extra_codes,
                            employed=employed if ss_cfg.require_employment else None)
        obs = observed(codes)[:, off:]
        last_weekly = last_true(obs)
        if covered is not None:
            last_monthly = last_true(obs & covered[:, off:])
        rel = codes[:, off:]
        exits = np.stack([exit_status_at(rel, h) for _, h in horizons], axis=1) if len(codes) else \
            np.empty((0, len(horizons)), dtype=object)
        return cls(
            codes=codes, off=off, codebook=codebook, self_support=ss,
            employed=None if employed is None else ss & employed,
            kill=absorbed(codes) & ~np.isin(codes, ABSORBING_CODES),
            last_weekly=last_weekly, last_monthly=last_monthly, horizons=horizons, exits=exits,
            exit_rule=study.outcomes.exit_rule, require_employment=ss_cfg.require_employment, defs=defs,
        )

    # ---------------------------------------------------------------- masks

    def week_mask(self, d: OutcomeDefinition) -> np.ndarray:
        """Matching weeks of a definition's weekly criteria, shape of ``codes``."""
        cats = [c for c in d.categories if c not in (EMPLOYED, "self_support")]
        lookup = self.codebook.codes_where(categories=cats, subcategories=d.subcategories,
                                           activities=d.activities, codes=d.codes)
        mask = code_mask(self.codes, lookup) & ~self.kill
        if "self_support" in d.categories:
            mask |= self.self_support
        if EMPLOYED in d.categories:
            mask |= self.employed
        return mask

    # ---------------------------------------------------------------- evaluation

    def evaluate(self, name: str, results: dict, stack: tuple[str, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
        if name in results:
            return results[name]
        if name in stack:
            raise ValueError(f"outcomes.definitions.{name}: circular any_of ({' -> '.join((*stack, name))})")
        d = self.defs[name]
        if d.kind == "any_of":
            parts = [self.evaluate(other, results, (*stack, name)) for other in d.of]
            if _has_weekly_criteria(d) or d.events:
                own = d.model_copy(update={"kind": "ever_in_window", "of": []})
                parts.append(self.base(own))
            results[name] = self.combine(parts)
        else:
            results[name] = self.base(d)
        return results[name]

    def base(self, d: OutcomeDefinition) -> tuple[np.ndarray, np.ndarray]:
        n = self.codes.shape[0]
        n_h = len(self.horizons)
        uses_emp = _uses_employment(d, self.require_employment)
        last = self.last_monthly if uses_emp and self.last_monthly is not None else self.last_weekly
        big_n = d.lasting_weeks or 1
        weekly = _has_weekly_criteria(d)
        mask = self.week_mask(d) if weekly else None
        rel = mask[:, self.off:] if weekly else None
        rows = np.arange(n)
        first = pending_start = None
        if weekly and d.kind == "ever_in_window":
            first = first_true(rel) if big_n == 1 else run_starts(rel, big_n)
            if big_n > 1:
                # start of a matching run that is still under way in the last observed week
                cols = np.arange(rel.shape[1])[None, :]
                tail_on = np.zeros(n, dtype=bool)
                ok = last >= 0
                tail_on[ok] = rel[rows[ok], last[ok]]
                before = last_true(~rel & (cols <= last[:, None]))
                pending_start = np.where(tail_on, before + 1, np.iinfo(np.int64).max)
        if weekly and d.kind == "status_at" and big_n > 1:
            csum = np.concatenate([np.zeros((n, 1), dtype=np.int32), np.cumsum(mask, axis=1, dtype=np.int32)], axis=1)
        values = np.zeros((n, n_h), dtype=float)
        status = np.empty((n, n_h), dtype=object)
        for j, (_, h) in enumerate(self.horizons):
            hit = np.zeros(n, dtype=bool)
            pending = np.zeros(n, dtype=bool)
            if weekly and d.kind == "status_at":
                if big_n == 1:
                    hit = rel[:, h].copy()
                else:
                    col = self.off + h
                    hit = (csum[:, col + 1] - csum[:, col + 1 - big_n]) == big_n
            elif weekly:
                hit = (first >= 0) & (first <= h)
                if pending_start is not None:
                    pending = ~hit & (pending_start <= h) & (last < h + big_n - 1)
            for spec in d.events:
                ev = self.event_first[spec]
                hit |= (ev >= 0) & (ev <= h)
            v = hit.astype(float)
            st = self.exits[:, j].copy()
            exited = st != "none"
            v[exited & (v != 1.0)] = np.nan if self.exit_rule == "exclude" else 0.0
            pending &= ~exited & (v != 1.0)
            v[pending] = np.nan
            st[pending] = "no_data"
            beyond = last < h
            v[beyond] = np.nan
            st[beyond] = "no_data"
            values[:, j] = v
            status[:, j] = st
        return values, status

    def combine(self, parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        vals = np.stack([p[0] for p in parts], axis=0)
        any_one = (vals == 1.0).any(axis=0)
        any_nan = np.isnan(vals).any(axis=0)
        value = np.where(any_one, 1.0, np.where(any_nan, np.nan, 0.0))  # three-valued (Kleene) OR
        status = self.exits.copy()
        horizon_weeks = np.asarray([h for _, h in self.horizons])
        status[self.last_weekly[:, None] < horizon_weeks[None, :]] = "no_data"
        status[np.isnan(value) & (status == "none")] = "no_data"
        return value, status
