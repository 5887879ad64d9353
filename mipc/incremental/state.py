"""The incremental compile: only the phones whose entries changed since the current release.

A full compile validates and resolves every phone; at 100k phones that alone is most of a
one-phone rebuild. After each build, ``OUT/state.bin`` keeps, for the release ``current``
points to, what the next build and ``diff`` need to compile only what changed:

- a digest of the *context*: everything of the inventory but its phones (the YAML data and
  the source positions of everything but ``phones``);
- per phone: a digest of its entry (the parsed YAML entry or CSV row, positions included),
  where it came from (the YAML files, or one phone list), its identity (address, extensions,
  stations, for the cross-phone checks), its own files, and a digest of what the shared and
  network files take from it (:func:`projection`);
- the phones with shared or external appearances, and the stations shared appearances name;
- the phones that raised a warning first (:attr:`mipc.diagnostics.Diagnostic.subject`, and
  :attr:`mipc.render.stage.Rendered.warned`);
- the manifest's index (:mod:`mipc.release.manifest`), so the next manifest is spliced, not
  rewritten.

:func:`delta` then re-reads only the changed files, finds the phones whose entries differ, and
compiles the context with just those phones. It answers None, and the caller compiles in
full, whenever the shortcut could differ from a full compile in any way: anything but the
inventory's files changed (mipc, templates, custom files, secrets, options); the context
changed; phones were added, removed or renamed; a changed phone shares appearances or is
shared; a changed phone warned before or would warn in a new way; an address, extension or
station now collides; any error; a changed phone's groups, servers, address, family, model,
firmware or custom files changed (the shared and network files would change); or more than
:data:`MAX_CHANGED` phones changed. ``tests/cli/test_incremental.py`` checks, change by
change, that a build through this path is byte for byte the full build's.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mipc import __version__
from mipc.catalog.addresses import normalize_mac
from mipc.diagnostics import Diagnostic, Diagnostics, InputError, Position, Severity
from mipc.incremental.inputs import (
    KEY,
    Inputs,
    Record,
    changed_files,
    file_digest,
    secret_inputs,
    unchanged_but_files,
)
from mipc.inventory.load import Document, display_name, load_inventory
from mipc.model import EffectivePhone, PhoneSpec, Plan
from mipc.release.manifest import MANIFEST, ManifestIndex, entry_value

STATE = "state.bin"
FORMAT = 1
#: More changed phones than this, and the full compile (with its worker processes) is used.
MAX_CHANGED = 2000


# --- what the state keeps per phone -----------------------------------------------------


#: marshal's format 2: later formats write a back-reference for an object seen before in the
#: same dump, so equal values shared differently would give different bytes, and digests.
_STABLE = 2


def _position(p: Position | None) -> tuple[str, int, int, str] | None:
    return None if p is None else (p.file, p.line, p.col, p.column_name)


#: The fields of an appearance that spec_digest covers: all of them (a test checks).
APPEARANCE_FIELDS = (
    "kind",
    "extension",
    "label",
    "display_name",
    "station",
    "identification_address",
    "auth_user",
    "auth_password",
    "sharable",
    "line_keys",
    "shared",
    "registration_group",
    "position",
)


def spec_digest(spec: PhoneSpec) -> bytes:
    """A digest of a phone's entry as parsed: its values and where each came from."""
    key: Any = (
        spec.name,
        spec.template,
        spec.location,
        spec.address,
        spec.origin,
        _position(spec.position),
        _position(spec.address_position),
        tuple((k, repr(s.value), s.layer, _position(s.position)) for k, s in spec.layer.items()),
        tuple(
            (
                a.kind,
                a.extension,
                a.label,
                a.display_name,
                a.station,
                a.identification_address,
                a.auth_user,
                None if a.auth_password is None else repr(a.auth_password),
                a.sharable,
                a.line_keys,
                a.shared,
                a.registration_group,
                _position(a.position),
            )
            for a in spec.appearances
        ),
    )
    return hashlib.sha1(marshal.dumps(key, _STABLE), usedforsecurity=False).digest()


