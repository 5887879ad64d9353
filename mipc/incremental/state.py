"""The incremental state: ``OUT/state.bin``, what the next build and diff need to compile
only the phones that changed since the release ``current`` points to.

It keeps a digest of the *context* (everything of the inventory but its phones: the YAML data
and the source positions of everything but ``phones``); per phone a digest of its entry (the
parsed YAML entry or CSV row, positions included), where it came from (the YAML files, or one
phone list), its identity (address, extensions, stations, for the cross-phone checks), its own
files, a digest of what the shared and network files take from it
(:func:`mipc.incremental.fingerprints.projection`), the same without who it is
(:func:`~mipc.incremental.fingerprints.sharing`), and its network facts
(:class:`mipc.network.facts.PhoneFacts`, as a tuple), and the template its entry names; with
``serving.access`` phone or certificate, the owner of each phone's own files (the nginx site's
map); the phones with shared or external appearances, and the stations shared appearances name;
the phones that raised a warning first; and the manifest's index
(:mod:`mipc.release.manifest`), so the next manifest is spliced, not rewritten.

Takes a plan and what a build wrote; gives :class:`State`, read and written with marshal.
Never imports render.
"""

from __future__ import annotations

import contextlib
import marshal
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from mipc import __version__
from mipc.diagnostics import Diagnostic
from mipc.incremental.fingerprints import (
    identity,
    linking,
    projected,
    sharing,
    source_group,
    spec_digests,
)
from mipc.incremental.frame import Frame
from mipc.incremental.phones import PhoneState, encoded_phones, read_phones
from mipc.model import Plan
from mipc.network.facts import PhoneFacts
from mipc.release.manifest import ManifestIndex

STATE = "state.bin"
#: The bases of the state's phones: ``OUT/state-phones-<digest>.bin``.
BASE_PREFIX = "state-phones-"

FORMAT = 8


@dataclass(frozen=True)
class State:
    """What ``OUT/state.bin`` keeps of release ``release`` (see the module's docstring)."""

    release: str
    context: str
    phones: Mapping[str, PhoneState]
    linking: frozenset[str]  # phones with shared or external appearances
    shared_refs: frozenset[str]  # stations named by shared appearances
    flagged: frozenset[str]  # phones that raised a warning first
    varied: frozenset[str]  # registration groups with more than one set of servers
    index: ManifestIndex
    frame: Frame | None = None  # the inventory's context as read (mipc.incremental.frame)
    owners: Mapping[str, str] | None = None  # own file stem -> user (access phone/certificate)
    dhcp: str = ""  # the digest of the checked network plan its DHCP files were made from
    manifest: tuple[int, ...] = ()  # the manifest file it indexes: file_identity()
    rows: Mapping[str, tuple[bytes, str]] = field(default_factory=dict)  # each phone list's
    # rows (mipc.incremental.csv_rows.pack)

    def to_bytes(self, phones: tuple[str, bytes]) -> bytes:
        """The state as written to disk (marshal; format and mipc version first); ``phones``:
        the name of the phones' base and their patch (:func:`staged_state` writes the base)."""
        i = self.index
        return marshal.dumps(
            (
                FORMAT,
                __version__,
                self.release,
                self.context,
                phones,
                self.linking,
                self.shared_refs,
                self.flagged,
                self.varied,
                (i.sha256, i.files, i.file_starts, i.phones, i.phone_starts),
                self.frame,
                None if self.owners is None else dict(self.owners),
                self.dhcp,
                self.manifest,
                dict(self.rows),
            )
        )

    @classmethod
    def read(cls, out: Path) -> State | None:
        """The state in ``out``, or None when there is none this mipc can read."""
        try:
            data = marshal.loads((out / STATE).read_bytes())
            if data[0] != FORMAT or data[1] != __version__:
                return None
            index = ManifestIndex(*data[9])
            return cls(
                release=data[2],
                context=data[3],
                phones=read_phones(data[4], partial(_base_bytes, out)),
                linking=data[5],
                shared_refs=data[6],
                flagged=data[7],
                varied=data[8],
                index=index,
                frame=data[10],
                owners=data[11],
                dhcp=data[12],
                manifest=data[13],
                rows=data[14],
            )
        except (OSError, ValueError, EOFError, TypeError, IndexError, KeyError):
            return None


def file_identity(path: Path) -> tuple[int, ...]:
    """Which file ``path`` is (device, inode, size, modification time); () if it cannot be
    looked at. A release's files are never written again, so while the identity is the
    same, so are the bytes (a hard-linked copy of OUT keeps it)."""
    try:
        info = path.stat()
    except OSError:
        return ()
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _base_path(out: Path, name: str) -> Path:
    """Where the base of the state's phones named ``name`` is (:mod:`mipc.incremental.phones`):
    a file of its own, written once and named by its digest, so that a build that changes a
    few phones writes none of the others again."""
    return out / f"{BASE_PREFIX}{name}.bin"


