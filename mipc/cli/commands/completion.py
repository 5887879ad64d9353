"""``mipc completion bash|zsh|fish``: print the shell's completion script for mipc.

The script is click's (:mod:`click.shell_completion`), the same that
``_MIPC_COMPLETE=bash_source mipc`` prints; the shell runs it once (from its start-up file)
and then asks mipc for completions through ``_MIPC_COMPLETE``. Takes a
:class:`CompletionOptions`; gives exit code 0 (JSON: ``shell`` and ``script``). Never parses
argv; never imports the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
from click.shell_completion import get_completion_class

from mipc.cli.report import reporter
from mipc.diagnostics import MipcError

#: The shells click writes completion scripts for.
SHELLS = ("bash", "zsh", "fish")
#: The environment variable the scripts set when they ask mipc for completions.
COMPLETE_VAR = "_MIPC_COMPLETE"


@dataclass(frozen=True)
class CompletionOptions:
    """What ``mipc completion`` was asked."""

    shell: str
    fmt: str = "text"
    quiet: bool = False


def completion_script(shell: str, program: click.Command) -> str:
    """Click's completion script for ``shell`` of ``program`` (the ``mipc`` group)."""
    cls = get_completion_class(shell)
    if cls is None:
        raise MipcError(f"no completion for shell {shell!r}; one of {', '.join(SHELLS)}")
    return cls(program, {}, "mipc", COMPLETE_VAR).source()


def run_completion(opts: CompletionOptions) -> int:
    """Print the script (on stdout, even under ``--quiet``: it is the output); the exit code."""
    with reporter("completion", opts.fmt, quiet=opts.quiet) as out:
        # The group this command runs in: the command modules never import the CLI's main.
        script = completion_script(opts.shell, click.get_current_context().find_root().command)
        if opts.fmt == "json":
            out.result({"shell": opts.shell, "script": script}, "")
        else:
            click.echo(script, nl=False)
    return out.code
