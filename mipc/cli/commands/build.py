"""``mipc build [INVENTORY] -o OUT``: the command line's side of :func:`mipc.pipeline.build.build`.

Takes the command's options; turns them into :class:`~mipc.pipeline.build.BuildSettings`,
shows a progress bar on a terminal, and prints what the build gives: the diagnostics, the
failure, the summary line. Gives the exit code: 0 built (or nothing changed); 1 the input is
invalid, a renderer refused it, or warnings under ``--strict``; 2 I/O trouble, an interruption,
or another build holding OUT (``--wait SECONDS`` waits for it). Composes no stage itself, and
never imports render.
"""

from __future__ import annotations

import os
import pwd
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mipc.cli.commands.validate import (
    inventory_root,
    phones_text,
    profile_notice,
    released_families,
)
from mipc.cli.report import report
from mipc.incremental.inputs import Record
from mipc.network.plan import DEFAULT_SERVER_ROOT
from mipc.pipeline.build import BuildOutcome, BuildSettings, build
from mipc.pipeline.compile import Allowed
from mipc.release.ahead import LinkAhead
from mipc.release.emit import EmitResult
from mipc.release.rendering import Progress

if TYPE_CHECKING:
    from rich.progress import Progress as Bar
    from rich.progress import TaskID


@dataclass(frozen=True)
class BuildOptions:
    """The options of ``mipc build``."""

    out: Path
    keep: int = 5
    force: bool = False
    strict: bool = False
    fmt: str = "text"
    workers: int | None = None
    server_root: str = DEFAULT_SERVER_ROOT
    progress: bool | None = None  # None: a bar only on a terminal
    quiet: bool = False  # diagnostics and errors only, no summary
    secrets_dir: Path | None = None  # a folder outside the inventory with secret files
    firmware_store: Path | None = None  # the firmware store, maybe outside the inventory
    wait: float = 0  # seconds to wait for another build's lock on OUT
    uploads_owner: str | None = None  # chown the upload folders to this user (root only)
    link_ahead: LinkAhead = "auto"  # link the release ahead for the next build


def summary(out: Path, result: EmitResult, waiting: int, warnings: int) -> str:
    """The one line a build ends with; ``warnings``: how many were printed."""
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
        f"{head}: {phones_text(result.phones, waiting)}, {result.files} files: {c.written} written,"
        f" {c.linked} linked, {c.unchanged} unchanged, {warnings} warnings"
    )


def unchanged_summary(out: Path, record: Record, warnings: int) -> str:
    """The line a build ends with when nothing the current release was built from changed."""
    return (
        f"{out}: no changes (release {record.release} is current; its inputs are"
        f" unchanged): {phones_text(record.phones, record.waiting)}, {record.files} files:"
        " 0 written, 0 linked,"
        f" {record.files} unchanged, {warnings} warnings"
    )


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    """A progress bar on stderr, shown from the first report until the block ends."""
    if not enabled:
        yield None
        return
    with ExitStack() as stack:
        bar: Bar | None = None
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = stack.enter_context(_bar())
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _bar() -> Bar:
    """A transient rich progress bar on stderr."""
    from rich.console import Console  # lazy: start-up time
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _owner_trouble(user: str | None) -> str:
    """Why ``--uploads-owner USER`` cannot be done here, before anything is built; or ``""``."""
    if user is None:
        return ""
    try:
        pwd.getpwnam(user)
    except KeyError:
        return f"--uploads-owner {user}: no such user on this machine; nothing built"
    if os.geteuid() != 0:
        return (
            f"--uploads-owner {user} needs root; nothing built (build without it and run"
            f" chown {user}: OUT/uploads/{{logs,overrides,contacts}} as root)"
        )
    return ""


def run_build(target: Path, opts: BuildOptions) -> int:
    """Build ``target`` into ``opts.out``; print diagnostics and the summary; the exit code."""
    trouble = _owner_trouble(opts.uploads_owner)
    if trouble:
        click.echo(f"mipc build: {trouble}", err=True)
        return 2
    show_bar = opts.progress
    if show_bar is None:
        show_bar = sys.stderr.isatty() and opts.fmt == "text" and "CI" not in os.environ
    with _progress(show_bar) as progress:
        settings = BuildSettings(
            out=opts.out,
            keep=opts.keep,
            force=opts.force,
            strict=opts.strict,
            workers=opts.workers,
            server_root=opts.server_root,
            progress=progress,
            allowed=Allowed.of(opts.secrets_dir, opts.firmware_store),
            wait=opts.wait,
            uploads_owner=opts.uploads_owner,
            link_ahead=opts.link_ahead,
        )
        outcome = build(target, settings)
    if not outcome.error:
        profile_notice(released_families(opts.out), opts.fmt, opts.quiet)
    _print(outcome, opts, inventory_root(target))
    return outcome.code


def _print(outcome: BuildOutcome, opts: BuildOptions, base: Path) -> None:
    """The diagnostics (files relative to the current directory; ``base``: the inventory's
    folder), then the failure or, unless quiet, the summary line."""
    if outcome.diagnostics is not None:
        report(outcome.diagnostics, opts.fmt, base=base)
    for notice in outcome.notices:
        click.echo(notice, err=True)
    if outcome.error:
        click.echo(f"mipc build: {outcome.error}", err=True)
        return
    if opts.fmt != "text" or opts.quiet:
        return
    warnings = len(set(outcome.diagnostics.warnings)) if outcome.diagnostics else 0
    if outcome.emitted is not None:
        click.echo(summary(opts.out, outcome.emitted, outcome.waiting, warnings))
    elif outcome.record is not None:
        click.echo(unchanged_summary(opts.out, outcome.record, warnings))
