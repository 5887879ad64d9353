"""The phones of an incremental state, as ``OUT/state.bin`` keeps them: read one at a time.

Per phone a :data:`PhoneState` (see :mod:`mipc.incremental.state`). The phones of the last
state written whole are kept as the marshal bytes of a dict of each phone's own marshal
bytes (the *base*), with an *index* of the base (the phones of each source group, and those
holding each address, extension, station and sharing digest), and the phones changed since
(the *patch*: name → state, None for a phone removed). A build that changes one phone of
100,000 looks up the few it needs and the index, instead of decoding them all (a quarter of
a second); and writes the base and the index again as they were, with a small patch.

Takes and gives plain tuples and bytes (marshal); never imports anything but the standard
library.
"""

from __future__ import annotations

import marshal
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any

__all__ = [
    "PATCH_LIMIT",
    "LazyPhones",
    "PhoneState",
    "StateUnreadable",
    "encoded_phones",
    "group_names",
    "holders",
    "read_phones",
    "sharers",
    "with_changes",
]

#: Per phone: spec digest, source group, address key, extensions, stations, own files,
#: projection, sharing, network facts (:meth:`PhoneFacts.to_tuple`), and the spec digest
#: without positions.
PhoneState = tuple[
    bytes,
    str,
    str,
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    bytes,
    bytes,
    tuple[Any, ...],
    bytes,
]

#: The phones changed since a state's phones were last written whole, beyond which the next
#: state writes them whole again (:meth:`LazyPhones.encoded`).
PATCH_LIMIT = 2048

#: The tables of the index: by source group, address, extension, station, sharing digest.
GROUPS, ADDRESSES, EXTENSIONS, STATIONS, SHARING = range(5)
Index = tuple[dict[Any, tuple[str, ...]], ...]


class StateUnreadable(ValueError):
    """A state whose phones, decoded when first needed, cannot be read: compile in full."""


def _loads(data: bytes, kind: type) -> Any:
    try:
        value = marshal.loads(data)
    except (ValueError, EOFError, TypeError) as exc:
        raise StateUnreadable(f"state.bin: its phones cannot be read ({exc})") from exc
    if not isinstance(value, kind):
        raise StateUnreadable("state.bin: its phones cannot be read")
    return value


def index_of(phones: Mapping[str, PhoneState]) -> Index:
    """The index of ``phones`` (see the module's docstring)."""
    tables: tuple[dict[Any, list[str]], ...] = tuple({} for _ in range(5))
    for name, s in phones.items():
        tables[GROUPS].setdefault(s[1], []).append(name)
        if s[2]:
            tables[ADDRESSES].setdefault(s[2], []).append(name)
        for ext in s[3]:
            tables[EXTENSIONS].setdefault(ext, []).append(name)
        for station in s[4]:
            tables[STATIONS].setdefault(station, []).append(name)
        tables[SHARING].setdefault(s[7], []).append(name)
    return tuple({k: tuple(v) for k, v in t.items()} for t in tables)


class LazyPhones(Mapping[str, PhoneState]):
    """The phones of a state as read (see the module's docstring)."""

    def __init__(
        self,
        base: bytes,
        patch: Mapping[str, PhoneState | None] | None = None,
        index: bytes = b"",
    ) -> None:
        self._base = base
        self._index_bytes = index
        self._patch: dict[str, PhoneState | None] = dict(patch or {})
        self._raw: dict[str, bytes] | None = None
        self._one: dict[str, PhoneState] = {}  # base phones decoded one at a time
        self._phones: dict[str, PhoneState] | None = None
        self._names: dict[str, None] | None = None
        self._index: Index | None = None

    def _raws(self) -> dict[str, bytes]:
        if self._raw is None:
            self._raw = _loads(self._base, dict)
        return self._raw

    def _decoded(self) -> dict[str, PhoneState]:
        if self._phones is None:
            one = self._one
            phones = {n: one.get(n) or _loads(b, tuple) for n, b in self._raws().items()}
            self._phones = _applied(phones, self._patch)
        return self._phones

    def __getitem__(self, name: str) -> PhoneState:
        if self._phones is not None:
            return self._phones[name]
        if name in self._patch:
            phone = self._patch[name]
            if phone is None:
                raise KeyError(name)
            return phone
        phone = self._one.get(name)
        if phone is None:
            phone = self._one[name] = _loads(self._raws()[name], tuple)
        return phone

    def __contains__(self, name: object) -> bool:
        if self._phones is not None or not isinstance(name, str):
            return name in self._decoded()
        if name in self._patch:
            return self._patch[name] is not None
        return name in self._raws()

    def get(self, name: str, default: Any = None) -> Any:
        """The phone ``name``'s state, or ``default``."""
        try:
            return self[name]
        except KeyError:
            return default

    def _all_names(self) -> dict[str, None]:
        if self._phones is not None:
            return dict.fromkeys(self._phones)
        if self._names is None:
            names = dict.fromkeys(self._raws())
            for name, phone in self._patch.items():
                if phone is None:
                    names.pop(name, None)
                else:
                    names[name] = None
            self._names = names
        return self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._all_names())

    def __len__(self) -> int:
        return len(self._all_names())

    def keys(self) -> KeysView[str]:
        """The phones' names."""
        return self._all_names().keys()

    # The mixins would look each phone up again through __getitem__.
    def items(self) -> ItemsView[str, PhoneState]:
        """Each phone's name and state (all of them decoded)."""
        return self._decoded().items()

    def values(self) -> ValuesView[PhoneState]:
        """Each phone's state (all of them decoded)."""
        return self._decoded().values()

    def patched(self, changes: Mapping[str, PhoneState | None]) -> LazyPhones:
        """These phones with ``changes`` (None: a phone removed); the bytes are shared."""
        new = LazyPhones(self._base, {**self._patch, **changes}, self._index_bytes)
        new._raw, new._one, new._index = self._raw, self._one, self._index
        if self._phones is not None:
            new._phones = _applied(dict(self._phones), changes)
        return new

    def encoded(self) -> tuple[bytes, bytes, bytes]:
        """The base, the patch and the index as marshal bytes; written whole again (an
        empty patch) once the patch holds more than :data:`PATCH_LIMIT` phones, or when
        there is no index."""
        if len(self._patch) > PATCH_LIMIT or not self._index_bytes:
            return encoded_phones(self._decoded())
        return self._base, marshal.dumps(self._patch), self._index_bytes

    def found(self, table: int, keys: Iterable[Any]) -> set[str]:
        """The phones with one of ``keys`` in the index's ``table`` (the phones changed
        since the base, looked at one by one)."""
        if not self._index_bytes:
            return _scan(self._decoded(), table, set(keys))
        if self._index is None:
            self._index = _loads(self._index_bytes, tuple)
        wanted = set(keys)
        names: set[str] = set()
        for key in wanted:
            names.update(self._index[table].get(key, ()))
        names.difference_update(self._patch)  # their base entries hold no longer
        names.update(_scan({n: s for n, s in self._patch.items() if s}, table, wanted))
        return names


