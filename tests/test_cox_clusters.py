"""The headline Cox model after matching with replacement: matched sets sharing a control are one cluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.stats import survival as sv


def _matched_with_replacement(seed: int = 4, n_sets: int = 40) -> pd.DataFrame:
    """1:2 matched sets whose controls come from a small pool (so controls are reused)."""
    rng = np.random.default_rng(seed)
    pool = [f"c{i}" for i in range(60)]
    rows = []
    for s in range(n_sets):
        rows.append({"person_id": f"t{s}", "group": "intervention", "matched_set": s, "weight": 1.0})
        for c in rng.choice(pool, size=2, replace=False):
            rows.append({"person_id": str(c), "group": "control", "matched_set": s, "weight": 0.5})
    frame = pd.DataFrame(rows)
    persons = frame["person_id"].unique()  # one outcome per person, the same in every set it serves
    dur = {p: int(np.ceil(rng.exponential(50 if p.startswith("t") else 100))) for p in persons}
    cens = {p: int(rng.uniform(40, 120)) for p in persons}
    frame["duration"] = [max(1, min(dur[p], cens[p])) for p in frame["person_id"]]
    frame["event"] = [int(dur[p] <= cens[p]) for p in frame["person_id"]]
    return frame


def _by_hand_clusters(frame: pd.DataFrame) -> np.ndarray:
    """Connected components of sets linked by a shared person, by repeated relabelling (no union-find)."""
    label = dict(zip(frame["matched_set"].unique(), frame["matched_set"].unique(), strict=True))
    changed = True
    while changed:
        changed = False
        for _, sets in frame.groupby("person_id")["matched_set"]:
            low = min(label[s] for s in sets)
            for s in sets:
                if label[s] != low:
                    label = {k: (low if v == label[s] else v) for k, v in label.items()}
                    changed = True
    return frame["matched_set"].map(label).to_numpy()


def test_cluster_model_merges_sets_that_share_a_control():
    tte = _matched_with_replacement()
    assert tte["person_id"].duplicated().any()
    res = sv.cox_intervention(tte, method="cluster")
    clusters = _by_hand_clusters(tte)
    n_clusters = len(np.unique(clusters))
    assert 1 < n_clusters < tte["matched_set"].nunique()  # some sets merged, not all
    assert f"({n_clusters} clusters)" in res.note
    ref = sv.fit_cox(tte.assign(intervention=(tte["group"] == "intervention").astype(int), cl=clusters),
                     "duration", "event", ["intervention"], event_of_interest=1, cluster_col="cl",
                     weights_col="weight", robust=True)
    got, want = res.row("intervention"), ref.row("intervention")
    assert float(got["coef"]) == pytest.approx(float(want["coef"]))
    assert float(got["se"]) == pytest.approx(float(want["se"]))
    assert float(got["hr_low"]) == pytest.approx(float(want["hr_low"]))


def test_cluster_model_without_replacement_clusters_on_matched_set():
    tte = _matched_with_replacement().drop_duplicates("person_id")  # every person once
    tte = tte[tte.groupby("matched_set")["group"].transform("nunique") == 2]
    res = sv.cox_intervention(tte, method="cluster")
    assert "reused" not in res.note
    ref = sv.fit_cox(tte.assign(intervention=(tte["group"] == "intervention").astype(int)), "duration", "event",
                     ["intervention"], event_of_interest=1, cluster_col="matched_set", weights_col="weight",
                     robust=True)
    assert float(res.row("intervention")["se"]) == pytest.approx(float(ref.row("intervention")["se"]))
