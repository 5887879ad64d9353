"""A template change compiles only the phones of the templates it touches
(:mod:`mipc.incremental.templates`), and makes the very release a full build makes.

The campus example's cases are in ``tests/cli/test_incremental.py`` (``CASES``); here, the
benchmark's generated inventory (YAML phones and phone lists, templates that extend others),
and the rules that keep the shortcut from saying what a full build would not.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

import mipc.incremental.delta
import mipc.pipeline.build
from bench.generate import generate
from mipc.incremental.templates import RENDER
from mipc.render.stage import CODE
from tests.builders import edit, example_copy, settle
from tests.cli.test_incremental import SHORTCUT, run, served, tree_bytes

SA = "  Polycom SA:\n    extends: Polycom Agent\n    type: stand-alone\n"


@pytest.fixture
def bench_inventory(tmp_path: Path) -> Path:
    """The benchmark's inventory of 600 phones: a tenth in YAML, the rest in a phone list;
    "Polycom SA" holds a tenth of them."""
    target = tmp_path / "inv"
    generate(600, target)
    settle(target)
    return target


def built(inventory: Path, out: Path) -> str:
    code, stdout, stderr = run("build", str(inventory), "-o", str(out))
    assert code == 0, stdout + stderr
    return stdout


def forbid(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str) -> None:
    """``module.name`` fails the test if it is called."""

    def refuse(*_args: object) -> None:
        raise AssertionError(f"{name} was called")

    monkeypatch.setattr(module, name, refuse)


def written(summary: str) -> int:
    found = re.search(r"(\d+) written", summary)
    assert found, summary
    return int(found.group(1))


def test_a_template_of_a_tenth_of_the_phones_renders_only_theirs(
    bench_inventory: Path, tmp_path: Path
) -> None:
    """A line added to "Polycom SA" (the YAML phone entries below it move): its 60 phones,
    YAML entries and list rows, are compiled and written, and nothing else; the release is
    the full build's, byte for byte, and the next build knows nothing changed."""
    out = tmp_path / "out"
    built(bench_inventory, out)
    edit(bench_inventory / "mipc.yaml", SA, SA + "    options: {volume_persistence: false}\n")
    settle(bench_inventory)
    quick = built(bench_inventory, out)
    full = built(bench_inventory, tmp_path / "full")
    assert SHORTCUT in quick, quick
    # 60 phones of a Polycom family, two files each (its own file and its master file)
    assert written(quick) == 120 < written(full)
    assert served((out / "current").resolve()) == tree_bytes(
        (tmp_path / "full" / "current").resolve()
    )
    assert "its inputs are unchanged" in built(bench_inventory, out)


