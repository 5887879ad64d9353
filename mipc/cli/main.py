"""The click group ``mipc`` and its verbs: parse the options, hand one options object over.

Takes argv; gives each verb's options object to its command function in
:mod:`mipc.cli.commands` and exits with the code it returns. A :class:`~mipc.diagnostics.MipcError`
that escapes a command is reported by :meth:`mipc.cli.report.Reporter.fail`, the one place an
error becomes an exit code. Command modules are imported when their verb runs (start-up
time); this module never imports the pipeline or a stage at the top.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from mipc import __version__
from mipc.cli.options import (
    JSON_HELP,
    LINK_AHEAD,
    choice_option,
    confinement_options,
    format_option,
    inventory_argument,
    output_options,
    quiet_option,
    server_root_option,
    show_secrets_option,
    strict_option,
)
from mipc.cli.report import Reporter
from mipc.diagnostics import MipcError


class MipcGroup(click.Group):
    """A click group that turns an escaped :class:`MipcError` into its message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the verb; report a :class:`MipcError` it raises."""
        try:
            return super().invoke(ctx)
        except MipcError as exc:
            out = Reporter(ctx.invoked_subcommand or "")
            out.fail(exc)
            ctx.exit(out.code)


def _inventory(path: Path | None) -> Path:
    # Imported here, not at the top, for start-up time (the pipeline loads every stage).
    from mipc.pipeline import default_inventory

    return path if path is not None else default_inventory()


@click.group(cls=MipcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mipc")
def main() -> None:
    """mipc, the Managed IP Phone Compiler: desk-phone inventories to static provisioning trees.

    INVENTORY is a mipc.yaml file or a folder of YAML files; without it, ./mipc.yaml if
    present, else the current folder. Exit codes: 0 done, 1 invalid input (diff: changes),
    2 trouble.
    """


def run() -> None:
    """The console script and ``python -m mipc``: :func:`main`, then the process ends at
    once, its output flushed, without freeing its heap object by object (after a build of
    100,000 phones, a tenth to half a second nobody waits for; nothing is left to write by
    then: each verb has finished its files before it returns). A traceback, when one is
    printed, and the exit code are as the interpreter gives them."""
    try:
        main()  # standalone: always ends in SystemExit
    except SystemExit as done:
        code = done.code
    else:  # pragma: no cover - click's standalone mode always exits
        code = 0
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: as the interpreter's own exit says it
        code = 120
    os._exit((code or 0) & 0xFF)


@main.command("init", epilog=f"--format {JSON_HELP} Result: directory, written.")
@click.argument("directory", type=click.Path(path_type=Path))
@output_options
def init_command(**options: Any) -> None:
    """Scaffold the guide's lab inventory in DIRECTORY (new or empty)."""
    # Command modules are imported when their verb runs, for start-up time.
    from mipc.cli.commands import init

    sys.exit(init.run_init(init.InitOptions(**options)))


@main.command("validate", epilog=f"--format {JSON_HELP}")
@inventory_argument
@confinement_options
@output_options
@strict_option
def validate_command(**options: Any) -> None:
    """Check an inventory against the schema and the guide's rules."""
    # Command modules are imported when their verb runs, for start-up time.
    from mipc.cli.commands import validate

    sys.exit(validate.run_validate(validate.ValidateOptions(**options)))


@main.command("explain", epilog=f"--format {JSON_HELP} Result: phone, settings, computed.")
@click.argument("phone")
@inventory_argument
@click.option("--only", metavar="GLOB", help="Only settings whose key matches GLOB.")
@click.option("--layer", metavar="NAME", help="Only settings set by this layer (glob).")
@confinement_options
@output_options
@show_secrets_option
def explain_command(**options: Any) -> None:
    """Show PHONE's effective settings and the layer each came from.

    PHONE is a name, a MAC address in any notation, or a soft phone's computer name.
    """
    # Command modules are imported when their verb runs, for start-up time.
    from mipc.cli.commands import explain

    sys.exit(explain.run_explain(explain.ExplainOptions(**options)))


