"""``mipc simulate --url``: every phone of the examples boots from a real nginx serving the
built tree through the generated site, with the same output as ``--tree``; and HTTP basic
credentials reach a server that asks for them."""

from __future__ import annotations

import base64
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import served_path
from tests.e2e.conftest import NginxLauncher
from tests.simulate_helpers import EXAMPLES, build, phones, simulate


def _serve(nginx_server: NginxLauncher, out: Path) -> str:
    """OUT's site on a free port (with TLS when it listens with ``ssl``); its base URL."""
    site = (out / "current" / "network" / "nginx-site.conf").read_bytes()
    # The site names /srv/mipc (the default server root): point it at this OUT.
    site = site.replace(b'"/srv/mipc/', f'"{out}/'.encode())
    tls = re.search(rb"listen [^; ]+ ssl;", site) is not None

    def render(listen: str) -> bytes:
        ssl = " ssl" if tls else ""
        patched, count = re.subn(rb"listen [^;]+;", f"listen {listen}{ssl};".encode(), site)
        assert count == 1
        return patched

    base = nginx_server.start_site(render)
    return base.replace("http://", "https://") if tls else base


@pytest.mark.e2e
@pytest.mark.parametrize("example", EXAMPLES)
def test_every_phone_boots_over_http_as_from_the_tree(
    tmp_path: Path, nginx_server: NginxLauncher, example: str
) -> None:
    out = build(example, tmp_path)
    base = _serve(nginx_server, out)
    for name in phones(out):
        tree = simulate(name, "--tree", str(out), "--show-secrets")
        http = simulate(name, "--url", base, "--manifest", str(out), "--show-secrets")
        assert http.exit_code == 0, (name, http.output)
        assert http.stdout == tree.stdout, name
    unknown = simulate("0004f2999999", "--url", base)
    assert unknown.exit_code == 0 and "GET 000000000000.cfg 200" in unknown.stdout
    www = out / "current" / "www"
    xic = served_path(www, "server/xic.cfg")
    xic.unlink()
    first = next(n for n, p in phones(out).items() if p["family"] == "polycom")
    if example == "lab":
        missing = simulate(first, "--url", base, "--manifest", str(out))
        gone = xic.relative_to(www).as_posix()
        assert missing.exit_code == 1 and f"{gone}: not found" in missing.stderr


class _Guarded(http.server.BaseHTTPRequestHandler):
    """Answers 401 without the expected credentials, else serves the tree's master."""

    expected = "Basic " + base64.b64encode(b"prov:s3cret").decode()
    www = Path()

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != self.expected:
            self.send_response(401)
            self.end_headers()
            return
        found = self.www / self.path.lstrip("/")
        if not found.is_file():
            self.send_response(404)
            self.end_headers()
            return
        data = found.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    out = build("lab", tmp_path)
    _Guarded.www = out / "current" / "www"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Guarded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", out
    finally:
        server.shutdown()
        server.server_close()


def test_basic_credentials_are_sent(
    guarded: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, out = guarded
    args = ("AgentISS-Lab", "--url", base, "--manifest", str(out))
    auth = ("--user", "prov", "--password-env", "PROV_PASSWORD")
    monkeypatch.setenv("PROV_PASSWORD", "s3cret")
    ok = simulate(*args, *auth)
    assert ok.exit_code == 0, ok.output
    assert "voip/line/0/id = 7004  (0026fd001004.cfg)" in ok.stdout
    monkeypatch.setenv("PROV_PASSWORD", "wrong")
    refused = simulate(*args, *auth)
    assert refused.exit_code == 1 and "0026fd001004.cfg: answered 401" in refused.stderr
    assert simulate(*args).exit_code == 1  # no credentials: 401
