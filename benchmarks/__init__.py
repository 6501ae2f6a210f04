"""Register-scale benchmarks of the dream-eval pipeline (``make bench``; not part of the ``helpers`` package).

Run ``python -m benchmarks`` from the repository root (``make bench`` does). Modules:
:mod:`benchmarks.generate` (cached bench extracts), :mod:`benchmarks.steps` (the timed
steps), :mod:`benchmarks.peer_duckdb` (the SQL peer), :mod:`benchmarks.fullreport` (the
whole report on a 1,000,000-person pool), :mod:`benchmarks.scaling` (exponents, figure,
extrapolation), :mod:`benchmarks.measure` (peak memory of a process tree).
"""
