"""What a release was built from, so an unchanged inventory is known without compiling it.

After a build, ``OUT/inputs.json`` records every input the release depends on: the inventory's
YAML files (and, for a folder, which YAML files it holds), the phone lists, the secrets read
from files and environment variables (as HMACs keyed by ``OUT/.inputs.key``, never the
values), the template overrides, custom files and certificates next to the inventory, the
firmware store (names, sizes and modification times: images are large), the build options
that shape the release, and mipc itself (its code, data and templates, tzdata, Python). It
also keeps the build's diagnostics, so a no-op build reports the same warnings.

The next build (and ``mipc diff``) looks at those inputs first: if every one is unchanged and
``current`` is still the release they made, nothing needs compiling. Any difference, a missing
record, or a record written by another mipc, means a full build. The check costs reading and
hashing the inputs (a few milliseconds for thousands of phones), against seconds to compile.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mipc import __version__
from mipc.diagnostics import Diagnostic, Diagnostics, MipcError, Position, Severity
from mipc.incremental.confined import escaping
from mipc.inventory.load import inventory_files
from mipc.model import Inventory
from mipc.resources import package_digest

RECORD = "inputs.json"
KEY = ".inputs.key"
FORMAT = 1
#: The bytes of a new key, and the fewest a key read back may hold.
KEY_BYTES = 32
MIN_KEY_BYTES = 16
ABSENT = "-"  # the digest of a file, folder or variable that is not there
#: Nanoseconds: a record is written only if no input changed since this long before the
#: build began. The kernel's file clock lags by up to a tick; file systems that keep whole
#: seconds (FAT, some network shares) round by up to two.
FINE_SLACK = 50_000_000
COARSE_SLACK = 2_000_000_000


@dataclass(frozen=True)
class Inputs:
    """Digests of everything a release depends on, by kind."""

    files: Mapping[str, str]  # absolute path -> sha256 of its bytes, or ABSENT
    secret_files: Mapping[str, str]  # absolute path -> keyed digest of its bytes, or ABSENT
    trees: Mapping[str, str]  # folder -> digest of its files' names and bytes, or ABSENT
    stores: Mapping[str, str]  # folder -> digest of names, sizes, mtimes (large files)
    listings: Mapping[str, str]  # inventory folder -> digest of the YAML file names in it
    env: Mapping[str, str]  # variable -> keyed digest of its value, or ABSENT
    toolchain: str  # mipc's code, data and templates; tzdata; Python
    options: str  # the build options that shape the release

    def as_json(self) -> dict[str, Any]:
        """The digests as ``inputs.json`` keeps them (tables sorted)."""
        return {
            "files": dict(sorted(self.files.items())),
            "secret_files": dict(sorted(self.secret_files.items())),
            "trees": dict(sorted(self.trees.items())),
            "stores": dict(sorted(self.stores.items())),
            "listings": dict(sorted(self.listings.items())),
            "env": dict(sorted(self.env.items())),
            "toolchain": self.toolchain,
            "options": self.options,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Inputs:
        """The digests read back; ``ValueError`` when a table is not one."""

        def table(key: str) -> dict[str, str]:
            value = data.get(key)
            if not isinstance(value, dict):
                raise ValueError(f"{key} is not a table")
            return {str(k): str(v) for k, v in value.items()}

        return cls(
            files=table("files"),
            secret_files=table("secret_files"),
            trees=table("trees"),
            stores=table("stores"),
            listings=table("listings"),
            env=table("env"),
            toolchain=str(data["toolchain"]),
            options=str(data["options"]),
        )


# --- digests -----------------------------------------------------------------------------


def file_digest(path: str) -> str:
    """The sha256 of a file's bytes, or ABSENT (a folder has a digest of its own)."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except (FileNotFoundError, NotADirectoryError):
        return ABSENT
    except IsADirectoryError:
        return "dir"


def _walk(folder: str) -> list[str]:
    """Files below ``folder`` (relative, sorted). Symlinked folders are followed, as the
    renderers follow them, each real folder once (no loops)."""
    out: list[str] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames.clear()
            continue
        seen.add(real)
        dirnames.sort()
        rel = os.path.relpath(dirpath, folder)
        for name in filenames:
            out.append(name if rel == "." else f"{rel}/{name}")
    return sorted(out)


def tree_digest(folder: str) -> str:
    """Names and bytes of every file below ``folder``."""
    if not os.path.isdir(folder):
        return ABSENT
    h = hashlib.sha256()
    for rel in _walk(folder):
        h.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        h.update(file_digest(os.path.join(folder, rel)).encode() + b"\n")
    return h.hexdigest()


def store_digest(folder: str) -> str:
    """Names, sizes and modification times below ``folder`` (firmware images are large)."""
    if not os.path.isdir(folder):
        return ABSENT
    h = hashlib.sha256()
    for rel in _walk(folder):
        try:
            st = os.stat(os.path.join(folder, rel))
        except OSError:
            continue
        h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def listing_digest(target: str) -> str:
    """Which YAML files an inventory folder holds (a new file changes the inventory)."""
    path = Path(target)
    if not path.exists():
        return ABSENT
    _, files = inventory_files(path)
    return hashlib.sha256("\0".join(p.name for p in files).encode()).hexdigest()


