"""What the report shows: a table, a figure or a text, ready for :meth:`Reporter.show`.

The presentation modules of :mod:`helpers.report` build these from a stage's result; the
notebook passes them to ``rep.show(...)``, which numbers, captions (from the catalogue,
``caption.<key>``), saves and disclosure-logs them. An item is already masked and worded in
the study's language; it holds no person-level data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from helpers.disclosure import Check


@dataclass(frozen=True)
class Table:
    """A published table.

    Attributes
    ----------
    key : str
        File name stem, checklist key and caption key (``caption.<key>`` in the catalogue).
    frame : DataFrame
        The table as printed (masked).
    check : Check
        Its disclosure check.
    note : str
        Footnote (already in the study's language); empty for none.
    caption_fields : mapping
        Values of the caption pattern's fields.

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.disclosure import check_counts
    >>> frame = pd.DataFrame({"Group": ["Intervention", "Control"], "n": [12, 7]})
    >>> table = Table("example", frame, check_counts(frame["n"], 5, item="example"))
    >>> table.check.status, table.key
    ('PASS', 'example')
    """

    key: str
    frame: pd.DataFrame
    check: Check
    note: str = ""
    caption_fields: Mapping[str, Any] = field(default_factory=dict)
    index: bool = False


@dataclass(frozen=True)
class Figure:
    """A published figure (a matplotlib figure whose values passed disclosure control).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from helpers.disclosure import Check
    >>> fig, ax = plt.subplots()
    >>> item = Figure("example", fig, Check("example", "PASS", "no counts", detail_da="ingen antal"))
    >>> item.key, item.check.passed
    ('example', True)
    >>> plt.close(fig)
    """

    key: str
    figure: Any
    check: Check
    note: str = ""
    caption_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Text:
    """Generated Markdown in the study's language.

    Examples
    --------
    >>> from helpers.core.i18n import tr
    >>> Text(tr("group.control", "da")).markdown
    'Kontrol'
    """

    markdown: str


Item = Table | Figure | Text
