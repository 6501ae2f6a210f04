"""The package's shape: no import cycle, small modules, no imports hidden inside functions.

See docs/architecture.md. The allow-lists below name the modules that still break a rule;
they may only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "helpers"

#: Longest module, in lines (docstrings and comments count).
MAX_LINES = 500
#: Modules still over MAX_LINES (to be split; this list only shrinks).
TOO_LONG = {
    "helpers.synth.generator", "helpers.synth.model",
}
#: Optional heavy dependencies that may be imported inside a function (loaded only when used).
HEAVY = {"statsmodels", "pyreadstat", "duckdb", "pypdf", "psutil"}
#: Modules that still import inside functions (to be fixed; this list only shrinks).
INNER_IMPORTS: set[str] = set()


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(SRC).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(name: str, known: set[str]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """Module -> helpers modules it imports at module level (parents' __init__ included)."""
    mods = modules()
    known = set(mods)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        edges: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            for t in targets:
                if t.split(".")[0] != "helpers":
                    continue
                r = _resolve(t, known)
                while r and r != "helpers":
                    # a module's own enclosing packages are initialised before it runs: not an edge
                    if r != name and not name.startswith(r + "."):
                        edges.add(r)
                    r = r.rpartition(".")[0]
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    found = cycles(import_graph())
    assert not found, f"import cycles: {found}"


def test_modules_are_short():
    long = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    over = {k: v for k, v in long.items() if v > MAX_LINES and k not in TOO_LONG}
    assert not over, f"modules over {MAX_LINES} lines: {over}"
    fixed = sorted(k for k in TOO_LONG if k in long and long[k] <= MAX_LINES or k not in long)
    assert not fixed, f"remove from TOO_LONG (now short or gone): {fixed}"


def _inner_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    names = [a.name for a in inner.names]
                elif isinstance(inner, ast.ImportFrom):
                    names = [inner.module or ""]
                else:
                    continue
                found += [f"{n} (line {inner.lineno})" for n in names if n.split(".")[0] not in HEAVY]
    return found


def test_no_imports_inside_functions():
    bad = {}
    for name, path in modules().items():
        found = _inner_imports(path)
        if found and name not in INNER_IMPORTS:
            bad[name] = found
    assert not bad, f"imports inside functions (move them to the top of the module): {bad}"
    clean = sorted(n for n in INNER_IMPORTS if n not in modules() or not _inner_imports(modules()[n]))
    assert not clean, f"remove from INNER_IMPORTS (no inner imports left): {clean}"


def test_stages_table_matches_the_package():
    """docs/architecture.md names every stage module of helpers.stages, with its result class and file, and no other."""
    import importlib
    import re

    from helpers.stages.base import StageResult

    doc = (SRC.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = doc.split("<!-- stages-table -->")[1].split("<!-- /stages-table -->")[0]
    rows = re.findall(r"^\| (\w+) \| `([\w.]+)` \| `(\w+)` \| `([\w.]+)` \|$", table, re.M)
    assert rows, "no stage rows found between the stages-table markers"
    documented = {stage for stage, *_ in rows}
    present = {p.stem for p in (PACKAGE / "stages").glob("*.py") if p.stem not in ("__init__", "base")}
    assert documented == present, f"documented {sorted(documented)}, in src/helpers/stages {sorted(present)}"
    for stage, module, result, file in rows:
        mod = importlib.import_module(module)
        assert callable(getattr(mod, "run", None)), f"{module} has no run()"
        cls = getattr(mod, result)
        assert issubclass(cls, StageResult) and cls.FILE == file, f"{module}.{result}: FILE is {cls.FILE!r}"
