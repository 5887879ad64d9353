"""docs/rules.md lists every diagnostic code mipc can emit, and nothing else.

The codes are collected from mipc's source by its syntax tree, not by a text search: the first
argument of every ``.error(...)`` / ``.warning(...)`` call, the code of every ``Diagnostic(...)``,
the ``code`` argument of every function that takes one (``reject``, ``warn``, ``abort``,
``report``, ``_error`` ...), each either a string, a module constant (``CODE = "render"``) or
an f-string (``f"unknown-{kind}"``, which stands for the codes its calls make: the index must
hold at least one code of its shape, and the ones made from the literal kinds passed to the
function, ``unknown(diags, "template", ...)``, are collected too).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
INDEX = ROOT / "docs" / "rules.md"
CODE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
ROW = re.compile(r"^\| `([a-z0-9-]+)` \| (error|warning|error or warning) \|", re.M)


@dataclass
class Found:
    """What the source emits: literal codes (with where), and f-string shapes."""

    codes: dict[str, set[str]] = field(default_factory=dict)
    shapes: dict[str, str] = field(default_factory=dict)  # regex -> where

    def add(self, code: str, where: str) -> None:
        if CODE.fullmatch(code):
            self.codes.setdefault(code, set()).add(where)


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((ROOT / "mipc").rglob("*.py")):
        yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


Consts = dict[tuple[str, str], str]


def _tables(trees: list[tuple[str, ast.Module]]) -> tuple[dict[str, int], Consts]:
    """Functions with a ``code`` parameter (its index, ``self`` left out), and every
    module-level string constant by (module, name)."""
    params: dict[str, int] = {}
    consts: Consts = {}
    for where, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                names = [a.arg for a in node.args.args if a.arg not in ("self", "cls")]
                if "code" in names:
                    params[node.name] = names.index("code")
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
                for target in stmt.targets:
                    if isinstance(target, ast.Name) and isinstance(stmt.value.value, str):
                        consts[where, target.id] = stmt.value.value
    return params, consts


def _code_arg(call: ast.Call, name: str, params: dict[str, int]) -> ast.expr | None:
    """The expression a call passes as a diagnostic's code, if it is such a call."""
    index = {"error": 0, "warning": 0, "Diagnostic": 1}.get(name, params.get(name))
    if index is None:
        return None
    for keyword in call.keywords:
        if keyword.arg == "code":
            return keyword.value
    return call.args[index] if len(call.args) > index else None


def _constant(consts: Consts, where: str, name: str) -> list[str]:
    """A name's string value: the module's own constant, else the one of that name it
    imports (any module's)."""
    own = consts.get((where, name))
    return [own] if own is not None else [v for (_, n), v in consts.items() if n == name]


def _shape(expr: ast.JoinedStr) -> str:
    parts = []
    for value in expr.values:
        if isinstance(value, ast.Constant):
            parts.append(re.escape(str(value.value)))
        else:
            parts.append("[a-z0-9-]+")
    return "".join(parts)


def _kinds(trees: list[tuple[str, ast.Module]], function: str) -> set[str]:
    """The literal ``kind`` (second argument) of every call of ``function``."""
    out = set()
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) == function and len(node.args) > 1:
                kind = node.args[1]
                if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                    out.add(kind.value.replace(" ", "-"))
    return out


@functools.cache
def collect() -> Found:
    """Every code mipc's source can emit."""
    trees = list(_modules())
    params, consts = _tables(trees)
    found = Found()
    for where, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            expr = _code_arg(node, _name(node), params)
            if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
                found.add(expr.value, where)
            elif isinstance(expr, ast.Name):
                for value in _constant(consts, where, expr.id):
                    found.add(value, where)
            elif isinstance(expr, ast.JoinedStr):
                shape = _shape(expr)
                if CODE.fullmatch(shape.replace("[a-z0-9-]+", "x").replace("\\-", "-")):
                    found.shapes[shape] = where  # not a parser's message (mipc.catalog)
    # the f-string codes of the name rules: unknown-<kind> and <kind>-cycle
    for kind in _kinds(trees, "unknown"):
        found.add(f"unknown-{kind}", "mipc/rules/names.py")
    for kind in _kinds(trees, "cycles"):
        found.add(f"{kind}-cycle", "mipc/rules/names.py")
    return found


def documented() -> dict[str, str]:
    """Code -> severity, from the index's table rows."""
    return dict(ROW.findall(INDEX.read_text(encoding="utf-8")))


def test_the_collector_finds_codes_of_every_kind_of_call() -> None:
    found = collect()
    # a plain call, a module constant, a code parameter, an f-string's kinds, Diagnostic(...)
    for code in ("factory-admin-password", "outside-inventory", "csv-syntax", "unknown-template"):
        assert code in found.codes, code
    assert "render" in found.codes and "template-cycle" in found.codes
    assert r"unknown\-[a-z0-9-]+" in found.shapes
    assert len(found.codes) > 80


def test_every_code_in_the_source_is_in_the_index() -> None:
    found, index = collect(), documented()
    missing = {code: sorted(where) for code, where in found.codes.items() if code not in index}
    assert missing == {}, f"add these to {INDEX.relative_to(ROOT)}: {missing}"
    for shape, where in found.shapes.items():
        assert any(re.fullmatch(shape, code) for code in index), (shape, where)


def test_every_code_in_the_index_is_emitted() -> None:
    found, index = collect(), documented()
    stale = [
        code
        for code in index
        if code not in found.codes and not any(re.fullmatch(s, code) for s in found.shapes)
    ]
    assert stale == [], f"{INDEX.relative_to(ROOT)} lists codes mipc never emits: {stale}"


def test_each_code_once_sorted_in_its_table() -> None:
    text = INDEX.read_text(encoding="utf-8")
    codes = [code for code, _ in ROW.findall(text)]
    assert len(codes) == len(set(codes))
    for section in text.split("\n## ")[1:]:
        table = [code for code, _ in ROW.findall(section)]
        assert table == sorted(table), section.splitlines()[0]
