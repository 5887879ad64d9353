"""Text edits of an inventory's CSV phone lists: rows taken out, every other byte kept.

``--on-conflict replace`` of a phone that lives in a phone list other than the import's target
removes that phone's record (all its lines, a quoted cell's line breaks included) from the
list's text; the header, the other records, blank lines, the delimiter, the line endings and a
byte-order mark stay as they were. The result is checked by reading it again: exactly the
phones removed must be gone. A list mipc cannot write back byte for byte (Windows-1252 text:
mipc writes UTF-8) is an error naming the phone and its row.

Takes a list's path or text and the phones (or record numbers) to remove; gives the new text
and diagnostics. Never imports the loader, the pipeline or the other stages.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Collection, Sequence
from pathlib import Path

from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.csv_text import decode, sniff_delimiter
from mipc.inventory.csvlists import parse_phone_list_bytes
from mipc.model import PhoneSpec

__all__ = ["remove_phones", "remove_records"]


def _spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of every record of ``text``, split as the list reader does."""
    lines = list(io.StringIO(text, newline=""))
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    first = next((line for line in text.splitlines() if line.strip(" \t,;")), "")
    reader = csv.reader(iter(lines), delimiter=sniff_delimiter(first.lstrip("\ufeff")))
    spans: list[tuple[int, int]] = []
    consumed = 0
    for _ in reader:
        spans.append((offsets[consumed], offsets[reader.line_num]))
        consumed = reader.line_num
    return spans


def remove_records(text: str, rows: Collection[int], shown: str, diags: Diagnostics) -> str | None:
    """``text`` without its records numbered ``rows`` (1 is the first record, as diagnostics
    count them); None, with an error in ``diags``, when the text is not CSV any more."""
    try:
        spans = _spans(text)
    except csv.Error as exc:
        diags.error("csv-syntax", f"CSV syntax error: {exc}; nothing written", Position(shown))
        return None
    return "".join(
        text[start:end] for number, (start, end) in enumerate(spans, 1) if number not in rows
    )


def remove_phones(
    path: Path, remove: Sequence[PhoneSpec], shown: str, diags: Diagnostics
) -> tuple[str, str] | None:
    """The old and the new text of the list at ``path`` without the rows of ``remove`` (phones
    read from it); None, with an error for each phone in ``diags``, when that cannot be done
    byte for byte."""
    raw = path.read_bytes()
    decoded = decode(raw)
    if decoded is None or decoded[1] != "utf-8":
        _refuse(
            remove,
            diags,
            f"{shown} is Windows-1252 text and mipc writes UTF-8; save it as"
            " CSV UTF-8 and import again",
        )
        return None
    old = raw.decode("utf-8")  # keeps a byte-order mark, so it is written back
    new = remove_records(old, {p.position.line for p in remove if p.position}, shown, diags)
    if new is None:
        return None
    if _names(new, shown) != _names(old, shown) - Counter(p.name for p in remove):
        _refuse(remove, diags, f"its row of {shown} cannot be located safely; remove it by hand")
        return None
    return old, new


def _names(text: str, shown: str) -> Counter[str]:
    """The names of the phones a list's text holds."""
    phones = parse_phone_list_bytes(text.encode("utf-8"), shown, Diagnostics()).phones
    return Counter(p.name for p in phones)


def _refuse(remove: Sequence[PhoneSpec], diags: Diagnostics, why: str) -> None:
    for phone in remove:
        diags.error(
            "cannot-replace", f"phone {phone.name!r} cannot be replaced: {why}", phone.position
        )
