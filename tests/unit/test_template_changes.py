"""Which templates a change of the context touches (``mipc.incremental.templates``): only an
edit of the ``templates:`` block's entries is one, and everything else answers None."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mipc.diagnostics import Diagnostic, Position, Severity
from mipc.incremental.frame import Frame, frame_of
from mipc.incremental.templates import template_edits, touched_phones, touched_templates
from mipc.inventory.load import Document
from tests.builders import edit
from tests.unit.test_yaml_phones import campus, read

__all__ = ["campus"]  # the fixture, for the tests here


def framed(target: Path) -> Frame:
    frame = frame_of(read(target))
    assert frame is not None
    return frame


def changed(target: Path, *names: str) -> set[str]:
    return {os.path.abspath(target / n) for n in names}


def test_an_edit_of_a_template_is_one_and_names_its_first_line(campus: Path) -> None:
    frame = framed(campus)
    text = (campus / "templates.yaml").read_text()
    line = text[: text.index("ring_always")].count("\n") + 1
    edit(campus / "templates.yaml", "ring_always: true", "ring_always: false")
    assert template_edits(campus, frame, changed(campus, "templates.yaml")) == {
        "templates.yaml": line
    }
    touched = touched_templates(frame, read(campus), {"templates.yaml": line}, ())
    assert touched == frozenset({"ISS II Agent"})


@pytest.mark.parametrize(
    ("old", "new", "within"),
    [
        ("ring_always: true", "ring_always: false", {"ISS II Agent"}),  # a line changed
        ("    model: VVX 601\n", "", {"Polycom Secure Agent"}),  # a line dropped
        (
            'speed_dial_2: "4000"}\n',
            'speed_dial_2: "4000"}\n    type: stand-alone\n',
            {"ISS I Agent"},
        ),
        # a line added below an entry's last one, as deep as its keys: that entry's
        (
            "    model: 420HD\n",
            "    model: 420HD\n  Genesys Lobby: {extends: Genesys Agent}\n",
            set(),
        ),
        # a new template (as deep as the names): no entry's
        ("  Genesys Agent:\n", "  Genesys Desk:\n", set()),  # a name's own line
        ("    model: 430HD\n", "    model: 430HD\n", set()),  # nothing (no file changed)
        ("    model: 420HD\n  ISS I Agent:\n", "    model: 440HD\n  ISS 1 Agent:\n", set()),
        # two entries' lines
    ],
)
def test_an_edit_inside_one_entry_names_it(
    campus: Path, old: str, new: str, within: set[str]
) -> None:
    """What the build checks before it reads the YAML again: the phones of the template an
    edit lay inside of are touched (more than the shortcut takes: in full)."""
    frame = framed(campus)
    edit(campus / "templates.yaml", old, new)
    found: set[str] = set()
    template_edits(campus, frame, changed(campus, "templates.yaml"), found)
    assert found == within


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("templates:\n", "# a note\ntemplates:\n"),  # the key's own line, or before it
        ("# yaml-language-server", "# the yaml-language-server"),
    ],
)
def test_an_edit_beyond_the_block_is_none(campus: Path, old: str, new: str) -> None:
    frame = framed(campus)
    edit(campus / "templates.yaml", old, new)
    assert template_edits(campus, frame, changed(campus, "templates.yaml")) is None


def test_an_edit_of_the_locations_is_none(campus: Path) -> None:
    frame = framed(campus)
    edit(campus / "locations.yaml", "networks: [10.23.0.0/16]", "networks: [10.23.0.0/17]")
    assert template_edits(campus, frame, changed(campus, "locations.yaml")) is None


def test_a_template_extended_touches_the_templates_below_it(campus: Path) -> None:
    frame = framed(campus)
    edit(campus / "templates.yaml", "volume_persistence: true", "volume_persistence: false")
    touched = touched_templates(frame, read(campus), {"templates.yaml": 1}, ())
    assert touched == frozenset({"Polycom Base", "Polycom Secure Agent", "Polycom Conference"})


def test_a_template_that_no_longer_extends_is_touched_alone(campus: Path) -> None:
    """An ``extends`` dropped (its manufacturer named instead): the template's entry
    changed, not the one it extended."""
    frame = framed(campus)
    edit(
        campus / "templates.yaml",
        "    extends: Polycom Base\n    model: VVX 601",
        "    manufacturer: Polycom\n    model: VVX 601",
    )
    touched = touched_templates(frame, read(campus), {"templates.yaml": 1}, ())
    assert touched == frozenset({"Polycom Secure Agent"})


def test_other_data_or_a_manufacturer_changed_is_none(campus: Path) -> None:
    """The frame's data but ``templates:`` must be the document's, and each template's
    manufacturer (a phone list reads its rows by it) the same."""
    frame = framed(campus)
    doc = read(campus)
    templates = dict(doc.data["templates"])
    templates["Genesys Agent"] = {**templates["Genesys Agent"], "model": "405HD"}
    other = {**doc.data, "defaults": {}, "templates": templates}
    assert touched_templates(frame, Document(other), {"templates.yaml": 1}, ()) is None
    templates["Genesys Agent"] = {**templates["Genesys Agent"], "manufacturer": "AudioCodes"}
    maker = Document({**doc.data, "templates": templates}, doc.positions, doc.key_positions)
    assert touched_templates(frame, maker, {"templates.yaml": 1}, ()) is None
    templates["Genesys Agent"] = {**templates["Genesys Agent"], "manufacturer": "Genesys"}
    templates["Genesys Agent"]["model"] = "405HD"
    model = Document({**doc.data, "templates": templates}, doc.positions, doc.key_positions)
    assert touched_templates(frame, model, {"templates.yaml": 1}, ()) == frozenset(
        {"Genesys Agent"}
    )


@pytest.mark.parametrize(
    ("subject", "code", "line", "touched"),
    [
        ("ISS1-Agent", "factory-admin-password", 20, False),  # a phone's, below the edit
        (None, "render", 20, False),  # what rendering said, below the edit
        ("ISS1-Agent", "factory-admin-password", 9, True),  # above it
        (None, "dscp-not-hex", 20, True),  # the rules' word on the context: compiled again
    ],
)
def test_a_message_below_the_edit_is_none(
    campus: Path, subject: str | None, code: str, line: int, touched: bool
) -> None:
    frame = framed(campus)
    edit(campus / "templates.yaml", "ring_always: true", "ring_always: false")
    said = Diagnostic(
        Severity.WARNING, code, "", Position("templates.yaml", line, 3), "", subject or ""
    )
    found = touched_templates(frame, read(campus), {"templates.yaml": 10}, [said])
    assert (found is not None) is touched


def test_only_positions_moved_is_none(campus: Path) -> None:
    """Data the same, the context key not (a comment line added inside a template): the
    full build says where things are now."""
    frame = framed(campus)
    edit(campus / "templates.yaml", "  Genesys Agent:\n", "  Genesys Agent:\n    # a note\n")
    assert touched_templates(frame, read(campus), {"templates.yaml": 1}, ()) is None


def test_the_phones_of_touched_templates() -> None:
    phones = {"a": (*(("",) * 10), "T"), "b": (*(("",) * 10), ""), "c": (*(("",) * 10), "U")}
    assert touched_phones(phones, frozenset({"T", "U"})) == frozenset({"a", "c"})  # type: ignore[arg-type]
