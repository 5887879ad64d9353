"""``mipc validate [INVENTORY]``: check an inventory against the schema and the guide's rules.

Takes a :class:`ValidateOptions`; gives the exit code (0 valid, 1 invalid or warnings under
``--strict``, 2 the inventory cannot be read) after reporting the diagnostics and, for a
person, one summary line and, when the inventory has phones of a family whose files are
mipc's documented profiles (the catalog's ``profile`` fact), a notice saying so. Never parses
argv.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import click

from mipc.catalog.models import load_catalog
from mipc.cli.report import reporter
from mipc.model import waiting_phones
from mipc.pipeline import default_inventory
from mipc.pipeline.check import validate_rendered
from mipc.pipeline.compile import Allowed


@dataclass(frozen=True)
class ValidateOptions:
    """What ``mipc validate`` was asked."""

    inventory: Path | None = None
    fmt: str = "text"
    quiet: bool = False
    strict: bool = False
    secrets_dir: Path | None = None  # a folder outside the inventory with secret files
    firmware_store: Path | None = None  # the firmware store, maybe outside the inventory


def inventory_root(target: Path) -> Path:
    """The folder an inventory's diagnostics name their files relative to."""
    return target if target.is_dir() else target.parent


def phones_text(phones: int, waiting: int) -> str:
    """``N phones``, and how many of them wait for an address (they get no files)."""
    if not waiting:
        return f"{phones} phones"
    them = "it" if waiting == 1 else "them"
    return f"{phones} phones ({waiting} waiting for an address, no files for {them})"


#: Where the profiles of the families whose formats are not published are documented.
PROFILE_DOC = "docs/keyvalue-and-softphone.md"


def profile_notice(families: Iterable[str], fmt: str, quiet: bool) -> None:
    """For a person, unless quiet: one line on stdout (before the summary) naming the families
    among ``families`` whose files are mipc's documented profiles, not a published format."""
    known = load_catalog().families
    used = sorted({f for f in families if f in known and known[f].profile})
    if used and fmt == "text" and not quiet:
        click.echo(
            f"note: the {' and '.join(used)} files are mipc's documented profiles, not a published"
            f" vendor format; see {PROFILE_DOC}"
        )


def released_families(out: Path) -> list[str]:
    """The catalog's families that phones of ``OUT``'s current release belong to. The manifest
    is canonical JSON (:mod:`mipc.release.manifest`), so a family shows as its exact bytes."""
    try:
        with (
            open(out / "current" / "manifest.json", "rb") as fh,
            mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data,  # 70 MB at 100k
        ):
            return [
                f
                for f in load_catalog().families
                if data.find(f'"family":{json.dumps(f)}'.encode()) != -1
            ]
    except (OSError, ValueError):  # none, or empty
        return []


def run_validate(opts: ValidateOptions) -> int:
    """Validate, report, return the exit code."""
    target = opts.inventory if opts.inventory is not None else default_inventory()
    with reporter("validate", opts.fmt, quiet=opts.quiet) as out:
        result = validate_rendered(target, Allowed.of(opts.secrets_dir, opts.firmware_store))
        diags = result.diagnostics
        out.diagnostics(diags, inventory_root(target))
        out.code = diags.exit_code(opts.strict)
        phones = result.plan.phones if result.plan else ()
        if not out.code:  # beside a valid result; an invalid one is its diagnostics
            profile_notice((p.family for p in phones), opts.fmt, opts.quiet)
        status = "invalid" if out.code else "valid"
        out.summary(
            f"{target}: {status}: {phones_text(len(phones), waiting_phones(phones))},"
            f" {len(set(diags.errors))} errors,"
            f" {len(set(diags.warnings))} warnings",
            err=bool(out.code),
        )
    return out.code
