"""Reading a CSV phone list: the guide's two bulk layouts (and mipc's normalised one) as
phone entries.

Rows are numbered as a spreadsheet shows them (the header is row 1), and every diagnostic is
placed at ``file:row:column-name``; blank lines and trailing separators are ignored. A cell
written ``'=...`` (a formula neutralised, as :mod:`mipc.inventory.csv_write` writes it) reads
as ``=...`` (:func:`mipc.inventory.csv_text.restore`). The
columns are in :mod:`mipc.inventory.csv_columns`, the decoding in
:mod:`mipc.inventory.csv_text`, the header in :mod:`mipc.inventory.csv_header`, the cells in
:mod:`mipc.inventory.csv_cells`.

Severities follow the guide. A *warning* drops a value that cannot be verified or keeps a
doubtful one. A *row error* (missing required field, unknown template, manufacturer or model,
duplicate within the list) skips the row. A *severe* error (unreadable file, no recognisable
header) stops the list: no phone is returned.

Takes a list's path or bytes, the name diagnostics give it and :class:`ReadOptions`; gives
:class:`mipc.model.PhoneSpec` entries and diagnostics. Never imports the rules, resolve,
render or the pipeline.
"""

from __future__ import annotations

import difflib
import gc
import hashlib
import marshal
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from mipc.catalog.models import Catalog, Model, load_catalog
from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.csv_cells import Cells, RowSink
from mipc.inventory.csv_columns import (
    ADDRESS,
    CSV_LAYER,
    LOCATION,
    MANUFACTURER,
    MODEL,
    NAME,
    PROXY_GROUP,
    TEMPLATE,
    TYPE,
    Layout,
    appearance_columns,
    number_of,
)
from mipc.inventory.csv_header import Header, read_header
from mipc.inventory.csv_text import list_bytes, records, restore
from mipc.model import EMPTY, AppearanceSpec, PhoneSpec, Setting, Template

__all__ = [
    "PhoneList",
    "ReadOptions",
    "TemplateFacts",
    "parse_phone_list",
    "parse_phone_list_bytes",
    "read_phone_list",
    "template_facts",
]

_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]|\.\.")


@dataclass(frozen=True)
class TemplateFacts:
    """What the reader needs to know of a template: its effective manufacturer and model."""

    manufacturer: str | None
    model: str | None = None


@dataclass(frozen=True)
class ReadOptions:
    """What a list is checked against.

    ``templates`` maps template names to their manufacturer (or :class:`TemplateFacts`); with
    it, unknown templates are row errors and labels on non-Polycom templates are dropped.
    ``groups`` (registration group names), when given, makes an unknown Proxy Group a row
    error; so do ``locations`` (location names) an unknown Location. The keep-the-value
    warnings (vendor prefix against the manufacturer, end-of-life model) are given only with
    ``doubts=True`` (``import-csv``); at build time the rules stage gives them for every
    phone. ``catalog`` defaults to the built-in one. ``digests=True`` gives each record's
    :func:`row_digest` (:attr:`PhoneList.rows`), which the incremental state keeps.
    """

    catalog: Catalog | None = None
    templates: Mapping[str, str | TemplateFacts] | None = None
    groups: Collection[str] | None = None
    doubts: bool = False
    locations: Collection[str] | None = None
    digests: bool = False


@dataclass
class PhoneList:
    """The outcome of reading one list."""

    phones: list[PhoneSpec] = field(default_factory=list)
    layout: Layout | None = None
    severe: bool = False
    """True when the list could not be read at all (nothing imported)."""
    unreadable: bool = False
    """True when the severe error was an I/O problem (exit code 2)."""
    rejected_rows: list[int] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","
    rows: tuple[bytes, ...] = ()
    """A digest of each record (the header and blank ones too), in order: :func:`row_digest`
    (when asked for: ``ReadOptions.digests``, or which rows to read)."""
    header_row: int = -1
    """The index of the header's record (from 0), once found."""


# --- reading ------------------------------------------------------------------------------


def read_phone_list(
    path: Path, shown: str, diags: Diagnostics, options: ReadOptions | None = None
) -> list[PhoneSpec]:
    """The phones of one CSV list; problems are added to ``diags`` at ``shown:row:column``."""
    return parse_phone_list(path, shown, diags, options).phones


def parse_phone_list(
    path: Path,
    shown: str,
    diags: Diagnostics,
    options: ReadOptions | None = None,
    wanted: Callable[[int, bytes], bool] | None = None,
) -> PhoneList:
    """Like :func:`read_phone_list`, with the layout, severity and rejected rows (``wanted``:
    see :func:`parse_phone_list_bytes`)."""
    raw = list_bytes(path, shown, diags)
    if not isinstance(raw, bytes):
        return PhoneList(severe=True, unreadable=raw is not None)
    return parse_phone_list_bytes(raw, shown, diags, options, wanted)


def row_digest(record: list[str]) -> bytes:
    """A digest of one record of a list, its cells as they are: while a row's digest and
    number stay, so does what it reads as."""
    return hashlib.blake2b(marshal.dumps(record), digest_size=16).digest()


