"""Outcome primitives on the weekly status matrix and the configured outcome definitions."""