def source_group(spec: PhoneSpec) -> str:
    """Where a phone's entry lives: "" for the YAML files, else its phone list."""
    return spec.position.file if spec.origin == "csv" and spec.position else ""


def address_key(spec: PhoneSpec) -> str:
    if spec.address is None:
        return ""
    return normalize_mac(spec.address) or spec.address.lower()


def identity(spec: PhoneSpec) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """What the cross-phone checks compare: address, extensions, stations."""
    from mipc.rules.checks import private_stations

    private = private_stations(spec)
    extensions = tuple(a.extension for _, a in private if a.extension is not None)
    return address_key(spec), extensions, tuple(station for station, _ in private)


def projection(phone: EffectivePhone, memo: dict[int, str] | None = None) -> bytes:
    """A digest of what the shared files (group, server, CA, custom and firmware files) and the
    network files take from a phone: while it is the same, they are the same.

    ``memo`` keeps the repr of objects phones share (registrations, firmware, time), by
    identity: give the same dict for the phones of one plan, which must outlive it.
    """
    memo = {} if memo is None else memo

    def shared(value: object) -> str:
        text = memo.get(id(value))
        if text is None:
            text = memo[id(value)] = repr(value)
        return text

    key: Any = (
        phone.name,
        phone.family,
        phone.model.id,
        phone.mac,
        phone.computer_name,
        phone.location,
        phone.registration_group,
        shared(phone.registrations),
        phone.secure,
        tuple((a.registration_group, shared(a.registrations)) for a in phone.appearances),
        shared(phone.config_files),
        shared(phone.firmware),
        shared(phone.time),
    )
    return hashlib.sha1(marshal.dumps(key, _STABLE), usedforsecurity=False).digest()


def linking(spec: PhoneSpec) -> bool:
    """Whether a phone has appearances that reach other phones (shared) or groups (external)."""
    return any(a.kind != "private" for a in spec.appearances)


def context_key(doc: Document) -> str:
    """A digest of the inventory without its phones: data and source positions."""
    h = hashlib.sha256(f"{__version__}\0{doc.root}\0".encode())
    h.update("\0".join(str(p) for p in doc.files).encode())
    data = {k: v for k, v in doc.data.items() if k != "phones"}
    h.update(json.dumps(data, sort_keys=True, default=repr).encode())
    for table in (doc.positions, doc.key_positions):
        rest = sorted(
            (repr(path), repr(pos))
            for path, pos in table.items()
            if not path or path[0] != "phones"
        )
        h.update(repr(rest).encode())
    return h.hexdigest()


# --- the state ---------------------------------------------------------------------------

#: Per phone: spec digest, source group, address key, extensions, stations, own files,
#: projection.
PhoneState = tuple[bytes, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...], bytes]


@dataclass(frozen=True)
class State:
    release: str
    context: str
    phones: Mapping[str, PhoneState]
    linking: frozenset[str]  # phones with shared or external appearances
    shared_refs: frozenset[str]  # stations named by shared appearances
    flagged: frozenset[str]  # phones that raised a warning first
    varied: frozenset[str]  # registration groups with more than one set of servers
    index: ManifestIndex

    def to_bytes(self) -> bytes:
        i = self.index
        return marshal.dumps(
            (
                FORMAT,
                __version__,
                self.release,
                self.context,
                dict(self.phones),
                self.linking,
                self.shared_refs,
                self.flagged,
                self.varied,
                (i.sha256, i.files, i.file_starts, i.phones, i.phone_starts),
            )
        )

    @classmethod
    def read(cls, out: Path) -> State | None:
        try:
            data = marshal.loads((out / STATE).read_bytes())
            if data[0] != FORMAT or data[1] != __version__:
                return None
            index = ManifestIndex(*data[9])
            return cls(
                release=data[2],
                context=data[3],
                phones=data[4],
                linking=data[5],
                shared_refs=data[6],
                flagged=data[7],
                varied=data[8],
                index=index,
            )
        except (OSError, ValueError, EOFError, TypeError, IndexError, KeyError):
            return None


