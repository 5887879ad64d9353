"""``mipc validate [INVENTORY]``: check an inventory against the schema and the guide's rules.

Takes a :class:`ValidateOptions`; gives the exit code (0 valid, 1 invalid or warnings under
``--strict``, 2 the inventory cannot be read) after reporting the diagnostics and, for a
person, one summary line. Never parses argv.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mipc.cli.report import reporter
from mipc.pipeline import default_inventory, validate


@dataclass(frozen=True)
class ValidateOptions:
    """What ``mipc validate`` was asked."""

    inventory: Path | None = None
    fmt: str = "text"
    quiet: bool = False
    strict: bool = False


def inventory_root(target: Path) -> Path:
    """The folder an inventory's diagnostics name their files relative to."""
    return target if target.is_dir() else target.parent


def run_validate(opts: ValidateOptions) -> int:
    """Validate, report, return the exit code."""
    target = opts.inventory if opts.inventory is not None else default_inventory()
    with reporter("validate", opts.fmt, quiet=opts.quiet) as out:
        result = validate(target)
        diags = result.diagnostics
        out.diagnostics(diags, inventory_root(target))
        out.code = diags.exit_code(opts.strict)
        phones = len(result.plan.phones) if result.plan else 0
        status = "invalid" if out.code else "valid"
        out.summary(
            f"{target}: {status}: {phones} phones, {len(diags.errors)} errors,"
            f" {len(diags.warnings)} warnings",
            err=bool(out.code),
        )
    return out.code
