"""Reading again only the phone entries an edit of a YAML file touched.

An inventory's YAML file that holds thousands of phone entries changes, most often, in one
entry, or by entries added at the end. The frame (:mod:`mipc.incremental.frame`) keeps the
text the last build read and where each entry started; :func:`splice` finds the lines the
edit changed (the common start and end of the two texts), and when they lie inside the
phone entries, parses only the entries they touch, in the document's own line numbers, so
positions and messages are those a read of the whole file gives. Anything else (an edit
outside the entries, a flow-style list, entries after the edit that would move, a parse or
schema problem) answers None: the file is read whole.

Takes the frame's :data:`~mipc.incremental.frame.PhoneText` of one file, its text now, and
the inventory's context; gives a :class:`Splice`. Never imports render or release.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mipc.diagnostics import Diagnostics, InputError
from mipc.incremental.frame import (
    Frame,
    PhoneText,
    document_of,
    frame_of,
    phone_texts,
    with_phone_texts,
)
from mipc.inventory.assemble import phone_from_yaml
from mipc.inventory.load import (
    Document,
    inventory_files,
    load_inventory,
    parse_yaml,
    read_text,
)
from mipc.inventory.schema import validate_document
from mipc.model import PhoneSpec

__all__ = [
    "Now",
    "Splice",
    "edited_lines",
    "edited_texts",
    "in_entries",
    "read_now",
    "saved_and_now",
    "splice",
]

#: A line that ends the ``phones:`` block: another top-level key, or a document marker.
_BLOCK_END = re.compile(r"^(?:[^\s#-]|---|\.\.\.)")


@dataclass(frozen=True)
class Splice:
    """The phone entries an edit touched: the names they had, the entries they are now
    (parsed, checked against the schema), and the file's :data:`PhoneText` now."""

    old_names: frozenset[str]
    specs: tuple[PhoneSpec, ...]
    text: PhoneText


@dataclass(frozen=True)
class _Region:
    """What an edit touched: the entries (their indexes), the lines [a, b) they span in the
    old text, and how many lines the text grew by."""

    touched: tuple[int, ...]
    a: int
    b: int
    shift: int


def _region(old: list[str], new: list[str], starts: tuple[Any, ...]) -> _Region | None:
    """The entries the edit from ``old`` to ``new`` touched, or None when it reaches beyond
    them (an empty region: the texts have the same lines)."""
    spans = _spans(old, starts)
    if spans is None:
        return None
    first, end = edited_lines(old, new)
    if first is None:
        return _Region((), 0, 0, 0)
    low = first - 1 if end == first else first  # lines only inserted: the entry before them
    touched = [k for k, (a, b) in enumerate(spans) if b > low and a < max(end, low + 1)]
    if not touched or spans[touched[0]][0] > low:
        return None  # before the first entry: the phones: key, or another section
    a, b = spans[touched[0]][0], spans[touched[-1]][1]
    if b < end:
        return None  # past the last entry: another section
    shift = len(new) - len(old)
    if shift and b < len(old):
        return None  # what follows would move: its positions would change
    return _Region(tuple(touched), a, b, shift)


def splice(saved: PhoneText, text: str, context: Document) -> Splice | None:
    """The entries of ``saved``'s file that its new ``text`` changed, or None: read the file
    whole (see the module's docstring). ``context``: the inventory without its phones."""
    shown, old_text, starts = saved
    new = text.splitlines(keepends=True)
    region = _region(old_text.splitlines(keepends=True), new, starts)
    if region is None:
        return None
    if not region.touched:
        return Splice(frozenset(), (), (shown, text, starts))  # the same lines
    touched = region.touched
    entries = _parse(shown, new, (region.a, region.b + region.shift), context)
    if entries is None:
        return None
    kept = [s for k, s in enumerate(starts) if k < touched[0] or k > touched[-1]]
    placed = [(p.position.line, p.position.col, p.name) for p in entries[1] if p.position]
    if len(placed) != len(entries[1]) or not (kept or placed):
        return None
    made = sorted((*kept, *placed))
    return Splice(frozenset(starts[k][2] for k in touched), entries[1], (shown, text, tuple(made)))


def edited_texts(target: Path, frame: Frame | None, changed: set[str]) -> dict[str, str] | None:
    """The texts now of the YAML files of ``target`` that changed (``changed``: absolute
    paths), by path, when each changed inside its phone entries only, as far as its text
    tells (no parsing); None when one did not: its context changed, or may have, and the
    build is a full one."""
    found = saved_and_now(target, frame, changed)
    if found is None:
        return None
    out: dict[str, str] = {}
    for path, saved, text in found:
        if not in_entries(saved, text):
            return None
        out[path] = text
    return out


def in_entries(saved: PhoneText, text: str) -> bool:
    """Whether the edit from ``saved`` to ``text`` lies inside the file's phone entries."""
    old = saved[1].splitlines(keepends=True)
    return _region(old, text.splitlines(keepends=True), saved[2]) is not None


