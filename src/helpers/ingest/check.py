"""``make check STUDY=<name>``: read the whole extract and every form, write nothing, list every problem.

``python -m helpers.ingest.check --study <name-or-path>`` runs the same checks as the ingest
(:mod:`helpers.ingest`), but instead of stopping at the first problem it collects them all
and prints one table (file, column, rows, what is wrong, what to do), then a summary:
persons, weeks, code frequencies, unknown codes and how many rows of each form link to the
extract. Exit status 0 when the study can run, 1 when it cannot. ``make report`` runs it
first (:func:`helpers.runner.run`) and stops with the same table.

Granularity: every file, every required column and the first bad row of every column are
reported at once; a column with several bad cells is reported once (with its first row) and
the next run shows the next. Persons are identified by row number only; IDs are hashed in
memory (with the study's key, or a throwaway key when none is set) and never printed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from helpers.config import StudyConfigError, load_study
from helpers.core import calendar
from helpers.core.codes import CATEGORIES, CodeBook
from helpers.ingest import convert
from helpers.ingest import forms as forms_mod
from helpers.ingest.columns import ColumnPlan, find_column, held_weeks, plan_columns, residence_problem
from helpers.ingest.errors import IngestError, Where, rel
from helpers.ingest.extract import needs_municipality, residence_years
from helpers.ingest.per_year import year_files
from helpers.ingest.problems import Problem, format_table, from_message
from helpers.ingest.pseudonym import PseudonymKeyError, digests, resolve_key
from helpers.ingest.readers import RetryAsText, detect_format, iter_chunks, open_source, scan_file
from helpers.ingest.validate import DuplicateTracker, GradScale, WeeklyChecks

#: Throwaway key for the in-memory duplicate and linkage checks when the study has none set.
_CHECK_KEY = b"dream-eval check: in-memory only"


@dataclass
class CheckReport:
    """Everything ``make check`` found.

    Attributes
    ----------
    problems : list of Problem
        Errors and warnings, in the order found.
    summary : dict
        ``persons``, ``weeks``, ``first_iso_week``, ``last_iso_week``, ``codes`` (code,
        category, person_weeks, persons), ``unknown_codes``, ``forms`` (name -> rows,
        linked, not_linked).
    """

    study: str
    problems: list[Problem] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop the run."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        """True when the study can run (no errors)."""
        return not self.errors

    def add(self, message: str, severity: str = "error", **where) -> None:
        """Record a problem from a validation message (each distinct message once)."""
        p = from_message(str(message), severity, **where)
        if p not in self.problems:
            self.problems.append(p)

    def text(self, width: int = 150) -> str:
        """The table and the summary as printed by ``make check``."""
        head = (f"check {self.study}: {len(self.errors)} error(s), {len(self.problems) - len(self.errors)} "
                "warning(s)")
        ordered = self.errors + [p for p in self.problems if p.severity != "error"]
        return "\n".join([head, "", format_table(ordered, width), "", summary_text(self.summary), "",
                          ("The study can run: `make report STUDY=" + self.study + "`." if self.ok else
                           "Fix the errors above (nothing was written) and run `make check STUDY="
                           + self.study + "` again.")])


# ------------------------------------------------------------------------------ config
def _config_checks(study, report: CheckReport) -> bytes:
    """Files named by the study, the pseudonymisation key, outcome definitions vs forms."""
    where = rel(study.source) if study.source else f"studies/{study.name}.yaml"
    for f in study.dream_files():
        if not f.exists() and not (study.data.dream.layout == "per_year" and "{year}" in str(study.data.dream.path)):
            report.add(f"{rel(f)}: the DREAM extract file does not exist (data.dream.path in {where}); put the "
                       "file there or correct data.dream.path")
    if study.data.dream.background_path:
        bg = study.raw_dir / study.data.dream.background_path
        if not bg.exists():
            report.add(f"{rel(bg)}: the background file does not exist (data.dream.background_path); put it there "
                       "or correct the key")
    for form in forms_mod.FORMS:
        f = study.form_file(form)
        if f is not None and not f.exists():
            report.add(f"{rel(f)}: the {form} form does not exist ({study.form_key(form)} in {where}); put the "
                       f"file there, or set {study.form_key(form)}: null if the study has no {form} form")
    users = study.event_outcomes_without_form()
    if users:
        report.add(f"{where}, column outcomes.definitions.{users[0]}.events: outcome(s) {users} count project-form "
                   "events, but data.forms.events is null; remove 'events' from these definitions, or name the "
                   "events form in data.forms.events")
    if study.form_file("screening") is None:
        report.add(f"{where}, column data.forms.screening: the study has neither a screening form nor an inclusion "
                   "list, so there is no intervention group; set data.forms.inclusion_list (ID, group, inclusion "
                   "date) or data.forms.screening")
    try:
        return resolve_key(study.data.pseudonymisation, synthetic=study.study.synthetic).key
    except PseudonymKeyError as err:
        report.add(f"{where}, column data.pseudonymisation: {err}")
        return _CHECK_KEY


# ------------------------------------------------------------------------------ extract
def _plan(f: Path, study, report: CheckReport, file_year: int | None = None):
    """Open one extract file and classify its header; None when it cannot be read."""
    dream = study.data.dream
    try:
        fmt = detect_format(f, dream.format)
        src = open_source(f, fmt, encoding=dream.encoding, delimiter=dream.delimiter,
                          scan=scan_file(f, text=True) if fmt == "csv" else None)
    except IngestError as err:
        report.add(str(err))
        return None
    lowered = [c.casefold() for c in src.columns]
    dupes = sorted({c for c in src.columns if lowered.count(c.casefold()) > 1})
    if dupes:
        report.add(f"{rel(f)}: columns {dupes[:5]} occur more than once (names are compared ignoring case); "
                   "rename or drop the duplicates")
        return None
    missing = False
    per_year = file_year is not None
    for key, name in (("data.dream.id_column", dream.id_column), ("data.dream.sex_column", dream.sex_column),
                      ("data.dream.birth_date_column", dream.birth_date_column),
                      ("data.dream.age_column", dream.age_column),
                      ("data.dream.municipality_column", dream.municipality_column)):
        try:
            find_column(src.columns, name, f, key, required=key == "data.dream.id_column" or not per_year)
        except IngestError as err:
            report.add(str(err))
            missing = True
    if missing:
        return None
    try:
        return src, plan_columns(src.columns, f, study.data, file_year=file_year)
    except IngestError as err:
        report.add(str(err))
        return None


def _values(src, plan: ColumnPlan, study, key: bytes, report: CheckReport, state: dict, weeks: np.ndarray,
            file_index: int, as_text: bool) -> None:
    """Read every chunk of one file and check every column's values."""
    data = study.data
    dream = data.dream
    path = src.path
    failed: set[str] = set()
    window_end = calendar.monday_of_dream_week(int(weeks[-1])) if len(weeks) else None
    week_cols = [(int(w), plan.weekly[int(w)]) for w in weeks if int(w) in plan.weekly]
    n_rows = 0
    own = DuplicateTracker() if dream.layout == "per_year" else None  # per-year: one row per person per file
    all_hashes = []

    def guard(col: str, fn):
        if col in failed:
            return None
        try:
            return fn()
        except IngestError as err:
            report.add(str(err))
            failed.add(col)
            return None

    types = {c: pa.int16() for c in plan.weekly.values()}
    for first_row, table in iter_chunks(src, plan.read_columns(), dream.chunk_rows, csv_types=types,
                                        as_text=as_text, blanks=dream.blank_values):
        n = table.num_rows
        n_rows += n
        ids = guard(plan.id, lambda t=table, f=first_row: convert.ids(t[plan.id], Where(path, plan.id), f,
                                                                      dream.id_width))
        if ids is not None:
            state["shapes"].add(ids, Where(path, plan.id), first_row)
            hashed = digests(ids, key)
            (own or state["dups"]).add(hashed, file_index, first_row)
            all_hashes.append(hashed)
        if plan.sex:
            sex = guard(plan.sex, lambda t=table, f=first_row: convert.sex(t[plan.sex], Where(path, plan.sex), f,
                                                                           dream.sex_codes, dream.blank_values))
            if sex is not None and (sex == 0).any() and plan.sex not in failed:
                i = int(np.flatnonzero(sex == 0)[0])
                report.add(f"{Where(path, plan.sex).row(first_row + i + 1)}: sex is missing "
                           f"({int((sex == 0).sum())} row(s) in this chunk); write 1 (male) or 2 (female), or the "
                           "values mapped in data.dream.sex_codes")
                failed.add(plan.sex)
        if plan.birth:
            birth = guard(plan.birth, lambda t=table, f=first_row: convert.dates(
                t[plan.birth], Where(path, plan.birth), f, "birth date", numeric=dream.numeric_dates))
            if birth is not None and window_end is not None:
                late = np.flatnonzero(~np.isnat(birth) & (birth > np.datetime64(window_end)))
                if len(late):
                    report.add(f"{Where(path, plan.birth).row(first_row + int(late[0]) + 1)}: the birth date is "
                               f"after the extract's window ({len(late)} row(s)); correct it")
        if plan.age:
            guard(plan.age, lambda t=table, f=first_row: convert.ages(t[plan.age], Where(path, plan.age), f))
        for col in [plan.municipality, *plan.residence.values()]:
            if col:
                guard(col, lambda t=table, f=first_row, c=col: convert.integers(t[c], Where(path, c), f,
                                                                                "municipality", 1, 32767))
        for col in [*plan.grad.values()]:
            guard(col, lambda t=table, f=first_row, c=col: convert.numbers(t[c], Where(path, c), f,
                                                                           "employment degree (grad)"))
        if week_cols:
            codes = np.zeros((n, len(weeks)), dtype=np.int16, order="F")
            pos = {int(w): j for j, w in enumerate(weeks)}
            for w, col in week_cols:
                got = guard(col, lambda t=table, f=first_row, c=col: convert.codes(t[c], Where(path, c), f,
                                                                                   dream.blank_values))
                if got is not None:
                    codes[:, pos[w]] = got
            names = {pos[w]: c for w, c in week_cols}
            checks: WeeklyChecks = state["checks"]
            try:
                checks.consume(codes, lambda r, c, _f=first_row: Where(path, names.get(c)).row(_f + r + 1))
            except IngestError as err:
                report.add(str(err))
                checks.after_death = "warn"  # count the rest
                checks.consume(codes, lambda r, c: "")
    state["rows"][path] = n_rows
    state.setdefault("all", []).extend(all_hashes)
    if own is not None:
        try:
            own.check([rel(path)] * (file_index + 1))
        except IngestError as err:
            report.add(str(err))


