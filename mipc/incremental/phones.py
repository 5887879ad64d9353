"""The phones of an incremental state, as ``OUT/state.bin`` keeps them: read a few at a time.

Per phone a :data:`PhoneState` (see :mod:`mipc.incremental.state`). The phones of the last
state written whole (the *base*) are kept in :data:`CHUNKS` marshalled dicts, by the CRC-32
of their names, with an *index* of the base (each source group's phones; how many phones
hold each address, extension and station; each sharing digest's count and first phones),
and the phones changed since (the *patch*: name → state, None for a phone removed). The
base and its index are one file of their own, named by their digest (see
:mod:`mipc.incremental.state`). A build that changes one phone of 100,000 decodes the chunks
of the phones it looks up and the parts of the index it asks, instead of all the phones (a
quarter of a second), and writes only the patch; the base is written again once the patch
holds more than :data:`PATCH_LIMIT` phones.

Takes and gives plain tuples and bytes (marshal); never imports anything but the standard
library.
"""

from __future__ import annotations

import hashlib
import marshal
import zlib
from collections import Counter
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from itertools import chain
from typing import Any, TypeVar

__all__ = [
    "PATCH_LIMIT",
    "LazyPhones",
    "PhoneState",
    "StateUnreadable",
    "collides",
    "encoded_phones",
    "group_names",
    "network_facts",
    "new_base",
    "read_phones",
    "staying",
    "with_changes",
]

#: Per phone: spec digest, source group, address key, extensions, stations, own files,
#: projection, sharing, network facts (:meth:`PhoneFacts.to_tuple`), the spec digest
#: without positions, and the template its entry names ("" for none).
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
    str,
]

#: The phones changed since a state's phones were last written whole, beyond which the next
#: state writes them whole again (:meth:`LazyPhones.encoded`).
PATCH_LIMIT = 2048

#: The base is kept in this many chunks (by the CRC-32 of a phone's name), each decoded when
#: a phone of it is first looked up.
CHUNKS = 256

#: The parts of the index: each source group's phones; how many phones hold each address,
#: extension and station; each sharing digest's count and first phones (:data:`FIRST`); each
#: phone's network facts.
GROUPS, IDS, SHARING, FACTS = range(4)
FIRST = 8

T = TypeVar("T")


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


def chunk_of(name: str) -> int:
    """The chunk of the base that holds phone ``name``."""
    return zlib.crc32(name.encode()) % CHUNKS


def _index_of(phones: Mapping[str, PhoneState]) -> tuple[bytes, ...]:
    """The index of ``phones`` (see :data:`GROUPS`), each part as marshal bytes."""
    groups: dict[str, list[str]] = {}
    sharing: dict[bytes, list[str]] = {}
    for name, s in phones.items():
        groups.setdefault(s[1], []).append(name)
        sharing.setdefault(s[7], []).append(name)
    states = phones.values()
    ids = (
        dict(Counter(s[2] for s in states if s[2])),
        dict(Counter(chain.from_iterable(s[3] for s in states))),
        dict(Counter(chain.from_iterable(s[4] for s in states))),
    )
    return (
        marshal.dumps({g: tuple(n) for g, n in groups.items()}),
        marshal.dumps(ids),
        marshal.dumps({d: (len(n), tuple(sorted(n)[:FIRST])) for d, n in sharing.items()}),
        marshal.dumps({n: s[8] for n, s in phones.items()}),
    )


#: The base's chunks and the index's parts, as marshal bytes.
Base = tuple[tuple[bytes, ...], tuple[bytes, ...]]


