"""The load stage: read an inventory (one YAML file or a directory of them) into one document.

YAML is read from parser events, not with a constructor, so that:

- every value keeps its file, line and column (the source map);
- plain scalars stay the text written (``10:20:30:40:50:59``, ``0123``, ``on``); the validate
  stage turns them into numbers or booleans only where the schema wants one;
- duplicate keys are errors, and anchors/aliases are refused before anything is expanded, so an
  alias bomb costs nothing;
- no tag can construct an object;
- a document nested deeper than :data:`MAX_DEPTH` is refused while its events are read,
  before any later stage recurses into it;
- a key or a value holding a character XML 1.0 cannot hold (control characters other than tab
  and newlines, U+FFFE, U+FFFF, lone surrogates) is an error naming its path, so no renderer
  ever sees one.

Takes an inventory file or folder; gives a :class:`Document` (data with the position of every
value and key), or raises :class:`mipc.diagnostics.InputError` with every problem found. Never
imports the model, the catalog or the later stages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from mipc.diagnostics import Diagnostics, InputError, Position

MAX_FILE_BYTES = 50 * 1024 * 1024
#: How deep mappings and lists may nest (an inventory needs about eight levels).
MAX_DEPTH = 64
#: A character XML 1.0 cannot hold (its ``Char`` production), so no phone file can either.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NULLS = frozenset({"", "~", "null", "Null", "NULL"})
STR_TAGS = frozenset({"!!str", "tag:yaml.org,2002:str"})
# Sections whose entries are named mappings, merged across the files of a directory.
NAMED_SECTIONS = ("lines", "managed_proxies", "registration_groups", "locations", "templates")
SINGLE_SECTIONS = ("mipc", "site", "defaults", "firmware")
LIST_SECTIONS = ("phones", "phone_lists")

JsonPath = tuple[str | int, ...]

try:
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader


class PlainStr(str):
    """A plain (unquoted) YAML scalar: text that the schema may read as a number or boolean."""

    __slots__ = ()


@dataclass
class Document:
    """One inventory: the data, and the position of every value and every mapping key."""

    data: dict[str, Any] = field(default_factory=dict)
    positions: dict[JsonPath, Position] = field(default_factory=dict)
    key_positions: dict[JsonPath, Position] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    root: Path = Path(".")
    #: each file's text as parsed (its path → its name in positions, its text)
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)

    def position(self, path: JsonPath) -> Position | None:
        """The position of a value, or of the nearest enclosing value that has one."""
        while True:
            pos = self.positions.get(path)
            if pos is not None or not path:
                return pos
            path = path[:-1]


def json_path(path: JsonPath) -> str:
    """A path as diagnostics show it: ``$.phones[3].name``."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "[" + repr(part) + "]"
    return out


def display_name(path: Path, root: Path) -> str:
    """How diagnostics name a file of the inventory: relative to its folder."""
    try:
        return path.relative_to(root).as_posix() if root != path else path.name
    except ValueError:
        return path.as_posix()