def _extract(study, key: bytes, report: CheckReport) -> dict:
    """Check the DREAM extract; return what the form checks and the summary need."""
    data = study.data
    dream = data.dream
    state = {"dups": DuplicateTracker(), "shapes": convert.IdShapes(), "rows": {}, "hashes": None,
             "weeks": None, "checks": None, "grad": GradScale(dream.grad_scale)}
    items = []
    if dream.layout == "per_year":
        try:
            pairs = year_files(study)
        except IngestError as err:
            report.add(str(err))
            return state
        for f, year in pairs:
            got = _plan(f, study, report, file_year=year) if f.exists() else None
            if got:
                items.append(got)
        if dream.background_path and (study.raw_dir / dream.background_path).exists():
            got = _plan(study.raw_dir / dream.background_path, study, report)
            if got:
                got[1].weekly = {}
                items.append(got)
    else:
        for f in study.dream_files():
            if f.exists():
                got = _plan(f, study, report)
                if got:
                    items.append(got)
    if not items:
        return state
    present = set().union(*(p.weekly for _, p in items))
    try:
        first_week, n_weeks = held_weeks(present, items[0][0].path, data)
    except IngestError as err:
        report.add(str(err))
        return state
    weeks = np.arange(first_week, first_week + n_weeks, dtype=np.int32)
    state["weeks"] = (first_week, n_weeks)
    problem = residence_problem([p for _, p in items], data, needs_municipality(study))
    if problem:
        report.add(problem)
    state["checks"] = WeeklyChecks(weeks, CodeBook.default(data.category_overrides), dream.codes_after_death)
    for fi, (src, plan) in enumerate(items):
        before = list(report.problems)
        try:
            _values(src, plan, study, key, report, state, weeks, fi, as_text=False)
        except RetryAsText:
            report.problems[:] = before
            _values(src, plan, study, key, report, state, weeks, fi, as_text=True)
        except IngestError as err:
            report.add(str(err))
    unknown = state["checks"].unknown_frame()
    if data.unknown_codes == "error" and len(unknown):
        listed = "; ".join(f"{r.code} ({r.person_weeks} person-weeks, {r.first_iso_week} to {r.last_iso_week})"
                           for r in unknown.head(10).itertuples())
        report.add(f"{rel(items[0][0].path)}: {len(unknown)} code(s) are not in the code dictionary: {listed}; add "
                   "them to data.category_overrides (code: category) if you know what they mean, or set "
                   "data.unknown_codes: warn to keep them as category 'unknown'")
    if dream.layout != "per_year":
        try:
            state["dups"].check([rel(s.path) for s, _ in items])
        except IngestError as err:
            report.add(str(err))
    if sum(state["rows"].values()) == 0 and not report.errors:
        report.add(f"{rel(items[0][0].path)}: the extract has a header but no data rows; get the full delivery")
    every = state.get("all") or []
    state["hashes"] = np.unique(np.concatenate(every)) if every else np.array([], dtype=np.uint64)
    for w in state["shapes"].warnings():
        report.add(f"{w['text']}", severity="warning", file=rel(items[0][0].path), column=dream.id_column)
    window = calendar.dream_week_range(data.first_year, data.last_year)
    if n_weeks != len(window):
        y0, w0 = calendar.iso_from_dream_week(first_week)
        y1, w1 = calendar.iso_from_dream_week(first_week + n_weeks - 1)
        report.add(f"{rel(items[0][0].path)}: the extract covers {y0}-W{w0:02d} to {y1}-W{w1:02d}, part of "
                   f"data.first_year..last_year ({data.first_year}-{data.last_year}); the analysis window follows "
                   "the data (the report says so); narrow data.first_year/last_year to silence this",
                   severity="warning")
    if not any(p.months for _, p in items):
        users = employment_users(study)
        if users:
            report.add(f"{rel(items[0][0].path)}: the extract has no monthly employment columns (branche_YYYY_MM, "
                       f"grad_YYYY_MM), so nobody counts as employed in any month, but {', '.join(users)} use(s) "
                       "employment; the report's employment results then rest on the weekly codes alone (e.g. 771); "
                       "get the monthly columns or define the outcomes by codes", severity="warning")
    if dream.municipality_assumed is not None or dream.municipality_column is not None:
        yrs = residence_years(first_week, n_weeks)
        what = (f"every person is assumed to live in municipality {dream.municipality_assumed}"
                if dream.municipality_assumed is not None else
                f"the one residence column {dream.municipality_column} is used for every year")
        report.add(f"{rel(items[0][0].path)}: {what} ({yrs[0]}-{yrs[-1]}); the report states this assumption",
                   severity="warning")
    return state


