"""Every label and sentence pattern of the report, in English and Danish, and one lookup.

The texts live in a catalogue of YAML files, ``helpers/data/i18n/*.yaml``: nested mappings
whose leaves are ``{en: ..., da: ...}`` pairs, addressed by their dotted path
(``group.control``, ``caption.survival_km``, ``survival.hr.faster``). A pattern may hold
``str.format`` fields (``{hr}``); the caller formats numbers first, with :func:`number`,
:func:`percent` or :func:`count`, so that Danish gets a decimal comma.

:func:`tr` is the only lookup. Group labels (``group.<name>``), actors, table marks and the
other shared words are defined once, in ``common.yaml``. Code that shows text never writes
``"da" if ... else ...``; it asks :func:`tr`.

Examples
--------
>>> tr("group.control", "da")
'Kontrol'
>>> tr("mark.fewer_than", "en", min_cell=5)
'<5'
>>> number(1234.5, 1, "da"), count(12345, "da"), percent(0.1429, 1, "en")
('1234,5', '12.345', '14.3%')
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml

Language = Literal["en", "da"]
#: Languages every catalogue entry must have.
LANGUAGES: tuple[str, ...] = ("en", "da")
#: Package folder of the catalogue.
CATALOGUE_PACKAGE = "helpers.data.i18n"


class CatalogueError(KeyError):
    """A missing or malformed catalogue entry, or a pattern field without a value."""

    def __str__(self) -> str:  # KeyError quotes its argument; show the message as written
        return str(self.args[0]) if self.args else ""


def _leaves(node: Mapping, prefix: str, source: str) -> Iterator[tuple[str, dict]]:
    for key, value in node.items():
        path = f"{prefix}{key}"
        if not isinstance(value, Mapping):
            raise CatalogueError(f"{source}: '{path}' must be a mapping (a group of entries or an en/da pair)")
        if set(value) & set(LANGUAGES):
            missing = [lang for lang in LANGUAGES if not isinstance(value.get(lang), str)]
            extra = sorted(set(value) - set(LANGUAGES))
            if missing or extra:
                raise CatalogueError(f"{source}: entry '{path}' needs exactly the texts {list(LANGUAGES)}"
                                     + (f"; missing {missing}" if missing else "")
                                     + (f"; unexpected {extra}" if extra else ""))
            yield path, {lang: value[lang] for lang in LANGUAGES}
        else:
            yield from _leaves(value, f"{path}.", source)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """The whole catalogue, ``{dotted key: {"en": text, "da": text}}``.

    Raises
    ------
    CatalogueError
        When an entry lacks a language or a key is defined in two files.
    """
    entries: dict[str, dict[str, str]] = {}
    where: dict[str, str] = {}
    folder = resources.files(CATALOGUE_PACKAGE)
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(item.read_text(encoding="utf-8")) or {}
        for key, pair in _leaves(data, "", item.name):
            if key in entries:
                raise CatalogueError(f"catalogue key '{key}' is defined in both {where[key]} and {item.name}")
            entries[key] = pair
            where[key] = item.name
    return entries


def fields_of(key: str, language: str = "en") -> set[str]:
    """Names of the ``{fields}`` a pattern expects."""
    text = _entry(key)[language]
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _entry(key: str) -> dict[str, str]:
    try:
        return catalogue()[key]
    except KeyError:
        raise CatalogueError(f"no text '{key}' in the catalogue (src/helpers/data/i18n/*.yaml); add it in both "
                             "languages") from None


def tr(key: str, language: str, /, **fields: Any) -> str:
    """The text ``key`` in ``language``, with its ``{fields}`` filled in.

    Parameters
    ----------
    key : str
        Dotted catalogue key, e.g. ``"group.control"``.
    language : {"en", "da"}
    **fields
        Values of the pattern's fields (already formatted for the language).

    Raises
    ------
    CatalogueError
        Unknown key, unknown language or a field without a value.

    Examples
    --------
    >>> tr("group.intervention", "da"), tr("mark.fewer_than", "en", min_cell=5)
    ('Indsats', '<5')
    """
    if language not in LANGUAGES:
        raise CatalogueError(f"language must be one of {list(LANGUAGES)}, got {language!r}")
    text = _entry(key)[language]
    if not fields and "{" not in text:
        return text
    try:
        return text.format(**fields)
    except KeyError as err:
        raise CatalogueError(f"text '{key}' needs the field {err.args[0]!r}") from None


# ------------------------------------------------------------------ numbers in prose and tables
def _finite(x: Any) -> bool:
    try:
        return x is not None and not isinstance(x, (str, bool)) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def number(x: Any, digits: int = 1, language: str = "en", *, missing: str = "–") -> str:
    """``x`` with ``digits`` decimals; Danish uses a decimal comma; ``missing`` when not a finite number."""
    if not _finite(x):
        return missing
    text = f"{float(x):.{digits}f}"
    return text.replace(".", ",") if language == "da" else text


def short(x: float, language: str = "en") -> str:
    """Short form (``%g``) with a decimal comma in Danish."""
    text = f"{float(x):g}"
    return text.replace(".", ",") if language == "da" else text


def percent(share: Any, digits: int = 0, language: str = "en", *, missing: str = "–") -> str:
    """A share (0.143) as a percentage (``14.3%``; Danish ``14,3 %``)."""
    if not _finite(share):
        return missing
    value = number(100 * float(share), digits, language)
    return f"{value} %" if language == "da" else f"{value}%"


def count(n: Any, language: str = "en") -> str:
    """A whole number with thousands separators (``12,345``; Danish ``12.345``); strings pass through."""
    if isinstance(n, str):
        return n
    text = f"{int(n):,}"
    return text.replace(",", ".") if language == "da" else text


def join_and(items: list[str], language: str) -> str:
    """``a, b and c`` / ``a, b og c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " " + tr("word.and", language) + " " + items[-1]