def save_state(out: Path, state: State) -> None:
    """Write ``OUT/state.bin`` (atomically; a crash leaves the old one, which names its own
    release and so is never taken for another's)."""
    path = out / STATE
    tmp = path.with_name(f".{STATE}.tmp-{os.getpid()}")
    tmp.write_bytes(state.to_bytes())
    os.replace(tmp, path)


@dataclass(frozen=True)
class PlanFacts:
    """What the state keeps of a plan's phones, before the release is written (own files
    are left empty): made while the workers render."""

    phones: Mapping[str, PhoneState]
    linking: frozenset[str]
    shared_refs: frozenset[str]
    varied: frozenset[str]


def plan_facts(plan: Plan) -> PlanFacts:
    from mipc.render.polycom import varied_groups

    effective = {p.name: p for p in plan.phones}
    memo: dict[int, str] = {}
    phones: dict[str, PhoneState] = {}
    links: set[str] = set()
    refs: set[str] = set()
    for spec in plan.inventory.phones:
        if linking(spec):
            links.add(spec.name)
            refs.update(a.shared for a in spec.appearances if a.shared)
        phones[spec.name] = (
            spec_digest(spec),
            source_group(spec),
            *identity(spec),
            (),
            projection(effective[spec.name], memo),
        )
    return PlanFacts(phones, frozenset(links), frozenset(refs), varied_groups(plan.phones))


def state_of(
    facts: PlanFacts,
    diagnostics: Iterable[Diagnostic],
    release: str,
    context: str,
    index: ManifestIndex,
    own: Mapping[str, tuple[str, ...]],
    warned: Iterable[str],
) -> State:
    """The state after a full build (``facts``: :func:`plan_facts` of its plan) into
    ``release``."""
    flagged = {d.subject for d in diagnostics if d.subject}
    return State(
        release=release,
        context=context,
        phones={n: (*s[:5], own.get(n, ()), s[6]) for n, s in facts.phones.items()},
        linking=facts.linking,
        shared_refs=facts.shared_refs,
        flagged=frozenset(flagged | set(warned)),
        varied=facts.varied,
        index=index,
    )


# --- the delta ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Previous:
    """A changed phone as the current release has it."""

    record: Mapping[str, Any]  # its manifest record
    own: Mapping[str, tuple[str, int]]  # its own files: sha256 and size
    shared: tuple[str, ...]  # the other files it fetches (group, server, custom files)


