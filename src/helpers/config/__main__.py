"""``python -m helpers.config [study ...]`` validates study files; ``--docs`` regenerates docs/study-yaml.md."""

import sys

from helpers.config.study import load_study, schema_markdown
from helpers.core import paths
from helpers.core.atomic import write_text

if sys.argv[1:] == ["--docs"]:
    write_text(paths.PROJECT_ROOT / "docs" / "study-yaml.md", schema_markdown())
    print("wrote docs/study-yaml.md")
else:
    for arg in sys.argv[1:] or ["demo"]:
        print(f"{arg}: OK ({load_study(arg).source})")