def secret_digest(key: bytes, value: bytes | None) -> str:
    """A keyed digest: the record may be copied around; a plain hash of a short password
    could be guessed back."""
    return ABSENT if value is None else hmac.new(key, value, "sha256").hexdigest()


def env_digest(key: bytes, name: str) -> str:
    """The keyed digest of an environment variable's value (or of its absence)."""
    value = os.environ.get(name)
    return secret_digest(key, None if value is None else value.encode())


def secret_file_digest(key: bytes, path: str) -> str:
    """The keyed digest of a secret file's bytes (or of its absence)."""
    try:
        with open(path, "rb") as fh:
            return secret_digest(key, fh.read())
    except OSError:
        return ABSENT


class BadKey(MipcError):
    """``OUT/.inputs.key`` is too short to key the secrets' digests (exit code 2)."""


def read_key(out: Path) -> bytes | None:
    """``OUT/.inputs.key``, or None when there is none; :class:`BadKey` when it is shorter
    than :data:`MIN_KEY_BYTES` (an empty key would leave the secrets' digests unkeyed)."""
    path = out / KEY
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(key) < MIN_KEY_BYTES:
        raise BadKey(
            f"{path} holds {len(key)} bytes, too few to key the secrets' digests"
            f" (at least {MIN_KEY_BYTES}); delete it and build again (mipc makes a new one)"
        )
    return key


