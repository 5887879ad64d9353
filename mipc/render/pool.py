"""The render worker pool: a plan's phones rendered in chunks, in worker processes when the
plan is large enough for that to pay.

Takes a :class:`mipc.model.Plan`, the phones to render and a writer for each chunk's
artifacts; gives, chunk by chunk, what the writer returned and the warnings. The writer runs
where the chunk was rendered (a forked worker inherits it), so files are written in parallel
and only small results travel back. :class:`PhonePool` is what the emit is handed (it meets
:class:`mipc.release.rendering.Rendering` by shape). Never imports release.

The workers die with the build: each asks the kernel for SIGKILL when its parent ends
(``prctl(PR_SET_PDEATHSIG)``, on Linux) and watches a pipe whose only writer is the build
(end of file: the build is gone, or gave up), so a killed build leaves no worker behind; they
stay in the build's process group, and ignore SIGINT (the build answers it, and stops them).
They hold no lock of OUT's (:mod:`mipc.release.lock` closes it in every forked child).

Once the workers are forked the build leaves the plan alone. CPython writes a reference
count on every object it reads, so a page of the plan read by the build and by one worker
ends up in three copies: the build's, the worker's, and the one the other worker keeps. Work
on the whole plan (network files, the incremental facts) is done before the fork: measured
at 100k phones, done while the workers render it cost 150 MiB and 2.5 CPU-s more, and saved
no time.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import InvalidStateError, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, Generic, TypeVar

from mipc.artifacts import Artifacts
from mipc.diagnostics import Diagnostic
from mipc.model import EffectivePhone, Plan
from mipc.render.stage import ChunkRenderer, Rendered, render_chunk, render_shared

T = TypeVar("T")

#: Below this many phones the build renders in one process (a pool costs more than it saves).
PARALLEL_THRESHOLD = 2000
#: Phones per unit of work handed to a worker process.
CHUNK_SIZE = 500

#: (stage, done, total): progress reports.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ChunkResult(Generic[T]):
    """One chunk rendered and written: the writer's result, the warnings first raised in it,
    the phones that first raised one, and how many phones the chunk held."""

    written: T
    warnings: list[Diagnostic]
    warned: list[str]
    phones: int


def phone_chunks(phones: Iterable[EffectivePhone], size: int = CHUNK_SIZE) -> list[tuple[str, ...]]:
    """Phone names in name order, cut in chunks of ``size``."""
    names = sorted(p.name for p in phones)
    return [tuple(names[i : i + size]) for i in range(0, len(names), size)]


class _Job(Generic[T]):
    """What a render process needs; made once per process (renderers keep plan-wide facts,
    such as Polycom's group files, so they must not be rebuilt for every chunk)."""

    def __init__(self, plan: Plan, write: Callable[[Artifacts], T]) -> None:
        self.plan = plan
        self.write = write
        self.index = {p.name: p for p in plan.phones}
        self.renderer = ChunkRenderer(plan)
        self.warned = 0

    def chunk(self, names: tuple[str, ...]) -> ChunkResult[T]:
        """Render and write the named phones."""
        rendered = render_chunk(self.plan, (self.index[n] for n in names), self.renderer)
        written = self.write(rendered.artifacts)
        warnings = rendered.warnings[self.warned :]
        self.warned = len(rendered.warnings)
        return ChunkResult(written, warnings, rendered.warned, len(names))


class _CheckJob(_Job[list[tuple[str, str]]]):
    """Renders only to find what cannot be rendered: each chunk gives the phones refused,
    with why (the exceptions of ``refusals``); nothing is written."""

    def __init__(self, plan: Plan, refusals: tuple[type[Exception], ...]) -> None:
        super().__init__(plan, _nothing)
        self.refusals = refusals

    def chunk(self, names: tuple[str, ...]) -> ChunkResult[list[tuple[str, str]]]:
        """Render the named phones; the refused ones and why."""
        refused: list[tuple[str, str]] = []
        for name in names:
            try:
                self.renderer.phone(self.index[name])
            except self.refusals as exc:
                refused.append((name, str(exc)))
        return ChunkResult(refused, [], [], len(names))


def _nothing(artifacts: Artifacts) -> list[tuple[str, str]]:
    return []


_JOB: _Job[Any] | None = None  # set before forking the workers


def _worker_chunk(names: tuple[str, ...]) -> ChunkResult[Any]:
    assert _JOB is not None, "worker started without a job"
    return _JOB.chunk(names)


_PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> None:
    """Ask the kernel to SIGKILL this process when its parent ends (Linux; elsewhere the
    pipe alone tells)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def _watch(fd: int) -> None:
    """Block until the build closes its end of the pipe (or dies), then end this worker."""
    while True:
        try:
            if not os.read(fd, 1):
                break
        except InterruptedError:  # pragma: no cover - retried by Python since 3.5
            continue
        except OSError:
            break
    os._exit(1)


def _worker_start(parent: int, watch: int, write_end: int) -> None:
    """A worker's first act: die with the build (see the module's docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.close(write_end)  # the build's own: it must stay the only writer
    _parent_death_signal()
    if os.getppid() != parent:  # the build died before the request was made
        os._exit(1)
    threading.Thread(target=_watch, args=(watch,), name="mipc-watch", daemon=True).start()


def default_workers() -> int:
    """The processes to render in: the CPUs this process may run on, at most 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def _parallel(phones: int, workers: int) -> bool:
    """Whether rendering ``phones`` pays for a pool of worker processes."""
    return workers > 1 and phones >= PARALLEL_THRESHOLD and phones > CHUNK_SIZE


def _own_custom_files(phone: EffectivePhone) -> bool:
    """Whether a phone names custom files after its own MAC address."""
    return any("[MACADDRESS]" in name.upper() for name in phone.config_files)


def reused_warnings(plan: Plan, to_render: Sequence[EffectivePhone]) -> Rendered:
    """The warnings of the profiles whose phones are all reused, not rendered.

    A reused phone is not rendered, so what its renderer would warn about (an option with no
    key, a syslog port, a firmware the catalog lacks) would go unsaid, and ``--strict`` pass
    where a full build fails. Most such warnings belong to the profile: one phone of each
    profile that is not rendered anyway is rendered here, for its warnings only, and so is
    every reused phone with custom files named after its MAC (whose warnings are its own).
    """
    rendered = {p.profile for p in to_render}
    names = {p.name for p in to_render}
    chosen: list[EffectivePhone] = []
    for phone in sorted(plan.phones, key=lambda p: p.name):
        if phone.name in names:
            continue
        if phone.profile not in rendered:
            rendered.add(phone.profile)  # this phone speaks for its profile
            chosen.append(phone)
        elif _own_custom_files(phone):
            chosen.append(phone)  # its custom files are its own: so are their warnings
    if not chosen:
        return Rendered()
    return render_chunk(plan, chosen)


def _render_phones(
    job: _Job[T],
    phones: Sequence[EffectivePhone],
    workers: int,
    progress: Progress | None,
    meanwhile: Callable[[], None] | None = None,
) -> Generator[ChunkResult[T], None, None]:
    """Render and write ``phones`` (some of the job's plan's), in chunks, maybe in workers;
    ``meanwhile`` runs in this process once the workers have their chunks. Closed early (an
    error, an interruption), it stops the workers at once, before it returns.
    ``meanwhile`` must leave the plan alone (see the module's docstring)."""
    global _JOB
    chunks = phone_chunks(phones, CHUNK_SIZE)
    total = len(phones)
    done = 0
    if not _parallel(total, workers):
        if meanwhile is not None:
            meanwhile()
        for chunk in chunks:
            result = job.chunk(chunk)
            done += result.phones
            if progress:
                progress("render", done, total)
            yield result
        return
    # Worked out here, once, the plan-wide facts are shared by the workers: worked out in
    # each, they touch every phone, which copies most of the plan's heap into each worker.
    job.renderer.prepare()
    _JOB = job
    watch, alive = os.pipe()
    try:
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("fork"),
            initializer=_worker_start,
            initargs=(os.getpid(), watch, alive),
        ) as pool:
            try:
                results = pool.map(_worker_chunk, chunks)
                if meanwhile is not None:
                    meanwhile()
                for result in results:
                    done += result.phones
                    if progress:
                        progress("render", done, total)
                    yield result
            except BaseException:
                _quiet_cancelled_pool()
                pool.shutdown(wait=False, cancel_futures=True)
                os.close(alive)  # the workers see the end of the pipe, and end
                alive = -1
                raise
    finally:
        _JOB = None
        os.close(watch)
        if alive >= 0:
            os.close(alive)


def _quiet_cancelled_pool() -> None:
    """Silence one CPython 3.11 fault: when a stopped pool's workers end, its manager thread
    fails the pending work and raises ``InvalidStateError`` on a future this build cancelled
    (fixed in later Pythons). The build reports the interruption itself; only that error of
    the pool's own thread is dropped, any other still reaches the usual hook."""
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if isinstance(args.exc_value, InvalidStateError) and "cancelled" in str(args.exc_value):
            return
        previous(args)

    threading.excepthook = hook


class PhonePool:
    """Renders a plan for the emit, in up to ``workers`` processes (default: one per CPU,
    at most 8); pools start only for plans large enough (:data:`PARALLEL_THRESHOLD`)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()

    def shared(self, plan: Plan) -> Rendered:
        """Every family's shared files (group files, server files, defaults, firmware)."""
        return render_shared(plan)

    def reused_warnings(self, plan: Plan, rendered: Sequence[EffectivePhone]) -> Rendered:
        """The warnings of the phones not in ``rendered`` (see :func:`reused_warnings`)."""
        return reused_warnings(plan, rendered)

    def forks(self, phones: int) -> bool:
        """Whether rendering this many phones runs worker processes."""
        return _parallel(phones, self.workers)

    def phones(
        self,
        plan: Plan,
        phones: Sequence[EffectivePhone],
        write: Callable[[Artifacts], T],
        meanwhile: Callable[[], None] | None,
        progress: Progress | None,
    ) -> Generator[ChunkResult[T], None, None]:
        """Render ``phones`` of ``plan`` in chunks (name order); ``write`` gets each chunk's
        files in the process that rendered them; ``meanwhile`` runs here, once, meanwhile,
        and must leave the plan alone (see the module's docstring)."""
        return _render_phones(_Job(plan, write), phones, self.workers, progress, meanwhile)

    def refusals(
        self,
        plan: Plan,
        refusals: tuple[type[Exception], ...],
    ) -> list[tuple[str, str]]:
        """Render every phone of ``plan`` in memory, in chunks (maybe in workers), and give
        (phone, why) for each one that raised one of ``refusals``, in name order. Writes
        nothing."""
        job = _CheckJob(plan, refusals)
        phones = job.renderer.plan.phones
        found: list[tuple[str, str]] = []
        for result in _render_phones(job, phones, self.workers, None):
            found.extend(result.written)
        return found
