"""CSV phone lists: the guide's two bulk layouts, read as administrators really save them.

The CIC guide ("Create CSV Managed IP Phone Lists") defines two layouts:

- the **template list**: ``Name, Template, Proxy Group, Extension, Identification Address,
  Label, Address``;
- the **TMM list**: ``Name, Type, Manufacturer, Model, Proxy Group, Extension,
  Identification Address, Label, Address``.

mipc adds a **normalised** layout, the union of both (``Name, Template, Type, Manufacturer,
Model, Proxy Group, Extension, Identification Address, Label, Address``), which
``mipc import-csv`` writes into an inventory: one phone per line, sorted by name, stable.

Reading (:func:`read_phone_list`, :func:`parse_phone_list`):

- the layout is detected from the header; columns are matched by name (any order, case and
  surrounding spaces ignored), never by position; unknown columns are warned about and ignored;
- UTF-8 with or without a BOM, else cp1252; ``,`` or ``;`` (or tab) delimiter, sniffed from
  the header line; CRLF or LF; quoted fields; blank lines and trailing separators ignored;
- rows are numbered as a spreadsheet shows them (the header is row 1), and every diagnostic is
  placed at ``file:row:column-name``.

Severities follow the guide. A *warning* either drops a value that cannot be verified (a
malformed MAC, a label on a non-Polycom phone) or keeps a doubtful one (a MAC whose vendor
prefix does not fit the manufacturer, an end-of-life model). A *row error* (missing required
field, unknown template, manufacturer or model, duplicate within the list) skips the row. A
*severe* error (unreadable file, no recognisable header) stops the list: no phone is returned.
"""

from __future__ import annotations

import csv
import difflib
import gc
import io
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from mipc.catalog.addresses import (
    format_mac,
    is_computer_name,
    looks_like_mac,
    mac_problem,
    normalize_mac,
)
from mipc.catalog.models import Catalog, Model, load_catalog
from mipc.diagnostics import Diagnostics, Position
from mipc.model import EMPTY, AppearanceSpec, PhoneSpec, Setting, Template

__all__ = [
    "COLUMNS",
    "LAYOUTS",
    "Layout",
    "PhoneList",
    "parse_phone_list",
    "phone_row",
    "read_phone_list",
    "template_facts",
    "write_phone_list",
]

Layout = Literal["template", "tmm", "normalised"]
LAYOUTS: tuple[Layout, ...] = ("template", "tmm", "normalised")

NAME = "Name"
TEMPLATE = "Template"
TYPE = "Type"
MANUFACTURER = "Manufacturer"
MODEL = "Model"
PROXY_GROUP = "Proxy Group"
EXTENSION = "Extension"
IDENT = "Identification Address"
LABEL = "Label"
ADDRESS = "Address"

COLUMNS: Mapping[Layout, tuple[str, ...]] = MappingProxyType(
    {
        "template": (NAME, TEMPLATE, PROXY_GROUP, EXTENSION, IDENT, LABEL, ADDRESS),
        "tmm": (NAME, TYPE, MANUFACTURER, MODEL, PROXY_GROUP, EXTENSION, IDENT, LABEL, ADDRESS),
        "normalised": (
            NAME,
            TEMPLATE,
            TYPE,
            MANUFACTURER,
            MODEL,
            PROXY_GROUP,
            EXTENSION,
            IDENT,
            LABEL,
            ADDRESS,
        ),
    }
)
_KNOWN = COLUMNS["normalised"]
# Header spellings accepted besides the canonical names (after case and space folding).
_ALIASES = {"registration group": PROXY_GROUP}
_TMM = (TYPE, MANUFACTURER, MODEL)

MAX_LIST_BYTES = 200 * 1024 * 1024
CSV_LAYER = "csv"

_TYPES = {
    "workstation": "workstation",
    "stand-alone phone": "stand-alone",
    "stand-alone": "stand-alone",
    "standalone phone": "stand-alone",
    "standalone": "stand-alone",
    "stand alone phone": "stand-alone",
    "stand alone": "stand-alone",
}
TYPE_SPELLING = {"workstation": "Workstation", "stand-alone": "Stand-alone Phone"}
_SPACES = re.compile(r"\s+")
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]|\.\.")
_SIP_URI = re.compile(r"\A\s*sips?\s*:\s*([^@\s]+)\s*@[^@]*\Z", re.IGNORECASE)
_USER_PART = re.compile(r"\A[^@\s:;,<>\"]+\Z")


