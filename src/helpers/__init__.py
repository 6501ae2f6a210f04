"""Reproducible evaluation of Danish employment interventions from DREAM register data.

The package holds all logic; the notebooks in ``notebooks/`` narrate calls to it.
Modules, one per concern:

- :mod:`helpers.paths`, :mod:`helpers.config`: project paths; study YAML schema and validation.
- :mod:`helpers.calendar`, :mod:`helpers.codes`: DREAM weeks and the weekly code dictionary.
- :mod:`helpers.synth`: synthetic DREAM extract and project forms with known truth.
- :mod:`helpers.ingest`, :mod:`helpers.store`: read any delivery format into the processed store.
- :mod:`helpers.status`: outcome primitives on the weekly status matrix.
- :mod:`helpers.cohort`, :mod:`helpers.matching`, :mod:`helpers.balance`: eligibility, matching, balance.
- :mod:`helpers.proportions`, :mod:`helpers.questionnaires`, :mod:`helpers.power`: outcome statistics.
- :mod:`helpers.survival`: time to lasting self-support.
- :mod:`helpers.investment`: projected and realised savings.
- :mod:`helpers.disclosure`: statistical disclosure control.
- :mod:`helpers.plots`: every figure (functions take ``ax`` and return it).
- :mod:`helpers.report`, :mod:`helpers.runner`: papermill runner and report assembly.
"""

__version__ = "0.1.0"
