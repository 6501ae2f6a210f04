"""Run a study's notebooks in order with papermill and assemble the report.

``python -m helpers.runner --study demo`` (what ``make report`` calls):

1. loads and validates ``studies/<study>.yaml``;
2. generates the synthetic data if the study is synthetic and its raw files are missing;
3. runs the input checks of ``make check`` (:mod:`helpers.ingest.check`) before the
   ingest notebook (``01_ingest.ipynb``) and stops with their table when the study cannot
   run; nothing is written then;
4. executes ``notebooks/NN_*.ipynb`` in order into a staging folder, injecting the
   study's parameters; stops at the first failing notebook, naming it and the cell; a
   notebook whose inputs the study does not have is skipped (:func:`skipped_notebooks`:
   the investment without costs) and listed in ``skipped_sections.json``;
5. assembles ``report.html`` (and the manifest), applies the disclosure gate, then moves
   the staging folder onto ``reports/<study>/``, so a failed run leaves the previous
   report in place;
6. prints the PDF when a headless Chromium is available.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill as pm
from jupyter_client.manager import AsyncKernelManager

from helpers import synth
from helpers.config import Study, StudyConfigError, load_study
from helpers.core import paths
from helpers.core.atomic import replace_dir, write_json
from helpers.ingest.check import check_study
from helpers.report import assemble
from helpers.report import pdf as pdfmod
from helpers.report.assemble import AssemblyError, DisclosureFailure
from helpers.report.reporter import OUTPUT_ENV

DEFAULT_KERNEL = "dream-eval"
#: The notebook that reads the raw inputs; the input checks run before it.
INGEST_NOTEBOOK = "01_ingest.ipynb"


def _ipc_kernel_manager(socket_base: str):
    """A kernel manager that talks to the kernel over local IPC sockets instead of TCP.

    Nothing leaves the machine either way; IPC also avoids ipykernel's warning about
    unencrypted TCP in every run's output. The sockets are ``<socket_base>-<n>``: without an
    explicit base jupyter_client names them ``kernel-ipc-<n>`` in the working directory, so
    two runs from the same notebooks folder at the same time could pick the same socket and
    talk to each other's kernel ("Invalid Signature").
    """
    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", socket_base)
            super().__init__(**kwargs)

    return IPCKernelManager


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names the notebook and the failing cell."""


class InputCheckFailed(RuntimeError):
    """The input checks found errors; the message is the table of ``make check``."""


def notebook_of(stage: str, notebooks_dir: Path | None = None) -> str:
    """File name of the notebook of ``stage`` (``NN_<stage>.ipynb``)."""
    folder = notebooks_dir or paths.NOTEBOOKS_DIR
    found = sorted(folder.glob(f"[0-9][0-9]_{stage}.ipynb"))
    return found[0].name if found else f"NN_{stage}.ipynb"


def skipped_notebooks(study: Study, notebooks_dir: Path | None = None) -> dict[str, tuple[str, str]]:
    """Notebooks the study's inputs cannot feed: ``{notebook file: (reason en, reason da)}``.

    - the investment notebook when there are no intervention costs: neither
      ``investment.intervention_cost_total`` nor a costs form (``data.forms.costs``), as
      ``investment.costs_source`` requires;
    - the trajectories notebook when the study switches it off (``trajectories.enabled: false``);
    - the robustness notebook when the study switches it off (``robustness.enabled: false``).
    """
    inv = study.investment
    has_total = inv.intervention_cost_total is not None
    has_form = study.data.forms.costs is not None
    source = inv.costs_source
    out: dict[str, tuple[str, str]] = {}
    if (source == "auto" and not (has_total or has_form)) or (source == "total" and not has_total) or (
            source == "form" and not has_form):
        out[notebook_of("investment", notebooks_dir)] = (
            "the study has no intervention costs (investment.intervention_cost_total is not set and there is no "
            "costs form, data.forms.costs), so the investment calculation was skipped",
            "studiet har ingen omkostninger til indsatsen (investment.intervention_cost_total er ikke sat, og der er "
            "intet omkostningsskema, data.forms.costs), så investeringsberegningen er sprunget over",
        )
    out.update(_switched_off(study, notebooks_dir))
    return out