def _fold(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


_BY_FOLDED = {_fold(c): c for c in _KNOWN} | _ALIASES


@dataclass(frozen=True)
class TemplateFacts:
    """What the reader needs to know of a template: its effective manufacturer and model."""

    manufacturer: str | None
    model: str | None = None


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


# --- reading ------------------------------------------------------------------------------


def read_phone_list(
    path: Path,
    shown: str,
    diags: Diagnostics,
    *,
    catalog: Catalog | None = None,
    templates: Mapping[str, str | TemplateFacts] | None = None,
    groups: Collection[str] | None = None,
    doubts: bool = False,
) -> list[PhoneSpec]:
    """The phones of one CSV list; problems are added to ``diags`` at ``shown:row:column``.

    ``templates`` maps template names to their manufacturer (or :class:`TemplateFacts`); with
    it, unknown templates are row errors and labels on non-Polycom templates are dropped.
    ``groups`` (registration group names), when given, makes an unknown Proxy Group a row
    error. The keep-the-value warnings (vendor prefix against the manufacturer, end-of-life
    model) are given only with ``doubts=True`` (``import-csv``); at build time the rules stage
    gives them for every phone.
    """
    return parse_phone_list(
        path, shown, diags, catalog=catalog, templates=templates, groups=groups, doubts=doubts
    ).phones


def parse_phone_list(
    path: Path,
    shown: str,
    diags: Diagnostics,
    *,
    catalog: Catalog | None = None,
    templates: Mapping[str, str | TemplateFacts] | None = None,
    groups: Collection[str] | None = None,
    doubts: bool = False,
) -> PhoneList:
    """Like :func:`read_phone_list`, with the layout, severity and rejected rows."""
    result = PhoneList()
    try:
        size = path.stat().st_size
        if size > MAX_LIST_BYTES:
            diags.error(
                "file-too-large",
                f"phone list is {size // (1024 * 1024)} MiB, over the"
                f" {MAX_LIST_BYTES // (1024 * 1024)} MiB limit; split it into several lists",
                Position(shown),
            )
            result.severe = True
            return result
        raw = path.read_bytes()
    except OSError as exc:
        diags.error("unreadable", f"cannot read phone list: {exc.strerror or exc}", Position(shown))
        result.severe = result.unreadable = True
        return result
    return parse_phone_list_bytes(
        raw,
        shown,
        diags,
        catalog=catalog,
        templates=templates,
        groups=groups,
        doubts=doubts,
        result=result,
    )


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


def parse_phone_list_bytes(
    raw: bytes,
    shown: str,
    diags: Diagnostics,
    *,
    catalog: Catalog | None = None,
    templates: Mapping[str, str | TemplateFacts] | None = None,
    groups: Collection[str] | None = None,
    doubts: bool = False,
    result: PhoneList | None = None,
) -> PhoneList:
    """Read a list from its bytes (see :func:`read_phone_list`)."""
    result = result if result is not None else PhoneList()
    if b"\0" in raw:
        diags.error(
            "binary-file",
            "this is a binary file, not a CSV phone list; save the sheet as CSV",
            Position(shown),
        )
        result.severe = True
        return result
    decoded = decode(raw)
    if decoded is None:
        diags.error("not-text", "the file is neither UTF-8 nor Windows-1252 text", Position(shown))
        result.severe = True
        return result
    text, result.encoding = decoded
    first = next((line for line in text.splitlines() if line.strip(" \t,;")), "")
    result.delimiter = sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=result.delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        diags.error(
            "csv-syntax",
            f"CSV syntax error near row {reader.line_num}: {exc}; check the quotes",
            Position(shown, reader.line_num, column_name=""),
        )
        result.severe = True
        return result
    reader_ = _Reader(shown, diags, catalog or load_catalog(), templates, groups, doubts, result)
    # The rows make many small acyclic objects: the cyclic collector only slows them down.
    collecting = gc.isenabled()
    gc.disable()
    try:
        reader_.run(records)
    finally:
        if collecting:
            gc.enable()
    return result


def _blank(record: list[str]) -> bool:
    return not "".join(record).strip()


class _Reader:
    """One pass over the records of a list."""

    def __init__(
        self,
        shown: str,
        diags: Diagnostics,
        catalog: Catalog,
        templates: Mapping[str, str | TemplateFacts] | None,
        groups: Collection[str] | None,
        doubts: bool,
        result: PhoneList,
    ) -> None:
        self.shown = shown
        self.diags = diags
        self.catalog = catalog
        self.templates: dict[str, TemplateFacts] | None = None
        if templates is not None:
            self.templates = {
                name: facts if isinstance(facts, TemplateFacts) else TemplateFacts(facts)
                for name, facts in templates.items()
            }
        self.groups = set(groups) if groups is not None else None
        self.doubts = doubts
        self.result = result
        self.makers = {m.casefold(): m for m in catalog.manufacturers}
        self.header: dict[str, tuple[int, str]] = {}  # canonical -> (index, as written)
        self.written: dict[str, str] = {}  # canonical -> header as written
        self.type_cache: dict[str, str | None] = {}
        self.maker_cache: dict[str, str | None] = {}
        self.names: dict[str, int] = {}
        self.macs: dict[str, int] = {}
        self.computers: dict[str, int] = {}
        self.extensions: dict[str, int] = {}
        self.model_cache: dict[tuple[str, str], Model | None] = {}
        # Once the header is read: (canonical, index) of each column; how three are written.
        self.columns: list[tuple[str, int]] = []
        self.name_column = self.extension_column = self.address_column = ""

    # --- header ---------------------------------------------------------------------------

    def run(self, records: list[list[str]]) -> None:
        header_at = next((i for i, r in enumerate(records) if not _blank(r)), None)
        if header_at is None:
            self.severe("empty-list", "the file has no header row and no phones", 1)
            return
        header_row = header_at + 1
        if not self.read_header(records[header_at], header_row):
            return
        width = max(i for i, cell in enumerate(records[header_at]) if cell.strip()) + 1
        self.columns = [(column, index) for column, (index, _) in self.header.items()]
        self.name_column = self.written.get(NAME, NAME)
        self.extension_column = self.written.get(EXTENSION, EXTENSION)
        self.address_column = self.written.get(ADDRESS, ADDRESS)
        for i in range(header_at + 1, len(records)):
            record = records[i]
            if _blank(record):
                continue
            self.read_row(record, i + 1, width)

    def severe(self, code: str, message: str, row: int, column: str = "") -> None:
        self.diags.error(code, message, Position(self.shown, row, column_name=column))
        self.result.severe = True

    def read_header(self, record: list[str], row: int) -> bool:
        seen: dict[str, str] = {}
        for index, cell in enumerate(record):
            written = cell.strip()
            if not written:
                continue
            canonical = _BY_FOLDED.get(_fold(written))
            if canonical is None:
                close = difflib.get_close_matches(_fold(written), list(_BY_FOLDED), n=1)
                hint = f"; did you mean {_BY_FOLDED[close[0]]!r}?" if close else ""
                self.diags.warning(
                    "unknown-column",
                    f"column {written!r} is not a phone list column and is ignored{hint}",
                    Position(self.shown, row, column_name=written),
                )
                continue
            if canonical in seen:
                self.severe(
                    "duplicate-column",
                    f"column {canonical!r} appears twice (also as {seen[canonical]!r}); keep one",
                    row,
                    written,
                )
                return False
            seen[canonical] = written
            self.header[canonical] = (index, written)
            self.written[canonical] = written
        if NAME not in self.header:
            found = ", ".join(w for _, w in self.header.values()) or "none"
            self.severe(
                "no-header",
                "no recognisable header: the first row must name the columns, with at least"
                f" Name and Template (template list) or Name, Type, Manufacturer and Model"
                f" (TMM list); recognised columns: {found}",
                row,
            )
            return False
        has_tmm = [c for c in _TMM if c in self.header]
        if TEMPLATE in self.header:
            self.result.layout = "normalised" if has_tmm else "template"
        elif len(has_tmm) == len(_TMM):
            self.result.layout = "tmm"
        else:
            missing = ", ".join(c for c in _TMM if c not in self.header)
            self.severe(
                "no-header",
                "no recognisable header: a list needs a Template column (template list) or"
                f" Type, Manufacturer and Model columns (TMM list); missing: {missing}",
                row,
            )
            return False
        return True

    # --- rows -----------------------------------------------------------------------------

    def pos(self, row: int, column: str) -> Position:
        return Position(self.shown, row, 0, self.written.get(column, column))

    def reject(self, row: int, column: str, code: str, message: str) -> None:
        self.diags.error(code, f"{message}; row not imported", self.pos(row, column))
        self.result.rejected_rows.append(row)

    def warn(self, row: int, column: str, code: str, message: str) -> None:
        self.diags.warning(code, message, self.pos(row, column))

    def read_row(self, record: list[str], row: int, width: int) -> None:
        if len(record) > width and any(v.strip() for v in record[width:]):
            extra = next(i for i in range(width, len(record)) if record[i].strip())
            self.diags.warning(
                "extra-value",
                f"value {record[extra].strip()!r} is in a column without a header and is ignored",
                Position(self.shown, row, column_name=f"column {_column_letter(extra)}"),
            )
        values: dict[str, str] = {}
        size = len(record)
        for column, index in self.columns:
            if index < size:
                value = record[index].strip()
                if value:
                    values[column] = value
        name = values.get(NAME)
        if name is None:
            self.reject(row, NAME, "missing-name", "Name is required")
            return
        if _BAD_NAME.search(name):
            self.reject(
                row,
                NAME,
                "bad-name",
                f"name {name!r} cannot become a file name (no '/', '\\', '..' or control"
                " characters)",
            )
            return
        layer: dict[str, Setting] = {}
        manufacturer: str | None = None
        model: Model | None = None
        template = values.get(TEMPLATE)
        if template is None and self.result.layout == "template":
            self.reject(row, TEMPLATE, "missing-template", "Template is required")
            return
        if template is not None and self.templates is not None:
            facts = self.templates.get(template)
            if facts is None:
                close = difflib.get_close_matches(template, list(self.templates), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.reject(
                    row, TEMPLATE, "unknown-template", f"template {template!r} is not defined{hint}"
                )
                return
            manufacturer = facts.manufacturer
            if facts.model is not None and manufacturer is not None:
                model = self.find_model(facts.model, manufacturer)
        if template is None or TYPE in values or MANUFACTURER in values or MODEL in values:
            tmm = self.read_tmm(values, row, required=template is None)
            if tmm is None:
                return
            tmm_layer, tmm_maker, tmm_model = tmm
            layer.update(tmm_layer)
            manufacturer = tmm_maker or manufacturer
            model = tmm_model or model
        group = values.get(PROXY_GROUP)
        if group is not None:
            if self.groups is not None and group not in self.groups:
                close = difflib.get_close_matches(group, list(self.groups), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.reject(
                    row,
                    PROXY_GROUP,
                    "unknown-registration-group",
                    f"registration group {group!r} is not defined{hint}",
                )
                return
            layer["registration_group"] = Setting(group, CSV_LAYER, self.pos(row, PROXY_GROUP))
        address = self.read_address(values.get(ADDRESS), row, manufacturer, model)
        appearance = self.read_appearance(values, row, manufacturer)
        if not self.unique(name, address, appearance, row):
            return
        self.result.phones.append(
            PhoneSpec(
                name=name,
                template=template,
                location=None,
                address=address,
                appearances=(appearance,) if appearance is not None else (),
                layer=MappingProxyType(layer) if layer else EMPTY,
                position=Position(self.shown, row, 0, self.name_column),
                origin="csv",
                address_position=(
                    Position(self.shown, row, 0, self.address_column)
                    if address is not None
                    else None
                ),
            )
        )

    def find_model(self, name: str, manufacturer: str) -> Model | None:
        key = (name, manufacturer)
        if key not in self.model_cache:
            self.model_cache[key] = self.catalog.find_model(name, manufacturer)
        return self.model_cache[key]

    def read_tmm(
        self, values: Mapping[str, str], row: int, *, required: bool
    ) -> tuple[dict[str, Setting], str | None, Model | None] | None:
        layer: dict[str, Setting] = {}
        if required:
            for column in _TMM:
                if column not in values:
                    self.reject(
                        row,
                        column,
                        f"missing-{column.lower()}",
                        f"{column} is required in a list without a template",
                    )
                    return None
        kind = None
        type_text = values.get(TYPE)
        if type_text is not None:
            if type_text not in self.type_cache:
                self.type_cache[type_text] = _TYPES.get(_fold(type_text))
            kind = self.type_cache[type_text]
            if kind is None:
                self.reject(
                    row,
                    TYPE,
                    "bad-type",
                    f"type {type_text!r} is not Workstation or Stand-alone Phone",
                )
                return None
        maker = None
        maker_text = values.get(MANUFACTURER)
        if maker_text is not None:
            if maker_text not in self.maker_cache:
                self.maker_cache[maker_text] = self.makers.get(_fold(maker_text))
            maker = self.maker_cache[maker_text]
            if maker is None:
                close = difflib.get_close_matches(
                    maker_text.casefold(), list(self.makers), n=1, cutoff=0.5
                )
                hint = f"; did you mean {self.makers[close[0]]!r}?" if close else ""
                known = ", ".join(self.catalog.manufacturers)
                self.reject(
                    row,
                    MANUFACTURER,
                    "unknown-manufacturer",
                    f"manufacturer {maker_text!r} is not one of {known}{hint}",
                )
                return None
            layer["manufacturer"] = Setting(maker, CSV_LAYER, self.pos(row, MANUFACTURER))
        model = None
        model_text = values.get(MODEL)
        if model_text is not None:
            if maker is None:
                self.reject(
                    row, MANUFACTURER, "missing-manufacturer", "a Model needs its Manufacturer"
                )
                return None
            model = self.find_model(model_text, maker)
            if model is None:
                close = self.catalog.suggest_models(model_text, maker)
                hint = (
                    "; did you mean "
                    + " or ".join(repr(self.catalog.models[m].display) for m in close[:3])
                    + "?"
                    if close
                    else ""
                )
                self.reject(
                    row,
                    MODEL,
                    "unknown-model",
                    f"{maker} has no model {model_text!r}{hint}",
                )
                return None
            layer["model"] = Setting(model_text, CSV_LAYER, self.pos(row, MODEL))
            if self.doubts and model.eol:
                self.warn(
                    row,
                    MODEL,
                    "end-of-life",
                    f"{model.display} is end of life: Genesys no longer supports it",
                )
        if kind is not None:
            if model is not None and kind not in model.types:
                self.warn(
                    row,
                    TYPE,
                    "workstation-only",
                    f"{model.display} is a workstation only, not a stand-alone phone;"
                    " imported as Workstation",
                )
                kind = model.types[0]
            layer["type"] = Setting(kind, CSV_LAYER, self.pos(row, TYPE))
        return layer, maker, model

    def read_address(
        self, text: str | None, row: int, manufacturer: str | None, model: Model | None
    ) -> str | None:
        if text is None:
            return None
        soft = model is not None and model.family == "softphone"
        hardware = (model is not None and not soft) or (
            manufacturer is not None and manufacturer != "ININ"
        )
        if soft or (not hardware and not looks_like_mac(text)):
            if is_computer_name(text):
                return text
            self.warn(
                row,
                ADDRESS,
                "bad-computer-name",
                f"{text!r} is not a full computer name (such as AgentPC1.lab.local);"
                " imported without an address",
            )
            return None
        mac = _fast_mac(text)
        if mac is None:
            self.warn(
                row,
                ADDRESS,
                "bad-mac",
                f"{mac_problem(text)}; imported without an address",
            )
            return None
        if self.doubts and manufacturer is not None:
            prefixes = self.catalog.mac_prefixes.get(manufacturer, ())
            if prefixes and not any(mac.startswith(p) for p in prefixes):
                owners = [m for m in self.catalog.manufacturer_of_prefix(mac) if m != manufacturer]
                whose = f"the {' and '.join(owners)} prefix" if owners else "a prefix"
                expected = " or ".join(format_mac(p + "000000")[:8] for p in prefixes)
                self.warn(
                    row,
                    ADDRESS,
                    "mac-vendor",
                    f"MAC {format_mac(mac)} has {whose} {format_mac(mac)[:8]}, not {manufacturer}'s"
                    f" ({expected}); check the address",
                )
        return _format_mac(mac)

    def read_appearance(
        self, values: Mapping[str, str], row: int, manufacturer: str | None
    ) -> AppearanceSpec | None:
        extension = values.get(EXTENSION)
        label = values.get(LABEL)
        ident_text = values.get(IDENT)
        ident = None
        if ident_text is not None:
            ident = _user_part(ident_text)
            if ident is None:
                self.warn(
                    row,
                    IDENT,
                    "bad-identification-address",
                    f"{ident_text!r} is neither sip:user@host:port nor a bare user part;"
                    " not imported",
                )
        if label is not None and manufacturer is not None and manufacturer != "Polycom":
            self.warn(
                row,
                LABEL,
                "label-not-polycom",
                f"label {label!r} is not imported: labels are for Polycom phones only, and"
                f" this phone is {manufacturer}",
            )
            label = None
        if extension is None:
            for column, value in ((LABEL, label), (IDENT, ident)):
                if value is not None:
                    self.warn(
                        row,
                        column,
                        "no-extension",
                        f"{column} {value!r} is not imported: the row has no Extension",
                    )
            return None
        return AppearanceSpec(
            kind="private",
            extension=extension,
            label=label,
            identification_address=ident,
            position=Position(self.shown, row, 0, self.extension_column),
        )

    def unique(
        self, name: str, address: str | None, appearance: AppearanceSpec | None, row: int
    ) -> bool:
        folded = name.casefold()
        first = self.names.get(folded)
        if first is not None:
            what = f"name {name!r}"
            self.reject(row, NAME, "duplicate-name", f"{what} is already used in row {first}")
            return False
        mac = address is not None and ":" in address  # a MAC as read_address formats it
        key = ""
        if address is not None:
            key = address if mac else address.casefold()
            first = (self.macs if mac else self.computers).get(key)
            if first is not None:
                code = "duplicate-mac" if mac else "duplicate-computer-name"
                what = f"MAC {address}" if mac else f"computer name {address!r}"
                self.reject(row, ADDRESS, code, f"{what} is already used in row {first}")
                return False
        ext = appearance.extension if appearance is not None else None
        if ext is not None:
            first = self.extensions.get(ext)
            if first is not None:
                what = f"extension {ext!r}"
                self.reject(
                    row, EXTENSION, "duplicate-extension", f"{what} is already used in row {first}"
                )
                return False
        self.names[folded] = row
        if address is not None:
            (self.macs if mac else self.computers)[key] = row
        if ext is not None:
            self.extensions[ext] = row
        return True


# The importer's name for it (normalize_mac used to be slow for the common notations).
_fast_mac = normalize_mac


def _format_mac(mac: str) -> str:
    return f"{mac[0:2]}:{mac[2:4]}:{mac[4:6]}:{mac[6:8]}:{mac[8:10]}:{mac[10:12]}"


def _user_part(text: str) -> str | None:
    """The user part of ``sip:user@host:port`` or a bare user part, else None."""
    match = _SIP_URI.match(text)
    if match:
        return match.group(1)
    stripped = text.strip()
    if stripped.casefold().startswith("sip:"):
        stripped = stripped[4:].strip()
    return stripped if _USER_PART.match(stripped) else None


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


# --- writing ------------------------------------------------------------------------------


def _setting(phone: PhoneSpec, key: str) -> str:
    setting = phone.layer.get(key)
    return "" if setting is None or setting.value is None else str(setting.value)


def phone_row(phone: PhoneSpec) -> dict[str, str]:
    """The normalised-layout cells of a phone (its first private appearance only)."""
    appearance = next((a for a in phone.appearances if a.kind == "private"), None)
    kind = _setting(phone, "type")
    return {
        NAME: phone.name,
        TEMPLATE: phone.template or "",
        TYPE: TYPE_SPELLING.get(kind, kind),
        MANUFACTURER: _setting(phone, "manufacturer"),
        MODEL: _setting(phone, "model"),
        PROXY_GROUP: _setting(phone, "registration_group"),
        EXTENSION: (appearance.extension or "") if appearance else "",
        IDENT: (appearance.identification_address or "") if appearance else "",
        LABEL: (appearance.label or "") if appearance else "",
        ADDRESS: phone.address or "",
    }


def write_phone_list(phones: Iterable[PhoneSpec], layout: Layout) -> str:
    """A CSV list in ``layout``: canonical header, rows sorted by name, minimal quoting, LF.

    Writing the phones read from a list and reading the text again gives the same phones.
    """
    columns = COLUMNS[layout]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    rows = sorted((phone_row(p) for p in phones), key=lambda r: (r[NAME], r[ADDRESS]))
    writer.writerows([row[c] for c in columns] for row in rows)
    return out.getvalue()
