"""Tests of the synthetic DREAM generator (helpers.synth) on a small study.

References that do not come from the generator's own code:

- ISO weeks: ``helpers.core.calendar.week_columns`` and the long years 2009, 2015, 2020
  (dream.md §1.4: 53-week years 1992, 1998, 2004, 2009, 2015, 2020).
- Reform dates (dream.md §2.4, typed here by hand): ressourceforløb 81x from 1 Jan 2013,
  uddannelseshjælp 72x/14x and nytteindsats x9 from 1 Jan 2014, jobafklaring 785 from
  1 Jul 2014 (2014-W27), integrationsydelse 70x from 1 Sep 2015 (2015-W36) and
  kontanthjælp under integrationsloven 710-719 only before.
- Rates: seed 000 ("under 10 % af de aktivitetsparate kontanthjælpsmodtagere kommer i
  job"; we allow < 15 % at one year); seed 002 table 2 (of persons aged 40-59 leaving
  kontanthjælp in 2019, 23-34 % were wage earners three months later; band 20-45 %).
- Injected truth: the hazard ratio and rate ratios set in the study YAML.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
import yaml

from helpers.config import load_study
from helpers.core import calendar
from helpers.core.codes import load_code_table
from helpers.synth import SynthError, generate, params_hash, writers

ROOT = Path(__file__).resolve().parents[1]
FIRST_YEAR, LAST_YEAR = 2008, 2025
N_POOL, N_SCREENED, N_INCLUDED = 1500, 12, 8


def _write_study(folder: Path, name: str, **synthetic) -> Path:
    """A copy of the demo study with a small pool and an absolute raw_dir in ``folder``."""
    doc = yaml.safe_load((ROOT / "studies" / "demo.yaml").read_text(encoding="utf-8"))
    doc["study"]["name"] = name
    doc["data"]["raw_dir"] = str(folder / "raw")
    seed = synthetic.pop("seed", None)
    if seed is not None:
        doc["study"]["seed"] = seed
    doc["synthetic"].update({"n_pool": N_POOL, "n_screened": N_SCREENED, "n_included": N_INCLUDED, **synthetic})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth")
    path = _write_study(folder, "synthsmall", formats=["csv", "csv_semicolon", "parquet"])
    result = generate(path)
    study = load_study(path)
    raw = study.raw_dir
    extract = pd.read_csv(raw / "dream.csv", dtype={"PNR": str}, low_memory=False)
    return {"path": path, "study": study, "raw": raw, "result": result, "extract": extract, "folder": folder}


def _weekly(extract: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    cols = [c for c in extract.columns if re.fullmatch(r"y_\d{4}", c)]
    return cols, extract[cols].fillna(0).to_numpy(dtype=np.int64)


def _mondays(cols: list[str]) -> np.ndarray:
    return np.array([dt.date.fromisocalendar(*calendar.parse_week_column(c), 1) for c in cols])


def _week_index(cols: list[str], year: int, week: int) -> int:
    return cols.index(calendar.week_column(year, week))


# ----------------------------------------------------------------------------- layout
def test_week_columns_are_the_iso_weeks(small):
    cols, _ = _weekly(small["extract"])
    assert cols == calendar.week_columns(FIRST_YEAR, LAST_YEAR)
    for long_week in ("y_0953", "y_1553", "y_2053"):
        assert long_week in cols
    assert "y_1053" not in cols and "y_2153" not in cols
    assert len(cols) == sum(53 if y in (2009, 2015, 2020) else 52 for y in range(FIRST_YEAR, LAST_YEAR + 1))


def test_columns_and_ids(small):
    ex = small["extract"]
    cols = list(ex.columns)
    expected_head = ["PNR", "kon", "foed_dag", *[f"nykom{y}" for y in range(FIRST_YEAR, LAST_YEAR + 1)]]
    assert cols[: len(expected_head)] == expected_head
    months = [f"{y}_{m:02d}" for y in range(2008, LAST_YEAR + 1) for m in range(1, 13)]
    assert [c for c in cols if c.startswith("branche_")] == [f"branche_{m}" for m in months]
    assert [c for c in cols if c.startswith("grad_")] == [f"grad_{m}" for m in months]
    assert len(ex) == N_POOL
    pnr = ex["PNR"]
    assert pnr.str.fullmatch(r"\d{10}").all() and pnr.is_unique
    assert pnr.str.startswith("0").any(), "some IDs must start with 0 (leading zeros kept)"
    birth = pd.to_datetime(ex["foed_dag"])
    assert (pnr.str[:6] == birth.dt.strftime("%d%m%y")).all()
    assert set(ex["kon"]) == {1, 2}
    assert ((pnr.str[-1].astype(int) % 2 == 1) == (ex["kon"] == 1)).all()
    nykom = ex[[f"nykom{y}" for y in range(FIRST_YEAR, LAST_YEAR + 1)]].stack()
    assert set(nykom.astype(int)) <= {183, 187, 153, 253, 169, 165}
    grad = ex[[c for c in cols if c.startswith("grad_")]].stack()
    assert grad.between(0.01, 1.0).all()
    branche = ex[[c for c in cols if c.startswith("branche_")]].stack().astype(int).astype(str).str.zfill(6)
    assert branche.str.fullmatch(r"\d{6}").all()


# ----------------------------------------------------------------------------- codes
def test_codes_exist_in_the_dictionary(small):
    _, codes = _weekly(small["extract"])
    known = set(load_code_table()["code"].astype(int)) | {0}
    assert set(np.unique(codes)) <= known


def test_reform_dates_are_respected(small):
    cols, codes = _weekly(small["extract"])
    mondays = _mondays(cols)
    sundays = mondays + dt.timedelta(days=6)

    def weeks_with(mask_codes) -> np.ndarray:
        return np.isin(codes, mask_codes).any(axis=0)

    ressource = list(range(810, 819))
    assert not (weeks_with(ressource) & (sundays < dt.date(2013, 1, 1))).any()
    assert weeks_with(ressource).any()
    udh = list(range(720, 730)) + list(range(140, 150))
    assert not (weeks_with(udh) & (sundays < dt.date(2014, 1, 1))).any()
    nytte = [139, 149, 709, 719, 729, 739]
    assert not (weeks_with(nytte) & (sundays < dt.date(2014, 1, 1))).any()
    first_785 = _week_index(cols, 2014, 27)
    assert not weeks_with([785])[:first_785].any()
    assert weeks_with([785])[first_785:].any()
    w36 = _week_index(cols, 2015, 36)
    assert not weeks_with(list(range(700, 710)))[:w36].any()
    assert not weeks_with(list(range(710, 720)))[w36:].any()
    assert weeks_with(list(range(710, 720)))[:w36].any() and weeks_with(list(range(700, 710)))[w36:].any()


def test_absorbing_and_returning_exits(small):
    _, codes = _weekly(small["extract"])
    for absorbing in (999, 998):
        hit = (codes == absorbing).any(axis=1)
        first = (codes == absorbing).argmax(axis=1)
        after = np.arange(codes.shape[1])[None, :] >= first[:, None]
        assert hit.any()
        assert (codes[hit][after[hit]] == absorbing).all(), f"{absorbing} must be absorbing"
    emigrated = codes == 997
    returned = emigrated[:, :-1] & ~emigrated[:, 1:] & ~np.isin(codes[:, 1:], (998, 999))
    assert returned.any(), "some emigrants return"


# ----------------------------------------------------------------------------- determinism
def test_same_seed_same_bytes_other_seed_differs(small, tmp_path):
    again = generate(_write_study(tmp_path / "a", "synthsmall", formats=["csv"]))
    other = generate(_write_study(tmp_path / "b", "synthsmall", formats=["csv"], seed=small["study"].study.seed + 1))
    for name in ("dream.csv", "screening.csv", "questionnaires.csv", "events.csv", "costs.csv"):
        assert (again.raw_dir / name).read_bytes() == (small["raw"] / name).read_bytes(), name
    assert (other.raw_dir / "dream.csv").read_bytes() != (small["raw"] / "dream.csv").read_bytes()
    ta = json.loads((again.raw_dir / "truth.json").read_text())
    tb = json.loads((small["raw"] / "truth.json").read_text())
    for doc in (ta, tb):
        doc.pop("formats"), doc.pop("params_hash")
    assert ta == tb


def test_skip_when_unchanged_and_hash_tracks_parameters(small):
    result = generate(small["path"], formats=["csv"])
    assert result.skipped
    study = small["study"]
    changed = study.model_copy(deep=True)
    changed.synthetic.hr_self_support = 3.0
    assert params_hash(changed) != params_hash(study)
    assert json.loads((small["raw"] / "truth.json").read_text())["params_hash"] == params_hash(study)


def test_refuses_non_synthetic_study(small):
    real = small["study"].model_copy(deep=True)
    real.study.synthetic = False
    with pytest.raises(SynthError, match="synthetic"):
        generate(real)


# ----------------------------------------------------------------------------- rates
def _categories(codes: np.ndarray) -> np.ndarray:
    table = load_code_table()
    lut = np.full(1000, "unknown", dtype=object)
    lut[0] = "self_support"
    lut[table["code"].to_numpy()] = table["category"].to_numpy()
    return lut[codes]


def _employed(extract: pd.DataFrame, codes: np.ndarray, cols: list[str]) -> np.ndarray:
    """Register employment per week: empty/121-123 week with grad in its ISO-Thursday month, or 771."""
    mondays = _mondays(cols)
    thursdays = [m + dt.timedelta(days=3) for m in mondays]
    grad_cols = [f"grad_{t.year}_{t.month:02d}" for t in thursdays]
    grad = extract[sorted(set(grad_cols))].notna()
    has_job = grad[grad_cols].to_numpy()
    self_sup = np.isin(codes, (0, 121, 122, 123))
    return (self_sup & has_job) | (codes == 771)


def test_marginal_rates_within_bands(small):
    ex = small["extract"]
    cols, codes = _weekly(ex)
    cats = _categories(codes)
    start = dt.date.fromisoformat(small["study"].synthetic.inclusion_start)
    j0 = cols.index(calendar.week_column(*start.isocalendar()[:2]))
    cash = cats == "cash_benefit"
    # share of the pool on cash benefit in the first inclusion week
    assert 0.08 <= cash[:, j0].mean() <= 0.35
    # long-term recipients (all 52 previous weeks on a transfer, on cash benefit now)
    on_transfer = ~np.isin(cats, ("self_support", "emigrated", "dead"))
    long_term = cash[:, j0] & on_transfer[:, j0 - 52:j0].all(axis=1)
    assert long_term.sum() >= 100
    employed = _employed(ex, codes, cols)
    alive = ~np.isin(codes[:, j0 + 52], (997, 998, 999))
    share_1y = employed[long_term & alive, j0 + 52].mean()
    assert share_1y < 0.15, f"{share_1y:.3f} of long-term recipients employed a year later (seed 000: < 10 %)"
    # seed 002 table 2: persons 40+ ending a cash-benefit spell in 2015-2019, status 13 weeks later
    lo, hi = _week_index(cols, 2015, 1), _week_index(cols, 2019, 52)
    ended = cash[:, lo:hi + 1] & ~np.logical_or.reduce([cash[:, lo + k:hi + 1 + k] for k in range(1, 5)])
    r, c = np.nonzero(ended)
    c = c + lo
    birth = pd.to_datetime(ex["foed_dag"]).to_numpy().astype("datetime64[D]")
    monday = np.array(_mondays(cols), dtype="datetime64[D]")
    age = (monday[c] - birth[r]).astype(int) / 365.25
    r, c = r[age >= 40], c[age >= 40]
    assert len(r) >= 100
    share_job = employed[r, c + 13].mean()
    assert 0.20 <= share_job <= 0.45, f"{share_job:.3f} employed 13 weeks after leaving cash benefit"
    back = cash[r, c + 13].mean()
    assert 0.03 <= back <= 0.45


def test_included_persons_meet_the_cohort_rules(small):
    """Checked by hand on the extract, not with the generator's eligibility code."""
    ex = small["extract"].set_index("PNR")
    cols, _ = _weekly(small["extract"])
    scr = pd.read_csv(small["raw"] / "screening.csv", dtype={"PNR": str}, keep_default_na=False)
    inc = scr[scr["included"] == 1]
    assert len(inc) == N_INCLUDED and len(scr) == N_SCREENED
    table = load_code_table().set_index("code")
    for _, row in inc.iterrows():
        day = dt.date.fromisoformat(row["inclusion_date"])
        j = cols.index(calendar.week_column(*day.isocalendar()[:2]))
        person = ex.loc[row["PNR"]]
        weekly = pd.to_numeric(person[cols]).fillna(0).astype(int).to_numpy()
        code = weekly[j]
        assert table.loc[code, "subcategory"] in ("kontanthjaelp", "uddannelseshjaelp", "ressourceforloeb")
        born = dt.date.fromisoformat(person["foed_dag"])
        age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        assert 18 <= age <= 65
        assert int(person[f"nykom{day.year}"]) == 183
        before = weekly[j - 52:j]
        cats = [table.loc[x, "category"] if x else "self_support" for x in before]
        assert all(c not in ("self_support", "emigrated", "dead") for c in cats)
        cash_weeks = sum(table.loc[x, "category"] == "cash_benefit" for x in weekly[max(j - 520, 0):j + 1] if x)
        assert cash_weeks <= 260


