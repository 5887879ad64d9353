"""What the emit asks of the render stage, as a protocol over plain types.

Takes nothing; gives :class:`Rendering`, the object :func:`mipc.release.emit.emit` is handed
to render a plan (the build passes :class:`mipc.render.pool.PhonePool`, tests may pass their
own). The emit decides what to render and writes it; the rendering decides how (in this
process or in worker processes). Never imports render or incremental: release knows
renderers only through this protocol and :mod:`mipc.artifacts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol, TypeVar

from mipc.artifacts import Artifact, Artifacts
from mipc.diagnostics import Diagnostic
from mipc.model import EffectivePhone, Plan

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: (stage, done, total): progress reports.
Progress = Callable[[str, int, int], None]


class Output(Protocol):
    """Rendered artifacts (path under ``www/`` → artifact) and the warnings that came with
    them; ``warned``: the phones that first raised one of the warnings."""

    @property
    def artifacts(self) -> Mapping[str, Artifact]:
        """The artifacts, by path."""
        ...

    @property
    def warnings(self) -> Sequence[Diagnostic]:
        """The renderers' warnings, each message once."""
        ...

    @property
    def warned(self) -> Sequence[str]:
        """The phones that first raised a warning."""
        ...


class Chunk(Protocol[T_co]):
    """One chunk of phones rendered and written: what the writer gave, and the warnings."""

    @property
    def written(self) -> T_co:
        """What the writer returned for the chunk's artifacts."""
        ...

    @property
    def warnings(self) -> Sequence[Diagnostic]:
        """The warnings first raised in this chunk."""
        ...

    @property
    def warned(self) -> Sequence[str]:
        """The phones of this chunk that first raised a warning."""
        ...

    @property
    def phones(self) -> int:
        """How many phones the chunk held."""
        ...


class Rendering(Protocol):
    """Renders a plan's files for the emit (see :mod:`mipc.render.pool`)."""

    def shared(self, plan: Plan) -> Output:
        """Every family's shared files (group files, server files, defaults, firmware)."""
        ...

    def reused_warnings(self, plan: Plan, rendered: Sequence[EffectivePhone]) -> Output:
        """The warnings the phones *not* in ``rendered`` would raise (their files are reused,
        so they are not rendered); the artifacts are to be dropped."""
        ...

    def forks(self, phones: int) -> bool:
        """Whether rendering this many phones runs worker processes (then no other thread
        may run while :meth:`phones` starts them)."""
        ...

    def phones(
        self,
        plan: Plan,
        phones: Sequence[EffectivePhone],
        write: Callable[[Artifacts], T],
        meanwhile: Callable[[], None] | None,
        progress: Progress | None,
    ) -> Iterator[Chunk[T]]:
        """Render ``phones`` (some of ``plan``'s; the whole plan goes along) in chunks, in
        name order; each chunk's own files go to ``write`` in the process that rendered them
        (its result must pickle). ``meanwhile`` runs in this process, once, while the
        chunks render; it must not read the plan, whose pages a forked worker shares until
        either writes them (CPython writes a reference count on every read)."""
        ...
