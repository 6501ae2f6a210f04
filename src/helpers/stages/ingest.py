"""Stage 01: the DREAM extract and the project forms to one validated, pseudonymised store.

:func:`run` reads every raw input of the study, validates it, replaces person IDs by keyed
hashes and writes ``data/processed/<study>/`` atomically (:func:`helpers.ingest.ingest`):
``persons``, ``residence``, ``weekly``, ``monthly``, ``forms_*``, ``ingest_summary.json`` and,
last, ``manifest.json`` (the loaders of :mod:`helpers.core.store` refuse a store without it).
It returns an :class:`~helpers.ingest.result.IngestResult`: the typed content of
``ingest_summary.json``, with the manifest in memory. Re-running with unchanged inputs,
parameters and key writes nothing and returns the stored result (``skipped``).

Later stages read the store through :mod:`helpers.core.store`, and the summary with
``IngestResult.load(study)``.
"""

from __future__ import annotations

from helpers.ingest import ingest
from helpers.ingest.result import CategoryCount, IngestResult, IngestWarning, InvalidCode, UnknownCode

__all__ = ["CategoryCount", "IngestResult", "IngestWarning", "InvalidCode", "UnknownCode", "run"]


def run(study, *, force: bool = False, write: bool = True) -> IngestResult:
    """Ingest the study's raw inputs into its processed store.

    Parameters
    ----------
    study : Study
    force : bool
        Re-ingest even when inputs, parameters and key are unchanged.
    write : bool
        Commit the store (``False``: read, validate and summarise only; nothing in
        ``data/processed/<study>/`` changes).

    Returns
    -------
    IngestResult

    Raises
    ------
    helpers.ingest.IngestError
        Invalid input; the message names file, column and data row and what to do. Nothing
        is written.
    helpers.ingest.pseudonym.PseudonymKeyError
        No usable pseudonymisation key.
    """
    return ingest(study, force=force, write=write)
