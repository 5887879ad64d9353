"""``serving.tls`` against the real nginx: HTTPS with the site's certificate (a CA and a
server certificate made here with openssl), and ``access: certificate``, where each phone
shows a client certificate whose CN is its MAC and reads and writes only its own files."""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.builders import served_path
from tests.e2e.conftest import NginxLauncher
from tests.e2e.test_simulate_http import _serve
from tests.simulate_helpers import EXAMPLES, build_into, copy_example, phones, simulate
from tests.tooling import require_tool

pytestmark = pytest.mark.e2e

#: The extension of a phone's client certificate.
CLIENT = "extendedKeyUsage=clientAuth"


def openssl(*args: str | Path) -> None:
    subprocess.run(
        [require_tool("openssl"), *map(str, args)], check=True, capture_output=True, timeout=60
    )


def make_ca(base: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA: (certificate, key)."""
    cert, key = base / f"{name}.pem", base / f"{name}.key"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            f"/CN={name}", "-keyout", key, "-out", cert)  # fmt: skip
    return cert, key


def issue(base: Path, ca: tuple[Path, Path], cn: str, ext: str) -> tuple[Path, Path]:
    """A certificate for ``cn`` signed by ``ca`` with the extension lines ``ext``."""
    cert, key, csr = base / f"{cn}.pem", base / f"{cn}.key", base / f"{cn}.csr"
    conf = base / f"{cn}.ext"
    conf.write_text(ext + "\n", encoding="utf-8")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", f"/O=Test/CN={cn}", "-keyout", key, "-out", csr)  # fmt: skip
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
            "-days", "2", "-extfile", conf, "-out", cert)  # fmt: skip
    return cert, key


def tls_build(base: Path, serving: str, example: str = "lab") -> Path:
    """``examples/<example>`` over https:// with ``serving`` appended, built; OUT."""
    inventory = base / example
    site = copy_example(example, inventory)
    source = site.read_text(encoding="utf-8")
    source = source.replace("provisioning_url: http://", "provisioning_url: https://")
    site.write_text(source + serving, encoding="utf-8")
    return build_into(inventory, base / "out")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """The site's CA and server certificate (for 127.0.0.1), a phones' CA and two phones."""
    base = tmp_path_factory.mktemp("pki")
    site_ca = make_ca(base, "site-ca")
    server = issue(base, site_ca, "127.0.0.1", "subjectAltName=IP:127.0.0.1")
    phone_ca = make_ca(base, "phone-ca")
    return {
        "site_ca": site_ca,
        "server": server,
        "phone_ca": phone_ca,
        "a": issue(base, phone_ca, "0004f2001001", CLIENT),  # PolycomLobby
        "b": issue(base, phone_ca, "0004f2001002", CLIENT),  # PolycomAgent
        "stranger": issue(base, site_ca, "0004f2001003", CLIENT),  # not of the phones' CA
    }


def tls_serving(pki: dict[str, tuple[Path, Path]], access: str = "") -> str:
    lines = [
        "serving:",
        *([f"  access: {access}"] if access else []),
        "  tls:",
        f"    certificate: {{file: {pki['server'][0]}}}",
        f"    key_path: {pki['server'][1]}",
    ]
    if access == "certificate":
        lines.append(f"    client_ca: {{file: {pki['phone_ca'][0]}}}")
    return "\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("example", EXAMPLES)
def test_https_with_the_site_certificate(
    tmp_path: Path, nginx_server: NginxLauncher, pki: dict[str, tuple[Path, Path]], example: str
) -> None:
    inventory_pki = tmp_path / example / "certs" / "site"
    out = tls_build(tmp_path, tls_serving(_inside(pki, inventory_pki)), example)
    network = out / "current" / "network"
    assert (network / "tls" / "site.crt").read_bytes() == pki["server"][0].read_bytes()
    key = pki["server"][1].read_bytes().strip().splitlines()[1]  # a line of the key
    leaked = [p for p in out.rglob("*") if p.is_file() and key in p.read_bytes()]
    assert leaked == [], "the private key never enters OUT"
    site = (network / "nginx-site.conf").read_text()
    assert re.search(r"listen 8088 ssl;", site)
    assert f'ssl_certificate_key "{inventory_pki}/127.0.0.1.key";' in site
    base = _serve(nginx_server, out)
    ca = str(pki["site_ca"][0])
    for name in phones(out):
        tree = simulate(name, "--tree", str(out), "--show-secrets")
        http = simulate(name, "--url", base, "--manifest", str(out), "--show-secrets", "--ca", ca)
        assert http.exit_code == 0, (name, http.output)
        assert http.stdout == tree.stdout, name
    name = next(iter(phones(out)))
    unverified = simulate(name, "--url", base, "--manifest", str(out))
    assert unverified.exit_code == 2 and "CERTIFICATE_VERIFY_FAILED" in unverified.stderr
    insecure = simulate(name, "--url", base, "--manifest", str(out), "--insecure")
    assert insecure.exit_code == 0, insecure.output


def _inside(pki: dict[str, tuple[Path, Path]], folder: Path) -> dict[str, tuple[Path, Path]]:
    """The PKI copied into ``folder`` (the inventory reads secret files only inside it)."""
    folder.mkdir(parents=True)
    copied = {}
    for name, pair in pki.items():
        copied[name] = (
            Path(shutil.copy(pair[0], folder / pair[0].name)),
            Path(shutil.copy(pair[1], folder / pair[1].name)),
        )
    return copied


def fetch(base: str, path: str, pki: dict[str, tuple[Path, Path]], who: str | None,
          method: str = "GET", data: bytes | None = None) -> int:  # fmt: skip
    """The status of one request over TLS, showing ``who``'s client certificate."""
    context = ssl.create_default_context(cafile=str(pki["site_ca"][0]))
    if who is not None:
        context.load_cert_chain(pki[who][0], pki[who][1])
    req = urllib.request.Request(f"{base}/{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        with error:
            return error.code


def test_client_certificates_keep_each_phone_to_its_own(
    tmp_path: Path, nginx_server: NginxLauncher, pki: dict[str, tuple[Path, Path]]
) -> None:
    inside = _inside(pki, tmp_path / "lab" / "certs" / "site")
    out = tls_build(tmp_path, tls_serving(inside, "certificate"))
    network = out / "current" / "network"
    assert (network / "tls" / "client-ca.pem").read_bytes() == pki["phone_ca"][0].read_bytes()
    assert not (network / "htpasswd").exists()
    base = _serve(nginx_server, out)
    entries = phones(out)
    own = next(f[4:] for f in entries["PolycomLobby"]["files"] if f.startswith("www/phone/"))
    other = next(f[4:] for f in entries["PolycomAgent"]["files"] if f.startswith("www/phone/"))
    assert fetch(base, own, inside, "a") == 200
    assert fetch(base, other, inside, "a") == 403
    assert fetch(base, other, inside, "b") == 200
    assert fetch(base, "0004F2001002.cfg", inside, "a") == 403
    assert fetch(base, f"{other.rsplit('.', 2)[0]}.00000000.cfg", inside, "a") == 403  # by stem
    www = out / "current" / "www"
    xic = served_path(www, "server/xic.cfg").relative_to(www).as_posix()
    assert fetch(base, xic, inside, "a") == 200
    assert fetch(base, xic, inside, None) == 400  # no certificate: refused
    assert fetch(base, xic, inside, "stranger") == 400  # another CA's
    assert fetch(base, "logs/0004f2001002-app.log", inside, "a", "PUT", b"x\n") == 403
    assert fetch(base, "logs/0004f2001001-app.log", inside, "a", "PUT", b"x" * 10485761) == 413
    assert not [p for p in (out / "uploads").rglob("*") if p.is_file()]
    assert fetch(base, "logs/0004f2001001-app.log", inside, "a", "PUT", b"booted\n") == 201
    cert, key = (str(p) for p in inside["a"])
    mine = ("--ca", str(pki["site_ca"][0]), "--cert", cert, "--key", key)
    foreign = simulate("PolycomAgent", "--url", base, "--manifest", str(out), *mine)
    assert foreign.exit_code == 1 and "403" in foreign.stderr


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_phone_boots_with_its_own_certificate(
    tmp_path: Path, nginx_server: NginxLauncher, pki: dict[str, tuple[Path, Path]], example: str
) -> None:
    inside = _inside(pki, tmp_path / example / "certs" / "site")
    out = tls_build(tmp_path, tls_serving(inside, "certificate"), example)
    base = _serve(nginx_server, out)
    ca = str(pki["site_ca"][0])
    for name, entry in phones(out).items():
        cn = entry["mac"] or entry["computer_name"]
        cert, key = (str(p) for p in issue(tmp_path, inside["phone_ca"], cn, CLIENT))
        tree = simulate(name, "--tree", str(out), "--show-secrets")
        args = ("--ca", ca, "--cert", cert, "--key", key, "--show-secrets")
        http = simulate(name, "--url", base, "--manifest", str(out), *args)
        assert http.exit_code == 0, (name, http.output)
        assert http.stdout == tree.stdout, name
