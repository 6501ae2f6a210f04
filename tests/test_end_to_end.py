"""End to end: every notebook runs through papermill on a small synthetic study.

The study is the demo design with a smaller register pool, in a temporary project root
(``DREAM_EVAL_ROOT``), so the real ``data/`` and ``reports/`` are untouched.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CPR = re.compile(r"(?<![0-9A-Za-z])\d{6}-?\d{4}(?![0-9A-Za-z])")  # not inside hex checksums

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    (root / "studies").mkdir()
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    data = yaml.safe_load((ROOT / "studies" / "demo.yaml").read_text(encoding="utf-8"))
    data["study"]["name"] = "small"
    data["data"]["raw_dir"] = "data/raw/small"
    data["data"]["first_year"] = 2012
    data["synthetic"].update(n_pool=6000, n_screened=40, n_included=30)
    data["investment"]["monte_carlo_draws"] = 200
    (root / "studies" / "small.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = dict(os.environ, DREAM_EVAL_ROOT=str(root), DREAM_EVAL_QUIET="1")
    proc = subprocess.run(
        [sys.executable, "-m", "helpers.runner", "--study", "small", "--no-pdf"],
        cwd=root, env=env, capture_output=True, text=True, timeout=900,
    )
    return root, proc


def test_runner_succeeds(small_run):
    root, proc = small_run
    assert proc.returncode == 0, f"runner failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def test_report_holds_every_section(small_run):
    root, proc = small_run
    html = (root / "reports" / "small" / "report.html").read_text(encoding="utf-8")
    for heading in ("Summary", "Data", "Population", "Outcomes", "Time to lasting self-support",
                    "Questionnaire", "Does it pay", "Power", "Methods", "Provenance", "Disclosure"):
        assert heading in html, f"report.html lacks the section {heading!r}"
    assert len(re.findall(r'class="rpt-figure"', html)) >= 8
    assert len(re.findall(r'class="rpt-table-wrap"', html)) >= 8
    assert "<script src=\"http" not in html and "In&nbsp;[" not in html
    assert "injected-parameters" not in html


def test_no_identifiers_in_any_artefact(small_run):
    root, _ = small_run
    ids = set()
    import pandas as pd

    persons = pd.read_parquet(root / "data" / "processed" / "small" / "persons.parquet", columns=["person_id"])
    ids = set(persons["person_id"].sample(200, random_state=1))
    report_dir = root / "reports" / "small"
    for path in report_dir.rglob("*"):
        if path.is_dir() or path.suffix in (".png", ".xlsx", ".pdf"):
            continue
        if path.parent.name == "notebooks":
            continue  # executed notebooks stay on the research machine; scanned by make supplement
        text = path.read_text(encoding="utf-8", errors="ignore")
        assert not CPR.search(text), f"{path.relative_to(root)} holds a CPR-shaped string"
        leaked = [i for i in ids if i in text]
        assert not leaked, f"{path.relative_to(root)} holds pseudonymised person IDs"


def test_disclosure_checklist_all_pass(small_run):
    root, _ = small_run
    log = root / "reports" / "small" / "disclosure_log.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert records and all(r["status"] == "PASS" for r in records)


def test_outcome_stage_result_matches_its_parquet(small_run):
    """Stage 03 writes outcome_results.json; it loads, and its rows are the masked outcome_results.parquet."""
    import pandas as pd

    from helpers.stages.outcomes import OutcomesResult

    root, _ = small_run
    folder = root / "data" / "processed" / "small"
    result = OutcomesResult.load(None, folder)
    masked = pd.read_parquet(folder / "outcome_results.parquet")
    pd.testing.assert_frame_equal(result.table(), masked, check_dtype=False)
    assert result.study == "small" and result.questionnaires is not None and result.results is None


def _truth_weeks_self_supported(raw: Path, years: int) -> tuple[float, float, int]:
    """Mean weeks self-supported of the included persons in weeks 0 .. 52*years - 1 after their index week.

    From truth_spells.parquet (the generator's latent states, never read by the pipeline): the
    factual world, and the counterfactual world (the same persons untreated), whose spells start
    the week after the index week (the index week itself is the same in both worlds). Only
    persons whose window ends inside the data count. Returns (factual, counterfactual, persons).
    """
    import numpy as np
    import pandas as pd

    spells = pd.read_parquet(raw / "truth_spells.parquet")
    persons = pd.read_parquet(raw / "truth_persons.parquet")
    last = int(spells["end_week"].max())
    inc = persons.loc[persons["group"] == "intervention", ["PNR", "index_week"]]
    inc = inc[inc["index_week"] + 52 * years - 1 <= last]
    selfsup = spells[spells["state"].isin(["employed", "self_support_no_job"])].merge(inc, on="PNR")

    def weeks(world: str, lo: int, hi: int) -> pd.Series:
        s = selfsup[selfsup["world"] == world]
        a = np.maximum(s["start_week"], s["index_week"] + lo)
        b = np.minimum(s["end_week"], s["index_week"] + hi)
        return s.assign(w=np.clip(b - a + 1, 0, None)).groupby("PNR")["w"].sum().reindex(inc["PNR"], fill_value=0)

    factual = weeks("factual", 0, 52 * years - 1)
    counterfactual = weeks("factual", 0, 0) + weeks("counterfactual", 1, 52 * years - 1)
    return float(factual.mean()), float(counterfactual.mean()), len(inc)


def test_trajectories_weeks_in_self_support_match_the_synthetic_truth(small_run):
    """Stage 04 against the generator's truth (issue 17, item 2).

    The intervention group's mean weeks self-supported equals the factual truth exactly (the DREAM
    codes are the latent states), and the 95% CI of the difference covers the sample effect
    (factual minus counterfactual weeks of the same persons) at 1, 2 and 5 years.
    """
    from helpers.stages.trajectories import TrajectoriesResult

    root, _ = small_run
    result = TrajectoriesResult.load(None, root / "data" / "processed" / "small")
    raw = root / "data" / "raw" / "small"
    for years in (1, 2, 5):
        factual, counterfactual, n = _truth_weeks_self_supported(raw, years)
        row = result.row("self_support", years)
        assert row.n_int == n == 30, (years, row.n_int, n)
        assert row.mean_int == pytest.approx(factual, abs=1e-9), (years, row.mean_int, factual)
        assert row.ci_low <= factual - counterfactual <= row.ci_high, (years, factual - counterfactual, row)
    assert (root / "reports" / "small" / "figures" / "trajectories_states.png").exists()
