"""Synthetic DREAM-style extract and project forms with a known, injected effect.

``make data`` (``python -m helpers.synth --study <name>``) or :func:`generate` writes into
``data.raw_dir`` (``data/raw/<study>/``), deterministically from ``study.seed`` (offset 0):

- the wide extract (``dream.csv`` and/or the other formats of ``synthetic.formats``, see
  :mod:`helpers.synth.writers`): ``PNR, kon, foed_dag, nykom<YYYY>, y_<YY><WW>,
  branche_<YYYY>_<MM>, grad_<YYYY>_<MM>`` as in docs/architecture.md;
- the forms ``screening.csv``, ``questionnaires.csv``, ``events.csv``, ``costs.csv``;
- ``truth.json`` (injected parameters, latent outcome shares with and without the
  effect, calibration aggregates, the parameter hash) and ``truth_persons.parquet`` (per
  person: segment, latent work ability, group, index week, factual and counterfactual
  outcomes of included persons) plus ``truth_spells.parquet`` (every latent spell; the
  counterfactual spells of included persons after their index week). The pipeline never
  reads the truth files.

Generation is skipped when ``truth.json`` holds the same parameter hash (synthetic, data,
cohort, horizons, questionnaire, survival and cost settings plus the generator version)
and every file exists, unless ``force=True``. Only studies with ``study.synthetic: true``
are written.

Design
------
Population (:mod:`.population`)
    ``synthetic.n_pool`` persons of five segments (core workers 42 %, marginal 17 %,
    vulnerable 27 %, young 7 %, immigrants 7 %) with a latent work ability, half of them
    (``share_study_municipality``) living in the study municipality and the rest in its
    neighbours (Vallensbæk 187, Brøndby 153, Greve 253, Høje-Taastrup 169, Albertslund
    165); 3 % move a year.
Trajectories (:mod:`.model`, :mod:`.coding`)
    A weekly semi-Markov chain over latent states (employed, self-supported without a job,
    cash benefit, UI, sickness, rehabilitation, jobafklaring, ledighedsydelse, flexjob,
    disability pension, education, leave, efterløn, emigrated, state pension, dead) with
    duration dependence, ability, age and business-cycle effects and activation episodes
    (praktik 7/8, løntilskud 5/6, ...). It starts ``burn_in_years`` before
    ``data.first_year`` so spells in progress at the start have realistic lengths. Codes
    are drawn within the state from the families that existed in that week (81x from
    2013, uddannelseshjælp and nytteindsats from 2014, 785 from 2014-W27, 70x from
    2015-W36 and 71x before); every generated code is checked against the validity dates
    of ``helpers/data/dream_codes.csv``. 998 and 999 are absorbing, 997 is not.
Monthly employment (:mod:`.employment`)
    ``grad`` and ``branche`` from weeks in employment (self-supported with a job, flexjob,
    løntilskud, part-time work on cash benefit/UI, partly sick-listed), by ISO Thursday.
Selection (:mod:`.design`)
    The generator applies the study's ``cohort:`` rules (stricter at every boundary) at the
    candidate index weeks of the inclusion window; ``n_screened`` persons eligible in the
    study municipality are screened (a few near the age limits get
    ``not_eligible_age``), ``n_included`` of the eligible screened are included at random
    (``design: rolling``) or per group start (``design: groups``, ``groups_per_year``
    starts a year; the fundamentet study). Random inclusion among eligible persons means
    matching on the cohort covariates can balance the groups and the injected effect is
    recoverable.
Effect (:class:`.model.Effects`)
    From the week after inclusion, the included persons are re-simulated from their chain
    state with the effects (``hr_self_support`` on entering self-support, for
    ``hr_duration_weeks`` or the rest of follow-up; ``praktik_rate_ratio`` and
    ``afklaring_rate_ratio`` during ``effect_weeks``) and, with the same random numbers,
    without them (the counterfactual). Every person ever eligible in the window (any
    municipality, at most ``max_clones``) is also copied treated and untreated from their
    first eligible week: the *population truth* (outcome shares and the marginal
    cause-specific HR of lasting self-support, which is below the injected conditional HR
    because of unobserved heterogeneity and competing exits).
Forms (:mod:`.forms`, :meth:`.design.Selection.frame`)
    See the module docstrings; events are derived from the factual trajectories, costs
    split ``investment.intervention_cost_total`` over ``synthetic.cost_items`` and years.

Calibration (demo, seed 20161201, 20,000 persons; ``truth.json["calibration"]`` and
``["population_truth"]``; the tests check bands on a 1,500-person pool)
    - 21 % of the pool is on cash benefit in the first inclusion week; 84 % of those have
      been on a transfer in all 52 weeks before (seed 000: 85 % of Ishøj's recipients
      have been on kontanthjælp for more than 12 months).
    - About 410-440 persons are eligible in Ishøj in each inclusion week (536 distinct),
      so 50 included persons leave many controls for 1:1 matching.
    - Untreated eligible persons: 8 % employed (job or flexjob) 52 weeks after the index
      week, 14 % after 104 and 24 % after 312 weeks; 13 % have been in praktik within 52
      weeks. Seed 000: "under 10 % af de aktivitetsparate kontanthjælpsmodtagere kommer i
      job", and its planned control rates 0/5/5/10 % (FU/1/2/5 years) and 10 % praktik:
      the synthetic controls do somewhat better at the later horizons.
    - Persons aged 40+ ending a cash-benefit spell in 2015-2019 (no cash benefit in the next
      four weeks): 31 % employed 13 weeks later (seed 002, table 2: 23-34 % wage earners
      at ages 40-59), but only 9 % back on cash benefit (table 2: 18-40 %): the synthetic
      revolving door is narrower than Ishøj's.
    - With the injected HR 2.5 the marginal cause-specific HR of lasting self-support among
      eligible persons is about 1.9 (unobserved heterogeneity and competing exits).
    - The fundamentet cohort rules admit every kontanthjælp recipient aged 40+ (at most 26
      cash-benefit weeks in a 26-week look-back always holds), so its untreated employment
      (about 13 % at the end of the course, 20 % 25 weeks on) is above seed 002's 1 in 12.
Performance
    The demo (20,000 persons x 939 weeks, CSV) takes about 10 s on two shared cores; the
    Stata and SAS transport writers of pyreadstat go cell by cell and add about a minute.
"""

from __future__ import annotations

from helpers.synth.generator import (
    GENERATOR_VERSION,
    SynthError,
    SynthResult,
    build,
    generate,
    params_hash,
)

__all__ = ["GENERATOR_VERSION", "SynthError", "SynthResult", "build", "generate", "params_hash"]
