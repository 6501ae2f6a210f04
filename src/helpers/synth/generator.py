"""Orchestration: study YAML -> simulated register, selection, effects, forms, truth, files."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter

from helpers.config import Study, load_study
from helpers.core import calendar
from helpers.core.atomic import write_csv, write_json, write_parquet
from helpers.core.codes import CATEGORY_INDEX, CodeBook
from helpers.synth import design, forms, truth, writers
from helpers.synth.coding import (
    CB,
    DEAD,
    DP,
    EMIG,
    FLEX,
    PENSION,
    SELF_EMP,
    validity_violations,
)
from helpers.synth.employment import monthly_employment
from helpers.synth.model import NEVER, SEGMENTS, Chain, Effects, initial_chain, simulate
from helpers.synth.population import MUNICIPALITIES, make_population

#: Bump when the generator's output changes for the same parameters (part of the hash).
GENERATOR_VERSION = "1.0.0"
#: Seed offset of the generator (docs/architecture.md "Randomness": synth 0).
SEED_OFFSET = 0
FORM_NAMES = ("screening", "questionnaires", "events", "costs")
TRUTH_JSON = "truth.json"
TRUTH_PERSONS = "truth_persons.parquet"
TRUTH_SPELLS = "truth_spells.parquet"


class SynthError(RuntimeError):
    """The synthetic data cannot be generated for this study (message says why and what to do)."""


@dataclass
class SynthResult:
    """What :func:`generate` did."""

    study: str
    raw_dir: Path
    files: list[Path]
    skipped: bool
    seconds: float
    summary: dict = field(default_factory=dict)


def params_hash(study: Study) -> str:
    """Hash of everything the generated files depend on (regenerate when it changes)."""
    payload = {
        "generator": GENERATOR_VERSION,
        "seed": study.study.seed,
        "synthetic": study.synthetic.model_dump(mode="json", exclude={"formats"}) if study.synthetic else None,
        "data": study.data.model_dump(mode="json"),
        "cohort": study.cohort.model_dump(mode="json"),
        "horizons": [h.model_dump(mode="json") for h in study.outcomes.horizons],
        "questionnaires": study.outcomes.questionnaires.model_dump(mode="json"),
        "lasting_weeks": study.survival.lasting_weeks,
        "cost_total": study.investment.intervention_cost_total,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _resolve(study: str | Path | Study) -> Study:
    return study if isinstance(study, Study) else load_study(study)


def expected_files(study: Study, formats: list[str]) -> list[Path]:
    """Files :func:`generate` writes for ``formats`` (forms and truth included)."""
    raw = study.raw_dir
    files = [raw / writers.FILES[f] for f in formats]
    if "dta" in formats:
        files += [raw / f"dream{y}.dta" for y in range(study.data.first_year, study.data.last_year + 1)]
        files.append(raw / writers.BACKGROUND_DTA)
    files += [study.form_file(f) or raw / f"{f}.csv" for f in FORM_NAMES]
    return files + [raw / TRUTH_PERSONS, raw / TRUTH_SPELLS, raw / TRUTH_JSON]


def _up_to_date(study: Study, formats: list[str], digest: str) -> bool:
    tj = study.raw_dir / TRUTH_JSON
    if not tj.exists() or not all(p.exists() for p in expected_files(study, formats)):
        return False
    try:
        return json.loads(tj.read_text(encoding="utf-8")).get("params_hash") == digest
    except (OSError, ValueError):
        return False


# ----------------------------------------------------------------------------- the build
@dataclass
class Bundle:
    """Everything generated for one study, before writing."""

    table: object  # pyarrow.Table
    municipality_names: np.ndarray
    forms: dict[str, pd.DataFrame]
    truth: dict
    truth_persons: pd.DataFrame
    truth_spells: pd.DataFrame


def _slots(study: Study, rng: np.random.Generator, first_week: int, last_week: int) -> pd.DataFrame:
    """Screening slots: index week, inclusion date, screening date, group start."""
    syn = study.synthetic
    start = dt.date.fromisoformat(syn.inclusion_start)
    end = dt.date.fromisoformat(syn.inclusion_end)
    w0, w1 = calendar.dream_week_of_date(start), calendar.dream_week_of_date(end)
    if w0 - 160 < first_week or w1 + 13 > last_week:
        raise SynthError(
            f"synthetic.inclusion_start/end ({start}..{end}) must lie at least 3 years after "
            f"data.first_year and a quarter before the end of data.last_year"
        )
    n = syn.n_screened
    if syn.design == "rolling":
        weeks = np.sort(rng.integers(w0, w1 + 1, n))
        incl = np.array([np.datetime64(calendar.monday_of_dream_week(int(w)), "D") for w in weeks])
        incl = incl + rng.integers(0, 5, n).astype("timedelta64[D]")
        screen = incl - rng.integers(0, 22, n).astype("timedelta64[D]")
        group = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    else:
        step = max(1, round(52 / syn.groups_per_year))
        starts = np.arange(w0, w1 + 1, step)
        per = np.full(len(starts), n // len(starts))
        per[: n % len(starts)] += 1
        weeks = np.repeat(starts, per)
        incl = np.array([np.datetime64(calendar.monday_of_dream_week(int(w)), "D") for w in weeks])
        screen = incl - rng.integers(7, 43, n).astype("timedelta64[D]")
        group = incl.copy()
    return pd.DataFrame({"week": weeks, "inclusion": incl, "screening": screen, "group": group})


def _select(study: Study, slots: pd.DataFrame, elig: np.ndarray, near: np.ndarray, weeks: np.ndarray,
            rng: np.random.Generator) -> design.Selection:
    """Pick one person per slot; include a random ``n_included`` of the eligible (per group if grouped)."""
    syn = study.synthetic
    n = len(slots)
    col = {int(w): k for k, w in enumerate(weeks)}
    n_age = min(int(round(0.04 * n)), n - syn.n_included)
    age_slots = set(rng.choice(n, n_age, replace=False).tolist()) if n_age else set()
    chosen = np.zeros(elig.shape[0], dtype=bool)
    rows = np.empty(n, dtype=np.int64)
    age_fail = np.zeros(n, dtype=bool)
    for i, w in enumerate(slots["week"].to_numpy()):
        k = col[int(w)]
        pool = np.flatnonzero(near[:, k] & ~chosen) if i in age_slots else np.array([], dtype=np.int64)
        if pool.size:
            age_fail[i] = True
        else:
            pool = np.flatnonzero(elig[:, k] & ~chosen)
        if not pool.size:
            raise SynthError(
                f"only {int(chosen.sum())} persons could be screened: no eligible person left at "
                f"{calendar.monday_of_dream_week(int(w))}; raise synthetic.n_pool or "
                f"synthetic.share_study_municipality, or lower synthetic.n_screened"
            )
        rows[i] = rng.choice(pool)
        chosen[rows[i]] = True
    # inclusion: spread n_included over slots (per group for group designs)
    candidates = np.flatnonzero(~age_fail)
    if syn.design == "groups":
        included = np.zeros(n, dtype=bool)
        groups = slots["group"].to_numpy()
        uniq = np.unique(groups)
        quota = np.full(len(uniq), syn.n_included // len(uniq))
        quota[: syn.n_included % len(uniq)] += 1
        for g, q in zip(uniq, quota, strict=True):
            cand = candidates[groups[candidates] == g]
            included[rng.choice(cand, min(q, cand.size), replace=False)] = True
    else:
        included = np.zeros(n, dtype=bool)
        included[rng.choice(candidates, syn.n_included, replace=False)] = True
    if included.sum() < syn.n_included:
        raise SynthError(
            f"only {int(included.sum())} of synthetic.n_included={syn.n_included} could be included "
            f"(too few eligible screened persons per group); raise synthetic.n_pool or synthetic.n_screened"
        )
    reasons = np.array(design.EXCLUSION_REASONS, dtype=object)[
        rng.choice(len(design.EXCLUSION_REASONS), n, p=design.EXCLUSION_WEIGHTS)
    ]
    reasons = np.where(age_fail, "not_eligible_age", reasons)
    reasons = np.where(included, "", reasons).astype(object)
    incl = slots["inclusion"].to_numpy().astype("datetime64[D]")
    return design.Selection(
        rows=rows,
        screening_date=slots["screening"].to_numpy().astype("datetime64[D]"),
        included=included,
        exclusion_reason=reasons,
        inclusion_date=np.where(included, incl, np.datetime64("NaT")),
        index_week=np.where(included, slots["week"].to_numpy(), -1),
    )


def _restart_chain(snapshots: dict[int, Chain], rows: np.ndarray, weeks: np.ndarray) -> Chain:
    parts, order = [], []
    for w in np.unique(weeks):
        m = np.flatnonzero(weeks == w)
        parts.append(snapshots[int(w)].take(rows[m]))
        order.append(m)
    chain = Chain.stack(parts)
    inv = np.empty(len(rows), dtype=np.int64)
    inv[np.concatenate(order)] = np.arange(len(rows))
    return chain.take(inv)


def build(study: Study) -> Bundle:
    """Generate everything for ``study`` (no files written)."""
    syn = study.synthetic
    first_year, last_year = study.data.first_year, study.data.last_year
    first_week = calendar.dream_week_from_iso(first_year, 1)
    last_week = calendar.dream_week_from_iso(last_year, calendar.iso_weeks_in_year(last_year))
    burn_week = calendar.dream_week_from_iso(first_year - syn.burn_in_years, 1)
    years = np.arange(first_year, last_year + 1)
    root = np.random.default_rng(study.study.seed + SEED_OFFSET)
    rng_pop, rng_init, rng_main, rng_slots, rng_rerun, rng_forms = root.spawn(6)
    codebook = CodeBook.default(study.data.category_overrides)

    # 1. population and the untreated world
    pop = make_population(syn.n_pool, dt.date.fromisoformat(syn.inclusion_start), years, syn.municipality,
                          syn.share_study_municipality, rng_pop)
    slots = _slots(study, rng_slots, first_week, last_week)
    window = np.unique(slots["week"].to_numpy())
    if syn.design == "rolling":
        window = np.arange(window.min(), window.max() + 1)
    chain0 = initial_chain(pop.persons, burn_week, rng_init)
    main = simulate(pop.persons, chain0, burn_week, last_week, rng_main, record_from=first_week,
                    snapshot_weeks=frozenset(int(w) for w in window))
    view = design.RegisterView(first_week, main.codes, pop.persons.birth, pop.residence, years)

    # 2. eligibility at the candidate index weeks and selection
    cohort = study.cohort
    municipalities = cohort.municipality or [syn.municipality]
    elig_any = design.eligibility(view, cohort.model_copy(update={"municipality": []}), window, codebook)
    local = np.ones_like(elig_any)
    for k, w in enumerate(window):
        monday = calendar.monday_of_dream_week(int(w))
        for year in {(monday + dt.timedelta(days=d)).year for d in (0, 3, 6)}:
            local[:, k] &= np.isin(view.municipality_in(year), [syn.municipality])
            local[:, k] &= np.isin(view.municipality_in(year), municipalities)
    elig = elig_any & local
    wide = cohort.model_copy(update={"municipality": [], "age_min": max(cohort.age_min - 3, 15),
                                     "age_max": cohort.age_max + 3})
    near = design.eligibility(view, wide, window, codebook) & local & ~elig
    selection = _select(study, slots, elig, near, window, rng_slots)

    # 3. treated persons (factual + counterfactual) and the population-truth clones
    inc = np.flatnonzero(selection.included)
    t_rows = selection.rows[inc]
    t_weeks = selection.index_week[inc].astype(np.int64)
    ever = elig_any.any(axis=1)
    clone_rows = np.flatnonzero(ever)
    if clone_rows.size > syn.max_clones:
        clone_rows = np.sort(rng_rerun.choice(clone_rows, syn.max_clones, replace=False))
    first_col = elig_any[clone_rows].argmax(axis=1)
    clone_weeks = window[first_col].astype(np.int64)
    base_rows = np.concatenate([t_rows, clone_rows])
    base_weeks = np.concatenate([t_weeks, clone_weeks])
    m = len(base_rows)
    rows2 = np.concatenate([base_rows, base_rows])
    weeks2 = np.concatenate([base_weeks, base_weeks])
    chain = _restart_chain(main.snapshots, rows2, weeks2)
    effect_weeks = syn.effect_weeks or cohort.programme_weeks
    treated_copy = np.r_[np.ones(m, bool), np.zeros(m, bool)]
    start = weeks2 + 1
    never = np.full(2 * m, NEVER, dtype=np.int32)
    effects = Effects(
        hr_self_support=syn.hr_self_support,
        praktik_rate_ratio=syn.praktik_rate_ratio,
        afklaring_rate_ratio=syn.afklaring_rate_ratio,
        hr_from=np.where(treated_copy, start, never).astype(np.int32),
        hr_to=np.where(treated_copy, (start + syn.hr_duration_weeks) if syn.hr_duration_weeks else NEVER,
                       never).astype(np.int32),
        window_from=np.where(treated_copy, start, never).astype(np.int32),
        window_to=np.where(treated_copy, start + effect_weeks, never).astype(np.int32),
    )
    rerun_from = int(start.min()) if m else last_week
    rerun = simulate(pop.persons.take(rows2), chain, rerun_from, last_week, rng_rerun, start=start, effects=effects,
                     keys=np.r_[np.arange(m), np.arange(m)], n_streams=max(m, 1), record_from=rerun_from)

    # splice the factual trajectories of included persons into the register
    codes, states, degree, industry = main.codes, main.state, main.degree, main.industry
    for i, (r, w) in enumerate(zip(t_rows, t_weeks, strict=True)):
        a = int(w) + 1 - first_week
        b = int(w) + 1 - rerun_from
        codes[r, a:] = rerun.codes[i, b:]
        states[r, a:] = rerun.state[i, b:]
        degree[r, a:] = rerun.degree[i, b:]
        industry[r, a:] = rerun.industry[i, b:]
    bad = validity_violations(codes, first_week)
    if len(bad):
        raise SynthError(f"generator bug: codes outside their validity period:\n{bad.to_string(index=False)}")

    # 4. monthly employment and residence columns
    monthly = monthly_employment(degree, industry, first_week)
    nykom = pop.residence.copy()
    for j, y in enumerate(years):
        col = calendar.dream_week_of_date(dt.date(int(y), 1, 1)) - first_week
        gone = np.isin(states[:, max(col, 0)], [EMIG, DEAD])
        unborn = pop.persons.birth > np.datetime64(dt.date(int(y), 1, 1))
        nykom[gone | unborn, j] = 0
    week_names = calendar.week_columns(first_year, last_year)
    table = writers.extract_table(pop.pnr, pop.persons.sex, pop.persons.birth, nykom, years, codes, week_names,
                                  monthly.months, monthly.branche_strings(), monthly.grad)
    last_known = np.where(nykom > 0, nykom, 0)
    idx_last = (last_known > 0).cumsum(axis=1).argmax(axis=1)
    names = np.array([MUNICIPALITIES.get(int(c), str(int(c))) for c in last_known[np.arange(len(nykom)), idx_last]],
                     dtype=object)
    names[last_known.max(axis=1) == 0] = None

    # 5. truth on aligned latent trajectories
    horizons = {h.key: h.weeks for h in study.outcomes.horizons}
    length = max([*horizons.values(), effect_weeks + 13]) + 40
    r_first = rerun.first_week
    a_state = truth.aligned(rerun.state, r_first, weeks2, length)
    a_codes = truth.aligned(rerun.codes, r_first, weeks2, length)
    flags = truth.outcome_flags(a_state, a_codes, horizons)
    tte = truth.time_to_self_support(a_state, study.survival.lasting_weeks)
    n_t = len(t_rows)
    arm_sample = np.array(["factual"] * n_t + ["clone"] * (m - n_t) + ["counterfactual"] * n_t + ["clone0"] * (m - n_t))
    sample_flags = flags[np.isin(flags["row"], np.r_[np.arange(n_t), m + np.arange(n_t)])]
    sample = truth.share_table(sample_flags, arm_sample, ("factual", "counterfactual"))
    arm_pop = np.array(["x"] * n_t + ["treated"] * (m - n_t) + ["x"] * n_t + ["untreated"] * (m - n_t))
    population = truth.share_table(flags, arm_pop, ("treated", "untreated"))
    marginal = _marginal_hr(tte, arm_pop)

    # 6. forms
    index_state = np.array([main.snapshots[int(w)].state[r] for r, w in zip(t_rows, t_weeks, strict=True)],
                           dtype=np.int8)
    ev = forms.events(pop.pnr[t_rows], selection.inclusion_date[inc], t_weeks, index_state, a_state[:n_t],
                      a_codes[:n_t], cohort.programme_weeks, syn.dropout_share, rng_forms)
    q_frame = _questionnaires(study, pop, selection, states, first_week, window, rng_forms)
    total = study.investment.intervention_cost_total
    cost = forms.costs(syn.cost_items, total if total is not None else 100_000.0 * syn.n_included, t_weeks,
                       cohort.programme_weeks)
    form_frames = {"screening": selection.frame(pop.pnr), "questionnaires": q_frame, "events": ev, "costs": cost}

    # 7. truth files
    group = np.full(len(pop), "register", dtype=object)
    group[selection.rows] = "screened"
    group[t_rows] = "intervention"
    iw = np.full(len(pop), -1, dtype=np.int32)
    iw[t_rows] = t_weeks
    persons_truth = pd.DataFrame(
        {
            "PNR": pop.pnr,
            "segment": np.asarray(SEGMENTS, dtype=object)[pop.persons.segment],
            "work_ability": pop.persons.ability.astype(np.float64).round(4),
            "group": group,
            "index_week": iw,
            "eligible_any_window_week": ever,
            "eligible_local_window_weeks": elig.sum(axis=1).astype(np.int16),
        }
    )
    cf = _counterfactual_columns(flags, tte, n_t, m, horizons)
    persons_truth = persons_truth.merge(cf.assign(PNR=pop.pnr[t_rows]), on="PNR", how="left")
    spells = truth.spells(states, first_week)
    spells.insert(0, "PNR", pop.pnr[spells.pop("row").to_numpy()])
    spells.insert(1, "world", "factual")
    cf_spells = truth.spells(rerun.state[m:m + n_t], r_first)
    cf_row = cf_spells.pop("row").to_numpy()
    first_after = t_weeks[cf_row] + 1
    keep = cf_spells["end_week"].to_numpy() >= first_after
    cf_spells = cf_spells[keep].copy()
    cf_spells["start_week"] = np.maximum(cf_spells["start_week"].to_numpy(), first_after[keep]).astype(np.int32)
    cf_spells.insert(0, "PNR", pop.pnr[t_rows][cf_row[keep]])
    cf_spells.insert(1, "world", "counterfactual")
    spells = pd.concat([spells, cf_spells], ignore_index=True)

    calib = _calibration(view, states, codes, monthly, elig, window, pop, codebook, first_week)
    truth_doc = {
        "note": "Synthetic data with an injected effect. For tests and documentation only; never read by the pipeline.",
        "generator_version": GENERATOR_VERSION,
        "study": study.name,
        "seed": study.study.seed,
        "seed_offset": SEED_OFFSET,
        "n_pool": len(pop),
        "first_year": first_year,
        "last_year": last_year,
        "injected": {
            "hr_self_support": syn.hr_self_support,
            "hr_applies_to": "weekly hazard of moving from a benefit state into self-support (employed or not), "
                             "from the week after the inclusion week",
            "hr_duration_weeks": syn.hr_duration_weeks,
            "praktik_rate_ratio": syn.praktik_rate_ratio,
            "afklaring_rate_ratio": syn.afklaring_rate_ratio,
            "afklaring_applies_to": "hazards of moving to ledighedsydelse, flexjob and disability pension",
            "effect_weeks": effect_weeks,
            "questionnaire_effect": syn.questionnaire_effect,
            "dropout_share": syn.dropout_share,
            "selection": "included persons are a random draw among persons eligible by the cohort rules "
                         "(no selection on unobservables); exclusions at screening are random",
        },
        "intervention": {
            "n_screened": int(len(selection.rows)),
            "n_included": int(n_t),
            "first_index_week": int(t_weeks.min()) if n_t else None,
            "last_index_week": int(t_weeks.max()) if n_t else None,
            "design": syn.design,
        },
        "definitions": truth.__doc__.strip(),
        "sample_truth": {"arms": "included persons: factual (treated) vs counterfactual (same persons untreated, "
                                 "common random numbers)", "by_horizon": sample},
        "population_truth": {"arms": "persons eligible (any municipality) at a window week, each copied "
                                     "treated and untreated from their first eligible week",
                             "n": int(m - n_t), "by_horizon": population, "time_to_self_support": marginal},
        "calibration": calib,
    }
    return Bundle(table, names, form_frames, truth_doc, persons_truth, spells)


def _counterfactual_columns(flags: pd.DataFrame, tte: pd.DataFrame, n_t: int, m: int,
                            horizons: dict[str, int]) -> pd.DataFrame:
    out = pd.DataFrame(index=np.arange(n_t))
    for world, offset in (("factual", 0), ("counterfactual", m)):
        rows = offset + np.arange(n_t)
        t = tte.iloc[rows].reset_index(drop=True)
        out[f"{world}_tts_weeks"] = t["duration"].to_numpy()
        out[f"{world}_tts_event"] = t["event"].to_numpy()
        f = flags[flags["row"].isin(rows)]
        for key in horizons:
            part = f[f["horizon"] == key].set_index("row").loc[rows]
            out[f"{world}_employment_{key}"] = np.where(part["exited"], np.nan, part["employment"].astype(float))
    return out


def _marginal_hr(tte: pd.DataFrame, arm: np.ndarray) -> dict:
    """Cause-specific Cox HR (treated vs untreated clones) for lasting self-support."""
    keep = np.isin(arm, ["treated", "untreated"])
    if keep.sum() < 20:
        return {"hr": None, "note": "too few eligible persons for the population experiment"}
    df = pd.DataFrame({"duration": tte["duration"].to_numpy()[keep],
                       "event": (tte["event"].to_numpy()[keep] == 1).astype(int),
                       "treated": (arm[keep] == "treated").astype(int)})
    fit = CoxPHFitter().fit(df, "duration", "event")
    s = fit.summary.loc["treated"]
    return {
        "estimand": "marginal cause-specific hazard ratio of lasting self-support (competing events censored), "
                    "treated vs untreated copies of the eligible population",
        "hr": round(float(s["exp(coef)"]), 4),
        "ci_low": round(float(s["exp(coef) lower 95%"]), 4),
        "ci_high": round(float(s["exp(coef) upper 95%"]), 4),
        "events_treated": int(df.loc[df.treated == 1, "event"].sum()),
        "events_untreated": int(df.loc[df.treated == 0, "event"].sum()),
    }


def _questionnaires(study: Study, pop, selection: design.Selection, states: np.ndarray, first_week: int,
                    window: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Respondents: intervention persons + everyone on cash benefit in a window week."""
    syn = study.synthetic
    inc = np.flatnonzero(selection.included)
    t_rows = selection.rows[inc]
    cols = window - first_week
    on_cb = states[:, cols] == CB
    cb_rows = np.flatnonzero(on_cb.any(axis=1))
    cb_rows = cb_rows[~np.isin(cb_rows, t_rows)]
    first_cb = window[on_cb[cb_rows].argmax(axis=1)]
    base_c = np.array([np.datetime64(calendar.monday_of_dream_week(int(w)), "D") for w in first_cb],
                      dtype="datetime64[D]") + rng.integers(0, 5, len(cb_rows)).astype("timedelta64[D]")
    rows = np.r_[t_rows, cb_rows]
    baseline = np.r_[selection.inclusion_date[inc].astype("datetime64[D]"), base_c]
    treated = np.r_[np.ones(len(t_rows)), np.zeros(len(cb_rows))]
    pw = study.cohort.programme_weeks
    fu_week = np.r_[selection.index_week[inc], first_cb] + pw
    fu_col = np.clip(fu_week - first_week, 0, states.shape[1] - 1)
    st_fu = states[rows, fu_col]
    employed = ((st_fu == SELF_EMP) | (st_fu == FLEX)).astype(float)
    base_col = np.clip(np.r_[selection.index_week[inc], first_cb] - first_week, 0, states.shape[1] - 1)
    span = fu_col - base_col + 1
    seg = truth.aligned(states[rows], first_week, base_col + first_week - 1, int(span.max()))
    inside = np.arange(seg.shape[1])[None, :] < span[:, None]
    gone = (np.isin(seg, [EMIG, DEAD, PENSION]) & inside).any(axis=1)
    last_day = calendar.monday_of_dream_week(first_week + states.shape[1] - 1) + dt.timedelta(days=6)
    q = study.outcomes.questionnaires
    return forms.questionnaires(pop.pnr[rows], pop.persons.ability[rows].astype(float), baseline, treated,
                                employed, gone, pw, last_day, list(q.measures), list(q.raters),
                                (q.baseline, q.followup), syn.questionnaire_effect, rng)


