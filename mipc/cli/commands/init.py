"""``mipc init DIR``: scaffold the guide's lab inventory in a new or empty folder.

Takes an :class:`InitOptions`; gives the exit code (0 written, 1 the folder is not empty or is
a file, 2 it cannot be written) after reporting the files written (JSON: ``directory`` and
``written``). Besides the lab it writes the editor schemas of this mipc into the inventory's
``.mipc/schemas/`` and starts every YAML file it writes with a modeline naming its schema
there, by a relative path (``mipc/cli/commands/schema.py`` says what each part holds). Never parses
argv; never imports the pipeline.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from mipc.cli.commands.schema import EDITOR_SCHEMAS, PARTS, schema_text
from mipc.cli.report import reporter
from mipc.diagnostics import InvalidInputError, MipcError
from mipc.resources import lab_dir

#: Where ``mipc init`` puts the schemas, relative to the inventory.
SCHEMAS = Path(".mipc") / "schemas"
#: How the YAML language server's modeline starts (the first line of a YAML file).
MODELINE = "# yaml-language-server: $schema="


class InitError(InvalidInputError):
    """The target is a file or a folder that is not empty (exit code 1)."""


@dataclass(frozen=True)
class InitOptions:
    """What ``mipc init`` was asked."""

    directory: Path
    fmt: str = "text"
    quiet: bool = False


def scaffold(target: Path) -> list[Path]:
    """Copy the lab inventory into target, which must be missing or empty."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InitError(f"{target} is not empty; give a new or empty folder")
    source = lab_dir()
    written: list[Path] = []
    for path in sorted(source.rglob("*")):
        if path.is_file():
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.suffix == ".yaml":
                text = path.read_text(encoding="utf-8")
                dest.write_text(with_modeline(text, modeline(dest, target)), encoding="utf-8")
            else:
                shutil.copyfile(path, dest)
            written.append(dest)
    (target / SCHEMAS).mkdir(parents=True)
    for name in EDITOR_SCHEMAS:
        dest = target / SCHEMAS / f"{name}.schema.json"
        dest.write_text(schema_text(name), encoding="utf-8")
        written.append(dest)
    return written


def modeline(path: Path, inventory: Path) -> str:
    """The modeline of YAML file ``path`` in ``inventory``: its part's schema (a file named as
    a part, such as ``templates.yaml``), else the whole inventory's."""
    name = path.stem if path.stem in PARTS else "inventory"
    schema = inventory / SCHEMAS / f"{name}.schema.json"
    return MODELINE + Path(os.path.relpath(schema, path.parent)).as_posix()


def with_modeline(text: str, line: str) -> str:
    """``text`` starting with modeline ``line``, in place of the modeline it had."""
    first, newline, rest = text.partition("\n")
    if first.startswith(MODELINE):
        return line + newline + rest
    return f"{line}\n{text}"


def run_init(opts: InitOptions) -> int:
    """Scaffold, report, return the exit code."""
    with reporter("init", opts.fmt, quiet=opts.quiet) as out:
        try:
            written = scaffold(opts.directory)
        except OSError as exc:
            raise MipcError(f"cannot write {opts.directory}: {exc.strerror or exc}") from exc
        lines = [f"wrote {path}" for path in written]
        out.result(
            {"directory": str(opts.directory), "written": [str(p) for p in written]},
            "\n".join(lines),
        )
        out.summary(f"next: mipc validate {opts.directory}")
    return out.code
