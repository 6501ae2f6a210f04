"""Pseudonymisation: keyed BLAKE2b-64 of the stripped raw ID; where the key comes from."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from helpers.config.schema.data import Pseudonymisation
from helpers.core import paths
from helpers.ingest.pseudonym import (
    DEMO_KEY,
    PseudonymKeyError,
    digests,
    normalise_ids,
    pseudonymise,
    resolve_key,
    to_hex,
)


def test_known_answer_from_openssl():
    # printf '0113901234' | openssl mac -macopt key:0123456789abcdef -macopt size:8 BLAKE2BMAC
    # -> EF4843DCC3B46F2B (OpenSSL 3.0.19)
    assert pseudonymise(["0113901234"], b"0123456789abcdef").tolist() == ["ef4843dcc3b46f2b"]


def test_vectorised_hex_equals_hexdigest():
    rng = np.random.default_rng(0)
    ids = [f"{int(x):010d}" for x in rng.integers(0, 10**10, size=500)]
    key = b"another key of some length"
    expected = [hashlib.blake2b(i.encode(), key=key, digest_size=8).hexdigest() for i in ids]
    assert pseudonymise(ids, key).tolist() == expected
    assert to_hex(digests(ids, key)).tolist() == expected


def test_normalisation_strips_and_pads():
    key = b"0123456789abcdef"
    assert normalise_ids([" 0113901234 ", 113901234.0, 42, None, float("nan")], id_width=10) == [
        "0113901234", "0113901234", "0000000042", "", ""]
    same = pseudonymise([" 0113901234", "0113901234\t"], key)
    assert same[0] == same[1] == "ef4843dcc3b46f2b"


def test_same_key_same_pseudonym_other_key_other():
    ids = ["0113901234", "1514851122"]
    a = pseudonymise(ids, b"key number one, long enough")
    b = pseudonymise(ids, b"key number one, long enough")
    c = pseudonymise(ids, b"key number two, long enough")
    assert a.tolist() == b.tolist()
    assert not set(a) & set(c)
    assert all(len(x) == 16 and int(x, 16) >= 0 for x in a)


def test_key_from_environment_file_or_demo(monkeypatch, tmp_path):
    monkeypatch.delenv("DREAM_PSEUDO_KEY", raising=False)
    with pytest.raises(PseudonymKeyError, match="set the environment variable DREAM_PSEUDO_KEY"):
        resolve_key(Pseudonymisation())
    demo = resolve_key(Pseudonymisation(allow_demo_key=True))
    assert demo.key == DEMO_KEY and demo.is_demo
    keyfile = tmp_path / "key"
    keyfile.write_text("file-key-0123456789abcdef\n")
    from_file = resolve_key(Pseudonymisation(key_file=str(keyfile), allow_demo_key=True))
    assert from_file.key == b"file-key-0123456789abcdef" and from_file.source == "file"
    monkeypatch.setenv("DREAM_PSEUDO_KEY", "env-key-0123456789abcdef")
    from_env = resolve_key(Pseudonymisation(key_file=str(keyfile), allow_demo_key=True))
    assert from_env.key == b"env-key-0123456789abcdef" and from_env.source == "env:DREAM_PSEUDO_KEY"
    assert "0123456789" not in repr(from_env)
    assert from_env.fingerprint() != from_file.fingerprint() and len(from_env.fingerprint()) == 16
    assert from_env.fingerprint() == resolve_key(Pseudonymisation()).fingerprint()


def test_bad_keys_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("DREAM_PSEUDO_KEY", "short")
    with pytest.raises(PseudonymKeyError, match="at least 16"):
        resolve_key(Pseudonymisation())
    monkeypatch.delenv("DREAM_PSEUDO_KEY")
    inside = paths.PROJECT_ROOT / "studies" / "key.txt"
    with pytest.raises(PseudonymKeyError, match="inside the repository"):
        resolve_key(Pseudonymisation(key_file=str(inside)))
    with pytest.raises(PseudonymKeyError, match="does not exist"):
        resolve_key(Pseudonymisation(key_file=str(tmp_path / "missing")))
    monkeypatch.setenv("DREAM_PSEUDO_KEY", "x" * 100)
    long_key = resolve_key(Pseudonymisation())
    assert long_key.key == hashlib.blake2b(b"x" * 100).digest() and len(long_key.key) == 64
