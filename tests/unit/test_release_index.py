"""What a build reuses of a release's manifest: the same entries as a plain parse would give,
whatever the manifest holds, without holding the whole parsed manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipc.release.manifest import MANIFEST
from mipc.release.store import Out, ReleaseIndex, release_id_of


def reference(manifest: Any) -> ReleaseIndex:
    """The entries a plain ``json.loads`` of the manifest gives: each file's sha256 and
    size, each phone's digest and files, where they are of the right types."""
    files: dict[str, tuple[str, int]] = {}
    phones: dict[str, tuple[str, tuple[str, ...]]] = {}
    if not isinstance(manifest, dict):
        return ReleaseIndex()
    raw_files, raw_phones = manifest.get("files"), manifest.get("phones")
    for path, meta in raw_files.items() if isinstance(raw_files, dict) else ():
        if isinstance(meta, dict) and isinstance(meta.get("sha256"), str):  # noqa: SIM102
            if isinstance(meta.get("size"), int):
                files[path] = (meta["sha256"], meta["size"])
    for name, record in raw_phones.items() if isinstance(raw_phones, dict) else ():
        if isinstance(record, dict) and isinstance(record.get("digest"), str):
            owned = record.get("files")
            if isinstance(owned, list) and all(isinstance(f, str) for f in owned):
                phones[name] = (record["digest"], tuple(owned))
    return ReleaseIndex(files, phones)


def write_release(out: Path, manifest: Any) -> str:
    """A release folder of ``out`` holding ``manifest``; its name."""
    import hashlib

    raw = json.dumps(manifest, sort_keys=True).encode()
    name = release_id_of(hashlib.sha256(raw).hexdigest())
    folder = out / "releases" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).write_bytes(raw)
    return name


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 5000), st.text(max_size=8), st.floats(0, 1)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
keys = st.sampled_from(["sha256", "size", "digest", "files", "mac", "name"])
#: Entries near the real shapes, some with a key missing, extra or of another type.
entries = st.dictionaries(
    keys,
    st.one_of(values, st.text(max_size=8), st.lists(st.text(max_size=8), max_size=3)),
    max_size=5,
)
sections = st.dictionaries(st.text(min_size=1, max_size=8), st.one_of(entries, values), max_size=5)
manifests = st.one_of(
    st.fixed_dictionaries({"files": sections, "phones": sections}),
    st.dictionaries(st.sampled_from(["files", "phones", "format"]), st.one_of(sections, values)),
    values,
)


def subset(index: ReleaseIndex, ref: ReleaseIndex) -> bool:
    return all(ref.files.get(k) == v for k, v in index.files.items()) and all(
        ref.phones.get(k) == v for k, v in index.phones.items()
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=manifests)
def test_the_index_never_holds_what_the_manifest_does_not_say(
    tmp_path: Path, manifest: Any
) -> None:
    """Whatever a (damaged) manifest holds, each entry the index keeps is the one a plain
    parse reads; an entry it leaves out is rebuilt, which is always correct."""
    name = write_release(tmp_path, manifest)
    index = Out(tmp_path).index_of(name)
    assert subset(index, reference(manifest))


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.dictionaries(
        st.text(min_size=1, max_size=10),
        st.tuples(st.text(max_size=8), st.integers(0, 10**9)),
        max_size=6,
    ),
    phones=st.dictionaries(
        st.text(min_size=1, max_size=10),
        st.tuples(st.text(max_size=8), st.lists(st.text(max_size=10), max_size=4)),
        max_size=6,
    ),
)
def test_a_well_formed_manifest_gives_every_entry(
    tmp_path: Path, files: dict[str, Any], phones: dict[str, Any]
) -> None:
    """A manifest as mipc writes it (phones with more fields than those reused) gives every
    file's and every phone's entry."""
    manifest = {
        "format": 1,
        "files": {p: {"sha256": sha, "size": size} for p, (sha, size) in files.items()},
        "phones": {
            n: {"digest": d, "files": owned, "mac": None, "family": "polycom", "name": n}
            for n, (d, owned) in phones.items()
        },
    }
    name = write_release(tmp_path, manifest)
    index = Out(tmp_path).index_of(name)
    assert index == reference(manifest)
    assert len(index.files) == len(files) and len(index.phones) == len(phones)


def test_a_manifest_that_is_not_the_release_s_gives_nothing(tmp_path: Path) -> None:
    """A manifest whose digest does not begin with its release's name was changed since:
    nothing of it is reused."""
    manifest = {"files": {"www/a.cfg": {"sha256": "ab", "size": 2}}, "phones": {}}
    name = write_release(tmp_path, manifest)
    assert Out(tmp_path).index_of(name).files == {"www/a.cfg": ("ab", 2)}
    path = tmp_path / "releases" / name / MANIFEST
    path.write_bytes(path.read_bytes().replace(b'"size": 2', b'"size": 3'))
    assert Out(tmp_path).index_of(name) == ReleaseIndex()
    path.write_bytes(b"{not json")
    assert Out(tmp_path).index_of(name) == ReleaseIndex()
