"""The incremental state: what it keeps of each phone, and reading it back."""

from __future__ import annotations

import marshal
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from mipc.diagnostics import Diagnostics
from mipc.incremental.fingerprints import APPEARANCE_FIELDS, context_key, projection, spec_digests
from mipc.incremental.frame import document_of
from mipc.incremental.phones import PATCH_LIMIT, PhoneState, StateUnreadable, with_changes
from mipc.incremental.state import (
    State,
    Written,
    plan_facts,
    save_state,
    state_of,
)
from mipc.inventory.load import inventory_files, load_inventory
from mipc.inventory.schema import validate_document
from mipc.model import AppearanceSpec, PhoneSpec
from mipc.network.facts import PhoneFacts, facts_of
from mipc.pipeline import validate
from mipc.release.manifest import ManifestIndex
from mipc.render.polycom import varied_groups

REPO = Path(__file__).parent.parent.parent


def test_spec_digest_covers_every_field() -> None:
    """A new field of a phone entry must reach the digest, or a build could reuse files made
    from the old value."""
    assert set(APPEARANCE_FIELDS) == {f.name for f in fields(AppearanceSpec)}
    covered = {
        "name",
        "template",
        "location",
        "address",
        "appearances",
        "layer",
        "position",
        "origin",
        "address_position",
    }
    assert covered == {f.name for f in fields(PhoneSpec)}


def test_digests_see_each_change() -> None:
    plan = validate(REPO / "examples" / "lab").plan
    assert plan is not None
    spec = plan.inventory.phones[0]
    app = spec.appearances[0]
    variants = [
        replace(spec, name=spec.name + "x"),
        replace(spec, address="0004f2999999"),
        replace(spec, appearances=(replace(app, extension="1"),)),
        replace(spec, appearances=(replace(app, label="other"),)),
        replace(spec, appearances=(replace(app, sharable=not app.sharable),)),
        replace(spec, position=replace(spec.position, line=999) if spec.position else None),
    ]
    digests = {spec_digests(s)[0] for s in [spec, *variants]}
    assert len(digests) == len(variants) + 1
    assert spec_digests(spec)[0] == spec_digests(replace(spec))[0]
    # without positions, only the entry's place differs: the same values
    assert spec_digests(variants[-1])[1] == spec_digests(spec)[1]
    assert len({spec_digests(s)[1] for s in variants[:-1]}) == len(variants) - 1
    phone = plan.phones[0]
    assert projection(phone) == projection(replace(phone))
    assert projection(phone) != projection(replace(phone, mac="0004f2999999"))
    assert projection(phone) != projection(replace(phone, registration_group="other"))


def test_state_round_trip(tmp_path: Path) -> None:

    result = validate(REPO / "examples" / "lab")
    plan = result.plan
    assert plan is not None and result.frame is not None
    index = ManifestIndex("0" * 64, ("www/a",), (11, 20), ("P",), (30, 40))
    state = state_of(
        plan_facts(plan, varied_groups(plan.phones), (facts_of(plan.phones), {"phone/x": "u"})),
        [],
        (result.context, result.frame),
        Written("r1", index, {plan.phones[0].name: ("www/a",)}, ["P"]),
    )
    save_state(tmp_path, state)
    assert State.read(tmp_path) == state
    assert state.owners == {"phone/x": "u"}
    net = {f.name: f for f in facts_of(plan.phones)}
    assert all(PhoneFacts.from_tuple(s[8]) == net[n] for n, s in state.phones.items())
    # the frame gives back the document a read of the YAML files gives, without its phones
    doc = load_inventory(REPO / "examples" / "lab")
    assert validate_document(doc, Diagnostics())
    root, files = inventory_files(REPO / "examples" / "lab")
    kept = document_of(state.frame, root, files)
    assert kept is not None
    assert kept.data == {k: v for k, v in doc.data.items() if k != "phones"}
    assert context_key(kept) == context_key(doc) == result.context
    assert kept.positions == {p: v for p, v in doc.positions.items() if p[:1] != ("phones",)}
    assert document_of(state.frame, root, [*files[:-1], root / "other.yaml"]) is None
    (tmp_path / "state.bin").write_bytes(b"not marshal")
    assert State.read(tmp_path) is None