def _calibration(view, states, codes, monthly, elig, window, pop, codebook, first_week) -> dict:
    """Aggregate rates that the tests and the docstring's bands refer to."""
    cats = codebook.categories(codes[:, window - first_week])
    cash = cats == CATEGORY_INDEX["cash_benefit"]
    k0 = 0
    col0 = int(window[k0]) - first_week
    on_cb = cash[:, k0]
    transfer_cum = design._counts(view, codebook)[0]
    transfer52 = (transfer_cum[:, col0] - transfer_cum[:, max(col0 - 52, 0)]) == min(52, col0)
    # seed 002 table 2 analogue: persons 40+ ending a cash-benefit spell 2015-2019
    w_lo = calendar.dream_week_from_iso(2015, 1) - first_week
    w_hi = calendar.dream_week_from_iso(2019, 52) - first_week
    out = {}
    if w_lo >= 0 and w_hi + 20 < states.shape[1]:
        cb = states == CB
        fut = np.zeros_like(cb[:, w_lo:w_hi + 1])
        for k in range(1, 5):
            fut |= cb[:, w_lo + k:w_hi + 1 + k]
        ended = cb[:, w_lo:w_hi + 1] & ~fut
        r, c = np.nonzero(ended)
        c = c + w_lo
        ages = ((np.datetime64(calendar.monday_of_dream_week(first_week), "D") + 7 * c
                 - pop.persons.birth[r]).astype(np.int64) / 365.25)
        keep = ages >= 40
        r, c = r[keep], c[keep]
        s13 = states[r, c + 13]
        out["cash_benefit_exits_40plus_2015_2019"] = {
            "n": int(len(r)),
            "employed_13w_after": round(float((s13 == SELF_EMP).mean()), 4) if len(r) else None,
            "back_on_cash_benefit_13w_after": round(float((s13 == CB).mean()), 4) if len(r) else None,
            "flexjob_or_disability_pension_13w_after": round(float(np.isin(s13, [FLEX, DP]).mean()), 4)
            if len(r) else None,
        }
    out.update(
        {
            "share_pool_on_cash_benefit_first_window_week": round(float(on_cb.mean()), 4),
            "share_of_cash_benefit_recipients_on_transfers_all_52_weeks_before": round(
                float(transfer52[on_cb].mean()), 4) if on_cb.any() else None,
            "eligible_in_study_municipality_per_window_week": {
                "min": int(elig.sum(axis=0).min()),
                "median": float(np.median(elig.sum(axis=0))),
                "max": int(elig.sum(axis=0).max()),
            },
            "eligible_in_study_municipality_distinct": int(elig.any(axis=1).sum()),
            "share_pool_employed_in_a_month_2016": round(float(np.mean(~np.isnan(
                monthly.grad[:, [i for i, (y, _m) in enumerate(monthly.months) if y == 2016]]).any(axis=1))), 4)
            if any(y == 2016 for y, _m in monthly.months) else None,
            "segments": {s: int((pop.persons.segment == i).sum()) for i, s in enumerate(SEGMENTS)},
        }
    )
    return out


