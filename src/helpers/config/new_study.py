"""``make new-study NAME=<name>``: a commented study YAML and empty form templates for a real study.

Writes ``studies/<name>.yaml`` (every key a new study must set is marked ``# REQUIRED``;
the rest keep their defaults, described in docs/study-yaml.md) and, in ``data/raw/<name>/``,
the templates of the inclusion list and the optional forms as CSV and Excel: the header,
one example row marked as a comment (its first cell starts with ``#``; the reader skips
such rows directly under the header) and, in the workbook, a second sheet ``columns``
explaining each column. Existing files are never overwritten.

``python -m helpers.config.new_study --name <name>`` (what ``make new-study`` calls).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from helpers.core import atomic, paths

#: Form templates: file stem -> [(column, example, meaning)]. The first column is the ID.
TEMPLATES: dict[str, list[tuple[str, str, str]]] = {
    "inclusion_list": [
        ("PNR", "#0113901234", "person ID, as in the DREAM extract (data.forms.id_column)"),
        ("group", "intervention", "'intervention' for participants (data.forms.inclusion_list.intervention_groups); "
                                  "other values = listed but not a participant (never drawn as a control)"),
        ("inclusion_date", "2024-03-04", "date the person started the programme (YYYY-MM-DD, dd-mm-yyyy, dd.mm.yyyy "
                                         "or an Excel date); its week is the index week"),
    ],
    "questionnaires": [
        ("PNR", "#0113901234", "person ID"),
        ("timepoint", "baseline", "baseline or followup (outcomes.questionnaires.baseline/followup)"),
        ("date", "2024-03-04", "date of the answer"),
        ("rater", "self", "self or caseworker (outcomes.questionnaires.raters)"),
        ("measure", "work_ability", "work_ability, health or social_situation (outcomes.questionnaires.measures)"),
        ("value", "4", "whole number 0-10 (outcomes.questionnaires.scale_min/scale_max); blank = missing"),
    ],
    "events": [
        ("PNR", "#0113901234", "person ID"),
        ("event", "praktik_start", "praktik_start, praktik_end, afklaring or dropout"),
        ("date", "2024-05-06", "date of the event"),
        ("detail", "", "for afklaring: job, flexjob, disability_pension, education or ressourceforloeb"),
    ],
    "costs": [
        ("item", "#coordinator", "what the money was spent on"),
        ("amount_dkk", "520000", "amount in DKK"),
        ("year", "2024", "calendar year of the cost"),
        ("per_person", "0", "1 = per participant (multiplied by their number), 0 = total"),
        ("note", "", "free text"),
    ],
}

STUDY_TEMPLATE = """\
# Study {name}: created by `make new-study NAME={name}`. Every key marked REQUIRED must be set
# before `make check STUDY={name}` passes; every other key has a default (docs/study-yaml.md).
# Walk-through: README.md, "Using your own data". Checks and their messages: docs/checks.md.
study:
  name: {name}                      # must equal the file name
  title: "TITLE OF THE EVALUATION"  # REQUIRED: the report's title
  language: en                      # en or da
  seed: {seed}                      # seed of every random draw (matching, bootstrap)
  min_cell: 5                       # smallest count shown in any table or figure
  synthetic: false                  # real data: a pseudonymisation key is required (DREAM_PSEUDO_KEY)

data:
  raw_dir: data/raw/{name}          # the raw files (never modified)
  dream:
    path: dream.csv                 # REQUIRED: the extract, relative to raw_dir (per-year files: dream{{year}}.dta)
    layout: wide                    # wide (one row per person) or per_year (one file per year, y_WW columns)
    id_column: PNR                  # REQUIRED: person ID column (PNR, pnr, CPR, ...)
    sex_column: KOEN                # REQUIRED: sex column (kon, KOEN, ...)
    sex_codes: {{"1": male, "2": female}}   # REQUIRED: the values of the sex column, e.g. {{M: male, K: female}}
    birth_date_column: null         # REQUIRED: birth date column, or null when the extract has an age instead
    age_column: ALDER               # REQUIRED (when there is no birth date): age column ...
    age_reference_date: 2025-12-31  # REQUIRED with age_column: ... and the date the age refers to
    municipality_prefix: null       # yearly residence columns <prefix>YYYY (nykom2017), or null
    municipality_column: KOMNR      # REQUIRED: one residence column (or use municipality_prefix / municipality_assumed)
    week_pattern: "y_{{yy}}{{ww}}"      # REQUIRED: weekly columns: y_{{yy}}{{ww}} (y_1705), y_{{yyyy}}{{ww}} (y_201705), y_{{ww}} (per_year)
    blank_values: ["", "."]         # text meaning "no transfer that week" besides 0
  forms:
    id_column: PNR                  # person ID column of the forms
    date_format: auto               # auto, iso, dd-mm-yyyy, dd.mm.yyyy, dd/mm/yyyy, yyyymmdd, excel_serial
    inclusion_list:                 # REQUIRED: the participants (ID, group, inclusion date)
      path: inclusion_list.csv      # (.xlsx works too); the template is in data/raw/{name}/
      group_column: group
      date_column: inclusion_date
      intervention_groups: [intervention]
    questionnaires: null            # optional: questionnaires.csv (template in data/raw/{name}/)
    events: null                    # optional: events.csv (needed by outcomes that count events)
    costs: null                     # optional: costs.csv (or investment.intervention_cost_total)
  first_year: 2010                  # REQUIRED: first ISO year of weekly codes to read
  last_year: 2025                   # REQUIRED: last ISO year (the window follows the data if it holds fewer)