class LazyPhones(Mapping[str, PhoneState]):
    """The phones of a state as read (see the module's docstring). The base is named by its
    digest and loaded when first needed (``load``); ``blob``: its bytes, when it is new and
    still to be written."""

    def __init__(
        self,
        name: str,
        load: Callable[[], Any],
        patch: Mapping[str, PhoneState | None] | None = None,
        blob: bytes | None = None,
    ) -> None:
        self.name = name
        self.blob = blob
        self._load = load
        self._loaded: Base | None = None
        self._patch: dict[str, PhoneState | None] = dict(patch or {})
        self._chunks: list[dict[str, PhoneState] | None] = [None] * CHUNKS
        self._phones: dict[str, PhoneState] | None = None
        self._names: dict[str, None] | None = None
        self._index: list[Any] = [None] * (FACTS + 1)

    def _parts(self) -> Base:
        if self._loaded is None:
            try:
                chunks, index = self._load()
            except (OSError, ValueError, TypeError, EOFError) as exc:
                raise StateUnreadable(f"state.bin: its phones cannot be read ({exc})") from exc
            parts = (*chunks, *index)
            if len(chunks) != CHUNKS or len(index) != FACTS + 1:
                raise StateUnreadable("state.bin: its phones cannot be read")
            if not all(isinstance(b, bytes) for b in parts):
                raise StateUnreadable("state.bin: its phones cannot be read")
            self._loaded = (tuple(chunks), tuple(index))
        return self._loaded

    @property
    def _base(self) -> tuple[bytes, ...]:
        return self._parts()[0]

    @property
    def _index_bytes(self) -> tuple[bytes, ...]:
        return self._parts()[1]

    def _chunk(self, name: str) -> dict[str, PhoneState]:
        i = chunk_of(name)
        found = self._chunks[i]
        if found is None:
            found = self._chunks[i] = _loads(self._base[i], dict)
        return found

    def _part(self, part: int) -> Any:
        if self._index[part] is None:
            self._index[part] = _loads(self._index_bytes[part], (tuple, dict)[part != IDS])
        return self._index[part]

    def _decoded(self) -> dict[str, PhoneState]:
        if self._phones is None:
            phones: dict[str, PhoneState] = {}
            for i, data in enumerate(self._base):
                chunk = self._chunks[i]
                phones.update(chunk if chunk is not None else _loads(data, dict))
            self._phones = _applied(phones, self._patch, _whole)
        return self._phones

    def facts(self) -> dict[str, tuple[Any, ...]]:
        """See :func:`network_facts`."""
        if self._phones is not None:
            return {n: s[8] for n, s in self._phones.items()}
        return _applied(dict(self._part(FACTS)), self._patch, _facts)

    def base_state(self, name: str) -> PhoneState | None:
        """Phone ``name`` as the base has it (before the patch), or None."""
        return self._chunk(name).get(name)

    def __getitem__(self, name: str) -> PhoneState:
        if self._phones is not None:
            return self._phones[name]
        if name in self._patch:
            phone = self._patch[name]
            if phone is None:
                raise KeyError(name)
            return phone
        return self._chunk(name)[name]

    def __contains__(self, name: object) -> bool:
        if self._phones is not None or not isinstance(name, str):
            return name in self._decoded()
        if name in self._patch:
            return self._patch[name] is not None
        return name in self._chunk(name)

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
            names = dict.fromkeys(chain.from_iterable(self._part(GROUPS).values()))
            self._names = _applied(names, self._patch, _nothing)
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
        """These phones with ``changes`` (None: a phone removed); the base is shared."""
        new = LazyPhones(self.name, self._load, {**self._patch, **changes}, self.blob)
        new._loaded, new._chunks, new._index = self._loaded, self._chunks, self._index
        if self._phones is not None:
            new._phones = _applied(dict(self._phones), changes, _whole)
        return new

    def encoded(self) -> tuple[LazyPhones, bytes]:
        """The phones with the base a state names (a new one, once the patch holds more
        than :data:`PATCH_LIMIT` phones), and the patch as marshal bytes."""
        if len(self._patch) > PATCH_LIMIT:
            return new_base(self._decoded()), _NO_PATCH
        return self, marshal.dumps(self._patch)

    def group_names(self, group: str) -> set[str]:
        """See :func:`group_names`."""
        names = set(self._part(GROUPS).get(group, ())).difference(self._patch)
        names.update(n for n, s in self._patch.items() if s is not None and s[1] == group)
        return names

    def collides(self, keys: tuple[set[str], set[str], set[str]], left: set[str]) -> bool:
        """See :func:`collides`."""
        counts = self._part(IDS)
        held = [Counter({k: counts[t].get(k, 0) for k in keys[t]}) for t in range(3)]
        for name in left | set(self._patch):  # their base entries count no longer
            old = self.base_state(name)
            if old is not None:
                _count(held, keys, old, -1)
        for name, phone in self._patch.items():
            if phone is not None and name not in left:
                _count(held, keys, phone, 1)
        return any(n > 0 for table in held for n in table.values())

    def staying(self, sharing: bytes, gone: set[str]) -> str | None:
        """See :func:`staying`."""
        count, first = self._part(SHARING).get(sharing, (0, ()))
        for name in first:
            phone = self.get(name)
            if name not in gone and phone is not None and phone[7] == sharing:
                return str(name)
        moved = {n for n, s in self._patch.items() if s is not None and s[7] == sharing}
        if moved - gone:
            return min(moved - gone)
        if count <= len(first):
            return None
        return _staying_scan(self._decoded(), sharing, gone)


