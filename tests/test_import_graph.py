"""The house's floors: gankit's modules import downward only, with no cycles and no hidden imports.

The graph is read from the source (every ``import`` statement, at module level or inside a
function), so a cycle cannot hide behind an import written inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "gankit"

#: floors, ground first (DESIGN.md); a module may import from its own floor or below
FLOORS = {
    "errors": 1, "registry": 1, "io": 1, "rules": 1, "config": 1,
    "data": 2, "models": 2, "divergences": 2, "classic": 2,
    "objectives": 3,
    "sampling": 4.0, "metrics": 4.5,
    "train": 5,
    "report": 6,
    "run": 7,
    "theory": 8, "lab": 8, "sweep": 8,
    "api": 9, "vae_api": 9, "commands": 9, "cli": 9, "__main__": 9,
}
#: third-party modules that may be imported inside a function: optional extras, loaded when used
OPTIONAL = ("torch.utils.tensorboard", "tensorboard", "ray", "optuna", "matplotlib.animation", "starlette", "uvicorn")


def _modules() -> dict[str, Path]:
    out = {}
    for p in SRC.rglob("*.py"):
        parts = list(p.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, bool, int]]:
    """``(imported module, inside a function, line)`` for every import of ``name``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    inner = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            # `from pkg import sub` imports the submodule where one exists
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        found += [(t, id(node) in inner, node.lineno) for t in targets]
    return found


def _floor(module: str) -> float:
    parts = module.split(".")
    return FLOORS[parts[1]] if len(parts) > 1 else 0.0


MODULES = _modules()
EDGES = {m: _imports(m, p, MODULES) for m, p in MODULES.items()}


def test_every_module_has_a_floor():
    assert {m.split(".")[1] for m in MODULES if "." in m} <= set(FLOORS)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "gankit"))
def test_imports_go_downward_only(module):
    for target, _, line in EDGES[module]:
        if target.startswith("gankit.") and target in MODULES:
            assert _floor(target) <= _floor(module), f"{module}:{line} imports {target}, a higher floor"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "gankit"))
def test_no_import_inside_a_function_but_optional_extras(module):
    for target, inside, line in EDGES[module]:
        if inside:
            assert target.startswith(OPTIONAL), f"{module}:{line} imports {target} inside a function"


def test_no_cycles():
    graph = {m: {t for t, _, _ in EDGES[m] if t in MODULES and t != m and t != "gankit"} for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"
