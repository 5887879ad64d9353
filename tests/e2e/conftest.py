"""Fixtures for end-to-end tests: a real nginx serving a generated site on 127.0.0.1."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mipc.network.nginx import Serving, render_nginx
from tests.tooling import require_tool, write_nginx_prefix

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def free_port() -> int:
    """A TCP port that was free a moment ago (bind to port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class NginxLauncher:
    """Starts nginx processes (not daemons) and stops them all at teardown."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._count = 0
        self._running: list[tuple[subprocess.Popen[bytes], Path]] = []
        self._by_url: dict[str, subprocess.Popen[bytes]] = {}
        self.nginx = require_tool("nginx")

    def __call__(self, www: Path, uploads: Path, serving: Serving | None = None) -> str:
        """Serve ``www`` (uploads into ``uploads``) with the generated site; the base URL."""
        return self.start_site(
            lambda listen: render_nginx("localhost", str(www), str(uploads), listen, serving)
        )

    def start_site(self, render: Callable[[str], bytes], user: str | None = None) -> str:
        """Start nginx with the site ``render(listen)`` (workers as ``user``, see
        :func:`tests.tooling.write_nginx_prefix`); return its base URL."""
        self._count += 1
        run_dir = self._base / f"nginx{self._count}"
        run_dir.mkdir()
        port = free_port()
        main = write_nginx_prefix(run_dir, render(f"127.0.0.1:{port}"), user)
        stderr_path = run_dir / "logs" / "stderr.log"
        base_cmd = [self.nginx, "-p", f"{run_dir}/", "-c", str(main)]
        check = subprocess.run(
            [*base_cmd, "-e", "stderr", "-t", "-q"], capture_output=True, check=False, timeout=30
        )
        if check.returncode != 0:
            pytest.fail(f"nginx -t failed: {check.stderr.decode(errors='replace')}")
        with stderr_path.open("ab") as err:
            proc = subprocess.Popen(
                [*base_cmd, "-e", str(stderr_path), "-g", "daemon off;"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self._running.append((proc, run_dir))
        self._by_url[f"http://127.0.0.1:{port}"] = proc
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = run_dir / "logs" / "error.log"
                text = log.read_text(errors="replace") if log.exists() else ""
                text += stderr_path.read_text(errors="replace")
                pytest.fail(f"nginx did not start on port {port} (rc={proc.poll()}):\n{text}")
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    def serve_release(self, out: Path) -> str:
        """Serve OUT's current release with the ``network/nginx-site.conf`` its build wrote
        (built with ``--server-root OUT``), only the listen address changed; the base URL."""
        site = (out / "current" / "network" / "nginx-site.conf").read_bytes()

        def render(listen: str) -> bytes:
            patched, count = re.subn(rb"listen [^;]+;", f"listen {listen};".encode(), site)
            assert count == 1
            return patched

        return self.start_site(render)

    def stop(self, base_url: str) -> None:
        """Stop the nginx serving ``base_url`` (SIGQUIT, then wait for it to exit)."""
        proc = self._by_url[base_url]
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=STOP_TIMEOUT)

    def stop_all(self) -> None:
        for proc, _run_dir in reversed(self._running):
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT)
                try:
                    proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=STOP_TIMEOUT)
        self._running.clear()


@pytest.fixture
def nginx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxLauncher]:
    """``nginx_server(www, uploads)`` starts nginx on a free 127.0.0.1 port; gives the base URL.

    ``nginx_server.start_site(render)`` starts one with any site (``render(listen) -> bytes``).
    Every nginx started is stopped at teardown (SIGQUIT, then SIGKILL after 5 s).
    """
    launcher = NginxLauncher(tmp_path_factory.mktemp("nginx-run"))
    try:
        yield launcher
    finally:
        launcher.stop_all()
