"""Which columns of a raw DREAM file hold what, checked against the study's window.

Column names (``docs/architecture.md``, ``docs/sources.md``):

- person ID, sex, birth date (and optional age): names from ``data.dream``, matched
  case-insensitively (SAS and Stata files often change case);
- weekly codes named by ``data.dream.week_pattern``: ``y_{yy}{ww}`` (``y_1705``, the wide
  default), ``y_{yyyy}{ww}`` (``y_201705``) or ``y_{ww}`` with the year from the file (per-year
  layout); any other column starting with the pattern's prefix is malformed; week 53 must
  exist in its ISO year;
- municipality: yearly ``<prefix>YYYY`` (``nykom2017``), or one column
  (``data.dream.municipality_column``, e.g. ``KOMNR``), or none (``municipality_assumed``);
- monthly ``branche_YYYY_MM`` and ``grad_YYYY_MM``.

The weeks read are those of the window ``data.first_year`` W01 .. last week of
``data.last_year`` that the extract holds; they must be contiguous (an extract covering
part of the window is read, and the analysis window follows the data). Other columns are
ignored. A missing required column names the YAML key that maps it and the file's columns
that look closest.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from helpers.core import calendar
from helpers.ingest.errors import IngestError, rel

#: Other names real extracts use for a column (for "closest columns" suggestions).
ALIASES = {
    "data.dream.id_column": ("pnr", "cpr", "cprnr", "lobenr", "personnummer", "id"),
    "data.dream.sex_column": ("kon", "koen", "køn", "sex", "gender"),
    "data.dream.birth_date_column": ("foed_dag", "foedselsdato", "fødselsdato", "birth_date", "bdate"),
    "data.dream.age_column": ("alder", "age"),
    "data.dream.municipality_column": ("komnr", "kom", "kommune", "bopkom", "nykom"),
}
#: Week-column patterns seen in real deliveries, to suggest one when columns do not match.
KNOWN_WEEK_PATTERNS = ("y_{yy}{ww}", "y_{yyyy}{ww}", "y_{ww}")


def closest(columns: list[str], name: str, key: str, n: int = 4) -> list[str]:
    """The file's columns that look most like ``name`` (or a known alias of the key)."""
    folded = {c.casefold(): c for c in columns}
    hits = [folded[a] for a in ALIASES.get(key, ()) if a in folded]
    for cand in difflib.get_close_matches(name.casefold(), list(folded), n=n, cutoff=0.5):
        if folded[cand] not in hits:
            hits.append(folded[cand])
    return hits[:n]


def week_regex(pattern: str) -> re.Pattern:
    """Regular expression of a week pattern (groups ``yy``/``yyyy`` and ``ww``)."""
    parts = re.split(r"(\{yy\}|\{yyyy\}|\{ww\})", pattern)
    rx = "".join({"{yy}": r"(?P<yy>\d{2})", "{yyyy}": r"(?P<yyyy>\d{4})", "{ww}": r"(?P<ww>\d{2})"}.get(p, re.escape(p))
                 for p in parts)
    return re.compile(f"^{rx}$", re.IGNORECASE)


def week_prefix(pattern: str) -> str:
    """Literal text before the first placeholder (``y_`` for ``y_{yy}{ww}``)."""
    return re.split(r"\{", pattern, maxsplit=1)[0]


def suggest_pattern(columns: list[str], current: str) -> str | None:
    """A known week pattern that matches more of ``columns`` than ``current`` does."""
    best, best_n = None, sum(bool(week_regex(current).match(c)) for c in columns)
    for pat in KNOWN_WEEK_PATTERNS:
        n = sum(bool(week_regex(pat).match(c)) for c in columns)
        if n > best_n:
            best, best_n = pat, n
    return best
_MONTHLY = re.compile(r"^(branche|grad)_(\d{4})_(\d{1,2})$", re.IGNORECASE)
_MONTHLY_PREFIX = re.compile(r"^(branche|grad)_", re.IGNORECASE)