# ----------------------------------------------------------------------------- forms
def test_forms_are_consistent_with_the_extract(small):
    raw, study = small["raw"], small["study"]
    ex = small["extract"]
    ids = set(ex["PNR"])
    read = {n: pd.read_csv(raw / f"{n}.csv", dtype={"PNR": str, "value": str}, keep_default_na=False)
            for n in ("screening", "questionnaires", "events", "costs")}
    scr = read["screening"]
    assert set(scr["PNR"]) <= ids and scr["PNR"].is_unique
    allowed = {"not_eligible_age", "exempt_from_activation", "in_medical_treatment", "other_project",
               "expected_clarified_3m", "declined"}
    inc = scr["included"] == 1
    assert (scr.loc[inc, "exclusion_reason"] == "").all() and (scr.loc[inc, "group"] == "intervention").all()
    assert set(scr.loc[~inc, "exclusion_reason"]) <= allowed
    assert (scr.loc[inc, "inclusion_date"] >= scr.loc[inc, "screening_date"]).all()
    included = set(scr.loc[inc, "PNR"])

    q = read["questionnaires"]
    assert set(q["PNR"]) <= ids and included <= set(q["PNR"])
    assert set(q["timepoint"]) == {"baseline", "followup"}
    assert set(q["rater"]) == {"self", "caseworker"}
    assert set(q["measure"]) == {"work_ability", "health", "social_situation"}
    values = q.loc[q["value"] != "", "value"].astype(int)
    assert values.between(0, 10).all() and values.nunique() > 5
    missing = (q["value"] == "").groupby(q["timepoint"]).mean()
    assert 0.01 < missing["baseline"] < missing["followup"] < 0.6

    ev = read["events"]
    assert set(ev["PNR"]) <= included
    assert set(ev["event"]) <= {"praktik_start", "praktik_end", "afklaring", "dropout"}
    afk = ev.loc[ev["event"] == "afklaring", "detail"]
    assert set(afk) <= {"job", "flexjob", "disability_pension", "education", "ressourceforloeb"}
    # every praktik_start matches a praktik code (x7/x8) in the person's DREAM week
    cols, codes = _weekly(ex)
    row_of = {p: i for i, p in enumerate(ex["PNR"])}
    for _, e in ev[ev["event"] == "praktik_start"].iterrows():
        day = dt.date.fromisoformat(e["date"])
        code = codes[row_of[e["PNR"]], cols.index(calendar.week_column(*day.isocalendar()[:2]))]
        assert code % 10 in (7, 8) and code not in (997, 998), code
    assert (ev["event"] == "praktik_start").sum() == (ev["event"] == "praktik_end").sum()

    costs = read["costs"]
    assert costs["amount_dkk"].sum() == round(study.investment.intervention_cost_total)
    assert set(costs["per_person"]) == {0}


