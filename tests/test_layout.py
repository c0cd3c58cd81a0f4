"""The package's shape: no import cycle (imports inside functions included), and the analysis
side (roofline, model, results, workload) never reaches into the benches or the runtime."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "harness"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every harness module `path` imports, at any depth of the file (functions included).
    `from harness.x import y` counts harness.x.y when y is a module, else harness.x."""
    me = _module_name(path)
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = me.split(".") if is_pkg else me.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names]
        else:
            continue
        for n in names:
            if n.startswith("harness") and n in modules and n != me:
                out.add(n)
    return out


def graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: imports_of(p, mods) for m, p in mods.items()}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    """A cycle among modules, ignoring a package's own __init__ importing its submodules (and the
    reverse), which Python resolves by design."""
    def edge_ok(a, b):
        return not (b.startswith(a + ".") or a.startswith(b + "."))
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if not edge_ok(n, m):
                continue
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(g):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("import harness.b\n")
    b.write_text("def f():\n    from harness import a\n")
    mods = {"harness.a": a, "harness.b": b}
    g = {"harness.a": {"harness.b"}, "harness.b": {"harness.a"}}
    assert find_cycle(g)
    assert find_cycle({"harness.a": {"harness.b"}, "harness.b": set()}) is None
    # the walk sees imports inside functions
    global _module_name
    saved = _module_name
    try:
        _module_name = lambda p: {a: "harness.a", b: "harness.b"}[p]    # noqa: E731
        assert imports_of(b, mods) == {"harness.a"}
    finally:
        _module_name = saved


def test_no_import_cycle_in_the_package():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("side", ["harness.roofline", "harness.model", "harness.results", "harness.workload"])
def test_analysis_never_imports_benches_or_runtime(side):
    g = graph()
    bad = {(m, i) for m, deps in g.items() if m == side or m.startswith(side + ".")
           for i in deps if i.split(".")[:2] in (["harness", "bench"], ["harness", "runtime"])}
    assert not bad, f"{side} imports benches or the runtime: {sorted(bad)}"


def test_model_never_reads_design_files():
    g = graph()
    bad = {(m, i) for m, deps in g.items() if m.startswith("harness.model")
           for i in deps if i.startswith("harness.designs")}
    assert not bad, f"the model reads design files: {sorted(bad)}"


def test_layout_has_the_documented_folders():
    for folder in ("commands", "bench", "results", "designs", "model", "runtime", "workload", "roofline",
                   "platforms", "data", "docs"):
        assert (PKG / folder).is_dir(), folder
    for f in ("cli.py", "errors.py", "figures.py", "__main__.py"):
        assert (PKG / f).is_file(), f
