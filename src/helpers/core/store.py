"""The processed store under ``data/processed/<study>/`` and its in-memory containers.

Files (written atomically by :mod:`helpers.ingest`; see docs/architecture.md):

- ``persons.parquet``: ``person_id`` (keyed hash, 16 hex characters), ``sex`` (int8: 1 male,
  2 female), ``birth_date`` (date; null when the extract has none), and ``age`` (int16) only
  when ``data.dream.age_column`` is set. Rows in the order of ``weekly.parquet``.
- ``residence.parquet``: ``person_id``, ``year``, ``municipality`` (long; one row per
  person-year with a municipality).
- ``weekly.parquet``: ``person_id`` then one ``int16`` column per DREAM week named ``w<dream_week>``,
  contiguous from ``data.first_year`` W01 to the last week of ``data.last_year``;
  0 = empty week (no public transfer). One row group per ingest chunk.
- ``monthly.parquet``: ``person_id`` then one ``float32`` column per month named ``m<YYYY>_<MM>``:
  employment degree (``grad``, normalised to a share) in the month, 1.0 when only ``branche``
  is present, NaN = none (rule and sources in docs/sources.md).
- ``forms_<name>.parquet``: the project forms with ``person_id`` instead of the raw ID.
- ``manifest.json``: input checksums, row counts, parameters, outputs; written last, so a
  store without it is incomplete (the loaders refuse it).
- ``ingest_summary.json``: aggregates of the ingest (counts by category and year, unknown
  codes, warnings).

Loaders take the study (or its name, or the store folder): :func:`load_persons`,
:func:`load_residence`, :func:`load_weekly` (only the requested week columns, optionally
only some persons), :func:`load_monthly`, :func:`load_form`, :func:`load_manifest`,
:func:`load_summary`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.core import calendar, paths
from helpers.core.progress import bar

NO_DATA = -1  # code used for weeks outside the extract in aligned windows


def groups_by_index_week(index_weeks: np.ndarray):
    """Yield ``(index_week, positions)`` for each distinct index week (a loop over weeks, not persons)."""
    index_weeks = np.asarray(index_weeks, dtype=np.int64)
    order = np.argsort(index_weeks, kind="stable")
    uniq, first_pos = np.unique(index_weeks[order], return_index=True)
    bounds = np.append(first_pos, len(index_weeks))
    for k, week in enumerate(uniq):
        yield int(week), order[bounds[k]:bounds[k + 1]]


def week_col(dream_week: int) -> str:
    """Column name of a DREAM week in ``weekly.parquet``."""
    return f"w{int(dream_week)}"


def month_col(year: int, month: int) -> str:
    """Column name of a month in ``monthly.parquet``."""
    return f"m{year:04d}_{month:02d}"


@dataclass
class WeeklyStatus:
    """Weekly DREAM codes of many persons over a contiguous range of DREAM weeks.

    Attributes
    ----------
    person_id : ndarray of str
        Pseudonymised IDs, one per row.
    first_week : int
        DREAM week number of column 0.
    codes : ndarray of int16, shape (n_persons, n_weeks)
        Weekly codes; 0 = empty week (no public transfer).
    """

    person_id: np.ndarray
    first_week: int
    codes: np.ndarray

    def __post_init__(self) -> None:
        self.person_id = np.asarray(self.person_id, dtype=object)
        self.codes = np.asarray(self.codes, dtype=np.int16)
        if self.codes.ndim != 2 or self.codes.shape[0] != len(self.person_id):
            raise ValueError("codes must be 2-D with one row per person_id")

    @property
    def n_weeks(self) -> int:
        """Number of weeks held."""
        return self.codes.shape[1]

    @property
    def last_week(self) -> int:
        """DREAM week number of the last column."""
        return self.first_week + self.n_weeks - 1

    @property
    def weeks(self) -> np.ndarray:
        """DREAM week numbers of the columns."""
        return np.arange(self.first_week, self.first_week + self.n_weeks)

    def rows_of(self, person_ids) -> np.ndarray:
        """Row numbers of ``person_ids`` (raises KeyError naming how many are missing)."""
        index = pd.Index(self.person_id)
        rows = index.get_indexer(pd.Index(person_ids))
        if (rows < 0).any():
            raise KeyError(f"{int((rows < 0).sum())} person IDs are not in the weekly store")
        return rows

    def aligned(self, rows: np.ndarray, index_weeks: np.ndarray, start: int, stop: int, *,
                progress=None) -> np.ndarray:
        """Codes in weeks ``index_week + start`` .. ``index_week + stop - 1`` for each row.

        Weeks outside the held range are :data:`NO_DATA` (-1). Returns an int16 array of
        shape ``(len(rows), stop - start)``. Computed one distinct index week at a time
        (row slices are copied, not gathered element by element), which is fast when many
        persons share an index week; ``progress`` may wrap that loop (e.g. a tqdm bar).
        """
        rows = np.asarray(rows, dtype=np.int64)
        index_weeks = np.asarray(index_weeks, dtype=np.int64)
        width = stop - start
        out = np.full((len(rows), max(width, 0)), NO_DATA, dtype=np.int16)
        if len(rows) == 0 or width <= 0:
            return out
        groups = groups_by_index_week(index_weeks)
        if progress is not None:
            groups = progress(groups)
        for week, who in groups:
            a = week + start - self.first_week  # column of the first wanted week in self.codes
            lo, hi = max(a, 0), min(a + width, self.n_weeks)
            if lo < hi:
                out[who, lo - a:hi - a] = self.codes[rows[who], lo:hi]
        return out


@dataclass
class MonthlyEmployment:
    """Monthly employment degree per person (NaN = no employment in the month).

    Attributes
    ----------
    person_id : ndarray of str
    first_month : int
        Month index (``year * 12 + month - 1``) of column 0.
    degree : ndarray of float32, shape (n_persons, n_months)
    """

    person_id: np.ndarray
    first_month: int
    degree: np.ndarray

    def employed_in_weeks(self, rows: np.ndarray, dream_weeks: np.ndarray) -> np.ndarray:
        """Boolean array: employed in the month of each week's Thursday.

        ``dream_weeks`` has shape ``(len(rows), k)``; weeks whose month is outside the
        held range count as not employed.
        """
        rows = np.asarray(rows, dtype=np.int64)
        months = calendar.months_of_dream_weeks(dream_weeks) - self.first_month
        inside = (months >= 0) & (months < self.degree.shape[1])
        if self.degree.shape[1] == 0:  # an extract without monthly columns: nobody is employed in any month
            return np.zeros(np.broadcast_shapes(np.shape(months), rows[:, None].shape if dream_weeks.ndim == 2
                                                else rows.shape), dtype=bool)
        vals = self.degree[rows[:, None] if dream_weeks.ndim == 2 else rows, np.clip(months, 0, self.degree.shape[1] - 1)]
        return inside & np.nan_to_num(vals, nan=0.0).astype(bool)


def store_path(processed_dir: Path, name: str) -> Path:
    """Path of a store file (``persons``, ``weekly``, ``monthly``, ``residence``, ``forms_<x>``)."""
    return Path(processed_dir) / f"{name}.parquet"


# ------------------------------------------------------------------------------ loaders
def _store_dir(study) -> Path:
    """``data/processed/<study>`` of a Study, a study name, or a folder path."""
    if hasattr(study, "processed_dir"):
        return Path(study.processed_dir)
    if isinstance(study, Path) or (isinstance(study, str) and ("/" in study or "\\" in study)):
        return Path(study)
    return paths.processed_dir(str(study))


def _require(directory: Path, name: str) -> Path:
    path = directory / name
    if not (directory / "manifest.json").exists():
        raise FileNotFoundError(
            f"{directory}: no complete processed store (manifest.json is missing); run notebooks/01_ingest.ipynb "
            "or helpers.ingest.ingest(study) first"
        )
    if not path.exists():
        raise FileNotFoundError(f"{path}: not in the processed store; run the ingest (01_ingest) again")
    return path


def load_manifest(study) -> dict:
    """The ingest manifest (inputs, parameters, outputs, versions)."""
    return json.loads(_require(_store_dir(study), "manifest.json").read_text(encoding="utf-8"))


def load_summary(study) -> dict:
    """``ingest_summary.json``: aggregates of the ingest (counts, unknown codes, warnings)."""
    return json.loads(_require(_store_dir(study), "ingest_summary.json").read_text(encoding="utf-8"))


def load_persons(study) -> pd.DataFrame:
    """``person_id``, ``sex`` (int8: 1 male, 2 female), ``birth_date`` (datetime64), in weekly row order."""
    frame = pq.read_table(_require(_store_dir(study), "persons.parquet")).to_pandas()
    frame["birth_date"] = pd.to_datetime(frame["birth_date"])
    return frame


def load_cohort(study) -> pd.DataFrame:
    """The analysis cohort written by stage 02 (``cohort.parquet``: one row per matched-set membership).

    Raises
    ------
    FileNotFoundError
        When the cohort stage has not run.
    """
    path = _store_dir(study) / "cohort.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{paths.relative(path)}: the cohort stage (02_cohort) has not run")
    return pd.read_parquet(path)


def load_residence(study) -> pd.DataFrame:
    """``person_id``, ``year`` (int16), ``municipality`` (int16): one row per person-year with a municipality.

    ``person_id`` is a categorical (one copy of each ID, a 4-byte code per row): nationally the
    table has ~34 rows per person, and as Python strings it would hold ~9 GB.
    """
    table = pq.read_table(_require(_store_dir(study), "residence.parquet"), read_dictionary=["person_id"])
    return table.to_pandas()


def rows_of(index: pd.Index, person_id: pd.Series) -> np.ndarray:
    """Position in ``index`` of each value of ``person_id`` (-1 when absent); fast for a categorical.

    A categorical is looked up once per category, then by its codes (a missing value is -1).
    """
    values = person_id.array if isinstance(person_id, pd.Series) else person_id
    if isinstance(values, pd.Categorical):
        per_category = np.append(index.get_indexer(values.categories), -1)
        return per_category[values.codes]  # code -1 (missing) picks the appended -1
    return index.get_indexer(person_id)


def _week_range(names: list[str]) -> tuple[int, int]:
    weeks = [int(n[1:]) for n in names if n.startswith("w")]
    return min(weeks), max(weeks)


def load_weekly(study, first_week: int | None = None, last_week: int | None = None, *,
                person_ids=None) -> WeeklyStatus:
    """Weekly codes of DREAM weeks ``first_week`` .. ``last_week`` (inclusive), reading only those columns.

    Parameters
    ----------
    study : Study, str or Path
        The study (or its name, or the store folder).
    first_week, last_week : int, optional
        DREAM weeks wanted (default: all held). A range reaching outside the held weeks is
        clipped to them; :attr:`WeeklyStatus.first_week` says where the result starts, and
        :meth:`WeeklyStatus.aligned` marks weeks outside it as :data:`NO_DATA`.
    person_ids : sequence of str, optional
        Only these persons (in store order).

    Raises
    ------
    ValueError
        If the range does not overlap the held weeks, or ``first_week > last_week``.
    """
    path = _require(_store_dir(study), "weekly.parquet")
    pf = pq.ParquetFile(path)
    lo, hi = _week_range(pf.schema_arrow.names)
    a = lo if first_week is None else max(int(first_week), lo)
    b = hi if last_week is None else min(int(last_week), hi)
    if a > b:
        raise ValueError(
            f"weeks {first_week}..{last_week} are outside the weekly store, which holds DREAM weeks {lo}..{hi} "
            f"({'%d-W%02d' % calendar.iso_from_dream_week(lo)} to {'%d-W%02d' % calendar.iso_from_dream_week(hi)})"
        )
    columns = ["person_id"] + [week_col(w) for w in range(a, b + 1)]
    ids, codes = _read_matrix(pf, columns, np.int16, person_ids)
    return WeeklyStatus(person_id=ids, first_week=a, codes=codes)


def _read_matrix(pf, columns: list[str], dtype, person_ids=None, batch_rows: int = 65_536):
    """Person IDs and a C-ordered matrix of ``columns[1:]``, read batch by batch (bounded temporaries)."""
    wanted = None if person_ids is None else pa_array(person_ids)
    n = pf.metadata.num_rows
    if wanted is not None:
        n = sum(int(pc.sum(pc.is_in(b.column(0), value_set=wanted)).as_py() or 0)
                for b in pf.iter_batches(batch_size=batch_rows, columns=columns[:1]))
    out = np.empty((n, len(columns) - 1), dtype=dtype)
    ids = np.empty(n, dtype=object)
    r = 0
    # a progress bar (persons scanned) on register-scale stores; shown after 2 s, silent in tests
    with bar(total=pf.metadata.num_rows, desc=f"reading {len(columns) - 1} store columns", unit="person") as progress:
        for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
            progress.update(batch.num_rows)
            if wanted is not None:
                batch = batch.filter(pc.is_in(batch.column(0), value_set=wanted))
            k = batch.num_rows
            if not k:
                continue
            ids[r:r + k] = batch.column(0).to_pylist()
            if len(columns) > 1:
                out[r:r + k] = np.column_stack([batch.column(j).to_numpy(zero_copy_only=False)
                                                for j in range(1, batch.num_columns)]).astype(dtype, copy=False)
            r += k
    return ids, out


def pa_array(values):
    """A pyarrow string array of ``values``."""
    return pa.array([str(v) for v in values], pa.string())


def n_persons(study) -> int:
    """Number of persons (rows) of the weekly store, from the file's metadata."""
    return pq.ParquetFile(_require(_store_dir(study), "weekly.parquet")).metadata.num_rows