def test_truth_files(small):
    raw, study = small["raw"], small["study"]
    truth = json.loads((raw / "truth.json").read_text(encoding="utf-8"))
    syn = study.synthetic
    assert truth["injected"]["hr_self_support"] == syn.hr_self_support
    assert truth["injected"]["praktik_rate_ratio"] == syn.praktik_rate_ratio
    assert truth["seed"] == study.study.seed and truth["n_pool"] == N_POOL
    pop = truth["population_truth"]
    fu = pop["by_horizon"]["FU"]
    assert pop["n"] >= 50
    # injected praktik rate ratio 8 and HR 2.5: the treated copies must do better
    assert fu["treated"]["praktik"] > fu["untreated"]["praktik"] + 0.15
    assert fu["treated"]["employment"] > fu["untreated"]["employment"]
    hr = pop["time_to_self_support"]["hr"]
    assert 1.2 < hr < syn.hr_self_support * 1.2
    persons = pq.read_table(raw / "truth_persons.parquet").to_pandas()
    assert len(persons) == N_POOL and (persons["group"] == "intervention").sum() == N_INCLUDED
    assert set(persons["PNR"]) == set(small["extract"]["PNR"])
    spells = pq.read_table(raw / "truth_spells.parquet").to_pandas()
    assert set(spells["world"]) == {"factual", "counterfactual"}
    cf = spells[spells["world"] == "counterfactual"]
    assert set(cf["PNR"]) == set(persons.loc[persons["group"] == "intervention", "PNR"])
    fact = spells[spells["world"] == "factual"].sort_values(["PNR", "start_week"])
    same = fact["PNR"].to_numpy()[1:] == fact["PNR"].to_numpy()[:-1]
    assert (fact["start_week"].to_numpy()[1:][same] == fact["end_week"].to_numpy()[:-1][same] + 1).all()


