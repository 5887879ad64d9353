"""Diagnostics and errors: every problem found is collected as a Diagnostic, then reported at once.

A diagnostic names its source position (YAML file:line:col, or CSV file:row:column-name), a
stable code, a one-line message that says what to do, and the JSON path it concerns. A stage
that cannot go on raises a :class:`MipcError`, the one root of mipc's exceptions, which says
the exit code it maps to: 1 for invalid input, 2 for trouble (I/O, usage, a held lock).

Takes nothing but :mod:`mipc.frozen`; gives ``Diagnostics``, ``Diagnostic``, ``Position``, the
exception tree and the plain renderings (text, JSON, GitHub workflow commands). Never imports
a stage, the pipeline or the CLI: everything else may import it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from mipc.frozen import quick_init

#: Control characters (C0 but tab, DEL, C1); the second keeps newlines too (whole texts).
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_CONTROLS_BUT_NEWLINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _hex(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def escape_controls(text: str, *, lines: bool = False) -> str:
    """``text`` with its control characters shown as ``\\xNN`` (C0 but tab, DEL, C1), so an
    echoed value cannot move the cursor or colour a terminal; ``lines`` keeps newlines."""
    pattern = _CONTROLS_BUT_NEWLINE if lines else _CONTROLS
    return pattern.sub(_hex, text) if pattern.search(text) else text


def github_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped as GitHub documents, and any
    other control character as ``\\xNN``."""
    return escape_controls(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def github_property(text: str) -> str:
    """A workflow command's property value (``file``, ``title``): as a message, and ``:`` and
    ``,`` escaped too."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


#: Exit code for input that is invalid (the user must change it).
EXIT_INVALID = 1
#: Exit code for trouble: the input cannot be read, I/O fails, OUT is locked, bad usage.
EXIT_TROUBLE = 2


class MipcError(Exception):
    """The root of mipc's exceptions; trouble (exit code 2) unless a subclass says otherwise."""

    code: ClassVar[int] = EXIT_TROUBLE

    @property
    def exit_code(self) -> int:
        """The exit code the command line gives for this error."""
        return self.code


class InvalidInputError(MipcError):
    """The input is invalid: the inventory, a template's output, a name (exit code 1)."""

    code: ClassVar[int] = EXIT_INVALID


class Severity(StrEnum):
    """How bad a diagnostic is: errors fail a command, warnings only under ``--strict``."""

    ERROR = "error"
    WARNING = "warning"


@quick_init
@dataclass(frozen=True, order=True, slots=True)
class Position:
    """Where a value came from: a YAML line and column, or a CSV row and column name."""

    file: str
    line: int = 0
    col: int = 0
    column_name: str = ""

    def __str__(self) -> str:
        if self.column_name:
            return f"{self.file}:{self.line}:{self.column_name}"
        if self.line:
            return f"{self.file}:{self.line}:{self.col}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    """One problem: severity, stable code, message, where it is and the JSON path it concerns."""

    severity: Severity
    code: str
    message: str
    position: Position | None = None
    path: str = ""
    #: The phone whose own checks raised it ("" for the inventory at large). Not compared:
    #: the same message is one diagnostic whoever raised it.
    subject: str = field(default="", compare=False)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order by file, line, column, code and message."""
        p = self.position
        if p is None:
            return ("", 0, 0, self.code, self.message)
        return (p.file, p.line, p.col, self.code, self.message)

    def text(self) -> str:
        """``file:line:col: severity[code]: message (at path)``."""
        where = f"{self.position}: " if self.position else ""
        at = f" (at {self.path})" if self.path else ""
        return escape_controls(f"{where}{self.severity.value}[{self.code}]: {self.message}{at}")

    def github(self) -> str:
        """A GitHub Actions workflow command (``::error file=...::message``)."""
        p = self.position
        props = []
        if p is not None:
            props.append(f"file={github_property(p.file)}")
            if p.line:
                props.append(f"line={p.line}")
            if p.col:
                props.append(f"col={p.col}")
        props.append(f"title={github_property(self.code)}")
        msg = github_data(self.message + (f" (at {self.path})" if self.path else ""))
        return f"::{self.severity.value} {','.join(props)}::{msg}"

    def as_json(self) -> dict[str, object]:
        """The diagnostic as one JSON object (the position as given, relative to its root)."""
        p = self.position
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "file": p.file if p else None,
            "line": p.line if p else None,
            "column": (p.column_name or p.col) if p else None,
            "path": self.path or None,
        }


