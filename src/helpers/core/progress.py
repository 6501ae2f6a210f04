"""Progress display for long steps (ingest, covariates over a large pool, outcome blocks).

Progress goes to the process's real standard error (``sys.__stderr__``), so inside a
notebook kernel started by papermill it reaches the terminal running ``make report`` and
never the notebook's outputs (and so never the report). A bar only appears once a step has
taken more than two seconds, and everything is silent when ``DREAM_EVAL_QUIET=1`` (the
tests set it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def quiet() -> bool:
    """True when progress output is switched off (``DREAM_EVAL_QUIET=1``)."""
    return os.environ.get("DREAM_EVAL_QUIET", "") not in ("", "0")


def bar(iterable: Iterable[T] | None = None, *, total: int | None = None, desc: str = "", unit: str = "it") -> tqdm:
    """A tqdm bar on the real stderr, shown after 2 s, silent when quiet."""
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=quiet(), file=sys.__stderr__ or sys.stderr,
                delay=2.0, mininterval=0.5, leave=False, dynamic_ncols=True)


class StatusLine:
    """A callable that shows the latest message of a step with its elapsed time.

    Used as the default ``progress`` callback of :func:`helpers.ingest.ingest`, which reports
    ``"<file>: <rows> rows"`` after each chunk.
    """

    def __init__(self, desc: str) -> None:
        self._bar = tqdm(total=None, desc=desc, bar_format="{desc}{postfix} [{elapsed}]", disable=quiet(),
                         file=sys.__stderr__ or sys.stderr, delay=2.0, mininterval=0.5, leave=False)

    def __call__(self, message: str) -> None:
        self._bar.set_postfix_str(message, refresh=False)
        self._bar.update(0)

    def close(self) -> None:
        """Remove the line."""
        self._bar.close()