def _scan(phones: Mapping[str, PhoneState], table: int, keys: set[Any]) -> set[str]:
    """The phones with one of ``keys`` in the field of ``table``, looked at one by one."""
    field = (1, 2, 3, 4, 7)[table]
    if table in (EXTENSIONS, STATIONS):
        return {n for n, s in phones.items() if not keys.isdisjoint(s[field])}
    return {n for n, s in phones.items() if s[field] in keys}


def _applied(
    phones: dict[str, PhoneState], changes: Mapping[str, PhoneState | None]
) -> dict[str, PhoneState]:
    """``phones`` with ``changes`` made (None: removed); ``phones`` itself."""
    for name, phone in changes.items():
        if phone is None:
            phones.pop(name, None)
        else:
            phones[name] = phone
    return phones


def _found(phones: Mapping[str, PhoneState], table: int, keys: Iterable[Any]) -> set[str]:
    if isinstance(phones, LazyPhones):
        return phones.found(table, keys)
    return _scan(phones, table, set(keys))


def group_names(phones: Mapping[str, PhoneState], group: str) -> set[str]:
    """The phones whose entries come from source ``group``."""
    return _found(phones, GROUPS, (group,))


def holders(
    phones: Mapping[str, PhoneState],
    addresses: Iterable[str],
    extensions: Iterable[str],
    stations: Iterable[str],
) -> set[str]:
    """The phones with one of these addresses (keys), extensions or stations."""
    named = _found(phones, ADDRESSES, (a for a in addresses if a))
    return named | _found(phones, EXTENSIONS, extensions) | _found(phones, STATIONS, stations)


def sharers(phones: Mapping[str, PhoneState], sharing: bytes) -> set[str]:
    """The phones of sharing digest ``sharing``."""
    return _found(phones, SHARING, (sharing,))


def with_changes(
    phones: Mapping[str, PhoneState], changes: Mapping[str, PhoneState | None]
) -> Mapping[str, PhoneState]:
    """``phones`` with ``changes`` (None: a phone removed), as the next state keeps them."""
    if isinstance(phones, LazyPhones):
        return phones.patched(changes)
    return _applied(dict(phones), changes)


_NO_PATCH = marshal.dumps({})


def encoded_phones(phones: Mapping[str, PhoneState]) -> tuple[bytes, bytes, bytes]:
    """``phones`` as a state writes them whole: the base, an empty patch, the index."""
    if isinstance(phones, LazyPhones):
        return phones.encoded()
    base = marshal.dumps({n: marshal.dumps(s) for n, s in phones.items()})
    return base, _NO_PATCH, marshal.dumps(index_of(phones))


def read_phones(field: Any) -> LazyPhones:
    """The phones field of a state as read (a ValueError when it is not one)."""
    base, patch, index = field
    changes = marshal.loads(patch)
    if not all(isinstance(b, bytes) for b in (base, index)) or not isinstance(changes, dict):
        raise ValueError("not a state's phones")
    return LazyPhones(base, changes, index)
