"""The diff stage: what a release would change, per phone, per setting and per file (issue 8).

:func:`diff` is pure: it compares two :class:`Snapshot` values (a release read from disk, or
an inventory rendered in memory; :mod:`mipc.cli.commands.diff` builds them) and returns a
:class:`Report`. File contents are reached through :class:`FileRef` loaders, so only the
files whose hashes differ are ever read.

Settings are decoded from the vendor formats: Polycom XML attributes (``reg.1.label``),
``key=value`` lines (AudioCodes, Genesys, Interaction SIP Station) and the soft phone's XML
(``Lines/Line[1]/authPassword``). A file is *own* when exactly one phone fetches it; files
fetched by several phones or by none (registration group files, ``server/*``,
``000000000000.cfg``, ``network/*``) are *shared* and reported once, with the phones they
affect. Secrets (keys that look like passwords, and any value equal to a known secret) show
as ``<redacted>`` unless ``show_secrets``.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

REDACTED = "<redacted>"

#: Setting keys whose values are secrets (matched case-insensitively, fnmatch style).
SECRET_PATTERNS: tuple[str, ...] = (
    "*password*",
    "*passwd*",
    "*passphrase*",
    "*secret*",
    "*.auth.password",
    "voip/line/*/auth_password",
    "*private_key*",
    "*privatekey*",
)

#: Phone record fields compared besides files (label shown in reports).
PHONE_FIELDS: tuple[tuple[str, str], ...] = (
    ("firmware", "firmware"),
    ("family", "family"),
    ("model", "model"),
    ("address", "address"),
    ("type", "type"),
    ("location", "location"),
    ("template", "template"),
    ("registration_group", "registration group"),
)

Status = Literal["added", "removed", "changed", "unchanged"]


# --- snapshots ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileRef:
    """One file of a snapshot: its hash and size when known, and how to read it."""

    sha256: str | None
    size: int | None
    loader: Callable[[], bytes] = field(compare=False, repr=False)

    @staticmethod
    def of(data: bytes) -> FileRef:
        """A file held in memory (hash computed only if a comparison needs it)."""
        return FileRef(None, len(data), lambda: data)

    def read(self) -> bytes:
        return self.loader()

    def digest(self) -> str:
        return self.sha256 if self.sha256 is not None else hashlib.sha256(self.read()).hexdigest()


@dataclass(frozen=True)
class PhoneRecord:
    """What a manifest says about one phone."""

    name: str
    family: str = ""
    model: str = ""
    address: str | None = None
    mac: str | None = None
    computer_name: str | None = None
    firmware: str | None = None
    files: tuple[str, ...] = ()
    digest: str | None = None
    type: str | None = None
    location: str | None = None
    template: str | None = None
    registration_group: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """A release's contents: files by path (``www/...``, ``network/...``) and phones by name.

    ``secrets`` are secret values known to whoever built the snapshot (from the inventory):
    any setting with one of these values is redacted whatever its key.
    """

    files: Mapping[str, FileRef]
    phones: Mapping[str, PhoneRecord]
    label: str = ""
    version: str | None = None
    secrets: frozenset[str] = frozenset()
    inventory_digest: str | None = None  # sha256 of the inventory's sources
    toolchain: str | None = None  # the package digest of the mipc that made the release

    @staticmethod
    def of(
        files: Mapping[str, bytes | FileRef],
        phones: Iterable[PhoneRecord] = (),
        *,
        label: str = "",
        secrets: Iterable[str] = (),
    ) -> Snapshot:
        """A snapshot from plain bytes (tests, small tools)."""
        return Snapshot(
            files={p: f if isinstance(f, FileRef) else FileRef.of(f) for p, f in files.items()},
            phones={p.name: p for p in phones},
            label=label,
            secrets=frozenset(secrets),
        )


EMPTY = Snapshot(files={}, phones={}, label="(nothing)")


# --- the report --------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingChange:
    """One decoded setting that differs. ``None`` means absent; secrets hold ``<redacted>``."""

    key: str
    old: str | None
    new: str | None
    secret: bool = False
    file: str = ""  # the file it is in (``old → new`` when the phone's file was renamed)


@dataclass(frozen=True)
class FileChange:
    path: str
    status: Status
    phones: tuple[str, ...]  # every phone that fetches it, before or after
    shared: bool
    settings: tuple[SettingChange, ...] = ()
    decoded: bool = True  # False: not a format whose settings we read (line counts only)
    lines_added: int = 0
    lines_removed: int = 0
    binary: bool = False
    unified: str | None = None  # with ``files=True``; redacted


@dataclass(frozen=True)
class FieldChange:
    field: str  # label from PHONE_FIELDS
    old: str | None
    new: str | None


@dataclass(frozen=True)
class PhoneChange:
    name: str
    status: Status
    address: str | None
    mac: str | None
    computer_name: str | None
    family: str
    model: str
    digest_changed: bool = False
    fields: tuple[FieldChange, ...] = ()
    settings: tuple[SettingChange, ...] = ()  # from its own files
    own_files: tuple[str, ...] = ()  # its own files that change (added, removed, changed)
    shared_files: tuple[str, ...] = ()  # shared files it fetches that change
    files_added: tuple[str, ...] = ()  # files it fetches now and did not (not renamed)
    files_removed: tuple[str, ...] = ()  # files it no longer fetches

    @property
    def firmware(self) -> FieldChange | None:
        return next((f for f in self.fields if f.field == "firmware"), None)


@dataclass(frozen=True)
class Counts:
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class Report:
    old: str
    new: str
    phones: tuple[PhoneChange, ...]  # added, removed and changed phones, by name
    files: tuple[FileChange, ...]  # added, removed and changed files, by path
    phone_counts: Counts
    file_counts: Counts

    @property
    def changed(self) -> bool:
        return bool(self.phones or self.files)

    def rollout(self) -> list[str]:
        """MACs and computer names of the phones whose files change, sorted, each once."""
        return sorted({p.address for p in self.phones if p.address})


# --- decoding ----------------------------------------------------------------------------


def is_secret_key(key: str) -> bool:
    low = key.lower()
    return any(fnmatch.fnmatchcase(low, pattern) for pattern in SECRET_PATTERNS)


def is_binary(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


_KV = re.compile(r"^\s*([^#;=\s][^=]*?)\s*=(.*)$")
_XML_ATTR = re.compile(r"""([\w.:-]+)(\s*=\s*)(["'])(.*?)\3""")


def _flatten_xml(root: ET.Element) -> dict[str, str]:
    """Polycom: attribute names are the setting names; other XML: ``path/attr``."""
    out: dict[str, str] = {}
    polycom = root.tag in ("polycomConfig", "APPLICATION")

    def visit(elem: ET.Element, path: str) -> None:
        for name, value in elem.attrib.items():
            if polycom or "." in name:
                key = name if polycom or not path else f"{path}/{name}"
            else:
                key = f"{path}/{name}" if path else name
            out[key] = value
        text = (elem.text or "").strip()
        if text and path:
            out[path] = text
        counts: dict[str, int] = {}
        for child in elem:
            if not isinstance(child.tag, str):
                continue  # a comment or a processing instruction
            counts[child.tag] = counts.get(child.tag, 0) + 1
        seen: dict[str, int] = {}
        for child in elem:
            if not isinstance(child.tag, str):
                continue
            seen[child.tag] = seen.get(child.tag, 0) + 1
            tag = child.tag
            if counts[tag] > 1:
                ident = child.attrib.get("index") or child.attrib.get("entry")
                tag = f"{tag}[{ident or seen[child.tag]}]"
            visit(child, f"{path}/{tag}" if path else tag)

    visit(root, "")
    return out


def _parse_kv(text: str) -> dict[str, str] | None:
    out: dict[str, str] = {}
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return None
    for line in lines:
        m = _KV.match(line)
        if m is None:
            return None
        key, value = m.group(1), m.group(2).strip()
        n, unique = 2, key
        while unique in out:
            unique = f"{key}#{n}"
            n += 1
        out[unique] = value
    return out


def decode_settings(path: str, data: bytes) -> dict[str, str] | None:
    """The settings of one file, in file order; None when the format is not one we read.

    XML files (Polycom ``.cfg``, the soft phone's ``.i3sipcfg``) give their attributes;
    ``key=value`` files give their keys. Network files (DHCP, DNS, nginx) are not decoded.
    """
    if path.startswith("network/") or is_binary(data):
        return None
    text = data.decode("utf-8")
    if text.lstrip().startswith("<"):
        try:
            return _flatten_xml(ET.fromstring(data))
        except ET.ParseError:
            return None
    return _parse_kv(text)


# --- comparing ---------------------------------------------------------------------------


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


def redact_line(line: str, secrets: frozenset[str]) -> str:
    """A line of a file with secret values replaced (for unified diffs)."""
    if _XML_ATTR.search(line):
        line = _XML_ATTR.sub(
            lambda a: (
                f"{a.group(1)}{a.group(2)}{a.group(3)}{REDACTED}{a.group(3)}"
                if is_secret_key(a.group(1))
                else a.group(0)
            ),
            line,
        )
    else:
        m = _KV.match(line)
        if m is not None and is_secret_key(m.group(1)):
            line = line[: m.start(2)] + REDACTED + ("\n" if line.endswith("\n") else "")
    for value in secrets:
        if len(value) >= 4 and value in line:
            line = line.replace(value, REDACTED)
    return line


def unified_diff(
    path: str,
    old: bytes | None,
    new: bytes | None,
    *,
    secrets: frozenset[str] = frozenset(),
    show_secrets: bool = False,
) -> str:
    """A unified diff of one file (``/dev/null`` for a side that does not exist)."""
    a = old.decode("utf-8", "replace").splitlines(keepends=True) if old is not None else []
    b = new.decode("utf-8", "replace").splitlines(keepends=True) if new is not None else []
    lines = difflib.unified_diff(
        a,
        b,
        fromfile=f"a/{path}" if old is not None else "/dev/null",
        tofile=f"b/{path}" if new is not None else "/dev/null",
    )
    out = []
    for line in lines:
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        if not show_secrets and line[:1] in "+- " and not line.startswith(("+++", "---")):
            line = line[0] + redact_line(line[1:], secrets)
        out.append(line)
    return "".join(out)


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


def _settings_of(ref: FileRef | None, path: str) -> dict[str, str] | None:
    if ref is None:
        return {}
    return decode_settings(path, ref.read())


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


def diff(
    old: Snapshot,
    new: Snapshot,
    *,
    show_secrets: bool = False,
    files: bool = False,
) -> Report:
    """Compare two snapshots. ``files`` adds (redacted) unified diffs to changed files."""
    secrets = old.secrets | new.secrets
    old_users, new_users = _phones_of(old), _phones_of(new)

    # Files first: which paths differ, and who fetches them.
    file_status: dict[str, Status] = {}
    for path, ref in new.files.items():
        before = old.files.get(path)
        if before is None:
            file_status[path] = "added"
        elif not same_file(before, ref):
            file_status[path] = "changed"
    for path in old.files:
        if path not in new.files:
            file_status[path] = "removed"
    n_files = len(set(old.files) | set(new.files))

    file_changes: list[FileChange] = []
    decoded: dict[str, tuple[SettingChange, ...]] = {}
    for path in sorted(file_status):
        status = file_status[path]
        users = tuple(sorted({*old_users.get(path, ()), *new_users.get(path, ())}))
        o, n = old.files.get(path), new.files.get(path)
        a = o.read() if o is not None else None
        b = n.read() if n is not None else None
        binary = (a is not None and is_binary(a)) or (b is not None and is_binary(b))
        settings: tuple[SettingChange, ...] = ()
        ok = False
        if not binary:
            sa = decode_settings(path, a) if a is not None else {}
            sb = decode_settings(path, b) if b is not None else {}
            if sa is not None and sb is not None:
                ok = True
                settings = tuple(
                    setting_changes(sa, sb, file=path, secrets=secrets, show_secrets=show_secrets)
                )
        decoded[path] = settings
        added, removed = (0, 0) if binary else _line_counts(a, b)
        file_changes.append(
            FileChange(
                path=path,
                status=status,
                phones=users,
                shared=len(users) != 1,
                settings=settings,
                decoded=ok,
                lines_added=added,
                lines_removed=removed,
                binary=binary,
                unified=(
                    unified_diff(path, a, b, secrets=secrets, show_secrets=show_secrets)
                    if files and not binary
                    else None
                ),
            )
        )
    shared = {fc.path for fc in file_changes if fc.shared}

    # Then phones.
    phone_changes: list[PhoneChange] = []
    for name in sorted(set(old.phones) | set(new.phones)):
        po, pn = old.phones.get(name), new.phones.get(name)
        if po is None or pn is None:
            rec = pn if pn is not None else po
            assert rec is not None
            gone: Status = "added" if po is None else "removed"
            paths = rec.files
            phone_changes.append(
                PhoneChange(
                    name=name,
                    status=gone,
                    address=rec.address,
                    mac=rec.mac,
                    computer_name=rec.computer_name,
                    family=rec.family,
                    model=rec.model,
                    own_files=tuple(p for p in paths if p in file_status and p not in shared),
                    shared_files=tuple(p for p in paths if p in shared),
                )
            )
            continue
        fields = tuple(
            FieldChange(label, getattr(po, attr), getattr(pn, attr))
            for attr, label in PHONE_FIELDS
            if getattr(po, attr) != getattr(pn, attr)
        )
        old_set, new_set = set(po.files), set(pn.files)
        touched = [p for p in sorted(old_set | new_set) if p in file_status]
        if not fields and old_set == new_set and not touched:
            continue
        old_only, new_only = sorted(old_set - new_set), sorted(new_set - old_set)
        pairs = _pair_renamed(
            [p for p in old_only if len(old_users.get(p, ())) <= 1],
            [p for p in new_only if len(new_users.get(p, ())) <= 1],
        )
        paired = {p for pair in pairs for p in pair}
        settings_list: list[SettingChange] = []
        for path in touched:
            if path in shared or path in paired:
                continue
            if path in old_set and path in new_set:
                settings_list.extend(decoded.get(path, ()))
        for a_path, b_path in pairs:
            sa = _settings_of(old.files.get(a_path), a_path)
            sb = _settings_of(new.files.get(b_path), b_path)
            if sa is not None and sb is not None:
                settings_list.extend(
                    setting_changes(
                        sa,
                        sb,
                        file=f"{a_path} → {b_path}",
                        secrets=secrets,
                        show_secrets=show_secrets,
                    )
                )
        phone_changes.append(
            PhoneChange(
                name=name,
                status="changed",
                address=pn.address,
                mac=pn.mac,
                computer_name=pn.computer_name,
                family=pn.family,
                model=pn.model,
                digest_changed=po.digest != pn.digest,
                fields=fields,
                settings=tuple(settings_list),
                own_files=tuple(p for p in touched if p not in shared),
                shared_files=tuple(p for p in touched if p in shared),
                files_added=tuple(p for p in new_only if p not in paired),
                files_removed=tuple(p for p in old_only if p not in paired),
            )
        )

    def count(items: Iterable[str], total: int) -> Counts:
        items = list(items)
        c = Counts(
            added=items.count("added"),
            removed=items.count("removed"),
            changed=items.count("changed"),
        )
        return Counts(c.added, c.removed, c.changed, total - c.added - c.removed - c.changed)

    phone_total = len(set(old.phones) | set(new.phones))
    return Report(
        old=old.label,
        new=new.label,
        phones=tuple(phone_changes),
        files=tuple(file_changes),
        phone_counts=count((p.status for p in phone_changes), phone_total),
        file_counts=count(file_status.values(), n_files),
    )