def _switched_off(study: Study, notebooks_dir: Path | None) -> dict[str, tuple[str, str]]:
    """Notebooks of analyses the study YAML switches off (issue 17: trajectories, robustness)."""
    out: dict[str, tuple[str, str]] = {}
    if not study.trajectories.enabled:
        out[notebook_of("trajectories", notebooks_dir)] = (
            "the study switches the trajectories analysis off (trajectories.enabled: false)",
            "studiet har slået forløbsanalysen fra (trajectories.enabled: false)",
        )
    if not study.robustness.enabled:
        out[notebook_of("robustness", notebooks_dir)] = (
            "the study switches the robustness analyses off (robustness.enabled: false)",
            "studiet har slået robusthedsanalyserne fra (robustness.enabled: false)",
        )
    return out


def input_check(study: Study, log=print) -> None:
    """Run the checks of ``make check``; raise :class:`InputCheckFailed` with their table on errors."""
    log(f"[check] {study.name}: checking the extract and the forms")
    report = check_study(study)
    if not report.ok:
        raise InputCheckFailed(report.text())
    for p in report.problems:
        log(f"[check] warning: {p.file}{', ' + p.column if p.column else ''}: {p.what}")


@dataclass
class RunResult:
    """What a run produced."""

    report_dir: Path
    html: Path
    seconds: float
    timings: dict[str, float]


def notebooks(directory: Path | None = None) -> list[Path]:
    """The pipeline notebooks ``NN_*.ipynb`` in order."""
    directory = directory or paths.NOTEBOOKS_DIR
    return sorted(p for p in directory.glob("[0-9][0-9]_*.ipynb"))


def ensure_data(study: Study, log=print) -> None:
    """Generate synthetic raw data when a synthetic study's inputs are missing."""
    try:
        study.check_inputs()
    except StudyConfigError:
        if not (study.study.synthetic and study.synthetic is not None):
            raise
        log(f"[data] generating synthetic data for {study.name} into {study.raw_dir}")
        synth.generate(study)
        study.check_inputs()


def _describe_failure(nb_path: Path, out_path: Path, err: Exception) -> str:
    """Message naming the notebook, the failing cell (1-based, as in the source notebook) and the error."""
    cell_no, first_line = "?", ""
    try:
        executed = nbformat.read(out_path, as_version=4)
        source = nbformat.read(nb_path, as_version=4)
        failing = next(
            c for c in executed.cells
            if c.get("cell_type") == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", []))
        )
        for i, cell in enumerate(source.cells, start=1):
            if cell.cell_type == "code" and cell.source == failing.source:
                cell_no = str(i)
                break
        lines = [ln for ln in failing.source.strip().splitlines() if ln.strip()]
        first_line = lines[0][:100] if lines else ""
    except Exception:  # noqa: BLE001 - best effort only
        pass
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    return (
        f"notebook {nb_path.name} failed in cell {cell_no} ({first_line!r}): {ename}: {evalue}\n"
        f"  executed copy with the traceback: {out_path}"
    )


