"""Peak memory of a process and its children, sampled in a background thread.

The runner starts one Jupyter kernel per notebook (a child process), so a notebook's peak
resident memory is the peak RSS of the runner's descendants while it runs. psutil samples
it every ``interval`` seconds (0.1 s by default): a spike shorter than that can be missed,
so the figures are a lower bound, accurate to the sampling. The runner's own RSS (which
assembles the report) is sampled alongside.
"""

from __future__ import annotations

import os
import threading
import time

import psutil


class TreeSampler:
    """Track peak RSS (MB) of this process and of its descendants, per named phase.

    Examples
    --------
    >>> with TreeSampler() as s:
    ...     s.phase("work")
    ...     _ = bytearray(10_000_000)
    >>> s.peaks["work"]["self_mb"] > 0
    True
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peaks: dict[str, dict[str, float]] = {}
        self.started: dict[str, float] = {}
        self._phase = "start"
        self._proc = psutil.Process(os.getpid())
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def phase(self, name: str) -> None:
        """Start attributing samples to ``name`` (one sample is taken at once)."""
        with self._lock:
            self._phase = name
            self.started.setdefault(name, time.time())
            self.peaks.setdefault(name, {"self_mb": 0.0, "children_mb": 0.0})
        self.sample()

    def sample(self) -> None:
        """Take one sample now."""
        try:
            own = self._proc.memory_info().rss
            kids = 0
            for child in self._proc.children(recursive=True):
                try:
                    kids += child.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
        except psutil.NoSuchProcess:
            return
        with self._lock:
            p = self.peaks.setdefault(self._phase, {"self_mb": 0.0, "children_mb": 0.0})
            p["self_mb"] = max(p["self_mb"], own / 2**20)
            p["children_mb"] = max(p["children_mb"], kids / 2**20)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def load() -> tuple[float, float, float]:
    """The machine's 1, 5 and 15-minute load averages (other engineers' jobs share it)."""
    return tuple(round(x, 2) for x in os.getloadavg())
