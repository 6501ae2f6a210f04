"""Reproducible evaluation of Danish employment interventions from DREAM register data.

The package holds all logic; the notebooks in ``notebooks/`` narrate calls to it.
Modules, one per concern:

- :mod:`helpers.core.paths`, :mod:`helpers.config`: project paths; study YAML schema and validation.
- :mod:`helpers.core.calendar`, :mod:`helpers.core.codes`: DREAM weeks and the weekly code dictionary.
- :mod:`helpers.synth`: synthetic DREAM extract and project forms with known truth.
- :mod:`helpers.ingest`, :mod:`helpers.core.store`: read any delivery format into the processed store.
- :mod:`helpers.outcomes.status`: outcome primitives on the weekly status matrix.
- :mod:`helpers.cohort.build`, :mod:`helpers.cohort.matching`, :mod:`helpers.cohort.balance`: eligibility, matching, balance.
- :mod:`helpers.stats.proportions`, :mod:`helpers.stats.questionnaires`, :mod:`helpers.stats.power`: outcome statistics.
- :mod:`helpers.stats.survival`: time to lasting self-support.
- :mod:`helpers.investment`: projected and realised savings.
- :mod:`helpers.disclosure`: statistical disclosure control.
- :mod:`helpers.report.plots`: every figure (functions take ``ax`` and return it).
- :mod:`helpers.report.reporter`, :mod:`helpers.runner`: papermill runner and report assembly.
"""

__version__ = "0.1.0"
