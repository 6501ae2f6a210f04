"""README "Using your own data": the commands it shows, run in order on a hand-made extract.

The walk-through's bash block is read from README.md and each ``make`` line is run as shown
(in a temporary project root, ``DREAM_EVAL_ROOT``). What a user does by hand between the
commands (put the files in place, set the ``# REQUIRED`` keys) the test does in code, with
shape A of ``tests/_extracts.py``: a SAS-style semicolon latin-1 extract
``PNR;KOEN;ALDER;KOMNR;y_YYWW...`` (2010-2025) and an inclusion list with Danish column names.
This is the suite's end-to-end run of the whole pipeline on an extract the generator did not
write; the numbers asserted are those of the hand-made persons.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from _extracts import SHAPE_A_DATA, shape_a_people, write_shape_a

ROOT = Path(__file__).resolve().parents[1]
CPR = re.compile(r"(?<![0-9A-Za-z])\d{6}-?\d{4}(?![0-9A-Za-z])")
NAME = "mystudy"

pytestmark = pytest.mark.slow


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using your own data", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("   #")[0].split("  #")[0].strip() for line in block.strip().splitlines() if line.strip()]


def run(cmd: str, env: dict, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", cmd], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory):
    root = tmp_path_factory.mktemp("walk")
    (root / "studies").mkdir()
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    env = dict(os.environ, DREAM_EVAL_ROOT=str(root), DREAM_EVAL_QUIET="1")
    env.pop("DREAM_PSEUDO_KEY", None)
    cmds = readme_commands()
    assert [c.split()[0] for c in cmds] == ["make", "export", "make", "make"]
    assert cmds[0] == f"make new-study NAME={NAME}" and cmds[2] == f"make check STUDY={NAME}"
    assert cmds[3] == f"make report STUDY={NAME}"
    log = {}
    # 1. make new-study
    log["new"] = run(cmds[0], env)
    log["template"] = (root / "studies" / f"{NAME}.yaml").read_text(encoding="utf-8")
    # by hand: the extract and the inclusion list into data/raw/mystudy/
    raw = root / "data" / "raw" / NAME
    write_shape_a(raw)
    # 2. the key
    key = run(f"{cmds[1]}; echo $DREAM_PSEUDO_KEY", env).stdout.strip().splitlines()[-1]
    env["DREAM_PSEUDO_KEY"] = key
    # by hand: the REQUIRED keys, but the inclusion list still points at the empty template
    path = root / "studies" / f"{NAME}.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["study"]["title"] = "Walk-through study"
    spec["data"]["dream"].update(SHAPE_A_DATA["dream"])
    spec["data"].update(first_year=SHAPE_A_DATA["first_year"], last_year=SHAPE_A_DATA["last_year"])
    spec["cohort"].update(municipality=[183], target_subcategories=["kontanthjaelp"], programme_weeks=26)
    spec["outcomes"]["primary"] = "self_support"
    spec["power"] = {"n_per_group": 20, "scenarios": [{"outcome": "self_support", "horizon": "FU",
                                                        "control": 0.2, "intervention": 0.5}]}
    spec["survival"] = {"bootstrap_draws": 50}
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    # 3. make check: fails on the empty template
    log["check1"] = run(cmds[2], env)
    written = [p for d in ("data/processed", "reports") for p in (root / d).rglob("*") if p.is_file()]
    log["written_by_check"] = written
    # fix: point the inclusion list at the real file and map its Danish columns
    spec["data"]["forms"]["inclusion_list"] = SHAPE_A_DATA["forms"]["inclusion_list"]
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    log["check2"] = run(cmds[2], env)
    # 4. make report
    log["report"] = run(cmds[3], env, timeout=1200)
    return root, log, key


def test_new_study_writes_the_yaml_and_templates(walkthrough):
    root, log, _ = walkthrough
    assert log["new"].returncode == 0, log["new"].stderr
    text = log["template"]
    assert text.count("# REQUIRED") >= 15
    for stem in ("inclusion_list", "questionnaires", "events", "costs"):
        assert (root / "data" / "raw" / NAME / f"{stem}.csv").exists()
        sheets = pd.read_excel(root / "data" / "raw" / NAME / f"{stem}.xlsx", sheet_name=None, dtype=str)
        assert list(sheets) == [stem, "columns"] and len(sheets["columns"]) == len(sheets[stem].columns)


def test_check_lists_the_problem_then_passes(walkthrough):
    root, log, _ = walkthrough
    first = log["check1"]
    assert first.returncode != 0, first.stdout
    assert "check mystudy: 1 error(s)" in first.stdout
    row = next(line for line in first.stdout.splitlines() if line.startswith("1   | error"))
    assert "data/raw/mystudy/inclusion_list.csv" in row and "the form has a header" in row
    assert "what to do" in first.stdout
    assert log["written_by_check"] == []
    second = log["check2"]
    assert second.returncode == 0, second.stdout + second.stderr
    assert "persons in the extract: 201" in second.stdout
    assert "weeks: 834 (2010-W01 to 2025-W52)" in second.stdout
    assert "codes not in the code dictionary: 811 (52 person-weeks" in second.stdout
    assert "form screening: 25 rows, 25 linked to the extract, 0 not linked, 20 included" in second.stdout


def test_report_runs_and_the_numbers_are_the_hand_made_ones(walkthrough):
    root, log, key = walkthrough
    proc = log["report"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "[check] mystudy" in proc.stdout and "06_investment.ipynb skipped" in proc.stdout
    report = root / "reports" / NAME
    assert (report / "report.html").exists()
    skipped = json.loads((report / "skipped_sections.json").read_text(encoding="utf-8"))
    assert [s["notebook"] for s in skipped] == ["06_investment.ipynb"]
    processed = root / "data" / "processed" / NAME
    att = pd.read_parquet(processed / "attrition.parquet")

    def excluded(group, reason):
        return int(att.loc[(att["group"] == group) & (att["reason"] == reason), "n_excluded"].sum())

    n = att.set_index(["group", "reason"])
    assert int(n.loc[("control", "register_pool"), "n_before"]) == 201
    assert excluded("control", "screened_for_programme") == 25  # 20 participants + 5 listed as Kontrol
    assert excluded("control", "municipality") == 10            # X01-X10 live in 101 (KOMNR)
    assert excluded("control", "age") == 5                      # Y01-Y05 aged 80 (ALDER)
    assert excluded("control", "current_benefit") == 11         # Z01-Z10 and W01 (811 only in 2019)
    summary = json.loads((processed / "cohort_summary.json").read_text(encoding="utf-8"))
    assert summary["match_summary"]["n_eligible_control_persons"] == 150
    assert excluded("intervention", "other_group_in_inclusion_list") == 5
    cohort = pd.read_parquet(processed / "cohort.parquet")
    assert (cohort["group"] == "intervention").sum() == 20 and (cohort["group"] == "control").sum() == 20
    from helpers.ingest.pseudonym import pseudonymise

    people = shape_a_people()
    ids = dict(zip(people["role"], pseudonymise(list(people["id"]), key.encode()), strict=True))
    out = pd.read_parquet(processed / "outcomes_person.parquet")
    fu = out[(out["outcome"] == "self_support") & (out["horizon"] == "FU")].set_index("person_id")["value"]
    assert [fu[ids[f"I{i:02d}"]] for i in range(1, 11)] == [1.0] * 10    # left benefits 8 weeks after the index
    assert [fu[ids[f"I{i:02d}"]] for i in range(11, 21)] == [0.0] * 10   # stayed on kontanthjælp
    for path in report.rglob("*"):
        if path.is_dir() or path.suffix in (".png", ".xlsx", ".pdf") or path.parent.name == "notebooks":
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        assert not CPR.search(text), f"{path.relative_to(root)} holds a CPR-shaped string"
        assert not any(v in text for v in ids.values()), f"{path.relative_to(root)} holds pseudonymised IDs"
