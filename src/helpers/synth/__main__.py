"""Command line: ``python -m helpers.synth --study demo [--force] [--formats csv parquet ...]``."""

from __future__ import annotations

import argparse
import os
import sys

from helpers.config import StudyConfigError
from helpers.synth.generator import SynthError, generate
from helpers.synth.writers import FILES


def main(argv: list[str] | None = None) -> int:
    """Generate a study's synthetic data; print what was written unless DREAM_EVAL_QUIET=1."""
    parser = argparse.ArgumentParser(prog="python -m helpers.synth", description=__doc__)
    parser.add_argument("--study", default="demo", help="study name or YAML path (default: demo)")
    parser.add_argument("--force", action="store_true", help="regenerate even if the files are up to date")
    parser.add_argument("--formats", nargs="+", choices=sorted(FILES), help="extract formats (default: the YAML's)")
    args = parser.parse_args(argv)
    quiet = os.environ.get("DREAM_EVAL_QUIET", "") == "1"
    try:
        result = generate(args.study, force=args.force, formats=args.formats)
    except (SynthError, StudyConfigError) as err:
        print(f"helpers.synth: {err}", file=sys.stderr)
        return 1
    if not quiet:
        if result.skipped:
            print(f"{result.raw_dir}: up to date (study {result.study}); use --force to regenerate")
        else:
            for path in result.files:
                print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
            print(f"study {result.study}: {result.summary['n_pool']} persons, "
                  f"{result.summary['n_included']} included, {result.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
