"""``mipc import-csv``: merge the guide's CSV phone lists into an inventory, all or nothing.

Each imported list becomes a *normalised* phone list inside the inventory (default
``lists/<csv stem>.csv``; ``--into FILE`` names one file for all), one phone per line in
canonical columns, sorted, so a re-import of the same list changes nothing and every later change
is a one-line diff. The list is registered under ``phone_lists``: in a directory inventory a
``phone-lists.yaml`` file there is created or extended; in a single-file inventory the entry is
added to the file's text, everything else left byte-identical.

With ``--as yaml`` the phones become YAML phone entries instead, for small lists edited by hand:
a file of their own in a directory inventory (default ``phones-<csv stem>.yaml``; ``--into``
names another ``.yaml`` file of the folder), appended under ``phones:`` in a single-file
inventory. Every value is double-quoted, so ``"0123"``, MACs and names with ``:`` or ``#`` read
back exactly as imported.

Conflicts (same name, MAC, computer name or extension) against the inventory's phones and within
the import follow ``--on-conflict``: ``fail`` (nothing written, every conflict listed), ``skip``
(the new row is left out) or ``replace`` (the new row replaces the phone it clashes with: a phone
of the same target list, or a YAML phone entry, removed by a text edit of its lines). Every YAML
edit keeps all other bytes, comments included, and is checked by parsing the result; an entry
that cannot be located safely (flow style) is an error naming its file and line. Files are
written to temporary files first and moved into place with ``os.replace``; a failure restores
what was already moved, so the inventory is left as it was.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from mipc.catalog.addresses import normalize_mac
from mipc.diagnostics import Diagnostics, InputError, Position, render
from mipc.inventory.csv_write import phone_row, write_phone_list
from mipc.inventory.csvlists import (
    ReadOptions,
    parse_phone_list,
    read_phone_list,
    template_facts,
)
from mipc.inventory.load import display_name, inventory_files, load_inventory, parse_yaml
from mipc.model import PhoneSpec

__all__ = [
    "ImportReport",
    "add_list_entry",
    "entry_lines",
    "import_lists",
    "phone_entry",
    "render_entries",
    "run_import",
    "write_files",
    "yaml_quote",
]

OnConflict = Literal["fail", "skip", "replace"]
Format = Literal["csv", "yaml"]
LISTS_FILE = "phone-lists.yaml"
_PLAIN = re.compile(r"\A[A-Za-z0-9_./-]+\Z")
_BLOCK_KEY = re.compile(r"\Aphone_lists:[ \t]*(#.*)?\Z")
_FLOW_EMPTY = re.compile(r"\Aphone_lists:[ \t]*\[[ \t]*\][ \t]*(#.*)?\Z")


class ImportTrouble(Exception):
    """An I/O or inventory-shape problem that stops the import (exit code 2)."""


@dataclass
class ImportReport:
    """What an import did (or, with --dry-run, would do)."""

    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    rejected_rows: int = 0
    conflicts: int = 0
    files: dict[Path, str] = field(default_factory=dict)
    """Every file to write, with its new text (only files whose text changes)."""
    old: dict[Path, str | None] = field(default_factory=dict)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    severe: bool = False
    trouble: bool = False
    written: bool = False

    @property
    def warnings(self) -> int:
        return len(self.diagnostics.warnings)

    @property
    def errors(self) -> int:
        return len(self.diagnostics.errors)

    def summary(self, root: Path | None = None) -> str:
        def show(path: Path) -> str:
            return display_name(path, root) if root is not None else path.as_posix()

        verb = "written" if self.written else "to write"
        files = ", ".join(show(p) for p in sorted(self.files)) or "none"
        return (
            f"{len(self.imported)} imported, {len(self.unchanged)} unchanged,"
            f" {len(self.replaced)} replaced, {len(self.skipped)} skipped,"
            f" {self.rejected_rows} rejected row(s), {self.conflicts} conflict(s),"
            f" {self.warnings} warning(s), {self.errors} error(s); files {verb}: {files}"
        )

    def exit_code(self, strict: bool = False) -> int:
        if self.trouble:
            return 2
        if self.severe or self.errors or (strict and self.warnings):
            return 1
        return 0


# --- conflicts ----------------------------------------------------------------------------


def _keys(phone: PhoneSpec) -> tuple[tuple[str, str], ...]:
    """(kind, key) for each unique identity of a phone: name, address (MAC or computer name),
    private extensions."""
    out = [("name", phone.name.casefold())]
    if phone.address:
        mac = normalize_mac(phone.address)
        out.append(("address", mac if mac is not None else phone.address.casefold()))
    for app in phone.appearances:
        if app.kind == "private" and app.extension:
            out.append(("extension", app.extension))
    return tuple(out)


def _shown(phone: PhoneSpec, kind: str, key: str) -> str:
    """How a conflict names an identity of ``phone``."""
    if kind == "name":
        return f"name {phone.name!r}"
    if kind == "extension":
        return f"extension {key!r}"
    address = phone.address or key
    return f"MAC {address}" if normalize_mac(address) is not None else f"computer name {address!r}"


@dataclass
class _Owner:
    phone: PhoneSpec
    target: Path | None  # the import target list holding it, if any
    new: bool
    yaml_file: Path | None = None  # the YAML file of an existing YAML phone
    yaml_target: Path | None = None  # the YAML file a new phone goes to (--as yaml)
    keys: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys = _keys(self.phone)

    @property
    def replaceable(self) -> bool:
        """Whether ``--on-conflict replace`` can take this phone out."""
        return (
            self.target is not None
            or self.yaml_target is not None
            or (self.yaml_file is not None and self.phone.origin == "yaml")
        )


class _Index:
    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], _Owner] = {}

    def add(self, owner: _Owner) -> None:
        for key in owner.keys:
            self.keys.setdefault(key, owner)

    def remove(self, owner: _Owner) -> None:
        for key in owner.keys:
            if self.keys.get(key) is owner:
                del self.keys[key]

    def clashes(
        self, phone: PhoneSpec, keys: tuple[tuple[str, str], ...]
    ) -> list[tuple[str, _Owner]]:
        found: list[tuple[str, _Owner]] = []
        for kind, key in keys:
            owner = self.keys.get((kind, key))
            if owner is None:
                continue
            shown = _shown(phone, kind, key)
            if all(owner is not o for _, o in found):
                found.append((shown, owner))
            else:
                found = [(f"{s} and {shown}" if o is owner else s, o) for s, o in found]
        return found


# --- YAML text edits ----------------------------------------------------------------------

# Characters PyYAML does not accept raw in a double-quoted scalar (or reads as line breaks).
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_ITEM_HEAD = re.compile(r"\A( *)-( +)\Z")


def _yaml_scalar(text: str) -> str:
    return text if _PLAIN.match(text) and text[0] not in "-." else json.dumps(text)


def yaml_quote(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back exactly (``"0123"``, MACs,
    ``:``, ``#``, quotes, leading spaces, any character)."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _newline(text: str) -> str:
    """The line ending a text uses (that of its first line), LF for a new text."""
    end = text.find("\n")
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def _append_block(text: str, key: str, items: Callable[[str, str], str]) -> str:
    """``text`` with ``items(indent, newline)`` appended to its top-level ``key:`` block
    sequence (made when missing, or when written ``key: []``); every other byte is kept."""
    block_key = re.compile(rf"\A{re.escape(key)}:[ \t]*(#.*)?\Z")
    flow_empty = re.compile(rf"\A{re.escape(key)}:[ \t]*\[[ \t]*\][ \t]*(#.*)?\Z")
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        bare = line.rstrip("\r\n")
        newline = line[len(bare) :] or _newline(text)
        empty = flow_empty.match(bare)
        if empty:
            comment = f"  {empty.group(1)}" if empty.group(1) else ""
            lines[i] = f"{key}:{comment}{newline}{items('  ', newline)}"
            return "".join(lines)
        if bare.startswith(f"{key}:") and not block_key.match(bare):
            raise ImportTrouble(
                f"{key} is written in flow style ([a, b]); write it as a block list"
                f" (one '- ...' item per line) so import-csv can add to it"
            )
        if not block_key.match(bare):
            continue
        last = i
        indent = "  "
        for j in range(i + 1, len(lines)):
            body = lines[j].rstrip("\r\n")
            stripped = body.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if body[0] not in " \t" and not body.startswith("-"):
                break
            if last == i:
                indent = body[: len(body) - len(body.lstrip(" "))]
            last = j
        if not lines[last].endswith(("\n", "\r")):
            lines[last] += newline
        lines.insert(last + 1, items(indent, newline))
        return "".join(lines)
    newline = _newline(text)
    if text and not text.endswith("\n"):
        text += newline
    return f"{text}{key}:{newline}{items('  ', newline)}"


def add_list_entry(text: str, entry: str) -> str:
    """``text`` with ``entry`` appended to its top-level ``phone_lists:`` block sequence (made
    when missing); every other byte is kept."""
    item = _yaml_scalar(entry)
    return _append_block(text, "phone_lists", lambda indent, nl: f"{indent}- {item}{nl}")


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


# --- writing ------------------------------------------------------------------------------


def write_files(files: dict[Path, str]) -> None:
    """Write every file or none: temporary files first, then ``os.replace`` each; on a failure
    the files already replaced get their old bytes back and new files and folders are removed."""
    staged: list[tuple[Path, Path]] = []
    made_dirs: list[Path] = []
    try:
        for path, text in sorted(files.items()):
            missing = []
            parent = path.parent
            while not parent.exists():
                missing.append(parent)
                parent = parent.parent
            for folder in reversed(missing):
                folder.mkdir()
                made_dirs.append(folder)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            staged.append((path, Path(tmp_name)))
    except BaseException:
        for _, staged_tmp in staged:
            staged_tmp.unlink(missing_ok=True)
        for folder in reversed(made_dirs):
            _rmdir(folder)
        raise
    backups: list[tuple[Path, bytes | None]] = []
    try:
        for dest, staged_tmp in staged:
            previous = dest.read_bytes() if dest.exists() else None
            os.replace(staged_tmp, dest)
            backups.append((dest, previous))
    except BaseException:
        for done, before in reversed(backups):
            if before is None:
                done.unlink(missing_ok=True)
            else:
                done.write_bytes(before)
        for _, staged_tmp in staged:
            staged_tmp.unlink(missing_ok=True)
        for folder in reversed(made_dirs):
            _rmdir(folder)
        raise


def _rmdir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


# --- the import ---------------------------------------------------------------------------


def import_lists(
    csv_paths: Sequence[Path],
    inventory: Path,
    *,
    on_conflict: OnConflict = "fail",
    into: Path | None = None,
    strict: bool = False,
    as_format: Format = "csv",
) -> ImportReport:
    """Plan an import: read the lists, find conflicts, compute the files to write."""
    from mipc.pipeline import load_model

    report = ImportReport()
    diags = report.diagnostics
    inv, load_diags = load_model(inventory)
    diags.extend(load_diags)
    if inv is None:
        report.severe = True
        report.trouble = load_diags.trouble
        return report
    root = Path(inv.root)
    facts = template_facts(inv.templates)
    groups = list(inv.registration_groups)

    # Where each list goes: a normalised CSV list, or a YAML file.
    targets: dict[Path, list[PhoneSpec]] = {}
    yaml_new: dict[Path, list[PhoneSpec]] = {}
    read: list[tuple[Path, list[PhoneSpec]]] = []
    for csv_path in csv_paths:
        result = parse_phone_list(
            csv_path,
            csv_path.as_posix(),
            diags,
            ReadOptions(templates=facts, groups=groups, doubts=True),
        )
        if result.severe:
            report.severe = True
            report.trouble = report.trouble or result.unreadable
            continue
        report.rejected_rows += len(result.rejected_rows)
        if as_format == "yaml":
            target = _yaml_target(inventory, root, into, csv_path)
            yaml_new.setdefault(target, [])
        else:
            target = _target(root, into, csv_path)
            targets.setdefault(target, [])
        read.append((target, result.phones))
    if report.severe:
        return report

    # Phones already in the target lists, and everything else.
    shown_targets = {display_name(t, root): t for t in targets}
    yaml_files = _yaml_files(inventory, root)
    index = _Index()
    for phone in inv.phones:
        file = phone.position.file if phone.position else ""
        holder = shown_targets.get(file) if phone.origin == "csv" else None
        if holder is not None:
            targets[holder].append(phone)
        source = yaml_files.get(file) if phone.origin == "yaml" else None
        index.add(_Owner(phone, holder, new=False, yaml_file=source))
    for target, existing in targets.items():
        if not existing and target.is_file():
            # A list file that is not registered yet: merge with what it holds.
            scratch = Diagnostics()
            for phone in read_phone_list(target, display_name(target, root), scratch):
                existing.append(phone)
                index.add(_Owner(phone, target, new=False))

    removals: dict[Path, list[PhoneSpec]] = {}
    for target, phones in read:
        by_name = {p.name: p for p in targets.get(target, ())}
        for phone in phones:
            same = by_name.get(phone.name)
            owner = index.keys.get(("name", phone.name.casefold()))
            if (same is not None and _same(same, phone)) or (
                owner is not None and not owner.new and _same(owner.phone, phone)
            ):
                report.unchanged.append(phone.name)
                continue
            keys = _keys(phone)
            clashes = index.clashes(phone, keys)
            if clashes and on_conflict == "skip":
                report.skipped.append(phone.name)
                for what, owner in clashes:
                    diags.warning(
                        "conflict-skipped",
                        f"{what} already used by phone {owner.phone.name!r}"
                        f" ({owner.phone.position}); row skipped",
                        phone.position,
                    )
                continue
            if clashes and on_conflict == "replace":
                fixed = [(w, o) for w, o in clashes if o.replaceable]
                for what, owner in clashes:
                    if not owner.replaceable:
                        diags.error(
                            "conflict",
                            f"{what} already used by phone {owner.phone.name!r} at"
                            f" {owner.phone.position}, which is in a phone list that is not"
                            " imported here and cannot be replaced; change one of them",
                            phone.position,
                        )
                        report.conflicts += 1
                if len(fixed) < len(clashes):
                    continue
                for _, owner in fixed:
                    index.remove(owner)
                    if owner.target is not None:
                        targets[owner.target] = [
                            p for p in targets[owner.target] if p is not owner.phone
                        ]
                    elif owner.yaml_target is not None:
                        yaml_new[owner.yaml_target] = [
                            p for p in yaml_new[owner.yaml_target] if p is not owner.phone
                        ]
                    elif owner.yaml_file is not None:
                        removals.setdefault(owner.yaml_file, []).append(owner.phone)
                    report.replaced.append(owner.phone.name)
            elif clashes:
                for what, owner in clashes:
                    diags.error(
                        "conflict",
                        f"{what} already used by phone {owner.phone.name!r}"
                        f" ({owner.phone.position})",
                        phone.position,
                    )
                    report.conflicts += 1
                continue
            if as_format == "yaml":
                yaml_new[target].append(phone)
                index.add(_Owner(phone, None, new=True, yaml_target=target, keys=keys))
            else:
                targets[target].append(phone)
                index.add(_Owner(phone, target, new=True, keys=keys))
            report.imported.append(phone.name)

    if report.conflicts or (strict and diags.warnings):
        return report
    _plan_files(report, inventory, root, targets, yaml_new, removals)
    return report


def _same(a: PhoneSpec, b: PhoneSpec) -> bool:
    """The same phone as far as a CSV row can tell (MACs compared in any notation)."""
    rows = []
    for phone in (a, b):
        row = phone_row(phone)
        mac = normalize_mac(row["Address"])
        if mac is not None:
            row["Address"] = mac
        rows.append(row)
    return rows[0] == rows[1]


def _target(root: Path, into: Path | None, csv_path: Path) -> Path:
    if into is not None:
        return into if into.is_absolute() else root / into
    return root / "lists" / f"{csv_path.stem}.csv"


def _yaml_target(inventory: Path, root: Path, into: Path | None, csv_path: Path) -> Path:
    """The YAML file that receives the phones of ``csv_path`` with ``--as yaml``."""
    if not inventory.is_dir():
        if into is not None and (root / into).resolve() != inventory.resolve():
            raise ImportTrouble(
                f"--into {into} with --as yaml: a single-file inventory reads no other YAML"
                f" file; leave --into out to add the phones to {inventory}"
            )
        return inventory
    if into is None:
        return root / f"phones-{csv_path.stem}.yaml"
    target = into if into.is_absolute() else root / into
    if (
        target.suffix not in (".yaml", ".yml")
        or target.name.startswith(".")
        or target.parent.resolve() != root.resolve()
    ):
        raise ImportTrouble(
            f"--into {into} with --as yaml must name a .yaml file directly in the inventory"
            f" folder {root} (mipc reads only those), such as phones-{csv_path.stem}.yaml"
        )
    return target


def _yaml_files(inventory: Path, root: Path) -> dict[str, Path]:
    """The inventory's YAML files by the name diagnostics give them."""
    _, files = inventory_files(inventory)
    if inventory.is_dir():
        return {display_name(p, root): p for p in files}
    return {p.as_posix(): p for p in files}


