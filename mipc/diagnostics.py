"""Diagnostics: every problem found is collected as a Diagnostic, then reported at once.

A diagnostic names its source position (YAML file:line:col, or CSV file:row:column-name), a
stable code, a one-line message that says what to do, and the JSON path it concerns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from mipc.frozen import quick_init


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@quick_init
@dataclass(frozen=True, order=True)
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
    severity: Severity
    code: str
    message: str
    position: Position | None = None
    path: str = ""
    #: The phone whose own checks raised it ("" for the inventory at large). Not compared:
    #: the same message is one diagnostic whoever raised it.
    subject: str = field(default="", compare=False)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        p = self.position
        if p is None:
            return ("", 0, 0, self.code, self.message)
        return (p.file, p.line, p.col, self.code, self.message)

    def text(self) -> str:
        where = f"{self.position}: " if self.position else ""
        at = f" (at {self.path})" if self.path else ""
        return f"{where}{self.severity.value}[{self.code}]: {self.message}{at}"

    def github(self) -> str:
        p = self.position
        props = []
        if p is not None:
            props.append(f"file={p.file}")
            if p.line:
                props.append(f"line={p.line}")
            if p.col:
                props.append(f"col={p.col}")
        props.append(f"title={self.code}")
        msg = self.message + (f" (at {self.path})" if self.path else "")
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{self.severity.value} {','.join(props)}::{msg}"

    def as_json(self) -> dict[str, object]:
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
        self.items.append(Diagnostic(Severity.ERROR, code, message, position, path, self.subject))

    def warning(
        self, code: str, message: str, position: Position | None = None, path: str = ""
    ) -> None:
        self.items.append(Diagnostic(Severity.WARNING, code, message, position, path, self.subject))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    @property
    def trouble(self) -> bool:
        """Whether an error is I/O or usage trouble (exit code 2), not invalid input (1)."""
        return any(d.code in TROUBLE for d in self.errors)

    def has_errors(self, strict: bool = False) -> bool:
        return bool(self.errors) or (strict and bool(self.warnings))

    def sorted(self) -> list[Diagnostic]:
        unique = dict.fromkeys(self.items)
        return sorted(unique, key=Diagnostic.sort_key)


class InputError(Exception):
    """Raised to stop a stage whose input is invalid; carries the diagnostics found so far."""

    def __init__(self, diagnostics: Diagnostics) -> None:
        super().__init__(f"{len(diagnostics.errors)} error(s)")
        self.diagnostics = diagnostics


def render(diags: Iterable[Diagnostic], fmt: str) -> str:
    """Format diagnostics as text, JSON or GitHub workflow commands."""
    ordered = sorted(dict.fromkeys(diags), key=Diagnostic.sort_key)
    if fmt == "json":
        errors = sum(1 for d in ordered if d.severity is Severity.ERROR)
        doc = {
            "diagnostics": [d.as_json() for d in ordered],
            "errors": errors,
            "warnings": len(ordered) - errors,
        }
        return json.dumps(doc, indent=2, sort_keys=True)
    if fmt == "github":
        return "\n".join(d.github() for d in ordered)
    return "\n".join(d.text() for d in ordered)
