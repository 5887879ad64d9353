"""A location's provision proxy: the generated cache site in front of the generated central one.

Both nginx run on 127.0.0.1 on free ports. The cache keeps serving the files it holds while the
central server is stopped, and passes uploads (PUT) through while it runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from mipc.network.nginx import Serving
from mipc.network.plan import PROXY_CACHE_ROOT, network_files
from mipc.pipeline import validate
from tests.e2e.test_nginx_serving import CFG, fetch

if TYPE_CHECKING:
    from tests.e2e.conftest import NginxLauncher

pytestmark = pytest.mark.e2e

LAB = Path(__file__).resolve().parents[2] / "examples" / "lab"


def proxy_site(tmp_path: Path, central: str, port: int) -> tuple[bytes, str]:
    """The lab with ``central`` as provisioning URL and a Branch proxy on 127.0.0.1:``port``:
    its nginx cache site and the Branch scope's option 160."""
    shutil.copytree(LAB, tmp_path / "lab")
    path = tmp_path / "lab" / "mipc.yaml"
    data = yaml.safe_load(path.read_text())
    data["site"]["provisioning_url"] = f"{central}/"
    data["locations"]["Branch"].update(
        networks=["10.2.0.0/24"], provision_proxy={"address": "127.0.0.1", "port": port}
    )
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = validate(path)
    assert result.plan is not None, result.diagnostics
    files = network_files(result.plan)
    dhcpd = files["dhcpd.conf"].decode()
    option = [line.strip() for line in dhcpd.splitlines() if 'mipc-provisioning-url "' in line]
    return files["nginx-cache-127.0.0.1.conf"], option[-1]


def test_cache_serves_while_central_is_down(nginx_server: NginxLauncher, tmp_path: Path) -> None:
    www, uploads = tmp_path / "www", tmp_path / "uploads"
    www.mkdir()
    uploads.mkdir()
    (www / "0004f2aabbcc.cfg").write_bytes(CFG)
    (www / "000000000000.cfg").write_bytes(b"<master/>\n")
    central = nginx_server(www, uploads, Serving(macs=("0004f2aabbcc",)))  # it may upload
    seen: dict[str, str] = {}

    def render(listen: str) -> bytes:
        port = int(listen.rsplit(":", 1)[1])
        site, seen["option_160"] = proxy_site(tmp_path, central, port)
        seen["proxy"] = f"http://127.0.0.1:{port}"
        site = site.replace(PROXY_CACHE_ROOT.encode(), str(tmp_path / "cache").encode())
        return site.replace(f"listen {port};".encode(), f"listen {listen};".encode())

    cache = nginx_server.start_site(render)
    assert cache == seen["proxy"]
    assert seen["option_160"] == f'option mipc-provisioning-url "{cache}/";'

    for name in ("0004f2aabbcc.cfg", "000000000000.cfg"):
        assert fetch(f"{cache}/{name}")[0] == 200
    status, headers, body = fetch(f"{cache}/0004f2aabbcc.cfg")
    assert (status, body, headers["X-Cache-Status"]) == (200, CFG, "HIT")
    assert fetch(f"{cache}/logs/0004f2aabbcc-app.log", "PUT", b"via proxy\n")[0] == 201
    assert (uploads / "logs" / "0004f2aabbcc-app.log").read_bytes() == b"via proxy\n"

    nginx_server.stop(central)
    status, _headers, body = fetch(f"{cache}/0004f2aabbcc.cfg")
    assert (status, body) == (200, CFG)
    assert fetch(f"{cache}/000000000000.cfg")[::2] == (200, b"<master/>\n")
    # Not cached, central down: the proxy says so; an upload cannot get through either.
    assert fetch(f"{cache}/0004f2aabbcd.cfg")[0] == 502
    assert fetch(f"{cache}/logs/0004f2aabbcc-app.log", "PUT", b"lost\n")[0] == 502
