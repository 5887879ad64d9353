"""The command line: parses options, calls one command module, reports. No logic lives here."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from mipc import __version__
from mipc.diagnostics import Diagnostics, render

F = TypeVar("F", bound=Callable[..., Any])


def format_option(func: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json", "github"]),
        default="text",
        show_default=True,
        help="How to report diagnostics.",
    )(func)


def strict_option(func: F) -> F:
    return click.option("--strict", is_flag=True, help="Treat warnings as errors.")(func)


def inventory_argument(func: F) -> F:
    return click.argument("inventory", required=False, type=click.Path(path_type=Path))(func)


def _inventory(path: Path | None) -> Path:
    from mipc.pipeline import default_inventory

    return path if path is not None else default_inventory()


def use_colour() -> bool:
    return sys.stderr.isatty() and "NO_COLOR" not in os.environ


def report(diags: Diagnostics, fmt: str, *, err: bool = True) -> None:
    """Print diagnostics (text and github to stderr, json to stdout)."""
    items = diags.sorted()
    if fmt == "json":
        click.echo(render(items, "json"))
        return
    if not items:
        return
    text = render(items, fmt)
    if fmt == "text" and use_colour():
        coloured = []
        for line in text.splitlines():
            colour = "red" if "] error[" in line or " error[" in line else "yellow"
            coloured.append(click.style(line, fg=colour))
        text = "\n".join(coloured)
    click.echo(text, err=err)


def exit_code(diags: Diagnostics, strict: bool) -> int:
    """2 when the inventory cannot be read, 1 when it is invalid, else 0."""
    if diags.trouble:
        return 2
    return 1 if diags.has_errors(strict) else 0


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mipc")
def main() -> None:
    """mipc, the Managed IP Phone Compiler: desk-phone inventories to static provisioning trees."""


@main.command("init")
@click.argument("directory", type=click.Path(path_type=Path))
def init_command(directory: Path) -> None:
    """Scaffold the guide's lab inventory in DIRECTORY (new or empty)."""
    from mipc.cli.commands.init import InitError, scaffold

    try:
        written = scaffold(directory)
    except InitError as exc:
        click.echo(f"mipc init: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"mipc init: cannot write {directory}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: mipc validate {directory}")


@main.command("validate")
@inventory_argument
@format_option
@strict_option
def validate_command(inventory: Path | None, fmt: str, strict: bool) -> None:
    """Check an inventory against the schema and the guide's rules."""
    from mipc.pipeline import validate

    target = _inventory(inventory)
    result = validate(target)
    diags = result.diagnostics
    report(diags, fmt)
    code = exit_code(diags, strict)
    if fmt == "text":
        phones = len(result.plan.phones) if result.plan else 0
        status = "invalid" if code else "valid"
        click.echo(
            f"{target}: {status}: {phones} phones, {len(diags.errors)} errors,"
            f" {len(diags.warnings)} warnings",
            err=bool(code),
        )
    sys.exit(code)


@main.command("explain")
@click.argument("phone")
@inventory_argument
@click.option("--only", metavar="GLOB", help="Only settings whose key matches GLOB.")
@click.option("--layer", metavar="NAME", help="Only settings set by this layer (glob).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--show-secrets", is_flag=True, help="Print secrets instead of <redacted>.")
def explain_command(
    phone: str,
    inventory: Path | None,
    only: str | None,
    layer: str | None,
    fmt: str,
    show_secrets: bool,
) -> None:
    """Show PHONE's effective settings and the layer each came from.

    PHONE is a name, a MAC address in any notation, or a soft phone's computer name.
    """
    from mipc.cli.commands.explain import explain, find_phone, notes
    from mipc.pipeline import validate

    result = validate(_inventory(inventory))
    if result.plan is None:
        report(result.diagnostics, "text")
        sys.exit(exit_code(result.diagnostics, False) or 1)
    found = find_phone(result.plan, phone)
    if found is None:
        click.echo(
            f"mipc explain: no phone named or addressed {phone!r}; `mipc export-csv` lists them",
            err=True,
        )
        sys.exit(1)
    click.echo(explain(found, only, layer, fmt, show_secrets, notes(found, result.plan.inventory)))


@main.command("import-csv")
@click.argument("csv_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-i",
    "--inventory",
    type=click.Path(path_type=Path),
    help="Inventory to import into (default: ./mipc.yaml or the current directory).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be written; change nothing.")
@click.option(
    "--on-conflict",
    type=click.Choice(["fail", "skip", "replace"]),
    default="fail",
    show_default=True,
    help="What to do with phones whose name, MAC, computer name or extension exists.",
)
@click.option(
    "--into", type=click.Path(path_type=Path), help="Phone list file to write (in the inventory)."
)
@click.option(
    "--as",
    "as_format",
    type=click.Choice(["csv", "yaml"]),
    default="csv",
    show_default=True,
    help="Write a normalised CSV list (default) or YAML phone entries.",
)
@format_option
@strict_option
def import_csv_command(
    csv_files: tuple[Path, ...],
    inventory: Path | None,
    dry_run: bool,
    on_conflict: str,
    into: Path | None,
    as_format: str,
    fmt: str,
    strict: bool,
) -> None:
    """Import Managed IP Phone Assistant CSV lists (template or TMM layout)."""
    from mipc.cli.commands.import_csv import ImportCommand, run_import  # lazy: start-up time

    command = ImportCommand(
        list(csv_files),
        inventory,
        dry_run=dry_run,
        on_conflict=on_conflict,  # type: ignore[arg-type]
        into=into,
        as_format=as_format,  # type: ignore[arg-type]
        strict=strict,
        fmt=fmt,
    )
    sys.exit(run_import(command, out=sys.stdout, err=sys.stderr))


@main.command("export-csv")
@inventory_argument
@click.option(
    "--layout",
    type=click.Choice(["tmm", "template", "normalised"]),
    default="tmm",
    show_default=True,
    help="The guide's TMM or template layout, or mipc's normalised list.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="File to write (default: stdout)."
)
@format_option
def export_csv_command(inventory: Path | None, layout: str, output: Path | None, fmt: str) -> None:
    """Write the inventory's phones as a CSV phone list."""
    from mipc.cli.commands.export_csv import run_export  # lazy: start-up time

    sys.exit(
        run_export(
            _inventory(inventory),
            layout,
            output,
            fmt=fmt,
            out=sys.stdout,
            err=sys.stderr,
        )
    )


@main.command("build")
@inventory_argument
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: releases/, current, uploads/.",
)
@click.option("--keep", default=5, show_default=True, help="Old releases kept for rollback.")
@click.option("--force", is_flag=True, help="Make a new release even if nothing changed.")
@click.option("--jobs", "-j", type=int, default=None, help="Worker processes (default: cores).")
@click.option(
    "--server-root",
    default="/srv/mipc",
    show_default=True,
    help="Where OUT lives on the web server (for the nginx site in network/).",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: terminal).")
