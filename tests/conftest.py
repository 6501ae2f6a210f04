"""Shared fixtures."""

from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("DREAM_EVAL_QUIET", "1")  # no progress bars in tests


@pytest.fixture(scope="session")
def demo_study():
    """The validated demo study configuration."""
    from helpers.config import load_study

    return load_study("demo")
