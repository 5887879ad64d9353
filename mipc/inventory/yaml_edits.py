"""Text edits of an inventory's YAML files: phone entries and ``phone_lists`` entries.

Every edit keeps all other bytes, comments and line endings included: items are appended to a
top-level block sequence (made when missing, or when written ``key: []``), phone entries are
removed by deleting their lines, and the result is checked by parsing it. An entry that cannot
be located safely (flow style) is an error naming its file and line. Every value written is
double-quoted, so ``"0123"``, MACs and names with ``:`` or ``#`` read back exactly.

Takes a file's text, its parsed document and the phones to remove and add; gives the new text
and diagnostics. Never imports the pipeline or the other stages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.load import Document, parse_yaml
from mipc.model import PhoneSpec

__all__ = [
    "FlowStyle",
    "Located",
    "YamlEdit",
    "add_list_entry",
    "edit_yaml",
    "entry_lines",
    "locate_entries",
    "newline_of",
    "phone_entry",
    "render_entries",
    "yaml_quote",
]

_PLAIN = re.compile(r"\A[A-Za-z0-9_./-]+\Z")
# Characters PyYAML does not accept raw in a double-quoted scalar (or reads as line breaks).
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_ITEM_HEAD = re.compile(r"\A( *)-( +)\Z")
_EMPTY_PHONES = re.compile(r"(?m)^phones:[ \t]*(?=#|\r?$)")


class FlowStyle(ValueError):
    """A sequence to add to is written in flow style (``[a, b]``)."""


# --- scalars and items --------------------------------------------------------------------


def _yaml_scalar(text: str) -> str:
    return text if _PLAIN.match(text) and text[0] not in "-." else json.dumps(text)


def yaml_quote(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back exactly (``"0123"``, MACs,
    ``:``, ``#``, quotes, leading spaces, any character)."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def newline_of(text: str) -> str:
    """The line ending a text uses (that of its first line), LF for a new text."""
    end = text.find("\n")
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def phone_entry(phone: PhoneSpec) -> dict[str, Any]:
    """The YAML phone entry of an imported phone, as the loader reads it back."""
    data: dict[str, Any] = {"name": phone.name}
    if phone.template is not None:
        data["template"] = phone.template
    for key in ("type", "manufacturer", "model", "registration_group"):
        setting = phone.layer.get(key)
        if setting is not None and setting.value is not None:
            data[key] = str(setting.value)
    if phone.location is not None:
        data["location"] = phone.location
    if phone.address is not None:
        data["address"] = phone.address
    appearances: list[dict[str, str]] = []
    for app in phone.appearances:
        if app.kind != "private" or app.extension is None:
            continue
        item = {"extension": app.extension}
        if app.identification_address is not None:
            item["identification_address"] = app.identification_address
        if app.label is not None:
            item["label"] = app.label
        appearances.append(item)
    if appearances:
        data["appearances"] = appearances
    return data


def render_entries(entries: Sequence[Mapping[str, Any]], indent: str, newline: str) -> str:
    """Block-style YAML sequence items, one key per line, every value double-quoted."""
    out: list[str] = []
    pad = indent + "  "
    for entry in entries:
        lead = f"{indent}- "
        for key, value in entry.items():
            if isinstance(value, list):
                out.append(f"{lead}{key}:{newline}")
                for item in value:
                    inner = f"{pad}  - "
                    for k, v in item.items():
                        out.append(f"{inner}{k}: {yaml_quote(v)}{newline}")
                        inner = f"{pad}    "
            else:
                out.append(f"{lead}{key}: {yaml_quote(value)}{newline}")
            lead = pad
    return "".join(out)


# --- appending and locating ---------------------------------------------------------------


def _append_block(text: str, key: str, items: Callable[[str, str], str]) -> str:
    """``text`` with ``items(indent, newline)`` appended to its top-level ``key:`` block
    sequence (made when missing, or when written ``key: []``); every other byte is kept."""
    block_key = re.compile(rf"\A{re.escape(key)}:[ \t]*(#.*)?\Z")
    flow_empty = re.compile(rf"\A{re.escape(key)}:[ \t]*\[[ \t]*\][ \t]*(#.*)?\Z")
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        bare = line.rstrip("\r\n")
        newline = line[len(bare) :] or newline_of(text)
        empty = flow_empty.match(bare)
        if empty:
            comment = f"  {empty.group(1)}" if empty.group(1) else ""
            lines[i] = f"{key}:{comment}{newline}{items('  ', newline)}"
            return "".join(lines)
        if bare.startswith(f"{key}:") and not block_key.match(bare):
            raise FlowStyle(
                f"{key} is written in flow style ([a, b]); write it as a block list"
                f" (one '- ...' item per line) so import-csv can add to it"
            )
        if block_key.match(bare):
            last, indent = _block_tail(lines, i)
            if not lines[last].endswith(("\n", "\r")):
                lines[last] += newline
            lines.insert(last + 1, items(indent, newline))
            return "".join(lines)
    newline = newline_of(text)
    if text and not text.endswith("\n"):
        text += newline
    return f"{text}{key}:{newline}{items('  ', newline)}"


def _block_tail(lines: Sequence[str], key_at: int) -> tuple[int, str]:
    """The last line of the block sequence whose key is at ``key_at`` (blank and comment
    lines after its last item not counted), and the indentation of its first item ("  "
    when it has none)."""
    last = key_at
    indent = "  "
    for j in range(key_at + 1, len(lines)):
        body = lines[j].rstrip("\r\n")
        stripped = body.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if body[0] not in " \t" and not body.startswith("-"):
            break
        if last == key_at:
            indent = body[: len(body) - len(body.lstrip(" "))]
        last = j
    return last, indent


def add_list_entry(text: str, entry: str) -> str:
    """``text`` with ``entry`` appended to its top-level ``phone_lists:`` block sequence (made
    when missing); every other byte is kept."""
    item = _yaml_scalar(entry)
    return _append_block(text, "phone_lists", lambda indent, nl: f"{indent}- {item}{nl}")


def entry_lines(lines: Sequence[str], line: int, col: int) -> tuple[int, int] | str:
    """The lines ``[start, end)`` of the block sequence item whose mapping starts at ``line``
    and ``col`` (1-based), from its ``- name:`` line to the next item or section at the same
    indentation; or why it cannot be located safely."""
    if not 1 <= line <= len(lines):
        return "its line is not in the file"
    first = lines[line - 1].rstrip("\r\n")
    if first[col - 1 : col] == "{":
        return "it is written in flow style ({name: ...})"
    head = _ITEM_HEAD.match(first[: col - 1])
    if head is None or not first[col - 1 :].strip():
        return "it is not a block item written as '- name: ...'"
    dash = len(head.group(1))
    last = line - 1
    for j in range(line, len(lines)):
        body = lines[j].rstrip("\r\n")
        stripped = body.lstrip(" ")
        if not stripped.strip():
            continue
        deeper = len(body) - len(stripped) > dash
        if stripped.startswith("#") and not deeper:
            continue  # a comment at the item's level: it belongs to what follows
        if not deeper:
            break
        last = j
    return line - 1, last + 1


# --- editing a file -----------------------------------------------------------------------


@dataclass(frozen=True)
class YamlEdit:
    """The edits of one YAML file: its text and document (None for a new file), the phone
    entries to remove and to add, the phone lists to register."""

    shown: str
    old: str | None
    doc: Document | None
    remove: Sequence[PhoneSpec] = ()
    add: Sequence[PhoneSpec] = ()
    lists: Sequence[str] = ()


@dataclass(frozen=True)
class Located:
    """The phone entries to remove, found in the text: their indexes under ``phones`` and
    their lines ``[start, end)``; ``failed`` counts those that cannot be located safely."""

    indexes: frozenset[int] = frozenset()
    ranges: tuple[tuple[int, int], ...] = ()
    failed: int = 0


def _text(edit: YamlEdit) -> str:
    """The text to edit: the file's, or the opening comment of a new phones file."""
    if edit.old is not None:
        return edit.old
    return "# Phones imported by mipc import-csv; edit them freely.\n" if edit.add else ""


