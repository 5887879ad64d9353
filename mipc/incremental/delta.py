"""The delta: which phones' entries changed since the current release.

:func:`changes` re-reads only the inventory files that changed, finds the phones whose entries
differ, and checks that they can be compiled without the others; the pipeline then compiles the
context with just those phones (:func:`mipc.pipeline.delta`) and renders them
(:func:`mipc.pipeline.build.render_delta`). Either answers None, and the caller compiles in
full, whenever the shortcut could differ from a full compile in any way: anything but the
inventory's files changed (mipc, templates, custom files, secrets, options); the context
changed, but in the entries of ``templates:`` (:mod:`mipc.incremental.templates`: the phones of
the templates touched then count as changed); a changed, added or removed phone shares
appearances or is shared; a changed or removed phone warned before, or a changed or added one
would warn in a new way; an address, extension or station now collides; any error; a changed
phone's groups, servers, address, family, model, firmware or custom files changed (the shared
files would change); an added phone loads shared files no phone of the release loads, or a
removed one shared files no phone left loads (:func:`~mipc.incremental.fingerprints.sharing`);
a phone that waits for an address comes or goes; the last build said something that counts
phones (:data:`PHONE_SET_CODES`); or more than :data:`MAX_CHANGED` phones changed. The network
files are made again, from the facts the state keeps of the other phones, when a phone's facts
changed (:class:`mipc.network.facts.PhoneFacts`). ``tests/cli/test_incremental.py`` checks,
change by change, that a build through this path is byte for byte the full build's.

Takes the inventory's path and OUT; gives :class:`Changes` and :class:`Delta`. Never imports
render or the pipeline.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mipc.diagnostics import Diagnostic, Severity
from mipc.incremental.compared import compared, independent
from mipc.incremental.confined import escaping
from mipc.incremental.csv_rows import Packed, list_entries, packed_rows
from mipc.incremental.fingerprints import (
    context_key,
    identity,
    source_group,
    spec_digests,
)
from mipc.incremental.frame import Frame
from mipc.incremental.inputs import (
    KEY,
    Inputs,
    Record,
    changed_files,
    file_digest,
    secret_inputs,
    unchanged_but_files,
)
from mipc.incremental.phones import (
    PhoneState,
    network_facts,
    with_changes,
)
from mipc.incremental.state import State, file_identity
from mipc.incremental.templates import template_edits, touched_phones, touched_templates
from mipc.incremental.yaml_phones import Now, edited_texts, read_now
from mipc.inventory.assemble import phone_from_yaml
from mipc.inventory.load import Document, display_name
from mipc.inventory.phone_lists import ListRows, list_templates
from mipc.model import PhoneSpec, Plan
from mipc.network.facts import PhoneFacts
from mipc.release.manifest import MANIFEST, ManifestIndex, entry_value

#: More changed phones than this, and the full compile (with its worker processes) is used.
MAX_CHANGED = 2000

#: Diagnostics whose text counts or names the phones of a set (the phones holding passwords
#: on an open site): with one of these, adding or removing a phone is compiled in full. So
#: is a render warning about the shared files that names a phone.
PHONE_SET_CODES = frozenset({"open-site-passwords"})

#: Diagnostics that count the phones of the families whose files cannot carry the site's
#: credentials: they stay as they are while no phone of those families comes or goes (the
#: pipeline checks, once it knows the added phones' families).
FAMILY_CODES = frozenset({"serving-credentials-family", "serving-certificate-family"})


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
    specs: Mapping[str, PhoneSpec]  # the changed and added phones' new entries
    frame: Frame | None = None  # the inventory's frame now (mipc.incremental.frame)
    removed: frozenset[str] = frozenset()
    twins: Mapping[str, str] = field(default_factory=dict)  # added -> a phone of its sharing
    facts: Mapping[str, PhoneFacts] = field(default_factory=dict)  # the compiled phones'
    fingerprints: Mapping[str, tuple[bytes, bytes]] = field(default_factory=dict)  # added:
    # their projection and sharing
    moved: Mapping[str, bytes] = field(default_factory=dict)  # only their place changed:
    # their spec digest now
    rows: Mapping[str, Packed] = field(default_factory=dict)  # the changed lists' rows now
    context: str | None = None  # the context's key now, when templates changed

    @property
    def added(self) -> frozenset[str]:
        """The phones the release does not have."""
        return frozenset(self.twins)

    @property
    def network_changed(self) -> bool:
        """Whether the network files change: phones come or go, or a phone's facts changed."""
        if self.removed or self.twins:
            return True
        return any(f.to_tuple() != self.state.phones[n][8] for n, f in self.facts.items())

    def network_facts(self) -> list[PhoneFacts]:
        """Every phone's network facts after this delta, in name order."""
        facts, make = self.facts, PhoneFacts.from_tuple
        now = network_facts(self.state.phones)
        for name in self.removed:
            now.pop(name, None)
        now.update(facts)
        return [facts[n] if n in facts else make(now[n]) for n in sorted(now)]

    def freed(self) -> frozenset[str]:
        """The own files of the removed phones."""
        return frozenset(f for n in self.removed for f in self.state.phones[n][5])

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """What a full compile reports: the same as before (see the rules in :func:`delta`)."""
        return self.record.diagnostics

    def render_warnings_known(self, warnings: Iterable[str]) -> bool:
        """Whether every render warning of the changed phones was in the last build's."""
        known = {d.message for d in self.record.diagnostics if d.code == "render"}
        return all(w in known for w in warnings)

    def previous(self, release: Path) -> tuple[bytes, dict[str, Previous]] | None:
        """The manifest of ``release`` (the current one) and what it says of each changed and
        removed phone (an added one: no record, no own files, its twin's shared files);
        None if the manifest is not the one the state indexes."""
        path = release / MANIFEST
        data = path.read_bytes()
        same = bool(self.state.manifest) and file_identity(path) == self.state.manifest
        if not same and hashlib.sha256(data).hexdigest() != self.state.index.sha256:
            return None
        out: dict[str, Previous] = {}
        wanted = {*self.specs, *self.removed, *self.twins.values()}.difference(self.twins)
        for name in sorted(wanted):
            found = self._previous(data, name)
            if found is None:
                return None
            out[name] = found
        for name, twin in self.twins.items():
            out[name] = Previous({}, {}, out[twin].shared)
        return data, out

    def _previous(self, data: bytes, name: str) -> Previous | None:
        index = self.state.index
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
        return Previous(record, own, tuple(f for f in record["files"] if f not in own))

    def next_state(
        self,
        release: str,
        index: ManifestIndex,
        own: Mapping[str, tuple[str, ...]],
        owners: Mapping[str, str] | None,
    ) -> State:
        """The state after this delta is written as ``release`` (manifest ``index``; each
        changed and added phone's ``own`` files; the ``owners`` of the phones' files the
        network files were made with)."""
        phones = self.state.phones
        changes: dict[str, PhoneState | None] = dict.fromkeys(self.removed)
        for name, spec in self.specs.items():
            old = phones.get(name)
            fingerprints = old[6:8] if old is not None else self.fingerprints[name]
            placed, unplaced = spec_digests(spec)
            changes[name] = (
                placed,
                source_group(spec),
                *identity(spec),
                own[name],
                *fingerprints,
                self.facts[name].to_tuple(),
                unplaced,
                spec.template or "",
            )
        for name, digest in self.moved.items():
            changes[name] = (digest, *phones[name][1:])
        return replace(
            self.state,
            release=release,
            context=self.context or self.state.context,
            phones=with_changes(phones, changes),
            index=index,
            frame=self.frame,
            owners=owners,
            rows={**self.state.rows, **self.rows},
        )

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
    changed: frozenset[str] = frozenset()  # the inventory files changed since (absolute)
    texts: Mapping[str, str] = field(default_factory=dict)  # the changed YAML files' now
    edits: Mapping[str, int] = field(default_factory=dict)  # the files whose templates
    # changed: the first line changed (mipc.incremental.templates.template_edits)


