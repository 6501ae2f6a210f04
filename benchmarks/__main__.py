"""``python -m benchmarks`` (``make bench``): register-scale benchmarks; results in ``reports/bench/``.

Parts (all by default; ``--parts`` picks some):

- ``scaling``: each step of :data:`SCALING_STEPS` at
  50,000, 200,000 and 1,000,000 persons × 939 weeks, each run in a fresh interpreter so that
  its peak RSS is its own; steps under a minute are repeated (``--repeat``, default 3) and
  the median is reported. The pipeline's and the DuckDB peer's per-person outcomes are
  compared row for row after each size (the bench fails if they differ).
- ``readstat``: Stata and SAS7BDAT ingest of the 200,000-person extract (rows/s), with the
  file in the page cache (``ingest_dta``) and read from disk (``ingest_dta_cold``: the cache is
  dropped first, which needs root; else recorded as ``cache: unknown``).
- ``full_report``: the whole report on the 1,000,000-person pool (:mod:`benchmarks.fullreport`).

Every measurement records the machine's load average (the machine is shared). Results
accumulate in ``reports/bench/bench.json`` (a re-run replaces the rows it measures) and
are summarised in ``reports/bench/bench.md`` with the scaling figure ``scaling.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

from benchmarks import generate, measure, report, steps
from helpers.core import atomic
from helpers.core import paths
SIZES = (50_000, 200_000, 1_000_000)
READSTAT_SIZE = 200_000
SCALING_STEPS = ("ingest_csv", "ingest_parquet", "raw_scan", "outcomes", "peer_duckdb", "matching")
# also available: "naive" (the pandas melt + groupby student baseline, up to 50,000 persons)
PARTS = ("scaling", "readstat", "full_report")


def run_step(step: str, n_persons: int, timeout: int = 7200) -> dict:
    """Run one step in a fresh interpreter and return its timing, peak RSS and the load around it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(paths.PROJECT_ROOT), env.get("PYTHONPATH", "")])
    load = measure.load()
    # stderr goes to the terminal: progress bars of long steps, and the traceback if one fails
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--child", step, "--size", str(n_persons)],
                          stdout=subprocess.PIPE, text=True, timeout=timeout, env=env, cwd=paths.PROJECT_ROOT)
    if proc.returncode != 0:
        return {"step": step, "n_persons": n_persons,
                "error": f"exit status {proc.returncode} (the traceback is in the terminal output)"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(step=step, n_persons=n_persons, load=load)
    return result


def page_cache(path, state: str) -> str:
    """Put ``path`` in the page cache (``"warm"``: read it once) or drop the cache (``"cold"``).

    Dropping needs root on Linux (``/proc/sys/vm/drop_caches``); returns what was done:
    ``"warm"``, ``"cold"``, or ``"unknown"`` when the cache could not be dropped.
    """
    if state == "warm":
        with open(path, "rb") as fh:
            while fh.read(1 << 24):
                pass
        return "warm"
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("1\n")
        return "cold"
    except OSError:
        return "unknown"


def measure_step(step: str, n_persons: int, repeat: int, log=print, *, before=None, name: str | None = None) -> dict:
    """Median of ``repeat`` runs when the first takes under a minute, else the single run.

    ``before()`` is called before each run (e.g. :func:`page_cache`); what it returns is recorded
    as ``cache``. ``name`` is the step's name in the results (default ``step``).
    """
    def one() -> dict:
        cache = before() if before else None
        out = run_step(step, n_persons)
        if cache:
            out["cache"] = cache
        if name:
            out["step"] = name
        return out

    runs = [one()]
    while "error" not in runs[0] and runs[0]["seconds"] < 60 and len(runs) < repeat:
        runs.append(one())
    if "error" in runs[-1]:
        return runs[-1]
    secs = [r["seconds"] for r in runs]
    out = dict(runs[int(min(range(len(runs)), key=lambda i: abs(secs[i] - statistics.median(secs))))])
    out.update(seconds=round(statistics.median(secs), 2), runs_seconds=secs,
               peak_rss_mb=round(statistics.median(r["peak_rss_mb"] for r in runs), 1),
               runs=len(runs), loads=[r["load"] for r in runs])
    log(f"[bench] {n_persons:>9,} {step:<16} " + json.dumps({k: out[k] for k in out if k not in
                                                              ("step", "n_persons", "loads", "load")}))
    return out


def _save(results: list[dict]) -> None:
    path = paths.REPORTS_DIR / "bench" / "bench.json"
    old = json.loads(path.read_text())["results"] if path.exists() else []
    keys = {(r["step"], r["n_persons"]) for r in results}
    merged = [r for r in old if (r["step"], r["n_persons"]) not in keys] + results
    atomic.write_json(path, {"machine": machine(), "results": merged})
    report.write(merged, machine(), paths.REPORTS_DIR / "bench")


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = ""
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "cpu": cpu, "memory_gb": round(mem, 1),
            "platform": platform.platform(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="register-scale benchmarks (results in reports/bench/)")
    parser.add_argument("--parts", nargs="*", default=list(PARTS), choices=PARTS)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--steps", nargs="*", default=list(SCALING_STEPS))
    parser.add_argument("--repeat", type=int, default=3, help="runs of a step under a minute (median reported)")
    parser.add_argument("--full-size", type=int, default=1_000_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        out = steps.STEPS[args.child](args.size)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        out["peak_rss_mb"] = round(usage.ru_maxrss / 1024.0, 1)
        out["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)  # whole child, less sensitive to load
        out["seconds"] = round(out["seconds"], 2)
        print(json.dumps(out))
        return 0
    if "scaling" in args.parts:
        for n in args.sizes:
            # the CSV copy is written only when a step reads it (at 1,000,000 persons it is ~2 GB)
            generate.ensure_extract(n, ("csv", "parquet") if "ingest_csv" in args.steps else ("parquet",))
            results = []
            for step in args.steps:
                if step == "naive" and n > steps.NAIVE_MAX:
                    continue
                results.append(measure_step(step, n, args.repeat))
            if {"outcomes", "peer_duckdb"} <= set(args.steps):
                cmp = steps.compare_outputs(n)
                results.append({"step": "peer_equality", "n_persons": n, **cmp})
                print(f"[bench] {n:>9,} pipeline vs peer: {cmp}", flush=True)
                if any(v for k, v in cmp.items() if "only" in k):
                    _save(results)
                    print("error: the pipeline and the DuckDB peer disagree", file=sys.stderr)
                    return 1
            _save(results)
    if "readstat" in args.parts:
        copies = generate.ensure_readstat_copies(READSTAT_SIZE)
        # warm: the file is in the page cache (read once before each run); cold: the cache is dropped first,
        # as for a file read for the first time (the research machine's case)
        _save([measure_step(f"ingest_{fmt}", READSTAT_SIZE, args.repeat, name=f"ingest_{fmt}{suffix}",
                            before=lambda p=copies[fmt], st=state: page_cache(p, st))
               for fmt in ("dta", "sas7bdat") if fmt in copies
               for state, suffix in (("warm", ""), ("cold", "_cold"))])
    if "full_report" in args.parts:
        from benchmarks import fullreport

        res = fullreport.run(args.full_size)
        print(f"[bench] full report {args.full_size:,}: " + json.dumps(res), flush=True)
        _save([res])
    print((paths.REPORTS_DIR / "bench" / "bench.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