# ----------------------------------------------------------------------------- writing
def write(study: Study, bundle: Bundle, formats: list[str], digest: str) -> list[Path]:
    """Write the extract formats, forms and truth files (truth.json last)."""
    raw = study.raw_dir
    raw.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    t = bundle.table
    for fmt in formats:
        target = raw / writers.FILES[fmt]
        if fmt == "csv":
            files.append(writers.write_csv(t, target))
        elif fmt == "csv_semicolon":
            files.append(writers.write_csv_semicolon(t, target, bundle.municipality_names))
        elif fmt == "parquet":
            files.append(writers.write_parquet(t, target))
        elif fmt == "dta":
            files += writers.write_dta(t, target, study.data.first_year, study.data.last_year)
        elif fmt == "xpt":
            files.append(writers.write_xpt(t, target))
    for name in FORM_NAMES:
        target = study.form_file(name) or raw / f"{name}.csv"
        files.append(write_csv(target, bundle.forms[name]))
    files.append(write_parquet(raw / TRUTH_PERSONS, bundle.truth_persons))
    files.append(write_parquet(raw / TRUTH_SPELLS, bundle.truth_spells))
    doc = dict(bundle.truth, params_hash=digest, formats=list(formats))
    files.append(write_json(raw / TRUTH_JSON, doc))
    return files


