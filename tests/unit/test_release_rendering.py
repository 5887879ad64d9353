"""Release and render meet only through a protocol: emit with a rendering made by hand, and
no module of release importing render or incremental."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from mipc.artifacts import Artifact, Artifacts
from mipc.diagnostics import Diagnostic, Severity
from mipc.model import EffectivePhone, Plan
from mipc.pipeline import validate
from mipc.release.emit import EmitOptions, emit
from mipc.release.rendering import Progress
from tests.builders import tree

REPO = Path(__file__).parent.parent.parent
T = TypeVar("T")
SHARED = Diagnostic(Severity.WARNING, "render", "a shared warning")


@dataclass
class Made:
    artifacts: Artifacts = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)


@dataclass
class Chunk(Generic[T]):
    written: T
    warnings: list[Diagnostic]
    warned: list[str]
    phones: int


class HandRendering:
    """One shared file and one file per phone, in this process; notes what it was asked."""

    def __init__(self) -> None:
        self.rendered: list[str] = []
        self.meanwhile = 0

    def shared(self, plan: Plan) -> Made:
        names = tuple(sorted(p.name for p in plan.phones))
        return Made({"all.cfg": Artifact(b"all", names)}, [SHARED])

    def reused_warnings(self, plan: Plan, rendered: Sequence[EffectivePhone]) -> Made:
        return Made()

    def forks(self, phones: int) -> bool:
        return False

    def phones(
        self,
        plan: Plan,
        phones: Sequence[EffectivePhone],
        write: Callable[[Artifacts], T],
        meanwhile: Callable[[], None] | None,
        progress: Progress | None,
    ) -> Iterator[Chunk[T]]:
        if meanwhile is not None:
            meanwhile()
        self.meanwhile += 1
        for phone in sorted(phones, key=lambda p: p.name):
            self.rendered.append(phone.name)
            own = {f"{phone.name}.cfg": Artifact(phone.name.encode(), (phone.name,))}
            yield Chunk(write(own), [], [], 1)


def test_emit_renders_through_the_rendering_it_is_given(tmp_path: Path) -> None:
    target = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", target)
    result = validate(target)
    assert result.plan is not None
    plan = result.plan
    out = tmp_path / "out"
    hand = HandRendering()
    first = emit(plan, out, {"hosts": b"h\n"}, hand, EmitOptions())
    names = sorted(p.name for p in plan.phones)
    assert first.changed and hand.rendered == names and hand.meanwhile == 1
    files = tree(out / "current")
    assert files["www/all.cfg"] == b"all" and files["network/hosts"] == b"h\n"
    assert all(files[f"www/{name}.cfg"] == name.encode() for name in names)
    assert first.warnings == [SHARED]
    assert first.own == {name: (f"www/{name}.cfg",) for name in names}
    again = HandRendering()
    second = emit(plan, out, {"hosts": b"h\n"}, again, EmitOptions())
    assert not second.changed and second.release == first.release
    assert again.rendered == [] and again.meanwhile == 1  # every phone's files were reused


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_release_imports_neither_render_nor_incremental() -> None:
    banned = ("mipc.render", "mipc.incremental")
    for path in sorted((REPO / "mipc" / "release").glob("*.py")):
        for name in _imports(path):
            assert not any(name == b or name.startswith(b + ".") for b in banned), (
                f"{path.name} imports {name}"
            )
