"""Appearances ready to render: one phone's line keys, built from what was written.

Takes an appearance as written (:class:`mipc.model.AppearanceSpec`), the station or the shared
appearance it stands for, its password (already read) and what the phone's lines share; gives
a :class:`mipc.model.Appearance`. Does no I/O; never imports the render or release stages.
"""

from __future__ import annotations

from dataclasses import dataclass

from mipc.model import Appearance, AppearanceSpec, Registration, Secret


@dataclass(frozen=True)
class Lines:
    """What the appearances of one phone share: its name and main registration group."""

    phone: str
    group: str
    registrations: tuple[Registration, ...]
    calls: int  # calls per line key of a private or external line


def user_part(address: str | None) -> str | None:
    """The user part of an identification address: sip:7101@10.0.0.1:5060 → 7101."""
    if not address:
        return None
    text = address.strip()
    for prefix in ("sips:", "sip:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    return text.split("@", 1)[0].strip() or None


def private(
    index: int, app: AppearanceSpec, station: str, password: Secret | None, lines: Lines
) -> Appearance:
    """The phone's own station: its extension, labelled with the phone's name on key 1."""
    extension = str(app.extension)
    label = app.label or (lines.phone if index == 1 else extension)
    ident = app.identification_address
    user = (user_part(ident) if ident else None) or extension
    return Appearance(
        index=index,
        kind="private",
        station=station,
        extension=extension,
        label=label,
        display_name=app.display_name or label,
        user=user,
        auth_user=app.auth_user or (user if password else None),
        auth_password=password,
        line_keys=app.line_keys,
        calls_per_line_key=lines.calls,
        registration_group=lines.group,
        registrations=lines.registrations,
    )


def shared(
    index: int, app: AppearanceSpec, target: AppearanceSpec, password: Secret | None, lines: Lines
) -> Appearance:
    """Another phone's station (``target``, its private appearance), one call per key."""
    user = user_part(target.identification_address) or str(target.extension)
    label = app.label or target.label or str(app.shared)
    return Appearance(
        index=index,
        kind="shared",
        station=str(app.shared),
        extension=str(target.extension),
        label=label,
        display_name=target.display_name or label,
        user=user,
        auth_user=target.auth_user or (user if password else None),
        auth_password=password,
        line_keys=app.line_keys,
        calls_per_line_key=1,
        registration_group=lines.group,
        registrations=lines.registrations,
    )


def external(
    index: int,
    app: AppearanceSpec,
    password: Secret | None,
    registrations: tuple[Registration, ...],
    lines: Lines,
) -> Appearance:
    """A line registered with an external group's ``registrations``, not a station."""
    user = user_part(app.identification_address) or ""
    label = app.label or user
    return Appearance(
        index=index,
        kind="external",
        station="",
        extension="",
        label=label,
        display_name=label,
        user=user,
        auth_user=app.auth_user or (user if password else None),
        auth_password=password,
        line_keys=app.line_keys,
        calls_per_line_key=lines.calls,
        registration_group=str(app.registration_group),
        registrations=registrations,
    )
