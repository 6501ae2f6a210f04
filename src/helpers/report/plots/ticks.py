"""Tick labels in the report's language: a decimal comma and ``70 %`` in Danish figures.

matplotlib writes ``0.8`` and ``70%`` whatever the language. :func:`localise_ticks` wraps the
tick formatters of every axis of a figure so that a Danish figure reads ``0,8`` and ``70 %``;
:class:`helpers.report.reporter.Reporter` applies it to every figure it shows, so no plotting
function has to remember it.
"""

from __future__ import annotations

from matplotlib.ticker import Formatter

from helpers.core.i18n import localise


class LocalisedFormatter(Formatter):
    """Another formatter's labels with the numbers written as in ``language`` (:func:`helpers.core.i18n.localise`)."""

    def __init__(self, inner: Formatter, language: str) -> None:
        self.inner = inner
        self.language = language

    def set_axis(self, axis) -> None:  # noqa: D102 - matplotlib's protocol
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def set_locs(self, locs) -> None:  # noqa: D102
        self.inner.set_locs(locs)

    def __call__(self, x, pos=None) -> str:
        return localise(self.inner(x, pos), self.language)

    def format_ticks(self, values) -> list[str]:  # noqa: D102
        return [localise(s, self.language) for s in self.inner.format_ticks(values)]

    def get_offset(self) -> str:  # noqa: D102
        return localise(self.inner.get_offset(), self.language)


def localise_ticks(fig, language: str):
    """Wrap the major and minor tick formatters of every axes of ``fig`` for ``language``; return ``fig``.

    English figures are left as they are; wrapping twice is harmless (a formatter already
    localised is not wrapped again).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0.0, 0.8])
    >>> _ = localise_ticks(fig, "da")
    >>> fig.canvas.draw()
    >>> "0,8" in [t.get_text() for t in ax.get_yticklabels()]
    True
    >>> plt.close(fig)
    """
    if language != "da":
        return fig
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for get, put in ((axis.get_major_formatter, axis.set_major_formatter),
                             (axis.get_minor_formatter, axis.set_minor_formatter)):
                current = get()
                if not isinstance(current, LocalisedFormatter):
                    put(LocalisedFormatter(current, language))
    return fig
