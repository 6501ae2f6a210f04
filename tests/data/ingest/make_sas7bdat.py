"""Regenerate ``dream.sas7bdat`` (the reference extract of tests/test_ingest.py as SAS7BDAT).

pyreadstat cannot write SAS7BDAT; ReadStat's command-line tool can (Debian package
``readstat`` 1.1.8, ``apt-get install readstat``). Run from the repository root:

    .venv/bin/python tests/data/ingest/make_sas7bdat.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pyreadstat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from test_ingest import typed_frame  # noqa: E402

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        dta = Path(tmp) / "dream.dta"
        frame = typed_frame(codes="float")
        pyreadstat.write_dta(frame, dta, version=15)
        out = HERE / "dream.sas7bdat"
        out.unlink(missing_ok=True)
        subprocess.run(["readstat", str(dta), str(out)], check=True)
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