@dataclass(frozen=True)
class Delta:
    """What changed since the current release, compiled: only the changed phones."""

    record: Record
    state: State
    plan: Plan  # the context with only the changed phones (resolved, checked)
    specs: Mapping[str, PhoneSpec]  # the changed phones' new entries

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """What a full compile reports: the same as before (see the rules in :func:`delta`)."""
        return self.record.diagnostics

    def render_warnings_known(self, warnings: Iterable[str]) -> bool:
        """Whether every render warning of the changed phones was in the last build's."""
        known = {d.message for d in self.record.diagnostics if d.code == "render"}
        return all(w in known for w in warnings)

    def render(self) -> dict[str, dict[str, bytes]] | None:
        """The changed phones' own files (``www/...`` paths), or None when rendering them
        warns in a new way or makes a file that another phone or the shared files have."""
        from mipc.release.staging import safe_relpath
        from mipc.render.stage import render_chunk

        phones = sorted(self.plan.phones, key=lambda p: p.name)
        rendered = render_chunk(self.plan, phones)
        if not self.render_warnings_known(rendered.warnings):
            return None
        own: dict[str, dict[str, bytes]] = {p.name: {} for p in phones}
        for path, art in rendered.artifacts.items():
            rel = "www/" + safe_relpath(path)
            if len(art.phones) != 1 or art.phones[0] not in own or art.link is not None:
                return None
            name = art.phones[0]
            if rel not in self.state.phones[name][5] and rel in self.state.index.files:
                return None
            own[name][rel] = art.data
        return own

    def previous(self, release: Path) -> tuple[bytes, dict[str, Previous]] | None:
        """The manifest of ``release`` (the current one) and what it says of each changed
        phone; None if the manifest is not the one the state indexes."""
        data = (release / MANIFEST).read_bytes()
        index = self.state.index
        if hashlib.sha256(data).hexdigest() != index.sha256:
            return None
        out: dict[str, Previous] = {}
        for name in self.specs:
            entry = index.phone_entry(data, name)
            if entry is None:
                return None
            record = entry_value(entry)
            own: dict[str, tuple[str, int]] = {}
            for rel in self.state.phones[name][5]:
                meta = index.file_entry(data, rel)
                if meta is None:
                    return None
                value = entry_value(meta)
                own[rel] = (value["sha256"], value["size"])
            shared = tuple(f for f in record["files"] if f not in own)
            out[name] = Previous(record, own, shared)
        return data, out

    def next_state(
        self, release: str, index: ManifestIndex, own: Mapping[str, tuple[str, ...]]
    ) -> State:
        phones = dict(self.state.phones)
        for name, spec in self.specs.items():
            old = phones[name]
            phones[name] = (
                spec_digest(spec),
                old[1],
                *identity(spec),
                own[name],
                old[6],
            )
        return replace(self.state, release=release, phones=phones, index=index)

    def next_inputs(self, key: bytes) -> Inputs:
        """The record's inputs with the inventory's files as they are now, and the secrets the
        changed phones name (those the old entries named stay: one more input to check)."""
        saved = self.record.inputs
        env, secret_files = secret_inputs(self.plan.inventory, key)
        return replace(
            saved,
            files={k: file_digest(k) for k in saved.files},
            env={**saved.env, **env},
            secret_files={**saved.secret_files, **secret_files},
        )


@dataclass(frozen=True)
class Known:
    """The record and state of a release, checked to be worth a :func:`delta`."""

    release: str
    record: Record
    state: State


def candidate(
    target: Path, out: Path, current: str | None, options: Mapping[str, str]
) -> Known | None:
    """The cheap half of :func:`delta`: the record and the state of ``current``, if they
    name it and nothing but the inventory's own files changed since."""
    if current is None:
        return None
    record = Record.read(out)
    if record is None or record.release != current or record.target != os.path.abspath(target):
        return None
    if any(d.severity is Severity.ERROR for d in record.diagnostics):
        return None
    state = State.read(out)
    if state is None or state.release != current:
        return None
    try:
        key = (out / KEY).read_bytes()
    except OSError:
        return None
    if not unchanged_but_files(record.inputs, options, key):
        return None
    return Known(current, record, state)


