"""Pseudonymisation of person IDs at ingest: a keyed hash, so no CPR number leaves ``data/raw``.

Each raw ID (stripped of surrounding whitespace; all-digit IDs optionally left-padded with
zeros to ``id_width``) is replaced by

.. math::

    \\mathrm{person\\_id} = \\mathrm{hex}\\big(\\mathrm{BLAKE2b}_{64}(\\mathrm{id};\\ \\mathrm{key})\\big)

i.e. ``hashlib.blake2b(id.encode("utf-8"), key=key, digest_size=8).hexdigest()``: 16 hex
characters. BLAKE2b's keyed mode is a MAC (RFC 7693), so without the key the mapping cannot
be recomputed, even though the space of CPR numbers is small enough to enumerate. The same
key gives the same pseudonyms across runs and files (extract and forms link up); another key
gives unrelated ones.

Where the key comes from (first that applies):

1. the environment variable named by ``data.pseudonymisation.key_env`` (default
   ``DREAM_PSEUDO_KEY``);
2. the file named by ``data.pseudonymisation.key_file`` (outside the repository);
3. the fixed :data:`DEMO_KEY`, only when ``data.pseudonymisation.allow_demo_key`` is true
   **and** the study is synthetic (``study.synthetic: true``; the manifest then says
   ``demo_key: true``). A real study that keeps ``allow_demo_key: true`` (copied from the
   demo) is refused: the demo key is public, so its hashes are no pseudonymisation.

Otherwise :class:`PseudonymKeyError` explains how to set one. A key is at least 16
characters; keys longer than 64 bytes (BLAKE2b's limit) are first reduced with unkeyed
BLAKE2b-512.

Examples
--------
>>> key = b"0123456789abcdef"
>>> pseudonymise(["0113901234"], key)[0] == pseudonymise([" 0113901234 "], key)[0]
True
>>> len(pseudonymise(["0113901234"], key)[0])
16
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.core import (
    paths,  #: Fixed key for the shipped synthetic studies. Never use it for real data.
)

DEMO_KEY = b"dream-eval synthetic demo key, not secret"
MIN_KEY_CHARS = 16
DIGEST_BYTES = 8


class PseudonymKeyError(ValueError):
    """No usable pseudonymisation key; the message says how to provide one."""


@dataclass(frozen=True)
class PseudonymKey:
    """A resolved key and where it came from.

    Attributes
    ----------
    key : bytes
        The BLAKE2b key (at most 64 bytes).
    source : str
        ``"env:<NAME>"``, ``"file"`` or ``"demo"``.
    """

    key: bytes
    source: str

    @property
    def is_demo(self) -> bool:
        """True when the fixed demo key is used."""
        return self.source == "demo"

    def fingerprint(self) -> str:
        """A slow, salted fingerprint of the key (PBKDF2-SHA256, 200,000 rounds; 16 hex characters).

        Stored in the manifest so that a changed key forces a new ingest, without making the
        key (and with it the IDs) cheap to recover from the manifest.
        """
        return hashlib.pbkdf2_hmac("sha256", self.key, b"dream-eval key fingerprint", 200_000, dklen=8).hex()

    def __repr__(self) -> str:  # never show the key
        return f"PseudonymKey(source={self.source!r})"


def _normalise_key(raw: bytes, where: str) -> bytes:
    raw = raw.strip()
    if len(raw) < MIN_KEY_CHARS:
        raise PseudonymKeyError(
            f"{where}: the pseudonymisation key has {len(raw)} characters; use at least {MIN_KEY_CHARS} "
            "random characters, e.g. the output of: python -c \"import secrets; print(secrets.token_hex(32))\""
        )
    if len(raw) > hashlib.blake2b.MAX_KEY_SIZE:
        raw = hashlib.blake2b(raw).digest()
    return raw


def resolve_key(pseudonymisation, *, root: Path | None = None, synthetic: bool = True) -> PseudonymKey:
    """Return the key configured by a study's ``data.pseudonymisation`` section.

    Parameters
    ----------
    pseudonymisation : helpers.config.schema.data.Pseudonymisation
        The study's settings (``key_env``, ``key_file``, ``allow_demo_key``).
    root : Path, optional
        Repository root (default :data:`helpers.core.paths.PROJECT_ROOT`); a key file inside it
        is refused, because it could end up in version control.
    synthetic : bool
        ``study.synthetic``; the demo key is refused when false.

    Raises
    ------
    PseudonymKeyError
        When no key is available or it is unusable.
    """
    root = Path(root or paths.PROJECT_ROOT).resolve()
    env_name = pseudonymisation.key_env
    value = os.environ.get(env_name)
    if value:
        key = _normalise_key(value.encode("utf-8"), f"environment variable {env_name}")
        return PseudonymKey(key, f"env:{env_name}")
    if pseudonymisation.key_file:
        path = Path(os.path.expanduser(pseudonymisation.key_file))
        if not path.is_absolute():
            path = root / path
        path = path.resolve()
        if path.is_relative_to(root):
            raise PseudonymKeyError(
                f"data.pseudonymisation.key_file: {pseudonymisation.key_file} is inside the repository; "
                "move the key file outside it (e.g. ~/.config/dream-eval/key) so it cannot be committed"
            )
        if not path.exists():
            raise PseudonymKeyError(
                f"data.pseudonymisation.key_file: {path} does not exist; create it with a random key, e.g. "
                f"python -c \"import secrets; print(secrets.token_hex(32))\" > {path}"
            )
        return PseudonymKey(_normalise_key(path.read_bytes(), f"key file {path}"), "file")
    if pseudonymisation.allow_demo_key and not synthetic:
        raise PseudonymKeyError(
            "data.pseudonymisation.allow_demo_key is true, but the study is not synthetic (study.synthetic: false): "
            "the demo key is public, so it would not pseudonymise real IDs. Remove allow_demo_key and set the "
            f"environment variable {env_name} to a secret of at least {MIN_KEY_CHARS} random characters (e.g. "
            f"export {env_name}=$(python -c \"import secrets; print(secrets.token_hex(32))\")), or name a key file "
            "outside the repository in data.pseudonymisation.key_file"
        )
    if pseudonymisation.allow_demo_key:
        return PseudonymKey(DEMO_KEY, "demo")
    raise PseudonymKeyError(
        f"no pseudonymisation key: set the environment variable {env_name} to a secret of at least "
        f"{MIN_KEY_CHARS} random characters (e.g. export {env_name}=$(python -c \"import secrets; "
        "print(secrets.token_hex(32))\")), or name a key file outside the repository in "
        "data.pseudonymisation.key_file. Keep the key: the same key links later extracts and forms."
    )


def normalise_ids(raw_ids: Iterable, id_width: int | None = None) -> list[str]:
    """Strip IDs; format integral numbers without decimals; left-pad all-digit IDs to ``id_width``.

    Missing values (None, NaN) become ``""`` (the caller reports them).
    """
    out = []
    for value in raw_ids:
        if value is None:
            out.append("")
            continue
        if isinstance(value, float):
            if value != value:  # NaN
                out.append("")
                continue
            if value.is_integer():
                value = int(value)
        text = str(value).strip()
        if id_width and text.isdigit() and len(text) < id_width:
            text = text.zfill(id_width)
        out.append(text)
    return out


def digests(ids: Iterable[str], key: bytes) -> np.ndarray:
    """Keyed BLAKE2b-64 of each (already normalised) ID as ``uint64`` (big-endian digest bytes)."""
    blake = hashlib.blake2b
    joined = b"".join(blake(i.encode("utf-8"), key=key, digest_size=DIGEST_BYTES).digest() for i in ids)
    return np.frombuffer(joined, dtype=">u8").astype(np.uint64)


_HEX = np.frombuffer(b"".join(f"{i:02x}".encode("ascii") for i in range(256)), dtype=np.uint8).reshape(256, 2)


def to_hex(values: np.ndarray) -> np.ndarray:
    """16-character hex strings of ``uint64`` digests (as :meth:`hashlib.blake2b.hexdigest`)."""
    raw = np.asarray(values, dtype=np.uint64).astype(">u8").view(np.uint8).reshape(-1, DIGEST_BYTES)
    chars = np.ascontiguousarray(_HEX[raw].reshape(-1, 2 * DIGEST_BYTES))
    return chars.view(f"S{2 * DIGEST_BYTES}").ravel().astype(f"U{2 * DIGEST_BYTES}").astype(object)


def pseudonymise(raw_ids: Iterable, key: bytes, id_width: int | None = None) -> np.ndarray:
    """Return the 16-hex-character pseudonym of each raw ID (object array)."""
    return to_hex(digests(normalise_ids(raw_ids, id_width), key))
