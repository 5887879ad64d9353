"""The nginx site a build writes, served by the real nginx: what the ``serving:`` section lets
phones (and anyone else) read and upload."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import NginxLauncher
from tests.e2e.test_nginx_serving import fetch
from tests.e2e.test_simulate_http import _serve
from tests.simulate_helpers import ROOT, build_into, copy_example, open_site, phones, simulate

pytestmark = pytest.mark.e2e

MAC = "0004f2001001"  # AgentSA-Lab, a Polycom phone of examples/lab


def build_lab(base: Path, serving: str = "") -> Path:
    """``mipc build`` of examples/lab with ``serving`` (YAML) appended; OUT."""
    inventory = base / "lab"
    if not inventory.exists():
        shutil.copytree(ROOT / "examples" / "lab", inventory)
    source = open_site((ROOT / "examples" / "lab" / "mipc.yaml").read_text(encoding="utf-8"))
    (inventory / "mipc.yaml").write_text(source + serving, encoding="utf-8")
    return build_into(inventory, base / "out")


def boots(base: str, out: Path, *auth: str) -> None:
    """Every phone of the release boots from ``base`` as from the tree."""
    for name in phones(out):
        tree = simulate(name, "--tree", str(out), "--show-secrets")
        http = simulate(name, "--url", base, "--manifest", str(out), "--show-secrets", *auth)
        assert http.exit_code == 0, (name, http.output)
        assert http.stdout == tree.stdout, name


def uploaded(out: Path) -> list[str]:
    files = (p for p in (out / "uploads").rglob("*") if p.is_file())
    return sorted(str(p.relative_to(out / "uploads")) for p in files)


def test_uploads_only_for_the_inventory(tmp_path: Path, nginx_server: NginxLauncher) -> None:
    out = build_lab(tmp_path)
    base = _serve(nginx_server, out)
    boots(base, out)
    for path, status in (
        ("overrides/0004f2999999-phone.cfg", 403),  # a MAC the inventory does not hold
        ("overrides/000000000000-phone.cfg", 403),
        ("contacts/000000000000-directory.xml", 403),  # the seed every new phone loads
        (f"logs/{MAC}-evil.cfg", 403),
        (f"overrides/{MAC}.cfg", 403),
        (f"{MAC}.cfg", 403),
    ):
        assert fetch(f"{base}/{path}", "PUT", b"<x/>\n")[0] == status, path
    big = b"x" * (10 * 1024 * 1024 + 1)
    assert fetch(f"{base}/logs/{MAC}-app.log", "PUT", big)[0] == 413
    assert uploaded(out) == []
    assert fetch(f"{base}/logs/{MAC}-app.log", "PUT", b"booted\n")[0] == 201
    assert fetch(f"{base}/overrides/{MAC.upper()}-phone.cfg", "PUT", b"<x/>\n")[0] == 201
    assert uploaded(out) == [f"logs/{MAC}-app.log", f"overrides/{MAC.upper()}-phone.cfg"]
    # A rebuild (a changed inventory: a new release) keeps what the phones uploaded.
    build_lab(tmp_path, "\nserving: {max_upload_bytes: 4096}\n")
    assert (out / "uploads" / "logs" / f"{MAC}-app.log").read_bytes() == b"booted\n"
    site = (out / "current" / "network" / "nginx-site.conf").read_text()
    assert "client_max_body_size 4096;" in site


def test_overrides_switched_off(tmp_path: Path, nginx_server: NginxLauncher) -> None:
    out = build_lab(tmp_path, "\nserving: {overrides: false}\n")
    www = out / "current" / "www"
    for master in (f"{MAC}.cfg", "000000000000.cfg"):
        assert b"Overrides are switched off for this site" in (www / master).read_bytes()
    base = _serve(nginx_server, out)
    boots(base, out)
    for name in (f"{MAC}-phone.cfg", f"{MAC}-web.cfg"):
        assert fetch(f"{base}/overrides/{name}", "PUT", b"<x/>\n")[0] == 403
    assert fetch(f"{base}/contacts/{MAC}-directory.xml", "PUT", b"<directory/>\n")[0] == 201
    assert uploaded(out) == [f"contacts/{MAC}-directory.xml"]


#: The lab's locations with the networks of their phones (appended to examples/lab).
NETWORKS = """
serving: {access: networks}
"""


def with_networks(base: Path, networks: str) -> Path:
    """examples/lab (an open site) whose <Default Location> names ``networks``; base."""
    site = copy_example("lab", base / "lab")
    source = site.read_text(encoding="utf-8")
    assert source.count("    networks: [10.250.0.0/16]") == 1
    source = source.replace("    networks: [10.250.0.0/16]", f"    networks: [{networks}]")
    site.write_text(source, encoding="utf-8")
    shutil.copy(site, base / "mipc.yaml")
    return base


def build_copy(base: Path, serving: str) -> Path:
    """``mipc build`` of base/lab (already copied) with ``serving`` appended; OUT."""
    source = (base / "mipc.yaml").read_text(encoding="utf-8")
    (base / "lab" / "mipc.yaml").write_text(source + serving, encoding="utf-8")
    return build_into(base / "lab", base / "out")


def test_networks_allow_list(tmp_path: Path, nginx_server: NginxLauncher) -> None:
    out = build_copy(with_networks(tmp_path / "in", "10.250.0.0/16, 127.0.0.0/8"), NETWORKS)
    site = (out / "current" / "network" / "nginx-site.conf").read_text()
    assert "allow 10.250.0.0/16;\n    allow 127.0.0.0/8;\n    deny all;" in site
    boots(_serve(nginx_server, out), out)
    out = build_copy(with_networks(tmp_path / "far", "10.250.0.0/16"), NETWORKS)
    base = _serve(nginx_server, out)
    assert fetch(f"{base}/{MAC}.cfg")[0] == 403  # 127.0.0.1 is not a phone network
    assert fetch(f"{base}/logs/{MAC}-app.log", "PUT", b"x\n")[0] == 403
    assert uploaded(out) == []


BASIC = """
serving:
  access: basic
  user: phones
  password: {env: MIPC_PROV_PASSWORD}