cohort:
  municipality: []                  # REQUIRED: residence municipality codes of the target group, e.g. [183]; [] = any
  age_min: 18                       # REQUIRED: age range at the index week
  age_max: 65
  target_subcategories: [kontanthjaelp, uddannelseshjaelp]   # REQUIRED: benefits the target group is on
  min_weeks_on_transfers: 1
  transfers_lookback_weeks: 52
  programme_weeks: 26               # REQUIRED: length of the programme (end of programme = index week + this)

matching:
  method: nearest
  distance: mahalanobis
  exact: [sex]
  ratio: 1
  covariates: [age, sex, weeks_transfer_52, weeks_transfer_104, weeks_transfer_156, weeks_cash_benefit_156]

outcomes:
  primary: employment               # REQUIRED: the primary outcome (one of the definitions below)
  horizons:                         # REQUIRED: follow-up points in weeks after the index week
    - {{key: FU, weeks: 26, label: {{en: "End of programme", da: "Forløbsafslutning"}}}}
    - {{key: Y1, weeks: 78, label: {{en: "1 year after", da: "1 år efter"}}}}
  definitions:                      # from the register only; add events: [...] once data.forms.events is set
    employment:
      label: {{en: "Employed (ordinary job or flexjob)", da: "I beskæftigelse (ordinær eller fleksjob)"}}
      kind: status_at
      categories: [employed]
      codes: [771]
    self_support:
      label: {{en: "Self-supported (no public transfer)", da: "Selvforsørgende (ingen offentlig ydelse)"}}
      kind: status_at
      categories: [self_support]

investment:
  intervention_cost_total: null     # DKK; without it (and without a costs form) the investment section is skipped

power:
  n_per_group: 50                   # REQUIRED: planned persons per group
  scenarios:                        # REQUIRED: planned shares (control, intervention) of the primary outcome
    - {{outcome: employment, horizon: FU, control: 0.10, intervention: 0.25}}
"""


def _template_frames(stem: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = TEMPLATES[stem]
    example = pd.DataFrame([[ex for _, ex, _ in cols]], columns=[c for c, _, _ in cols])
    explain = pd.DataFrame({"column": [c for c, _, _ in cols], "meaning": [m for _, _, m in cols],
                            "example": [ex.lstrip("#") for _, ex, _ in cols]})
    return example, explain


def write_templates(raw_dir: Path) -> list[Path]:
    """Write the form templates (CSV and .xlsx) into ``raw_dir``; existing files are kept."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem in TEMPLATES:
        example, explain = _template_frames(stem)
        csv_path, xlsx_path = raw_dir / f"{stem}.csv", raw_dir / f"{stem}.xlsx"
        if not csv_path.exists():
            atomic.write_csv(csv_path, example)
            written.append(csv_path)
        if not xlsx_path.exists():
            with atomic.atomic_path(xlsx_path) as tmp:
                with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                    example.to_excel(xw, index=False, sheet_name=stem[:31])
                    explain.to_excel(xw, index=False, sheet_name="columns")
            written.append(xlsx_path)
    return written


def new_study(name: str, *, seed: int | None = None) -> list[Path]:
    """Write ``studies/<name>.yaml`` and the templates in ``data/raw/<name>/``.

    Raises
    ------
    ValueError
        ``name`` is not a valid study name, or the study file already exists.
    """
    if not re.fullmatch(r"[a-z0-9_\-]+", name):
        raise ValueError(f"study name {name!r}: use lower-case letters, digits, - and _ only")
    target = paths.STUDIES_DIR / f"{name}.yaml"
    if target.exists():
        raise ValueError(f"{paths.relative(target)} already exists; choose another name or edit that file")
    seed = seed if seed is not None else int.from_bytes(name.encode("utf-8")[:4].ljust(4, b"\0"), "big") % 10**8
    atomic.write_text(target, STUDY_TEMPLATE.format(name=name, seed=seed))
    return [target, *write_templates(paths.PROJECT_ROOT / "data" / "raw" / name)]


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--name <name>``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    args = parser.parse_args(argv)
    try:
        written = new_study(args.name)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for p in written:
        print(f"wrote {paths.relative(p)}")
    print(f"next: put the extract and the filled-in inclusion list in data/raw/{args.name}/, set every "
          f"'# REQUIRED' key of studies/{args.name}.yaml, then run `make check STUDY={args.name}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
