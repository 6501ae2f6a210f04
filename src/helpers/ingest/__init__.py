"""Ingest: any DREAM delivery format to one validated, pseudonymised, columnar store.

:func:`ingest` reads the study's DREAM extract (CSV, Parquet, SAS7BDAT, Stata, SPSS or SAS
transport; wide ``y_YYWW`` or per-year ``y_WW`` layout) and project forms, validates them,
replaces person IDs by keyed hashes (:mod:`helpers.ingest.pseudonym`) and writes
``data/processed/<study>/`` (see docs/architecture.md and :mod:`helpers.core.store`):
persons, residence, weekly (``int16`` codes), monthly (``float32`` degree), forms, the
manifest and ``ingest_summary.json`` (the typed :class:`~helpers.ingest.result.IngestResult` it
returns; the stage entry point is :func:`helpers.stages.ingest.run`, the report's tables
and figure are in :mod:`helpers.report.ingest`).

- Streaming: the extract is read in chunks of ``data.dream.chunk_rows`` rows and written
  one row group per chunk, so memory is bounded by the chunk size (plus 8 bytes per person
  for the duplicate check).
- Validation: problems raise :class:`IngestError` naming file, column, data row (never the
  ID) and what to do; nothing is written when validation fails
  (:class:`~helpers.ingest.writer.StagedStore`).
- Re-running with unchanged inputs (SHA-256), parameters and key is a no-op unless
  ``force=True``.

Modules: :mod:`.readers` (formats), :mod:`.columns` (layout), :mod:`.convert` (values),
:mod:`.validate` (checks and aggregates), :mod:`.extract` (the DREAM pass's shared pieces),
:mod:`.wide` and :mod:`.per_year` (the pass per layout), :mod:`.forms`, :mod:`.writer`
(staging and commit), :mod:`.result` (the summary), :mod:`.check` and :mod:`.problems`
(``make check``).

Examples
--------
>>> from helpers.config import load_study
>>> result = ingest(load_study("demo"))          # doctest: +SKIP
>>> result.n_persons, result.skipped             # doctest: +SKIP
(20000, False)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy
import pandas as pd
import pyarrow

import helpers
from helpers.config import load_study
from helpers.core import calendar
from helpers.core.progress import StatusLine
from helpers.ingest import forms as forms_mod
from helpers.ingest.errors import IngestError, rel
from helpers.ingest.extract import ExtractResult
from helpers.ingest.per_year import read_per_year
from helpers.ingest.pseudonym import PseudonymKey, resolve_key
from helpers.ingest.readers import RetryAsText, detect_format, scan_file
from helpers.ingest.result import SUMMARY, IngestResult
from helpers.ingest.wide import read_wide
from helpers.ingest.writer import MANIFEST, StagedStore
from helpers.stages.base import StageResultError

__all__ = ["IngestError", "IngestResult", "ingest"]

#: Version of the processed-store layout; a change forces a new ingest.
STORE_FORMAT = 1


# ----------------------------------------------------------------------------- helpers
def _dictionary_sha256() -> str:
    data = resources.files("helpers.data").joinpath("dream_codes.csv").read_bytes()
    return hashlib.sha256(data).hexdigest()


def _parameters(study) -> dict:
    q = study.outcomes.questionnaires
    return {
        "data": study.data.model_dump(mode="json"),
        "questionnaire_scale": [q.scale_min, q.scale_max],
        "code_dictionary_sha256": _dictionary_sha256(),
        "store_format": STORE_FORMAT,
    }


def _versions() -> dict:
    import pyreadstat  # optional heavy dependency, loaded only here

    return {"python": platform.python_version(), "helpers": helpers.__version__, "numpy": numpy.__version__,
            "pandas": pd.__version__, "pyarrow": pyarrow.__version__, "pyreadstat": pyreadstat.__version__}


def _input_name(path: Path, raw_dir: Path) -> str:
    try:
        return path.resolve().relative_to(raw_dir.resolve()).as_posix()
    except ValueError:
        return rel(path)


def _up_to_date(directory: Path, inputs: list[dict], parameters: dict, key: PseudonymKey) -> bool:
    mpath, spath = directory / MANIFEST, directory / SUMMARY
    if not (mpath.exists() and spath.exists()):
        return False
    try:
        old = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    same_inputs = [(i["path"], i["sha256"]) for i in old.get("inputs", [])] == [(i["path"], i["sha256"])
                                                                                 for i in inputs]
    if not same_inputs or old.get("parameters") != parameters:
        return False
    if old.get("pseudonymisation", {}).get("key_fingerprint") != key.fingerprint():
        return False
    try:  # a summary this version cannot read (older layout, edited by hand) is rewritten
        IngestResult.from_json(spath.read_text(encoding="utf-8"))
    except (OSError, StageResultError):
        return False
    for name, info in old.get("outputs", {}).items():
        p = directory / name
        if not p.exists() or p.stat().st_size != info.get("bytes"):
            return False
    return True


def _form_warnings(parsed: list[forms_mod.Form], study) -> list[dict]:
    out = []
    q = study.outcomes.questionnaires
    for form in parsed:
        frame = form.frame
        if form.name == "questionnaires" and "measure" in frame:
            unknown = sorted(set(frame["measure"].dropna()) - set(q.measures))
            if unknown:
                out.append({"kind": "questionnaire_measure", "count": int(frame["measure"].isin(unknown).sum()),
                            "text": f"questionnaire rows with measures not in outcomes.questionnaires.measures "
                                    f"({', '.join(map(str, unknown[:5]))})"})
    return out


# ------------------------------------------------------------------------------ ingest
def ingest(study, force: bool = False, progress: Callable[[str], None] | None = None, *,
           write: bool = True) -> IngestResult:
    """Read, validate and pseudonymise a study's raw inputs into ``data/processed/<study>/``.

    Parameters
    ----------
    study : Study or str
        The loaded study (or its name).
    force : bool
        Re-ingest even when inputs, parameters and key are unchanged.
    progress : callable, optional
        Called with a short message after each chunk (e.g. ``print``); by default a status
        line on the terminal (:class:`helpers.core.progress.StatusLine`, silent in tests).
    write : bool
        Commit the store. With ``False`` everything is read, validated and summarised in a
        staging folder that is then deleted: the result is what an ingest would write
        (``paths`` empty), and ``data/processed/<study>/`` is left as it was.

    Returns
    -------
    IngestResult
        The content of ``ingest_summary.json``, with the manifest, ``skipped`` and the
        store's paths in memory.

    Raises
    ------
    IngestError
        A validation failure; the message names file, column and data row and what to do.
        Nothing is written.
    helpers.ingest.pseudonym.PseudonymKeyError
        No usable pseudonymisation key.
    helpers.config.StudyConfigError
        A raw file named by the study does not exist.
    """
    if isinstance(study, str):
        study = load_study(study)
    study.check_inputs()
    key = resolve_key(study.data.pseudonymisation, synthetic=study.study.synthetic)
    data = study.data
    raw_dir = study.raw_dir
    target = study.processed_dir
    t0 = time.time()

    dream_files = study.dream_files()
    if data.dream.background_path:
        if data.dream.layout != "per_year":
            raise IngestError("data.dream.background_path is only used with data.dream.layout: per_year; remove it "
                              "(a wide extract holds the background columns itself)")
        background = raw_dir / data.dream.background_path
        if not background.exists():
            raise IngestError(f"data.dream.background_path: file {rel(background)} does not exist")
        dream_files.append(background)
    form_files = {f: study.form_file(f) for f in forms_mod.FORMS if study.form_file(f) is not None}
    scans = {}
    for f in dream_files:
        fmt = detect_format(f, data.dream.format)
        scans[f] = scan_file(f, text=fmt == "csv")
    for f in form_files.values():
        scans[f] = scan_file(f, text=f.suffix.lower() not in (".xlsx", ".xlsm", ".xls"))
    inputs = [{"path": _input_name(f, raw_dir), "kind": "dream", "sha256": scans[f].sha256, "bytes": scans[f].size}
              for f in dream_files]
    inputs += [{"path": _input_name(f, raw_dir), "kind": f"form:{name}", "sha256": scans[f].sha256,
                "bytes": scans[f].size} for name, f in form_files.items()]
    parameters = _parameters(study)
    if not force and _up_to_date(target, inputs, parameters, key):
        return IngestResult.from_store(target, skipped=True)

    own_progress = None
    if progress is None:
        progress = own_progress = StatusLine(f"ingest {study.name}")
    try:
        return _ingest_staged(study, key, scans, inputs, parameters, dream_files, form_files, target, t0, progress,
                              write)
    finally:
        if own_progress is not None:
            own_progress.close()


def _ingest_staged(study, key, scans, inputs, parameters, dream_files, form_files, target, t0, progress, write):
    data = study.data
    with StagedStore(target) as stage:
        parsed = [forms_mod.read_form(name, f, study, key.key) for name, f in form_files.items()]
        forms_mod.raise_if_errors(parsed)
        reader = read_per_year if data.dream.layout == "per_year" else read_wide
        try:
            ext: ExtractResult = reader(study, key.key, stage, scans, progress=progress)
        except RetryAsText:
            stage.reset()
            ext = reader(study, key.key, stage, scans, codes_as_text=True, progress=progress)
        if ext.n_persons == 0:
            raise IngestError(f"{rel(dream_files[0])}: the extract has a header but no data rows; get the full "
                              "delivery (nothing was written)")
        start, stop = forms_mod.held_window(ext.first_week, ext.n_weeks)
        for form in parsed:
            forms_mod.check_members(form, ext.hashes_sorted)
            forms_mod.check_window(form, start, stop)
        forms_mod.raise_if_errors(parsed)
        unknown = ext.checks.unknown_frame()
        if data.unknown_codes == "error" and len(unknown):
            listed = "; ".join(f"{r.code} ({r.person_weeks} person-weeks, {r.first_iso_week} to {r.last_iso_week})"
                               for r in unknown.head(10).itertuples())
            raise IngestError(
                f"{rel(dream_files[0])}: {len(unknown)} code(s) are not in the code dictionary: {listed}. Add them "
                "to data.category_overrides (code: category) if you know what they mean, or set "
                "data.unknown_codes: warn to keep them as category 'unknown'"
            )
        for form in parsed:
            stage.write_frame(f"forms_{form.name}", form.frame)
        warnings = _warnings(ext, unknown) + _form_warnings(parsed, study)
        rows = {f: ext.rows.get(f) for f in dream_files}
        for name, f in form_files.items():
            rows[f] = len(next(p for p in parsed if p.name == name).frame)
        for item, f in zip(inputs, [*dream_files, *form_files.values()], strict=True):
            item["rows"] = rows[f]
        summary = IngestResult.model_validate(_summary(study, ext, unknown, warnings,
                                                       {p.name: len(p.frame) for p in parsed}, stage, time.time() - t0))
        stage.path(SUMMARY).write_text(summary.to_json() + "\n", encoding="utf-8")
        outputs = stage.outputs()
        outputs[SUMMARY] = {"bytes": stage.path(SUMMARY).stat().st_size}
        manifest = {
            "study": study.name,
            "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "inputs": inputs,
            "parameters": parameters,
            "outputs": outputs,
            "pseudonymisation": {"method": "keyed BLAKE2b, 8-byte digest as 16 hex characters",
                                 "key_source": key.source, "key_fingerprint": key.fingerprint()},
            "demo_key": key.is_demo,
            "versions": _versions(),
            "seconds": round(time.time() - t0, 2),
        }
        if not write:
            return summary.attach(manifest, skipped=False, paths={})
        stage.commit(manifest)
    return IngestResult.from_store(target, skipped=False)


def _warnings(ext: ExtractResult, unknown: pd.DataFrame) -> list[dict]:
    out = []
    if len(unknown):
        codes = ", ".join(str(c) for c in unknown["code"].head(10))
        out.append({"kind": "unknown_codes", "count": int(unknown["person_weeks"].sum()),
                    "text": f"person-weeks with codes not in the code dictionary ({codes}); kept as category "
                            "'unknown'"})
    invalid = ext.checks.invalid_frame()
    if len(invalid):
        codes = ", ".join(str(c) for c in invalid["code"].head(10))
        out.append({"kind": "validity", "count": int(invalid["person_weeks"].sum()),
                    "text": f"person-weeks with codes outside their validity dates ({codes}); the dates are "
                            "background knowledge [I], see docs/sources.md"})
    if ext.checks.after_death_weeks:
        out.append({"kind": "after_death", "count": ext.checks.after_death_weeks,
                    "text": "person-weeks with a code after the person's death (code 999), kept as delivered"})
    return out + ext.warnings


def _summary(study, ext: ExtractResult, unknown: pd.DataFrame, warnings: list[dict], forms: dict[str, int],
             stage: StagedStore, seconds: float) -> dict:
    last_week = ext.first_week + ext.n_weeks - 1
    y0, w0 = calendar.iso_from_dream_week(ext.first_week)
    y1, w1 = calendar.iso_from_dream_week(last_week)
    months = ext.months
    invalid = ext.checks.invalid_frame()
    return {
        "study": study.name,
        "persons": ext.n_persons,
        "weeks": ext.n_weeks,
        "first_week": ext.first_week,
        "last_week": last_week,
        "first_iso_week": f"{y0}-W{w0:02d}",
        "last_iso_week": f"{y1}-W{w1:02d}",
        "months": len(months),
        "first_month": f"{months[0] // 12:04d}-{months[0] % 12 + 1:02d}" if months else None,
        "last_month": f"{months[-1] // 12:04d}-{months[-1] % 12 + 1:02d}" if months else None,
        "grad_scale": ext.grad_scale,
        "residence_rows": stage.rows.get("residence", 0),
        "forms": forms,
        "unknown_codes_policy": study.data.unknown_codes,
        "category_counts": ext.checks.category_frame().to_dict("records"),
        "unknown_codes": unknown.to_dict("records"),
        "validity_warnings": invalid.to_dict("records"),
        "warnings": warnings,
        "seconds": round(seconds, 2),
    }