def test_a_template_others_extend_touches_their_phones(
    bench_inventory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Polycom Agent" is extended by every Polycom template: more phones than the shortcut
    takes (here lowered to 100), so the build is full, and it knows so before it links the
    release."""
    out = tmp_path / "out"
    built(bench_inventory, out)
    monkeypatch.setattr(mipc.incremental.delta, "MAX_CHANGED", 100)

    forbid(monkeypatch, mipc.pipeline.build, "Prelink")
    edit(bench_inventory / "mipc.yaml", "volume_persistence: true", "volume_persistence: false")
    settle(bench_inventory)
    assert SHORTCUT not in built(bench_inventory, out)
    built(bench_inventory, tmp_path / "full")
    assert served((out / "current").resolve()) == tree_bytes(
        (tmp_path / "full" / "current").resolve()
    )


def test_a_template_of_more_phones_than_the_shortcut_takes_is_known_from_the_text(
    bench_inventory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit inside one template's entry, whose own phones are more than the shortcut
    takes (here lowered below the 60 of "Polycom SA"): a full build, known before the YAML
    files are read again, which makes the full build's release."""
    out = tmp_path / "out"
    built(bench_inventory, out)
    monkeypatch.setattr(mipc.incremental.delta, "MAX_CHANGED", 59)

    forbid(monkeypatch, mipc.incremental.delta, "read_now")
    edit(bench_inventory / "mipc.yaml", SA, SA + "    options: {volume_persistence: false}\n")
    settle(bench_inventory)
    assert SHORTCUT not in built(bench_inventory, out)
    built(bench_inventory, tmp_path / "full")
    assert served((out / "current").resolve()) == tree_bytes(
        (tmp_path / "full" / "current").resolve()
    )


def test_what_the_rules_said_of_a_template_is_said_again(tmp_path: Path) -> None:
    """A template's DSCP value warned (the rules' word on the context, of no phone); the edit
    that answers it is compiled in full, so the warning goes, as a full build has it: the
    phones compiled in the context before and now do not say the same."""
    campus = example_copy("campus", tmp_path)
    templates = campus / "templates.yaml"
    genesys = "    manufacturer: Genesys\n    model: 420HD\n"
    edit(templates, genesys, genesys + "    qos: {rtp_dscp: 60}\n")
    settle(campus)
    out = tmp_path / "out"
    code, _, stderr = run("build", str(campus), "-o", str(out))
    assert code == 0 and "warning[dscp-not-hex]" in stderr
    edit(templates, "qos: {rtp_dscp: 60}", "qos: {rtp_dscp: 46}")
    settle(campus)
    code, stdout, stderr = run("build", str(campus), "-o", str(out))
    assert code == 0 and SHORTCUT not in stdout and "dscp" not in stderr, stdout + stderr
    assert run("build", str(campus), "-o", str(tmp_path / "full"))[0] == 0
    assert served((out / "current").resolve()) == tree_bytes(
        (tmp_path / "full" / "current").resolve()
    )


def test_a_change_beyond_the_templates_is_known_from_the_text(
    bench_inventory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit that reaches beyond the ``templates:`` block (``defaults:``, here) is a full
    build, known before the YAML files are read again."""
    out = tmp_path / "out"
    built(bench_inventory, out)

    forbid(monkeypatch, mipc.incremental.delta, "read_now")
    edit(bench_inventory / "mipc.yaml", "rtp_dscp: 46", "rtp_dscp: 40")
    settle(bench_inventory)
    assert SHORTCUT not in built(bench_inventory, out)


def test_the_render_code_is_render_stages() -> None:
    """The templates' rule names what rendering said by the render stage's own code."""
    assert RENDER == CODE


def test_a_template_others_extend_compiles_their_phones_too(
    bench_inventory: Path, tmp_path: Path
) -> None:
    """ "Polycom Agent" changed: the phones of the templates that extend it (every Polycom
    template) are compiled again with it, and the release is the full build's."""
    out = tmp_path / "out"
    built(bench_inventory, out)
    edit(bench_inventory / "mipc.yaml", "volume_persistence: true", "volume_persistence: false")
    settle(bench_inventory)
    quick = built(bench_inventory, out)
    assert SHORTCUT in quick, quick
    built(bench_inventory, tmp_path / "full")
    assert served((out / "current").resolve()) == tree_bytes(
        (tmp_path / "full" / "current").resolve()
    )


def test_a_phone_message_below_the_edit_builds_in_full(tmp_path: Path) -> None:
    """The campus's ``defaults:`` moved below its templates: the ISS phones' warning points
    at its admin password there. A line added to another template moves that line, so the
    build is full and says where it is now, as a full build does."""
    campus = example_copy("campus", tmp_path)
    locations, templates = campus / "locations.yaml", campus / "templates.yaml"
    text = locations.read_text(encoding="utf-8")
    head, defaults = text.split("defaults:\n")
    locations.write_text(head, encoding="utf-8")
    templates.write_text(templates.read_text() + "defaults:\n" + defaults, encoding="utf-8")
    settle(campus)
    out = tmp_path / "out"
    code, _, stderr = run("build", str(campus), "-o", str(out))
    assert code == 0 and re.search(r"templates\.yaml:\d+:\d+: warning\[factory-admin", stderr)
    genesys = "    manufacturer: Genesys\n"
    edit(templates, genesys, genesys + "    language: Spanish_Spain\n")
    settle(campus)
    code, stdout, stderr = run("build", str(campus), "-o", str(out))
    full = run("build", str(campus), "-o", str(tmp_path / "full"))
    assert code == 0 and SHORTCUT not in stdout, stdout
    assert stderr == full[2].replace(str(tmp_path / "full"), str(out))