def candidate(
    target: Path, out: Path, current: str | None, options: Mapping[str, str]
) -> Known | None:
    """The cheap half of :func:`delta`: the record and the state of ``current``, if they
    name it, nothing but the inventory's own files changed since, and its YAML files only
    inside their phone entries (:func:`~mipc.incremental.yaml_phones.edited_texts`)."""
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
    if escaping(record.inputs, target, options) is not None:
        return None
    if not unchanged_but_files(record.inputs, options, key):
        return None
    changed = {os.path.abspath(p) for p in changed_files(record.inputs)}
    texts = edited_texts(target, state.frame, changed)
    edits: dict[str, int] = {}
    if texts is None:  # beyond its phone entries: in its templates, or the context changed
        within: set[str] = set()
        edits = template_edits(target, state.frame, changed, within) or {}
        if not edits:
            return None
        if within and len(touched_phones(state.phones, frozenset(within))) > MAX_CHANGED:
            return None  # a template of many phones: in full, without reading the YAML
        texts = {}  # the YAML files are read whole
    return Known(current, record, state, frozenset(changed), texts, edits)


@dataclass(frozen=True)
class Changes:
    """The phones whose entries changed, found cheaply; compiled by the pipeline."""

    known: Known
    doc: Document  # the inventory as it is now
    specs: Mapping[str, PhoneSpec]  # the changed and added phones' new entries
    old_diagnostics: frozenset[Diagnostic]  # what the last full compile said
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    moved: Mapping[str, bytes] = field(default_factory=dict)  # see Delta.moved
    frame: Frame | None = None  # the inventory's frame now
    rows: Mapping[str, Packed] = field(default_factory=dict)  # the changed lists' rows now
    context: str | None = None  # the context's key now, when templates changed