@format_option
@strict_option
def build_command(
    inventory: Path | None,
    out: Path,
    keep: int,
    force: bool,
    jobs: int | None,
    server_root: str,
    progress: bool | None,
    fmt: str,
    strict: bool,
) -> None:
    """Compile the inventory into a new release of OUT and make it current."""
    from mipc.cli.commands.build import BuildOptions, run_build

    opts = BuildOptions(
        out=out,
        keep=keep,
        force=force,
        strict=strict,
        fmt=fmt,
        workers=jobs,
        server_root=server_root,
        progress=progress,
    )
    sys.exit(run_build(_inventory(inventory), opts))


@main.command("rollback")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--to", "to", metavar="ID", help="Switch to this release instead.")
def rollback_command(out: Path, to: str | None) -> None:
    """Switch OUT/current back to the previous release."""
    from mipc.cli.commands.rollback import run_rollback

    sys.exit(run_rollback(out, to))


@main.command("diff")
@inventory_argument
@click.option(
    "--against",
    type=click.Path(path_type=Path),
    help="OUT (its current release), a release folder, or a manifest.json with its tree.",
)
@click.option(
    "--between",
    nargs=2,
    type=click.Path(path_type=Path),
    metavar="OLD NEW",
    help="Compare two releases instead of an inventory with a release.",
)
@click.option("--files", is_flag=True, help="Add unified diffs of the changed files.")
@click.option(
    "--changed-macs",
    is_flag=True,
    help="Print only the MACs (and computer names) of the phones whose files change.",
)
@click.option("--show-secrets", is_flag=True, help="Print secrets instead of <redacted>.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing; the exit code says.")
@click.option(
    "--server-root",
    default="/srv/mipc",
    show_default=True,
    help="Where OUT lives on the web server (as given to build).",
)
@format_option
def diff_command(
    inventory: Path | None,
    against: Path | None,
    between: tuple[Path, Path] | None,
    files: bool,
    changed_macs: bool,
    show_secrets: bool,
    quiet: bool,
    server_root: str,
    fmt: str,
) -> None:
    """Show what a build would change, per phone and per file, writing nothing.

    Exit code as diff(1): 0 no changes, 1 changes, 2 trouble.
    """
    from mipc.cli.commands.diff import DiffOptions, run_diff

    if between and (against or inventory):
        click.echo(
            "mipc diff: --between compares two releases; no INVENTORY or --against", err=True
        )
        sys.exit(2)
    opts = DiffOptions(
        against=against,
        between=between or None,
        fmt=fmt,
        files=files,
        changed_macs=changed_macs,
        show_secrets=show_secrets,
        quiet=quiet,
        server_root=server_root,
    )
    sys.exit(run_diff(inventory, opts))
