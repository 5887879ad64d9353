"""``mipc diff``: what a build would change, per phone, per setting and per file (issue 8).

``mipc diff [INVENTORY] --against OUT`` renders the inventory in memory (only the phones whose
digest differs from the release's manifest, plus every shared file), writes nothing, and
compares it with ``OUT/current`` (or a release folder, or a ``manifest.json`` and the tree
beside it). ``mipc diff --between OLD NEW`` compares two releases.

This module does the I/O (reading releases, rendering) and the printing; the comparison
itself is :func:`mipc.diff.compare.diff`. Exit codes follow diff(1): 0 no changes, 1 changes,
2 trouble (an invalid inventory, an unreadable release).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import IO, Any

from mipc import __version__
from mipc.diagnostics import MipcError
from mipc.diff.compare import (
    REDACTED,
    Counts,
    FileChange,
    FileRef,
    PhoneChange,
    PhoneRecord,
    Report,
    SettingChange,
    Snapshot,
    diff,
    same_file,
)
from mipc.model import Plan
from mipc.network.plan import DEFAULT_SERVER_ROOT, network_files
from mipc.release.emit import Out
from mipc.release.manifest import phone_record
from mipc.render.templating import TemplateError
from mipc.resources import package_digest

MANIFEST = "manifest.json"

#: In text and github reports, a shared file lists at most this many phone names.
NAMES_SHOWN = 20
#: A github summary lists at most this many phones (job summaries are limited to 1 MiB).
GITHUB_ROWS = 300
#: Whether a phone's digest covers everything its files depend on (issue 6; commit 96203ba:
#: a render epoch of site, groups, catalog, templates, plus registrations, firmware and
#: secrets). tests/cli/test_diff_cli.py::test_incremental_matches_full holds it to that.
#: When False, phones are skipped by digest only when the inventory's sources are unchanged.
TRUST_PHONE_DIGESTS = True


class SnapshotError(MipcError):
    """A release that cannot be read (exit code 2)."""


# --- snapshots from disk -----------------------------------------------------------------


def release_folder(path: Path) -> tuple[Path, Path]:
    """``(tree root, manifest.json)`` for OUT, a release folder, or a manifest.json path."""
    if path.is_file():
        return path.parent, path
    if not path.is_dir():
        raise SnapshotError(f"{path} does not exist")
    if (path / MANIFEST).is_file():
        root = Path(os.path.realpath(path))
        return root, root / MANIFEST
    current = path / "current"
    if current.is_symlink() or current.exists():
        root = Path(os.path.realpath(current))
        if (root / MANIFEST).is_file():
            return root, root / MANIFEST
        raise SnapshotError(f"{current} does not point to a release with a {MANIFEST}")
    raise SnapshotError(
        f"{path} is not a release: no {MANIFEST} and no current -> releases/<id> in it"
    )


def unchanged_report(against: Path, inventory: Path, server_root: str) -> Report | None:
    """ "No changes", without reading the release, when ``against`` is the release a build of
    ``inventory`` made and every input is unchanged since (``OUT/inputs.json``, see
    :mod:`mipc.incremental.inputs`); otherwise None."""
    from mipc.incremental.inputs import release_options, up_to_date

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


_RECORD_FIELDS = tuple(f.name for f in fields(PhoneRecord) if f.name != "files")


def same_but_files(a: PhoneRecord, b: PhoneRecord) -> bool:
    """Whether two manifest records agree on everything but their files."""
    return all(getattr(a, f) == getattr(b, f) for f in _RECORD_FIELDS)


def _reader(path: str) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise SnapshotError(f"cannot read {path}: {exc.strerror or exc}") from exc

    return read


def record(data: Mapping[str, Any], files: tuple[str, ...] | None = None) -> PhoneRecord:
    """A manifest phone entry as a :class:`PhoneRecord` (``files`` replaces its files)."""
    get = data.get
    return PhoneRecord(
        str(data["name"]),
        get("family") or "",
        get("model") or "",
        get("address"),
        get("mac"),
        get("computer_name"),
        get("firmware"),
        tuple(get("files") or ()) if files is None else files,
        get("digest"),
        get("type"),
        get("location"),
        get("template"),
        get("registration_group"),
    )


def load_release(path: Path) -> Snapshot:
    """A release on disk as a snapshot; files are read only when a comparison needs them."""
    root, manifest_path = release_folder(path)
    try:
        manifest = json.loads(manifest_path.read_bytes())
    except OSError as exc:
        raise SnapshotError(f"cannot read {manifest_path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise SnapshotError(f"{manifest_path} is not JSON: {exc}") from exc
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != 1
        or not isinstance(manifest.get("files"), dict)
        or not isinstance(manifest.get("phones"), dict)
    ):
        raise SnapshotError(f"{manifest_path} is not a mipc release manifest (format 1)")
    files: dict[str, FileRef] = {}
    top = str(root)
    try:
        for rel, entry in manifest["files"].items():
            files[str(rel)] = FileRef(
                str(entry["sha256"]), int(entry["size"]), _reader(os.path.join(top, str(rel)))
            )
        phones = {str(name): record(p) for name, p in manifest["phones"].items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"{manifest_path}: malformed entry ({exc})") from exc
    in_out = root.parent.name == "releases"
    label = f"release {root.name}" if in_out else str(root)
    return Snapshot(
        toolchain=Out(root.parent.parent).toolchain_of(root.name) if in_out else None,
        files=files,
        phones=phones,
        label=label,
        version=str(manifest.get("mipc_version") or "") or None,
        inventory_digest=str(manifest.get("inventory_digest") or "") or None,
    )


# --- a snapshot of the inventory, rendered in memory -------------------------------------


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


def inventory_snapshot(
    plan: Plan,
    base: Snapshot | None,
    *,
    label: str,
    server_root: str = DEFAULT_SERVER_ROOT,
    incremental: bool = True,
    trust_digests: bool | None = None,
) -> Snapshot:
    """The release a build of ``plan`` would make, in memory.

    With ``incremental``, a phone is not rendered when ``base`` (made by this very mipc)
    has it with the same digest and the same manifest record (firmware, model, group, ...):
    its own files are taken from ``base``. Digests are trusted when ``trust_digests``
    (default :data:`TRUST_PHONE_DIGESTS`) or when the inventory's sources are those of
    ``base``. Shared and network files are always rendered, and if any of them differs from
    ``base`` (site-wide changes: servers, lines, groups) every phone is rendered.
    """
    from mipc.render.stage import Rendered, render_phones, render_shared

    shared = render_shared(plan).artifacts
    always: dict[str, FileRef] = {
        "www/" + path: _artifact_ref(art.data, art.link) for path, art in shared.items()
    }
    for name, data in network_files(plan, server_root).items():
        always["network/" + name] = FileRef.of(data)
    manifest_records = {p.name: phone_record(p, []) for p in plan.phones}
    records = {name: record(data, ()) for name, data in manifest_records.items()}

    same: list[str] = []
    if trust_digests is None:
        trust_digests = TRUST_PHONE_DIGESTS
    trusted = trust_digests or (base is not None and base.inventory_digest == plan.inventory.digest)
    if incremental and trusted and base is not None and base.toolchain == package_digest():
        context_same = all(
            path in base.files and same_file(base.files[path], ref) for path, ref in always.items()
        )
        if context_same:
            for eff in plan.phones:
                old = base.phones.get(eff.name)
                if (
                    old is not None
                    and old.digest == eff.digest
                    and same_but_files(records[eff.name], old)
                ):
                    same.append(eff.name)
    same_set = set(same)
    rendered = Rendered()
    artifacts, _ = render_phones(plan, [p.name for p in plan.phones if p.name not in same_set])
    rendered.merge(artifacts)
    rendered.merge(shared)

    files: dict[str, FileRef] = dict(always)
    per_phone: dict[str, list[str]] = {p.name: [] for p in plan.phones}
    for path, art in rendered.artifacts.items():
        rel = "www/" + path
        if rel not in files:
            files[rel] = _artifact_ref(art.data, art.link)
        for name in art.phones:
            if name in per_phone:
                per_phone[name].append(rel)
    if base is not None and same:
        users: dict[str, int] = {}
        for phone in base.phones.values():
            for path in phone.files:
                users[path] = users.get(path, 0) + 1
        for name in same:
            for path in base.phones[name].files:
                if path not in files and users.get(path) == 1 and path in base.files:
                    files[path] = base.files[path]
                    per_phone[name].append(path)
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


# --- reports -----------------------------------------------------------------------------


def _value(value: str | None) -> str:
    if value is None:
        return "(unset)"
    if value == REDACTED:
        return REDACTED
    return json.dumps(value, ensure_ascii=False)


def setting_text(s: SettingChange) -> str:
    if s.secret:
        what = "added" if s.old is None else "removed" if s.new is None else "changed"
        return f"{s.key}: {REDACTED} ({what})"
    return f"{s.key}: {_value(s.old)} → {_value(s.new)}"


def _names(names: tuple[str, ...]) -> str:
    if not names:
        return "no listed phone (every phone, or network services)"
    shown = ", ".join(names[:NAMES_SHOWN])
    more = f", … and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return f"{len(names)} phone{'s' if len(names) != 1 else ''}: {shown}{more}"


def _field_value(value: str | None) -> str:
    return "(none)" if value is None else value


def phone_lines(p: PhoneChange) -> list[str]:
    """The text lines of one phone: ``NAME  what``."""
    name = p.name
    where = ", ".join(x for x in (p.address, p.model) if x)
    if p.status == "added":
        return [f"{name}  added ({where}; {len(p.own_files) + len(p.shared_files)} files)"]
    if p.status == "removed":
        return [f"{name}  removed ({where})"]
    lines = [f"{name}  {f.field}: {_field_value(f.old)} → {_field_value(f.new)}" for f in p.fields]
    for s in p.settings:
        suffix = f"  (in {s.file})" if " → " in s.file else ""
        lines.append(f"{name}  {setting_text(s)}{suffix}")
    own_changed = [f for f in p.own_files if f not in p.files_added and f not in p.files_removed]
    if own_changed:
        note = "" if p.settings else " (no setting changes decoded; see --files)"
        lines.append(f"{name}  files changed: {', '.join(own_changed)}{note}")
    if p.files_added:
        lines.append(f"{name}  now fetches: {', '.join(p.files_added)}")
    if p.files_removed:
        lines.append(f"{name}  no longer fetches: {', '.join(p.files_removed)}")
    if p.shared_files:
        lines.append(f"{name}  via shared: {', '.join(p.shared_files)}")
    return lines


def _file_status(f: FileChange) -> str:
    extra = f"+{f.lines_added} -{f.lines_removed} lines" if not f.binary else "binary"
    return f"{f.status}, {extra}"


def summary(report: Report) -> str:
    if not report.changed:
        c = report.phone_counts
        return f"no changes ({c.unchanged} phones, {report.file_counts.unchanged} files)"
    p, f = report.phone_counts, report.file_counts
    return (
        f"phones: {p.changed} changed, {p.added} added, {p.removed} removed,"
        f" {p.unchanged} unchanged; files: {f.changed} changed, {f.added} added,"
        f" {f.removed} removed, {f.unchanged} unchanged"
    )


def text_report(report: Report, *, files: bool = False) -> str:
    lines = [f"mipc diff: {report.old} → {report.new}"]
    for p in report.phones:
        lines.extend(phone_lines(p))
    shared = [f for f in report.files if f.shared]
    if shared:
        lines.append("shared files:")
        for f in shared:
            lines.append(f"  {f.path}  {_file_status(f)}; fetched by {_names(f.phones)}")
            lines.extend(f"    {setting_text(s)}" for s in f.settings)
    lines.append(summary(report))
    text = "\n".join(lines) + "\n"
    if files:
        text += "".join(f.unified or "" for f in report.files if f.unified)
    return text


def json_report(report: Report) -> dict[str, Any]:
    """The report as plain JSON data (``schemas/diff.schema.json``)."""

    def setting(s: SettingChange) -> dict[str, Any]:
        return {"key": s.key, "old": s.old, "new": s.new, "secret": s.secret, "file": s.file}

    def phone(p: PhoneChange) -> dict[str, Any]:
        return {
            "name": p.name,
            "status": p.status,
            "address": p.address,
            "mac": p.mac,
            "computer_name": p.computer_name,
            "family": p.family,
            "model": p.model,
            "digest_changed": p.digest_changed,
            "fields": [asdict(f) for f in p.fields],
            "settings": [setting(s) for s in p.settings],
            "own_files": list(p.own_files),
            "shared_files": list(p.shared_files),
            "files_added": list(p.files_added),
            "files_removed": list(p.files_removed),
        }

    def file(f: FileChange) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": f.path,
            "status": f.status,
            "phones": list(f.phones),
            "shared": f.shared,
            "decoded": f.decoded,
            "binary": f.binary,
            "lines_added": f.lines_added,
            "lines_removed": f.lines_removed,
            "settings": [setting(s) for s in f.settings],
        }
        if f.unified is not None:
            out["unified"] = f.unified
        return out

    return {
        "format": 1,
        "old": report.old,
        "new": report.new,
        "changed": report.changed,
        "summary": {
            "phones": asdict(report.phone_counts),
            "files": asdict(report.file_counts),
        },
        "phones": [phone(p) for p in report.phones],
        "files": [file(f) for f in report.files],
        "rollout": report.rollout(),
    }


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def github_report(report: Report, *, files: bool = False) -> str:
    """Markdown for a CI job summary (``$GITHUB_STEP_SUMMARY``)."""
    out = [f"### mipc diff: {_md(report.old)} → {_md(report.new)}", ""]
    if not report.changed:
        out.append(f"**{summary(report)}**")
        return "\n".join(out) + "\n"
    p, f = report.phone_counts, report.file_counts
    out += [
        "| | changed | added | removed | unchanged |",
        "|---|---:|---:|---:|---:|",
        f"| phones | {p.changed} | {p.added} | {p.removed} | {p.unchanged} |",
        f"| files | {f.changed} | {f.added} | {f.removed} | {f.unchanged} |",
        "",
    ]
    if report.phones:
        out += ["| phone | address | change |", "|---|---|---|"]
        for ph in report.phones[:GITHUB_ROWS]:
            changes = [_md(line.partition("  ")[2]) for line in phone_lines(ph)]
            addr = f"`{ph.address}`" if ph.address else ""
            out.append(f"| {_md(ph.name)} | {addr} | {'<br>'.join(changes)} |")
        if len(report.phones) > GITHUB_ROWS:
            out.append(f"| … | | {len(report.phones) - GITHUB_ROWS} more phones |")
        out.append("")
    shared = [x for x in report.files if x.shared]
    if shared:
        out += ["**Shared files**", ""]
        for x in shared:
            out.append(f"- `{x.path}` {_file_status(x)}; fetched by {_md(_names(x.phones))}")
            out.extend(f"  - `{_md(setting_text(s))}`" for s in x.settings)
        out.append("")
    if files:
        for x in report.files:
            if x.unified:
                out += [
                    f"<details><summary><code>{x.path}</code></summary>",
                    "",
                    "```diff",
                    x.unified.rstrip("\n"),
                    "```",
                    "</details>",
                    "",
                ]
    return "\n".join(out) + "\n"


# --- the command -------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffOptions:
    against: Path | None = None
    between: tuple[Path, Path] | None = None
    fmt: str = "text"
    files: bool = False
    changed_macs: bool = False
    show_secrets: bool = False
    quiet: bool = False
    server_root: str = DEFAULT_SERVER_ROOT


def _trouble(err: IO[str], message: str) -> int:
    print(f"mipc diff: {message}", file=err)
    return 2


def _quick_report(target: Path | None, opts: DiffOptions) -> Report | None:
    if opts.between is not None or opts.against is None:
        return None
    from mipc.pipeline import default_inventory

    inventory = target if target is not None else default_inventory()
    return unchanged_report(opts.against, inventory, opts.server_root) or incremental_report(
        opts.against, inventory, opts
    )


def incremental_report(against: Path, inventory: Path, opts: DiffOptions) -> Report | None:
    """The report from only the changed phones (:mod:`mipc.incremental.state`), when ``against`` is
    the OUT a build of ``inventory`` made; None: compare in full.

    The shared and network files are the release's (the shortcut applies only when they
    would be), so the changed phones' own files and manifest records are all that differ.
    """
    from mipc.incremental.inputs import release_options
    from mipc.incremental.state import delta

    root, _ = release_folder(against)
    if root.parent.name != "releases" or Path(os.path.realpath(against)) != root.parent.parent:
        return None
    found = delta(inventory, against, root.name, release_options(opts.server_root))
    try:
        own = found.render() if found is not None else None
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
        show_secrets=opts.show_secrets,
        files=opts.files,
    )
    p, f = report.phone_counts, report.file_counts
    total = len(found.state.index.files) + f.added
    return replace(
        report,
        phone_counts=Counts(p.added, p.removed, p.changed, len(found.state.phones) - p.changed),
        file_counts=Counts(f.added, f.removed, f.changed, total - f.added - f.removed - f.changed),
    )


def snapshots(
    target: Path | None, opts: DiffOptions, err: IO[str]
) -> tuple[Snapshot, Snapshot] | int:
    """The two snapshots to compare, or an exit code after printing the trouble."""
    if opts.between is not None:
        return load_release(opts.between[0]), load_release(opts.between[1])
    if opts.against is None:
        return _trouble(err, "say what to compare with: --against OUT or --between OLD NEW")
    from mipc.cli.report import report as print_diagnostics
    from mipc.pipeline import default_inventory, validate

    base = load_release(opts.against)
    inventory = target if target is not None else default_inventory()
    result = validate(inventory)
    if result.plan is None or result.diagnostics.errors:
        print_diagnostics(result.diagnostics, "text" if opts.fmt == "json" else opts.fmt)
        return _trouble(err, f"{inventory} is invalid; nothing compared")
    try:
        new = inventory_snapshot(
            result.plan, base, label=f"inventory {inventory}", server_root=opts.server_root
        )
    except ValueError as exc:
        return _trouble(err, f"cannot render {inventory}: {exc}")
    return base, new


def run_diff(
    target: Path | None,
    opts: DiffOptions,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """Compare, print the report as asked, and return the exit code (0, 1 or 2)."""
    from mipc.pipeline import paused_gc

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        with paused_gc():
            report = _quick_report(target, opts)
            if report is None:
                pair = snapshots(target, opts, err)
                if isinstance(pair, int):
                    return pair
                old, new = pair
                report = diff(old, new, show_secrets=opts.show_secrets, files=opts.files)
    except SnapshotError as exc:
        return _trouble(err, str(exc))
    except OSError as exc:
        return _trouble(err, f"{exc.filename or ''}: {exc.strerror or exc}")
    code = 1 if report.changed else 0
    if opts.quiet:
        return code
    if opts.changed_macs:
        for address in report.rollout():
            print(address, file=out)
    elif opts.fmt == "json":
        print(json.dumps(json_report(report), indent=2, ensure_ascii=False), file=out)
    elif opts.fmt == "github":
        out.write(github_report(report, files=opts.files))
    else:
        out.write(text_report(report, files=opts.files))
    return code
