"""The digests resolve gives each effective phone: its profile's, then its own part.

A phone's digest covers everything its files depend on (with the render epoch the pipeline
passes in), so a build or diff may trust an unchanged digest to mean unchanged files. The
values are recorded in every release manifest: they must stay bit for bit what they are.
Takes model values; gives hex digests. Pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from mipc.model import Appearance, Secret


def secret_hash(secret: Secret | None) -> str:
    """sha256 of a secret's value (empty for no secret): digests see secrets by value only."""
    return hashlib.sha256(secret.value.encode()).hexdigest() if secret is not None else ""


def profile_digest(parts: Iterable[str]) -> str:
    """The digest shared by every phone of one profile: its parts joined and hashed."""
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


def phone_key(
    name: str,
    mac: str | None,
    computer: str | None,
    appearances: tuple[Appearance, ...],
    group_reprs: Mapping[str, str],
) -> str:
    """The phone's own part of its digest: identity and appearances (secrets by value).

    ``group_reprs``: the repr of each registration group's registrations, which are the
    registrations of every appearance that registers with the group.
    """
    parts = [name, mac or "", computer or ""]
    for a in appearances:
        parts += (
            a.kind,
            a.station,
            a.extension,
            a.label,
            a.display_name,
            a.user,
            a.auth_user or "",
            secret_hash(a.auth_password) if a.auth_password is not None else "",
            str(a.line_keys),
            str(a.calls_per_line_key),
            a.registration_group,
            group_reprs[a.registration_group],
        )
    return "\x1f".join(parts)


def phone_digest(profile: str, key: str) -> str:
    """A phone's digest: its profile's digest, then its own key."""
    h = hashlib.sha256(profile.encode())
    h.update(key.encode())
    return h.hexdigest()