def parse_phone_list_bytes(
    raw: bytes,
    shown: str,
    diags: Diagnostics,
    options: ReadOptions | None = None,
    wanted: Callable[[int, bytes], bool] | None = None,
) -> PhoneList:
    """Read a list from its bytes (see :func:`read_phone_list`); ``wanted``, when given, says
    which records after the header to read (by index, from 0, and :func:`row_digest`): the
    others are neither read nor checked."""
    found = records(raw, shown, diags)
    if found is None:
        return PhoneList(severe=True)
    rows = found.rows
    digested = wanted is not None or (options is not None and options.digests)
    digests = tuple(map(row_digest, rows)) if digested else ()
    result = PhoneList(encoding=found.encoding, delimiter=found.delimiter, rows=digests)
    header_at = next((i for i, r in enumerate(rows) if not _blank(r)), None)
    if header_at is None:
        diags.error(
            "empty-list",
            "the file has no header row and no phones",
            Position(shown, 1, column_name=""),
        )
        result.severe = True
        return result
    result.header_row = header_at
    header = read_header(rows[header_at], header_at + 1, shown, diags)
    if header is None:
        result.severe = True
        return result
    result.layout = header.layout
    reader = _Rows(header, RowSink(shown, diags, header.written), options or ReadOptions())
    # The rows make many small acyclic objects: the cyclic collector only slows them down.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for i in range(header_at + 1, len(rows)):
            if not _blank(rows[i]) and (wanted is None or wanted(i, digests[i])):
                reader.read_row(rows[i], i + 1)
    finally:
        if collecting:
            gc.enable()
    result.phones = reader.phones
    result.rejected_rows = reader.sink.rejected
    return result


def _blank(record: list[str]) -> bool:
    return not "".join(record).strip()


