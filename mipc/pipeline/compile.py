"""The pipeline: the one place the stages are composed.

load → validate (JSON Schema) → assemble → check → resolve → check the effective phones; the
incremental path (:func:`delta`) compiles a context with only the changed phones through the
same :func:`compile_inventory`. Takes an inventory's path; gives the model, the plan and the
diagnostics collected so far; the commands decide what to print and which exit code to give.
Never imports the CLI.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mipc.catalog.models import load_catalog
from mipc.diagnostics import Diagnostic, Diagnostics, InputError
from mipc.incremental.delta import FAMILY_CODES, Changes, Delta, Known, changes
from mipc.incremental.fingerprints import context_key, projection, render_epoch, sharing
from mipc.incremental.frame import Frame, document_of, frame_of
from mipc.incremental.phones import staying
from mipc.inventory.assemble import assemble
from mipc.inventory.confine import Allowed as Allowed  # the commands' way to it
from mipc.inventory.confine import check_document
from mipc.inventory.files import with_files
from mipc.inventory.load import Document, load_inventory
from mipc.inventory.options import option_families
from mipc.inventory.phone_lists import ListRows, read_lists
from mipc.inventory.schema import load_schema, validate_document
from mipc.inventory.sources import with_secrets
from mipc.model import Inventory, Plan
from mipc.network.facts import PhoneFacts, facts_of
from mipc.resolve.resolver import resolve_plan
from mipc.rules.checks import check, check_phones


@dataclass
class Result:
    """What :func:`validate` made of an inventory, and what it said."""

    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    inventory: Inventory | None = None
    plan: Plan | None = None
    sources: list[Path] = field(default_factory=list)  # the YAML files and phone lists read
    context: str = ""  # mipc.incremental.fingerprints.context_key of the inventory
    frame: Frame | None = None  # and its frame (mipc.incremental.frame)
    rows: Mapping[str, ListRows] = field(default_factory=dict)  # each phone list's rows


def default_inventory(cwd: Path | None = None) -> Path:
    """The inventory a command reads by default: ./mipc.yaml if present, else the current
    directory."""
    here = cwd or Path.cwd()
    candidate = here / "mipc.yaml"
    return candidate if candidate.is_file() else here


def load_model(
    target: Path,
    sources: list[Path] | None = None,
    context: list[Any] | None = None,
    *,
    allowed: Allowed | None = None,
) -> tuple[Inventory | None, Diagnostics]:
    """Load, validate and assemble; the model is None when the input is invalid.

    ``sources``, when given, receives the files the inventory is made of: its YAML files and
    the phone lists they name; ``context`` the digest of all but its phones
    (:func:`mipc.incremental.fingerprints.context_key`), then its frame
    (:func:`mipc.incremental.frame.frame_of`), then its lists' rows
    (:data:`~mipc.inventory.phone_lists.ListRows`, by list); ``allowed`` the folders outside the
    inventory the command line lets it read (:mod:`mipc.inventory.confine`).
    """
    diags = Diagnostics()
    try:
        doc = load_inventory(target)
    except InputError as exc:
        return None, exc.diagnostics
    if not validate_document(doc, diags):
        return None, diags
    if sources is not None:
        sources.extend(doc.files)
        sources.extend(doc.root / str(entry) for entry in doc.data.get("phone_lists") or ())
    if context is not None:
        context.extend((context_key(doc), frame_of(doc)))
    check_document(doc, allowed or Allowed(), diags)
    rows: dict[str, ListRows] | None = None if context is None else {}
    lists = read_lists(doc, diags, rows)
    if context is not None:
        context.append(rows)
    if diags.errors:
        return None, diags
    return with_files(assemble(doc, lists, diags, allowed), diags, allowed), diags


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building the model.

    The model is hundreds of thousands of small acyclic objects; generational collections
    over a growing heap cost more than the compile itself at 100k phones (measured: 12 s
    against 7 s). Reference counting still frees everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate(target: Path, *, allowed: Allowed | None = None) -> Result:
    """Schema, rules and resolution (vendor rules need effective values); ``allowed``: the
    folders outside the inventory it may read."""
    with paused_gc():
        return _validate(target, allowed)


def _validate(target: Path, allowed: Allowed | None) -> Result:
    sources: list[Path] = []
    context: list[Any] = []
    inventory, diags = load_model(target, sources, context, allowed=allowed)
    result = Result(
        diagnostics=diags,
        inventory=inventory,
        sources=sources,
        context=context[0] if context else "",
        frame=context[1] if context else None,
        rows=context[2] if context else {},
    )
    if inventory is not None:
        result.plan = compile_inventory(inventory, diags)
    return result


def compile_inventory(inventory: Inventory, diags: Diagnostics) -> Plan | None:
    """Check, resolve, and check the effective phones: the one compile every build path
    takes (the full one, and the incremental one on a context with only the changed phones).
    None when the rules fail before resolution; problems go into diags."""
    catalog = load_catalog()
    check(inventory, catalog, diags)
    if diags.errors:
        return None
    plan = resolve_plan(inventory, catalog, diags, render_epoch(inventory))
    families = option_families(load_schema()["$defs"]["options"])
    check_phones(plan.phones, inventory, catalog, families, diags)
    return plan


def delta(
    target: Path,
    out: Path,
    current: str | None,
    options: Mapping[str, str],
    known: Known | Changes | None = None,
    *,
    allowed: Allowed | None = None,
) -> Delta | None:
    """The changed phones of ``target`` since release ``current`` of ``out``, compiled alone
    (:mod:`mipc.incremental.delta`); None: compile in full. ``options`` should hold
    ``allowed.options()``, so that other folders allowed mean a full compile. ``known``:
    what :func:`~mipc.incremental.delta.candidate` found, or what
    :func:`~mipc.incremental.delta.changes` found already (used if of ``current``)."""
    found = known if isinstance(known, Changes) and known.known.release == current else None
    if found is None:
        seen = known.known if isinstance(known, Changes) else known
        found = changes(target, out, current, options, seen)
    if found is None:
        return None
    plan = _compile_changed(found, allowed or Allowed())
    if plan is None:
        return None
    twins = _twins(plan, found)
    if twins is None or not _families_unchanged(plan, found):
        return None
    added = [p for p in plan.phones if p.name in found.added]
    return Delta(
        found.known.record,
        found.known.state,
        plan,
        found.specs,
        found.frame,
        removed=found.removed,
        twins=twins,
        facts={f.name: f for f in facts_of(plan.phones)},
        fingerprints={p.name: (projection(p), sharing(p)) for p in added},
        moved=found.moved,
        rows=found.rows,
        context=found.context,
    )


def _families_unchanged(plan: Plan, found: Changes) -> bool:
    """Whether the warnings that count the phones of families the site's credentials miss
    (:data:`~mipc.incremental.delta.FAMILY_CODES`) stay as they are: no phone of such a
    family comes or goes (the rule of :func:`mipc.rules.serving.check_serving_phones`)."""
    if not (found.added or found.removed):
        return True
    if not any(d.code in FAMILY_CODES for d in found.old_diagnostics):
        return True
    certificate = plan.inventory.serving.access == "certificate"
    facts = load_catalog().families
    phones = found.known.state.phones
    came = {p.family for p in plan.phones if p.name in found.added}
    went = {PhoneFacts.from_tuple(phones[n][8]).family for n in found.removed}
    for family in came | went:
        known = facts.get(family)
        if known is not None and not (
            known.device_certificate if certificate else known.provisioning_credentials
        ):
            return False
    return True


def _twins(plan: Plan, found: Changes) -> dict[str, str] | None:
    """For each added phone, a phone of the release that stays and loads the same shared
    files (the same :func:`~mipc.incremental.fingerprints.sharing`); None when an added
    phone has none, waits for an address, or a removed phone was the last of its sharing."""
    if not found.added and not found.removed:
        return {}
    phones = found.known.state.phones

    gone = set(found.removed)
    if any(staying(phones, phones[n][7], gone) is None for n in found.removed):
        return None
    twins: dict[str, str] = {}
    for phone in plan.phones:
        if phone.name in found.added:
            twin = staying(phones, sharing(phone), gone)
            if twin is None or phone.waiting:
                return None
            twins[phone.name] = twin
    return twins


def _compile_changed(found: Changes, allowed: Allowed) -> Plan | None:
    """The context with only the changed phones, compiled as a full build compiles; None if
    anything is said that the last full compile did not say, or the shared files would
    change. When templates changed (``found.context``), the same phones compiled in the
    context before must say the same: what the context says stays as the last build said it
    (:mod:`mipc.incremental.templates`)."""
    state = found.known.state
    compiled = _compile_context(found.doc, found, allowed)
    if compiled is None:
        return None
    plan, said = compiled
    if any(d not in found.old_diagnostics for d in said):
        return None
    if found.context is not None:
        before = document_of(state.frame, found.doc.root, found.doc.files)
        was = None if before is None else _compile_context(before, found, allowed)
        if was is None or set(was[1]) != set(said):
            return None
    changed = (p for p in plan.phones if p.name not in found.added)
    if any(projection(p) != state.phones[p.name][6] for p in changed):
        return None
    return replace(plan, varied_groups=state.varied)


def _compile_context(
    doc: Document, found: Changes, allowed: Allowed
) -> tuple[Plan, list[Diagnostic]] | None:
    """The context of ``doc`` with only the changed phones, compiled, and what it said; None
    on an error."""
    diags = Diagnostics()
    context = Document(
        data={k: v for k, v in doc.data.items() if k != "phones"},
        positions=doc.positions,
        key_positions=doc.key_positions,
        files=doc.files,
        root=doc.root,
    )
    check_document(context, allowed, diags)
    if diags.errors:
        return None
    phones = tuple(found.specs.values())
    inventory = with_files(
        with_secrets(replace(assemble(context, [], diags, allowed), phones=phones), allowed),
        diags,
        allowed,
    )
    plan = compile_inventory(inventory, diags)
    if plan is None or diags.errors or len(plan.phones) != len(found.specs):
        return None
    return plan, list(diags.items)
