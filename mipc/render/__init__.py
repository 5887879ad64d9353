"""The render stage: effective phones to artifacts (relative path under www/ → bytes).

One renderer per vendor family; the registry below maps catalog families to renderers, so
adding a family is data plus a module, never a branch elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from mipc.model import EffectivePhone, Plan


class RenderError(ValueError):
    """A phone cannot be rendered: names the phone, the key or file, and what to change."""


def set_explicitly(phone: EffectivePhone, option: str) -> bool:
    """Whether a template, the phone or its CSV row set this option.

    Options from ``defaults:`` or a location apply to every family, so a family without a
    key for one has nothing to report; one named by a template or phone deserves a warning.
    """
    key = f"options.{option}"
    prefix = key + "."
    return any(
        (name == key or name.startswith(prefix))
        and (setting.layer.startswith("template") or setting.layer in ("phone", "csv"))
        for name, setting in phone.settings.items()
    )


T = TypeVar("T")


def profile_signature(phone: EffectivePhone) -> tuple[Any, ...]:
    """What the phones of one profile share: resolve gives them the very same objects."""
    maps = getattr(phone.settings, "maps", None)
    return (
        phone.profile,
        phone.model,
        maps[-1] if maps else phone.settings,
        phone.options,
        phone.extra,
        phone.time,
        phone.qos,
        phone.registrations,
        phone.registration_group,
        phone.language,
        phone.secure,
        phone.audio_protocol,
        phone.firmware,
        phone.admin_password,
        phone.config_files,
        phone.type,
    )


class ProfileMemo(Generic[T]):
    """Work that depends only on a phone's profile, done once per profile.

    The key is the phone's profile digest; a hit also requires every shared value to be the
    same object (or an equal one), so phones put together by hand (tests, ``replace``) that
    keep a digest but change a value are computed afresh.
    """

    def __init__(self) -> None:
        self._memo: dict[str, tuple[tuple[Any, ...], T]] = {}

    def get(self, phone: EffectivePhone, compute: Callable[[], T]) -> T:
        signature = profile_signature(phone)
        hit = self._memo.get(phone.profile) if phone.profile else None
        if hit is not None and all(
            a is b or a == b for a, b in zip(hit[0], signature, strict=True)
        ):
            return hit[1]
        value = compute()
        if phone.profile:
            self._memo[phone.profile] = (signature, value)
        return value


@dataclass(frozen=True)
class Artifact:
    """One file of the release. ``link`` names a firmware image to link instead of bytes."""

    data: bytes
    phones: tuple[str, ...] = ()  # names of the phones that fetch this file
    link: str | None = None  # absolute path of a firmware image in the store


Artifacts = dict[str, Artifact]


class Renderer(Protocol):
    family: str
    warnings: list[str]  # collected by the build, reported once each

    def render_phone(self, phone: EffectivePhone, plan: Plan) -> Artifacts:
        """The files that belong to one phone (its master, per-phone files)."""
        ...

    def render_shared(self, plan: Plan, phones: tuple[EffectivePhone, ...]) -> Artifacts:
        """Files shared by this family's phones (group files, server files, defaults)."""
        ...


RendererFactory = Callable[[], Renderer]
_REGISTRY: dict[str, RendererFactory] = {}


def register(family: str) -> Callable[[RendererFactory], RendererFactory]:
    def wrap(factory: RendererFactory) -> RendererFactory:
        _REGISTRY[family] = factory
        return factory

    return wrap


def renderers() -> Mapping[str, RendererFactory]:
    from mipc.render import load_all  # noqa: F401  (imports register the families)

    return _REGISTRY
