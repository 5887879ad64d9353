"""The manifest: streamed canonical bytes, its index, and splicing changed entries in."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipc.model import Plan
from mipc.pipeline import validate
from mipc.release import manifest
from mipc.release.manifest import (
    FileEntry,
    ManifestIndex,
    Spliced,
    entry_value,
    phone_entry,
    phone_record,
    splice,
    write_manifest,
)
from mipc.render.stage import render_all

REPO = Path(__file__).parent.parent.parent


def canonical(doc: object) -> bytes:
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode()


@pytest.fixture(scope="module")
def lab() -> tuple[Plan, dict[str, FileEntry]]:
    plan = validate(REPO / "examples" / "lab").plan
    assert plan is not None
    artifacts, _ = render_all(plan)
    files = {
        "www/" + path: FileEntry(
            "www/" + path, hashlib.sha256(art.data).hexdigest(), len(art.data), art.phones
        )
        for path, art in artifacts.items()
    }
    # a name that needs escaping and one beyond ASCII
    files['www/odd "name"\\é.cfg'] = FileEntry('www/odd "name"\\é.cfg', "0" * 64, 3, ())
    return plan, files


def check_index(data: bytes, index: ManifestIndex) -> None:
    doc = json.loads(data)
    assert index.sha256 == hashlib.sha256(data).hexdigest()
    assert list(index.files) == sorted(doc["files"])
    assert list(index.phones) == sorted(doc["phones"])
    for path, meta in doc["files"].items():
        entry = index.file_entry(data, path)
        assert entry is not None and entry_value(entry) == meta
    for name, record in doc["phones"].items():
        entry = index.phone_entry(data, name)
        assert entry is not None and entry_value(entry) == record
    assert index.file_entry(data, "www/not-there.cfg") is None


def test_written_manifest_is_canonical_and_indexed(
    lab: tuple[Plan, dict[str, FileEntry]], tmp_path: Path
) -> None:
    plan, files = lab
    index = write_manifest(plan.phones, files, "d" * 64, tmp_path / "m.json")
    data = (tmp_path / "m.json").read_bytes()
    assert data == canonical(json.loads(data))
    assert json.loads(data)["inventory_digest"] == "d" * 64
    check_index(data, index)


names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_splice_is_a_rewrite(
    lab: tuple[Plan, dict[str, FileEntry]],
    tmp_path: Path,
    data: st.DataObject,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan, files = lab
    path = tmp_path / "m.json"
    index = write_manifest(plan.phones, files, "a" * 64, path)
    old = path.read_bytes()
    doc = json.loads(old)
    paths = sorted(doc["files"])
    touched = data.draw(st.lists(st.sampled_from(paths), unique=True))
    added = data.draw(st.lists(names.map(lambda n: "www/" + n), unique=True, max_size=4))
    file_changes: dict[str, bytes | None] = {}
    for p in [*touched, *added]:
        if p in doc["files"] and data.draw(st.booleans()):
            file_changes[p] = None
            del doc["files"][p]
        else:
            meta = {
                "sha256": data.draw(st.text("0123456789abcdef", min_size=64, max_size=64)),
                "size": data.draw(st.integers(0, 10**9)),
            }
            doc["files"][p] = meta
            file_changes[p] = canonical({p: meta})[1:-2]
    phone_changes: dict[str, bytes | None] = {}
    for name in data.draw(st.lists(st.sampled_from(sorted(doc["phones"])), unique=True)):
        if data.draw(st.booleans()):
            phone_changes[name] = None
            del doc["phones"][name]
        else:
            record = dict(doc["phones"][name], digest=data.draw(names))
            doc["phones"][name] = record
            phone_changes[name] = canonical({name: record})[1:-2]
    doc["inventory_digest"] = "b" * 64
    new_index = splice(
        Spliced(old, index), file_changes, phone_changes, "b" * 64, tmp_path / "n.json"
    )
    new = (tmp_path / "n.json").read_bytes()
    assert new == canonical(doc)
    check_index(new, new_index)
    # The unchanged runs copied from the file the old bytes came from (every run, here):
    # the same bytes and index; and from a file that is not those bytes, written instead.
    monkeypatch.setattr(manifest, "_COPIED", 1)
    (tmp_path / "short.json").write_bytes(old[:-1])
    for source in (path, tmp_path / "short.json"):
        again = splice(
            Spliced(old, index, source), file_changes, phone_changes, "b" * 64, tmp_path / "c.json"
        )
        assert (tmp_path / "c.json").read_bytes() == new
        assert again == new_index
    with monkeypatch.context() as no_copy:  # a system without copy_file_range: written
        no_copy.setattr(os, "copy_file_range", None)
        again = splice(
            Spliced(old, index, path), file_changes, phone_changes, "b" * 64, tmp_path / "d.json"
        )
        assert (tmp_path / "d.json").read_bytes() == new and again == new_index


_FIELD = st.one_of(st.none(), st.text(max_size=6))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.tuples(st.text(max_size=6), st.text(max_size=6), st.text(max_size=6)),
    optional=st.tuples(_FIELD, _FIELD, _FIELD),
    files=st.lists(st.text(max_size=6), max_size=3),
)
def test_a_phone_entry_is_the_canonical_encoding_of_its_record(
    lab: tuple[Plan, dict[str, FileEntry]],
    texts: tuple[str, str, str],
    optional: tuple[str | None, str | None, str | None],
    files: list[str],
) -> None:
    """phone_entry writes the record field by field: the bytes json.dumps gives for it, with
    any text (quotes, controls, beyond ASCII, line separators) and None where one may be."""
    plan, _ = lab
    for phone in plan.phones[:3]:
        odd = replace(
            phone,
            name=texts[0],
            location=texts[1],
            type=texts[2],
            mac=optional[0],
            computer_name=optional[1],
            template=optional[2],
            model=replace(phone.model, id=texts[1] + "m", manufacturer=texts[0] + "v"),
        )
        expected = canonical({odd.name: phone_record(odd, files)})[1:-2]
        assert phone_entry(odd, files) == expected