def employment_users(study) -> list[str]:
    """The study keys that use monthly employment (outcome category ``employed``, covariates, survival)."""
    out = [f"outcomes.definitions.{k}" for k, d in study.outcomes.definitions.items() if "employed" in d.categories]
    if "weeks_employed_156" in study.matching.covariates:
        out.append("matching.covariates (weeks_employed_156)")
    if study.survival.require_employment or study.data.self_support.require_employment:
        out.append("require_employment")
    return out


# -------------------------------------------------------------------------------- forms
def _forms(study, key: bytes, report: CheckReport, state: dict) -> dict:
    out = {}
    for name in forms_mod.FORMS:
        f = study.form_file(name)
        if f is None or not f.exists():
            continue
        try:
            form = forms_mod.read_form(name, f, study, key)
        except IngestError as err:
            report.add(str(err))
            continue
        if state.get("hashes") is not None and state.get("weeks") is not None:
            forms_mod.check_members(form, state["hashes"])
            forms_mod.check_window(form, *forms_mod.held_window(*state["weeks"]))
        for e in form.errors:
            report.add(e)
        info = {"rows": len(form.frame)}
        if form.hashes is not None and state.get("hashes") is not None:
            linked = int(np.isin(form.hashes, state["hashes"]).sum())
            info.update(linked=linked, not_linked=len(form.hashes) - linked)
        if name == "screening" and "included" in form.frame:
            info["included"] = int(pd.to_numeric(form.frame["included"], errors="coerce").eq(1).sum())
        out[name] = info
    return out