class _Rows:
    """The rows of one list after its header: each read into a phone, or rejected."""

    def __init__(self, header: Header, sink: RowSink, options: ReadOptions) -> None:
        self.header = header
        self.sink = sink
        self.cells = Cells(options.catalog or load_catalog(), sink, options.doubts)
        self.templates: dict[str, TemplateFacts] | None = None
        if options.templates is not None:
            self.templates = {
                name: facts if isinstance(facts, TemplateFacts) else TemplateFacts(facts)
                for name, facts in options.templates.items()
            }
        self.groups = set(options.groups) if options.groups is not None else None
        self.locations = set(options.locations) if options.locations is not None else None
        numbered = (number_of(column) for column, _ in header.columns)
        self.numbers = (1, *sorted({n for n in numbered if n is not None}))
        self.numbered = appearance_columns(1)
        self.phones: list[PhoneSpec] = []
        self.names: dict[str, int] = {}
        self.macs: dict[str, int] = {}
        self.computers: dict[str, int] = {}
        self.extensions: dict[str, int] = {}
        self.name_column = header.written.get(NAME, NAME)
        self.address_column = header.written.get(ADDRESS, ADDRESS)

    def read_row(self, record: list[str], row: int) -> None:
        """Read one row into a phone, or reject it."""
        values = self._values(record, row)
        name = self._name(values.get(NAME), row)
        if name is None:
            return
        template = values.get(TEMPLATE)
        if template is None and self.header.layout == "template":
            self.sink.reject(row, TEMPLATE, "missing-template", "Template is required")
            return
        facts = self._template(template, row)
        if facts is None:
            return
        layer: dict[str, Setting] = {}
        manufacturer = facts.manufacturer
        model: Model | None = None
        if facts.model is not None and manufacturer is not None:
            model = self.cells.find_model(facts.model, manufacturer)
        if template is None or TYPE in values or MANUFACTURER in values or MODEL in values:
            tmm = self.cells.read_tmm(values, row, required=template is None)
            if tmm is None:
                return
            layer.update(tmm.layer)
            manufacturer = tmm.manufacturer or manufacturer
            model = tmm.model or model
        if not self._group(values.get(PROXY_GROUP), row, layer):
            return
        location = values.get(LOCATION)
        if not self._location(location, row):
            return
        address = self.cells.read_address(values.get(ADDRESS), row, manufacturer, model)
        appearances = tuple(
            a
            for n in self.numbers
            if (a := self.cells.read_appearance(values, row, manufacturer, n)) is not None
        )
        if self._unique(name, address, appearances, row):
            phone = self._phone(name, template, layer, address, appearances, row)
            self.phones.append(replace(phone, location=location) if location else phone)

    def _values(self, record: list[str], row: int) -> dict[str, str]:
        """The non-blank values of a row by canonical column (values past the header warned
        about)."""
        width = self.header.width
        if len(record) > width and any(v.strip() for v in record[width:]):
            extra = next(i for i in range(width, len(record)) if record[i].strip())
            self.sink.diags.warning(
                "extra-value",
                f"value {record[extra].strip()!r} is in a column without a header and is ignored",
                Position(self.sink.shown, row, column_name=f"column {_column_letter(extra)}"),
            )
        values: dict[str, str] = {}
        size = len(record)
        for column, index in self.header.columns:
            if index < size:
                value = record[index].strip()
                if value:
                    values[column] = restore(value) if value[0] == "'" else value
        return values

    def _name(self, name: str | None, row: int) -> str | None:
        """The Name cell, or None when the row is rejected."""
        if name is None:
            self.sink.reject(row, NAME, "missing-name", "Name is required")
            return None
        if _BAD_NAME.search(name):
            self.sink.reject(
                row,
                NAME,
                "bad-name",
                f"name {name!r} cannot become a file name (no '/', '\\', '..' or control"
                " characters)",
            )
            return None
        return name

    def _template(self, template: str | None, row: int) -> TemplateFacts | None:
        """What the row's template tells (nothing without one, or when templates are not
        known); None when the template is unknown and the row rejected."""
        if template is None or self.templates is None:
            return _NO_FACTS
        facts = self.templates.get(template)
        if facts is None:
            close = difflib.get_close_matches(template, list(self.templates), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.sink.reject(
                row, TEMPLATE, "unknown-template", f"template {template!r} is not defined{hint}"
            )
        return facts

    def _group(self, group: str | None, row: int, layer: dict[str, Setting]) -> bool:
        """Put the Proxy Group cell in ``layer``; False when the group is unknown."""
        if group is None:
            return True
        if self.groups is not None and group not in self.groups:
            close = difflib.get_close_matches(group, list(self.groups), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.sink.reject(
                row,
                PROXY_GROUP,
                "unknown-registration-group",
                f"registration group {group!r} is not defined{hint}",
            )
            return False
        layer["registration_group"] = Setting(group, CSV_LAYER, self.sink.pos(row, PROXY_GROUP))
        return True

    def _location(self, location: str | None, row: int) -> bool:
        """Whether the Location cell names a known location (or is empty)."""
        if location is None or self.locations is None or location in self.locations:
            return True
        close = difflib.get_close_matches(location, list(self.locations), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        self.sink.reject(
            row, LOCATION, "unknown-location", f"location {location!r} is not defined{hint}"
        )
        return False

    def _unique(
        self, name: str, address: str | None, appearances: tuple[AppearanceSpec, ...], row: int
    ) -> bool:
        """Whether name, address and extension are new in the list (then they are taken)."""
        folded = name.casefold()
        first = self.names.get(folded)
        if first is not None:
            self._duplicate(row, NAME, "duplicate-name", f"name {name!r}", first)
            return False
        mac = address is not None and ":" in address  # a MAC as read_address formats it
        taken = self.macs if mac else self.computers
        key = ""
        if address is not None:
            key = address if mac else address.casefold()
            first = taken.get(key)
            if first is not None:
                code = "duplicate-mac" if mac else "duplicate-computer-name"
                what = f"MAC {address}" if mac else f"computer name {address!r}"
                self._duplicate(row, ADDRESS, code, what, first)
                return False
        if not self._new_extensions(appearances, row):
            return False
        self.names[folded] = row
        if address is not None:
            taken[key] = row
        return True

    def _new_extensions(self, appearances: tuple[AppearanceSpec, ...], row: int) -> bool:
        """Whether the row's extensions are new in the list (then they are taken)."""
        mine: dict[str, int] = {}
        for app in appearances:
            ext = app.extension or ""
            first = self.extensions.get(ext, row if ext in mine else None)
            if first is not None:
                column = app.position.column_name if app.position else self.numbered[0]
                self._duplicate(row, column, "duplicate-extension", f"extension {ext!r}", first)
                return False
            mine[ext] = row
        self.extensions.update(mine)
        return True

    def _duplicate(self, row: int, column: str, code: str, what: str, first: int) -> None:
        self.sink.reject(row, column, code, f"{what} is already used in row {first}")

    def _phone(
        self,
        name: str,
        template: str | None,
        layer: dict[str, Setting],
        address: str | None,
        appearances: tuple[AppearanceSpec, ...],
        row: int,
    ) -> PhoneSpec:
        """The phone entry of an accepted row."""
        return PhoneSpec(
            name=name,
            template=template,
            location=None,
            address=address,
            appearances=appearances,
            layer=MappingProxyType(layer) if layer else EMPTY,
            position=Position(self.sink.shown, row, 0, self.name_column),
            origin="csv",
            address_position=(
                Position(self.sink.shown, row, 0, self.address_column)
                if address is not None
                else None
            ),
        )


_NO_FACTS = TemplateFacts(None)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# --- templates ----------------------------------------------------------------------------


def template_facts(templates: Mapping[str, Template]) -> dict[str, TemplateFacts]:
    """Each template's effective manufacturer and model, following ``extends`` (cycles and
    unknown parents simply stop the walk: the rules stage reports them)."""
    out: dict[str, TemplateFacts] = {}
    for name in templates:
        maker: str | None = None
        model: str | None = None
        seen: set[str] = set()
        current: str | None = name
        while current is not None and current in templates and current not in seen:
            seen.add(current)
            layer = templates[current].layer
            if maker is None and "manufacturer" in layer:
                maker = str(layer["manufacturer"].value)
            if model is None and "model" in layer:
                model = str(layer["model"].value)
            current = templates[current].extends
        out[name] = TemplateFacts(maker, model)
    return out