def changes(
    target: Path,
    out: Path,
    current: str | None,
    options: Mapping[str, str],
    known: Known | None = None,
) -> Changes | None:
    """The changed phones of ``target`` against release ``current`` of ``out``, or None:
    compile in full (see the module's docstring for when). ``known``: what :func:`candidate`
    found."""
    if known is None or known.release != current:
        known = candidate(target, out, current, options)
    if known is None:
        return None
    changed = set(known.changed)
    now = _current_document(target, known, changed)
    if now is None:
        return None
    old = frozenset(known.record.diagnostics)
    key = context_key(now.doc)
    touched = _touched(known, now.doc, key)
    if touched is None:
        return None
    phones = touched_phones(known.state.phones, touched) if touched else set()
    if len(phones) > MAX_CHANGED:
        return None
    fresh = _fresh_entries(now, changed, old, known.state, phones)
    if fresh is None:
        return None
    found = compared(fresh.entries, known.state, fresh.partial)
    if found is None:
        return None
    specs, added, removed, moved = found
    if not _with_touched(specs, moved, fresh.entries, phones - removed):
        return None
    if len(specs) + len(removed) > MAX_CHANGED or not independent(specs, known.state, removed):
        return None
    if (added or removed) and _counts_phones(old, known.state, added):
        return None
    if any(n in known.state.flagged for n in moved):
        return None  # a message points at its old place
    return Changes(
        known,
        now.doc,
        specs,
        old,
        frozenset(added),
        frozenset(removed),
        moved,
        now.frame,
        packed_rows(fresh.rows),
        key if touched else None,
    )


def _touched(known: Known, doc: Document, key: str) -> frozenset[str] | None:
    """The templates a change of the context (its key now: ``key``) touches (none: the
    context is the same); None when the context changed otherwise
    (:mod:`mipc.incremental.templates`)."""
    if key == known.state.context:
        return frozenset()
    if not known.edits or known.state.frame is None:
        return None
    return touched_templates(known.state.frame, doc, known.edits, known.record.diagnostics)