def group_label(group: str, language: str) -> str:
    """Display name of a study group (``intervention`` / ``control``), defined once in the catalogue."""
    return tr(f"group.{group}", language)


# ------------------------------------------------------------ English-formatted numbers -> Danish
#: A number as Python prints it: thousands commas (``12,345``) and/or a decimal point (``0.05``), then an optional %.
_EN_NUMBER_SAFE = re.compile(r"(?<![\w.,])([1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+)(?![.\d]*\.\d)(?![\w])(\s?%)?"
                             r"|(?<![\w.,])(\d+)(%)")


def localise(text: str, language: str) -> str:
    """``text`` whose numbers were written the English way (``1,234.5``, ``0.05``, ``12%``) in ``language``.

    Danish gets a decimal comma, a thousands point and a space before ``%`` (``1.234,5``,
    ``0,05``, ``12 %``), as :func:`number`, :func:`count` and :func:`percent` write them.
    Versions and dotted codes (``3.11.7``), dates and words are left alone. For text built
    with f-strings (tables of estimates, tick labels); text built with :func:`number` is
    already right and must not be passed again (``20.000`` would be read as twenty).

    Examples
    --------
    >>> localise("7.2 (-1.6 to 16.0); p = 0.055; 12,345 persons; 14.3%; Python 3.11.7", "da")
    '7,2 (-1,6 to 16,0); p = 0,055; 12.345 persons; 14,3 %; Python 3.11.7'
    >>> localise("0.8", "en")
    '0.8'
    """
    if language != "da" or not isinstance(text, str):
        return text

    def repl(m: re.Match) -> str:
        if m.group(3) is not None:  # a whole number with a percent sign
            return f"{m.group(3)} %"
        digits = m.group(1).replace(",", "\0").replace(".", ",").replace("\0", ".")
        return digits + (" %" if m.group(2) else "")

    return _EN_NUMBER_SAFE.sub(repl, text)


def spaced_percent(text: str, language: str) -> str:
    """Danish ``14,3 %`` for ``14,3%`` (a space before every percent sign that follows a digit); other text as is.

    >>> spaced_percent("12 / 96 (12,5%); 95%-KI", "da"), spaced_percent("12.5%", "en")
    ('12 / 96 (12,5 %); 95 %-KI', '12.5%')
    """
    if language != "da" or not isinstance(text, str):
        return text
    return re.sub(r"(\d)%", r"\1 %", text)


def localise_frame(frame, language: str):
    """A copy of a table whose text cells (and column names) hold English-formatted numbers, in ``language``.

    Only text columns change; numeric columns keep their dtype (an ``Int64`` column stays whole).
    """
    if language != "da":
        return frame
    out = frame.copy()
    for j in range(out.shape[1]):
        if out.dtypes.iloc[j] == object:
            out.iloc[:, j] = out.iloc[:, j].map(lambda v: localise(v, language))
    out.columns = [localise(c, language) for c in out.columns]
    return out
