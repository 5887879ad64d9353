"""The incremental build's own parts: the network files made when asked, the changed phones
rendered into a patch of the current release, and the state written while its links are made.

Takes a :class:`~mipc.incremental.delta.Delta` (the changed, added and removed phones,
compiled) and the :class:`~mipc.release.delta.Prelink` of the current release; gives the
:class:`~mipc.release.delta.Patch` :func:`mipc.release.delta.emit_delta` writes, and the
next state. :mod:`mipc.pipeline.build` composes them. Never imports the CLI.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from mipc.diagnostics import InvalidInputError
from mipc.incremental.delta import Delta
from mipc.incremental.state import (
    STATE,
    State,
    drop_bases,
    file_identity,
    save_state,
    staged_state,
)
from mipc.network.facts import PhoneFacts
from mipc.network.plan import DHCP_FILES, DhcpMemo
from mipc.network.serials import PriorZones, stale_serials
from mipc.pipeline.site import SiteInputs, per_phone
from mipc.release.delta import Patch, Prelink, emit_delta
from mipc.release.durable import start_writeback
from mipc.release.emit import EmitResult
from mipc.release.manifest import MANIFEST
from mipc.release.reader import prior_zones
from mipc.release.staging import safe_relpath
from mipc.release.store import Out
from mipc.render.stage import CODE as RENDER
from mipc.render.stage import phone_owners, render_chunk


class NetworkFilesError(InvalidInputError):
    """A value the DHCP, DNS or nginx files cannot hold safely (exit code 1)."""


@dataclass
class Network:
    """The network files of ``inputs`` (a plan's, made when first asked), made when the emit
    asks (while the workers render, OUT locked); the zones' serials follow OUT's releases as
    they were before this build."""

    inputs: Callable[[], SiteInputs] | None
    server_root: str
    out: Path
    prior: PriorZones | None = None
    made: Mapping[str, bytes] | None = None
    dhcp: DhcpMemo = field(default_factory=DhcpMemo)  # the last release's DHCP files
    _inputs: SiteInputs | None = None

    def site(self) -> SiteInputs:
        """What the network files take from the phones (made once)."""
        if self._inputs is None:
            assert self.inputs is not None
            self._inputs = self.inputs()
        return self._inputs

    def owners(self, otherwise: Mapping[str, str] | None) -> Mapping[str, str] | None:
        """The owners the network files were made with; ``otherwise`` if none were made."""
        return otherwise if self._inputs is None else self._inputs.owners

    def of(self, site: SiteInputs) -> Mapping[str, bytes]:
        """Make the network files of ``site`` (see :meth:`__call__`)."""
        self._inputs = site
        return self()

    def __call__(self) -> Mapping[str, bytes]:
        """Make the network files (raises :class:`NetworkFilesError` on a value they cannot
        hold)."""
        self.prior = prior_zones(self.out)
        try:
            self.made = self.site().files(self.server_root, self.prior, self.dhcp)
        except ValueError as exc:
            raise NetworkFilesError(str(exc)) from exc
        return self.made

    def notices(self) -> tuple[str, ...]:
        """A zone whose records changed without its (explicit) serial increasing."""
        if self.prior is None or self.made is None:
            return ()
        return tuple(stale_serials(self.prior, self.made))


def written(
    found: Delta, pre: Prelink, network: Network, keep: int
) -> tuple[EmitResult, NextState] | None:
    """The incremental release written (and current), and its state staged; None when the
    shortcut does not apply after all."""
    patch = patch_of(found, pre, network)
    if patch is None:
        return None
    state = NextState(found, pre.out.root, network, pre.staging / MANIFEST)
    try:
        emitted = emit_delta(patch, pre, keep=keep, meanwhile=state.stage)
    except BaseException:
        state.drop()
        raise
    if emitted is None:
        state.drop()
        return None
    return emitted, state


@dataclass
class NextState:
    """The state after an incremental build, written while the release's links are made
    (:func:`mipc.release.delta.emit_delta`'s ``meanwhile``), renamed into place once the
    release is current and its inputs settled; dropped otherwise."""

    found: Delta
    out: Path
    network: Network
    manifest: Path  # the manifest it indexes, spliced (the release's once published)
    staged: tuple[str, Path, str] | None = None  # the release it names, where it is, and
    # the base of its phones

    def _state(self, emitted: EmitResult, manifest: Path) -> State:
        assert emitted.index is not None
        owners = self.network.owners(self.found.state.owners)
        state = self.found.next_state(emitted.release, emitted.index, emitted.own, owners)
        state = replace(state, manifest=file_identity(manifest))
        if self.network.made is None:  # the files are the last release's, and so is the key
            return state
        return replace(state, dhcp=self.network.dhcp.key)

    def stage(self, emitted: EmitResult) -> None:
        """Write the state of the release ``emitted`` names, beside ``OUT/state.bin``."""
        state = self._state(emitted, self.manifest)
        tmp, base = staged_state(self.out, state)
        self.staged = (emitted.release, tmp, base)
        start_writeback(tmp)

    def save(self, emitted: EmitResult) -> None:
        """Put the state of the release now current in place."""
        if self.staged is not None and self.staged[0] == emitted.release:
            os.replace(self.staged[1], self.out / STATE)
            drop_bases(self.out, self.staged[2])
            self.staged = None
        else:  # publish switched to another name (an identical release): made again
            self.drop()
            release = Out(self.out).releases / emitted.release
            save_state(self.out, self._state(emitted, release / MANIFEST))

    def drop(self) -> None:
        """Remove the staged state, if any."""
        if self.staged is not None:
            with contextlib.suppress(OSError):
                self.staged[1].unlink()
            self.staged = None


def last_dhcp(out: Path) -> DhcpMemo:
    """The DHCP files of OUT's current release, with the digest of the network plan they
    were made from, when its state says it and this mipc made it (else: none to take)."""
    store = Out(out)
    current = store.current_id()
    if current is None or not store.same_toolchain(current):
        return DhcpMemo()
    state = State.read(out)
    if state is None or state.release != current:
        return DhcpMemo()
    return release_dhcp(state, store.releases / current)


def release_dhcp(state: State, release: Path) -> DhcpMemo:
    """The DHCP files of ``release`` (the one ``state`` is of), read when taken, and the
    digest of the network plan they were made from (none: nothing to take)."""
    if not state.dhcp:
        return DhcpMemo()
    return DhcpMemo(state.dhcp, partial(read_files, release / "network", DHCP_FILES))


def read_files(folder: Path, names: Sequence[str]) -> dict[str, bytes] | None:
    """The files ``names`` of ``folder`` (a release's, which does not change), or None when
    one cannot be read."""
    try:
        return {name: (folder / name).read_bytes() for name in names}
    except OSError:
        return None


def patch_of(found: Delta, pre: Prelink, network: Network) -> Patch | None:
    """The release's part of an incremental compile: the changed and added phones rendered,
    what the current release has of them and of the removed ones, and the network files when
    they change; None when the shortcut does not apply after all."""
    if pre.current is None or pre.current != found.state.release:
        return None
    secret: set[str] = set()
    own = render_delta(found, secret)
    if own is None:
        return None
    previous = found.previous(pre.out.releases / pre.current)
    if previous is None:
        return None
    before = previous[1]
    made = None
    if found.network_changed:
        site = _site_inputs(found)
        if site is None:
            return None
        network.dhcp = release_dhcp(found.state, pre.out.releases / pre.current)
        made = dict(network.of(site))
    return Patch(
        release=pre.current,
        plan=found.plan,
        own=own,
        manifest=previous[0],
        index=found.state.index,
        before={n: before[n] for n in found.specs},
        phones=len(found.state.phones) + len(found.added) - len(found.removed),
        warnings=tuple(d for d in found.diagnostics if d.code == RENDER),
        secret=frozenset(secret),
        gone={n: before[n] for n in found.removed},
        network=made,
    )


def _site_inputs(found: Delta) -> SiteInputs | None:
    """What the network files take from every phone after ``found``: the facts the state
    keeps, the compiled phones' own; None when the state lacks the owners the site needs."""
    inventory = found.plan.inventory
    owners = found.state.owners
    if per_phone(inventory):
        if owners is None:
            return None
        if found.removed or found.twins:
            gone = {PhoneFacts.from_tuple(found.state.phones[n][8]).user for n in found.removed}
            owners = {k: u for k, u in owners.items() if u not in gone}
            owners.update(phone_owners(found.plan))
    else:
        owners = None
    return SiteInputs(inventory, found.network_facts(), owners)


def render_delta(
    found: Delta, secret: set[str] | None = None
) -> dict[str, dict[str, bytes]] | None:
    """The changed phones' own files (``www/...`` paths), or None when rendering them warns
    in a new way or makes a file that another phone or the shared files have; ``secret``,
    when given, receives the paths of those that hold a secret."""
    phones = sorted(found.plan.phones, key=lambda p: p.name)
    rendered = render_chunk(found.plan, phones)
    if not found.render_warnings_known(d.message for d in rendered.warnings):
        return None
    own: dict[str, dict[str, bytes]] = {p.name: {} for p in phones}
    freed = found.freed()
    for path, art in rendered.artifacts.items():
        rel = "www/" + safe_relpath(path)
        if len(art.phones) != 1 or art.phones[0] not in own or art.link is not None:
            return None
        name = art.phones[0]
        had = found.state.phones[name][5] if name in found.state.phones else ()
        if rel not in had and rel not in freed and found.state.index.file_entry_exists(rel):
            return None
        own[name][rel] = art.data
        if art.secret and secret is not None:
            secret.add(rel)
    return own
