"""Presentation: the notebook Reporter, tables and text per stage, plots, assembly, PDF, provenance, supplement."""
