"""``mipc validate [INVENTORY]``: check an inventory against the schema and the guide's rules.

Takes a :class:`ValidateOptions`; gives the exit code (0 valid, 1 invalid or warnings under
``--strict``, 2 the inventory cannot be read) after reporting the diagnostics and, for a
person, one summary line. Never parses argv.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mipc.cli.report import reporter
from mipc.model import waiting_phones
from mipc.pipeline import default_inventory, validate
from mipc.pipeline.check import check_renders
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


def run_validate(opts: ValidateOptions) -> int:
    """Validate, report, return the exit code."""
    target = opts.inventory if opts.inventory is not None else default_inventory()
    with reporter("validate", opts.fmt, quiet=opts.quiet) as out:
        result = validate(target, allowed=Allowed.of(opts.secrets_dir, opts.firmware_store))
        diags = result.diagnostics
        if result.plan is not None and not diags.errors:
            check_renders(result.plan, diags)
        out.diagnostics(diags, inventory_root(target))
        out.code = diags.exit_code(opts.strict)
        phones = result.plan.phones if result.plan else ()
        status = "invalid" if out.code else "valid"
        out.summary(
            f"{target}: {status}: {phones_text(len(phones), waiting_phones(phones))},"
            f" {len(diags.errors)} errors,"
            f" {len(diags.warnings)} warnings",
            err=bool(out.code),
        )
    return out.code
