"""Former home of the generated prose; the summary is :mod:`helpers.report.summary`, the methods :mod:`helpers.report.methods`.

Kept only so that notebooks written against the old name keep running; new code calls
:func:`helpers.report.summary.paragraphs`.
"""

from __future__ import annotations

from helpers.report.summary import paragraphs as summary_paragraphs

__all__ = ["summary_paragraphs"]
