"""The emit stage: releases, manifest, hard links, lock, path safety, parallel rendering."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import mipc.release.emit as emit_mod
import mipc.release.store as store_mod
import mipc.render.pool as pool_mod
from mipc.artifacts import Artifact, Artifacts, RenderConflict
from mipc.diagnostics import Diagnostic
from mipc.model import EffectivePhone, Plan
from mipc.network.plan import network_files
from mipc.pipeline import validate
from mipc.release.emit import EmitOptions, EmitResult, emit
from mipc.release.lock import Holder
from mipc.release.manifest import MANIFEST
from mipc.release.staging import UnsafePath, safe_relpath
from mipc.release.store import EmitError, LockHeld, Out, WarningsAsErrors, rollback
from mipc.render.base import _REGISTRY
from mipc.render.pool import PhonePool
from mipc.render.stage import render_all, render_phones, renderers
from mipc.resources import package_digest
from tests.builders import tree

REPO = Path(__file__).parent.parent.parent
SCHEMA = json.loads((REPO / "schemas" / "manifest.schema.json").read_text())


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", target)
    return target


def plan_of(inventory: Path) -> Plan:
    result = validate(inventory)
    assert result.plan is not None, [d.text() for d in result.diagnostics]
    return result.plan


def build(plan: Plan, out: Path, workers: int | None = None, **kw: Any) -> EmitResult:
    return emit(plan, out, network_files(plan), PhonePool(workers), EmitOptions(**kw))


class FakeRenderer:
    """A renderer for one family whose files the test chooses."""

    family = "polycom"

    def __init__(self, per_phone: dict[str, Artifacts] | None = None, fail: bool = False):
        self.warnings: list[str] = []
        self.per_phone = per_phone or {}
        self.fail = fail

    def prepare(self, plan: Plan) -> None:
        self.prepared = True

    def render_phone(self, phone: EffectivePhone, plan: Plan) -> Artifacts:
        if self.fail:
            raise ValueError("template exploded")
        return self.per_phone.get(phone.name, {f"{phone.name}.cfg": Artifact(b"x", (phone.name,))})

    def render_shared(self, plan: Plan, phones: tuple[EffectivePhone, ...]) -> Artifacts:
        return {}


@pytest.mark.parametrize(
    "bad", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", "a\\b", "a\x00b"]
)
def test_unsafe_paths_are_refused(bad: str) -> None:
    with pytest.raises(UnsafePath):
        safe_relpath(bad)


def test_safe_paths_pass() -> None:
    assert safe_relpath("phone/abc.cfg") == "phone/abc.cfg"
    assert safe_relpath("0004f2001001.cfg") == "0004f2001001.cfg"


def test_release_layout_manifest_and_schema(lab: Path, tmp_path: Path) -> None:
    plan = plan_of(lab)
    out = tmp_path / "out"
    result = build(plan, out)
    assert result.changed
    current = out / "current"
    assert os.readlink(current) == f"releases/{result.release}"
    manifest = json.loads((current / "manifest.json").read_bytes())
    jsonschema.Draft202012Validator(SCHEMA).validate(manifest)
    assert manifest["inventory_digest"] == plan.inventory.digest
    assert sorted(manifest["phones"]) == sorted(p.name for p in plan.phones)
    files = tree(current)
    files.pop("manifest.json")
    assert sorted(files) == sorted(manifest["files"])
    for path, data in files.items():
        assert manifest["files"][path]["size"] == len(data)
    assert "network/dhcpd.conf" in files and "network/nginx-site.conf" in files
    # the release id is the manifest's own hash
    data = (current / "manifest.json").read_bytes()
    assert store_mod.release_id(data) == result.release
    # written piece by piece, it is still the canonical JSON of its contents
    canonical = json.dumps(
        json.loads(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert data == (canonical + "\n").encode("utf-8")
    for name in ("logs", "overrides", "contacts"):
        assert (out / "uploads" / name).is_dir()
    assert not list(out.glob(".staging-*"))


def test_render_all_is_sorted_and_matches_render_phones(lab: Path) -> None:
    plan = plan_of(lab)
    artifacts, _ = render_all(plan)
    assert list(artifacts) == sorted(artifacts)
    one, _ = render_phones(plan, ["PolycomLobby"])
    assert one and all(artifacts[p] == a for p, a in one.items())
    with pytest.raises(KeyError):
        render_phones(plan, ["nobody"])


def test_parallel_and_serial_builds_are_identical(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_of(lab)
    serial = build(plan, tmp_path / "serial", workers=1)
    monkeypatch.setattr(pool_mod, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(pool_mod, "CHUNK_SIZE", 2)
    parallel = build(plan, tmp_path / "parallel", workers=2)
    assert serial.release == parallel.release
    assert tree(tmp_path / "serial" / "current") == tree(tmp_path / "parallel" / "current")


def test_workers_share_the_plan_wide_facts_worked_out_before_they_fork(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polycom's group files (which every master names) are worked out in the build's
    process, before the workers fork, not once more in each worker: working them out reads
    every phone, which copies the pages of the plan's heap into the worker."""
    import mipc.render.polycom.shared as polycom_shared

    calls = tmp_path / "calls"
    real = polycom_shared.group_files

    def counted(plan: Plan) -> Any:
        with open(calls, "a", encoding="ascii") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(plan)

    monkeypatch.setattr(polycom_shared, "group_files", counted)
    monkeypatch.setattr(pool_mod, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(pool_mod, "CHUNK_SIZE", 2)
    plan = plan_of(lab)
    build(plan, tmp_path / "out", workers=2)
    pids = calls.read_text(encoding="ascii").split()
    assert pids and set(pids) == {str(os.getpid())}


def test_work_on_the_whole_plan_is_done_before_the_workers_fork(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The network files and ``before_render`` read every phone: done once the workers are
    forked, each page of the plan they read would be copied. Only the linking thread, which
    reads no phone, runs while the workers render."""
    seen: dict[str, int] = {}
    real_link = emit_mod._Emission._link_early

    def link(self: Any) -> None:
        seen.setdefault("meanwhile", len(multiprocessing.active_children()))
        real_link(self)

    monkeypatch.setattr(emit_mod._Emission, "_link_early", link)
    monkeypatch.setattr(pool_mod, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(pool_mod, "CHUNK_SIZE", 2)
    plan = plan_of(lab)

    def network() -> dict[str, bytes]:
        seen["network"] = len(multiprocessing.active_children())
        return network_files(plan)

    def before() -> None:
        seen["before_render"] = len(multiprocessing.active_children())

    options = EmitOptions(before_render=before)
    emit(plan, tmp_path / "out", network, PhonePool(2), options)
    assert seen == {"network": 0, "before_render": 0, "meanwhile": 2}


def test_chunks_report_warnings_of_every_family(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk's new warnings are its own, even when a family that sorts first raises one
    after another family has: none is lost, none repeated."""
    text = (lab / "mipc.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "      one_touch_voicemail: true\n",
        "      one_touch_voicemail: true\n      syslog: {server: 10.0.0.9, port: 600}\n",
        1,
    )
    text = text.replace("    model: 420HD\n", '    model: 420HD\n    config_files: ["gone.cfg"]\n')
    text = text.replace("name: Agent420HD-Lab", "name: Z420HD-Lab")  # after the Polycom phones
    (lab / "mipc.yaml").write_text(text, encoding="utf-8")
    plan = plan_of(lab)
    whole = build(plan, tmp_path / "whole", workers=1).warnings
    monkeypatch.setattr(pool_mod, "CHUNK_SIZE", 1)
    chunked = build(plan, tmp_path / "chunked", workers=1).warnings
    assert any("custom file gone.cfg not found" in w.message for w in whole)
    assert sorted(chunked, key=Diagnostic.sort_key) == sorted(whole, key=Diagnostic.sort_key)


@pytest.mark.parametrize("workers", [1, 2])
def test_one_change_links_unchanged_files(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """The files of the phones whose digest is unchanged are linked from the current
    release: in a thread before rendering in one process, or once the workers are forked."""
    out = tmp_path / "out"
    first = build(plan_of(lab), out)
    text = (lab / "mipc.yaml").read_text().replace("label: Agent}", "label: Front Desk}")
    (lab / "mipc.yaml").write_text(text)
    monkeypatch.setattr(pool_mod, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(pool_mod, "CHUNK_SIZE", 2)
    second = build(plan_of(lab), out, workers=workers)
    build(plan_of(lab), tmp_path / "fresh", workers=1)
    served = tree(out / "current")
    retained = json.loads(served.pop("retained.json"))  # the old masters' files, kept
    assert retained and all(served.pop(p) for p in retained)
    assert served == tree(tmp_path / "fresh" / "current")
    assert second.changed and second.release != first.release
    assert second.counts.written >= 1 and second.counts.unchanged >= 1
    old = out / "releases" / first.release / "www"
    new = out / "releases" / second.release / "www"
    same = [
        p
        for p in tree(new)
        if (old / p).exists() and (old / p).read_bytes() == (new / p).read_bytes()
    ]
    assert same
    for p in same:
        assert (old / p).stat().st_ino == (new / p).stat().st_ino
    assert rollback(out).current == first.release
    assert os.readlink(out / "current") == f"releases/{first.release}"


def test_files_of_a_release_made_by_another_mipc_are_rendered_anew(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Phone digests cover the inventory, not mipc's own templates: a release made by another
    mipc (another package digest) lends no files, though every phone digest is the same."""
    out = tmp_path / "out"
    first = build(plan_of(lab), out)
    assert Out(out).toolchain_of(first.release) == package_digest()
    text = (lab / "mipc.yaml").read_text().replace("label: Agent}", "label: Front Desk}")
    (lab / "mipc.yaml").write_text(text)
    monkeypatch.setattr("mipc.release.store.package_digest", lambda: "another mipc")
    second = build(plan_of(lab), out)
    assert second.changed and second.counts.unchanged == 0
    assert Out(out).toolchain_of(second.release) == "another mipc"
    third = build(plan_of(lab), out)  # the same mipc again: nothing to change
    assert not third.changed and third.release == second.release


def test_no_op_and_force(lab: Path, tmp_path: Path) -> None:
    plan = plan_of(lab)
    out = tmp_path / "out"
    first = build(plan, out)
    again = build(plan, out)
    assert not again.changed and again.release == first.release
    assert sorted(p.name for p in (out / "releases").iterdir()) == [first.release]
    forced = build(plan, out, force=True)
    assert forced.changed and forced.release != first.release
    assert forced.counts.unchanged == 0
    assert tree(out / "releases" / first.release) == tree(out / "releases" / forced.release)


def test_failing_renderer_leaves_current(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_of(lab)
    out = tmp_path / "out"
    first = build(plan, out)
    monkeypatch.setitem(_REGISTRY, "polycom", lambda: FakeRenderer(fail=True))
    with pytest.raises(ValueError, match="template exploded"):
        build(plan, out, force=True)
    assert os.readlink(out / "current") == f"releases/{first.release}"
    assert not list(out.glob(".staging-*"))
    assert [p.name for p in (out / "releases").iterdir()] == [first.release]


@pytest.mark.parametrize("evil", ["../../escaped.cfg", "/tmp/escaped.cfg", "a/../../../x"])
def test_names_cannot_escape_out(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, evil: str
) -> None:
    plan = plan_of(lab)
    out = tmp_path / "deep" / "out"
    out.parent.mkdir()
    fake = {p.name: {evil: Artifact(b"pwned", (p.name,))} for p in plan.phones}
    monkeypatch.setitem(_REGISTRY, "polycom", lambda: FakeRenderer(per_phone=fake))
    before = {p for p in tmp_path.rglob("*")}
    with pytest.raises(UnsafePath):
        build(plan, out)
    created = {p for p in tmp_path.rglob("*")} - before
    assert all(out in p.parents or p == out for p in created), created
    assert not any(p.name == "escaped.cfg" for p in tmp_path.rglob("*"))
    assert not (out / "current").exists()


def test_conflicting_paths_are_a_bug(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_of(lab)
    fake = {p.name: {"same.cfg": Artifact(p.name.encode(), (p.name,))} for p in plan.phones}
    monkeypatch.setitem(_REGISTRY, "polycom", lambda: FakeRenderer(per_phone=fake))
    with pytest.raises(RenderConflict):
        build(plan, tmp_path / "out")
    with pytest.raises(RenderConflict):
        render_all(plan)


def test_lock_refuses_a_second_build(lab: Path, tmp_path: Path) -> None:
    plan = plan_of(lab)
    out = tmp_path / "out"
    first = build(plan, out)
    fd = os.open(out / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, Holder.me("build").to_bytes())  # as a running build says who it is
        with pytest.raises(LockHeld, match=f"is locked by build pid {os.getpid()} on host"):
            build(plan, out, force=True)
        with pytest.raises(LockHeld):
            rollback(out)
    finally:
        os.close(fd)
    assert Out(out).current_id() == first.release


def test_keep_prunes_old_releases_and_uploads_survive(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    plan = plan_of(lab)
    build(plan, out)
    upload = out / "uploads" / "logs" / "0004f2001001-boot.log"
    upload.write_bytes(b"boot log")
    override = out / "uploads" / "overrides" / "0004f2001001-phone.cfg"
    override.write_bytes(b"<override/>")
    made = []
    for _ in range(10):
        made.append(build(plan, out, force=True, keep=3).release)
    assert upload.read_bytes() == b"boot log" and override.read_bytes() == b"<override/>"
    kept = sorted(p.name for p in (out / "releases").iterdir())
    assert kept == sorted(made[-3:])
    history = json.loads((out / "releases.json").read_text())
    assert history["releases"] == made[-3:] and history["current"] == made[-1]


def test_strict_warnings_do_not_switch(lab: Path, tmp_path: Path) -> None:
    plan = plan_of(lab)
    out = tmp_path / "out"
    with pytest.raises(WarningsAsErrors):
        build(plan, out, strict=True)  # the lab has no firmware store: a render warning
    assert not (out / "current").exists()
    assert not list(out.glob(".staging-*"))


@pytest.mark.parametrize("damage", ["missing", "symlink"])
def test_a_damaged_current_release_fails_an_incremental_build(
    lab: Path, tmp_path: Path, damage: str
) -> None:
    out = tmp_path / "out"
    build(plan_of(lab), out)
    first = os.readlink(out / "current")
    release = out / first
    manifest = json.loads((release / "manifest.json").read_text())
    # a file owned by a phone that the change below leaves alone
    victim = next(
        f for p in manifest["phones"].values() if p["name"] != "PolycomLobby" for f in p["files"]
    )
    (release / victim).unlink()
    if damage == "symlink":
        (release / victim).symlink_to("/etc/hostname")
    text = (lab / "mipc.yaml").read_text(encoding="utf-8")
    (lab / "mipc.yaml").write_text(text.replace("label: Lobby", "label: Front Desk", 1))
    with pytest.raises(EmitError, match="build with --force"):
        build(plan_of(lab), out)
    assert os.readlink(out / "current") == first
    assert not list(out.glob(".staging-*"))
    result = build(plan_of(lab), out, force=True)
    assert result.changed and (out / "current" / victim).is_file()
    assert not (out / "current" / victim).is_symlink()


class Warner:
    """A renderer that warns once for each phone it renders, and once for the shared files."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def prepare(self, plan: Plan) -> None:
        self.prepared = True

    def render_phone(self, phone: EffectivePhone, plan: Plan) -> Artifacts:
        self.warnings.append(f"{phone.name}: warned")
        return {}

    def render_shared(self, plan: Plan, phones: tuple[EffectivePhone, ...]) -> Artifacts:
        self.warnings.append(f"{phones[0].family}: shared")
        return {}


def test_render_warnings_name_the_phone_and_its_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_of(REPO / "examples" / "campus")
    renderers()  # registers the real ones first
    for family in {p.family for p in plan.phones}:
        monkeypatch.setitem(_REGISTRY, family, Warner)
    _, warnings = render_all(plan)
    specs = {s.name: s for s in plan.inventory.phones}
    own = [w for w in warnings if w.subject]
    assert len(own) == len(plan.phones) and all(w.code == "render" for w in warnings)
    for w in own:
        assert w.message == f"{w.subject}: warned" and w.position == specs[w.subject].position
    assert {s.origin for s in specs.values()} == {"yaml", "csv"}  # both kinds of entry
    row = next(w.position for w in own if specs[w.subject].origin == "csv")
    assert row is not None and row.file.endswith(".csv") and row.line > 1
    shared = [w for w in warnings if not w.subject]
    assert shared and all(w.position is None for w in shared)


def test_the_release_is_synced_after_its_last_file_and_an_early_sync_overlaps_the_manifest(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The phones' files start going to disk (a syncfs in a thread started before the
    manifest is written); the release's own syncfs comes after its manifest and every link,
    so the release it makes current is all on disk; the early one is over when the emit
    returns."""
    seen: list[tuple[str, bool, str]] = []

    def recording(path: Path) -> None:
        manifest = (Path(path) / MANIFEST).exists()
        seen.append((threading.current_thread().name, manifest, str(path)))

    monkeypatch.setattr(emit_mod, "syncfs", recording)  # the early one's and the release's
    result = build(plan_of(lab), tmp_path / "out")
    # The early one may run before or after the manifest is written: the thread decides.
    assert sorted(t for t, _, _ in seen) == ["MainThread", "mipc-sync"]
    assert [m for t, m, _ in seen if t == "MainThread"] == [True]
    assert seen[0][2] == seen[1][2]  # both of the staging folder
    assert not any(t.name == "mipc-sync" for t in threading.enumerate())
    assert (tmp_path / "out" / "releases" / result.release / MANIFEST).is_file()


def test_an_early_sync_that_fails_leaves_it_to_the_release_s_own(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An early sync only starts the writing: its error is the release's own syncfs's to
    report (``publish`` raises it), never a crash of a thread nor of a build whose own
    syncfs succeeds."""
    calls: list[str] = []

    def failing_early(path: Path) -> None:
        calls.append(threading.current_thread().name)
        if threading.current_thread().name == "mipc-sync":
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(emit_mod, "syncfs", failing_early)
    monkeypatch.setattr(threading, "excepthook", lambda args: calls.append("uncaught"))
    result = build(plan_of(lab), tmp_path / "out")
    assert sorted(calls) == ["MainThread", "mipc-sync"]
    assert result.changed and (tmp_path / "out" / "releases" / result.release).is_dir()


def test_preparing_leaves_a_family_without_renderer_to_its_phones(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worked out before the workers fork, the plan-wide facts skip a family no renderer is
    registered for: each of its phones' renders refuses it, as without them."""
    from mipc.render.stage import ChunkRenderer, UnknownFamily

    plan = plan_of(lab)
    family = sorted({p.family for p in plan.phones})[-1]
    renderers()  # the registry filled before one is taken out
    monkeypatch.delitem(_REGISTRY, family)
    chunk = ChunkRenderer(plan)
    chunk.prepare()
    phone = next(p for p in plan.phones if p.family == family and not p.waiting)
    with pytest.raises(UnknownFamily):
        chunk.phone(phone)
