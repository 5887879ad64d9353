"""An inventory reads only inside its folder, or inside a folder the command line names
(``--secrets-dir``, ``--firmware-store``): hostile inventories made in ``tmp_path`` are refused
with an ``outside-inventory`` error, exit 1, and nothing from outside in the release."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main

REPO = Path(__file__).parent.parent.parent
MARKER = "OUTSIDE-THE-INVENTORY-7f3a"
LAB_SECRET = "{file: secrets/partner-pbx.txt}"


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", target)
    return target


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the inventory that it must never publish."""
    path = tmp_path / "private" / "secret.txt"
    path.parent.mkdir()
    path.write_text(MARKER + "\n", encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def build(lab: Path, out: Path, *extra: str) -> tuple[int, str]:
    return run("build", str(lab), "-o", str(out), *extra)


def published(out: Path) -> bytes:
    """Every byte OUT holds, and where its links lead."""
    data = b""
    for dirpath, _, filenames in os.walk(out):
        for name in filenames:
            path = Path(dirpath) / name
            data += os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
    return data


def edit(lab: Path, old: str, new: str) -> None:
    path = lab / "mipc.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def refused(code: int, output: str, out: Path, message: str) -> None:
    assert code == 1, output
    assert "error[outside-inventory]: " + message in output
    assert MARKER not in output
    assert not (out / "current").exists()
    assert MARKER.encode() not in published(out)


@pytest.mark.parametrize(
    "link", ["custom_files/polycom/tones.cfg", "certs/ca.pem", "vendor_templates/polycom/x.j2"]
)
def test_a_link_out_of_a_folder_is_refused(
    lab: Path, tmp_path: Path, outside: Path, link: str
) -> None:
    (lab / link).parent.mkdir(parents=True)
    (lab / link).symlink_to(outside)
    code, output = build(lab, tmp_path / "out")
    refused(code, output, tmp_path / "out", f"symbolic link {link} leads to {outside}, outside")
    assert f"{link}: error[outside-inventory]" in output
    assert len([line for line in output.splitlines() if "outside-inventory" in line]) == 1


def test_a_folder_linked_out_is_refused(lab: Path, tmp_path: Path, outside: Path) -> None:
    (lab / "custom_files").symlink_to(outside.parent, target_is_directory=True)
    code, output = build(lab, tmp_path / "out")
    refused(code, output, tmp_path / "out", "symbolic link custom_files leads to")


def test_a_link_inside_the_inventory_is_followed(lab: Path, tmp_path: Path) -> None:
    (lab / "shared").mkdir()
    (lab / "shared" / "ca.pem").write_text("PEM", encoding="utf-8")
    (lab / "certs").mkdir()
    (lab / "certs" / "ca.pem").symlink_to(lab / "shared" / "ca.pem")
    code, output = build(lab, tmp_path / "out")
    assert code == 0, output


def test_a_link_out_of_the_firmware_store_is_refused(
    lab: Path, tmp_path: Path, outside: Path
) -> None:
    (lab / "fw" / "polycom").mkdir(parents=True)
    (lab / "fw" / "polycom" / "image.ld").symlink_to(outside)
    (lab / "mipc.yaml").write_text(
        (lab / "mipc.yaml").read_text(encoding="utf-8") + "\nfirmware: {store: fw}\n",
        encoding="utf-8",
    )
    code, output = build(lab, tmp_path / "out")
    refused(code, output, tmp_path / "out", "symbolic link fw/polycom/image.ld leads to")
    assert "outside the firmware store and the inventory" in output


def test_a_store_outside_needs_the_command_line(lab: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "polycom").mkdir(parents=True)
    (lab / "mipc.yaml").write_text(
        (lab / "mipc.yaml").read_text(encoding="utf-8") + f"\nfirmware: {{store: {store}}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, output = build(lab, out)
    assert code == 1 and not (out / "current").exists()
    assert f"error[outside-inventory]: firmware store {store} leads to {store}" in output
    assert f"--firmware-store {store}" in output
    code, output = build(lab, out, "--firmware-store", str(store))
    assert code == 0, output
    code, output = run("validate", str(lab), "--firmware-store", str(store))
    assert code == 0, output


@pytest.mark.parametrize("secret", ["/etc/hostname", "../private/secret.txt", "PRIVATE"])
def test_a_secret_file_outside_is_refused(
    lab: Path, tmp_path: Path, outside: Path, secret: str
) -> None:
    if secret == "PRIVATE":
        (lab / "secrets" / "linked.txt").symlink_to(outside)
        secret = "secrets/linked.txt"
    edit(lab, LAB_SECRET, f"{{file: {secret}}}")
    code, output = build(lab, tmp_path / "out")
    refused(code, output, tmp_path / "out", f"secret {{file: {secret}}} leads to")
    assert "mipc.yaml:103:" in output and "--secrets-dir" in output
    for verb in ("validate", "explain"):
        code, output = run(verb, *(["PolycomAgent"] if verb == "explain" else []), str(lab))
        assert code == 1 and "error[outside-inventory]: secret" in output, output
    assert build(REPO / "examples" / "lab", tmp_path / "base")[0] == 0
    code, output = run("diff", str(lab), "--against", str(tmp_path / "base"))
    assert code == 2 and "error[outside-inventory]: secret" in output


def test_secrets_dir_allows_a_folder_outside(lab: Path, tmp_path: Path, outside: Path) -> None:
    edit(lab, LAB_SECRET, f"{{file: {outside}}}")
    out = tmp_path / "out"
    code, output = build(lab, out, "--secrets-dir", str(outside.parent))
    assert code == 0, output
    assert MARKER.encode() in published(out / "releases")  # the SIP password it is
    code, output = build(lab, out)  # the same inventory, without the folder: refused again
    assert code == 1 and "error[outside-inventory]: secret" in output


def test_a_phone_list_outside_is_never_read(lab: Path, tmp_path: Path) -> None:
    edit(lab, "phones:\n", "phone_lists: [/etc/passwd]\n\nphones:\n")
    code, output = build(lab, tmp_path / "out")
    assert code == 1
    assert "error[outside-inventory]: phone list /etc/passwd leads to /etc/passwd" in output
    assert "root:" not in output and len(output.splitlines()) <= 3
    assert not (tmp_path / "out" / "current").exists()


def test_a_phone_list_linked_out_is_never_read(lab: Path, tmp_path: Path, outside: Path) -> None:
    (lab / "lists").mkdir()
    (lab / "lists" / "phones.csv").symlink_to(outside)
    edit(lab, "phones:\n", "phone_lists: [lists/phones.csv]\n\nphones:\n")
    code, output = run("validate", str(lab))
    assert code == 1 and MARKER not in output
    assert "phone list lists/phones.csv leads to" in output


def test_env_secrets_need_the_prefix(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME_SECRET_PW", MARKER)
    edit(lab, LAB_SECRET, "{env: HOME_SECRET_PW}")
    code, output = build(lab, tmp_path / "out")
    assert code == 1 and MARKER not in output
    assert "mipc.yaml:103:" in output
    assert (
        "error[secret-env-prefix]: secret {env: HOME_SECRET_PW}: only environment variables"
        " whose names start with MIPC_ are read"
    ) in output
    edit(lab, "  voicemail_number:", "  secret_env_prefix: HOME_\n  voicemail_number:")
    code, output = build(lab, tmp_path / "out")
    assert code == 0, output
    assert MARKER.encode() in published(tmp_path / "out" / "releases")