def _summary(study, state: dict, forms: dict) -> dict:
    hashes = state.get("hashes")
    s: dict = {"persons": int(len(hashes)) if hashes is not None else 0, "forms": forms}
    if state.get("weeks"):
        first, n = state["weeks"]
        y0, w0 = calendar.iso_from_dream_week(first)
        y1, w1 = calendar.iso_from_dream_week(first + n - 1)
        s.update(weeks=n, first_iso_week=f"{y0}-W{w0:02d}", last_iso_week=f"{y1}-W{w1:02d}")
    checks: WeeklyChecks | None = state.get("checks")
    if checks is not None:
        cats = checks.category_frame().groupby("category", as_index=False)["person_weeks"].sum()
        s["categories"] = [r for r in cats.to_dict("records") if r["person_weeks"]]
        s["unknown_codes"] = checks.unknown_frame().to_dict("records")
    return s


def summary_text(s: dict) -> str:
    """The summary block of ``make check`` (aggregates only)."""
    if not s:
        return "Summary: nothing could be read."
    lines = ["Summary"]
    lines.append(f"  persons in the extract: {s.get('persons', 0):,}")
    if "weeks" in s:
        lines.append(f"  weeks: {s['weeks']:,} ({s['first_iso_week']} to {s['last_iso_week']})")
    cats = s.get("categories") or []
    if cats:
        total = sum(c["person_weeks"] for c in cats) or 1
        order = sorted(cats, key=lambda c: -c["person_weeks"])
        lines.append("  person-weeks by category: " + ", ".join(
            f"{c['category']} {100 * c['person_weeks'] / total:.1f}%" for c in order
            if c["category"] in CATEGORIES))
    unknown = s.get("unknown_codes") or []
    if unknown:
        lines.append("  codes not in the code dictionary: " + ", ".join(
            f"{u['code']} ({u['person_weeks']:,} person-weeks, {u['first_iso_week']} to {u['last_iso_week']})"
            for u in unknown[:10]) + " -> declare them in data.category_overrides if you know their meaning "
            "(docs/sources.md)")
    else:
        lines.append("  codes not in the code dictionary: none")
    for name, info in (s.get("forms") or {}).items():
        text = f"  form {name}: {info['rows']:,} rows"
        if "linked" in info:
            text += f", {info['linked']:,} linked to the extract, {info['not_linked']:,} not linked"
        if "included" in info:
            text += f", {info['included']:,} included"
        lines.append(text)
    return "\n".join(lines)


# --------------------------------------------------------------------------------- run
def check_study(study) -> CheckReport:
    """Run every input check of ``study`` (a Study or its name/path) without writing anything."""
    if not hasattr(study, "data"):
        study = load_study(study)
    report = CheckReport(study.name)
    key = _config_checks(study, report)
    state = _extract(study, key, report)
    forms = _forms(study, key, report, state)
    report.summary = _summary(study, state, forms)
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.ingest.check --study <name-or-path>``: print the table; 0 = can run, 1 = cannot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    args = parser.parse_args(argv)
    try:
        study = load_study(args.study)
    except StudyConfigError as err:
        p = from_message(str(err))
        print(f"check {args.study}: 1 error(s)\n\n{format_table([p])}\n\nFix the study YAML and run the check again.")
        return 1
    report = check_study(study)
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
