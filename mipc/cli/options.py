"""Options shared by several verbs, defined once as click decorators.

Takes nothing but click and the reporter names (:data:`mipc.cli.report.FORMATS`); gives
decorators. Never imports the pipeline, a stage or a command module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from mipc.cli.report import FORMATS

F = TypeVar("F", bound=Callable[..., Any])

#: ``mipc build --link-ahead`` (:data:`mipc.release.ahead.LinkAhead`; the default first).
LINK_AHEAD = ("auto", "always", "never")

#: What ``--format json`` prints, for each verb's help.
JSON_HELP = (
    "json: one object on stdout with the result, the diagnostics and their counts"
    " ('error' when the command failed)."
)


def choice_option(*names: str, choices: Sequence[str], help_text: str) -> Callable[[F], F]:
    """An option that takes one of ``choices``; the first is the default."""
    return click.option(
        *names, type=click.Choice(choices), default=choices[0], show_default=True, help=help_text
    )


def format_option(func: F) -> F:
    """``--format text|json|github`` (as ``fmt``)."""
    return choice_option(
        "--format",
        "fmt",
        choices=FORMATS,
        help_text="How to report: text for a person, json, or github (workflow annotations).",
    )(func)


def quiet_option(func: F) -> F:
    """``-q/--quiet``: diagnostics and errors only."""
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="Print only diagnostics and errors; the exit code says the rest.",
    )(func)


def output_options(func: F) -> F:
    """``--format`` and ``--quiet``, which every verb takes."""
    return format_option(quiet_option(func))


def strict_option(func: F) -> F:
    """``--strict``: warnings fail the command."""
    return click.option("--strict", is_flag=True, help="Treat warnings as errors.")(func)


def inventory_argument(func: F) -> F:
    """The optional INVENTORY argument, a file or folder; None when not given.

    The commands then take ``./mipc.yaml`` if present, else the current folder.
    """
    return click.argument("inventory", required=False, type=click.Path(path_type=Path))(func)


def show_secrets_option(func: F) -> F:
    """``--show-secrets``: print secrets instead of ``<redacted>``."""
    return click.option(
        "--show-secrets", is_flag=True, help="Print secrets instead of <redacted>."
    )(func)


def server_root_option(help_text: str) -> Callable[[F], F]:
    """``--server-root``: where OUT lives on the web server."""

    def decorate(func: F) -> F:
        return click.option(
            "--server-root", default="/srv/mipc", show_default=True, help=help_text
        )(func)

    return decorate


def confinement_options(func: F) -> F:
    """``--secrets-dir`` and ``--firmware-store``: the folders outside the inventory it may
    read (:mod:`mipc.inventory.confine`)."""
    secrets = click.option(
        "--secrets-dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="A folder outside the inventory where its {file: ...} secrets may also be.",
    )
    store = click.option(
        "--firmware-store",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="The firmware store: overrides the inventory's firmware.store, and may lie"
        " outside the inventory.",
    )
    return secrets(store(func))