#: Codes of errors that are trouble (nothing to read), not mistakes in the inventory.
TROUBLE = frozenset({"no-inventory", "unreadable"})


@dataclass
class Diagnostics:
    """A collector: stages append, the CLI reports."""

    items: list[Diagnostic] = field(default_factory=list)
    #: Set by per-phone checks to the phone they are checking (see Diagnostic.subject).
    subject: str = ""

    def error(
        self, code: str, message: str, position: Position | None = None, path: str = ""
    ) -> None:
        """Add an error, raised by the current subject."""
        self.items.append(Diagnostic(Severity.ERROR, code, message, position, path, self.subject))

    def warning(
        self, code: str, message: str, position: Position | None = None, path: str = ""
    ) -> None:
        """Add a warning, raised by the current subject."""
        self.items.append(Diagnostic(Severity.WARNING, code, message, position, path, self.subject))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        """Add diagnostics collected elsewhere."""
        self.items.extend(other)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        """The errors, in the order found."""
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        """The warnings, in the order found."""
        return [d for d in self.items if d.severity is Severity.WARNING]

    @property
    def trouble(self) -> bool:
        """Whether an error is I/O or usage trouble (exit code 2), not invalid input (1)."""
        return any(d.code in TROUBLE for d in self.errors)

    def has_errors(self, strict: bool = False) -> bool:
        """Whether there are errors (or, when ``strict``, warnings)."""
        return bool(self.errors) or (strict and bool(self.warnings))

    def exit_code(self, strict: bool = False) -> int:
        """2 when the inventory cannot be read, 1 when it is invalid, else 0."""
        if self.trouble:
            return EXIT_TROUBLE
        return EXIT_INVALID if self.has_errors(strict) else 0

    def sorted(self) -> list[Diagnostic]:
        """Each distinct diagnostic once, by position."""
        unique = dict.fromkeys(self.items)
        return sorted(unique, key=Diagnostic.sort_key)


def once_each(items: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in first-seen order, each message once (the first that said it: the
    renderers of several chunks or workers may each raise the same warning)."""
    first: dict[str, Diagnostic] = {}
    for item in items:
        first.setdefault(item.message, item)
    return list(first.values())


class InputError(InvalidInputError):
    """Raised to stop a stage whose input is invalid; carries the diagnostics found so far."""

    def __init__(self, diagnostics: Diagnostics) -> None:
        super().__init__(f"{len(diagnostics.errors)} error(s)")
        self.diagnostics = diagnostics

    @property
    def exit_code(self) -> int:
        """2 when the input could not be read at all, else 1."""
        return self.diagnostics.exit_code() or EXIT_INVALID


def json_document(diags: Iterable[Diagnostic]) -> dict[str, object]:
    """``{"diagnostics": [...], "errors": n, "warnings": n}``, each diagnostic once, by position."""
    ordered = sorted(dict.fromkeys(diags), key=Diagnostic.sort_key)
    errors = sum(1 for d in ordered if d.severity is Severity.ERROR)
    return {
        "diagnostics": [d.as_json() for d in ordered],
        "errors": errors,
        "warnings": len(ordered) - errors,
    }


def render(diags: Iterable[Diagnostic], fmt: str) -> str:
    """Format diagnostics as text, JSON or GitHub workflow commands."""
    if fmt == "json":
        return json.dumps(json_document(diags), indent=2, sort_keys=True)
    ordered = sorted(dict.fromkeys(diags), key=Diagnostic.sort_key)
    if fmt == "github":
        return "\n".join(d.github() for d in ordered)
    return "\n".join(d.text() for d in ordered)