def run(study_name: str, *, kernel: str = DEFAULT_KERNEL, pdf: bool | None = None, log=print,
        notebook_dir: Path | None = None) -> RunResult:
    """Run every notebook for ``study_name`` and publish ``reports/<study>/``.

    Raises
    ------
    StudyConfigError
        The study YAML or its inputs are unusable.
    NotebookFailed
        A notebook raised; the previous report is left in place.
    """
    t0 = time.time()
    study = load_study(study_name)
    ensure_data(study, log=log)
    to_run = notebooks(notebook_dir)
    if any(nb.name == INGEST_NOTEBOOK for nb in to_run):
        input_check(study, log=log)
    skipped = skipped_notebooks(study, notebook_dir)
    final = paths.report_dir(study.name)
    staging = final.with_name(f".staging-{study.name}-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "notebooks").mkdir(parents=True)
    old_env = os.environ.get(OUTPUT_ENV)
    os.environ[OUTPUT_ENV] = str(staging)
    timings: dict[str, float] = {}
    sockets: str | None = None  # private folder of this run's kernel sockets
    try:
        if skipped:
            write_json(staging / "skipped_sections.json",
                       [{"notebook": k, "reason_en": en, "reason_da": da} for k, (en, da) in skipped.items()])
        for nb_path in to_run:
            if nb_path.name in skipped:
                log(f"[run] {nb_path.name} skipped: {skipped[nb_path.name][0]}")
                continue
            out_path = staging / "notebooks" / nb_path.name
            log(f"[run] {nb_path.name}")
            sockets = sockets or tempfile.mkdtemp(prefix="dream-ipc-")
            t = time.time()
            try:
                pm.execute_notebook(
                    str(nb_path), str(out_path),
                    parameters={"study": study.name},
                    kernel_name=kernel, cwd=str(nb_path.parent),
                    progress_bar=False, log_output=False,
                    kernel_manager_class=_ipc_kernel_manager(str(Path(sockets) / nb_path.stem[:2])),
                )
            except Exception as err:  # papermill raises PapermillExecutionError
                message = _describe_failure(nb_path, out_path, err)
                failed_copy = staging.with_name(f".failed-{study.name}") / "notebooks" / nb_path.name
                raise NotebookFailed(message.replace(str(out_path), str(failed_copy))) from None
            timings[nb_path.name] = round(time.time() - t, 1)
        html_path = assemble.build_report(study, staging, timings=timings, started=t0, log=log)
        assemble.disclosure_gate(study, staging)
        keep = staging.with_name(f".failed-{study.name}")
        if keep.exists():
            shutil.rmtree(keep)
    except BaseException:
        failed = staging.with_name(f".failed-{study.name}")
        if failed.exists():
            shutil.rmtree(failed)
        if staging.exists():
            staging.rename(failed)
        if final.exists():
            log(f"[run] the previous report in {final} was left in place; this run's files are in {failed}")
        else:
            log(f"[run] no report was written (there was no earlier one in {final}); this run's files are in "
                f"{failed}")
        raise
    finally:
        if old_env is None:
            os.environ.pop(OUTPUT_ENV, None)
        else:
            os.environ[OUTPUT_ENV] = old_env
        if sockets:
            shutil.rmtree(sockets, ignore_errors=True)
    replace_dir(staging, final)
    html_final = final / html_path.name
    if pdf is None or pdf:
        try:
            if pdfmod.find_chromium() is not None:
                pdfmod.print_pdf(html_final, final / "report.pdf")
                log(f"[pdf] {final / 'report.pdf'}")
            elif pdf:
                log("[pdf] no headless Chromium found; run `make pdf` to install it")
            else:
                log("[pdf] skipped: no headless Chromium (`make pdf` installs one)")
        except ImportError:
            pass
        except RuntimeError as err:  # pdf.PrintFailed: the HTML report stands; say why there is no PDF
            log(f"[pdf] not printed: {err}")
    seconds = round(time.time() - t0, 1)
    log(f"[done] {html_final} in {seconds} s")
    return RunResult(report_dir=final, html=html_final, seconds=seconds, timings=timings)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--kernel", default=DEFAULT_KERNEL)
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args(argv)
    try:
        run(args.study, kernel=args.kernel, pdf=False if args.no_pdf else None)
    except StudyConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except InputCheckFailed as err:
        print(f"error: the input checks failed; nothing was run or written.\n\n{err}", file=sys.stderr)
        return 1
    except NotebookFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (assemble_errors()) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def assemble_errors() -> tuple[type[Exception], ...]:
    """Errors of report assembly that end a run with a message instead of a traceback."""
    return (AssemblyError, DisclosureFailure)


if __name__ == "__main__":
    sys.exit(main())