# ----------------------------------------------------------------------------- formats
def test_semicolon_latin1_and_parquet_round_trip(small):
    raw, ex = small["raw"], small["extract"]
    semi = pd.read_csv(raw / "dream_latin1.csv", sep=";", encoding="latin-1", dtype=str, keep_default_na=False)
    assert "bopaelskommune" in semi.columns
    assert {"Ishøj", "Brøndby", "Høje-Taastrup"} <= set(semi["bopaelskommune"])
    assert list(semi["PNR"]) == list(ex["PNR"])
    rng = np.random.default_rng(0)
    wk = [c for c in ex.columns if c.startswith("y_")]
    sample_cols = ["kon", "foed_dag", "nykom2016", "y_2053", *rng.choice(wk, 20).tolist()]
    for c in sample_cols:
        left = ex[c].astype("string").fillna("").str.replace(r"\.0$", "", regex=True)
        assert (left == semi[c]).all(), c
    g = [c for c in ex.columns if c.startswith("grad_")]
    gc = rng.choice(g, 10).tolist()
    as_float = semi[gc].replace("", np.nan).apply(lambda s: s.str.replace(",", ".").astype(float))
    np.testing.assert_allclose(as_float.to_numpy(), ex[gc].to_numpy())
    assert semi[g].apply(lambda s: s.str.contains(",").any()).any()

    table = pq.read_table(raw / "dream.parquet")
    assert str(table.schema.field("PNR").type) == "string"
    assert str(table.schema.field("y_2053").type) == "int16"
    par = table.to_pandas()
    assert list(par["PNR"]) == list(ex["PNR"])
    for c in ["y_2053", *rng.choice(wk, 20).tolist()]:
        np.testing.assert_array_equal(par[c].fillna(0).to_numpy(), ex[c].fillna(0).to_numpy())
    assert (par["foed_dag"].astype(str) == ex["foed_dag"]).all()


