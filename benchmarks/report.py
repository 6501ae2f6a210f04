"""``reports/bench/bench.md`` and ``scaling.png`` from the accumulated bench results."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks import scaling  # noqa: E402
from helpers.core import atomic# noqa: E402

TARGET_SECONDS = 15 * 60
TARGET_RSS_MB = 8 * 1024


def _fmt_s(s) -> str:
    return "" if s is None or pd.isna(s) else (f"{s:,.0f}" if s >= 100 else f"{s:.2f}")


def _ex_row(r) -> str:
    return (f"| {r['step']} | {r['sizes']} | {r['time_exponent']:.2f} | {r['memory_exponent']:.2f} | "
            f"{r['national_seconds'] / 60:,.1f} / {r['national_seconds_marginal'] / 60:,.1f} min | "
            f"{r['national_rss_mb'] / 1024:,.1f} / {r['national_rss_mb_marginal'] / 1024:,.1f} GB |")


def timings_table(results: list[dict]) -> pd.DataFrame:
    """One row per measured step and size (``seconds``, ``peak_rss_mb``) for the scaling part."""
    rows = [r for r in results if "seconds" in r and "peak_rss_mb" in r and r["step"] != "full_report"]
    return pd.DataFrame(rows, columns=["step", "n_persons", "seconds", "peak_rss_mb", "cpu_seconds", "runs", "loads",
                                       "rows_per_second"]) if rows else pd.DataFrame(
        columns=["step", "n_persons", "seconds", "peak_rss_mb"])


def markdown(results: list[dict], machine: dict) -> str:
    """The bench report as markdown."""
    lines = ["# Benchmarks", "",
             f"Machine: {machine.get('cpus')} cores ({machine.get('cpu')}), {machine.get('memory_gb')} GB, "
             f"Python {machine.get('python')}, {machine.get('platform')}; written {machine.get('created')}. "
             "The machine is shared: `load` is the 1-minute load average before each run.", ""]
    table = timings_table(results)
    errors = [r for r in results if "error" in r]
    if not table.empty:
        lines += ["## Steps", "", "| persons | step | seconds (median) | runs | CPU seconds | peak RSS (MB) | load | notes |",
                  "|---:|---|---:|---:|---:|---:|---|---|"]
        for r in sorted((r for r in results if r in table.to_dict("records") or ("seconds" in r and "peak_rss_mb" in r
                                                                                  and r["step"] != "full_report")),
                        key=lambda r: (r["n_persons"], r["step"])):
            loads = r.get("loads") or [r.get("load")]
            load = ", ".join(f"{x[0]:.1f}" for x in loads if x)
            note = f"{r['rows_per_second']:,.0f} rows/s" if r.get("rows_per_second") else ""
            lines.append(f"| {r['n_persons']:,} | {r['step']} | {_fmt_s(r['seconds'])} | {r.get('runs', 1)} | "
                         f"{_fmt_s(r.get('cpu_seconds'))} | {r['peak_rss_mb']:,.0f} | {load} | {note} |")
        lines.append("")
    eq = [r for r in results if r["step"] == "peer_equality"]
    piv = table.pivot_table(index="n_persons", columns="step", values=["seconds", "peak_rss_mb"]) if not table.empty \
        else None
    if piv is not None and ("seconds", "outcomes") in piv and ("seconds", "peer_duckdb") in piv:
        lines += ["## Pipeline vs DuckDB peer (outcome step)", "",
                  "| persons | pipeline s | peer s | time pipeline/peer | CPU pipeline/peer | pipeline MB | peer MB "
                  "| memory pipeline/peer | rows differing |", "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        cpu = table.pivot_table(index="n_persons", columns="step", values="cpu_seconds") \
            if table["cpu_seconds"].notna().any() else None
        for n, row in piv.iterrows():
            ps, qs = row[("seconds", "outcomes")], row[("seconds", "peer_duckdb")]
            pm, qm = row[("peak_rss_mb", "outcomes")], row[("peak_rss_mb", "peer_duckdb")]
            try:
                cr = f"{cpu.loc[n, 'outcomes'] / cpu.loc[n, 'peer_duckdb']:.2f}"
            except (AttributeError, KeyError, TypeError, ZeroDivisionError):
                cr = ""
            if pd.isna(ps) or pd.isna(qs):
                continue
            e = next((x for x in eq if x["n_persons"] == n), None)
            diff = ("not compared" if e is None else
                    f"{e['persons_only_pipeline'] + e['persons_only_peer']} of {e['persons_rows']:,} persons, "
                    f"{e['years_only_pipeline'] + e['years_only_peer']} of {e['years_rows']:,} year cells")
            lines.append(f"| {n:,} | {_fmt_s(ps)} | {_fmt_s(qs)} | {ps / qs:.2f} | {cr} | {pm:,.0f} | {qm:,.0f} | "
                         f"{pm / qm:.2f} | {diff} |")
        lines.append("")
    scal = table[table["step"].isin(["ingest_csv", "ingest_parquet", "raw_scan", "outcomes", "peer_duckdb",
                                     "matching"])]
    if not scal.empty:
        ex = scaling.exponents(scal)
        if not ex.empty:
            lines += ["## Scaling exponents and the national extract", "",
                      "Fitted by least squares on log-log over the sizes shown (1.0 = linear). National: "
                      f"{scaling.NATIONAL_PERSONS:,} persons × {scaling.NATIONAL_WEEKS:,} weeks, extrapolated from the "
                      "largest size along the fitted exponent, times 1,750/939 for the longer extract (assumed "
                      "linear in weeks; not measured).", "",
                      "CPU exponent: the same fit on CPU seconds, less disturbed by the other jobs on the machine.", "",
                      "| step | sizes | time exponent | memory exponent | national time (exponent / marginal) "
                      "| national peak RSS (exponent / marginal) | CPU exponent | national CPU time |",
                      "|---|---|---:|---:|---:|---:|---:|---:|"]
            for _, r in ex.iterrows():
                lines.append(_ex_row(r) + f" {r['cpu_exponent']:.2f} | {r['national_cpu_seconds'] / 60:,.1f} min |")
            lines.append("")
    for r in (r for r in results if r["step"] == "full_report" and "stages" in r):
        ok_t = r["seconds"] < TARGET_SECONDS
        ok_m = r["peak_rss_mb"] < TARGET_RSS_MB
        lines += [f"## Whole report on {r['n_persons']:,} persons", "",
                  f"Total {r['seconds']:,.0f} s ({r['seconds'] / 60:.1f} min; target 15 min: "
                  f"{'met' if ok_t else 'NOT met'}), peak RSS {r['peak_rss_mb']:,.0f} MB (target 8 GB: "
                  f"{'met' if ok_m else 'NOT met'}); load {r.get('load_before')} before, {r.get('load_after')} after.",
                  "", "| stage | seconds | kernel peak RSS (MB) | runner peak RSS (MB) |", "|---|---:|---:|---:|"]
        for s in r["stages"]:
            lines.append(f"| {s['stage']} | {_fmt_s(s['seconds'])} | {s['kernel_peak_rss_mb']:,.0f} | "
                         f"{s['runner_peak_rss_mb']:,.0f} |")
        lines.append("")
    full = [r for r in results if r["step"] == "full_report" and "stages" in r]
    if len({r["n_persons"] for r in full}) >= 2:
        rows = [{"step": s["stage"], "n_persons": r["n_persons"], "seconds": s["seconds"],
                 "peak_rss_mb": max(s["kernel_peak_rss_mb"], s["runner_peak_rss_mb"])}
                for r in full for s in r["stages"] if s["seconds"]]
        rows += [{"step": "whole report", "n_persons": r["n_persons"], "seconds": r["seconds"],
                  "peak_rss_mb": r["peak_rss_mb"]} for r in full]
        ex = scaling.exponents(pd.DataFrame(rows))
        lines += ["## Whole report: scaling by stage", "",
                  "Exponents over the sizes shown; national = extrapolated along them (× 1,750/939 weeks, assumed "
                  "linear in weeks).", "",
                  "| stage | sizes | time exponent | memory exponent | national time (exponent / marginal) "
                  "| national peak RSS (exponent / marginal) |",
                  "|---|---|---:|---:|---:|---:|"]
        for _, r in ex.iterrows():
            lines.append(_ex_row(r))
        lines.append("")
    if errors:
        lines += ["## Errors", ""] + [f"- {r['step']} at {r['n_persons']:,}: {r['error']}" for r in errors] + [""]
    return "\n".join(lines)


def write(results: list[dict], machine: dict, out_dir: Path) -> None:
    """Write ``bench.md`` and (with two sizes or more) ``scaling.png`` into ``out_dir``."""
    atomic.write_text(out_dir / "bench.md", markdown(results, machine))
    table = timings_table(results)
    table = table[~table["step"].isin(["naive", "ingest_dta", "ingest_sas7bdat", "ingest_dta_cold",
                                       "ingest_sas7bdat_cold"])]
    if table["n_persons"].nunique() >= 2:
        fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.4))
        scaling.figure(table, a, b, c)
        a.set_title("wall time per step (shared machine)")
        b.set_title("peak resident memory per step")
        c.set_title("CPU time per step")
        fig.tight_layout()
        with atomic.atomic_path(out_dir / "scaling.png") as tmp:
            fig.savefig(tmp, dpi=120, format="png")
        plt.close(fig)
