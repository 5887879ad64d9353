"""The build, composed: the stages from an inventory to a release of OUT.

:func:`build` takes the inventory's path and :class:`BuildSettings` and takes one of three
paths: nothing the current release was built from changed (no-op); only some phones' entries
changed (those phones compiled and rendered alone, their files patched into a copy of the
current release); or the full build: validate → render in the worker pool → emit with the
network files, then the record of the inputs and the incremental state for the next build. It
gives a :class:`BuildOutcome`: the path taken, what was written, the diagnostics, and any
failure with its exit code: 1 the input is invalid, a renderer refused it, or warnings under
``strict``; 2 I/O trouble (a read-only OUT, a full disk), an interruption (SIGINT), or another
build holding OUT. OUT's lock is held from the first look at OUT to the last write (waiting
``wait`` seconds for another build). In every failing case ``OUT/current`` is a complete
release: the one it was, or (interrupted once it was switched) the new one. Prints nothing;
never imports the CLI.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from mipc.diagnostics import Diagnostic, Diagnostics
from mipc.incremental.csv_rows import packed_rows
from mipc.incremental.delta import Changes, Known, changes
from mipc.incremental.delta import candidate as incremental_candidate
from mipc.incremental.inputs import (
    Inputs,
    Record,
    record_inputs,
    release_options,
    saved_diagnostics,
    secret_key,
    settled,
)
from mipc.incremental.state import (
    PlanFacts,
    Written,
    file_identity,
    plan_facts,
    save_state,
    state_of,
)
from mipc.incremental.unchanged import save_record, unchanged_release
from mipc.model import waiting_phones
from mipc.network.plan import DEFAULT_SERVER_ROOT
from mipc.pipeline.compile import Allowed, Result, delta, paused_gc, validate
from mipc.pipeline.patch import Network, NetworkFilesError, last_dhcp, written
from mipc.pipeline.site import site_inputs
from mipc.release.ahead import LinkAhead
from mipc.release.ahead import start as start_ahead
from mipc.release.delta import Prelink
from mipc.release.emit import EmitOptions, EmitResult, emit
from mipc.release.manifest import MANIFEST
from mipc.release.rendering import Progress
from mipc.release.staging import GROUP_CODE, UnsafePath
from mipc.release.store import (
    EmitError,
    LockHeld,
    Out,
    WarningsAsErrors,
    describe_os_error,
)
from mipc.release.uploads import give_uploads, uploads_warning
from mipc.render.polycom import varied_groups
from mipc.render.pool import PhonePool
from mipc.render.stage import provisioned
from mipc.render.templating import TemplateError


@dataclass(frozen=True)
class BuildSettings:
    """How to build: into ``out``, keeping ``keep`` releases; ``force``: a new release even
    if nothing changed (no reuse, no shortcut); ``strict``: warnings fail; ``workers``:
    render processes (None: one per CPU); ``server_root``: where OUT lives on the web server;
    ``progress``: reports of the emit's stages; ``allowed``: folders outside the inventory it
    may read; ``wait``: seconds to wait for OUT's lock; ``uploads_owner``: the user to
    ``chown`` OUT's upload folders to once a release is made (root only); ``link_ahead``:
    whether to link the release ahead for the next build (:mod:`mipc.release.ahead`)."""

    out: Path
    keep: int = 5
    force: bool = False
    strict: bool = False
    workers: int | None = None
    server_root: str = DEFAULT_SERVER_ROOT
    progress: Progress | None = None
    allowed: Allowed = field(default_factory=Allowed)
    wait: float = 0
    uploads_owner: str | None = None
    link_ahead: LinkAhead = "auto"


class BuildPath(StrEnum):
    """Which way a build went."""

    NO_OP = "no-op"  # nothing the current release was built from changed
    CHANGED = "changed phones only"  # the incremental shortcut
    FULL = "full"


@dataclass(frozen=True)
class BuildOutcome:
    """What a build did, for the command to print.

    ``diagnostics`` is None when the build stopped before it had any to report;
    ``emitted`` is None on a no-op (then ``record`` says what the current release was built
    from) and on failure (then ``error`` says what went wrong, ``code`` the exit code)."""

    path: BuildPath
    code: int
    diagnostics: Diagnostics | None = None
    emitted: EmitResult | None = None
    record: Record | None = None
    error: str = ""
    waiting: int = 0  # phones that wait for an address (they get no files)
    notices: tuple[str, ...] = ()  # about the machine, not the inventory: one line each


def build(target: Path, settings: BuildSettings) -> BuildOutcome:
    """Build ``target`` into ``settings.out`` (see the module's docstring)."""
    out = settings.out
    with paused_gc():  # the whole build: see paused_gc (workers inherit it)
        try:
            with _locked(settings):
                outcome = _build(target, settings)
                if outcome.code == 0:
                    _link_ahead(outcome, settings)
                return outcome
        except LockHeld as exc:
            return _failed(BuildPath.NO_OP, None, str(exc), 2)
        except EmitError as exc:
            return _failed(BuildPath.NO_OP, None, f"{exc}; {out}/current untouched", 2)
        except OSError as exc:
            return _failed(
                BuildPath.NO_OP, None, f"cannot write {out}: {describe_os_error(exc)}", 2
            )
        except KeyboardInterrupt:
            return _failed(BuildPath.NO_OP, None, f"interrupted; {_serving(out)}", 2)


def _locked(settings: BuildSettings) -> contextlib.AbstractContextManager[None]:
    """OUT's lock for the whole build when OUT exists (else the emit takes it, once it has
    made OUT)."""
    if not settings.out.is_dir():
        return contextlib.nullcontext()
    return Out(settings.out).locked(wait=settings.wait)


def _link_ahead(outcome: BuildOutcome, settings: BuildSettings) -> None:
    """Link the current release ahead for the next build (:mod:`mipc.release.ahead`), under
    OUT's lock (a first build's emit let go of it: taken again, if no other build has)."""
    if outcome.emitted is not None:
        files = outcome.emitted.files
    else:  # a no-op: the record says what the current release holds
        files = outcome.record.files if outcome.record is not None else 0
    out = Out(settings.out)
    with contextlib.suppress(LockHeld, EmitError), out.locked():
        start_ahead(out, files, settings.link_ahead)


def _serving(out: Path) -> str:
    """What ``OUT/current`` is after an interrupted build."""
    current = Out(out).current_id()
    if current is None:
        return f"{out}/current is not made"
    return f"{out}/current is release {current}, complete"


def _build(target: Path, settings: BuildSettings) -> BuildOutcome:
    if not settings.force:
        options = release_options(settings.server_root) | settings.allowed.options()
        same = unchanged_release(settings.out, target, options)
        if same is not None:
            return _unchanged(same, settings)
        outcome = _incremental(target, settings, time.time_ns())
        if outcome is not None:
            return outcome
    return _full(target, settings, time.time_ns())


def _failed(path: BuildPath, diags: Diagnostics | None, error: str, code: int) -> BuildOutcome:
    return BuildOutcome(path, code, diags, error=error)


def _unchanged(record: Record, settings: BuildSettings) -> BuildOutcome:
    """Nothing the current release was built from has changed: what its build reported."""
    diags = Diagnostics()
    diags.extend(record.diagnostics)
    code = 1 if diags.has_errors(settings.strict) else 0
    notices = _uploads(settings, record.nginx_user)
    return BuildOutcome(
        BuildPath.NO_OP, code, diags, record=record, waiting=record.waiting, notices=notices
    )


# --- the full build -----------------------------------------------------------------------


def _emit_failure(exc: Exception, out: Path) -> tuple[str, int]:
    """The message and exit code of an emit that raised ``exc``."""
    untouched = f"{out}/current untouched"
    if isinstance(exc, LockHeld):
        return str(exc), 2
    if isinstance(exc, WarningsAsErrors):
        return f"warnings under --strict; {untouched}", 1
    if isinstance(exc, NetworkFilesError):
        return f"cannot write the network files: {exc}; {untouched}", 1
    if isinstance(exc, UnsafePath | TemplateError | ValueError):
        return f"cannot render: {exc}; {untouched}", 1
    if isinstance(exc, EmitError):
        return f"{exc}; {untouched}", 2
    assert isinstance(exc, OSError)
    return f"cannot write {out}: {describe_os_error(exc)}", 2


#: What an emit may raise (see :func:`_emit_failure`).
_EMIT_ERRORS = (WarningsAsErrors, NetworkFilesError, TemplateError, ValueError, EmitError, OSError)


def _full(target: Path, settings: BuildSettings, started: int) -> BuildOutcome:
    """Validate, render and emit the whole inventory; record what it was built from."""
    result = validate(target, allowed=settings.allowed)
    diags, out = result.diagnostics, settings.out
    if result.plan is None or diags.has_errors(settings.strict):
        if diags.trouble:
            return _failed(BuildPath.FULL, diags, f"cannot read {target}; {_nothing(out)}", 2)
        return _failed(BuildPath.FULL, diags, f"{target} is invalid; {_nothing(out)}", 1)
    plan = result.plan
    network = Network(lambda: site_inputs(plan), settings.server_root, out)
    if not settings.force:  # the DHCP files of the current release, if they stay the same
        network.dhcp = last_dhcp(out)

    def state_facts() -> PlanFacts:
        site = network.site()
        return plan_facts(plan, varied_groups(provisioned(plan).phones), (site.facts, site.owners))

    facts: list[PlanFacts] = []  # for the incremental state, made before the workers fork
    options = EmitOptions(
        keep=settings.keep,
        force=settings.force,
        progress=settings.progress,
        strict=settings.strict,
        wait=settings.wait,
        before_render=lambda: facts.append(state_facts()),
    )
    try:
        emitted = emit(plan, out, network, PhonePool(settings.workers), options)
    except _EMIT_ERRORS as exc:
        if isinstance(exc, WarningsAsErrors):
            diags.extend(exc.warnings)
        return _failed(BuildPath.FULL, diags, *_emit_failure(exc, out))
    diags.extend(emitted.warnings)
    # Without a record the next build compiles in full, which is always correct.
    with contextlib.suppress(OSError):
        if _record(target, settings, _Built(result, emitted, started)):
            assert emitted.index is not None
            state = state_of(
                facts[0] if facts else state_facts(),
                diags,
                (result.context, result.frame),
                Written(emitted.release, emitted.index, emitted.own, emitted.warned),
                packed_rows(result.rows),
            )
            manifest = file_identity(Out(out).releases / emitted.release / MANIFEST)
            save_state(out, replace(state, dhcp=network.dhcp.key, manifest=manifest))
    code = 1 if diags.has_errors(settings.strict) else 0
    return BuildOutcome(
        BuildPath.FULL,
        code,
        diags,
        emitted,
        waiting=waiting_phones(plan.phones),
        notices=network.notices() + _uploads(settings, plan.inventory.serving.nginx_user),
    )


def _uploads(settings: BuildSettings, nginx_user: str) -> tuple[str, ...]:
    """Give OUT's upload folders to ``settings.uploads_owner``, then say (one line) if
    nginx's user cannot write some of them (:mod:`mipc.release.uploads`)."""
    if settings.uploads_owner is not None:
        try:
            give_uploads(settings.out, settings.uploads_owner)
        except (ValueError, OSError) as exc:
            reason = exc if isinstance(exc, ValueError) else describe_os_error(exc)
            return (
                f"warning: the upload folders are not given to {settings.uploads_owner}: {reason}",
            )
    said = uploads_warning(settings.out, nginx_user)
    return (said,) if said else ()


def _nothing(out: Path) -> str:
    return f"nothing written, {out} untouched"


@dataclass(frozen=True)
class _Built:
    """A full build that made a release: what it validated, what it emitted, and when it
    started (ns since the epoch)."""

    result: Result
    emitted: EmitResult
    started: int


def _record(target: Path, settings: BuildSettings, built: _Built) -> bool:
    """Record what the current release was built from (see :mod:`mipc.incremental.inputs`);
    False if an input changed while the build ran (nothing is recorded)."""
    result = built.result
    assert result.inventory is not None
    inputs = record_inputs(
        target,
        result.inventory,
        result.sources,
        release_options(settings.server_root) | settings.allowed.options(),
        secret_key(settings.out),
    )
    if not settled(inputs, built.started):
        # Only inputs untouched since before validation: an edit made during the build
        # must not be mistaken for what this release was built from.
        return False
    diagnostics = saved_diagnostics(result.diagnostics)
    assert result.plan is not None
    waiting = waiting_phones(result.plan.phones)
    user = result.plan.inventory.serving.nginx_user
    _save_record(target, settings.out, built.emitted, inputs, (diagnostics, waiting, user))
    return True


def _save_record(
    target: Path,
    out: Path,
    emitted: EmitResult,
    inputs: Inputs,
    said: tuple[tuple[Diagnostic, ...], int, str],
) -> None:
    """Write ``OUT/inputs.json``; ``said``: the build's diagnostics, how many phones wait for
    an address, and nginx's user."""
    diagnostics, waiting, nginx_user = said
    record = Record(
        target=os.path.abspath(target),
        release=emitted.release,
        phones=emitted.phones,
        files=emitted.files,
        inputs=inputs,
        diagnostics=diagnostics,
        waiting=waiting,
        nginx_user=nginx_user,
    )
    save_record(out, record)


# --- the incremental shortcut -------------------------------------------------------------


def _incremental(target: Path, settings: BuildSettings, started: int) -> BuildOutcome | None:
    """Build only the phones whose entries changed (:mod:`mipc.incremental.delta`); None when
    that does not apply and the full build must run."""
    out = settings.out
    options = release_options(settings.server_root) | settings.allowed.options()
    known = incremental_candidate(target, out, Out(out).current_id(), options)
    if known is None:
        return None
    seen: Known | Changes | None = known
    if known.edits:  # templates changed: which phones they touch, before linking starts
        seen = changes(target, out, known.release, options, known)
        if seen is None:
            return None
    diags = Diagnostics()
    network = Network(None, settings.server_root, out)  # Network.of, if the files change
    try:
        with Prelink(out, known.release) as pre:
            found = delta(target, out, pre.current, options, seen, allowed=settings.allowed)
            if found is None:
                return None
            diags.extend(found.diagnostics)
            if diags.has_errors(settings.strict):
                return None  # the full build reports it, as it always has
            made = written(found, pre, network, settings.keep)
    except (UnsafePath, TemplateError, ValueError, NetworkFilesError):
        return None  # the full build explains it
    except (EmitError, OSError) as exc:
        return _failed(BuildPath.CHANGED, None, *_emit_failure(exc, out))
    if made is None:
        return None
    emitted, state = made
    diags.extend(w for w in emitted.warnings if w.code == GROUP_CODE)
    with contextlib.suppress(OSError):
        inputs = found.next_inputs(secret_key(out))
        if not settled(inputs, started):
            state.drop()
        else:
            state.save(emitted)
            user = found.plan.inventory.serving.nginx_user
            said = (found.diagnostics, found.record.waiting, user)
            _save_record(target, out, emitted, inputs, said)
    waiting = found.record.waiting  # an address that comes or goes is compiled in full
    notices = network.notices() + _uploads(settings, found.plan.inventory.serving.nginx_user)
    return BuildOutcome(BuildPath.CHANGED, 0, diags, emitted, waiting=waiting, notices=notices)
