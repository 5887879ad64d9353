"""The inventory's frame: its context as the last build read it, so a build whose YAML files
did not change does not read them again.

The frame is the validated data of everything but ``phones`` and the source positions of
everything but the phones' entries: what the incremental compile takes from the YAML files
when only a phone list changed (the context it compiles the changed rows in, and the
context key it compares). It is kept in the state (:mod:`mipc.incremental.state`), beside
the record of the inputs it was read from: while the YAML files' bytes are those the record
holds (and mipc, the schema and the folder's listing are the same, which the record checks
first), reading them again would give this very document. Plain values only (marshal).

Takes a :class:`~mipc.inventory.load.Document`; gives a :data:`Frame` and back. Never
imports render or the pipeline.
"""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import Any

from mipc.diagnostics import Position
from mipc.inventory.load import Document, JsonPath

__all__ = ["Frame", "PhoneText", "document_of", "frame_of", "phone_texts", "with_phone_texts"]

#: (root, YAML files, data without phones, positions, key positions, phone texts).
Frame = tuple[str, tuple[str, ...], dict[str, Any], list[Any], list[Any], dict[str, Any]]

#: Per YAML file (its path): its name in messages, its text, and each phone entry's start
#: (line, column, name), in order.
PhoneText = tuple[str, str, tuple[tuple[int, int, str], ...]]


def _table(table: dict[JsonPath, Position]) -> list[Any]:
    return [
        (path, (p.file, p.line, p.col, p.column_name))
        for path, p in table.items()
        if not path or path[0] != "phones"
    ]


def frame_of(doc: Document) -> Frame | None:
    """The frame of a validated document; None if it holds a value marshal cannot keep."""
    frame: Frame = (
        str(doc.root),
        tuple(str(f) for f in doc.files),
        {k: v for k, v in doc.data.items() if k != "phones"},
        _table(doc.positions),
        _table(doc.key_positions),
        _phone_texts(doc),
    )
    try:
        marshal.dumps(frame)
    except ValueError:
        return None
    return frame


def _phone_texts(doc: Document) -> dict[str, PhoneText]:
    """The :data:`PhoneText` of each YAML file of ``doc`` (a file without phone entries has
    no starts: an edit of it is never one of its phone entries, but may be one of its
    templates, :mod:`mipc.incremental.templates`)."""
    starts: dict[str, list[tuple[int, int, str]]] = {}
    for i, entry in enumerate(doc.data.get("phones") or ()):
        pos = doc.positions.get(("phones", i))
        if pos is None or not isinstance(entry, dict):
            return {}
        starts.setdefault(pos.file, []).append((pos.line, pos.col, str(entry.get("name"))))
    paths = {shown: (path, text) for path, (shown, text) in doc.texts.items()}
    if not set(starts).issubset(paths):
        return {}
    return {path: (name, text, tuple(starts.get(name, ()))) for name, (path, text) in paths.items()}


def phone_texts(frame: Any) -> dict[str, PhoneText]:
    """The phone texts a frame keeps (none from a frame that keeps none)."""
    try:
        texts = frame[5]
    except (TypeError, IndexError):
        return {}
    return texts if isinstance(texts, dict) else {}


def with_phone_texts(frame: Frame, texts: dict[str, PhoneText]) -> Frame:
    """``frame`` with the phone texts ``texts``."""
    return (*frame[:5], texts)


def document_of(frame: Any, root: Path, files: list[Path]) -> Document | None:
    """The document a frame keeps (without phones), if it is of the inventory at ``root``
    made of ``files``; None if it is not, or is not a frame."""
    try:
        saved_root, saved_files, data, positions, keys = frame[:5]
        if saved_root != str(root) or tuple(saved_files) != tuple(str(f) for f in files):
            return None
        if not isinstance(data, dict):
            return None
        return Document(
            data=dict(data),
            positions={tuple(path): Position(*pos) for path, pos in positions},
            key_positions={tuple(path): Position(*pos) for path, pos in keys},
            files=list(files),
            root=root,
        )
    except (TypeError, ValueError):
        return None
