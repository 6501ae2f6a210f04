"""What every stage returns: a typed, frozen result object that survives a round trip to JSON.

A stage (:mod:`helpers.stages`) computes, writes its files atomically and returns a
:class:`StageResult` subclass. The result holds the stage's *aggregate* numbers as typed
fields (validated by pydantic on load, so a missing or misspelt key is an error, not a
silent ``None``) and the names of the files it wrote; it is saved next to them as JSON.
The next stage and the report read that object, never raw dictionary keys.

Large in-memory products a notebook shows right after computing them (fitted curves, the
analysis frames) ride along as private attributes: they are not part of the JSON and are
``None`` on a result read back with :meth:`StageResult.load`.

Examples
--------
>>> class Example(StageResult):
...     FILE = "example_result.json"
...     n: int
...     share: float | None = None
>>> text = Example(n=3, share=0.5).to_json()
>>> Example.from_json(text).n
3
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from helpers.core import atomic, paths


class StageMissing(FileNotFoundError):
    """A stage's result file is absent: the stage has not run (or ran on other inputs)."""


class StageResultError(ValueError):
    """A result file exists but does not hold what the stage writes (stale or edited by hand)."""


class StageResult(BaseModel):
    """Base class of every stage's result (frozen; unknown keys are errors)."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants",
                              arbitrary_types_allowed=True)

    #: File name of the result in the study's processed folder (set by each subclass).
    FILE: ClassVar[str] = ""

    def __eq__(self, other: object) -> bool:
        """Equal when of the same class with the same fields (private in-memory attributes are ignored)."""
        return type(self) is type(other) and self.model_dump() == other.model_dump()  # type: ignore[union-attr]

    __hash__ = None  # type: ignore[assignment]  # results hold lists; they are compared, not hashed

    def to_json(self) -> str:
        """The result as JSON text (private in-memory attributes are left out)."""
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "") -> Self:
        """Read a result from JSON text.

        Raises
        ------
        StageResultError
            When the text is not a valid result of this stage.
        """
        try:
            return cls.model_validate_json(text)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "(top level)"
            raise StageResultError(f"{source or cls.__name__}: not a valid {cls.__name__}: {where}: {first['msg']} "
                                   f"({err.error_count()} problem(s)); re-run the stage") from None

    def save(self, folder: str | Path) -> Path:
        """Write the result atomically to ``folder / FILE``."""
        return atomic.write_text(Path(folder) / self.FILE, self.to_json() + "\n")

    @classmethod
    def path(cls, study: Any) -> Path:
        """Where the result of ``study`` lives (its processed folder)."""
        return Path(study.processed_dir) / cls.FILE

    @classmethod
    def load(cls, study: Any, folder: str | Path | None = None) -> Self:
        """The saved result of ``study`` (or from ``folder``).

        Raises
        ------
        StageMissing
            When the stage has not written its result.
        """
        path = Path(folder) / cls.FILE if folder is not None else cls.path(study)
        if not path.exists():
            raise StageMissing(f"{paths.relative(path)} is missing: run the stage first (make report runs them in "
                               "order)")
        return cls.from_json(path.read_text(encoding="utf-8"), source=paths.relative(path))

    @classmethod
    def load_or_none(cls, study: Any, folder: str | Path | None = None) -> Self | None:
        """Like :meth:`load`, but ``None`` when the stage has not run."""
        try:
            return cls.load(study, folder)
        except StageMissing:
            return None
