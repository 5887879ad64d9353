"""What only rendering finds, found by ``mipc validate`` too: a build's render and network
problems as diagnostics.

Takes a resolved :class:`mipc.model.Plan`; renders every phone and every family's shared files
in memory, as a build would, and the network files; gives, into the diagnostics, an error for
each phone, family or file a build would refuse (code ``render`` or ``network``, naming the phone
and its entry's position). The renderers' warnings stay the build's (every build says them, and
``--strict`` fails on them there). Writes nothing. Never imports release.
"""

from __future__ import annotations

from pathlib import Path

from mipc.diagnostics import Diagnostic, Diagnostics, InvalidInputError, Position, Severity
from mipc.model import Plan
from mipc.network.plan import DEFAULT_SERVER_ROOT
from mipc.pipeline.compile import Allowed, Result, paused_gc, validate
from mipc.pipeline.site import site_files
from mipc.render.pool import PhonePool
from mipc.render.stage import CODE as RENDER
from mipc.render.stage import ChunkRenderer, by_family, sorted_phones

#: What a renderer or a network writer raises for input it cannot write.
REFUSALS = (InvalidInputError, ValueError)

NETWORK = "network"


def validate_rendered(target: Path, allowed: Allowed | None = None) -> Result:
    """:func:`~mipc.pipeline.compile.validate`, then, when the inventory is valid,
    :func:`check_renders`: what ``mipc validate`` checks. One pause of the collector for
    both, so the heap of a large plan is not collected between them (a second at 100k
    phones)."""
    with paused_gc():
        result = validate(target, allowed=allowed)
        if result.plan is not None and not result.diagnostics.errors:
            check_renders(result.plan, result.diagnostics)
    return result


def check_renders(
    plan: Plan,
    diags: Diagnostics,
    server_root: str = DEFAULT_SERVER_ROOT,
    workers: int | None = None,
) -> None:
    """Render ``plan`` as a build would and report, into ``diags``, what it would refuse;
    every phone is tried, so every problem is said at once. The phones render in ``workers``
    processes, as a build's do (default: one per CPU); the shared and network files here,
    before they fork."""
    with paused_gc():  # a large plan's heap makes every collection slow (as in a build)
        _check_renders(plan, diags, server_root, workers)


def _check_renders(plan: Plan, diags: Diagnostics, server_root: str, workers: int | None) -> None:
    positions = {s.name: s.position for s in plan.inventory.phones}
    late = _shared(plan, server_root)  # before the workers fork (see PhonePool.phones)
    refused = PhonePool(workers).refusals(plan, REFUSALS)
    for name, message in refused:
        said = message if message.startswith(f"phone {name}") else f"phone {name}: {message}"
        diags.extend([_error(RENDER, said, positions.get(name), name)])
    diags.extend(late)


def _shared(plan: Plan, server_root: str) -> list[Diagnostic]:
    """What a build would refuse in every family's shared files and in the network files."""
    found: list[Diagnostic] = []
    chunk = ChunkRenderer(plan)
    for family, phones in by_family(sorted_phones(chunk.plan)).items():
        try:
            chunk.shared(family, phones)
        except REFUSALS as exc:
            found.append(_error(RENDER, f"the {family} phones' shared files: {exc}", None, ""))
    try:
        site_files(plan, server_root)
    except ValueError as exc:
        found.append(_error(NETWORK, f"the DHCP, DNS or nginx files: {exc}", None, ""))
    return found


def _error(code: str, message: str, where: Position | None, phone: str) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, where, "", phone)
