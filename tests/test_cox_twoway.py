"""The headline Cox model after matching with replacement: two-way (set and person) robust variance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.stats import survival as sv
from helpers.stats import twoway


def _matched_with_replacement(seed: int = 4, n_sets: int = 40) -> pd.DataFrame:
    """1:2 matched sets whose controls come from a small pool (so controls are reused)."""
    rng = np.random.default_rng(seed)
    pool = [f"c{i}" for i in range(30)]
    rows = []
    for s in range(n_sets):
        rows.append({"person_id": f"t{s}", "group": "intervention", "matched_set": s, "weight": 1.0})
        for c in rng.choice(pool, size=2, replace=False):
            rows.append({"person_id": c, "group": "control", "matched_set": s, "weight": 0.5})
    frame = pd.DataFrame(rows)
    # one outcome per person (a reused control has the same duration in every set)
    persons = frame["person_id"].unique()
    rate = {p: 0.02 * (2.0 if p.startswith("t") else 1.0) for p in persons}
    dur = {p: int(np.ceil(rng.exponential(1 / rate[p]))) for p in persons}
    cens = {p: int(rng.uniform(40, 120)) for p in persons}
    frame["duration"] = [max(1, min(dur[p], cens[p])) for p in frame["person_id"]]
    frame["event"] = [int(dur[p] <= cens[p]) for p in frame["person_id"]]
    return frame


def test_twoway_variance_formula_and_fallback():
    v, fell_back = twoway.twoway_variance([0.04, 0.01], [0.05, 0.02], [0.03, 0.005])
    assert v == pytest.approx([0.04 + 0.05 - 0.03, 0.01 + 0.02 - 0.005]) and not fell_back
    v, fell_back = twoway.twoway_variance([0.01], [0.02], [0.05])  # negative: larger one-way variance
    assert v == pytest.approx([0.02]) and fell_back
    tab = twoway.coefficient_table(["x"], [math.log(2.0)], [0.25])
    assert tab.loc[0, "se"] == pytest.approx(0.5)
    assert tab.loc[0, "hr_low"] == pytest.approx(2.0 * math.exp(-1.959964 * 0.5), rel=1e-6)
    # z = 0.693147 / 0.5 = 1.3863; normal table: 1 - Phi(1.38) = 0.08379, 1 - Phi(1.39) = 0.08226 -> 0.08283
    assert tab.loc[0, "p"] == pytest.approx(2 * 0.08283, abs=2e-4)


def test_cluster_model_uses_two_way_variance_when_controls_are_reused():
    tte = _matched_with_replacement()
    assert tte["person_id"].duplicated().any()
    res = sv.cox_intervention(tte, method="cluster")
    row = res.row("intervention")
    assert "two-way" in res.note
    # the same weighted fit clustered three ways, assembled here by hand
    frame = tte.assign(intervention=(tte["group"] == "intervention").astype(int),
                       person=pd.factorize(tte["person_id"])[0], row_id=np.arange(len(tte)))
    se = {}
    for key in ("matched_set", "person", "row_id"):
        fit = sv.fit_cox(frame, "duration", "event", ["intervention"], event_of_interest=1, cluster_col=key,
                         weights_col="weight", robust=True)
        se[key] = float(fit.row("intervention")["se"])
        assert float(fit.row("intervention")["coef"]) == pytest.approx(float(row["coef"]))
    expected = math.sqrt(se["matched_set"] ** 2 + se["person"] ** 2 - se["row_id"] ** 2)
    assert float(row["se"]) == pytest.approx(expected, rel=1e-9)
    assert float(row["hr_low"]) == pytest.approx(math.exp(float(row["coef"]) - 1.959964 * expected), rel=1e-5)
    # reused controls make the two-way SE larger than the matched-set SE here
    assert expected > se["matched_set"]


def test_cluster_model_without_replacement_is_unchanged():
    tte = _matched_with_replacement().drop_duplicates("person_id")  # every person once
    tte = tte[tte.groupby("matched_set")["group"].transform("nunique") == 2]
    res = sv.cox_intervention(tte, method="cluster")
    assert "two-way" not in res.note
    frame = tte.assign(intervention=(tte["group"] == "intervention").astype(int))
    ref = sv.fit_cox(frame, "duration", "event", ["intervention"], event_of_interest=1, cluster_col="matched_set",
                     weights_col="weight", robust=True)
    assert float(res.row("intervention")["se"]) == pytest.approx(float(ref.row("intervention")["se"]))
