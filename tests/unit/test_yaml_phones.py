"""Reading again only the phone entries an edit touched (``mipc.incremental.yaml_phones``):
what it gives is what a read of the whole file gives, and anything it cannot be sure of is
read whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipc.diagnostics import Diagnostics, InputError
from mipc.incremental.fingerprints import spec_digests
from mipc.incremental.frame import PhoneText, document_of, frame_of, phone_texts
from mipc.incremental.yaml_phones import edited_texts, read_now, splice
from mipc.inventory.assemble import phone_from_yaml
from mipc.inventory.load import Document, inventory_files, load_inventory
from mipc.inventory.schema import validate_document
from tests.builders import example_copy


@pytest.fixture
def campus(tmp_path: Path) -> Path:
    return example_copy("campus", tmp_path)


def read(target: Path) -> Document:
    doc = load_inventory(target)
    assert validate_document(doc, Diagnostics())
    return doc


def saved_and_context(target: Path) -> tuple[PhoneText, Document]:
    doc = read(target)
    frame = frame_of(doc)
    assert frame is not None
    root, files = inventory_files(target)
    context = document_of(frame, root, files)
    assert context is not None
    return phone_texts(frame)[str(target / "phones.yaml")], context


def digests_of_whole(target: Path, names: set[str]) -> dict[str, bytes]:
    """The digests a read of the whole inventory gives the phones ``names``."""
    doc = read(target)
    specs = [phone_from_yaml(i, p, doc) for i, p in enumerate(doc.data["phones"])]
    return {s.name: spec_digests(s)[0] for s in specs if s.name in names}


def test_an_edit_of_each_entry_is_read_alone_as_the_whole_file_reads_it(campus: Path) -> None:
    """Each phone entry's extension edited in turn: the entry read alone, in its place."""
    saved, context = saved_and_context(campus)
    path = campus / "phones.yaml"
    original = path.read_text()
    lines = original.splitlines(keepends=True)
    edits = [i for i, line in enumerate(lines) if 'extension: "8' in line]
    assert len(edits) > 15
    for i in edits:
        text = "".join(
            [*lines[:i], lines[i].replace('extension: "8', 'extension: "7'), *lines[i + 1 :]]
        )
        found = splice(saved, text, context)
        assert found is not None, lines[i]
        assert len(found.old_names) == 1 and {s.name for s in found.specs} == found.old_names
        path.write_text(text)
        whole = digests_of_whole(campus, set(found.old_names))
        assert {s.name: spec_digests(s)[0] for s in found.specs} == whole
        path.write_text(original)


def test_entries_added_at_the_end(campus: Path) -> None:
    saved, context = saved_and_context(campus)
    path = campus / "phones.yaml"
    extra = (
        "  - name: New One\n    template: Polycom Base\n    address: 0004f2aa0001\n"
        '    appearances: [{extension: "8991"}]\n'
        "  # a comment between\n\n"
        "  - {name: New Two, template: Polycom Base, address: 0004f2aa0002,\n"
        '     appearances: [{extension: "8992"}]}\n'
    )
    text = path.read_text() + extra
    found = splice(saved, text, context)
    assert found is not None
    assert found.old_names == {"Remote SSP"}
    assert [s.name for s in found.specs] == ["Remote SSP", "New One", "New Two"]
    path.write_text(text)
    assert {s.name: spec_digests(s)[0] for s in found.specs} == digests_of_whole(
        campus, {"Remote SSP", "New One", "New Two"}
    )
    # the kept starts are where a read of the whole file puts the entries
    again = saved_and_context(campus)[0]
    assert found.text == again