@main.command("import-csv")
@click.argument("csv_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-i",
    "--inventory",
    type=click.Path(path_type=Path),
    help="Inventory to import into (default: ./mipc.yaml or the current directory).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be written; change nothing.")
@choice_option(
    "--on-conflict",
    choices=("fail", "skip", "replace"),
    help_text="What to do with phones whose name, MAC, computer name or extension exists.",
)
@click.option(
    "--into", type=click.Path(path_type=Path), help="Phone list file to write (in the inventory)."
)
@choice_option(
    "--as",
    "as_format",
    choices=("csv", "yaml"),
    help_text="Write a normalised CSV list (default) or YAML phone entries.",
)
@click.option(
    "--skip-errors",
    is_flag=True,
    help="Write the rows accepted even if others are rejected (exit code 1 still).",
)
@output_options
@strict_option
def import_csv_command(csv_files: tuple[Path, ...], **options: Any) -> None:
    """Import Managed IP Phone Assistant CSV lists (template or TMM layout)."""
    from mipc.cli.commands.import_csv import ImportCommand, run_import  # lazy: start-up time

    sys.exit(run_import(ImportCommand(list(csv_files), **options), out=sys.stdout, err=sys.stderr))


@main.command("export-csv")
@inventory_argument
@choice_option(
    "--layout",
    choices=("tmm", "template", "normalised"),
    help_text="The guide's TMM or template layout, or mipc's normalised list.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="File to write (default: stdout)."
)
@click.option(
    "--lossy",
    is_flag=True,
    help="Leave out, with a warning, what no column holds (default: an error, nothing written).",
)
@output_options
def export_csv_command(**options: Any) -> None:
    """Write the inventory's phones as a CSV phone list."""
    from mipc.cli.commands.export_csv import ExportCommand, run_export  # lazy: start-up time

    sys.exit(run_export(ExportCommand(**options), out=sys.stdout, err=sys.stderr))


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
@click.option(
    "--jobs", "-j", "workers", type=int, default=None, help="Worker processes (default: cores)."
)
@server_root_option("Where OUT lives on the web server (for the nginx site in network/).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: terminal).")
@confinement_options
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    metavar="SECONDS",
    help="Wait this long for another build's lock on OUT (default: refuse at once).",
)
@click.option(
    "--uploads-owner",
    metavar="USER",
    default=None,
    help="chown OUT/uploads/{logs,overrides,contacts} to USER (nginx's user; as root).",
)
@click.option(
    "--link-ahead",
    type=click.Choice(LINK_AHEAD),
    default=LINK_AHEAD[0],
    metavar="WHEN",
    help=(
        "auto, always or never: once built, hard-link the release into a spare folder of OUT"
        " in the background, for the next incremental build to start from (auto: releases"
        " of 20,000 files or more)."
    ),
)
@output_options
@strict_option
def build_command(inventory: Path | None, **options: Any) -> None:
    """Compile the inventory into a new release of OUT and make it current."""
    # Command modules are imported when their verb runs, for start-up time.
    from mipc.cli.commands import build

    sys.exit(build.run_build(_inventory(inventory), build.BuildOptions(**options)))


@main.command("rollback", epilog=f"--format {JSON_HELP} Result: out, current, previous.")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--to", "to", metavar="ID", help="Switch to this release instead.")
@output_options
def rollback_command(**options: Any) -> None:
    """Switch OUT/current back to the previous release."""
    # Command modules are imported when their verb runs, for start-up time.
    from mipc.cli.commands import rollback

    sys.exit(rollback.run_rollback(rollback.RollbackOptions(**options)))


