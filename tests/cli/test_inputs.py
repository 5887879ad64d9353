"""The recorded inputs (``OUT/inputs.json``): a no-op build or diff without compiling, and
every kind of input change noticed.

Each change below is made with the file's modification time set back an hour, so the check
has to see the change in the contents, not in the time stamp.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from mipc.cli import main
from tests.builders import edit, served_tree, settle, tree

REPO = Path(__file__).parent.parent.parent
UNCHANGED = "its inputs are unchanged"
SECRET_VAR = "MIPC_TEST_CARRIER_SECRET"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def campus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The campus example with one secret from an environment variable and a firmware store."""
    target = tmp_path / "campus"
    shutil.copytree(REPO / "examples" / "campus", target)
    phones = target / "phones.yaml"
    text = phones.read_text(encoding="utf-8")
    assert "{file: secrets/carrier.txt}" in text
    phones.write_text(text.replace("{file: secrets/carrier.txt}", f"{{env: {SECRET_VAR}}}"))
    monkeypatch.setenv(SECRET_VAR, "carrier-secret-1")
    store = target / "store" / "polycom" / "6.4.5.1251"
    store.mkdir(parents=True)
    (store / "sip.ld").write_bytes(b"image one")
    edit(target / "site.yaml", "firmware:\n", "firmware:\n  store: store\n")
    settle(target)
    return target


def build(inventory: Path, out: Path, *extra: str) -> str:
    code, stdout, stderr = run("build", str(inventory), "-o", str(out), *extra)
    assert code == 0, stdout + stderr
    return stdout