def _plan_files(
    report: ImportReport,
    inventory: Path,
    root: Path,
    targets: dict[Path, list[PhoneSpec]],
    yaml_new: dict[Path, list[PhoneSpec]],
    removals: dict[Path, list[PhoneSpec]],
) -> None:
    for target, phones in sorted(targets.items()):
        old = _read_or_none(target)
        if not phones and old is None:
            del targets[target]  # every phone unchanged or skipped: no empty list
            continue
        text = write_phone_list(phones, "normalised")
        if old != text:
            report.files[target] = text
            report.old[target] = old
    try:
        doc = load_inventory(inventory)
    except InputError as exc:  # pragma: no cover - load_model read it a moment ago
        report.diagnostics.extend(exc.diagnostics)
        report.trouble = True
        return
    registered = {(root / str(entry)).resolve() for entry in doc.data.get("phone_lists") or ()}
    missing = [_relative(t, root) for t in sorted(targets) if t.resolve() not in registered]
    lists_file = root / LISTS_FILE if inventory.is_dir() else inventory
    edited = set(removals) | {t for t, phones in yaml_new.items() if phones}
    if missing:
        edited.add(lists_file)
    for path in sorted(edited):
        _edit_yaml(
            report,
            path,
            display_name(path, root) if inventory.is_dir() else path.as_posix(),
            removals.get(path, []),
            sorted(yaml_new.get(path, []), key=lambda p: p.name),
            missing if path == lists_file else [],
        )


