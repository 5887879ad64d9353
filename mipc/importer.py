"""``mipc import-csv``: merge the guide's CSV phone lists into an inventory, all or nothing.

Each imported list becomes a *normalised* phone list inside the inventory (default
``lists/<csv stem>.csv``; ``--into FILE`` names one file for all), one phone per line in
canonical columns, sorted, so a re-import of the same list changes nothing and every later change
is a one-line diff. The list is registered under ``phone_lists``: in a directory inventory a
``phone-lists.yaml`` file there is created or extended; in a single-file inventory the entry is
added to the file's text, everything else left byte-identical.

Conflicts (same name, MAC, computer name or extension) against the inventory's phones and within
the import follow ``--on-conflict``: ``fail`` (nothing written, every conflict listed), ``skip``
(the new row is left out) or ``replace`` (the new row replaces a phone of the same target list).
Files are written to temporary files first and moved into place with ``os.replace``; a failure
restores what was already moved, so the inventory is left as it was.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from mipc.addresses import normalize_mac
from mipc.csvlists import (
    parse_phone_list,
    phone_row,
    read_phone_list,
    template_facts,
    write_phone_list,
)
from mipc.diagnostics import Diagnostics, InputError, Position, render
from mipc.load import display_name, load_inventory
from mipc.model import PhoneSpec

__all__ = ["ImportReport", "add_list_entry", "import_lists", "run_import", "write_files"]

OnConflict = Literal["fail", "skip", "replace"]
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


def _keys(phone: PhoneSpec) -> list[tuple[str, str, str]]:
    """(kind, key, shown) for each unique identity of a phone."""
    out = [("name", phone.name.casefold(), f"name {phone.name!r}")]
    if phone.address:
        mac = normalize_mac(phone.address)
        if mac is not None:
            out.append(("address", mac, f"MAC {phone.address}"))
        else:
            out.append(("address", phone.address.casefold(), f"computer name {phone.address!r}"))
    for app in phone.appearances:
        if app.kind == "private" and app.extension:
            out.append(("extension", app.extension, f"extension {app.extension!r}"))
    return out


@dataclass
class _Owner:
    phone: PhoneSpec
    target: Path | None  # the import target list holding it, if any
    new: bool


class _Index:
    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], _Owner] = {}

    def add(self, owner: _Owner) -> None:
        for kind, key, _ in _keys(owner.phone):
            self.keys.setdefault((kind, key), owner)

    def remove(self, owner: _Owner) -> None:
        for kind, key, _ in _keys(owner.phone):
            if self.keys.get((kind, key)) is owner:
                del self.keys[(kind, key)]

    def clashes(self, phone: PhoneSpec) -> list[tuple[str, _Owner]]:
        found: list[tuple[str, _Owner]] = []
        for kind, key, shown in _keys(phone):
            owner = self.keys.get((kind, key))
            if owner is not None and all(owner is not o for _, o in found):
                found.append((shown, owner))
            elif owner is not None:
                found = [(f"{s} and {shown}" if o is owner else s, o) for s, o in found]
        return found


# --- YAML text edits ----------------------------------------------------------------------


def _yaml_scalar(text: str) -> str:
    return text if _PLAIN.match(text) and text[0] not in "-." else json.dumps(text)


def add_list_entry(text: str, entry: str) -> str:
    """``text`` with ``entry`` appended to its top-level ``phone_lists:`` block sequence (made
    when missing); every other byte is kept."""
    item = _yaml_scalar(entry)
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        bare = line.rstrip("\r\n")
        newline = line[len(bare) :] or "\n"
        if _FLOW_EMPTY.match(bare):
            lines[i] = f"phone_lists:{newline}  - {item}{newline}"
            return "".join(lines)
        if bare.startswith("phone_lists:") and not _BLOCK_KEY.match(bare):
            raise ImportTrouble(
                "phone_lists is written in flow style ([a, b]); write it as a block list"
                " (one '- path' per line) so import-csv can add to it"
            )
        if not _BLOCK_KEY.match(bare):
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
        lines.insert(last + 1, f"{indent}- {item}{newline}")
        if not lines[last].endswith(("\n", "\r")):
            lines[last] += newline
        return "".join(lines)
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}phone_lists:\n  - {item}\n"


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
) -> ImportReport:
    """Plan an import: read the lists, find conflicts, compute the files to write."""
    from mipc.pipeline import load_model

    report = ImportReport()
    diags = report.diagnostics
    inv, load_diags = load_model(inventory)
    diags.extend(load_diags)
    if inv is None:
        report.severe = True
        report.trouble = any(d.code in ("no-inventory", "unreadable") for d in load_diags.errors)
        return report
    root = Path(inv.root)
    facts = template_facts(inv.templates)
    groups = list(inv.registration_groups)

    # Where each list goes.
    targets: dict[Path, list[PhoneSpec]] = {}
    read: list[tuple[Path, list[PhoneSpec]]] = []
    for csv_path in csv_paths:
        result = parse_phone_list(
            csv_path, csv_path.as_posix(), diags, templates=facts, groups=groups, doubts=True
        )
        if result.severe:
            report.severe = True
            report.trouble = report.trouble or result.unreadable
            continue
        report.rejected_rows += len(result.rejected_rows)
        target = _target(root, into, csv_path)
        targets.setdefault(target, [])
        read.append((target, result.phones))
    if report.severe:
        return report

    # Phones already in the target lists, and everything else.
    shown_targets = {display_name(t, root): t for t in targets}
    index = _Index()
    for phone in inv.phones:
        file = phone.position.file if phone.position else ""
        holder = shown_targets.get(file) if phone.origin == "csv" else None
        if holder is not None:
            targets[holder].append(phone)
        index.add(_Owner(phone, holder, new=False))
    for target, existing in targets.items():
        if not existing and target.is_file():
            # A list file that is not registered yet: merge with what it holds.
            scratch = Diagnostics()
            for phone in read_phone_list(target, display_name(target, root), scratch):
                existing.append(phone)
                index.add(_Owner(phone, target, new=False))

    for target, phones in read:
        by_name = {p.name: p for p in targets[target]}
        for phone in phones:
            same = by_name.get(phone.name)
            owner = index.keys.get(("name", phone.name.casefold()))
            if (same is not None and _same(same, phone)) or (
                owner is not None and not owner.new and _same(owner.phone, phone)
            ):
                report.unchanged.append(phone.name)
                continue
            clashes = index.clashes(phone)
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
                fixed = [(w, o) for w, o in clashes if o.target is not None]
                for what, owner in clashes:
                    if owner.target is None:
                        diags.error(
                            "conflict",
                            f"{what} already used by phone {owner.phone.name!r} at"
                            f" {owner.phone.position}, which is not in an imported list and"
                            " cannot be replaced; change one of them",
                            phone.position,
                        )
                        report.conflicts += 1
                if len(fixed) < len(clashes):
                    continue
                for _, owner in fixed:
                    index.remove(owner)
                    assert owner.target is not None
                    targets[owner.target] = [
                        p for p in targets[owner.target] if p is not owner.phone
                    ]
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
            targets[target].append(phone)
            index.add(_Owner(phone, target, new=True))
            report.imported.append(phone.name)

    if report.conflicts or (strict and diags.warnings):
        return report
    _plan_files(report, inventory, root, targets)
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


def _plan_files(
    report: ImportReport, inventory: Path, root: Path, targets: dict[Path, list[PhoneSpec]]
) -> None:
    for target, phones in sorted(targets.items()):
        text = write_phone_list(phones, "normalised")
        old = _read_or_none(target)
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
    missing = [t for t in sorted(targets) if t.resolve() not in registered]
    if not missing:
        return
    lists_file = root / LISTS_FILE if inventory.is_dir() else inventory
    current = _read_or_none(lists_file)
    new = current or ""
    try:
        for target in missing:
            new = add_list_entry(new, _relative(target, root))
    except ImportTrouble as exc:
        report.diagnostics.error("phone-lists-style", str(exc), Position(lists_file.as_posix()))
        report.trouble = True
        return
    report.files[lists_file] = new
    report.old[lists_file] = current


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
    as_format: Literal["csv", "yaml"] = "csv",
    strict: bool = False,
    fmt: str = "text",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``mipc import-csv``: exit 0 ok, 1 rejected rows or conflicts (or warnings with
    ``strict``), 2 I/O trouble. Diagnostics go to ``err``, the summary and, with ``dry_run``,
    a diff of every file that would change to ``out``."""
    from mipc.pipeline import default_inventory

    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if as_format != "csv":
        err.write("mipc import-csv: --as yaml is not supported yet; use --as csv\n")
        return 2
    target = inventory if inventory is not None else default_inventory()
    try:
        report = import_lists(csv_paths, target, on_conflict=on_conflict, into=into, strict=strict)
    except ImportTrouble as exc:
        err.write(f"mipc import-csv: {exc}\n")
        return 2
    if report.diagnostics.items:
        err.write(render(report.diagnostics, fmt) + "\n")
    root = target if target.is_dir() else target.parent
    blocked = report.severe or report.conflicts or (strict and report.warnings)
    if dry_run:
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