@main.command("unlock", epilog=f"--format {JSON_HELP} Result: out, held, cleared, holder.")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--force", is_flag=True, help="Clear the lock even if its holder still runs (you decide)."
)
@output_options
def unlock_command(**options: Any) -> None:
    """Clear OUT's lock when the build that took it is gone."""
    # Command modules are imported when their verb runs, for start-up time.
    from mipc.cli.commands import unlock

    sys.exit(unlock.run_unlock(unlock.UnlockOptions(**options)))


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
@show_secrets_option
@confinement_options
@quiet_option
@server_root_option("Where OUT lives on the web server (as given to build).")
@format_option
def diff_command(inventory: Path | None, **options: Any) -> None:
    """Show what a build would change, per phone and per file, writing nothing.

    Exit code as diff(1): 0 no changes, 1 changes, 2 trouble.
    """
    # Command modules are imported when their verb runs, for start-up time.
    from mipc.cli.commands import diff

    if options["between"] and (options["against"] or inventory):
        click.echo(
            "mipc diff: --between compares two releases; no INVENTORY or --against", err=True
        )
        sys.exit(2)
    opts = diff.DiffOptions(**{**options, "between": options["between"] or None})
    sys.exit(diff.run_diff(inventory, opts))


@main.command(
    "simulate", epilog=f"--format {JSON_HELP} Result: phone, family, requests, settings, uploads."
)
@click.argument("phone")
@click.option(
    "--tree",
    type=click.Path(path_type=Path),
    help="OUT (its current release), a release folder, or a manifest.json beside its www/.",
)
@click.option("--url", metavar="URL", help="The provisioning server's base URL instead.")
@click.option(
    "--manifest",
    type=click.Path(path_type=Path),
    help="With --url: the release's OUT or manifest.json, to find PHONE by name.",
)
@click.option("--user", metavar="U", help="With --url: HTTP basic user.")
@click.option(
    "--password-env",
    metavar="VAR",
    help="With --user: the environment variable holding the password.",
)
@click.option(
    "--cacert",
    "--ca",
    "cacert",
    type=click.Path(path_type=Path),
    help="With an https:// URL: CA certificates (PEM) to trust instead of the system store.",
)
@click.option(
    "--cert",
    type=click.Path(path_type=Path),
    help="With an https:// URL: the phone's client certificate (PEM), with --key.",
)
@click.option("--key", type=click.Path(path_type=Path), help="With --cert: its private key (PEM).")
@click.option(
    "--insecure",
    is_flag=True,
    help="With an https:// URL: do not verify the server's certificate.",
)
@show_secrets_option
@output_options
def simulate_command(**options: Any) -> None:
    """Play PHONE's boot and provision sequence against a release, as the phone would.

    PHONE is a name, a MAC address in any notation, or a soft phone's computer name. Exit
    codes: 0 the phone would boot, 1 a file it asks for is missing or does not parse, 2 trouble.
    """
    # Command modules are imported when their verb runs, for start-up time.
    from mipc.cli.commands import simulate

    sys.exit(simulate.run_simulate(simulate.SimulateOptions(**options)))


@main.command("schema", epilog=f"--format {JSON_HELP} Result: part, and output or schema.")
@choice_option(
    "--part",
    choices=("inventory", "site", "locations", "templates", "phones", "manifest", "diff"),
    help_text="The whole inventory, one file of a split inventory (site.yaml, ...),"
    " or a JSON output of mipc.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="File to write (default: stdout)."
)
@output_options
def schema_command(**options: Any) -> None:
    """Print or write a JSON Schema of this mipc, for editors and CI."""
    # Command modules are imported when their verb runs, for start-up time.
    from mipc.cli.commands import schema

    sys.exit(schema.run_schema(schema.SchemaOptions(**options)))


@main.command("completion", epilog=f"--format {JSON_HELP} Result: shell, script.")
@click.argument("shell", type=click.Choice(("bash", "zsh", "fish")))
@output_options
def completion_command(**options: Any) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    bash: eval "$(mipc completion bash)" in ~/.bashrc; zsh: the same in ~/.zshrc;
    fish: mipc completion fish > ~/.config/fish/completions/mipc.fish
    """
    # Command modules are imported when their verb runs, for start-up time.
    from mipc.cli.commands import completion

    sys.exit(completion.run_completion(completion.CompletionOptions(**options)))