"""


def test_basic_credentials(
    tmp_path: Path, nginx_server: NginxLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIPC_PROV_PASSWORD", "pr0v&<secret>")
    out = build_lab(tmp_path, BASIC)
    network = out / "current" / "network"
    htpasswd = (network / "htpasswd").read_bytes()
    assert htpasswd.startswith(b"phones:{SSHA}") and b"pr0v" not in htpasswd
    assert not list((out / "current" / "www").rglob("htpasswd"))
    site = (network / "nginx-site.conf").read_text()
    assert 'auth_basic_user_file "/srv/mipc/current/network/htpasswd";' in site
    files = phones(out)["PolycomLobby"]["files"]  # MAC's phone
    text = (out / "current" / next(f for f in files if f.startswith("www/phone/"))).read_text()
    assert 'device.prov.user="phones"' in text
    assert 'device.prov.password="pr0v&amp;&lt;secret&gt;"' in text
    base = _serve(nginx_server, out)
    auth = ("--user", "phones", "--password-env", "MIPC_PROV_PASSWORD")
    boots(base, out, *auth)
    assert fetch(f"{base}/{MAC}.cfg")[0] == 401
    assert fetch(f"{base}/logs/{MAC}-app.log", "PUT", b"x\n")[0] == 401
    monkeypatch.setenv("WRONG", "guess")
    wrong = simulate(
        MAC, "--url", base, "--manifest", str(out), "--user", "phones", "--password-env", "WRONG"
    )
    assert wrong.exit_code == 1 and "answered 401" in wrong.stderr
    assert uploaded(out) == []
    # The same secret gives the same bytes: a rebuild with nothing changed is a no-op.
    assert (network / "htpasswd").read_bytes() == htpasswd