def test_second_build_skips_the_compile_and_repeats_the_warnings(
    campus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = build(campus, out)
    assert UNCHANGED not in first
    release = os.readlink(out / "current")
    code, stdout, stderr = run("build", str(campus), "-o", str(out))
    assert code == 0 and UNCHANGED in stdout
    assert os.readlink(out / "current") == release
    assert len(list((out / "releases").iterdir())) == 1
    # the warnings of the full build are reported again, and --strict still fails on them
    full = CliRunner().invoke(main, ["build", str(campus), "-o", str(tmp_path / "o2")])
    assert "warning" in full.stderr
    assert stderr == full.stderr.replace(str(tmp_path / "o2"), str(out))  # a notice names OUT
    code, _, _ = run("build", str(campus), "-o", str(out), "--strict")
    assert code == 1
    # --force compiles
    code, stdout, _ = run("build", str(campus), "-o", str(out), "--force")
    assert code == 0 and UNCHANGED not in stdout


def _extension(c: Path) -> None:
    edit(c / "phones.yaml", '"8104"', '"8199"')


def _list_row(c: Path) -> None:
    rows = (c / "lists" / "agents.csv").read_text(encoding="utf-8").splitlines()
    (c / "lists" / "agents.csv").write_text("\n".join(rows[:-1]) + "\n", encoding="utf-8")


def _new_yaml_file(c: Path) -> None:
    (c / "zz-more.yaml").write_text(
        "phones:\n  - name: Extra1\n    template: Polycom Base\n    address: 0004f2aa0001\n"
        '    appearances: [{extension: "8999"}]\n',
        encoding="utf-8",
    )


def _file_secret(c: Path) -> None:
    (c / "secrets" / "manager.txt").write_text("a new manager secret\n", encoding="utf-8")


def _custom_file(c: Path) -> None:
    path = c / "custom_files" / "polycom" / "site-directory.cfg"
    path.write_text(path.read_text(encoding="utf-8").replace("<", "\n<", 1), encoding="utf-8")


def _certificate(c: Path) -> None:
    (c / "certs" / "ca.pem").unlink()


def _template_override(c: Path) -> None:
    source = REPO / "vendor_templates" / "polycom" / "master.cfg.j2"
    target = c / "vendor_templates" / "polycom" / "master.cfg.j2"
    target.parent.mkdir(parents=True)
    target.write_text(source.read_text(encoding="utf-8") + "<!-- local -->\n", encoding="utf-8")


def _firmware_image(c: Path) -> None:
    (c / "store" / "polycom" / "6.4.5.1251" / "sip.ld").write_bytes(b"image two, longer")


CHANGES: dict[str, Callable[[Path], None]] = {
    "yaml": _extension,
    "phone-list": _list_row,
    "new-yaml-file": _new_yaml_file,
    "file-secret": _file_secret,
    "custom-file": _custom_file,
    "certificate": _certificate,
    "template-override": _template_override,
    "firmware-store": _firmware_image,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_kind_of_input_change_is_noticed(change: str, campus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(campus, out)
    assert UNCHANGED in build(campus, out)
    CHANGES[change](campus)
    settle(campus)
    stdout = build(campus, out)
    assert UNCHANGED not in stdout
    # what the rebuild made current is what a fresh build of the changed inventory makes
    fresh = tmp_path / "fresh"
    build(campus, fresh)
    assert served_tree(out / "current") == tree(fresh / "current")
    assert UNCHANGED in build(campus, out)


def test_environment_secret_and_options_are_inputs(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(campus, out)
    monkeypatch.setenv(SECRET_VAR, "carrier-secret-2")
    assert UNCHANGED not in build(campus, out)
    assert UNCHANGED in build(campus, out)
    assert UNCHANGED not in build(campus, out, "--server-root", "/srv/elsewhere")
    assert UNCHANGED in build(campus, out, "--server-root", "/srv/elsewhere")


def test_the_record_holds_no_secret(campus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(campus, out)
    data = (out / "inputs.json").read_text(encoding="utf-8")
    secrets = ["carrier-secret-1"] + [
        p.read_text(encoding="utf-8").strip() for p in (campus / "secrets").iterdir()
    ]
    for secret in secrets:
        assert secret not in data
        for variant in (secret, secret + "\n"):
            assert hashlib.sha256(variant.encode()).hexdigest() not in data
    assert (out / ".inputs.key").stat().st_mode & 0o077 == 0
    # the record is not in the release (it is not served)
    assert not any(p.name == "inputs.json" for p in (out / "current").rglob("*"))


def test_rollback_or_a_damaged_record_means_a_full_build(campus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(campus, out)
    _extension(campus)
    settle(campus)
    build(campus, out)
    assert run("rollback", str(out))[0] == 0
    # current is no longer the release the record describes
    stdout = build(campus, out)
    assert UNCHANGED not in stdout and "release" in stdout
    assert UNCHANGED in build(campus, out)
    (out / "inputs.json").write_text("{not json", encoding="utf-8")
    assert UNCHANGED not in build(campus, out)
    record = json.loads((out / "inputs.json").read_text(encoding="utf-8"))
    record["mipc_version"] = "0.0.0-other"
    (out / "inputs.json").write_text(json.dumps(record), encoding="utf-8")
    assert UNCHANGED not in build(campus, out)


def test_the_same_out_from_another_inventory_is_compiled(campus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(campus, out)
    twin = tmp_path / "twin"
    shutil.copytree(campus, twin)
    settle(twin)
    assert UNCHANGED not in build(twin, out)


def test_an_input_edited_during_the_build_is_not_recorded(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mipc.pipeline
    import mipc.pipeline.build

    out = tmp_path / "out"
    build(campus, out)
    validate = mipc.pipeline.validate

    def validate_then_edit(target: Path, **options: Any) -> mipc.pipeline.Result:
        result = validate(target, **options)
        _extension(campus)  # saved by someone after the build read the inventory
        return result

    monkeypatch.setattr(mipc.pipeline.build, "validate", validate_then_edit)
    edit(campus / "phones.yaml", '"8002"', '"8092"')
    settle(campus)
    build(campus, out)  # built from 8092 only; 8199 arrived after it read the file
    monkeypatch.setattr(mipc.pipeline.build, "validate", validate)
    assert UNCHANGED not in build(campus, out)  # so the next build compiles 8199 in
    fresh = tmp_path / "fresh"
    build(campus, fresh)
    assert served_tree(out / "current") == tree(fresh / "current")


def test_settled_allows_for_coarse_file_clocks(tmp_path: Path) -> None:
    from mipc.incremental.inputs import Inputs, settled

    path = tmp_path / "inventory.yaml"
    path.write_text("mipc: 1\n", encoding="utf-8")
    inputs = Inputs({str(path): "x"}, {}, {}, {}, {}, {}, "", "")
    since = (int(time.time()) + 10) * 1_000_000_000
    os.utime(path, ns=(since - 500_000_000, since - 500_000_000))  # half a second before
    assert settled(inputs, since)
    os.utime(path, ns=(since - 10_000_000, since - 10_000_000))  # within the clock's lag
    assert not settled(inputs, since)
    os.utime(path, ns=(since - 1_000_000_000, since - 1_000_000_000))  # whole seconds: FAT
    assert not settled(inputs, since)
    os.utime(path, ns=(since - 3_000_000_000, since - 3_000_000_000))
    assert settled(inputs, since)


def test_diff_against_the_release_the_inputs_made(campus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(campus, out)
    code, stdout, _ = run("diff", str(campus), "--against", str(out))
    assert code == 0 and "no changes" in stdout
    # the quick answer is a whole report: counts from the record, valid JSON by the schema
    code, stdout, _ = run("diff", str(campus), "--against", str(out), "--format", "json")
    report = json.loads(stdout)
    schema = json.loads((REPO / "schemas" / "diff.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)
    assert code == 0 and report["changed"] is False
    assert report["summary"]["phones"]["unchanged"] == 24 and report["phones"] == []
    _extension(campus)
    settle(campus)
    code, stdout, _ = run("diff", str(campus), "--against", str(out))
    assert code == 1 and "8199" in stdout


def test_a_symlinked_custom_folder_is_followed(campus: Path, tmp_path: Path) -> None:
    elsewhere = campus / "shared-custom"  # inside the inventory: links out are refused
    shutil.move(campus / "custom_files" / "polycom", elsewhere)
    (campus / "custom_files" / "polycom").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "loop").symlink_to(elsewhere, target_is_directory=True)  # a cycle
    settle(campus)
    settle(elsewhere)
    out = tmp_path / "out"
    build(campus, out)
    assert UNCHANGED in build(campus, out)
    _custom_file(campus)  # edits the file through the symlinked folder
    settle(elsewhere)
    assert UNCHANGED not in build(campus, out)


def test_a_record_that_cannot_be_written_only_costs_the_next_build(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"

    def full_disk(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr("mipc.pipeline.build.save_record", full_disk)
        code, stdout, stderr = run("build", str(campus), "-o", str(out))
    assert code == 0 and "release" in stdout and "Traceback" not in stderr
    assert UNCHANGED not in build(campus, out)  # compiled in full, then recorded
    assert UNCHANGED in build(campus, out)
