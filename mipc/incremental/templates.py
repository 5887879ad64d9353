"""A change to the inventory's templates: which templates changed, and which phones it touches.

An administrator edits a template far more often than the rest of the context, and a
template is often used by a few phones of many. When every YAML file that changed changed
inside its ``templates:`` block (or its phone entries), and the inventory's context read
again differs from the one the last build kept (its frame) only in the entries of
``templates:``, the phones of the changed templates, and of the templates that extend them,
are compiled again as changed phones; the others keep what the release has. Anything else
answers None, and the build is a full one:

* a changed file's edit reaches beyond its ``templates:`` block and its phone entries (the
  frame keeps the text of every YAML file to compare);
* anything but ``templates:`` changed in the data (the phone lists, ``defaults:``, a
  location, ...);
* a template's manufacturer changed (a phone list reads its rows by it);
* the last build said something of a phone, or of what it rendered, at or after the first
  line the edit changed, in that file (the lines below it moved, so would the message).

An edit that lies inside one template's entry (below its name's line) changed that entry if
it changed anything: when that template's own phones are more than the shortcut takes
(:data:`mipc.incremental.delta.MAX_CHANGED`), the build is a full one, known from the text,
before the YAML files are read again.

What the pipeline checks then (:func:`mipc.pipeline.compile.delta`) holds the rest: the
touched phones compiled in the context before the change and in the context now must say
the same, and nothing the last full compile did not say (so what the rules say of the
context itself, a template's DSCP value say, stays as it was, where it was); and what the
shared and network files take from each of them must be what it was.

Takes the frame of the last build, the document now and the state's phones; gives the
touched templates and phones. Never imports render or the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mipc.diagnostics import Diagnostic, Position
from mipc.incremental.frame import Frame, PhoneText
from mipc.incremental.phones import PhoneState
from mipc.incremental.yaml_phones import edited_lines, in_entries, saved_and_now
from mipc.inventory.load import Document
from mipc.inventory.phone_lists import template_manufacturers
from mipc.model import chain

__all__ = ["TEMPLATES", "template_edits", "touched_phones", "touched_templates"]

#: The top-level key whose entries an edit may change.
TEMPLATES = "templates"

#: The code of what rendering said (:data:`mipc.render.stage.CODE`; render is not imported).
RENDER = "render"


def template_edits(
    target: Path, frame: Frame | None, changed: set[str], within: set[str] | None = None
) -> dict[str, int] | None:
    """The first line each changed YAML file of ``target`` changed at, by its name in
    messages, when each changed inside its ``templates:`` block or its phone entries and
    one at least in its templates; None otherwise (``changed``: absolute paths).
    ``within`` gets the templates an edit lay inside of, below their name's line: if
    anything changed, their entries did (:func:`touched_templates` then has them)."""
    found = saved_and_now(target, frame, changed)
    if found is None or frame is None:
        return None
    out: dict[str, int] = {}
    for _path, saved, text in found:
        if in_entries(saved, text):
            continue
        edit = _in_templates(saved, text, frame)
        if edit is None:
            return None
        out[saved[0]], inside = edit
        if within is not None and inside is not None:
            within.add(inside)
    return out or None


def _in_templates(saved: PhoneText, text: str, frame: Frame) -> tuple[int, str | None] | None:
    """The first line (1-based) of the edit from ``saved`` to ``text``, when every line it
    changed lies inside the file's ``templates:`` block: after the key's line, before the
    next top-level key or phone entry of the file (by the frame's positions); and the
    template whose entry holds every line it changed, below its name's line, if one does."""
    old, new = saved[1].splitlines(keepends=True), text.splitlines(keepends=True)
    first, end = edited_lines(old, new)
    keys = {path[0]: Position(*pos) for path, pos in frame[4] if len(path) == 1}
    head = keys.get(TEMPLATES)
    if first is None or head is None or head.file != saved[0]:
        return None
    later = [p.line for p in keys.values() if p.file == saved[0] and p.line > head.line]
    later += [line for line, _col, _name in saved[2] if line > head.line]
    stop = min(later, default=len(old) + 1)  # 1-based: the block is lines head+1 .. stop-1
    if first < head.line or end > stop - 1:
        return None
    added = new[first : first + len(new) - len(old)] if end == first else []
    return first + 1, _holding(frame, saved[0], (first + 1, end, stop), (old, added))


def _holding(
    frame: Frame, file: str, span: tuple[int, int, int], lines: tuple[list[str], list[str]]
) -> str | None:
    """The template whose entry holds the edit of ``file``'s old lines ``span[0]`` to
    ``span[1]`` (1-based, both ends in; ``span[2]``: the line after the ``templates:``
    block), below its name's line: the entry holding those lines, or, for lines only added
    (``lines``: the file's old lines and those added), the entry holding the line above
    them, if they are indented below its name; None if no one entry does."""
    first, last, stop = span
    old, added = lines
    names = sorted(
        (pos[1], str(path[1]))
        for path, pos in frame[4]
        if len(path) == 2 and path[0] == TEMPLATES and pos[0] == file
    )
    for i, (line, name) in enumerate(names):
        following = names[i + 1][0] if i + 1 < len(names) else stop
        if last >= first and line < first and last < following:
            return name  # old lines changed, inside this entry
        if last < first and line <= last < following:  # lines added after old line ``last``
            indent = _indent(old[line - 1])
            deeper = all(_indent(a) > indent for a in added if a.strip())
            return name if added and deeper else None
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def touched_templates(
    frame: Frame, doc: Document, edits: Mapping[str, int], said: Iterable[Diagnostic]
) -> frozenset[str] | None:
    """The templates a change from ``frame``'s context to ``doc``'s touches: those whose
    entry changed and those that extend one; None when anything else changed, a template's
    manufacturer changed, or the last build said something of a phone or of its files
    (``said``) at or after the first line an edit changed (``edits``:
    :func:`template_edits`; what the rules say of the context is compiled again)."""
    before: dict[str, Any] = frame[2]
    after = {k: v for k, v in doc.data.items() if k != "phones"}
    if set(before) != set(after) or any(before[k] != after[k] for k in after if k != TEMPLATES):
        return None
    old, new = before.get(TEMPLATES) or {}, after.get(TEMPLATES) or {}
    if template_manufacturers(old) != template_manufacturers(new):
        return None
    for d in said:
        pos = d.position
        if pos is None or not (d.subject or d.code == RENDER) or pos.file not in edits:
            continue
        if pos.line >= edits[pos.file]:
            return None
    changed = {n for n in {*old, *new} if old.get(n) != new.get(n)}
    if not changed:
        return None  # only positions moved: the full build says where things are now
    return frozenset(_extending(changed, (old, new)))


def _extending(changed: set[str], templates: tuple[Mapping[str, Any], ...]) -> set[str]:
    """``changed`` and every template that extends one of them, before or now."""
    out = set(changed)
    for entries in templates:
        parents = {str(n): (e or {}).get("extends") for n, e in entries.items()}
        out.update(n for n in parents if changed.intersection(chain(n, parents)))
    return out


def touched_phones(phones: Mapping[str, PhoneState], templates: frozenset[str]) -> set[str]:
    """The phones whose entry names one of ``templates``."""
    return {name for name, phone in phones.items() if phone[10] in templates}