def test_stata_and_sas_transport_round_trip(tmp_path):
    path = _write_study(tmp_path, "synthtiny", n_pool=400, n_screened=2, n_included=1, formats=["csv", "dta", "xpt"])
    result = generate(path)
    raw = result.raw_dir
    ex = pd.read_csv(raw / "dream.csv", dtype={"PNR": str}, low_memory=False)
    wide, meta = pyreadstat.read_dta(raw / "dream.dta")
    assert list(wide["PNR"]) == list(ex["PNR"])
    assert meta.original_variable_types["foed_dag"] == "%td"
    for c in ("kon", "y_0953", "y_2053", "nykom2017", "grad_2016_06"):
        np.testing.assert_array_equal(wide[c].astype(float).fillna(-1).to_numpy(), ex[c].fillna(-1).to_numpy())
    assert (pd.to_datetime(wide["foed_dag"]).dt.strftime("%Y-%m-%d") == ex["foed_dag"]).all()
    per_year, _ = pyreadstat.read_dta(raw / "dream2020.dta")
    assert list(per_year.columns) == ["pnr", *[f"y_{w:02d}" for w in range(1, 54)]]
    np.testing.assert_array_equal(per_year["y_53"].astype(float).fillna(0).to_numpy(), ex["y_2053"].fillna(0))
    assert list(pyreadstat.read_dta(raw / "dream2019.dta")[0].columns)[-1] == "y_52"
    background, _ = pyreadstat.read_dta(raw / "dream_background.dta")
    assert list(background.columns[:3]) == ["pnr", "kon", "foed_dag"]
    assert not any(c.startswith("y_") for c in background.columns) and "grad_2025_12" in background.columns
    assert list(background["pnr"]) == list(ex["PNR"])
    xpt, meta = pyreadstat.read_xport(raw / "dream.xpt")
    assert list(xpt["PNR"]) == list(ex["PNR"])
    for c in ("y_0953", "y_1553", "branche_2012_03", "grad_2020_12"):
        left = xpt[c].replace("", np.nan) if xpt[c].dtype == object else xpt[c]
        right = ex[c].map(lambda v: f"{int(v):06d}" if pd.notna(v) else np.nan) if c.startswith("branche") else ex[c]
        pd.testing.assert_series_equal(left.reset_index(drop=True), right.reset_index(drop=True), check_names=False,
                                       check_dtype=False)
    assert set(writers.FILES) == {"csv", "csv_semicolon", "parquet", "dta", "xpt"}


def test_cli_is_quiet_and_skips(small):
    env = dict(os.environ, DREAM_EVAL_QUIET="1")
    proc = subprocess.run([sys.executable, "-m", "helpers.synth", "--study", str(small["path"]), "--formats", "csv"],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