def read_text(path: Path, shown: str, diags: Diagnostics, what: str = "file") -> str | None:
    """Read a UTF-8 text file (a BOM is fine) with the size, binary and encoding checks."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            diags.error(
                "file-too-large",
                f"{what} is {size // (1024 * 1024)} MiB, over the {MAX_FILE_BYTES // (1024 * 1024)}"
                " MiB limit; split it into several files",
                Position(shown),
            )
            return None
        raw = path.read_bytes()
    except OSError as exc:
        diags.error("unreadable", f"cannot read {what}: {exc.strerror or exc}", Position(shown))
        return None
    if b"\0" in raw[:8192] or b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        diags.error(
            "binary-file",
            f"this is a binary file, not a text {what}; check the file name",
            Position(shown, line, 1),
        )
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        diags.error(
            "not-utf8",
            f"byte 0x{raw[exc.start]:02x} is not UTF-8; save the file as UTF-8",
            Position(shown, line, col),
        )
        return None


class _YamlAbort(Exception):
    pass


def _tab_near(text: str, mark: Any) -> bool:
    lines = text.splitlines()
    if mark.line >= len(lines):
        return False
    line = lines[mark.line]
    return (
        "\t" in line[: mark.column + 1]
        or (line.strip() == "" and "\t" in line)
        or line.lstrip(" ").startswith("\t")
    )


def _pos(shown: str, mark: Any) -> Position:
    return Position(shown, mark.line + 1, mark.column + 1)


def parse_yaml(text: str, shown: str, diags: Diagnostics) -> Document | None:
    """Parse one YAML text into a Document, or report why it cannot be read."""
    doc = Document()
    try:
        events = yaml.parse(text, Loader=_Loader)
        value = _build(iter(events), shown, doc, diags)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is not None and _tab_near(text, mark):
            message = "a tab character cannot indent YAML; indent with spaces"
        else:
            message = f"YAML syntax error: {problem}; fix the syntax at this place"
        diags.error("yaml-syntax", message, _pos(shown, mark) if mark else Position(shown))
        return None
    except yaml.YAMLError as exc:
        diags.error("yaml-syntax", f"YAML syntax error: {exc}", Position(shown))
        return None
    except _YamlAbort:
        return None
    if value is None:
        value = {}
    if not isinstance(value, dict):
        diags.error(
            "not-a-mapping",
            "an inventory file must be a mapping of sections (site:, templates:, phones: ...)",
            doc.positions.get((), Position(shown, 1, 1)),
        )
        return None
    doc.data = value
    return doc


def _build(events: Iterator[Any], shown: str, doc: Document, diags: Diagnostics) -> Any:
    """The value of the one document of a YAML stream (more than one is an error)."""
    tree = _Tree(events, shown, doc, diags)
    result: Any = None
    documents = 0
    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                tree.abort(
                    "multiple-documents",
                    "one inventory file holds one YAML document; remove the '---' separator"
                    " or split the file",
                    _pos(shown, event.start_mark),
                )
        elif isinstance(event, yaml.NodeEvent):
            result = tree.node(event, ())
    return result


class _Tree:
    """Builds values from parser events, recording the position of each value and key."""

    def __init__(
        self, events: Iterator[Any], shown: str, doc: Document, diags: Diagnostics
    ) -> None:
        self.events = events
        self.shown = shown
        self.positions = doc.positions
        self.key_positions = doc.key_positions
        self.diags = diags

    def abort(self, code: str, message: str, position: Position, path: str = "") -> NoReturn:
        """Report an error that stops reading the file."""
        self.diags.error(code, message, position, path)
        raise _YamlAbort

    def node(self, event: Any, path: JsonPath) -> Any:
        """The value of the node that starts with ``event``, at ``path``."""
        position = _pos(self.shown, event.start_mark)
        self.positions[path] = position
        if len(path) > MAX_DEPTH:
            self.abort(
                "too-deep",
                f"mappings and lists nest more than {MAX_DEPTH} levels deep here; an inventory"
                " needs a few levels: flatten this value",
                position,
            )
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            self.abort(
                "yaml-anchor",
                "YAML anchors and aliases (&name / *name) are not supported; share settings"
                " with templates (extends:), locations (parent:) or defaults:",
                position,
            )
        tag = getattr(event, "tag", None)
        if isinstance(event, yaml.ScalarEvent):
            if tag is not None and tag not in STR_TAGS and tag != "!":
                self.abort("yaml-tag", f"YAML tag {tag} is not supported; remove it", position)
            if NOT_XML.search(event.value):
                self.not_xml(event.value, position, path)
            if event.implicit[0] and tag is None:
                return None if event.value in NULLS else PlainStr(event.value)
            return str(event.value)
        if tag is not None:
            self.abort("yaml-tag", f"YAML tag {tag} is not supported; remove it", position)
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            for child in self.events:
                if isinstance(child, yaml.SequenceEndEvent):
                    return items
                items.append(self.node(child, (*path, len(items))))
            raise _YamlAbort  # pragma: no cover - the parser always closes sequences
        if isinstance(event, yaml.MappingStartEvent):
            return self._mapping(path)
        raise _YamlAbort  # pragma: no cover

    def _mapping(self, path: JsonPath) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        events = self.events
        for key_event in events:
            if isinstance(key_event, yaml.MappingEndEvent):
                return mapping
            key_pos = _pos(self.shown, key_event.start_mark)
            if (
                not isinstance(key_event, yaml.ScalarEvent)
                or key_event.anchor
                or key_event.value == "<<"
                or key_event.value in mapping
            ):
                self._check_key(key_event, key_pos, path)
            key = str(key_event.value)
            child_path = (*path, key)
            self.key_positions[child_path] = key_pos
            if NOT_XML.search(key):
                self.not_xml(key, key_pos, child_path)
            mapping[key] = self.node(next(events), child_path)
        raise _YamlAbort  # pragma: no cover

    def not_xml(self, text: str, position: Position, path: JsonPath) -> None:
        """Report a key or value holding a character no phone file can hold."""
        bad = NOT_XML.search(text)
        code = ord(bad.group()) if bad else 0
        self.diags.error(
            "bad-character",
            f"U+{code:04X} is a character phone files cannot hold (XML 1.0 forbids it); remove it",
            position,
            json_path(path),
        )

    def _check_key(self, key_event: Any, key_pos: Position, path: JsonPath) -> None:
        """Stop at a key that is not plain text, a merge key or a key seen before in its
        mapping (a quoted ``"<<"`` is a plain key)."""
        if not isinstance(key_event, yaml.ScalarEvent) or key_event.anchor:
            self.abort(
                "yaml-key", "a mapping key must be plain text (no lists, maps or anchors)", key_pos
            )
        key = str(key_event.value)
        if key == "<<" and key_event.implicit[0]:
            self.abort(
                "yaml-anchor",
                "YAML merge keys (<<) are not supported; use extends:, parent: or defaults:",
                key_pos,
            )
        child_path = (*path, key)
        first = self.key_positions.get(child_path)
        if first is not None:
            self.abort(
                "duplicate-key",
                f"key {key!r} appears twice in one mapping (first at line {first.line});"
                " remove one",
                key_pos,
                json_path(child_path),
            )


def inventory_files(target: Path) -> tuple[Path, list[Path]]:
    """The root folder and the YAML files of an inventory, in sorted order."""
    if target.is_dir():
        files = sorted(
            p
            for p in target.iterdir()
            if p.suffix in (".yaml", ".yml") and p.is_file() and not p.name.startswith(".")
        )
        return target, files
    return target.parent, [target]


def load_inventory(target: Path) -> Document:
    """Load and merge an inventory; raise InputError with every problem found."""
    diags = Diagnostics()
    if not target.exists():
        diags.error(
            "no-inventory",
            f"{target} does not exist; give an inventory file or folder",
            Position(str(target)),
        )
        raise InputError(diags)
    root, files = inventory_files(target)
    if not files:
        diags.error(
            "no-inventory",
            "no *.yaml or *.yml file here; run 'mipc init DIR' to start an inventory",
            Position(str(target)),
        )
        raise InputError(diags)
    merged = Document(root=root, files=files)
    for path in files:
        shown = display_name(path, root) if target.is_dir() else path.as_posix()
        text = read_text(path, shown, diags, "inventory file")
        if text is None:
            continue
        merged.texts[str(path)] = (shown, text)
        doc = parse_yaml(text, shown, diags)
        if doc is not None:
            _merge(merged, doc, diags)
    if diags.errors:
        raise InputError(diags)
    return merged


def _merge(into: Document, doc: Document, diags: Diagnostics) -> None:
    remap: dict[tuple[str, int], int] = {}
    for section, value in doc.data.items():
        if section in LIST_SECTIONS and isinstance(value, list):
            existing = into.data.setdefault(section, [])
            if not isinstance(existing, list):
                continue
            for i in range(len(value)):
                remap[(section, i)] = len(existing) + i
            existing.extend(value)
            into.positions.setdefault((section,), doc.positions[(section,)])
            continue
        if (
            section in into.data
            and (section in NAMED_SECTIONS or section in SINGLE_SECTIONS)
            and isinstance(value, dict)
            and isinstance(into.data[section], dict)
        ):
            target = into.data[section]
            for name, entry in value.items():
                if name in target:
                    first = into.key_positions[(section, name)]
                    kind = "entry" if section in SINGLE_SECTIONS else "name"
                    diags.error(
                        "duplicate-name",
                        f"{section} {kind} {name!r} is defined twice (also at {first});"
                        " keep one definition",
                        doc.key_positions[(section, name)],
                        json_path((section, name)),
                    )
                else:
                    target[name] = entry
            continue
        if section in into.data:
            diags.error(
                "duplicate-name",
                f"section {section!r} is defined twice (also at"
                f" {into.key_positions[(section,)]}); keep one",
                doc.key_positions[(section,)],
            )
            continue
        into.data[section] = value
    # Only the list entries that follow an earlier file's entries change their path.
    moved = {key: index for key, index in remap.items() if key[1] != index}
    for table, out in ((doc.positions, into.positions), (doc.key_positions, into.key_positions)):
        for path, pos in table.items():
            if moved and len(path) >= 2 and (path[0], path[1]) in moved:
                key = (str(path[0]), int(path[1]))
                path = (path[0], moved[key], *path[2:])
            out.setdefault(path, pos)
