"""What the investment calculation has to say about its inputs, as data: a catalogue key and its values.

The computation never words a sentence. A :class:`Note` names the catalogue entry
``investment.note.<key>`` (``investment.projection.note.<key>`` for the projection's
reconciliation) and carries the numbers and reasons its pattern needs; the report words it
in either language (:mod:`helpers.report.investment_text`), and the stage writes its English
text to ``investment_results.json`` (``notes``).

Examples
--------
>>> Note("top_tax", {"n": 3}).fields["n"]
3
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Note:
    """A fact the report states about the calculation.

    Attributes
    ----------
    key : str
        Catalogue entry (see the module notes).
    fields : mapping
        Values of the pattern's fields (numbers unformatted; the pattern formats them).
    """

    key: str
    fields: Mapping[str, Any] = field(default_factory=dict)
