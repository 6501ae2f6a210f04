"""Stage 06: the design's power for the planned effects (no data; the study's ``power:`` plan).

:func:`run` computes the exact and approximate power of every planned scenario
(:func:`helpers.stats.power.design_power`) and the power curves, writes
``power_results.json`` and returns a :class:`PowerResult`.
"""

from __future__ import annotations

import math

import pandas as pd
from pydantic import BaseModel, ConfigDict, PrivateAttr

from helpers.stages.base import StageResult
from helpers.stats import power


class PowerRow(BaseModel):
    """Power of one planned scenario (an outcome at a follow-up point)."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")

    outcome: str
    horizon: str
    role: str
    control: float
    intervention: float
    cohen_h: float
    power_arcsine: float
    power_normal: float
    power_fisher: float
    power_fisher_adjusted: float | None = None
    n_arcsine: int | None = None
    n_normal: int | None = None
    n_fisher: int | None = None
    n_fisher_stable: int | None = None
    claim_holds: bool


class PowerResult(StageResult):
    """What stage 06 found: one :class:`PowerRow` per planned scenario.

    Attributes
    ----------
    n_per_group, alpha, target_power : the plan (study ``power:``).
    n_secondary_tests : int
        Size of the multiplicity family of secondary scenarios (0 without adjustment).
    rows : list of PowerRow
    """

    FILE = "power_results.json"

    study: str
    n_per_group: int
    alpha: float
    target_power: float
    n_secondary_tests: int
    rows: list[PowerRow]
    _curves: pd.DataFrame | None = PrivateAttr(default=None)

    @property
    def curves(self) -> pd.DataFrame | None:
        """Power curves of :func:`helpers.stats.power.scenario_curves` (only right after :func:`run`)."""
        return self._curves

    def table(self) -> pd.DataFrame:
        """The rows as a data frame (columns of :func:`helpers.stats.power.power_table` plus ``role``)."""
        frame = pd.DataFrame([r.model_dump() for r in self.rows])
        for col in ("n_arcsine", "n_normal", "n_fisher", "n_fisher_stable"):
            if col in frame:
                frame[col] = frame[col].astype("Int64")
        if self.n_secondary_tests == 0 and "power_fisher_adjusted" in frame:
            frame = frame.drop(columns="power_fisher_adjusted")
        return frame


def _value(x):
    if x is None or x is pd.NA:
        return None
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def from_table(study, table: pd.DataFrame) -> PowerResult:
    """A :class:`PowerResult` from a :func:`helpers.stats.power.design_power` table."""
    fields = PowerRow.model_fields
    rows = [PowerRow(**{k: _value(v) for k, v in rec.items() if k in fields})
            for rec in table.to_dict("records")]
    n_sec = int((table["role"] == "secondary").sum()) if "power_fisher_adjusted" in table else 0
    cfg = study.power
    return PowerResult(study=study.name, n_per_group=cfg.n_per_group, alpha=cfg.alpha,
                       target_power=cfg.target_power, n_secondary_tests=n_sec, rows=rows)


def run(study, *, write: bool = True) -> PowerResult:
    """Power of the design for every planned effect, and the power curves.

    Parameters
    ----------
    study : Study
    write : bool
        Save ``power_results.json`` in the study's processed folder.

    Returns
    -------
    PowerResult
    """
    result = from_table(study, power.design_power(study))
    result._curves = power.scenario_curves(study)
    if write:
        result.save(study.processed_dir)
    return result
