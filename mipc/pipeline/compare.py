"""What ``mipc diff`` compares an inventory with: the release a build would make, in memory.

Composes resolve's plan with render and the network files into a snapshot, taking from the
release compared with every phone whose digest says its files are the same; the two
shortcuts (nothing changed, or only some phones' entries) answer without compiling in full.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from mipc import __version__
from mipc.diff.compare import diff, same_file
from mipc.diff.model import Counts, FileRef, PhoneRecord, Report, Snapshot, record, same_but_files
from mipc.incremental.delta import Delta
from mipc.incremental.inputs import release_options, up_to_date
from mipc.incremental.phones import StateUnreadable
from mipc.model import Plan
from mipc.network.plan import DEFAULT_SERVER_ROOT
from mipc.network.serials import PriorZones
from mipc.pipeline.compile import delta
from mipc.pipeline.patch import render_delta
from mipc.pipeline.site import site_files
from mipc.release.manifest import phone_record
from mipc.release.reader import _reader, release_folder
from mipc.render.stage import Rendered, render_phones, render_shared
from mipc.render.templating import TemplateError
from mipc.resources import package_digest

#: Whether a phone's digest covers everything its files depend on (its profile, the render
#: epoch of the site, groups and the inventory's templates and files, its registrations,
#: firmware and secrets). tests/cli/test_diff_cli.py::test_incremental_matches_full holds it to
#: that.
#: When False, phones are skipped by digest only when the inventory's sources are unchanged.
TRUST_PHONE_DIGESTS = True


def unchanged_report(against: Path, inventory: Path, server_root: str) -> Report | None:
    """ "No changes", without reading the release, when ``against`` is the release a build of
    ``inventory`` made and every input is unchanged since (``OUT/inputs.json``, see
    :mod:`mipc.incremental.inputs`); otherwise None."""

    root, _ = release_folder(against)
    if root.parent.name != "releases":
        return None
    options = release_options(server_root)
    record = up_to_date(root.parent.parent, inventory, root.name, options)
    if record is None:
        return None
    return Report(
        old=f"release {root.name}",
        new=f"inventory {inventory}",
        phones=(),
        files=(),
        phone_counts=Counts(unchanged=record.phones),
        file_counts=Counts(unchanged=record.files),
    )


def plan_secrets(plan: Plan) -> frozenset[str]:
    """Every secret value of the plan (SIP and admin passwords), for redaction."""
    out: set[str] = set()
    for phone in plan.phones:
        if phone.admin_password is not None and phone.admin_password.value:
            out.add(phone.admin_password.value)
        for app in phone.appearances:
            if app.auth_password is not None and app.auth_password.value:
                out.add(app.auth_password.value)
    return frozenset(out)


def _artifact_ref(data: bytes, link: str | None) -> FileRef:
    if link is None:
        return FileRef.of(data)
    image = Path(link)
    try:
        size: int | None = image.stat().st_size
    except OSError:
        size = None
    return FileRef(None, size, _reader(str(image)))


@dataclass(frozen=True)
class Destination:
    """Where the compared release would be built: OUT's root on the web server (for the nginx
    site), and the zones of OUT's releases (which the zones' serials follow)."""

    server_root: str = DEFAULT_SERVER_ROOT
    prior: PriorZones | None = None


def inventory_snapshot(
    plan: Plan,
    base: Snapshot | None,
    *,
    label: str,
    destination: Destination = Destination(),
    incremental: bool = True,
    trust_digests: bool | None = None,
) -> Snapshot:
    """The release a build of ``plan`` would make, in memory.

    With ``incremental``, a phone is not rendered when ``base`` (made by this very mipc)
    has it with the same digest and the same manifest record (firmware, model, group, ...):
    its own files are taken from ``base``. Digests are trusted when ``trust_digests``
    (default :data:`TRUST_PHONE_DIGESTS`) or when the inventory's sources are those of
    ``base``. Shared and network files are always rendered, and if any of them differs from
    ``base`` (site-wide changes: servers, lines, groups) every phone is rendered. The zones'
    serials follow ``destination.prior`` (the zones of the OUT compared with), as a build's
    would.
    """

    shared = render_shared(plan).artifacts
    always: dict[str, FileRef] = {
        "www/" + path: _artifact_ref(art.data, art.link) for path, art in shared.items()
    }
    where = destination
    for name, data in site_files(plan, where.server_root, where.prior).items():
        always["network/" + name] = FileRef.of(data)
    manifest_records = {p.name: phone_record(p, []) for p in plan.phones}
    records = {name: record(data, ()) for name, data in manifest_records.items()}

    if trust_digests is None:
        trust_digests = TRUST_PHONE_DIGESTS
    trusted = trust_digests or (base is not None and base.inventory_digest == plan.inventory.digest)
    same = _reusable(plan, base, always, records) if incremental and trusted else []
    same_set = set(same)
    rendered = Rendered()
    artifacts, _ = render_phones(plan, [p.name for p in plan.phones if p.name not in same_set])
    rendered.merge(artifacts)
    rendered.merge(shared)

    files, per_phone = _collect(plan, rendered, always)
    if base is not None:
        _take_from(base, same, files, per_phone)
    phones = {
        p.name: record(manifest_records[p.name], tuple(sorted(per_phone[p.name])))
        for p in plan.phones
    }
    return Snapshot(
        files=dict(sorted(files.items())),
        phones=phones,
        label=label,
        version=__version__,
        secrets=plan_secrets(plan),
        inventory_digest=plan.inventory.digest,
    )


def _collect(
    plan: Plan, rendered: Rendered, always: Mapping[str, FileRef]
) -> tuple[dict[str, FileRef], dict[str, list[str]]]:
    """The snapshot's files (``always``, then the rendered ones) and each phone's paths."""
    files: dict[str, FileRef] = dict(always)
    per_phone: dict[str, list[str]] = {p.name: [] for p in plan.phones}
    for path, art in rendered.artifacts.items():
        rel = "www/" + path
        if rel not in files:
            files[rel] = _artifact_ref(art.data, art.link)
        for name in art.phones:
            if name in per_phone:
                per_phone[name].append(rel)
    return files, per_phone


def _reusable(
    plan: Plan,
    base: Snapshot | None,
    always: Mapping[str, FileRef],
    records: Mapping[str, PhoneRecord],
) -> list[str]:
    """The phones whose own files ``base`` has as this plan would make them: ``base`` was
    made by this very mipc, its shared and network files are the same, and the phone's digest
    and manifest record are."""
    if base is None or base.toolchain != package_digest():
        return []
    if not all(path in base.files and same_file(base.files[path], r) for path, r in always.items()):
        return []
    same: list[str] = []
    for eff in plan.phones:
        old = base.phones.get(eff.name)
        if old is not None and old.digest == eff.digest and same_but_files(records[eff.name], old):
            same.append(eff.name)
    return same


def _take_from(
    base: Snapshot, same: list[str], files: dict[str, FileRef], per_phone: dict[str, list[str]]
) -> None:
    """Add to ``files`` the own files (fetched by that phone alone) of the ``same`` phones, as
    ``base`` has them."""
    users: dict[str, int] = {}
    for phone in base.phones.values():
        for path in phone.files:
            users[path] = users.get(path, 0) + 1
    for name in same:
        for path in base.phones[name].files:
            if path not in files and users.get(path) == 1 and path in base.files:
                files[path] = base.files[path]
                per_phone[name].append(path)


def _changed_only(inventory: Path, against: Path, release: str, server_root: str) -> Delta | None:
    """The delta of ``inventory`` against ``release``, when only phones' own files and
    records change; None: compare in full."""
    try:
        found = delta(inventory, against, release, release_options(server_root))
    except StateUnreadable:
        return None  # a state whose phones cannot be read
    if found is not None and (found.added or found.removed or found.network_changed):
        return None  # the network files and the counts change: the full compare says how
    return found


def incremental_report(
    against: Path, inventory: Path, server_root: str, *, show_secrets: bool, files: bool
) -> Report | None:
    """The report from only the changed phones (:mod:`mipc.incremental.delta`), when ``against`` is
    the OUT a build of ``inventory`` made; None: compare in full.

    The shared and network files are the release's (the shortcut applies only when they
    would be), so the changed phones' own files and manifest records are all that differ.
    """

    root, _ = release_folder(against)
    if root.parent.name != "releases" or Path(os.path.realpath(against)) != root.parent.parent:
        return None
    found = _changed_only(inventory, against, root.name, server_root)
    try:
        own = render_delta(found) if found is not None else None
    except (ValueError, TemplateError):
        return None  # the full compare reports it, as it always has
    if found is None or own is None:
        return None
    known = found.previous(root)
    if known is None:
        return None
    previous = known[1]
    old_files: dict[str, FileRef] = {}
    new_files: dict[str, FileRef] = {}
    old_phones: dict[str, PhoneRecord] = {}
    new_phones: dict[str, PhoneRecord] = {}
    for phone in found.plan.phones:
        before = previous[phone.name]
        for rel, (sha, size) in before.own.items():
            old_files[rel] = FileRef(sha, size, _reader(str(root / rel)))
        for rel, content in own[phone.name].items():
            new_files[rel] = FileRef.of(content)
        old_phones[phone.name] = record(before.record)
        new_phones[phone.name] = record(
            phone_record(phone, []), tuple(sorted([*before.shared, *own[phone.name]]))
        )
    report = diff(
        Snapshot(old_files, old_phones, label=f"release {root.name}"),
        Snapshot(
            new_files,
            new_phones,
            label=f"inventory {inventory}",
            secrets=plan_secrets(found.plan),
        ),
        show_secrets=show_secrets,
        files=files,
    )
    p, f = report.phone_counts, report.file_counts
    total = len(found.state.index.files) + f.added
    return replace(
        report,
        phone_counts=Counts(p.added, p.removed, p.changed, len(found.state.phones) - p.changed),
        file_counts=Counts(f.added, f.removed, f.changed, total - f.added - f.removed - f.changed),
    )
