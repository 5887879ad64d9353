"""``mipc build [INVENTORY] -o OUT``: validate → render → emit a release (issue 6).

Exit codes (DESIGN §5): 0 built (or nothing changed); 1 the input is invalid, a renderer
refused it, or warnings under ``--strict``; 2 I/O trouble or another build holding OUT. In
every failing case ``OUT/current`` is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click

from mipc.diagnostics import Diagnostic, Diagnostics
from mipc.incremental.delta import Delta
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
from mipc.incremental.state import PlanFacts, plan_facts, save_state, state_of
from mipc.incremental.unchanged import save_record, unchanged_release
from mipc.model import Inventory, Plan
from mipc.network.plan import DEFAULT_SERVER_ROOT, network_files
from mipc.pipeline import delta as pipeline_delta
from mipc.pipeline import paused_gc, validate
from mipc.pipeline.build import render_delta
from mipc.release.delta import Patch, Prelink, emit_delta
from mipc.release.emit import EmitOptions, EmitResult, emit
from mipc.release.rendering import Progress
from mipc.release.staging import UnsafePath
from mipc.release.store import (
    EmitError,
    LockHeld,
    Out,
    WarningsAsErrors,
    describe_os_error,
)
from mipc.render.polycom import varied_groups
from mipc.render.pool import PhonePool
from mipc.render.templating import TemplateError


@dataclass(frozen=True)
class BuildOptions:
    out: Path
    keep: int = 5
    force: bool = False
    strict: bool = False
    fmt: str = "text"
    workers: int | None = None
    server_root: str = DEFAULT_SERVER_ROOT
    progress: bool | None = None  # None: a bar only on a terminal


def summary(out: Path, result: EmitResult) -> str:
    """The one line a build ends with."""
    c = result.counts
    if not result.changed:
        head = f"{out}: no changes (release {result.release} is current)"
    elif result.reused:
        head = f"{out}: switched to the identical release {result.release}"
    else:
        head = f"{out}: release {result.release}"
    if result.incremental:
        head += " (changed phones only)"
    return (
        f"{head}: {result.phones} phones, {result.files} files: {c.written} written,"
        f" {c.linked} linked, {c.unchanged} unchanged, {len(result.warnings)} warnings"
    )


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _fail(message: str, code: int) -> int:
    click.echo(f"mipc build: {message}", err=True)
    return code


def run_build(target: Path, opts: BuildOptions) -> int:
    """Build ``target`` into ``opts.out``; print diagnostics and the summary; the exit code."""

    with paused_gc():  # the whole build: see paused_gc (workers inherit it)
        return _run_build(target, opts)


class NetworkFilesError(Exception):
    """A value the DHCP, DNS or nginx files cannot hold safely (exit code 1)."""


def _network(plan: Plan, server_root: str) -> Mapping[str, bytes]:
    try:
        return network_files(plan, server_root)
    except ValueError as exc:
        raise NetworkFilesError(str(exc)) from exc


def _run_build(target: Path, opts: BuildOptions) -> int:
    from mipc.cli import report

    if not opts.force:
        try:
            same = unchanged_release(opts.out, target, release_options(opts.server_root))
        except LockHeld as exc:
            return _fail(str(exc), 2)
        if same is not None:
            return _unchanged(same, opts)
        started = time.time_ns()
        code = _incremental(target, opts, started)
        if code is not None:
            return code
    started = time.time_ns()
    result = validate(target)
    diags = result.diagnostics
    if result.plan is None or diags.has_errors(opts.strict):
        report(diags, opts.fmt)
        if diags.trouble:
            return _fail(f"cannot read {target}; nothing written, {opts.out} untouched", 2)
        return _fail(f"{target} is invalid; nothing written, {opts.out} untouched", 1)
    plan = result.plan
    show_bar = opts.progress
    if show_bar is None:
        show_bar = sys.stderr.isatty() and opts.fmt == "text" and "CI" not in os.environ
    facts: list[PlanFacts] = []  # for the incremental state, made while workers render
    try:
        with _progress(show_bar) as progress:
            emitted = emit(
                plan,
                opts.out,
                lambda: _network(plan, opts.server_root),
                PhonePool(opts.workers),
                EmitOptions(
                    keep=opts.keep,
                    force=opts.force,
                    progress=progress,
                    strict=opts.strict,
                    meanwhile=lambda: facts.append(plan_facts(plan, varied_groups(plan.phones))),
                ),
            )
    except LockHeld as exc:
        report(diags, opts.fmt)
        return _fail(str(exc), 2)
    except WarningsAsErrors as exc:
        _add_render_warnings(diags, exc.warnings)
        report(diags, opts.fmt)
        return _fail(f"warnings under --strict; {opts.out}/current untouched", 1)
    except NetworkFilesError as exc:
        report(diags, opts.fmt)
        return _fail(f"cannot write the network files: {exc}; {opts.out}/current untouched", 1)
    except (UnsafePath, TemplateError, ValueError) as exc:
        report(diags, opts.fmt)
        return _fail(f"cannot render: {exc}; {opts.out}/current untouched", 1)
    except EmitError as exc:
        report(diags, opts.fmt)
        return _fail(f"{exc}; {opts.out}/current untouched", 2)
    except OSError as exc:
        report(diags, opts.fmt)
        return _fail(f"cannot write {opts.out}: {describe_os_error(exc)}", 2)
    _add_render_warnings(diags, emitted.warnings)
    report(diags, opts.fmt)
    if opts.fmt == "text":
        click.echo(summary(opts.out, emitted))
    # Without a record the next build compiles in full, which is always correct.
    with contextlib.suppress(OSError):
        if _record(target, opts, plan.inventory, result.sources, emitted, diags, started):
            assert emitted.index is not None
            state = state_of(
                facts[0] if facts else plan_facts(plan, varied_groups(plan.phones)),
                diags,
                emitted.release,
                result.context,
                emitted.index,
                emitted.own,
                emitted.warned,
            )
            save_state(opts.out, state)
    return 1 if diags.has_errors(opts.strict) else 0


def _incremental(target: Path, opts: BuildOptions, started: int) -> int | None:
    """Build only the phones whose entries changed (:mod:`mipc.incremental.delta`); None when that
    does not apply and the full build must run."""
    from mipc.cli import report

    options = release_options(opts.server_root)
    known = incremental_candidate(target, opts.out, Out(opts.out).current_id(), options)
    if known is None:
        return None
    try:
        with Prelink(opts.out, known.release) as pre:
            delta = pipeline_delta(target, opts.out, pre.current, options, known)
            if delta is None:
                return None
            diags = Diagnostics()
            diags.extend(delta.diagnostics)
            if diags.has_errors(opts.strict):
                return None  # the full build reports it, as it always has
            patch = _patch(delta, pre)
            emitted = None if patch is None else emit_delta(patch, pre, keep=opts.keep)
    except LockHeld as exc:
        return _fail(str(exc), 2)
    except (UnsafePath, TemplateError, ValueError):
        return None  # the full build explains it
    except EmitError as exc:
        return _fail(f"{exc}; {opts.out}/current untouched", 2)
    except OSError as exc:
        return _fail(f"cannot write {opts.out}: {describe_os_error(exc)}", 2)
    if emitted is None:
        return None
    report(diags, opts.fmt)
    if opts.fmt == "text":
        click.echo(summary(opts.out, emitted))
    with contextlib.suppress(OSError):
        inputs = delta.next_inputs(secret_key(opts.out))
        if settled(inputs, started):
            assert emitted.index is not None
            save_state(opts.out, delta.next_state(emitted.release, emitted.index, emitted.own))
            _save_record(target, opts, emitted, inputs, delta.diagnostics)
    return 0


def _patch(delta: Delta, pre: Prelink) -> Patch | None:
    """The release's part of an incremental compile: the changed phones rendered and what
    the current release has of them; None when the shortcut does not apply after all."""
    if pre.current is None or pre.current != delta.state.release:
        return None
    own = render_delta(delta)
    if own is None:
        return None
    found = delta.previous(pre.out.releases / pre.current)
    if found is None:
        return None
    return Patch(
        release=pre.current,
        plan=delta.plan,
        own=own,
        manifest=found[0],
        index=delta.state.index,
        before=found[1],
        phones=len(delta.state.phones),
        warnings=tuple(d.message for d in delta.diagnostics if d.code == "render"),
    )


def _record(
    target: Path,
    opts: BuildOptions,
    inventory: Inventory,
    sources: list[Path],
    emitted: EmitResult,
    diags: Diagnostics,
    started: int,
) -> bool:
    """Record what the current release was built from (see :mod:`mipc.incremental.inputs`); False if
    an input changed while the build ran (nothing is recorded)."""
    inputs = record_inputs(
        target, inventory, sources, release_options(opts.server_root), secret_key(opts.out)
    )
    if not settled(inputs, started):
        # Only inputs untouched since before validation: an edit made during the build
        # must not be mistaken for what this release was built from.
        return False
    _save_record(target, opts, emitted, inputs, saved_diagnostics(diags))
    return True


def _save_record(
    target: Path,
    opts: BuildOptions,
    emitted: EmitResult,
    inputs: Inputs,
    diagnostics: tuple[Diagnostic, ...],
) -> None:
    save_record(
        opts.out,
        Record(
            target=os.path.abspath(target),
            release=emitted.release,
            phones=emitted.phones,
            files=emitted.files,
            inputs=inputs,
            diagnostics=diagnostics,
        ),
    )


def _unchanged(record: Record, opts: BuildOptions) -> int:
    """Nothing the current release was built from has changed: say so, as a full build would."""
    from mipc.cli import report

    diags = Diagnostics()
    diags.extend(record.diagnostics)
    report(diags, opts.fmt)
    if opts.fmt == "text":
        click.echo(
            f"{opts.out}: no changes (release {record.release} is current; its inputs are"
            f" unchanged): {record.phones} phones, {record.files} files: 0 written, 0 linked,"
            f" {record.files} unchanged, {len(diags.warnings)} warnings"
        )
    return 1 if diags.has_errors(opts.strict) else 0


def _add_render_warnings(diags: Diagnostics, warnings: list[str]) -> None:
    for message in warnings:
        diags.warning("render", message)