def load_monthly(study, *, person_ids=None) -> MonthlyEmployment:
    """Monthly employment degree (float32, NaN = none) as a :class:`MonthlyEmployment`."""
    pf = pq.ParquetFile(_require(_store_dir(study), "monthly.parquet"))
    names = pf.schema_arrow.names[1:]
    months = [calendar.month_index(int(n[1:5]), int(n[6:8])) for n in names]
    ids, degree = _read_matrix(pf, ["person_id", *names], np.float32, person_ids)
    return MonthlyEmployment(person_id=ids, first_month=months[0] if months else 0, degree=degree)


def load_form(study, name: str) -> pd.DataFrame:
    """A project form (``screening``, ``questionnaires``, ``events``, ``costs``) with ``person_id``.

    Raises
    ------
    FileNotFoundError
        If the study has no such form or the ingest has not run.
    """
    directory = _store_dir(study)
    path = directory / f"forms_{name}.parquet"
    if (directory / "manifest.json").exists() and not path.exists():
        raise FileNotFoundError(f"{path}: the study has no {name!r} form (data.forms.{name} is null or was not "
                                "ingested)")
    return pq.read_table(_require(directory, f"forms_{name}.parquet")).to_pandas()


def iter_blocks(study, block_rows: int = 50_000, *, first_week: int | None = None,
                last_week: int | None = None, monthly: bool = True):
    """Yield ``(WeeklyStatus, MonthlyEmployment | None)`` for consecutive blocks of persons.

    For computations over every person of a register-scale store: memory is bounded by
    ``block_rows`` × weeks instead of the whole matrix. Weekly and monthly blocks hold the
    same persons in the same (store) order.
    """
    directory = _store_dir(study)
    wf = pq.ParquetFile(_require(directory, "weekly.parquet"))
    lo, hi = _week_range(wf.schema_arrow.names)
    a = lo if first_week is None else max(int(first_week), lo)
    b = hi if last_week is None else min(int(last_week), hi)
    wcols = ["person_id"] + [week_col(w) for w in range(a, b + 1)]
    mbatches = None
    if monthly:
        mf = pq.ParquetFile(_require(directory, "monthly.parquet"))
        mnames = mf.schema_arrow.names[1:]
        first_month = calendar.month_index(int(mnames[0][1:5]), int(mnames[0][6:8])) if mnames else 0
        mbatches = mf.iter_batches(batch_size=block_rows, columns=["person_id", *mnames])
    for wb in wf.iter_batches(batch_size=block_rows, columns=wcols):
        ids = np.asarray(wb.column(0).to_pylist(), dtype=object)
        codes = np.column_stack([wb.column(j).to_numpy(zero_copy_only=False)
                                 for j in range(1, wb.num_columns)]).astype(np.int16, copy=False)
        weekly = WeeklyStatus(person_id=ids, first_week=a, codes=codes)
        month_block = None
        if mbatches is not None:
            mb = next(mbatches)
            if mb.num_rows != wb.num_rows or mb.column(0).to_pylist() != wb.column(0).to_pylist():
                raise ValueError(f"{directory}: weekly.parquet and monthly.parquet hold persons in different "
                                 "orders; re-run the ingest with force=True")
            degree = (np.column_stack([mb.column(j).to_numpy(zero_copy_only=False)
                                       for j in range(1, mb.num_columns)]).astype(np.float32, copy=False)
                      if mb.num_columns > 1 else np.empty((mb.num_rows, 0), dtype=np.float32))  # no months held
            month_block = MonthlyEmployment(person_id=ids, first_month=first_month, degree=degree)
        yield weekly, month_block
