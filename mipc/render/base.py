"""The render stage: effective phones to artifacts (relative path under www/ → bytes).

One renderer per vendor family; the registry below maps catalog families to renderers, so
adding a family is data plus a module, never a branch elsewhere. Takes effective phones and
the plan; gives what every renderer shares: the registry, :class:`KeyedFile` (an ordered map
that refuses a key twice), :class:`ProfileMemo` and the artifact types. Imports only
:mod:`mipc.model`; never imports release.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from mipc.artifacts import Artifacts
from mipc.diagnostics import InvalidInputError
from mipc.model import EffectivePhone, Plan


class RenderError(InvalidInputError, ValueError):
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


class KeyedFile(ABC):
    """The keys and values of one generated file, in the order written: a key is checked once
    per process (the same few thousand recur in every phone's file), and a second write of a
    key is refused. Subclasses say what a valid key is, how a value becomes text, and how the
    two refusals read."""

    checked: ClassVar[set[str]]  # keys found valid, per subclass

    def __init__(self) -> None:
        self._items: dict[str, str] = {}

    @abstractmethod
    def valid_key(self, key: str) -> bool:
        """Whether ``key`` may be written at all."""

    @abstractmethod
    def text(self, key: str, value: Any) -> str:
        """``value`` as the text the file holds."""

    @abstractmethod
    def bad_key(self, key: str) -> Exception:
        """The error for a key that may not be written."""

    @abstractmethod
    def twice(self, key: str) -> Exception:
        """The error for a key written a second time."""

    def set(self, key: str, value: Any) -> None:
        """Write ``key`` once, as the text of ``value``; refuses a bad key or a second write."""
        if key not in self.checked:
            if not self.valid_key(key):
                raise self.bad_key(key)
            self.checked.add(key)
        if key in self._items:
            raise self.twice(key)
        self._items[key] = self.text(key, value)

    def set_text(self, key: str, text: str) -> None:
        """Set a key and text another :meth:`set` already checked."""
        if key in self._items:
            raise self.twice(key)
        self._items[key] = text

    def set_texts(self, keys: Sequence[str], texts: Sequence[str]) -> None:
        """:meth:`set_text` of each key and text, in order (at once when the file is empty
        and no key repeats)."""
        if not self._items and len(set(keys)) == len(keys) == len(texts):
            self._items = dict(zip(keys, texts, strict=True))
            return
        for key, text in zip(keys, texts, strict=True):
            self.set_text(key, text)

    def names(self) -> tuple[str, ...]:
        """The keys, in the order written."""
        return tuple(self._items)

    def texts(self) -> list[str]:
        """The texts, in the order written."""
        return list(self._items.values())

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, str]]:
        """The (key, text) pairs in the order written."""
        return list(self._items.items())


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
        """The value for ``phone``'s profile: remembered, or ``compute()`` and remembered."""
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


class Renderer(Protocol):
    """What a family's renderer does: one phone's files, then the files its phones share."""

    family: str
    warnings: list[str]  # collected by the build, reported once each

    def prepare(self, plan: Plan) -> None:
        """Work out what every phone's render draws from the whole plan, so that worker
        processes forked after it share it instead of each working it out again (its
        warnings and errors are dropped: the renders that need it say them)."""
        ...

    def render_phone(self, phone: EffectivePhone, plan: Plan) -> Artifacts:
        """The files that belong to one phone (its master, per-phone files)."""
        ...

    def render_shared(self, plan: Plan, phones: tuple[EffectivePhone, ...]) -> Artifacts:
        """Files shared by this family's phones (group files, server files, defaults)."""
        ...

    def own_files(self, phone: EffectivePhone, plan: Plan) -> tuple[str, ...]:
        """The paths :meth:`render_phone` writes for ``phone``, without rendering them."""
        ...


RendererFactory = Callable[[], Renderer]
_REGISTRY: dict[str, RendererFactory] = {}


def registrar(table: dict[str, T]) -> Callable[[str], Callable[[T], T]]:
    """A decorator by name that files what it decorates in ``table`` under that name."""

    def named(name: str) -> Callable[[T], T]:
        def wrap(item: T) -> T:
            table[name] = item
            return item

        return wrap

    return named


#: Class decorator: ``@register("polycom")`` makes the class the renderer of that family.
register = registrar(_REGISTRY)


def registered() -> Mapping[str, RendererFactory]:
    """The renderer factories registered so far, by family name (:func:`mipc.render.stage.
    renderers` imports every family first)."""
    return _REGISTRY