def _base_bytes(out: Path, name: str) -> bytes:
    if not name.isalnum():
        raise ValueError(f"not a base's name: {name!r}")
    return _base_path(out, name).read_bytes()


def save_state(out: Path, state: State) -> None:
    """Write ``OUT/state.bin`` (atomically; a crash leaves the old one, which names its own
    release and so is never taken for another's)."""
    tmp, base = staged_state(out, state)
    os.replace(tmp, out / STATE)
    drop_bases(out, base)


def staged_state(out: Path, state: State) -> tuple[Path, str]:
    """Write ``state`` beside ``OUT/state.bin``, for :func:`save_state` or the caller to
    rename over it (then :func:`drop_bases`), and the base of its phones if it is new; the
    path written, and the base's name."""
    phones, patch = encoded_phones(state.phones)
    where = _base_path(out, phones.name)
    if phones.blob is not None and not where.exists():
        made = where.with_name(f".{where.name}.tmp-{os.getpid()}")
        made.write_bytes(phones.blob)
        os.replace(made, where)
    tmp = out / f".{STATE}.tmp-{os.getpid()}"
    tmp.write_bytes(state.to_bytes((phones.name, patch)))
    return tmp, phones.name


def drop_bases(out: Path, keep: str) -> None:
    """Remove the bases of the state's phones but ``keep`` (the current state's)."""
    for found in out.glob(f"{BASE_PREFIX}*.bin"):
        if found.name != _base_path(out, keep).name:
            with contextlib.suppress(OSError):
                found.unlink()


@dataclass(frozen=True)
class PlanFacts:
    """What the state keeps of a plan's phones, before the release is written (own files
    are left empty): made while the workers render."""

    phones: Mapping[str, PhoneState]
    linking: frozenset[str]
    shared_refs: frozenset[str]
    varied: frozenset[str]
    owners: Mapping[str, str] | None = None


def plan_facts(
    plan: Plan,
    varied: frozenset[str],
    network: tuple[Sequence[PhoneFacts], Mapping[str, str] | None],
) -> PlanFacts:
    """What the state keeps of ``plan``'s phones; ``varied``: the registration groups whose
    group file comes in more than one variant (the renderers say which); ``network``: the
    phones' network facts and the owners of their own files, as the network files took
    them (:class:`mipc.pipeline.site.SiteInputs`)."""
    effective = {p.name: p for p in plan.phones}
    net = {f.name: f.to_tuple() for f in network[0]}
    memo: dict[Any, Any] = {}
    phones: dict[str, PhoneState] = {}
    links: set[str] = set()
    refs: set[str] = set()
    for spec in plan.inventory.phones:
        if linking(spec):
            links.add(spec.name)
            refs.update(a.shared for a in spec.appearances if a.shared)
        placed, unplaced = spec_digests(spec)
        phone = effective[spec.name]
        shared = sharing(phone, memo)
        phones[spec.name] = (
            placed,
            source_group(spec),
            *identity(spec),
            (),
            projected(shared, phone),
            shared,
            net[spec.name],
            unplaced,
            spec.template or "",
        )
    return PlanFacts(phones, frozenset(links), frozenset(refs), varied, network[1])


@dataclass(frozen=True)
class Written:
    """What a full build wrote: the release, its manifest's index, each phone's own files,
    and the phones that first raised a render warning."""

    release: str
    index: ManifestIndex
    own: Mapping[str, tuple[str, ...]]
    warned: Iterable[str] = ()


def state_of(
    facts: PlanFacts,
    diagnostics: Iterable[Diagnostic],
    context: tuple[str, Frame | None],
    written: Written,
    rows: Mapping[str, tuple[bytes, str]] | None = None,
) -> State:
    """The state after a full build (``facts``: :func:`plan_facts` of its plan; ``context``:
    the inventory's context key and frame; ``rows``: its phone lists' rows, packed) that
    wrote ``written``."""
    flagged = {d.subject for d in diagnostics if d.subject}
    own = written.own
    return State(
        release=written.release,
        context=context[0],
        frame=context[1],
        phones={n: (*s[:5], own.get(n, ()), *s[6:]) for n, s in facts.phones.items()},
        linking=facts.linking,
        shared_refs=facts.shared_refs,
        flagged=frozenset(flagged | set(written.warned)),
        varied=facts.varied,
        index=written.index,
        owners=facts.owners,
        rows=dict(rows or {}),
    )