def find_column(columns: list[str], name: str | None, path: Path, key: str, required: bool = True) -> str | None:
    """The column called ``name`` (exact, else case-insensitive), or an error naming the YAML key."""
    if name is None:
        return None
    if name in columns:
        return name
    matches = [c for c in columns if c.casefold() == name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise IngestError(f"{rel(path)}: columns {matches} all match {key} {name!r}; rename all but one")
    if required:
        raise IngestError(missing_column_message(columns, name, path, key))
    return None


def missing_column_message(columns: list[str], name: str, path: Path, key: str) -> str:
    """``no column 'X' (key); closest columns: ...; set key to ...``."""
    near = closest(columns, name, key)
    shown = ", ".join(c for c in columns[:8] if c.isprintable()) + (", ..." if len(columns) > 8 else "")
    near_text = f"the closest columns are {', '.join(near)}" if near else f"the file has {shown}"
    return (f"{rel(path)}, column {name}: no column {name!r} ({key}); {near_text}. Set {key} to the name of the "
            "column that holds it")


@dataclass
class ColumnPlan:
    """The columns of one raw file that the ingest reads.

    Attributes
    ----------
    weekly : dict
        DREAM week -> column name, for the weeks inside the window held by this file.
    branche, grad : dict
        Month index (``year * 12 + month - 1``) -> column name.
    residence : dict
        Year -> municipality column name.
    """

    path: Path
    id: str
    sex: str | None = None
    birth: str | None = None
    age: str | None = None
    weekly: dict[int, str] = field(default_factory=dict)
    branche: dict[int, str] = field(default_factory=dict)
    grad: dict[int, str] = field(default_factory=dict)
    residence: dict[int, str] = field(default_factory=dict)
    municipality: str | None = None  # one residence column for every year
    outside_window: int = 0  # weekly columns outside data.first_year..last_year (not read)

    def read_columns(self) -> list[str]:
        """Every column to read, in a fixed order."""
        cols = [self.id] + [c for c in (self.sex, self.birth, self.age, self.municipality) if c]
        cols += [self.residence[y] for y in sorted(self.residence)]
        cols += [self.weekly[w] for w in sorted(self.weekly)]
        cols += [self.branche[m] for m in sorted(self.branche)] + [self.grad[m] for m in sorted(self.grad)]
        return cols

    @property
    def months(self) -> set[int]:
        """Month indices with a ``branche`` or ``grad`` column."""
        return set(self.branche) | set(self.grad)


def plan_columns(columns: list[str], path: Path, data, *, file_year: int | None = None) -> ColumnPlan:
    """Classify and validate the header of one raw file.

    Parameters
    ----------
    columns : list of str
        The file's column names.
    path : Path
        The file (for messages).
    data : helpers.config.schema.data.DataConfig
        The study's ``data`` section.
    file_year : int, optional
        The ISO year of a per-year file (its weekly columns are ``y_WW``).

    Raises
    ------
    IngestError
        Malformed or duplicated weekly/monthly columns, week 53 in a 52-week year, or a
        required background column that is missing.
    """
    dream = data.dream
    where = rel(path)
    per_year = file_year is not None
    lowered = [c.casefold() for c in columns]
    dupes = sorted({c for c in columns if lowered.count(c.casefold()) > 1})
    if dupes:
        raise IngestError(f"{where}: columns {dupes[:5]} occur more than once (names are compared ignoring case); "
                          "rename or drop the duplicates")
    plan = ColumnPlan(
        path=path,
        id=find_column(columns, dream.id_column, path, "data.dream.id_column"),
        sex=find_column(columns, dream.sex_column, path, "data.dream.sex_column", required=not per_year),
        birth=find_column(columns, dream.birth_date_column, path, "data.dream.birth_date_column",
                          required=not per_year),
        age=find_column(columns, dream.age_column, path, "data.dream.age_column", required=not per_year),
        municipality=find_column(columns, dream.municipality_column, path, "data.dream.municipality_column",
                                 required=not per_year),
    )
    first_week = calendar.dream_week_from_iso(data.first_year, 1)
    last_week = calendar.dream_week_from_iso(data.last_year, calendar.iso_weeks_in_year(data.last_year))
    pattern = dream.weeks_pattern
    week_rx, prefix = week_regex(pattern), week_prefix(pattern).casefold()
    prefix_rx = (re.compile(rf"^{re.escape(dream.municipality_prefix)}(\d{{4}})$", re.IGNORECASE)
                 if dream.municipality_prefix else None)
    for col in columns:
        if week_rx.match(col) or (prefix and col.casefold().startswith(prefix) and not _MONTHLY.match(col)
                                  and not (prefix_rx and prefix_rx.match(col))):
            year, week = _week_of(col, path, file_year, pattern, columns)
            dw = calendar.dream_week_from_iso(year, week)
            if first_week <= dw <= last_week:
                if dw in plan.weekly:
                    raise IngestError(f"{where}, column {col}: week {year}-W{week:02d} is also in column "
                                      f"{plan.weekly[dw]}; drop one of them")
                plan.weekly[dw] = col
            else:
                plan.outside_window += 1
            continue
        m = _MONTHLY.match(col)
        if m:
            year, month = int(m.group(2)), int(m.group(3))
            if not 1 <= month <= 12:
                raise IngestError(f"{where}, column {col}: month {month} does not exist; expected "
                                  f"{m.group(1).lower()}_YYYY_MM with MM 01-12")
            if data.first_year <= year <= data.last_year:
                target = plan.branche if m.group(1).lower() == "branche" else plan.grad
                target[calendar.month_index(year, month)] = col
            continue
        if _MONTHLY_PREFIX.match(col):
            raise IngestError(f"{where}, column {col}: malformed monthly column; expected branche_YYYY_MM "
                              "or grad_YYYY_MM (e.g. branche_2017_01)")
        r = prefix_rx.match(col) if prefix_rx else None
        if r and data.first_year <= int(r.group(1)) <= data.last_year:
            plan.residence[int(r.group(1))] = col
    if (dream.municipality_prefix and not plan.residence and dream.municipality_column is None
            and dream.municipality_assumed is None):
        same = [c for c in columns if c.casefold() == dream.municipality_prefix.casefold()]
        if same:
            raise IngestError(
                f"{where}, column {same[0]}: data.dream.municipality_prefix {dream.municipality_prefix!r} names "
                f"yearly columns {dream.municipality_prefix}YYYY, but the file has one column {same[0]}; set "
                f"data.dream.municipality_column: {same[0]} and data.dream.municipality_prefix: null"
            )
    return plan


def residence_problem(plans: list[ColumnPlan], data, needed: bool) -> str | None:
    """Why the municipality of residence cannot be read, or None when it can (or is not needed).

    ``needed`` is true when the cohort selects or matches on municipality; then a
    configured source that matches no column is an error, not an empty residence table.
    """
    dream = data.dream
    if dream.municipality_assumed is not None or dream.municipality_column is not None:
        return None
    if any(p.residence for p in plans):
        return None
    if not needed:
        return None
    if not dream.municipality_prefix:
        return None  # the study schema refuses this combination at load time
    cols = sorted({c for p in plans for c in p.read_columns()})
    near = closest(cols, dream.municipality_prefix, "data.dream.municipality_column")
    return (f"{rel(plans[0].path)}, column {dream.municipality_prefix}YYYY: no residence column matches "
            f"data.dream.municipality_prefix {dream.municipality_prefix!r} ({dream.municipality_prefix}"
            f"{data.first_year}..{dream.municipality_prefix}{data.last_year}), but cohort.municipality selects on "
            "it; " + (f"closest columns: {', '.join(near)}; " if near else "")
            + "set data.dream.municipality_prefix to the yearly columns' prefix, data.dream.municipality_column to "
            "a single residence column, or data.dream.municipality_assumed to the municipality every person "
            "lives in")


def _week_of(col: str, path: Path, file_year: int | None, pattern: str = "y_{yy}{ww}",
             columns: list[str] | None = None) -> tuple[int, int]:
    where = f"{rel(path)}, column {col}"
    m = week_regex(pattern).match(col)
    if not m:
        better = suggest_pattern(columns or [col], pattern)
        hint = (f"set data.dream.week_pattern: {better!r}" if better else "rename or drop the column")
        shape = pattern.replace("{yy}", "YY").replace("{yyyy}", "YYYY").replace("{ww}", "WW")
        raise IngestError(f"{where}: malformed weekly column; expected {shape} (data.dream.week_pattern "
                          f"{pattern!r}); {hint}")
    g = m.groupdict()
    if g.get("yyyy"):
        year = int(g["yyyy"])
    elif g.get("yy"):
        year = calendar.year_from_two_digits(int(g["yy"]))
    else:
        year = file_year
    if file_year is not None and year != file_year:
        raise IngestError(f"{where}: the column is of {year}, but the file holds {file_year}; move or drop it")
    if year is None:
        raise IngestError(f"{where}: the week pattern {pattern!r} has no year; set data.dream.layout: per_year "
                          "or add {yy}/{yyyy} to data.dream.week_pattern")
    week = int(g["ww"])
    if not 1 <= week <= 53:
        raise IngestError(f"{where}: ISO week {week} does not exist; weeks run 01-52 (01-53 in long years)")
    if week == 53 and not calendar.is_long_year(year):
        raise IngestError(f"{where}: {year} has 52 ISO weeks, so week 53 does not exist; the column is malformed "
                          "(check the extract's calendar) and must be dropped or corrected")
    return year, week


def missing_weeks(present: set[int], data) -> list[int]:
    """DREAM weeks of the window that no file provides."""
    window = calendar.dream_week_range(data.first_year, data.last_year)
    return [int(w) for w in window if int(w) not in present]


def held_weeks(present: set[int], path: Path, data) -> tuple[int, int]:
    """First DREAM week and number of weeks the extract holds inside the window.

    The extract may cover part of ``data.first_year..last_year`` (the analysis window then
    follows the data), but the weeks it holds must be contiguous.

    Raises
    ------
    IngestError
        No weekly column inside the window, or a gap inside the weeks held.
    """
    if not present:
        raise IngestError(
            f"{rel(path)}: no weekly code column inside the window {data.first_year}-W01.."
            f"{data.last_year}-W{calendar.iso_weeks_in_year(data.last_year):02d} (pattern "
            f"{data.dream.weeks_pattern!r}); check data.dream.week_pattern and data.first_year/last_year"
        )
    lo, hi = min(present), max(present)
    gaps = [w for w in range(lo, hi + 1) if w not in present]
    if gaps:
        raise IngestError(
            f"{rel(path)}: {len(gaps)} weekly column(s) are missing inside the weeks the extract holds: "
            f"{describe_weeks(gaps)}. The weekly series must be contiguous: get the missing weeks, or narrow "
            "data.first_year/last_year to a gap-free part"
        )
    return lo, hi - lo + 1


def describe_weeks(weeks: list[int], per_year: bool = False) -> str:
    """``y_1753 (2017-W53)``-style list of the first few weeks."""
    parts = []
    for w in weeks[:5]:
        y, k = calendar.iso_from_dream_week(w)
        parts.append(f"y_{k:02d} of {y}" if per_year else f"y_{y % 100:02d}{k:02d} ({y}-W{k:02d})")
    more = f" and {len(weeks) - 5} more" if len(weeks) > 5 else ""
    return ", ".join(parts) + more
