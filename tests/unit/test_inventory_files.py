"""Tests of the files gathered when an inventory is loaded (``mipc.inventory.files``)."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

import pytest

from mipc.inventory.files import gather_files, store_folder, walk
from mipc.model import InventoryFiles
from mipc.pipeline.compile import load_model
from mipc.render.templating import overrides

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_custom_files_certs_and_templates_are_read_whole(tmp_path: Path) -> None:
    (tmp_path / "custom_files" / "Genesys").mkdir(parents=True)
    (tmp_path / "custom_files" / "Genesys" / "tones.cfg").write_bytes(b"a=1\r\nb=2\r")
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_bytes(b"PEM")
    (tmp_path / "vendor_templates" / "polycom").mkdir(parents=True)
    (tmp_path / "vendor_templates" / "polycom" / "mapping.yaml").write_bytes(b"setup: []\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.cfg").write_bytes(b"not gathered")
    files = gather_files(str(tmp_path), None)
    assert sorted(files.contents) == [
        "certs/ca.pem",
        "custom_files/Genesys/tones.cfg",
        "vendor_templates/polycom/mapping.yaml",
    ]
    assert files.read("custom_files/Genesys/tones.cfg") == b"a=1\r\nb=2\r"
    assert files.read_text("custom_files/Genesys/tones.cfg") == "a=1\nb=2\n"  # as read_text
    assert files.exists("certs/ca.pem")
    assert not files.exists("other/x.cfg") and files.read("other/x.cfg") is None
    assert not files.exists("custom_files/Genesys")  # a folder is not a file
    assert files.firmware_files == {}
    assert "PEM" not in repr(files)  # certs/ may hold a private key


def test_a_bom_is_dropped_by_utf8_sig(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "a.cfg").write_bytes(b"\xef\xbb\xbfk=v\n")
    files = gather_files(str(tmp_path), None)
    assert files.read_text("certs/a.cfg", encoding="utf-8-sig") == "k=v\n"


def test_firmware_store_listing_resolves_links(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "iss" / "2.0").mkdir(parents=True)
    (store / "iss" / "2.0" / "sip100.img").write_bytes(b"img")
    (tmp_path / "elsewhere.img").write_bytes(b"img")
    os.symlink(tmp_path / "elsewhere.img", store / "iss" / "2.0" / "sip200.img")
    os.symlink(tmp_path / "missing.img", store / "iss" / "2.0" / "broken.img")
    os.symlink(store, store / "iss" / "loop")  # a folder that links back: listed once
    files = gather_files(str(tmp_path), "store")
    assert files.firmware_files == {
        "iss/2.0/sip100.img": str(store / "iss" / "2.0" / "sip100.img"),
        "iss/2.0/sip200.img": str(tmp_path / "elsewhere.img"),
    }
    assert files.firmware("iss/2.0/sip200.img") == str(tmp_path / "elsewhere.img")
    assert files.firmware("iss/2.0/broken.img") is None
    assert gather_files(str(tmp_path), str(store)).firmware_files == files.firmware_files


def test_store_folder() -> None:
    assert store_folder("/inv", None) is None
    assert store_folder("/inv", "") is None
    assert store_folder("/inv", "../fw") == "/fw"
    assert store_folder("/inv", "/srv/fw") == "/srv/fw"


def test_walk_of_no_folder_is_empty(tmp_path: Path) -> None:
    assert list(walk(str(tmp_path / "absent"))) == []
    (tmp_path / "file").write_bytes(b"")
    assert list(walk(str(tmp_path / "file"))) == []


def test_an_unreadable_file_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "certs").mkdir()
    pem = tmp_path / "certs" / "ca.pem"
    pem.write_bytes(b"PEM")
    real_open = builtins.open

    def refusing_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(pem):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refusing_open)
    files = gather_files(str(tmp_path), None)
    assert files.exists("certs/ca.pem") and "certs/ca.pem" not in files.contents
    with pytest.raises(OSError, match=r"Permission denied: '.*ca\.pem'"):
        files.read("certs/ca.pem")


def test_a_problem_is_raised_as_an_os_error() -> None:
    files = InventoryFiles(problems={"certs/ca.pem": "[Errno 13] Permission denied: 'x'"})
    assert files.exists("certs/ca.pem")
    with pytest.raises(OSError) as info:
        files.read_text("certs/ca.pem")
    assert str(info.value) == "[Errno 13] Permission denied: 'x'"


def test_an_inventory_built_by_hand_has_no_files() -> None:
    files = InventoryFiles()
    assert files.read("custom_files/x") is None and files.firmware("x") is None


def test_load_model_gathers_the_files() -> None:
    inventory, diags = load_model(EXAMPLES / "campus")
    assert inventory is not None and not diags.errors
    root = Path(inventory.root)
    on_disk = sorted(
        p.relative_to(root).as_posix()
        for folder in ("custom_files", "certs", "vendor_templates")
        for p in (root / folder).rglob("*")
        if p.is_file()
    )
    assert on_disk and sorted(inventory.files.contents) == on_disk
    assert all(inventory.files.read(rel) == (root / rel).read_bytes() for rel in on_disk)


def test_the_overrides_are_the_gathered_vendor_templates(tmp_path: Path) -> None:
    folder = tmp_path / "vendor_templates" / "polycom"
    folder.mkdir(parents=True)
    (folder / "phone.cfg.j2").write_bytes(b"<a/>\r\n")
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_bytes(b"PEM")
    found = overrides(str(tmp_path), gather_files(str(tmp_path), None))
    assert found is not None and dict(found.files) == {"polycom/phone.cfg.j2": b"<a/>\r\n"}
    assert found.path("polycom/phone.cfg.j2") == str(folder / "phone.cfg.j2")
    again = overrides(str(tmp_path), gather_files(str(tmp_path), None))
    assert again == found and hash(again) == hash(found)  # one environment for both
    (folder / "phone.cfg.j2").write_bytes(b"<b/>\n")
    assert overrides(str(tmp_path), gather_files(str(tmp_path), None)) != found
    assert overrides(str(tmp_path), InventoryFiles()) is None
