"""The peer baseline: the bench's outcome step as a register analyst would write it in DuckDB SQL.

Why DuckDB (and not polars): a researcher on Statistics Denmark's machines who gets a
Parquet store and wants per-person outcomes over 1,000 weekly columns writes SQL; DuckDB
runs SQL directly over Parquet files, spills to disk when a query does not fit in memory
(out-of-core), and its UNPIVOT and window functions are the textbook way to turn a wide
DREAM extract into spells. polars would need the same melt and window logic in its own
expression API and holds the long table in memory unless the analyst uses its streaming
engine by hand. See docs/performance.md.

The SQL follows the pipeline's definitions (:mod:`helpers.outcomes.status`) exactly:

- weeks are aligned on each person's index week (``t = dream_week - index_week``);
- a week is *self-supported* when its code is 0 or 121-123, the month of its Thursday has
  employment (degree > 0 in ``monthly.parquet``), and no 998/999 occurred from the index
  week up to it (death and state pension are absorbing);
- *lasting self-support* starts at the first ``t >= 1`` that begins a run of
  ``lasting_weeks`` self-supported weeks lying wholly inside the extract (-1 if none);
- *status at horizon h*: ``dead`` (a 999 in weeks 0..h), ``state_pension`` (a 998 in
  0..h), ``no_data``, ``emigrated`` (997), the benefit's category, ``employed``,
  ``self_support``, in that priority (:data:`helpers.outcomes.status.STATE_PRIORITY`);
- *weeks per category per year*: year ``y`` covers ``t = 52(y-1) .. 52y-1``; categories
  from the shipped code dictionary (0 = ``self_support``, codes not in it ``unknown``,
  weeks outside the extract ``no_data``).

No Python loop touches persons: the whole computation is four SQL statements.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from helpers.core import calendar
from helpers.core.codes import load_code_table

SELF_SUPPORT_CODES = (0, 121, 122, 123)


def _calendar_frames(weekly_path: Path, monthly_path: Path, con) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Week -> month-column table and the code dictionary (the analyst's lookup tables)."""
    wcols = [c for c in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{weekly_path}')").fetchall()]
    weeks = np.array([int(r[0][1:]) for r in wcols if r[0].startswith("w")], dtype=np.int64)
    months = calendar.months_of_dream_weeks(weeks)
    week_month = pd.DataFrame({"dw": weeks.astype(np.int32),
                               "m": [f"m{m // 12:04d}_{m % 12 + 1:02d}" for m in months]})
    codes = load_code_table()[["code", "category"]].astype({"code": np.int16})
    return week_month, codes


def outcomes(processed_dir: Path, index_path: Path, out_dir: Path, *, horizons=(52, 104, 156, 312), years: int = 5,
             lasting_weeks: int = 4, threads: int = 2, memory_limit: str = "8GB",
             temp_dir: Path | None = None) -> dict:
    """Compute the outcomes of every person in SQL and write ``peer_persons.parquet`` / ``peer_years.parquet``.

    Parameters
    ----------
    processed_dir : Path
        The processed store (``weekly.parquet``, ``monthly.parquet``).
    index_path : Path
        Parquet with ``person_id``, ``index_week`` (one row per person).
    out_dir : Path
        Where the two result files go (same schemas as the pipeline's bench outputs).
    threads, memory_limit, temp_dir
        DuckDB settings: the machine's 2 cores, the pipeline's 8 GB target, spill folder.

    Returns
    -------
    dict
        Row counts of the results.
    """
    weekly = Path(processed_dir) / "weekly.parquet"
    monthly = Path(processed_dir) / "monthly.parquet"
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    if temp_dir is not None:
        Path(temp_dir).mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{temp_dir}'")
    week_month, code_table = _calendar_frames(weekly, monthly, con)
    con.register("week_month", week_month)
    con.register("code_table", code_table)
    ss = ", ".join(str(c) for c in SELF_SUPPORT_CODES)
    max_t = max(max(horizons), years * 52 - 1)

    # persons get an integer key; the long tables carry it instead of the 16-character ID
    con.execute(f"""
        CREATE TEMP TABLE idx AS
        SELECT CAST(row_number() OVER () AS INTEGER) AS pid, person_id, CAST(index_week AS INTEGER) AS index_week
        FROM read_parquet('{index_path}')""")
    # months with employment, long (UNPIVOT drops the NULLs; NaN is 'no employment' too)
    con.execute(f"""
        CREATE TEMP TABLE emp AS
        SELECT pid, m FROM (
            UNPIVOT (SELECT i.pid, mm.* EXCLUDE (person_id)
                     FROM read_parquet('{monthly}') mm JOIN idx i USING (person_id))
            ON COLUMNS('^m[0-9]') INTO NAME m VALUE degree)
        WHERE degree > 0 AND NOT isnan(degree)""")
    # weekly codes from the index week on, long, with the employment of the week's month
    con.execute(f"""
        CREATE TEMP TABLE wk AS
        WITH long AS (
            SELECT pid, CAST(substr(col, 2) AS INTEGER) AS dw, index_week, code
            FROM (UNPIVOT (SELECT i.pid, i.index_week, w.* EXCLUDE (person_id)
                           FROM read_parquet('{weekly}') w JOIN idx i USING (person_id))
                  ON COLUMNS('^w[0-9]+$') INTO NAME col VALUE code)
        )
        SELECT l.pid, l.dw - l.index_week AS t, l.code, e.pid IS NOT NULL AS employed
        FROM long l JOIN week_month wm ON wm.dw = l.dw
        LEFT JOIN emp e ON e.pid = l.pid AND e.m = wm.m
        WHERE l.dw >= l.index_week""")

    # time to lasting self-support: a window of the next `lasting_weeks` rows (weeks are contiguous)
    con.execute(f"""
        CREATE TEMP TABLE lasting AS
        WITH flags AS (
            SELECT pid, t,
                   code IN ({ss}) AND employed
                   AND NOT bool_or(code IN (998, 999)) OVER (PARTITION BY pid ORDER BY t
                                                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ss
            FROM wk),
        runs AS (
            SELECT pid, t, sum(CAST(ss AS INTEGER)) OVER (PARTITION BY pid ORDER BY t
                                                          ROWS BETWEEN CURRENT ROW AND {lasting_weeks - 1} FOLLOWING)
                           AS ss_ahead
            FROM flags)
        SELECT pid, coalesce(min(t) FILTER (WHERE t >= 1 AND ss_ahead = {lasting_weeks}), -1) AS lasting_week
        FROM runs GROUP BY pid""")

    # status at each horizon, by the pipeline's priority of facts
    picks = ",\n".join(f"max(code) FILTER (WHERE t = {h}) AS c{h}, bool_or(employed) FILTER (WHERE t = {h}) AS e{h}"
                       for h in horizons)
    states = ",\n".join(f"""CASE WHEN s.dead_t <= {h} THEN 'dead'
                 WHEN s.pension_t <= {h} THEN 'state_pension'
                 WHEN s.c{h} IS NULL THEN 'no_data'
                 WHEN s.c{h} = 997 THEN 'emigrated'
                 WHEN s.c{h} NOT IN ({ss}) THEN coalesce(ct{h}.category, 'unknown')
                 WHEN s.e{h} THEN 'employed'
                 ELSE 'self_support' END AS state_{h}""" for h in horizons)
    joins = "\n".join(f"LEFT JOIN code_table ct{h} ON ct{h}.code = s.c{h}" for h in horizons)
    con.execute(f"""
        COPY (
            WITH s AS (
                SELECT pid, min(t) FILTER (WHERE code = 999) AS dead_t, min(t) FILTER (WHERE code = 998) AS pension_t,
                       {picks}
                FROM wk WHERE t <= {max_t} GROUP BY pid)
            SELECT i.person_id, i.index_week, CAST(l.lasting_week AS INTEGER) AS lasting_week,
                   {states}
            FROM idx i JOIN s USING (pid) JOIN lasting l USING (pid)
            {joins}
            ORDER BY i.pid
        ) TO '{out_dir / "peer_persons.parquet"}' (FORMAT parquet)""")

    # weeks per category per year; weeks outside the extract are 'no_data'
    con.execute(f"""
        COPY (
            WITH cells AS (
                SELECT pid, CAST(t // 52 + 1 AS TINYINT) AS year,
                       CASE WHEN code = 0 THEN 'self_support' ELSE coalesce(ct.category, 'unknown') END AS category,
                       count(*) AS weeks
                FROM wk LEFT JOIN code_table ct USING (code)
                WHERE t < {years * 52} GROUP BY ALL),
            gaps AS (
                SELECT i.pid, y.year, 'no_data' AS category, 52 - coalesce(sum(c.weeks), 0) AS weeks
                FROM idx i CROSS JOIN (SELECT CAST(range + 1 AS TINYINT) AS year FROM range({years})) y
                LEFT JOIN cells c ON c.pid = i.pid AND c.year = y.year
                GROUP BY ALL HAVING 52 - coalesce(sum(c.weeks), 0) > 0)
            SELECT i.person_id, c.year, c.category, CAST(c.weeks AS SMALLINT) AS weeks
            FROM (SELECT * FROM cells UNION ALL SELECT * FROM gaps) c JOIN idx i USING (pid)
        ) TO '{out_dir / "peer_years.parquet"}' (FORMAT parquet)""")
    n_persons = con.execute(f"SELECT count(*) FROM read_parquet('{out_dir / 'peer_persons.parquet'}')").fetchone()[0]
    n_cells = con.execute(f"SELECT count(*) FROM read_parquet('{out_dir / 'peer_years.parquet'}')").fetchone()[0]
    events = con.execute("SELECT count(*) FROM lasting WHERE lasting_week > 0").fetchone()[0]
    con.close()
    return {"persons": int(n_persons), "year_cells": int(n_cells), "events": int(events)}


def compare(out_dir: Path) -> dict:
    """Rows of each result that the other lacks (pipeline vs peer); all zeros = equal on every person."""
    con = duckdb.connect()
    con.execute("SET threads = 2")
    res = {}
    for name in ("persons", "years"):
        a = f"read_parquet('{out_dir / f'outcomes_{name}.parquet'}')"
        b = f"read_parquet('{out_dir / f'peer_{name}.parquet'}')"
        res[f"{name}_only_pipeline"] = con.execute(f"SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})").fetchone()[0]
        res[f"{name}_only_peer"] = con.execute(f"SELECT count(*) FROM (FROM {b} EXCEPT ALL FROM {a})").fetchone()[0]
        res[f"{name}_rows"] = con.execute(f"SELECT count(*) FROM {a}").fetchone()[0]
    con.close()
    return {k: int(v) for k, v in res.items()}
