"""The shape of the package: module and function sizes, parameters, module docstrings."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "mipc"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
MAX_PARAMETERS = 6


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    return len([n for n in names if n not in ("self", "cls")])


def offenders() -> set[str]:
    """Every module and function of ``mipc/`` over a limit."""
    found: set[str] = set()
    for path in _modules():
        rel = path.relative_to(PACKAGE.parent).as_posix()
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            found.add(rel)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES or _parameters(node) > MAX_PARAMETERS:
                    found.add(f"{rel}:{node.name}")
    return found


def test_no_module_or_function_over_the_limits() -> None:
    assert sorted(offenders()) == [], "split these (modules ≤500 lines, functions ≤60, ≤6 args)"


def test_every_module_says_what_it_does() -> None:
    missing = [
        p.relative_to(PACKAGE.parent).as_posix()
        for p in _modules()
        if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert missing == []