def secret_key(out: Path) -> bytes:
    """``OUT/.inputs.key``: made on first use of :data:`KEY_BYTES` random bytes, readable by
    its owner only; :class:`BadKey` when the one there is too short."""
    key = read_key(out)
    if key is not None:
        return key
    key = os.urandom(KEY_BYTES)
    try:
        fd = os.open(out / KEY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return secret_key(out)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def release_options(server_root: str) -> dict[str, str]:
    """The build options that shape a release's bytes: part of its recorded inputs, for the
    build that records them and the diff that checks them alike."""
    return {"server_root": server_root}


def options_digest(options: Mapping[str, str]) -> str:
    """The digest of the build options that shape a release."""
    return hashlib.sha256(json.dumps(dict(options), sort_keys=True).encode()).hexdigest()


# --- what an inventory reads ---------------------------------------------------------------


def _secret_refs(inventory: Inventory) -> Iterable[tuple[str | None, str | None]]:
    """(env, file) of every secret the inventory names, in any layer or appearance."""
    for ref in inventory.serving.secrets():
        yield ref.env, ref.file
    layers = [inventory.defaults]
    layers += [loc.layer for loc in inventory.locations.values()]
    layers += [t.layer for t in inventory.templates.values()]
    for phone in inventory.phones:
        layers.append(phone.layer)
        for app in phone.appearances:
            if app.auth_password is not None:
                yield app.auth_password.env, app.auth_password.file
    for layer in layers:
        for setting in layer.values():
            value = setting.value
            if isinstance(value, Mapping) and ("env" in value or "file" in value):
                env, file = value.get("env"), value.get("file")
                yield (str(env) if env else None), (str(file) if file else None)


def secret_inputs(inventory: Inventory, key: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """The keyed digests of the environment variables and files the inventory's secrets
    name."""
    root = os.path.abspath(inventory.root)
    env: dict[str, str] = {}
    secret_files: dict[str, str] = {}
    for name, file in _secret_refs(inventory):
        if name:
            env[name] = env_digest(key, name)
        if file:
            path = os.path.abspath(os.path.join(root, file))
            secret_files[path] = secret_file_digest(key, path)
    return env, secret_files


def record_inputs(
    target: Path,
    inventory: Inventory,
    sources: Iterable[Path],
    options: Mapping[str, str],
    key: bytes,
) -> Inputs:
    """The inputs of a build of ``target`` (``sources``: the YAML files and phone lists);
    ``key`` keys the digests of secrets."""
    root = os.path.abspath(inventory.root)
    files = {os.path.abspath(p): file_digest(os.path.abspath(p)) for p in sources}
    env, secret_files = secret_inputs(inventory, key)
    trees = {
        folder: tree_digest(folder)
        for folder in (
            os.path.join(root, "vendor_templates"),
            os.path.join(root, "custom_files"),
            os.path.join(root, "certs"),
        )
    }
    stores: dict[str, str] = {}
    if inventory.firmware_store:
        store = os.path.abspath(os.path.join(root, inventory.firmware_store))
        stores[store] = store_digest(store)
    listings = {}
    if target.is_dir():
        listings[os.path.abspath(target)] = listing_digest(os.path.abspath(target))
    return Inputs(
        files=files,
        secret_files=secret_files,
        trees=trees,
        stores=stores,
        listings=listings,
        env=env,
        toolchain=package_digest(),
        options=options_digest(options),
    )


def settled(inputs: Inputs, since_ns: int) -> bool:
    """Whether every recorded input was last modified before ``since_ns`` (the build's start,
    ``time.time_ns()``), less the slack of its file system's clock: an input edited while the
    build ran must not be recorded as what the release was made from."""
    paths = [p for p, d in (*inputs.files.items(), *inputs.secret_files.items()) if d != ABSENT]
    for folder in (*inputs.trees, *inputs.stores, *inputs.listings):
        if os.path.isdir(folder):
            paths.append(folder)
            if folder not in inputs.listings:
                files = _walk(folder)
                paths.extend(os.path.join(folder, rel) for rel in files)
                # a file removed leaves its folder's time changed
                paths.extend({os.path.join(folder, os.path.dirname(rel)) for rel in files})
    for path in paths:
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            continue
        slack = COARSE_SLACK if mtime % 1_000_000_000 == 0 else FINE_SLACK
        if mtime >= since_ns - slack:
            return False
    return True


def unchanged(saved: Inputs, options: Mapping[str, str], key: bytes) -> bool:
    """Whether every input recorded in ``saved`` is as it was (cheapest checks first)."""
    return unchanged_but_files(saved, options, key) and not changed_files(saved)


def changed_files(saved: Inputs) -> list[str]:
    """The inventory files (YAML files, phone lists) whose bytes changed since ``saved``."""
    return [k for k, v in saved.files.items() if file_digest(k) != v]


def unchanged_but_files(saved: Inputs, options: Mapping[str, str], key: bytes) -> bool:
    """Whether every input recorded in ``saved`` but the inventory's own files is as it was."""
    return (
        saved.toolchain == package_digest()
        and saved.options == options_digest(options)
        and all(env_digest(key, k) == v for k, v in saved.env.items())
        and all(listing_digest(k) == v for k, v in saved.listings.items())
        and all(secret_file_digest(key, k) == v for k, v in saved.secret_files.items())
        and all(tree_digest(k) == v for k, v in saved.trees.items())
        and all(store_digest(k) == v for k, v in saved.stores.items())
    )


# --- the record in OUT -------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """``OUT/inputs.json``: the inputs, the release they made, and the build's diagnostics."""

    target: str  # the inventory path as given, made absolute
    release: str
    phones: int
    files: int
    inputs: Inputs
    diagnostics: tuple[Diagnostic, ...]
    waiting: int = 0  # phones that wait for an address
    nginx_user: str = "www-data"  # serving.nginx_user, for the upload folders' check

    def to_bytes(self) -> bytes:
        """The record as ``inputs.json`` holds it."""
        doc = {
            "format": FORMAT,
            "mipc_version": __version__,
            "target": self.target,
            "release": self.release,
            "phones": self.phones,
            "files": self.files,
            "inputs": self.inputs.as_json(),
            "diagnostics": [_diagnostic_json(d) for d in self.diagnostics],
            "waiting": self.waiting,
            "nginx_user": self.nginx_user,
        }
        return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()

    @classmethod
    def read(cls, out: Path) -> Record | None:
        """The record in ``out``, or None if there is none or it cannot be trusted."""
        try:
            doc = json.loads((out / RECORD).read_bytes())
            if doc.get("format") != FORMAT or doc.get("mipc_version") != __version__:
                return None
            return cls(
                target=str(doc["target"]),
                release=str(doc["release"]),
                phones=int(doc["phones"]),
                files=int(doc["files"]),
                inputs=Inputs.from_json(doc["inputs"]),
                diagnostics=tuple(_diagnostic(d) for d in doc["diagnostics"]),
                waiting=int(doc.get("waiting", 0)),
                nginx_user=str(doc.get("nginx_user", "www-data")),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


def _diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    p = d.position
    return {
        "severity": d.severity.value,
        "code": d.code,
        "message": d.message,
        "path": d.path,
        "subject": d.subject,
        "position": None
        if p is None
        else {"file": p.file, "line": p.line, "col": p.col, "column_name": p.column_name},
    }


def _diagnostic(data: Mapping[str, Any]) -> Diagnostic:
    p = data.get("position")
    position = None
    if isinstance(p, Mapping):
        position = Position(
            str(p["file"]), int(p["line"]), int(p["col"]), str(p.get("column_name") or "")
        )
    return Diagnostic(
        Severity(str(data["severity"])),
        str(data["code"]),
        str(data["message"]),
        position,
        str(data.get("path") or ""),
        str(data.get("subject") or ""),
    )


def up_to_date(
    out: Path, target: Path, current: str | None, options: Mapping[str, str]
) -> Record | None:
    """The record of ``out`` if ``current`` is the release it describes and nothing it was
    built from has changed; otherwise None (build as usual). An input now leading outside the
    folders a build may read is never opened (:mod:`mipc.incremental.confined`)."""
    if current is None:
        return None
    record = Record.read(out)
    try:
        key = read_key(out)
    except OSError:
        return None
    if (
        key is None
        or record is None
        or record.release != current
        or record.target != os.path.abspath(target)
        or escaping(record.inputs, target, options) is not None
        or not unchanged(record.inputs, options, key)
    ):
        return None
    return record


def saved_diagnostics(diags: Diagnostics) -> tuple[Diagnostic, ...]:
    """The diagnostics a record keeps, in their order of report."""
    return tuple(diags.sorted())
