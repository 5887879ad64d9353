"""The comparison: :func:`diff` of two snapshots, per phone, per setting and per file.

:func:`diff` is pure: it compares two :class:`mipc.diff.model.Snapshot` values (a release read
from disk, or an inventory rendered in memory) and returns a :class:`mipc.diff.model.Report`.
File contents are reached through their loaders, so only the files whose hashes differ are
ever read. A file is *own* when exactly one phone fetches it; files fetched by several phones
or by none (registration group files, ``server/*``, ``000000000000.cfg``, ``network/*``) are
*shared* and reported once, with the phones they affect. Files are compared by stem: a file
served under a content-addressed name (``phone/<guid>.1a2b3c4d.cfg``) is the same file in
both snapshots whatever its digits (:func:`stems`, :func:`by_stem`).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from mipc.artifacts import looks_addressed, stem_of
from mipc.diff.decode import decode_settings, is_binary, is_secret_key, unified_diff
from mipc.diff.model import (
    PHONE_FIELDS,
    REDACTED,
    Counts,
    FieldChange,
    FileChange,
    FileRef,
    PhoneChange,
    PhoneRecord,
    Report,
    SettingChange,
    Snapshot,
    Status,
)


def same_file(old: FileRef, new: FileRef) -> bool:
    """Whether two files hold the same bytes, reading them only when hashes cannot tell."""
    if old.sha256 is not None and new.sha256 is not None:
        return old.sha256 == new.sha256
    if old.size is not None and new.size is not None and old.size != new.size:
        return False
    if old.sha256 is not None or new.sha256 is not None:
        return old.digest() == new.digest()
    return old.read() == new.read()


def _show(value: str, secret: bool) -> str:
    return REDACTED if secret else value


def setting_changes(
    old: Mapping[str, str],
    new: Mapping[str, str],
    *,
    file: str = "",
    secrets: frozenset[str] = frozenset(),
    show_secrets: bool = False,
) -> list[SettingChange]:
    """Settings that differ, in the new file's order, then the removed ones."""
    out: list[SettingChange] = []

    def secret(key: str, *values: str | None) -> bool:
        if show_secrets:
            return False
        return is_secret_key(key) or any(v in secrets for v in values if v)

    for key, value in new.items():
        before = old.get(key)
        if before != value:
            hide = secret(key, before, value)
            out.append(
                SettingChange(
                    key,
                    None if before is None else _show(before, hide),
                    _show(value, hide),
                    hide,
                    file,
                )
            )
    for key, value in old.items():
        if key not in new:
            hide = secret(key, value)
            out.append(SettingChange(key, _show(value, hide), None, hide, file))
    return out


def _line_counts(old: bytes | None, new: bytes | None) -> tuple[int, int]:
    a = old.decode("utf-8", "replace").splitlines() if old is not None else []
    b = new.decode("utf-8", "replace").splitlines() if new is not None else []
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    return added, removed


def _phones_of(snapshot: Snapshot) -> dict[str, list[str]]:
    """File path → names of the phones that fetch it."""
    out: dict[str, list[str]] = {}
    for name, phone in snapshot.phones.items():
        for path in phone.files:
            out.setdefault(path, []).append(name)
    return out


_TOKEN = re.compile(r"[^\s,\"']+")


def _decode(c: _Compare, path: str, data: bytes | None) -> dict[str, str] | None:
    """A file's settings, each file name a value gives under its stem (a master's
    ``CONFIG_FILES`` names the files it lists by their content-addressed names)."""
    if data is None:
        return {}
    settings = decode_settings(path, data)
    if settings is None or not c.renames:
        return settings
    names = c.renames
    return {
        k: _TOKEN.sub(lambda m: names.get(m[0], m[0]), v) if "." in v else v
        for k, v in settings.items()
    }


def _pair_renamed(old_only: list[str], new_only: list[str]) -> list[tuple[str, str]]:
    """Own files a phone stopped fetching and started fetching, paired by folder and suffix.

    A phone moved to another registration group fetches ``proxy/B.cfg`` instead of
    ``proxy/A.cfg``: its settings are compared across the two names.
    """

    def kind(path: str) -> tuple[str, str]:
        return os.path.dirname(path), os.path.splitext(path)[1]

    pairs = []
    for k in sorted({kind(p) for p in old_only}):
        olds = [p for p in old_only if kind(p) == k]
        news = [p for p in new_only if kind(p) == k]
        if len(olds) == 1 and len(news) == 1:
            pairs.append((olds[0], news[0]))
    return pairs


