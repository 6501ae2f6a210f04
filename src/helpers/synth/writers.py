"""Write the wide extract in the delivery formats real DREAM extracts come in.

- ``csv`` -> ``dream.csv``: comma, UTF-8, no quoting, empty cell = no code.
- ``csv_semicolon`` -> ``dream_latin1.csv``: semicolon, latin-1, decimal comma in
  ``grad_*``, plus a text column ``bopaelskommune`` (municipality name in the last known
  year, e.g. "Høje-Taastrup") to exercise the encoding.
- ``parquet`` -> ``dream.parquet``: typed columns (int16 codes, date32, strings), zstd.
- ``dta`` -> ``dream.dta`` (Stata 118, pyreadstat ``version=15``), the per-year files
  ``dream<YYYY>.dta`` with ``pnr`` and ``y_01`` .. ``y_52``/``y_53`` (the layout of a DST
  Stata project, dream.md §1.4), and ``dream_background.dta`` with the other columns, for
  ``data.dream.layout: per_year`` with ``background_path: dream_background.dta``.
- ``xpt`` -> ``dream.xpt``: SAS transport version 8 (names up to 32 characters); every
  number is a double.

``PNR`` is a string in every format (leading zeros kept); ``foed_dag`` is a date (ISO text
in CSV, ``%td`` in Stata, ``DATE`` in SAS); weekly codes are integers with the format's
missing value (empty, Stata/SAS ``.``) for a week without a public transfer. Every file is
written through :func:`helpers.core.atomic.atomic_path`.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyreadstat

from helpers.core import calendar
from helpers.core.atomic import atomic_path

BACKGROUND_DTA = "dream_background.dta"
FILES = {
    "csv": "dream.csv",
    "csv_semicolon": "dream_latin1.csv",
    "parquet": "dream.parquet",
    "dta": "dream.dta",
    "xpt": "dream.xpt",
}


def extract_table(
    pnr: np.ndarray,
    sex: np.ndarray,
    birth: np.ndarray,
    nykom: np.ndarray,
    years: np.ndarray,
    codes: np.ndarray,
    week_names: list[str],
    months: list[tuple[int, int]],
    branche: np.ndarray,
    grad: np.ndarray,
) -> pa.Table:
    """Assemble the wide extract as an Arrow table (nulls for empty cells)."""
    cols: dict[str, pa.Array] = {
        "PNR": pa.array(pnr.astype(str), pa.string()),
        "kon": pa.array(sex.astype(np.int8)),
        "foed_dag": pa.array(birth.astype("datetime64[D]"), pa.date32()),
    }
    for j, y in enumerate(years):
        v = nykom[:, j]
        cols[f"nykom{int(y)}"] = pa.array(v.astype(np.int16), mask=v == 0)
    for j, name in enumerate(week_names):
        v = codes[:, j]
        cols[name] = pa.array(v, type=pa.int16(), mask=v == 0)
    for j, (y, m) in enumerate(months):
        cols[f"branche_{y}_{m:02d}"] = pa.array(branche[:, j], pa.string())
    for j, (y, m) in enumerate(months):
        g = grad[:, j]
        cols[f"grad_{y}_{m:02d}"] = pa.array(g, pa.float64(), mask=np.isnan(g))
    return pa.table(cols)


def _csv_bytes(table: pa.Table, delimiter: str) -> bytes:
    buf = io.BytesIO()
    opts = pacsv.WriteOptions(delimiter=delimiter, quoting_style="none", quoting_header="none")
    pacsv.write_csv(table, buf, opts)
    return buf.getvalue()


def write_csv(table: pa.Table, path: Path) -> Path:
    """Comma-separated, UTF-8."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(_csv_bytes(table, ","))
    return path


def write_csv_semicolon(table: pa.Table, path: Path, municipality_names: np.ndarray) -> Path:
    """Semicolon-separated latin-1 with decimal commas and a municipality-name column."""
    cols, names = [], []
    for name in table.column_names:
        col = table[name]
        if name.startswith("grad_"):
            col = pc.replace_substring(pc.cast(col, pa.string()), ".", ",")
        cols.append(col)
        names.append(name)
        if name == "foed_dag":
            cols.append(pa.array(municipality_names, pa.string()))
            names.append("bopaelskommune")
    text = _csv_bytes(pa.table(cols, names=names), ";").decode("utf-8")
    with atomic_path(path) as tmp:
        tmp.write_bytes(text.encode("latin-1"))
    return path


def write_parquet(table: pa.Table, path: Path) -> Path:
    """Parquet with zstd compression."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def _pandas(table: pa.Table, numeric: str) -> pd.DataFrame:
    """Table -> data frame for ReadStat: codes as nullable ints or doubles, strings '' for empty."""
    df = table.to_pandas(types_mapper={pa.int16(): pd.Int16Dtype(), pa.int8(): pd.Int8Dtype()}.get)
    df["foed_dag"] = pd.Series(table["foed_dag"].to_pylist(), index=df.index, dtype=object)
    for name in df.columns:
        if name.startswith("branche_"):
            df[name] = df[name].fillna("")
        elif numeric == "double" and isinstance(df[name].dtype, pd.api.extensions.ExtensionDtype):
            df[name] = df[name].astype("float64")
    return df


def write_dta(table: pa.Table, path: Path, first_year: int, last_year: int) -> list[Path]:
    """Stata 118: the wide file, per-year files ``dream<YYYY>.dta`` (pnr, y_01..y_53) and their background.

    The per-year layout (``data.dream.layout: per_year``, ``path: dream{year}.dta``) needs
    ``background_path: dream_background.dta`` (pnr, kon, foed_dag, nykom, branche, grad).
    """
    df = _pandas(table, "int")
    with atomic_path(path) as tmp:
        pyreadstat.write_dta(df, tmp, version=15, file_label="Synthetic DREAM extract")
    written = [path]
    background = df[[c for c in df.columns if not c.startswith("y_")]].rename(columns={"PNR": "pnr"})
    target = path.with_name(BACKGROUND_DTA)
    with atomic_path(target) as tmp:
        pyreadstat.write_dta(background, tmp, version=15, file_label="Synthetic DREAM background")
    written.append(target)
    for year in range(first_year, last_year + 1):
        n_weeks = calendar.iso_weeks_in_year(year)
        src = [calendar.week_column(year, w) for w in range(1, n_weeks + 1)]
        part = df[["PNR", *src]].rename(columns={"PNR": "pnr", **{c: f"y_{c[-2:]}" for c in src}})
        target = path.with_name(f"dream{year}.dta")
        with atomic_path(target) as tmp:
            pyreadstat.write_dta(part, tmp, version=15, file_label=f"Synthetic DREAM {year}")
        written.append(target)
    return written


def write_xpt(table: pa.Table, path: Path) -> Path:
    """SAS transport version 8."""
    df = _pandas(table, "double")
    with atomic_path(path) as tmp:
        pyreadstat.write_xport(df, tmp, file_format_version=8, table_name="DREAM")
    return path