def _count(
    held: list[Counter[str]], keys: tuple[set[str], set[str], set[str]], phone: PhoneState, n: int
) -> None:
    """Count ``phone``'s address, extensions and stations among ``keys`` ``n`` times."""
    for t, values in enumerate(((phone[2],) if phone[2] else (), phone[3], phone[4])):
        for value in values:
            if value in keys[t]:
                held[t][value] += n


def _staying_scan(phones: Mapping[str, PhoneState], sharing: bytes, gone: set[str]) -> str | None:
    names = [n for n, s in phones.items() if s[7] == sharing and n not in gone]
    return min(names) if names else None


def _applied(
    target: dict[str, T],
    changes: Mapping[str, PhoneState | None],
    pick: Callable[[PhoneState], T],
) -> dict[str, T]:
    """``target`` (by phone name) with ``changes`` made: a phone removed (None) is dropped,
    another given what ``pick`` takes of it; ``target`` itself."""
    for name, phone in changes.items():
        if phone is None:
            target.pop(name, None)
        else:
            target[name] = pick(phone)
    return target


def _whole(phone: PhoneState) -> PhoneState:
    return phone


def _facts(phone: PhoneState) -> tuple[Any, ...]:
    return phone[8]


def _nothing(phone: PhoneState) -> None:
    return None


def group_names(phones: Mapping[str, PhoneState], group: str) -> set[str]:
    """The phones whose entries come from source ``group``."""
    if isinstance(phones, LazyPhones):
        return phones.group_names(group)
    return {n for n, s in phones.items() if s[1] == group}


def collides(
    phones: Mapping[str, PhoneState],
    keys: tuple[set[str], set[str], set[str]],
    left: set[str],
) -> bool:
    """Whether a phone but those ``left`` holds one of ``keys``: addresses (keys; a phone
    without one holds none), extensions, stations."""
    if isinstance(phones, LazyPhones):
        return phones.collides(keys, left)
    addresses, extensions, stations = keys
    return any(
        ((s[2] and s[2] in addresses) or not extensions.isdisjoint(s[3]))
        or not stations.isdisjoint(s[4])
        for name, s in phones.items()
        if name not in left
    )


def staying(phones: Mapping[str, PhoneState], sharing: bytes, gone: set[str]) -> str | None:
    """A phone of sharing digest ``sharing`` but those ``gone`` (the first by name among a
    few), or None when there is none."""
    if isinstance(phones, LazyPhones):
        return phones.staying(sharing, gone)
    return _staying_scan(phones, sharing, gone)


def network_facts(phones: Mapping[str, PhoneState]) -> dict[str, tuple[Any, ...]]:
    """Each phone's network facts (:meth:`PhoneFacts.to_tuple`), without the rest."""
    if isinstance(phones, LazyPhones):
        return phones.facts()
    return {n: s[8] for n, s in phones.items()}


def with_changes(
    phones: Mapping[str, PhoneState], changes: Mapping[str, PhoneState | None]
) -> Mapping[str, PhoneState]:
    """``phones`` with ``changes`` (None: a phone removed), as the next state keeps them."""
    if isinstance(phones, LazyPhones):
        return phones.patched(changes)
    return _applied(dict(phones), changes, _whole)


_NO_PATCH = marshal.dumps({})


def new_base(phones: Mapping[str, PhoneState]) -> LazyPhones:
    """``phones`` as the base of a state written whole (its blob still to be written)."""
    chunks: list[dict[str, PhoneState]] = [{} for _ in range(CHUNKS)]
    for name, phone in phones.items():
        chunks[chunk_of(name)][name] = phone
    parts: Base = (tuple(marshal.dumps(c) for c in chunks), _index_of(phones))
    blob = marshal.dumps(parts)
    made = LazyPhones(hashlib.sha256(blob).hexdigest()[:32], lambda: parts, blob=blob)
    made._loaded = parts
    return made


def encoded_phones(phones: Mapping[str, PhoneState]) -> tuple[LazyPhones, bytes]:
    """``phones`` as a state writes them: with a base (new, or the one they were read with)
    and the patch since, as marshal bytes."""
    if isinstance(phones, LazyPhones):
        return phones.encoded()
    return new_base(phones), _NO_PATCH


def read_phones(field: Any, base: Callable[[str], bytes]) -> LazyPhones:
    """The phones field of a state as read (a ValueError when it is not one); ``base``
    reads the base of a name."""
    name, patch = field
    changes = marshal.loads(patch)
    if not isinstance(name, str) or not isinstance(changes, dict):
        raise ValueError("not a state's phones")
    return LazyPhones(name, lambda: marshal.loads(base(name)), changes)
