"""Study configuration: the pydantic schema of a study YAML and its loading.

A study is one YAML file (``studies/<name>.yaml``); :func:`load_study` validates it and
returns a :class:`Study`.
"""

from helpers.config.study import Study, StudyConfigError, load_study, schema_markdown

__all__ = ["Study", "StudyConfigError", "load_study", "schema_markdown"]