def test_a_state_whose_phones_cannot_be_read_says_so_when_they_are_needed(
    tmp_path: Path,
) -> None:
    """The phones are decoded when first looked at: a state whose phones are damaged reads,
    and looking at them raises StateUnreadable (the build and diff then compile in full)."""
    result = validate(REPO / "examples" / "lab")
    assert result.plan is not None
    facts = plan_facts(result.plan, frozenset(), (facts_of(result.plan.phones), None))
    index = ManifestIndex("0" * 64, (), (0,), (), (0,))
    state = state_of(facts, [], (result.context, result.frame), Written("r1", index, {}))
    save_state(tmp_path, state)
    fields_ = list(marshal.loads((tmp_path / "state.bin").read_bytes()))
    base_name, patch = fields_[4]
    base = tmp_path / f"state-phones-{base_name}.bin"
    assert sorted(p.name for p in tmp_path.glob("state-phones-*")) == [base.name]
    chunks, index = marshal.loads(base.read_bytes())
    name = result.plan.phones[0].name

    def read_with(phones: object, parts: Any = None) -> State | None:
        fields_[4] = phones
        (tmp_path / "state.bin").write_bytes(marshal.dumps(tuple(fields_)))
        base.write_bytes(marshal.dumps(parts if parts is not None else (chunks, index)))
        return State.read(tmp_path)

    damaged = read_with((base_name, patch), ((b"\x00 damaged",) * len(chunks), index))
    assert damaged is not None and damaged.release == "r1"
    with pytest.raises(StateUnreadable):
        damaged.phones.get(name)
    no_index = read_with((base_name, patch), (chunks, (b"\x00", *index[1:])))
    assert no_index is not None and no_index.phones.get(name) is not None
    with pytest.raises(StateUnreadable):
        len(no_index.phones)
    wrong = read_with((base_name, patch), (tuple(marshal.dumps([1]) for _ in chunks), index))
    assert wrong is not None
    with pytest.raises(StateUnreadable):
        wrong.phones.get(name)
    for parts in ((chunks[:3], index), (chunks, index[:2]), "not parts"):
        shaped = read_with((base_name, patch), parts)
        assert shaped is not None
        with pytest.raises(StateUnreadable):
            shaped.phones.get(name)
    base.unlink()
    (tmp_path / "state.bin").write_bytes(marshal.dumps(tuple(fields_)))
    gone = State.read(tmp_path)
    assert gone is not None
    with pytest.raises(StateUnreadable):  # its base is gone
        gone.phones.get(name)
    for bad in (b"\x00 damaged", marshal.dumps(["not", "a", "dict"])):  # read at once
        assert read_with((base_name, bad)) is None
    assert read_with(("../../etc/passwd", patch)) is not None  # a name, never a path:
    with pytest.raises(StateUnreadable):
        State.read(tmp_path).phones.get(name)  # type: ignore[union-attr]


def _phone(n: int) -> PhoneState:
    return (b"d%d" % n, "", f"a{n}", (str(n),), (), (f"www/{n}.cfg",), b"p", b"s", (), b"u", "")


def test_a_patched_state_keeps_its_phones_bytes_and_reads_back_the_same(
    tmp_path: Path,
) -> None:
    """A state made from another by a few changes writes the phones it read as they were,
    beside a patch; read back, its phones are the changed ones. Past PATCH_LIMIT changes the
    phones are written whole again."""
    result = validate(REPO / "examples" / "lab")
    assert result.plan is not None
    facts = plan_facts(result.plan, frozenset(), (facts_of(result.plan.phones), None))
    index = ManifestIndex("0" * 64, (), (0,), (), (0,))
    first = state_of(facts, [], (result.context, result.frame), Written("r1", index, {}))
    first = replace(first, phones={f"p{n}": _phone(n) for n in range(10)})
    save_state(tmp_path, first)
    base0 = marshal.loads((tmp_path / "state.bin").read_bytes())[4][0]
    expected = dict(first.phones)
    for round_, decode in enumerate((False, True, False)):
        read = State.read(tmp_path)
        assert read is not None
        if decode:
            assert len(read.phones) == len(expected)
        changes: dict[str, PhoneState | None] = {f"p{round_}": None, f"n{round_}": _phone(99)}
        changes[f"p{round_ + 5}"] = _phone(50 + round_)
        after = with_changes(read.phones, changes)
        for name, phone in changes.items():
            if phone is None:
                expected.pop(name)
            else:
                expected[name] = phone
        assert dict(after) == expected and dict(read.phones) != expected
        save_state(tmp_path, replace(read, phones=after))
        stored = marshal.loads((tmp_path / "state.bin").read_bytes())[4]
        assert stored[0] == base0 and len(marshal.loads(stored[1])) == 3 * (round_ + 1)
        assert [p.name for p in tmp_path.glob("state-phones-*")] == [f"state-phones-{base0}.bin"]
    again = State.read(tmp_path)
    assert again is not None and dict(again.phones) == expected
    many = with_changes(again.phones, {f"m{n}": _phone(n) for n in range(PATCH_LIMIT + 1)})
    save_state(tmp_path, replace(again, phones=many))
    name, patch = marshal.loads((tmp_path / "state.bin").read_bytes())[4]
    assert name != base0 and marshal.loads(patch) == {}
    assert [p.name for p in tmp_path.glob("state-phones-*")] == [f"state-phones-{name}.bin"]
    base, _index = marshal.loads((tmp_path / f"state-phones-{name}.bin").read_bytes())
    whole = {n: s for chunk in base for n, s in marshal.loads(chunk).items()}
    assert whole == dict(many)


def test_digest_does_not_depend_on_object_sharing() -> None:
    """Equal entries give equal digests, whether their equal strings are one object or two
    (marshal's later formats would encode the two cases differently)."""
    plan = validate(REPO / "examples" / "lab").plan
    assert plan is not None
    spec = plan.inventory.phones[0]
    app = spec.appearances[0]
    word = "Front Desk 1"
    twin = "".join(list(word))
    assert twin == word and twin is not word
    one = replace(spec, appearances=(replace(app, label=word, station=word),))
    two = replace(spec, appearances=(replace(app, label=word, station=twin),))
    assert spec_digests(one)[0] == spec_digests(two)[0]
