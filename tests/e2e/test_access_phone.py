"""``serving.access: phone`` against the real nginx: every phone presents its own user and
password, reads its own files and the shared ones, and writes only its own MAC's names."""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.network.nginx import Serving, htpasswd
from mipc.resolve.credentials import derive_password
from tests.builders import served_path
from tests.e2e.conftest import NginxLauncher
from tests.e2e.test_simulate_http import _serve
from tests.simulate_helpers import EXAMPLES, build_into, copy_example, phones, simulate

pytestmark = pytest.mark.e2e

SECRET = "site-s3cret&<x>"
PHONE = """
serving:
  access: phone
  password: {env: MIPC_SITE_SECRET}
"""


def build_site(base: Path, example: str, serving: str) -> Path:
    """``mipc build`` of ``examples/<example>`` with ``serving`` appended; OUT."""
    inventory = base / example
    site = copy_example(example, inventory)
    site.write_text(site.read_text(encoding="utf-8") + serving, encoding="utf-8")
    return build_into(inventory, base / "out")


def request(
    url: str, user: str | None = None, method: str = "GET", data: bytes | None = None
) -> int:
    """The status of one request, with ``user``'s derived password when given."""
    req = urllib.request.Request(url, data=data, method=method)
    if user is not None:
        token = base64.b64encode(f"{user}:{derive_password(SECRET, user)}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        with error:
            return error.code


def raw(base: str, path: str, user: str) -> int:
    """The status of a GET whose path is sent exactly as written, with ``user``'s password."""
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    token = base64.b64encode(f"{user}:{derive_password(SECRET, user)}".encode()).decode()
    try:
        conn.request("GET", path, headers={"Authorization": f"Basic {token}"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def user_of(entry: dict[str, str | None]) -> str:
    user = entry["mac"] or entry["computer_name"]
    assert user is not None
    return user


def uploaded(out: Path) -> list[str]:
    files = (p for p in (out / "uploads").rglob("*") if p.is_file())
    return sorted(str(p.relative_to(out / "uploads")) for p in files)


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_phone_boots_with_its_own_credentials(
    tmp_path: Path, nginx_server: NginxLauncher, monkeypatch: pytest.MonkeyPatch, example: str
) -> None:
    monkeypatch.setenv("MIPC_SITE_SECRET", SECRET)
    out = build_site(tmp_path, example, PHONE)
    htpasswd = (out / "current" / "network" / "htpasswd").read_bytes()
    assert SECRET.encode() not in htpasswd
    assert len(htpasswd.splitlines()) == len(phones(out))
    base = _serve(nginx_server, out)
    for name, entry in phones(out).items():
        user = user_of(entry)
        monkeypatch.setenv("MIPC_PHONE_PASSWORD", derive_password(SECRET, user))
        auth = ("--user", user, "--password-env", "MIPC_PHONE_PASSWORD")
        tree = simulate(name, "--tree", str(out), "--show-secrets")
        http = simulate(name, "--url", base, "--manifest", str(out), "--show-secrets", *auth)
        assert http.exit_code == 0, (name, http.output)
        assert http.stdout == tree.stdout, name
        bare = simulate(name, "--url", base, "--manifest", str(out))
        assert bare.exit_code == 1 and "401" in bare.stderr, name


def test_a_phone_reads_and_writes_only_its_own(
    tmp_path: Path, nginx_server: NginxLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIPC_SITE_SECRET", SECRET)
    out = build_site(tmp_path, "lab", PHONE)
    entries = phones(out)
    lobby, agent = entries["PolycomLobby"], entries["PolycomAgent"]
    a, b = str(lobby["mac"]), str(agent["mac"])
    own_cfg = next(f[4:] for f in lobby["files"] if f.startswith("www/phone/"))
    other_cfg = next(f[4:] for f in agent["files"] if f.startswith("www/phone/"))
    text = (out / "current" / "www" / own_cfg).read_text(encoding="utf-8")
    assert f'device.prov.user="{a}"' in text
    assert f'device.prov.password="{derive_password(SECRET, a)}"' in text
    base = _serve(nginx_server, out)
    assert request(f"{base}/{own_cfg}", a) == 200
    assert request(f"{base}/{other_cfg}", a) == 403
    assert request(f"{base}/{other_cfg}") == 401
    assert request(f"{base}/{b}.cfg", a) == 403
    assert request(f"{base}/{b.upper()}.cfg", a) == 403
    assert request(f"{base}/AgentPC9.lab.local.i3sipcfg", a) == 403
    assert request(f"{base}/{a.upper()}.cfg", a) == 200
    guid = other_cfg.split("/")[1]
    for trick in (f"/x/../{other_cfg}", f"//{other_cfg}", f"/phone/%{ord(guid[0]):02x}{guid[1:]}"):
        assert raw(base, trick, a) == 403, trick  # nginx matches the normalised URI
    # Owned by stem: any content address of another phone's file is refused unread.
    stem = other_cfg.rsplit(".", 2)[0]
    assert request(f"{base}/{stem}.cfg", a) == 403
    assert request(f"{base}/{stem}.00000000.cfg", a) == 403
    assert request(f"{base}/{own_cfg.rsplit('.', 2)[0]}.00000000.cfg", a) == 404
    www = out / "current" / "www"
    xic = served_path(www, "server/xic.cfg").relative_to(www).as_posix()
    assert request(f"{base}/{xic}", a) == 200  # shared
    assert request(f"{base}/000000000000.cfg", b) == 200  # shared by every new phone
    assert request(f"{base}/{xic}", "0004f2999999") == 401  # not a phone of the site
    for path in (f"logs/{b}-app.log", f"overrides/{b}-phone.cfg", f"contacts/{b}-directory.xml"):
        assert request(f"{base}/{path}", a, "PUT", b"<x/>\n") == 403, path
    big = b"x" * (10 * 1024 * 1024 + 1)
    assert request(f"{base}/logs/{a}-app.log", a, "PUT", big) == 413
    assert request(f"{base}/logs/{a}-app.log", None, "PUT", b"x\n") == 401
    assert uploaded(out) == []
    assert request(f"{base}/logs/{a}-app.log", a, "PUT", b"booted\n") == 201
    assert request(f"{base}/logs/{a}-app.log", b) == 403  # another phone's upload, read back
    assert uploaded(out) == [f"logs/{a}-app.log"]


def test_explain_shows_a_phone_credentials_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIPC_SITE_SECRET", SECRET)
    inventory = tmp_path / "lab"
    site = copy_example("lab", inventory)
    site.write_text(site.read_text(encoding="utf-8") + PHONE, encoding="utf-8")
    runner = CliRunner()
    args = ["explain", "PolycomLobby", str(inventory), "--format", "json"]
    hidden = json.loads(runner.invoke(main, args).stdout)["computed"]
    assert hidden["provisioning_user"] == "0004f2001001"
    assert hidden["provisioning_password"] == "<redacted>"
    shown = json.loads(runner.invoke(main, [*args, "--show-secrets"]).stdout)["computed"]
    assert shown["provisioning_password"] == derive_password(SECRET, "0004f2001001")


def test_staging_network_reads_without_credentials(
    tmp_path: Path, nginx_server: NginxLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIPC_SITE_SECRET", SECRET)
    out = build_site(tmp_path, "lab", PHONE + "  staging: [127.0.0.0/8]\n")
    site = (out / "current" / "network" / "nginx-site.conf").read_text()
    assert "satisfy any;\n    allow 127.0.0.0/8;\n    deny all;" in site
    base = _serve(nginx_server, out)
    for name in phones(out):  # a first boot on the staging bench: no credentials yet
        tree = simulate(name, "--tree", str(out), "--show-secrets")
        http = simulate(name, "--url", base, "--manifest", str(out), "--show-secrets")
        assert http.exit_code == 0, (name, http.output)
        assert http.stdout == tree.stdout, name
    agent = next(f[4:] for f in phones(out)["PolycomAgent"]["files"] if "phone/" in f)
    assert request(f"{base}/{agent}", "0004f2001001") == 403  # credentials still bind


def test_the_owner_map_holds_ten_thousand_phones(
    tmp_path: Path, nginx_server: NginxLauncher
) -> None:
    """The map's hash is sized for its keys: 10,000 phones and 64-character soft phone names
    pass ``nginx -t`` (the launcher's) and still tell owner from stranger."""
    www, uploads = tmp_path / "www", tmp_path / "uploads"
    (www / "phone").mkdir(parents=True)
    uploads.mkdir()
    macs = [f"0004f2{i:06x}" for i in range(10_000)]
    long_name = "pc-" + "x" * 51 + ".lab.local"  # 64 characters
    owners = [(f"phone/{uuid.uuid5(uuid.NAMESPACE_URL, m)}.cfg", m) for m in macs]
    owners.append((f"{long_name}.i3sipcfg", long_name))
    mine = owners[1234][0]
    (www / mine).write_text("<x/>\n", encoding="utf-8")
    (www / f"{long_name}.i3sipcfg").write_text("<x/>\n", encoding="utf-8")
    users = tmp_path / "htpasswd"
    users.write_bytes(
        b"".join(htpasswd(u, derive_password(SECRET, u)) for u in (macs[1234], macs[1]))
    )
    serving = Serving(macs=tuple(macs), htpasswd=str(users), per_phone=True, owners=tuple(owners))
    base = nginx_server(www, uploads, serving)
    assert request(f"{base}/{mine}", macs[1234]) == 200
    assert request(f"{base}/{mine}", macs[1]) == 403
    assert request(f"{base}/{long_name}.i3sipcfg", macs[1]) == 403


BASIC = """
serving:
  access: basic
  user: phones
  password: {env: MIPC_SITE_SECRET}
"""


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("mode", ["networks", "basic"])
def test_every_phone_boots_through_the_shared_modes(
    tmp_path: Path,
    nginx_server: NginxLauncher,
    monkeypatch: pytest.MonkeyPatch,
    example: str,
    mode: str,
) -> None:
    """The allow-list (the example's own networks, and 127.0.0.0/8 for the test) and the
    one shared credential: every phone boots as from the tree (an address outside the
    networks: tests/e2e/test_serving_modes.py); without the credential, 401."""
    monkeypatch.setenv("MIPC_SITE_SECRET", SECRET)
    inventory = tmp_path / example
    site = copy_example(example, inventory)
    if mode == "networks":
        source = site.read_text(encoding="utf-8")
        if "networks: [" not in source:  # a split inventory: its locations' file
            site = inventory / "locations.yaml"
            source = site.read_text(encoding="utf-8")
        site.write_text(source.replace("networks: [", "networks: [127.0.0.0/8, ", 1), "utf-8")
        serving = "\nserving: {access: networks}\n"
    else:
        serving = BASIC
    main_file = inventory / ("site.yaml" if (inventory / "site.yaml").exists() else "mipc.yaml")
    main_file.write_text(main_file.read_text(encoding="utf-8") + serving, encoding="utf-8")
    out = build_into(inventory, tmp_path / "out")
    base = _serve(nginx_server, out)
    auth = ("--user", "phones", "--password-env", "MIPC_SITE_SECRET") if mode == "basic" else ()
    for name in phones(out):
        tree = simulate(name, "--tree", str(out), "--show-secrets")
        http = simulate(name, "--url", base, "--manifest", str(out), "--show-secrets", *auth)
        assert http.exit_code == 0, (name, http.output)
        assert http.stdout == tree.stdout, name
    if mode == "basic":
        first = next(iter(phones(out).values()))["files"][0][4:]
        assert request(f"{base}/{first}") == 401