def locate_entries(edit: YamlEdit, diags: Diagnostics) -> Located:
    """Find the lines of each phone entry to remove; one that cannot be located safely is
    an error (a conflict that stops the import)."""
    old_phones = (edit.doc.data.get("phones") or []) if edit.doc is not None else []
    lines = _text(edit).splitlines(keepends=True)
    indexes: set[int] = set()
    ranges: list[tuple[int, int]] = []
    failed = 0
    for phone in edit.remove:
        where = phone.position
        assert where is not None and edit.doc is not None
        positions = edit.doc.positions
        index = next(
            (
                k
                for k in range(len(old_phones))
                if (pos := positions.get(("phones", k))) is not None
                and (pos.line, pos.col) == (where.line, where.col)
            ),
            None,
        )
        found = entry_lines(lines, where.line, where.col) if index is not None else "not found"
        if index is None or isinstance(found, str):
            diags.error(
                "cannot-replace",
                f"phone {phone.name!r} cannot be replaced: its entry cannot be located safely"
                f" ({found}); write it as a block item ('- name: {phone.name}', one key per"
                " line) or delete it by hand, then import again",
                Position(edit.shown, where.line, where.col),
            )
            failed += 1
            continue
        indexes.add(index)
        ranges.append(found)
    return Located(frozenset(indexes), tuple(ranges), failed)


def edit_yaml(edit: YamlEdit, located: Located, diags: Diagnostics) -> str | None:
    """The text with the located entries removed and the phone entries and ``phone_lists``
    entries appended, checked by parsing it; None when it cannot be edited safely (an error
    in ``diags``)."""
    before: dict[str, Any] = edit.doc.data if edit.doc is not None else {}
    old_phones: list[Any] = list(before.get("phones") or [])
    lines = _text(edit).splitlines(keepends=True)
    for start, end in sorted(located.ranges, reverse=True):
        del lines[start:end]
    text = "".join(lines)
    dropped = located.indexes
    if dropped and len(dropped) == len(old_phones) and not edit.add:
        # An empty block would read as null, which a directory inventory cannot merge.
        text = _EMPTY_PHONES.sub(lambda m: "phones: []" + m.group()[7:], text, count=1)
    entries = [phone_entry(p) for p in edit.add]
    try:
        if entries:
            text = _append_block(
                text, "phones", lambda indent, nl: render_entries(entries, indent, nl)
            )
        for entry in edit.lists:
            text = add_list_entry(text, entry)
    except FlowStyle as exc:
        diags.error("yaml-style", str(exc), Position(edit.shown))
        return None
    expected = dict(before)
    if dropped or entries:
        expected["phones"] = [p for k, p in enumerate(old_phones) if k not in dropped] + entries
    if edit.lists:
        expected["phone_lists"] = list(before.get("phone_lists") or []) + list(edit.lists)
    check = parse_yaml(text, edit.shown, Diagnostics())
    if check is None or not _equal(check.data, expected):
        diags.error(
            "yaml-edit",
            "import-csv could not edit this file safely (the edited text does not read back"
            " as intended); nothing written: make the edit by hand or use --as csv",
            Position(edit.shown),
        )
        return None
    return text


def _equal(a: Any, b: Any) -> bool:
    """Parsed YAML data equal, an empty list and null (an empty block) alike."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if a in (None, []) and b in (None, []):
        return True
    return type(a) is type(b) and bool(a == b)
