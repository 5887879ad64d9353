"""Planning an import of the guide's CSV phone lists into an inventory, all or nothing.

Each imported list becomes a *normalised* phone list inside the inventory (default
``lists/<csv stem>.csv``; ``--into FILE`` names one file for all), one phone per line in
canonical columns, sorted, so a re-import of the same list changes nothing and every later change
is a one-line diff. The list is registered under ``phone_lists``: in a directory inventory a
``phone-lists.yaml`` file there is created or extended; in a single-file inventory the entry is
added to the file's text, everything else left byte-identical.

With ``--as yaml`` the phones become YAML phone entries instead, for small lists edited by hand:
a file of their own in a directory inventory (default ``phones-<csv stem>.yaml``; ``--into``
names another ``.yaml`` file of the folder), appended under ``phones:`` in a single-file
inventory (the text edits are in :mod:`mipc.inventory.yaml_edits`).

A row the lists reject (an unknown template, a missing name, ...) stops the import: nothing is
written and every rejected row is listed; with ``--skip-errors`` the other rows are written and
the summary counts the rows left out (the exit code is 1 all the same: the lists were not
imported whole).

Conflicts (same name, MAC, computer name or extension) against the inventory's phones and within
the import follow ``--on-conflict``: ``fail`` (nothing written, every conflict listed), ``skip``
(the new row is left out) or ``replace`` (the new row replaces the phone it clashes with,
wherever it is: a phone of the same target list; a row of another phone list, removed by a text
edit of its lines in :mod:`mipc.inventory.csv_edits`; a YAML phone entry, removed likewise in
:mod:`mipc.inventory.yaml_edits`). Each phone taken out is reported with where it was.

Takes the CSV lists, the inventory's path and its assembled model; gives an
:class:`ImportReport`: the new text of every file to write, counts and diagnostics. Prints and
writes nothing (``mipc.cli.commands.import_csv`` does, with
:func:`mipc.inventory.atomic.write_files`); never imports the pipeline, rules, resolve, render
or release stages.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from mipc.diagnostics import Diagnostics, InputError, MipcError, Position
from mipc.inventory.conflicts import Index, Owner, identities, same_phone
from mipc.inventory.csv_edits import remove_phones
from mipc.inventory.csv_write import write_phone_list
from mipc.inventory.csvlists import ReadOptions, parse_phone_list, read_phone_list, template_facts
from mipc.inventory.load import display_name, inventory_files, load_inventory, parse_yaml
from mipc.inventory.yaml_edits import YamlEdit, edit_yaml, locate_entries
from mipc.model import Inventory, PhoneSpec

__all__ = ["ImportOptions", "ImportReport", "ImportTrouble", "import_lists", "unloaded"]

OnConflict = Literal["fail", "skip", "replace"]
Format = Literal["csv", "yaml"]
LISTS_FILE = "phone-lists.yaml"


class ImportTrouble(MipcError):
    """An I/O or inventory-shape problem that stops the import (exit code 2)."""


@dataclass(frozen=True)
class ImportOptions:
    """How to import: what to do on conflicts, where to, as what; ``strict`` makes the
    warnings stop it too; ``skip_errors`` lets rejected rows not stop it."""

    on_conflict: OnConflict = "fail"
    into: Path | None = None
    as_format: Format = "csv"
    strict: bool = False
    skip_errors: bool = False
    """Write the rows accepted even when others were rejected (otherwise nothing is)."""


@dataclass
class ImportReport:
    """What an import did (or, with --dry-run, would do)."""

    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[tuple[str, Position | None, Position | None]] = field(default_factory=list)
    """Each phone already in the inventory taken out: (name, where it was, the row replacing
    it)."""
    rejected: list[tuple[str, int]] = field(default_factory=list)
    """Each rejected row: (list as shown, row number)."""
    conflicts: int = 0
    files: dict[Path, str] = field(default_factory=dict)
    """Every file to write, with its new text (only files whose text changes)."""
    old: dict[Path, str | None] = field(default_factory=dict)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    severe: bool = False
    trouble: bool = False
    written: bool = False

    @property
    def rejected_rows(self) -> int:
        """How many rows the lists rejected."""
        return len(self.rejected)

    def rejected_text(self) -> str:
        """The rejected rows, by list: ``a.csv rows 3, 5; b.csv row 2``."""
        by_list: dict[str, list[int]] = {}
        for shown, row in self.rejected:
            by_list.setdefault(shown, []).append(row)
        return "; ".join(
            f"{shown} row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))}"
            for shown, rows in by_list.items()
        )

    @property
    def warnings(self) -> int:
        """How many warnings were found."""
        return len(self.diagnostics.warnings)

    @property
    def errors(self) -> int:
        """How many errors were found."""
        return len(self.diagnostics.errors)

    def summary(self, root: Path | None = None) -> str:
        """The one-line summary the command prints (file names relative to ``root``)."""

        def show(path: Path) -> str:
            return display_name(path, root) if root is not None else path.as_posix()

        verb = "written" if self.written else "to write"
        files = ", ".join(show(p) for p in sorted(self.files)) or "none"
        left_out = " left out" if self.written and self.rejected else ""
        return (
            f"{len(self.imported)} imported, {len(self.unchanged)} unchanged,"
            f" {len(self.replaced)} replaced, {len(self.skipped)} skipped,"
            f" {self.rejected_rows} rejected row(s){left_out}, {self.conflicts} conflict(s),"
            f" {self.warnings} warning(s), {self.errors} error(s); files {verb}: {files}"
        )

    def removals(self) -> list[str]:
        """One line for each phone taken out: what, from where, replaced by which row."""
        verb = "removed from" if self.written else "to remove from"
        return [
            f"phone {name!r} {verb} {_where(old)}, replaced by {_where(new)}"
            for name, old, new in self.removed
        ]

    def exit_code(self, strict: bool = False) -> int:
        """0 ok, 1 rejected rows, conflicts or errors (or warnings with ``strict``), 2 trouble."""
        if self.trouble:
            return 2
        if self.severe or self.errors or (strict and self.warnings):
            return 1
        return 0

    def blocked(self, strict: bool = False, skip_errors: bool = False) -> bool:
        """Whether nothing may be written: a severe list, trouble, conflicts, rejected rows
        (unless ``skip_errors``), warnings (with ``strict``)."""
        return bool(
            self.severe
            or self.trouble
            or self.conflicts
            or (self.rejected and not skip_errors)
            or (strict and self.warnings)
        )


def unloaded(diags: Diagnostics) -> ImportReport:
    """The report of an import into an inventory that could not be loaded."""
    return ImportReport(diagnostics=diags, severe=True, trouble=diags.trouble)


def import_lists(
    csv_paths: Sequence[Path],
    inventory: Path,
    inv: Inventory,
    options: ImportOptions,
    diags: Diagnostics | None = None,
) -> ImportReport:
    """Plan an import into the inventory at ``inventory`` (whose model is ``inv``): read the
    lists, find conflicts, compute the files to write. ``diags`` (those of loading the
    inventory) start the report's diagnostics."""
    report = ImportReport(diagnostics=diags if diags is not None else Diagnostics())
    plan = _Plan(report, inventory, Path(inv.root), options)
    read = plan.read_lists(csv_paths, inv)
    if report.severe:
        return report
    plan.index(inv)
    for target, phones in read:
        plan.place(target, phones)
    if report.conflicts or (options.strict and report.diagnostics.warnings):
        return report
    plan.plan_files()
    return report


