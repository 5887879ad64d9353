"""The generated nginx site, served by the real nginx: what phones fetch and upload."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from mipc.network.nginx import Serving, render_nginx, render_nginx_cache

if TYPE_CHECKING:
    from tests.e2e.conftest import NginxLauncher

pytestmark = pytest.mark.e2e

#: The phones of the tree: the only MACs that may upload.
PHONES = Serving(macs=("0004f2aabbcc", "00908f602aac"))
CFG = b'<?xml version="1.0" encoding="UTF-8"?>\n<PHONE_CONFIG/>\n'
FIRMWARE = bytes(range(256)) * 16


def fetch(
    url: str, method: str = "GET", data: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one request; 4xx/5xx are returned, not raised."""
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def raw(base: str, method: str, path: str) -> int:
    """Status of a request whose path is sent exactly as written (no client normalisation)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.fixture
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("site")
    www = base / "www"
    (www / "firmware").mkdir(parents=True)
    (www / "polycom").mkdir()
    (www / "0004f2aabbcc.cfg").write_bytes(CFG)
    (www / "00908f602aac.cfg").write_bytes(b"voip/line/0/enabled=1\n")
    (www / "polycom" / "0004f2aabbcc-directory.xml").write_bytes(b"<directory/>\n")
    (www / "firmware" / "sip.ld").write_bytes(FIRMWARE)
    (www / "420hd.img").write_bytes(FIRMWARE)
    (www / ".hidden").write_bytes(b"secret\n")
    uploads = base / "uploads"
    uploads.mkdir()
    return www, uploads


@pytest.fixture
def site(nginx_server: NginxLauncher, tree: tuple[Path, Path]) -> str:
    return nginx_server(*tree, PHONES)


def test_mac_file_any_case(site: str) -> None:
    for name in ("0004f2aabbcc.cfg", "0004F2AABBCC.cfg", "0004F2aabbCC.cfg"):
        status, headers, body = fetch(f"{site}/{name}")
        assert (status, body) == (200, CFG), name
        assert headers["Content-Type"] == "text/plain"
    status, _h, body = fetch(f"{site}/00908F602AAC.cfg")
    assert (status, body) == (200, b"voip/line/0/enabled=1\n")
    status, headers, body = fetch(f"{site}/polycom/0004F2AABBCC-directory.xml")
    assert (status, body) == (200, b"<directory/>\n")
    assert headers["Content-Type"] == "text/xml"


def test_firmware_and_types(site: str) -> None:
    status, headers, body = fetch(f"{site}/firmware/sip.ld")
    assert (status, body) == (200, FIRMWARE)
    assert headers["Content-Type"] == "application/octet-stream"
    status, headers, _b = fetch(f"{site}/420HD.img")  # not a MAC name: case matters
    assert status == 404
    status, headers, body = fetch(f"{site}/420hd.img", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Length"] == str(len(FIRMWARE))


def test_missing_listing_dotfiles_traversal(site: str) -> None:
    assert fetch(f"{site}/0004f2aabbcd.cfg")[0] == 404
    assert fetch(f"{site}/0004F2AABBCD.cfg")[0] == 404
    assert fetch(f"{site}/")[0] == 404
    assert fetch(f"{site}/firmware/")[0] == 404
    assert fetch(f"{site}/firmware")[0] == 404
    assert fetch(f"{site}/.hidden")[0] == 404
    for path in ("/../etc/passwd", "/firmware/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"):
        assert raw(site, "GET", path) in (400, 403, 404), path
    status, _h, _body = fetch(f"{site}/logs/..%2f..%2fwww%2f0004f2aabbcc.cfg")
    assert status in (400, 403, 404)


def test_put_into_uploads(site: str, tree: tuple[Path, Path]) -> None:
    _www, uploads = tree
    url = f"{site}/logs/0004f2aabbcc-app.log"
    assert fetch(url, "PUT", b"first\n")[0] == 201
    assert (uploads / "logs" / "0004f2aabbcc-app.log").read_bytes() == b"first\n"
    assert fetch(url, "PUT", b"second\n")[0] == 204
    assert (uploads / "logs" / "0004f2aabbcc-app.log").read_bytes() == b"second\n"
    for folder, name in (
        ("overrides", "0004f2aabbcc-phone.cfg"),
        ("overrides", "0004f2aabbcc-web.cfg"),
        ("contacts", "0004f2aabbcc-directory.xml"),
        ("logs", "0004f2aabbcc-boot.log"),
        ("logs", "00908F602AAC-boot.log"),
    ):
        assert fetch(f"{site}/{folder}/{name}", "PUT", b"<x/>\n")[0] == 201
        assert (uploads / folder / name).read_bytes() == b"<x/>\n"
    # Overrides and contacts are read back by the phone.
    status, _h, body = fetch(f"{site}/overrides/0004f2aabbcc-phone.cfg")
    assert (status, body) == (200, b"<x/>\n")


def test_put_elsewhere_and_delete_refused(site: str, tree: tuple[Path, Path]) -> None:
    www, uploads = tree
    for path in (
        "/0004f2aabbcc.cfg",
        "/new.cfg",
        "/firmware/sip.ld",
        "/logs/not-a-mac.log",
        "/logs/0004f2aabbcc",
        "/other/0004f2aabbcc-app.log",
        "/logs/sub/0004f2aabbcc-app.log",
    ):
        assert fetch(f"{site}{path}", "PUT", b"x")[0] in (403, 405), path
    assert (www / "0004f2aabbcc.cfg").read_bytes() == CFG
    assert not (www / "new.cfg").exists()
    assert not (uploads / "other").exists()
    assert fetch(f"{site}/logs/0004f2aabbcc-app.log", "PUT", b"log\n")[0] == 201
    for method in ("DELETE", "MKCOL", "POST", "OPTIONS"):
        assert fetch(f"{site}/logs/0004f2aabbcc-app.log", method)[0] in (403, 405), method
        assert fetch(f"{site}/0004f2aabbcc.cfg", method)[0] in (403, 405), method
    assert (uploads / "logs" / "0004f2aabbcc-app.log").exists()
    assert (www / "0004f2aabbcc.cfg").exists()


def test_upload_size_bounded(nginx_server: NginxLauncher, tree: tuple[Path, Path]) -> None:
    www, uploads = tree
    base = nginx_server.start_site(
        lambda listen: render_nginx(
            "localhost", str(www), str(uploads), listen, Serving(PHONES.macs, max_upload_bytes=1024)
        )
    )
    assert fetch(f"{base}/logs/0004f2aabbcc-app.log", "PUT", b"x" * 1024)[0] == 201
    assert fetch(f"{base}/logs/0004f2aabbcc-app.log", "PUT", b"x" * 4096)[0] == 413
    assert (uploads / "logs" / "0004f2aabbcc-app.log").stat().st_size == 1024


def test_remote_site_cache(
    nginx_server: NginxLauncher, tree: tuple[Path, Path], tmp_path: Path
) -> None:
    www, uploads = tree
    central = nginx_server(www, uploads, PHONES)
    cache = nginx_server.start_site(
        lambda listen: render_nginx_cache("localhost", central, str(tmp_path / "cache"), listen)
    )
    status, headers, body = fetch(f"{cache}/0004f2aabbcc.cfg")
    assert (status, body, headers["X-Cache-Status"]) == (200, CFG, "MISS")
    status, headers, body = fetch(f"{cache}/0004f2aabbcc.cfg")
    assert (status, body, headers["X-Cache-Status"]) == (200, CFG, "HIT")
    assert fetch(f"{cache}/0004F2AABBCC.cfg")[:3:2] == (200, CFG)
    assert fetch(f"{cache}/logs/0004f2aabbcc-app.log", "PUT", b"via cache\n")[0] == 201
    assert (uploads / "logs" / "0004f2aabbcc-app.log").read_bytes() == b"via cache\n"
    assert fetch(f"{cache}/0004f2aabbcc.cfg", "DELETE")[0] == 403


def test_upload_abuse_refused(site: str, tree: tuple[Path, Path]) -> None:
    """Only the names phones write, only for the inventory's MACs, never the shared name."""
    _www, uploads = tree
    for path in (
        "/overrides/0004f2999999-phone.cfg",  # a MAC the inventory does not hold
        "/overrides/000000000000-phone.cfg",
        "/contacts/000000000000-directory.xml",  # the seed every new phone loads
        "/logs/000000000000-app.log",
        "/logs/0004f2aabbcc-other.log",
        "/logs/0004f2aabbcc-phone.cfg",  # a name of another folder
        "/overrides/0004f2aabbcc-app.log",
        "/contacts/0004f2aabbcc-phone.cfg",
        "/overrides/0004f2aabbcc.cfg",
        "/contacts/0004f2aabbcc-directory.xml.bak",
    ):
        assert fetch(f"{site}{path}", "PUT", b"<x/>\n")[0] == 403, path
    assert [p for p in uploads.rglob("*") if p.is_file()] == []


def test_overrides_switched_off(nginx_server: NginxLauncher, tree: tuple[Path, Path]) -> None:
    www, uploads = tree
    (uploads / "overrides").mkdir()
    (uploads / "overrides" / "0004f2aabbcc-phone.cfg").write_bytes(b"<old/>\n")
    base = nginx_server(www, uploads, Serving(PHONES.macs, overrides=False))
    for name in ("0004f2aabbcc-phone.cfg", "0004f2aabbcc-web.cfg"):
        assert fetch(f"{base}/overrides/{name}", "PUT", b"<x/>\n")[0] == 403
        assert fetch(f"{base}/overrides/{name}")[0] == 404  # an old upload is not served
    assert (uploads / "overrides" / "0004f2aabbcc-phone.cfg").read_bytes() == b"<old/>\n"
    assert not (uploads / "overrides" / "0004f2aabbcc-web.cfg").exists()
    assert fetch(f"{base}/logs/0004f2aabbcc-app.log", "PUT", b"log\n")[0] == 201
