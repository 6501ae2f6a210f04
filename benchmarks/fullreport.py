"""The whole ``make report`` on a bench extract: a 1,000,000-person pool with ~100 intervention persons.

The study is ``studies/demo.yaml`` pointed at the cached bench extract (Parquet) with its
screening form (:func:`benchmarks.generate.bench_study` with ``full=True``), written into a
separate project root under ``data/bench/`` (``DREAM_EVAL_ROOT``), so the repository's
``studies/``, ``data/processed/`` and ``reports/`` are untouched. The runner
(:func:`helpers.runner.run`) runs in a fresh interpreter with a :class:`benchmarks.measure.TreeSampler`:
wall time per notebook from the runner's own timings, peak RSS per notebook from the
kernel processes, and the runner's RSS while it assembles the report.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import generate, measure
from helpers.core import paths
def project_root(n_persons: int) -> Path:
    """``data/bench/report_n<N>``: the project root of the full-report scenario."""
    return generate.BENCH_DIR / f"report_n{n_persons}"


def prepare(n_persons: int, log=print) -> tuple[Path, str]:
    """Generate (once) the extract and write the root with its study YAML; returns (root, study name)."""
    generate.ensure_extract(n_persons, ("parquet",), log=log)
    root = project_root(n_persons)
    (root / "studies").mkdir(parents=True, exist_ok=True)
    link = root / "notebooks"
    if not link.exists():
        link.symlink_to(paths.NOTEBOOKS_DIR)
    study_path = generate.bench_study(n_persons, "parquet", full=True, directory=root / "studies")
    # every measurement is a cold run: without this the ingest finds its store up to date and skips
    shutil.rmtree(root / "data" / "processed" / study_path.stem, ignore_errors=True)
    return root, study_path.stem


def run(n_persons: int = 1_000_000, *, kernel: str = "dream-eval", timeout: int = 7200, log=print) -> dict:
    """Run the whole report on the ``n_persons`` extract in a child interpreter; timings and peak RSS."""
    root, name = prepare(n_persons, log=log)
    env = dict(os.environ, DREAM_EVAL_ROOT=str(root))
    env["PYTHONPATH"] = os.pathsep.join([str(paths.PROJECT_ROOT), env.get("PYTHONPATH", "")])
    load_before = measure.load()
    t = time.time()
    # stderr goes to the terminal: the runner's [run] lines, progress bars, a failing notebook's message
    proc = subprocess.run([sys.executable, "-m", "benchmarks.fullreport", "--child", name, "--kernel", kernel],
                          cwd=root, env=env, stdout=subprocess.PIPE, text=True, timeout=timeout)
    wall = time.time() - t
    if proc.returncode != 0:
        return {"step": "full_report", "n_persons": n_persons, "seconds": round(wall, 1),
                "error": f"exit status {proc.returncode} (the runner's message is in the terminal output)"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(step="full_report", n_persons=n_persons, wall_seconds=round(wall, 1), load_before=load_before,
                  load_after=measure.load())
    return result


def _child(name: str, kernel: str) -> dict:
    """Inside the fresh interpreter (``DREAM_EVAL_ROOT`` set): run the report under the sampler.

    Phases: ``load_study``, ``check`` (the runner's pre-flight check of the whole extract and
    the forms, as ``make check``), one per notebook, and ``assembly`` (the HTML report and its
    files). Notebook times are the runner's own, ``load_study`` and ``check`` are measured
    here, and ``assembly`` is the rest of the runner's total.
    """
    from helpers import runner
    starts: list[tuple[str, float]] = []

    with measure.TreeSampler(interval=0.1) as sampler:
        def enter(phase: str) -> None:
            sampler.phase(phase)
            starts.append((phase, time.monotonic()))

        def log(message: str) -> None:
            print(message, file=sys.stderr, flush=True)
            if message.startswith("[run] "):
                enter(message[6:].strip())
            elif message.startswith("[check] ") and "checking" in message and sampler._phase != "check":
                enter("check")
            elif sampler._phase != "assembly" and sampler._phase.endswith(".ipynb"):
                enter("assembly")

        enter("load_study")
        result = runner.run(name, kernel=kernel, pdf=False, log=log)
        end = time.monotonic()
    measured = {}
    for (phase, t0), (_, t1) in zip(starts, [*starts[1:], ("end", end)], strict=True):
        measured[phase] = measured.get(phase, 0.0) + t1 - t0
    seconds = {phase: result.timings.get(phase, measured.get(phase, 0.0)) for phase in sampler.peaks}
    # the runner logs nothing between the last notebook and "[done]": assembly is the rest of its time
    seconds["assembly"] = max(result.seconds - sum(v for k, v in seconds.items() if k != "assembly"), 0.0)
    stages = []
    for phase, peak in sampler.peaks.items():
        stages.append({"stage": phase, "seconds": round(seconds[phase], 1),
                       "kernel_peak_rss_mb": round(peak["children_mb"], 1),
                       "runner_peak_rss_mb": round(peak["self_mb"], 1)})
    return {"seconds": result.seconds, "stages": stages,
            "peak_rss_mb": round(max(max(p["children_mb"], p["self_mb"]) for p in sampler.peaks.values()), 1)}


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.fullreport [--size N]``; ``--child`` is the measured run itself."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--kernel", default="dream-eval")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.kernel)))
        return 0
    print(json.dumps(run(args.size, kernel=args.kernel), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
