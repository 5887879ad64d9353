"""The benchmark's steps, the inventory changes they make, and how a prepared OUT is copied.

Each incremental step has its own inventory folder (a copy of the generated one) and its own
prepared OUT, built from that folder before the change (OUT records the absolute paths of
its inputs, so a build of another folder would not be incremental). Before each run of the
step, untimed, the prepared OUT is copied into a fresh folder by :func:`copy_out`:
``releases/`` as hard links (``cp -al``: mipc writes a release's files as new files and
renames over them, never through a link; ``mipc/release/staging.py`` and ``delta.py``), and
every file beside it as a real copy, because ``OUT/.lock`` *is* written in place (its holder
line, ``mipc/release/lock.py``) and would otherwise be shared with the prepared OUT.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.generate import yaml_phone

DESK_LINE = "one_touch_voicemail: true  # bench: the 40% template"
LOBBY_LINE = "volume_persistence: true  # bench: the 1% template"
DEFAULTS_LINE = "qos: {rtp_dscp: 46, sip_dscp: 24}"
OVERRIDE = """{% extends "polycom/phone.cfg.j2" %}
{% block extra %}
  <site feature.callRecording.enabled="1"/>
{% endblock %}
"""


@dataclass(frozen=True)
class Step:
    """One measured step: its key, what it runs, and the inventory variant it reads."""

    key: str
    label: str
    kind: str  # validate, cold, copy (build into a copy of a prepared OUT), diff, floor, ...
    variant: str = "base"


STEPS: tuple[Step, ...] = (
    Step("validate", "validate", "validate"),
    Step("cold", "cold build", "cold"),
    Step("floor", "floor (one writer)", "floor"),
    Step("floor2", "floor (two writers)", "floor2"),
    Step("naive", "naive per-device peer", "naive"),
    Step("noop", "no-op build", "copy"),
    Step("yaml", "one YAML change", "copy", "yaml"),
    Step("csv", "one CSV row change", "copy", "csv"),
    Step("add", "add one phone", "copy", "add"),
    Step("remove", "remove one phone", "copy", "remove"),
    Step("template40", "template change (40% of phones)", "copy", "template40"),
    Step("template1", "template change (1% of phones)", "copy", "template1"),
    Step("defaults", "`defaults:` change", "copy", "defaults"),
    Step("override", "override template, cold", "cold", "override"),
    Step("diff", "diff, one YAML change", "diff", "yaml"),
    Step("import", "import-csv of N rows", "import"),
)
BY_KEY = {s.key: s for s in STEPS}
#: The variants that get a prepared OUT (built before the change).
PREPARED = ("base", "yaml", "csv", "add", "remove", "template40", "template1", "defaults")
#: What a build of each incremental step should report (the summary's wording).
EXPECTED_PATH = {
    "noop": "no changes",
    **dict.fromkeys(("yaml", "csv", "add", "remove", "template1"), "changed phones only"),
}


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise ValueError(f"{path}: {old!r} not found")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _lists(inventory: Path) -> list[Path]:
    lists = sorted((inventory / "lists").glob("*.csv"))
    if not lists:
        raise ValueError(f"{inventory}: no phone lists (the size is too small)")
    return lists


def change(variant: str, inventory: Path, count: int) -> None:
    """Make ``variant``'s change in ``inventory`` (generated for ``count`` phones)."""
    yaml = inventory / "mipc.yaml"
    if variant == "yaml":  # phone 0's extension: a YAML phone entry changed
        _replace_once(yaml, 'extension: "100000"', 'extension: "9100000"')
    elif variant == "csv":  # the first row's extension
        first = _lists(inventory)[0]
        row = first.read_text(encoding="utf-8").splitlines()[1].split(",")
        _replace_once(first, f",,{row[3]},,", f",,9{row[3]},,")
    elif variant == "add":  # a new YAML phone entry (phones: ends the file)
        with open(yaml, "a", encoding="utf-8") as fh:
            fh.write(yaml_phone(count))
    elif variant == "remove":  # the last row of the last list
        last = _lists(inventory)[-1]
        lines = last.read_text(encoding="utf-8").splitlines(keepends=True)
        last.write_text("".join(lines[:-1]), encoding="utf-8")
    elif variant == "template40":
        _replace_once(yaml, DESK_LINE, DESK_LINE.replace("true", "false"))
    elif variant == "template1":
        _replace_once(yaml, LOBBY_LINE, LOBBY_LINE.replace("true", "false"))
    elif variant == "defaults":
        _replace_once(yaml, DEFAULTS_LINE, DEFAULTS_LINE.replace("46", "40"))
    elif variant == "override":
        folder = inventory / "vendor_templates" / "polycom"
        folder.mkdir(parents=True)
        (folder / "phone.cfg.j2").write_text(OVERRIDE, encoding="utf-8")
    elif variant != "base":
        raise ValueError(f"unknown variant {variant}")


def copy_out(source: Path, target: Path) -> None:
    """A fresh OUT at ``target`` holding ``source``'s releases (hard links) and real copies
    of everything beside them but its links ahead (spares linked from ``source``'s release
    folders, which the copy's are not: the bench links the copy ahead itself)."""
    target.mkdir()
    for entry in sorted(os.listdir(source)):
        if entry.startswith((".next", ".trash-")):
            continue
        src, dst = source / entry, target / entry
        if entry == "releases":
            subprocess.run(["cp", "-al", "--", str(src), str(dst)], check=True)
        elif src.is_symlink():
            os.symlink(os.readlink(src), dst)
        elif src.is_dir():
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst)


def path_taken(summary: str) -> str:
    """Which build path a build's summary names."""
    if "(changed phones only)" in summary:
        return "changed phones only"
    if ": no changes" in summary:
        return "no changes"
    return "full"


def files_written(summary: str) -> int | None:
    """How many files a build's summary says it wrote."""
    found = re.search(r"(\d+) written", summary)
    return int(found.group(1)) if found else None