def test_the_last_entry_removed(campus: Path) -> None:
    saved, context = saved_and_context(campus)
    lines = (campus / "phones.yaml").read_text().splitlines(keepends=True)
    found = splice(saved, "".join(lines[:-1]), context)
    assert found is not None
    assert found.old_names == {"Remote SSP"} and found.specs == ()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda t: t.replace("phones:\n", "phones: \n"), id="the phones key"),
        pytest.param(lambda t: "# a comment first\n" + t, id="before the entries"),
        pytest.param(  # the entries after it would move
            lambda t: t.replace("  - name: Assistant\n", "  # Assistant\n  - name: Assistant\n"),
            id="a line added mid-file",
        ),
        pytest.param(lambda t: t.replace('"8005"', '"8005'), id="a syntax error"),
        pytest.param(
            lambda t: t.replace('{extension: "8005"}', '{extension: "8005", bogus: 1}', 1),
            id="a schema error",
        ),
        pytest.param(
            lambda t: t.replace('{extension: "8005"}', '{extension: "8005"}\ntemplates: {}', 1),
            id="another section",
        ),
        pytest.param(lambda t: t + "site: {}\n", id="a section after the phones"),
    ],
)
def test_what_is_read_whole(campus: Path, change: object) -> None:
    saved, context = saved_and_context(campus)
    text = (campus / "phones.yaml").read_text()
    assert callable(change)
    changed = change(text)
    assert changed != text
    assert splice(saved, changed, context) is None


def test_read_now_falls_back_to_the_whole_file(campus: Path) -> None:
    """A YAML file the frame keeps no text of, or an edit it cannot splice: read whole."""
    doc = read(campus)
    frame = frame_of(doc)
    assert frame is not None
    path = campus / "phones.yaml"
    path.write_text(path.read_text().replace('"8005"', '"8095"'))
    changed = {str(path.resolve())}
    texts = edited_texts(campus, frame, changed)
    assert texts == {str(campus / "phones.yaml"): path.read_text()}
    now = read_now(campus, frame, changed, texts)
    assert now is not None and now.spliced is not None and len(now.spliced) == 1
    site = campus / "site.yaml"
    site.write_text(site.read_text() + "# a note\n")
    changed.add(str(site.resolve()))
    assert edited_texts(campus, frame, changed) is None  # no text of site.yaml is kept
    now = read_now(campus, frame, changed, texts)
    assert now is not None and now.spliced is None and "phones" in now.doc.data


#: Lines that often make a valid edit, and some that do not.
PLAUSIBLE = [
    "",
    "  # a note",
    '      - {extension: "8999"}',
    "    label: Desk",
    "    location: Kolkata",
    "  - {name: Q1, template: Polycom Base, address: 0004f2aa0009, appearances: [{extension: "
    '"8998"}]}',
    "    model: VVX 411",
    "phones:",
]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    line=st.integers(min_value=0),
    text=st.one_of(st.sampled_from(PLAUSIBLE), st.text(alphabet=' "#:-{}[],abc0123', max_size=12)),
)
def test_what_a_splice_gives_is_what_the_whole_file_gives(
    campus: Path, line: int, text: str
) -> None:
    """Any line of phones.yaml replaced by any text: when the splice takes it, its entries are
    those a read of the whole file gives, and it takes it only if the whole file is valid."""
    saved, context = saved_and_context(campus)
    path = campus / "phones.yaml"
    original = path.read_text()
    lines = original.splitlines(keepends=True)
    i = line % len(lines)
    edited = "".join([*lines[:i], text + "\n", *lines[i + 1 :]])
    found = splice(saved, edited, context)
    path.write_text(edited)
    try:
        try:
            doc = load_inventory(campus)
            valid = validate_document(doc, Diagnostics())
        except InputError:
            valid = False
        if found is None:
            return
        assert valid, edited
        names = {s.name for s in found.specs} | set(found.old_names)
        whole = digests_of_whole(campus, names)
        assert {s.name: spec_digests(s)[0] for s in found.specs} == {
            n: d for n, d in whole.items() if n in {s.name for s in found.specs}
        }
        gone = set(found.old_names) - {s.name for s in found.specs}
        assert not gone & set(whole)
    finally:
        path.write_text(original)
