"""Base class of every study-YAML section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A study-YAML section: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class Labels(Section):
    """A text in both report languages."""

    en: str
    da: str

    def __call__(self, language: str) -> str:
        """Return the text in ``language`` (``"da"`` or ``"en"``)."""
        return self.da if language == "da" else self.en