@dataclass
class _Compare:
    """What the steps of one :func:`diff` share."""

    old: Snapshot
    new: Snapshot
    show_secrets: bool
    files: bool
    secrets: frozenset[str] = frozenset()
    old_users: dict[str, list[str]] = field(default_factory=dict)
    new_users: dict[str, list[str]] = field(default_factory=dict)
    status: dict[str, Status] = field(default_factory=dict)  # the files that differ
    decoded: dict[str, tuple[SettingChange, ...]] = field(default_factory=dict)
    shared: set[str] = field(default_factory=set)
    renames: dict[str, str] = field(default_factory=dict)  # served name → stem (under www/)


def stems(snapshot: Snapshot) -> dict[str, str]:
    """Each content-addressed file of ``snapshot`` → its stem (the name without its digits,
    :func:`mipc.artifacts.stem_of`), unless another file has that name already."""
    names: dict[str, str] = {}
    for path, ref in snapshot.files.items():
        if looks_addressed(path):
            stem = stem_of(path, ref.digest())
            if stem != path and stem not in snapshot.files:
                names[path] = stem
    return names


def by_stem(snapshot: Snapshot, names: Mapping[str, str]) -> Snapshot:
    """``snapshot`` with the files ``names`` renames (:func:`stems`) under their stems, in its
    files and in its phones' records."""
    if not names:
        return snapshot
    files = {names.get(p, p): ref for p, ref in snapshot.files.items()}
    phones = {
        name: replace(rec, files=tuple(names.get(p, p) for p in rec.files))
        for name, rec in snapshot.phones.items()
    }
    return replace(snapshot, files=files, phones=phones)


def diff(
    old: Snapshot,
    new: Snapshot,
    *,
    show_secrets: bool = False,
    files: bool = False,
) -> Report:
    """Compare two snapshots (by stem, see :func:`stems`). ``files`` adds (redacted)
    unified diffs to changed files."""
    old_names, new_names = stems(old), stems(new)
    old, new = by_stem(old, old_names), by_stem(new, new_names)
    c = _Compare(old, new, show_secrets, files, old.secrets | new.secrets)
    renamed = {**old_names, **new_names}  # a name means the same bytes in both
    c.renames = {p.removeprefix("www/"): s.removeprefix("www/") for p, s in renamed.items()}
    c.old_users, c.new_users = _phones_of(old), _phones_of(new)
    c.status = _file_statuses(old, new)
    # Files first: which paths differ, and who fetches them; then phones.
    file_changes = [_file_change(c, path) for path in sorted(c.status)]
    c.shared = {fc.path for fc in file_changes if fc.shared}
    phone_changes: list[PhoneChange] = []
    for name in sorted(set(old.phones) | set(new.phones)):
        po, pn = old.phones.get(name), new.phones.get(name)
        if po is not None and pn is not None:
            change = _changed_phone(c, name, po, pn)
        else:
            change = _gone(c, name, po, pn)
        if change is not None:
            phone_changes.append(change)
    return Report(
        old=old.label,
        new=new.label,
        phones=tuple(phone_changes),
        files=tuple(file_changes),
        phone_counts=_count(
            [p.status for p in phone_changes], len(set(old.phones) | set(new.phones))
        ),
        file_counts=_count(list(c.status.values()), len(set(old.files) | set(new.files))),
    )


def _file_statuses(old: Snapshot, new: Snapshot) -> dict[str, Status]:
    """The paths that differ: added, changed or removed."""
    status: dict[str, Status] = {}
    for path, ref in new.files.items():
        before = old.files.get(path)
        if before is None:
            status[path] = "added"
        elif not same_file(before, ref):
            status[path] = "changed"
    for path in old.files:
        if path not in new.files:
            status[path] = "removed"
    return status