class _Plan:
    """Where each imported phone goes: the target lists and YAML files, and what they lose."""

    def __init__(
        self, report: ImportReport, inventory: Path, root: Path, options: ImportOptions
    ) -> None:
        self.report = report
        self.diags = report.diagnostics
        self.inventory = inventory
        self.root = root
        self.options = options
        self.targets: dict[Path, list[PhoneSpec]] = {}
        """Each target CSV list with its phones (those it holds, then the new ones)."""
        self.yaml_new: dict[Path, list[PhoneSpec]] = {}
        """Each target YAML file with the phones to add (``--as yaml``)."""
        self.removals: dict[Path, list[PhoneSpec]] = {}
        """Each YAML file with the phone entries to take out (``--on-conflict replace``)."""
        self.list_removals: dict[Path, list[PhoneSpec]] = {}
        """Each other phone list with the phones to take out (``--on-conflict replace``)."""
        self.registered: dict[str, Path] = {}
        """The inventory's phone lists, by the name diagnostics give them."""
        self.owners = Index()

    # --- reading --------------------------------------------------------------------------

    def read_lists(
        self, csv_paths: Sequence[Path], inv: Inventory
    ) -> list[tuple[Path, list[PhoneSpec]]]:
        """The phones of each list with the target they go to (a severe list marks the
        report severe)."""
        options = ReadOptions(
            templates=template_facts(inv.templates),
            groups=list(inv.registration_groups),
            doubts=True,
            locations=list(inv.locations),
        )
        read: list[tuple[Path, list[PhoneSpec]]] = []
        for csv_path in csv_paths:
            result = parse_phone_list(csv_path, csv_path.as_posix(), self.diags, options)
            if result.severe:
                self.report.severe = True
                self.report.trouble = self.report.trouble or result.unreadable
                continue
            shown = csv_path.as_posix()
            self.report.rejected.extend((shown, row) for row in result.rejected_rows)
            if self.options.as_format == "yaml":
                target = _yaml_target(self.inventory, self.root, self.options.into, csv_path)
                self.yaml_new.setdefault(target, [])
            else:
                target = _target(self.root, self.options.into, csv_path)
                self.targets.setdefault(target, [])
            read.append((target, result.phones))
        return read

    def index(self, inv: Inventory) -> None:
        """Index the phones already there: the inventory's (those of a target list kept with
        it), and those of a target list file that is not registered yet."""
        shown_targets = {display_name(t, self.root): t for t in self.targets}
        yaml_files = _yaml_files(self.inventory, self.root)
        self.registered = self._registered()
        for phone in inv.phones:
            file = phone.position.file if phone.position else ""
            holder = shown_targets.get(file) if phone.origin == "csv" else None
            if holder is not None:
                self.targets[holder].append(phone)
            source = yaml_files.get(file) if phone.origin == "yaml" else None
            listed = self.registered.get(file) if phone.origin == "csv" else None
            owner = Owner(phone, holder, new=False, yaml_file=source, list_file=listed)
            self.owners.add(owner)
        for target, existing in self.targets.items():
            if not existing and target.is_file():
                # A list file that is not registered yet: merge with what it holds.
                shown = display_name(target, self.root)
                for phone in read_phone_list(target, shown, Diagnostics()):
                    existing.append(phone)
                    self.owners.add(Owner(phone, target, new=False))

    # --- placing --------------------------------------------------------------------------

    def place(self, target: Path, phones: Sequence[PhoneSpec]) -> None:
        """Put the phones of one list in ``target``, or leave them out (unchanged, skipped,
        in conflict)."""
        by_name = {p.name: p for p in self.targets.get(target, ())}
        for phone in phones:
            same = by_name.get(phone.name)
            owner = self.owners.keys.get(("name", phone.name.casefold()))
            if (same is not None and same_phone(same, phone)) or (
                owner is not None and not owner.new and same_phone(owner.phone, phone)
            ):
                self.report.unchanged.append(phone.name)
                continue
            keys = identities(phone)
            clashes = self.owners.clashes(phone, keys)
            if clashes and not self._settle(phone, clashes):
                continue
            if self.options.as_format == "yaml":
                self.yaml_new[target].append(phone)
                self.owners.add(Owner(phone, None, new=True, yaml_target=target, keys=keys))
            else:
                self.targets[target].append(phone)
                self.owners.add(Owner(phone, target, new=True, keys=keys))
            self.report.imported.append(phone.name)

    def _settle(self, phone: PhoneSpec, clashes: list[tuple[str, Owner]]) -> bool:
        """Follow ``--on-conflict``; whether ``phone`` is imported after all."""
        if self.options.on_conflict == "skip":
            self.report.skipped.append(phone.name)
            for what, owner in clashes:
                self.diags.warning(
                    "conflict-skipped",
                    f"{what} already used by phone {owner.phone.name!r}"
                    f" ({owner.phone.position}); row skipped",
                    phone.position,
                )
            return False
        if self.options.on_conflict == "replace":
            return self._replace(phone, clashes)
        for what, owner in clashes:
            self.diags.error(
                "conflict",
                f"{what} already used by phone {owner.phone.name!r} ({owner.phone.position})",
                phone.position,
            )
            self.report.conflicts += 1
        return False

    def _replace(self, phone: PhoneSpec, clashes: list[tuple[str, Owner]]) -> bool:
        """Take out the phones ``phone`` clashes with, when all of them can be."""
        for what, owner in clashes:
            if not owner.replaceable:
                self.diags.error(
                    "conflict",
                    f"{what} already used by phone {owner.phone.name!r} at"
                    f" {owner.phone.position}, which is in a phone list that is not"
                    " mipc does not know and cannot be replaced; change one of them",
                    phone.position,
                )
                self.report.conflicts += 1
        if not all(owner.replaceable for _, owner in clashes):
            return False
        for _, owner in clashes:
            self.owners.remove(owner)
            if owner.target is not None:
                kept = [p for p in self.targets[owner.target] if p is not owner.phone]
                self.targets[owner.target] = kept
            elif owner.yaml_target is not None:
                kept = [p for p in self.yaml_new[owner.yaml_target] if p is not owner.phone]
                self.yaml_new[owner.yaml_target] = kept
            elif owner.yaml_file is not None:
                self.removals.setdefault(owner.yaml_file, []).append(owner.phone)
            elif owner.list_file is not None:
                self.list_removals.setdefault(owner.list_file, []).append(owner.phone)
            self.report.replaced.append(owner.phone.name)
            if not owner.new:
                self.report.removed.append((owner.phone.name, owner.phone.position, phone.position))
        return True

    def _registered(self) -> dict[str, Path]:
        """The inventory's phone lists (``phone_lists``), by the name diagnostics give them."""
        try:
            doc = load_inventory(self.inventory)
        except InputError as exc:  # pragma: no cover - load_model read it a moment ago
            raise ImportTrouble(f"cannot read {self.inventory} again; nothing written") from exc
        paths = (doc.root / str(entry) for entry in doc.data.get("phone_lists") or ())
        return {display_name(path, doc.root): path for path in paths}

    # --- files ----------------------------------------------------------------------------

    def plan_files(self) -> None:
        """The new text of every target list and every YAML file edited."""
        for target, phones in sorted(self.targets.items()):
            old = _read_or_none(target)
            if not phones and old is None:
                del self.targets[target]  # every phone unchanged or skipped: no empty list
                continue
            text = write_phone_list(phones, "normalised")
            if old != text:
                self.report.files[target] = text
                self.report.old[target] = old
        self._edit_lists()
        root = self.root
        registered = {path.resolve() for path in self.registered.values()}
        missing = [
            _relative(t, root) for t in sorted(self.targets) if t.resolve() not in registered
        ]
        lists_file = root / LISTS_FILE if self.inventory.is_dir() else self.inventory
        edited = set(self.removals) | {t for t, phones in self.yaml_new.items() if phones}
        if missing:
            edited.add(lists_file)
        for path in sorted(edited):
            add = sorted(self.yaml_new.get(path, []), key=lambda p: p.name)
            lists = missing if path == lists_file else []
            self._edit(path, self.removals.get(path, []), add, lists)

    def _edit_lists(self) -> None:
        """Plan the text edits of the other phone lists: their replaced rows taken out."""
        for path, phones in sorted(self.list_removals.items()):
            edited = remove_phones(path, phones, display_name(path, self.root), self.diags)
            if edited is None:
                self.report.conflicts += len(phones)
            elif edited[1] != edited[0]:
                self.report.files[path] = edited[1]
                self.report.old[path] = edited[0]

    def _edit(
        self,
        path: Path,
        remove: Sequence[PhoneSpec],
        add: Sequence[PhoneSpec],
        lists: Sequence[str],
    ) -> None:
        """Plan the text edits of one YAML file: remove phone entries, append phone entries
        and ``phone_lists`` entries."""
        shown = display_name(path, self.root) if self.inventory.is_dir() else path.as_posix()
        old = _read_or_none(path)
        doc = None
        if old is not None:
            doc = parse_yaml(old, shown, Diagnostics())
            if doc is None:  # pragma: no cover - load_model parsed it a moment ago
                raise ImportTrouble(f"cannot parse {shown} again; nothing written")
        edit = YamlEdit(shown, old, doc, remove, add, lists)
        located = locate_entries(edit, self.diags)
        self.report.conflicts += located.failed
        if self.report.conflicts:
            return
        text = edit_yaml(edit, located, self.diags)
        if text is None:
            self.report.trouble = True
        elif text != old:
            self.report.files[path] = text
            self.report.old[path] = old


def _where(position: Position | None) -> str:
    """A phone's place as a removal line names it: ``lists/a.csv row 3``, ``mipc.yaml line 9``."""
    if position is None:  # pragma: no cover - every phone read has a position
        return "an unknown place"
    if position.column_name:
        return f"{position.file} row {position.line}"
    return f"{position.file} line {position.line}"


def _target(root: Path, into: Path | None, csv_path: Path) -> Path:
    """The CSV list that receives the phones of ``csv_path``."""
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
