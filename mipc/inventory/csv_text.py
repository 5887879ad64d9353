"""The text of a CSV phone list: its bytes, encoding and delimiter, split into records.

Lists are read as administrators really save them: UTF-8 with or without a BOM, else
cp1252; ``,`` or ``;`` (or tab) delimiter, sniffed from the header line; CRLF or LF; quoted
fields. A file that cannot be read, is too large, binary, not text or not CSV is a *severe*
error: the list gives no phone.

A cell a spreadsheet would execute (one starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return: OWASP's "CSV Injection") is written with a ``'`` before it
(:func:`neutralise`), and one leading ``'`` is taken off again when read only when what
follows it, after any further ``'``, starts with one of those characters (:func:`restore`), so
every value reads back as written and ``+4930...`` or ``-x`` in a hand-made list reads as is.

Takes a path or the bytes of a list and the name diagnostics give it; gives the records and
the dialect found, adding the severe errors to the diagnostics. Never imports the model, the
catalog or the other stages.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from mipc.diagnostics import Diagnostics, Position

__all__ = [
    "MAX_LIST_BYTES",
    "Records",
    "decode",
    "list_bytes",
    "neutralise",
    "records",
    "restore",
    "sniff_delimiter",
]

MAX_LIST_BYTES = 200 * 1024 * 1024
#: A cell a spreadsheet would run as a formula, after any ``'`` already before it.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")  # used with match(): anchored at its start


def neutralise(value: str) -> str:
    """``value`` as a cell a spreadsheet shows as text: ``'`` before a formula trigger (``=``,
    ``+``, ``-``, ``@``, tab, CR), also when ``'`` already precede it (so it reads back)."""
    return f"'{value}" if _FORMULA.match(value) else value


def restore(cell: str) -> str:
    """The value of a cell :func:`neutralise` wrote: one ``'`` taken off when what follows
    starts (after any further ``'``) with a formula trigger; any other cell as it is."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell, 1) else cell


@dataclass(frozen=True)
class Records:
    """The records of a list (lists of cells), and the encoding and delimiter they had."""

    rows: list[list[str]]
    encoding: str
    delimiter: str


def list_bytes(path: Path, shown: str, diags: Diagnostics) -> bytes | OSError | None:
    """The bytes of the list at ``path``; the I/O error when unreadable, None when too large
    (both reported in ``diags`` at ``shown``)."""
    try:
        size = path.stat().st_size
        if size > MAX_LIST_BYTES:
            diags.error(
                "file-too-large",
                f"phone list is {size // (1024 * 1024)} MiB, over the"
                f" {MAX_LIST_BYTES // (1024 * 1024)} MiB limit; split it into several lists",
                Position(shown),
            )
            return None
        return path.read_bytes()
    except OSError as exc:
        diags.error("unreadable", f"cannot read phone list: {exc.strerror or exc}", Position(shown))
        return exc


def decode(raw: bytes) -> tuple[str, str] | None:
    """The text of a list and the encoding used: UTF-8 (BOM or not), else cp1252."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return None


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a list, judged from its header line (quoted text does not count)."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda c: (counts[c], c == ","))
    return best if counts[best] else ","


def records(raw: bytes, shown: str, diags: Diagnostics) -> Records | None:
    """The records of a list's bytes, or None after a severe error (added to ``diags``)."""
    if b"\0" in raw:
        diags.error(
            "binary-file",
            "this is a binary file, not a CSV phone list; save the sheet as CSV",
            Position(shown),
        )
        return None
    decoded = decode(raw)
    if decoded is None:
        diags.error("not-text", "the file is neither UTF-8 nor Windows-1252 text", Position(shown))
        return None
    text, encoding = decoded
    first = next((line for line in text.splitlines() if line.strip(" \t,;")), "")
    delimiter = sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        diags.error(
            "csv-syntax",
            f"CSV syntax error near row {reader.line_num}: {exc}; check the quotes",
            Position(shown, reader.line_num, column_name=""),
        )
        return None
    return Records(rows, encoding, delimiter)
