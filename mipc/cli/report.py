"""The one reporter: a command's diagnostics, result, summary and errors, as text, JSON or GitHub.

Takes diagnostics (:mod:`mipc.diagnostics`), a command's result as a JSON-ready mapping with
its text for a person, and :class:`~mipc.diagnostics.MipcError`; gives output on stdout and
stderr and the exit code. Reporters are chosen by name (``--format``):

- ``text``: diagnostics on stderr (in colour on a terminal, never with ``NO_COLOR``), the
  result and the summary for a person;
- ``json``: one JSON object on stdout at the end: the result's fields, ``diagnostics``,
  ``errors`` and ``warnings``, and ``error`` when the command failed;
- ``github``: diagnostics as GitHub Actions workflow commands on stderr, the result as text.

``--quiet`` drops results, summaries and chatter; diagnostics and errors always print. In text
and GitHub output a diagnostic's file is relative to the current directory (so an annotation
lands on the pull request's line) unless it lies outside it, then absolute; JSON keeps the
position as the stages gave it (relative to the inventory's folder).

Never imports the pipeline, a stage or a command module.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import ClassVar

import click

from mipc.diagnostics import (
    Diagnostic,
    Diagnostics,
    MipcError,
    Severity,
    escape_controls,
    json_document,
    render,
)


def use_colour() -> bool:
    """Colour only on a terminal, and never with ``NO_COLOR`` set (https://no-color.org)."""
    return sys.stderr.isatty() and "NO_COLOR" not in os.environ


def shown_path(file: str, base: Path | None, cwd: Path | None = None) -> str:
    """A diagnostic's file as a person finds it from ``cwd``.

    ``file`` is relative to ``base`` (the inventory's folder) when it names a file there;
    otherwise (a missing inventory, the pseudo-file ``inventory``) it is shown as given.
    """
    if base is None:
        return file
    found = Path(os.path.abspath(base / file))
    if not found.exists():
        return file
    here = Path(os.path.abspath(cwd or Path.cwd()))
    try:
        return found.relative_to(here).as_posix()
    except ValueError:
        return found.as_posix()


def relocated(items: Iterable[Diagnostic], base: Path | None) -> list[Diagnostic]:
    """The diagnostics with their files as :func:`shown_path` shows them."""
    out = []
    for d in items:
        p = d.position
        if p is not None:
            d = replace(d, position=replace(p, file=shown_path(p.file, base)))
        out.append(d)
    return out


def _coloured(d: Diagnostic) -> str:
    return click.style(d.text(), fg="red" if d.severity is Severity.ERROR else "yellow")


class Reporter:
    """Text output; the base of the others. Use it as a context manager around a command."""

    name: ClassVar[str] = "text"

    def __init__(self, verb: str, *, quiet: bool = False) -> None:
        self.verb = verb
        self.quiet = quiet
        #: The exit code so far: a failure's code, or what the command set.
        self.code = 0

    def diagnostics(self, items: Iterable[Diagnostic], base: Path | None = None) -> None:
        """Print diagnostics; ``base`` is the folder their files are relative to."""
        ordered = Diagnostics(relocated(items, base)).sorted()
        if ordered:
            colour = use_colour()
            lines = [_coloured(d) if colour else d.text() for d in ordered]
            click.echo("\n".join(lines), err=True, color=colour)

    def result(self, doc: Mapping[str, object], text: str) -> None:
        """The command's result: ``text`` for a person, ``doc`` for JSON."""
        if text and not self.quiet:
            click.echo(escape_controls(text, lines=True))

    def summary(self, line: str, *, err: bool = False) -> None:
        """A closing line for a person (text output only)."""
        if not self.quiet:
            click.echo(escape_controls(line, lines=True), err=err)

    def fail(self, exc: MipcError) -> None:
        """Report an error that stops the command: ``mipc VERB: message``, and its exit code."""
        click.echo(escape_controls(f"mipc {self.verb}: {exc}"), err=True)
        self.code = exc.exit_code

    def finish(self) -> None:
        """Print what was held back to the end (JSON)."""

    def __enter__(self) -> Reporter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if isinstance(exc, MipcError):
            self.fail(exc)
        self.finish()
        return isinstance(exc, MipcError)


class GithubReporter(Reporter):
    """GitHub Actions workflow commands for diagnostics; the result as text; no summary."""

    name: ClassVar[str] = "github"

    def diagnostics(self, items: Iterable[Diagnostic], base: Path | None = None) -> None:
        """Print diagnostics as ``::error file=...,line=...::message`` lines."""
        text = render(relocated(items, base), self.name)
        if text:
            click.echo(text, err=True)

    def summary(self, line: str, *, err: bool = False) -> None:
        """No summary: the annotations and the exit code say it."""


class JsonReporter(Reporter):
    """One JSON object on stdout when the command ends."""

    name: ClassVar[str] = "json"

    def __init__(self, verb: str, *, quiet: bool = False) -> None:
        super().__init__(verb, quiet=quiet)
        self.items: list[Diagnostic] = []
        self.doc: dict[str, object] = {}

    def diagnostics(self, items: Iterable[Diagnostic], base: Path | None = None) -> None:
        """Keep diagnostics for the object (positions as given)."""
        self.items.extend(items)

    def result(self, doc: Mapping[str, object], text: str) -> None:
        """Keep the result's fields for the object (none under ``--quiet``)."""
        if not self.quiet:
            self.doc.update(doc)

    def summary(self, line: str, *, err: bool = False) -> None:
        """No summary: the object says it."""

    def fail(self, exc: MipcError) -> None:
        """Print the error on stderr and put it in the object as ``error``."""
        super().fail(exc)
        self.doc["error"] = str(exc)

    def finish(self) -> None:
        """Print the object: the result's fields, ``diagnostics``, ``errors``, ``warnings``."""
        click.echo(json.dumps({**self.doc, **json_document(self.items)}, indent=2, sort_keys=True))


#: The reporters by ``--format`` name.
REPORTERS: dict[str, type[Reporter]] = {r.name: r for r in (Reporter, JsonReporter, GithubReporter)}
FORMATS = tuple(REPORTERS)


def reporter(verb: str, fmt: str, *, quiet: bool = False) -> Reporter:
    """The reporter named ``fmt`` for ``mipc VERB``."""
    return REPORTERS[fmt](verb, quiet=quiet)


def report(diags: Iterable[Diagnostic], fmt: str, *, base: Path | None = None) -> None:
    """Print diagnostics alone (text and github to stderr, json to stdout, even when empty)."""
    out = reporter("", fmt)
    out.diagnostics(diags, base)
    out.finish()