def delta(
    target: Path,
    out: Path,
    current: str | None,
    options: Mapping[str, str],
    known: Known | None = None,
) -> Delta | None:
    """The delta of ``target`` against release ``current`` of ``out``, or None: compile in
    full (see the module's docstring for when). ``known``: what :func:`candidate` found."""
    from mipc.pipeline import list_templates, read_list

    if known is None or known.release != current:
        known = candidate(target, out, current, options)
    if known is None:
        return None
    record, state = known.record, known.state
    changed = set(changed_files(record.inputs))
    try:
        doc = load_inventory(target)
    except InputError:
        return None
    from mipc.inventory.schema import validate_document

    diags = Diagnostics()
    if not validate_document(doc, diags) or diags.items:
        return None
    lists = [doc.root / str(e) for e in doc.data.get("phone_lists") or ()]
    sources = (*doc.files, *lists)
    if {os.path.abspath(p) for p in sources} != set(record.inputs.files):
        return None
    if context_key(doc) != state.context:
        return None

    # The entries of the changed files, by source group.
    fresh: dict[str, list[PhoneSpec]] = {}
    if any(os.path.abspath(p) in changed for p in doc.files):
        from mipc.inventory.assemble import phone_from_yaml

        fresh[""] = [phone_from_yaml(i, p, doc) for i, p in enumerate(doc.data.get("phones") or ())]
    old_diags = set(record.diagnostics)
    templates: dict[str, str] | None = None
    for i, path in enumerate(lists):
        if os.path.abspath(path) not in changed:
            continue
        templates = templates if templates is not None else list_templates(doc)
        shown = display_name(path, doc.root)
        read = Diagnostics()
        fresh[shown] = read_list(doc, i, read, templates)
        before = {d for d in old_diags if not d.subject and d.position and d.position.file == shown}
        if read.errors or set(read.items) != before:
            return None
    specs: dict[str, PhoneSpec] = {}
    for group, entries in fresh.items():
        names = {name for name, s in state.phones.items() if s[1] == group}
        if len(entries) != len(names) or {e.name for e in entries} != names:
            return None  # phones added, removed, renamed or duplicated
        for spec in entries:
            if spec_digest(spec) != state.phones[spec.name][0]:
                specs[spec.name] = spec
    if len(specs) > MAX_CHANGED:
        return None
    if not _independent(specs, state):
        return None
    plan = _compile(doc, specs, state, old_diags)
    if plan is None:
        return None
    return Delta(record, state, plan, specs)


def _independent(specs: Mapping[str, PhoneSpec], state: State) -> bool:
    """Whether the changed phones can be compiled without the others: none warned first,
    none shares or is shared, and no address, extension or station collides."""
    if not specs:
        return True
    if any(n in state.flagged or n in state.linking for n in specs):
        return False
    new = {n: identity(s) for n, s in specs.items()}
    for n, spec in specs.items():
        stations = {*state.phones[n][4], *new[n][2]}
        if linking(spec) or stations & state.shared_refs:
            return False
    addresses: set[str] = set()
    extensions: set[str] = set()
    stations_all: set[str] = set()
    for name, s in state.phones.items():
        if name in specs:
            continue
        addresses.add(s[2])
        extensions.update(s[3])
        stations_all.update(s[4])
    for address, exts, own_stations in new.values():
        if (address and address in addresses) or extensions.intersection(exts):
            return False
        if stations_all.intersection(own_stations):
            return False
    return True


def _compile(
    doc: Document, specs: Mapping[str, PhoneSpec], state: State, old: set[Diagnostic]
) -> Plan | None:
    """The context with only the changed phones: checked, resolved and checked again; None if
    anything is said that the last full compile did not say."""
    from mipc.catalog.models import load_catalog
    from mipc.inventory.assemble import assemble
    from mipc.inventory.schema import load_schema
    from mipc.resolve.resolver import resolve_plan
    from mipc.rules.checks import check, check_phones, option_families

    diags = Diagnostics()
    context = Document(
        data={k: v for k, v in doc.data.items() if k != "phones"},
        positions=doc.positions,
        key_positions=doc.key_positions,
        files=doc.files,
        root=doc.root,
    )
    inventory = replace(assemble(context, [], diags), phones=tuple(specs.values()))
    catalog = load_catalog()
    check(inventory, catalog, diags)
    if diags.errors:
        return None
    plan = resolve_plan(inventory, catalog, diags)
    if diags.errors or len(plan.phones) != len(specs):
        return None
    check_phones(
        plan.phones, inventory, catalog, option_families(load_schema()["$defs"]["options"]), diags
    )
    if diags.errors or any(d not in old for d in diags.items):
        return None
    if any(projection(p) != state.phones[p.name][6] for p in plan.phones):
        return None
    return replace(plan, varied_groups=state.varied)
