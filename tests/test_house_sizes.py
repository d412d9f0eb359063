"""Small files and short functions: every module under 400 lines, every function under 60 lines.

A function's length is counted from the end of its docstring. A longer function must say why,
with a comment containing ``long:`` in its body.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "gankit"
FILES = sorted(SRC.rglob("*.py"))
MAX_FILE, MAX_FUNCTION = 400, 60


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int]:
    first = node.body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
    start = first.end_lineno + 1 if has_doc and len(node.body) > 1 else first.lineno
    return start, node.end_lineno


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_file_is_small(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_FILE, f"{path.relative_to(SRC)} has {n} lines (at most {MAX_FILE})"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_functions_are_short_or_say_why(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start, end = _body_lines(node)
            if end - start + 1 > MAX_FUNCTION:
                assert any("long:" in line for line in lines[start - 1:end]), (
                    f"{path.relative_to(SRC)}:{node.lineno} {node.name} has {end - start + 1} lines "
                    f"(at most {MAX_FUNCTION} without a 'long:' comment saying why)")