def _file_change(c: _Compare, path: str) -> FileChange:
    """One differing file: who fetches it, its settings' changes (decoded once, kept in
    ``c.decoded`` for the phones), line counts and, if asked, a unified diff."""
    users = tuple(sorted({*c.old_users.get(path, ()), *c.new_users.get(path, ())}))
    o, n = c.old.files.get(path), c.new.files.get(path)
    a = o.read() if o is not None else None
    b = n.read() if n is not None else None
    binary = (a is not None and is_binary(a)) or (b is not None and is_binary(b))
    settings: tuple[SettingChange, ...] = ()
    ok = False
    if not binary:
        sa, sb = _decode(c, path, a), _decode(c, path, b)
        if sa is not None and sb is not None:
            ok = True
            settings = tuple(
                setting_changes(sa, sb, file=path, secrets=c.secrets, show_secrets=c.show_secrets)
            )
    c.decoded[path] = settings
    added, removed = (0, 0) if binary else _line_counts(a, b)
    unified = None
    if c.files and not binary:
        unified = unified_diff(path, a, b, secrets=c.secrets, show_secrets=c.show_secrets)
    return FileChange(
        path=path,
        status=c.status[path],
        phones=users,
        shared=len(users) != 1,
        settings=settings,
        decoded=ok,
        lines_added=added,
        lines_removed=removed,
        binary=binary,
        unified=unified,
    )


def _gone(c: _Compare, name: str, po: PhoneRecord | None, pn: PhoneRecord | None) -> PhoneChange:
    """A phone that only one of the snapshots has."""
    rec = pn if pn is not None else po
    assert rec is not None
    paths = rec.files
    return PhoneChange(
        name=name,
        status="added" if po is None else "removed",
        address=rec.address,
        mac=rec.mac,
        computer_name=rec.computer_name,
        family=rec.family,
        model=rec.model,
        own_files=tuple(p for p in paths if p in c.status and p not in c.shared),
        shared_files=tuple(p for p in paths if p in c.shared),
    )


def _changed_phone(c: _Compare, name: str, po: PhoneRecord, pn: PhoneRecord) -> PhoneChange | None:
    """A phone both snapshots have, if anything of it differs."""
    fields = tuple(
        FieldChange(label, getattr(po, attr), getattr(pn, attr))
        for attr, label in PHONE_FIELDS
        if getattr(po, attr) != getattr(pn, attr)
    )
    old_set, new_set = set(po.files), set(pn.files)
    touched = [p for p in sorted(old_set | new_set) if p in c.status]
    if not fields and old_set == new_set and not touched:
        return None
    old_only, new_only = sorted(old_set - new_set), sorted(new_set - old_set)
    pairs = _pair_renamed(
        [p for p in old_only if len(c.old_users.get(p, ())) <= 1],
        [p for p in new_only if len(c.new_users.get(p, ())) <= 1],
    )
    paired = {p for pair in pairs for p in pair}
    settings: list[SettingChange] = []
    for path in touched:
        if path not in c.shared and path not in paired and path in old_set and path in new_set:
            settings.extend(c.decoded.get(path, ()))
    for a_path, b_path in pairs:
        settings.extend(_renamed_settings(c, a_path, b_path))
    return PhoneChange(
        name=name,
        status="changed",
        address=pn.address,
        mac=pn.mac,
        computer_name=pn.computer_name,
        family=pn.family,
        model=pn.model,
        digest_changed=po.digest != pn.digest,
        fields=fields,
        settings=tuple(settings),
        own_files=tuple(p for p in touched if p not in c.shared),
        shared_files=tuple(p for p in touched if p in c.shared),
        files_added=tuple(p for p in new_only if p not in paired),
        files_removed=tuple(p for p in old_only if p not in paired),
    )


def _renamed_settings(c: _Compare, a_path: str, b_path: str) -> list[SettingChange]:
    """The settings' changes between a phone's file and the file that took its place."""
    ref_a, ref_b = c.old.files.get(a_path), c.new.files.get(b_path)
    sa = _decode(c, a_path, ref_a.read() if ref_a is not None else None)
    sb = _decode(c, b_path, ref_b.read() if ref_b is not None else None)
    if sa is None or sb is None:
        return []
    return setting_changes(
        sa, sb, file=f"{a_path} → {b_path}", secrets=c.secrets, show_secrets=c.show_secrets
    )


def _count(items: list[str], total: int) -> Counts:
    """Counts of statuses, the rest of ``total`` unchanged."""
    added, removed, changed = items.count("added"), items.count("removed"), items.count("changed")
    return Counts(added, removed, changed, total - added - removed - changed)