def _edit_yaml(
    report: ImportReport,
    path: Path,
    shown: str,
    remove: Sequence[PhoneSpec],
    add: Sequence[PhoneSpec],
    lists: Sequence[str],
) -> None:
    """Plan the text edits of one YAML file: remove phone entries, append phone entries and
    ``phone_lists`` entries; check the result by parsing it."""
    diags = report.diagnostics
    old = _read_or_none(path)
    before: dict[str, Any] = {}
    doc = None
    if old is not None:
        doc = parse_yaml(old, shown, Diagnostics())
        if doc is None:  # pragma: no cover - load_model parsed it a moment ago
            raise ImportTrouble(f"cannot parse {shown} again; nothing written")
        before = doc.data
    text = old if old is not None else ""
    if old is None and add:
        text = f"# Phones imported by mipc import-csv; edit them freely.{_newline(text)}"
    old_phones: list[Any] = list(before.get("phones") or [])
    dropped: set[int] = set()
    ranges: list[tuple[int, int]] = []
    lines = text.splitlines(keepends=True)
    for phone in remove:
        where = phone.position
        assert where is not None and doc is not None
        index = next(
            (
                k
                for k in range(len(old_phones))
                if (pos := doc.positions.get(("phones", k))) is not None
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
                Position(shown, where.line, where.col),
            )
            report.conflicts += 1
            continue
        dropped.add(index)
        ranges.append(found)
    if report.conflicts:
        return
    for start, end in sorted(ranges, reverse=True):
        del lines[start:end]
    text = "".join(lines)
    if dropped and len(dropped) == len(old_phones) and not add:
        # An empty block would read as null, which a directory inventory cannot merge.
        text = re.sub(
            r"(?m)^phones:[ \t]*(?=#|\r?$)", lambda m: "phones: []" + m.group()[7:], text, count=1
        )
    entries = [phone_entry(p) for p in add]
    try:
        if entries:
            text = _append_block(
                text, "phones", lambda indent, nl: render_entries(entries, indent, nl)
            )
        for entry in lists:
            text = add_list_entry(text, entry)
    except ImportTrouble as exc:
        diags.error("yaml-style", str(exc), Position(shown))
        report.trouble = True
        return
    expected = dict(before)
    if dropped or entries:
        expected["phones"] = [p for k, p in enumerate(old_phones) if k not in dropped] + entries
    if lists:
        expected["phone_lists"] = list(before.get("phone_lists") or []) + list(lists)
    check = parse_yaml(text, shown, Diagnostics())
    if check is None or not _equal(check.data, expected):
        diags.error(
            "yaml-edit",
            "import-csv could not edit this file safely (the edited text does not read back"
            " as intended); nothing written: make the edit by hand or use --as csv",
            Position(shown),
        )
        report.trouble = True
        return
    if text != old:
        report.files[path] = text
        report.old[path] = old


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


def _relative(target: Path, root: Path) -> str:
    try:
        return target.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return os.path.relpath(target.resolve(), root.resolve()).replace(os.sep, "/")


def _read_or_none(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportTrouble(f"cannot read {path}: {exc}") from exc


# --- the command --------------------------------------------------------------------------


def run_import(
    csv_paths: Sequence[Path],
    inventory: Path | None = None,
    *,
    dry_run: bool = False,
    on_conflict: OnConflict = "fail",
    into: Path | None = None,
    as_format: Format = "csv",
    strict: bool = False,
    fmt: str = "text",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``mipc import-csv``: exit 0 ok, 1 rejected rows or conflicts (or warnings with
    ``strict``), 2 I/O trouble. Diagnostics go to ``err``, the summary and, with ``dry_run``,
    a diff of every file that would change to ``out``."""
    from mipc.pipeline import default_inventory, paused_gc

    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    target = inventory if inventory is not None else default_inventory()
    try:
        with paused_gc():
            report = import_lists(
                csv_paths,
                target,
                on_conflict=on_conflict,
                into=into,
                strict=strict,
                as_format=as_format,
            )
    except ImportTrouble as exc:
        err.write(f"mipc import-csv: {exc}\n")
        return 2
    if report.diagnostics.items:
        err.write(render(report.diagnostics, fmt) + "\n")
    root = target if target.is_dir() else target.parent
    blocked = report.severe or report.trouble or report.conflicts or (strict and report.warnings)
    if dry_run and not blocked:
        for path in sorted(report.files):
            out.write(_diff(path, root, report.old.get(path), report.files[path]))
    elif not blocked and report.files:
        try:
            write_files(report.files)
        except OSError as exc:
            err.write(f"mipc import-csv: cannot write the inventory ({exc}); nothing changed\n")
            return 2
        report.written = True
    if blocked:
        report.files.clear()
        report.imported.clear()
        report.replaced.clear()
        err.write("mipc import-csv: nothing written\n")
    out.write(report.summary(root) + "\n")
    return report.exit_code(strict)


def _diff(path: Path, root: Path, old: str | None, new: str) -> str:
    shown = display_name(path, root)
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile="/dev/null" if old is None else f"a/{shown}",
        tofile=f"b/{shown}",
    )
    return "".join(lines)
