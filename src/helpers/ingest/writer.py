"""Staged, atomic writing of the processed store.

Every file is written into a staging folder next to ``data/processed/<study>/`` (Parquet
incrementally, one row group per chunk, with :class:`pyarrow.parquet.ParquetWriter`, on a
background thread so that encoding and compressing one chunk overlaps reading and checking
the next; pyarrow releases the GIL while it writes). Only
when the whole ingest has passed validation are the files moved into place: the old
manifest is removed first, each file is renamed over its predecessor (``os.replace`` is
atomic), stale store files are removed, and the new manifest is written last. A failed or
interrupted run therefore never leaves a half-written file, and a store without a manifest
is recognised as incomplete. On failure the staging folder is deleted and the processed
folder is untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helpers.core import (
    atomic,  #: Files the ingest owns in ``data/processed/<study>/`` (``forms_*.parquet`` too).
)

STORE_FILES = ("persons.parquet", "residence.parquet", "weekly.parquet", "monthly.parquet",
               "ingest_summary.json", "manifest.json")
MANIFEST = "manifest.json"


def sha256(path: Path) -> str:
    """SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 23):
            h.update(block)
    return h.hexdigest()


class StagedStore:
    """A staging folder for one ingest run; use as a context manager.

    Parameters
    ----------
    target : Path
        ``data/processed/<study>``.
    """

    #: tables queued for the writer thread before :meth:`append` waits (two chunks of four tables)
    MAX_PENDING = 8

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.ingest-", dir=self.target.parent))
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}
        # one worker: writes happen in the order they were appended
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._pending: deque[Future] = deque()

    def __enter__(self) -> StagedStore:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.close_writers()
        except Exception:
            if exc_type is None:
                raise
        finally:
            self._pool.shutdown(wait=True)
            if self.dir.exists():
                shutil.rmtree(self.dir, ignore_errors=True)

    def _submit(self, fn, *args) -> None:
        """Queue ``fn(*args)`` on the writer thread; waits while :data:`MAX_PENDING` are queued.

        An error of an earlier write is raised here (or by :meth:`flush`).
        """
        self._pending.append(self._pool.submit(fn, *args))
        while len(self._pending) > self.MAX_PENDING:
            self._pending.popleft().result()

    def flush(self) -> None:
        """Wait until every queued write is done, then raise the first write error if there was one."""
        first: BaseException | None = None
        while self._pending:
            err = self._pending.popleft().exception()
            first = first or err
        if first is not None:
            raise first

    def path(self, name: str) -> Path:
        """Staging path of a store file."""
        return self.dir / name

    def reset(self) -> None:
        """Drop everything written so far (a restart of the extract pass)."""
        try:
            self.close_writers()
        except Exception:  # a failed write of the pass being dropped does not matter
            pass
        for p in self.dir.iterdir():
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
        self.rows.clear()

    def scratch(self) -> Path:
        """A scratch folder inside the staging folder (removed with it)."""
        p = self.dir / "scratch"
        p.mkdir(exist_ok=True)
        return p

    # -------------------------------------------------------------- parquet
    def append(self, name: str, table: pa.Table) -> None:
        """Append ``table`` as one row group to ``<name>.parquet`` (created on first use).

        The write is queued on the writer thread; ``table`` must not be changed afterwards.
        """
        self._submit(self._write, name, table)
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def _write(self, name: str, table: pa.Table) -> None:  # on the writer thread
        writer = self._writers.get(name)
        if writer is None:
            # dictionary encoding suits weekly codes (few distinct values): smaller and faster to read
            writer = pq.ParquetWriter(self.path(f"{name}.parquet"), table.schema, compression="zstd",
                                      write_statistics=False)
            self._writers[name] = writer
        writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def ensure(self, name: str, schema: pa.Schema) -> None:
        """Create ``<name>.parquet`` with ``schema`` even if no rows are appended."""
        self._submit(self._ensure, name, schema)
        self.rows.setdefault(name, 0)

    def _ensure(self, name: str, schema: pa.Schema) -> None:  # on the writer thread
        if name not in self._writers:
            self._writers[name] = pq.ParquetWriter(self.path(f"{name}.parquet"), schema, compression="zstd")

    def write_frame(self, name: str, frame: pd.DataFrame) -> None:
        """Write a small data frame as ``<name>.parquet`` in one go."""
        frame.to_parquet(self.path(f"{name}.parquet"), index=False, compression="zstd")
        self.rows[name] = len(frame)

    def write_json(self, name: str, obj) -> None:
        """Write ``<name>`` (a JSON file) in the staging folder."""
        self.path(name).write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n",
                                   encoding="utf-8")

    def close_writers(self) -> None:
        """Finish the queued writes and close every Parquet file (raising the first write error)."""
        try:
            self.flush()
        finally:
            for writer in self._writers.values():
                writer.close()
            self._writers.clear()

    # --------------------------------------------------------------- commit
    def outputs(self) -> dict[str, dict]:
        """Name -> {rows, bytes, sha256} of every staged Parquet file."""
        self.close_writers()
        out = {}
        for p in sorted(self.dir.glob("*.parquet")):
            out[p.name] = {"rows": int(self.rows.get(p.stem, pq.ParquetFile(p).metadata.num_rows)),
                           "bytes": p.stat().st_size, "sha256": sha256(p)}
        return out

    def commit(self, manifest: dict) -> dict[str, Path]:
        """Move every staged file into ``target`` and write ``manifest.json`` last."""
        self.close_writers()
        scratch = self.dir / "scratch"
        if scratch.exists():
            shutil.rmtree(scratch)
        self.target.mkdir(parents=True, exist_ok=True)
        old_manifest = self.target / MANIFEST
        if old_manifest.exists():
            old_manifest.unlink()
        staged = sorted(p for p in self.dir.iterdir() if p.is_file())
        names = {p.name for p in staged}
        for p in staged:
            os.replace(p, self.target / p.name)
        for p in self.target.iterdir():
            owned = p.name in STORE_FILES or (p.name.startswith("forms_") and p.suffix == ".parquet")
            if owned and p.name not in names and p.name != MANIFEST:
                p.unlink()
        atomic.write_json(self.target / MANIFEST, manifest)
        return {p.split(".")[0]: self.target / p for p in sorted(names | {MANIFEST})}
