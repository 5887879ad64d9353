"""``mipc simulate PHONE (--tree OUT | --url URL)``: play a phone's boot against a release.

Takes a :class:`SimulateOptions`; gives the exit code: 0 the phone would boot, 1 a file it
asks for is missing or does not parse (or the release has no such phone), 2 trouble (OUT
missing, the server unreachable, bad options). Reports each request with its answer, the
effective settings with the file each came from (secrets ``<redacted>`` unless asked) and the
uploads the phone would make; JSON: ``phone``, ``family``, ``requests``, ``settings``,
``uploads``. Never parses argv.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mipc.cli.report import reporter
from mipc.diagnostics import InvalidInputError, MipcError
from mipc.diff.decode import is_secret_key
from mipc.diff.model import REDACTED
from mipc.simulate.model import Boot
from mipc.simulate.play import bare_target, find_target, simulate
from mipc.simulate.sources import ClientTls, HttpSource, Source, TreeSource, read_manifest


@dataclass(frozen=True)
class SimulateOptions:
    """What ``mipc simulate`` was asked."""

    phone: str
    tree: Path | None = None
    url: str | None = None
    manifest: Path | None = None
    user: str | None = None
    password_env: str | None = None
    cacert: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    insecure: bool = False
    show_secrets: bool = False
    fmt: str = "text"
    quiet: bool = False


def _credentials(opts: SimulateOptions) -> tuple[str, str] | None:
    if opts.user is None:
        if opts.password_env is not None:
            raise MipcError("--password-env needs --user")
        return None
    if opts.password_env is None:
        raise MipcError("--user needs --password-env VAR (the variable holding the password)")
    password = os.environ.get(opts.password_env)
    if password is None:
        raise MipcError(f"--password-env: the variable {opts.password_env} is not set")
    return opts.user, password


def source_of(opts: SimulateOptions) -> tuple[Source, Path | None]:
    """The source the options name, and where its manifest is (None: no manifest)."""
    if (opts.tree is None) == (opts.url is None):
        raise MipcError("give one of --tree OUT or --url URL")
    if opts.tree is not None:
        over_http = (opts.user, opts.password_env, opts.cacert, opts.cert, opts.key)
        if any(over_http) or opts.insecure or opts.manifest:
            raise MipcError(
                "--user, --password-env, --cacert, --cert, --key, --insecure and --manifest "
                "go with --url"
            )
        return TreeSource(opts.tree), opts.tree
    assert opts.url is not None
    if (opts.cert is None) != (opts.key is None):
        raise MipcError("--cert and --key go together (the phone's certificate and its key)")
    tls = ClientTls(opts.cacert, opts.cert, opts.key, opts.insecure)
    return HttpSource(opts.url, _credentials(opts), tls), opts.manifest


def document(boot: Boot, show_secrets: bool) -> dict[str, Any]:
    """The boot as one JSON-ready object."""

    def shown(key: str, value: str) -> str:
        return REDACTED if is_secret_key(key) and value and not show_secrets else value

    return {
        "phone": boot.target.name,
        "family": boot.family,
        "requests": [
            {"method": r.method, "path": r.path, "status": r.status, "size": r.size}
            | ({"note": r.note} if r.note else {})
            for r in boot.requests
        ],
        "settings": [
            {"key": s.key, "value": shown(s.key, s.value), "source": s.source}
            for s in sorted(boot.settings, key=lambda s: s.key)
        ],
        "uploads": [{"method": u.method, "path": u.path} for u in boot.uploads],
    }


def as_text(doc: dict[str, Any]) -> str:
    """The boot for a person: the requests, the uploads, then the settings."""
    lines = [f"{doc['phone']} ({doc['family']})"]
    for r in doc["requests"]:
        size = f" {r['size']} bytes" if r["size"] is not None and r["status"] == 200 else ""
        note = f"  ({r['note']})" if "note" in r else ""
        lines.append(f"{r['method']} {r['path']} {r['status']}{size}{note}")
    lines.extend(f"{u['method']} {u['path']}  (would upload)" for u in doc["uploads"])
    if doc["settings"]:
        lines.append("")
        lines.extend(f"{s['key']} = {s['value']}  ({s['source']})" for s in doc["settings"])
    return "\n".join(lines)


def run_simulate(opts: SimulateOptions) -> int:
    """Find the phone, play its boot, report; return the exit code."""
    with reporter("simulate", opts.fmt, quiet=opts.quiet) as out:
        source, manifest = source_of(opts)
        if manifest is not None:
            target = find_target(read_manifest(manifest), opts.phone)
        else:
            target = bare_target(opts.phone)
        boot = simulate(source, target)
        doc = document(boot, opts.show_secrets)
        out.result(doc, as_text(doc))
        if boot.failure is not None:
            raise InvalidInputError(f"{boot.target.name} would not boot: {boot.failure}")
    return out.code