def generate(study: str | Path | Study, force: bool = False, formats: list[str] | None = None) -> SynthResult:
    """Generate the synthetic extract, forms and truth of a study into its ``data.raw_dir``.

    Parameters
    ----------
    study : str, path or Study
        Study name (``"demo"``), YAML path, or a loaded study.
    force : bool
        Regenerate even when the files exist and the parameters are unchanged.
    formats : list of str, optional
        Extract formats (default ``synthetic.formats``).

    Returns
    -------
    SynthResult

    Raises
    ------
    SynthError
        If the study is not synthetic, names an extract file no format writes, or the pool
        is too small for the screening design. The format of ``data.dream.path`` is always
        written, in addition to ``formats``.
    """
    t0 = time.perf_counter()
    cfg = _resolve(study)
    if cfg.synthetic is None or not cfg.study.synthetic:
        raise SynthError(
            f"study {cfg.name!r}: helpers.synth writes only studies with study.synthetic: true and a synthetic: "
            f"section (it would overwrite {cfg.raw_dir})"
        )
    fmts = list(dict.fromkeys(formats or cfg.synthetic.formats))
    unknown = [f for f in fmts if f not in writers.FILES]
    if unknown:
        raise SynthError(f"unknown format(s) {unknown}; choose from {sorted(writers.FILES)}")
    # always write the file the study reads (data.dream.path), whatever the formats
    dream = cfg.data.dream.path
    by_name = {name: fmt for fmt, name in writers.FILES.items()} | {"dream{year}.dta": "dta"}
    if isinstance(dream, str):
        if dream not in by_name:
            raise SynthError(
                f"study {cfg.name!r}: data.dream.path is {dream!r}, which no format writes; use one of "
                f"{sorted(by_name)}"
            )
        if by_name[dream] not in fmts:
            fmts.append(by_name[dream])
    digest = params_hash(cfg)
    if not force and _up_to_date(cfg, fmts, digest):
        return SynthResult(cfg.name, cfg.raw_dir, expected_files(cfg, fmts), True, time.perf_counter() - t0)
    bundle = build(cfg)
    files = write(cfg, bundle, fmts, digest)
    summary = {
        "n_pool": bundle.truth["n_pool"],
        "n_included": bundle.truth["intervention"]["n_included"],
        "calibration": bundle.truth["calibration"],
    }
    return SynthResult(cfg.name, cfg.raw_dir, files, False, time.perf_counter() - t0, summary)
