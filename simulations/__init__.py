"""Monte Carlo studies of the pipeline's estimators (``make simulate``; see docs/headline-estimator.md).

Not part of the installed ``helpers`` package: run from the repository root
(``python -m simulations.headline``). Single-threaded BLAS in every process, so that the
worker processes (one per core) do not compete for the shared machine's cores.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