def _with_touched(
    specs: dict[str, PhoneSpec],
    moved: dict[str, bytes],
    fresh: Mapping[str, list[PhoneSpec]],
    touched: set[str],
) -> bool:
    """Count the phones of the touched templates (``touched``, but those removed) as changed
    (``specs``, no longer only ``moved``); False if one of them was not read again."""
    for entries in fresh.values():
        for spec in entries:
            if spec.name in touched:
                specs[spec.name] = spec
                moved.pop(spec.name, None)
    return touched.issubset(specs)


def _counts_phones(said: Iterable[Diagnostic], state: State, added: set[str]) -> bool:
    """Whether something the last build said may change when a phone comes or goes: a
    diagnostic of :data:`PHONE_SET_CODES`, or a warning about the shared files that names a
    phone (the phones a missing firmware image leaves out, say)."""
    shared = [d.message for d in said if d.code == "render" and not d.subject]
    if shared and any(n in m for n in (*state.phones, *added) for m in shared):
        return True
    return any(d.code in PHONE_SET_CODES for d in said)


def _current_document(target: Path, known: Known, changed: set[str]) -> Now | None:
    """The inventory's YAML files as they are now (:func:`~mipc.incremental.yaml_phones.
    read_now`), if they are valid, silent, and the same files with the same context
    (``changed``: the inventory files whose bytes changed since)."""
    now = read_now(target, known.state.frame, changed, known.texts)
    if now is None:
        return None
    doc = now.doc
    lists = [doc.root / str(e) for e in doc.data.get("phone_lists") or ()]
    sources = (*doc.files, *lists)
    if {os.path.abspath(p) for p in sources} != set(known.record.inputs.files):
        return None
    return now


def _fresh_entries(
    now: Now, changed: set[str], old: frozenset[Diagnostic], state: State, touched: set[str]
) -> Fresh | None:
    """The entries of the ``changed`` files (absolute paths), by source group (of the YAML
    files, those an edit touched when they were read alone; of a phone list, its changed
    rows when the state has its rows before: :mod:`mipc.incremental.csv_rows`), and those
    of the ``touched`` phones; None if a phone list read now says something (an error, or a
    message) it did not say before."""
    rows = state.rows
    lists = {state.phones[n][1] for n in touched}
    fresh = Fresh({}, {}, {})
    doc = now.doc
    if now.spliced is None:
        fresh.entries[""] = [
            phone_from_yaml(i, p, doc) for i, p in enumerate(doc.data.get("phones") or ())
        ]
    elif now.spliced:
        fresh.entries[""] = [spec for part in now.spliced for spec in part.specs]
        fresh.partial[""] = {n for p in now.spliced for n in p.old_names}
    templates: dict[str, str] | None = None
    for i, entry in enumerate(doc.data.get("phone_lists") or ()):
        path = doc.root / str(entry)
        shown = display_name(path, doc.root)
        if os.path.abspath(path) not in changed and shown not in lists:
            continue
        templates = templates if templates is not None else list_templates(doc)
        before = {d for d in old if not d.subject and d.position and d.position.file == shown}
        found = list_entries(doc, i, frozenset(before), rows.get(shown), templates, touched)
        if found is None:
            return None
        fresh.entries[shown] = found.specs
        fresh.rows[shown] = found.rows
        if found.were is not None:
            fresh.partial[shown] = found.were
    return fresh


@dataclass(frozen=True)
class Fresh:
    """The changed files' entries by source group; the groups of which they are only some,
    with the names the others had (see :func:`_compared`); the changed lists' rows now."""

    entries: dict[str, list[PhoneSpec]]
    partial: dict[str, set[str]]
    rows: dict[str, ListRows]