def saved_and_now(
    target: Path, frame: Frame | None, changed: set[str]
) -> list[tuple[str, PhoneText, str]] | None:
    """Each YAML file of ``target`` that changed (``changed``: absolute paths): its path,
    its text as the frame keeps it, and its text now; None when one has no saved text, or
    cannot be read."""
    _root, files = inventory_files(target)
    saved_texts = phone_texts(frame)
    out: list[tuple[str, PhoneText, str]] = []
    for path in files:
        if os.path.abspath(path) not in changed:
            continue
        saved = saved_texts.get(str(path))
        text = None if saved is None else read_text(path, saved[0], Diagnostics(), "file")
        if saved is None or text is None:
            return None
        out.append((str(path), saved, text))
    return out


def _spans(
    lines: list[str], starts: tuple[tuple[int, int, str], ...]
) -> list[tuple[int, int]] | None:
    """Each entry's lines [first, last+1) (0-based): from its start to the next one's, the
    last to the end of the block; None unless every entry starts a line of its own as
    ``- `` (a block sequence)."""
    spans: list[tuple[int, int]] = []
    for k, (line, col, _name) in enumerate(starts):
        if not 1 <= line <= len(lines) or lines[line - 1][: col - 1].strip() != "-":
            return None
        if k and line <= starts[k - 1][0]:
            return None
        spans.append((line - 1, starts[k + 1][0] - 1 if k + 1 < len(starts) else len(lines)))
    if spans:
        a, b = spans[-1]
        end = next((i for i in range(a + 1, b) if _BLOCK_END.match(lines[i])), b)
        spans[-1] = (a, end)
    return spans


def edited_lines(old: list[str], new: list[str]) -> tuple[int | None, int]:
    """The first line that differs and the end of the differing old lines, or (None, 0)."""
    limit = min(len(old), len(new))
    first = next((i for i in range(limit) if old[i] != new[i]), limit)
    if first == len(old) == len(new):
        return None, 0
    tail = 0
    while tail < limit - first and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return first, len(old) - tail


def _parse(
    shown: str, lines: list[str], span: tuple[int, int], context: Document
) -> tuple[list[Any], tuple[PhoneSpec, ...]] | None:
    """The entries of ``lines[span]`` parsed where they stand in the file, checked against
    the schema with the context; None on any problem."""
    a, b = span
    if a < 1:
        return None
    head = "\n" * (a - 1) + "phones:\n"  # the entries keep their line numbers
    diags = Diagnostics()
    part = parse_yaml(head + "".join(lines[a:b]), shown, diags)
    if part is None or diags.items or set(part.data) != {"phones"}:
        return None
    entries = part.data["phones"] if part.data["phones"] is not None else []
    if not isinstance(entries, list):
        return None
    doc = Document(
        data={**context.data, "phones": entries},
        positions={**context.positions, **part.positions},
        key_positions={**context.key_positions, **part.key_positions},
        files=context.files,
        root=context.root,
    )
    if not validate_document(doc, diags) or diags.items:
        return None
    return entries, tuple(phone_from_yaml(i, e, doc) for i, e in enumerate(entries))


@dataclass(frozen=True)
class Now:
    """The inventory's YAML files as they are now, read from the frame where it can: the
    context (no phones), the frame to keep, and the touched phone entries of each YAML file
    that changed (None: ``doc`` was read whole and holds every phone entry)."""

    doc: Document
    frame: Frame | None
    spliced: tuple[Splice, ...] | None


def read_now(
    target: Path, frame: Frame | None, changed: set[str], texts: Mapping[str, str]
) -> Now | None:
    """The YAML files of ``target`` now (``changed``: the absolute paths of the inventory's
    files whose bytes changed since ``frame`` was made; ``texts``: the changed YAML files'
    texts, as :func:`edited_texts` read them); None when they are invalid or say anything
    (the full compile reports it)."""
    root, files = inventory_files(target)
    edited = [f for f in files if os.path.abspath(f) in changed]
    doc = document_of(frame, root, files) if frame is not None and files else None
    if doc is not None and frame is not None and not edited:
        return Now(doc, frame, ())
    if doc is not None and frame is not None:
        spliced = _spliced(doc, frame, [(f, texts.get(str(f))) for f in edited])
        if spliced is not None:
            kept = {**phone_texts(frame)}
            kept.update((str(f), s.text) for f, s in zip(edited, spliced, strict=True))
            return Now(doc, with_phone_texts(frame, kept), spliced)
    try:
        doc = load_inventory(target)
    except InputError:
        return None
    diags = Diagnostics()
    if not validate_document(doc, diags) or diags.items:
        return None
    return Now(doc, frame_of(doc), None)


def _spliced(
    doc: Document, frame: Frame, edited: list[tuple[Path, str | None]]
) -> tuple[Splice, ...] | None:
    """The touched entries of each edited file (with its text now, None: not read); None if
    one of them must be read whole."""
    saved_texts = phone_texts(frame)
    out: list[Splice] = []
    for path, text in edited:
        saved = saved_texts.get(str(path))
        found = None if saved is None or text is None else splice(saved, text, doc)
        if found is None:
            return None
        out.append(found)
    return tuple(out)
