"""Helpers for tests that need system executables (nginx, dhcpd, kea-dhcp4, dnsmasq, bind9).

``scripts/install-system-deps.sh`` installs them on Debian.  Outside CI a missing tool skips the
test (with the package to install); in CI (``CI=true``) it fails, so a broken image is noticed.
The same holds for tests that need root or a system user (:func:`require_root`, :func:`missing`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

#: Debian package that provides each executable the tests use.
PACKAGES: dict[str, str] = {
    "nginx": "nginx",
    "dhcpd": "isc-dhcp-server",
    "kea-dhcp4": "kea-dhcp4-server",
    "dnsmasq": "dnsmasq",
    "named-checkzone": "bind9-utils",
    "named-compilezone": "bind9-utils",
    "named-checkconf": "bind9-utils",
}

_EXTRA_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def find_tool(name: str) -> str | None:
    """The path of executable ``name`` on PATH or in the sbin folders, or None."""
    path = os.environ.get("PATH", os.defpath)
    search = os.pathsep.join([path, *_EXTRA_DIRS])
    return shutil.which(name, path=search)


def require_tool(name: str) -> str:
    """The path of executable ``name``; skip the test (fail in CI) when it is missing."""
    found = find_tool(name)
    if found is not None:
        return found
    package = PACKAGES.get(name, name)
    message = (
        f"system tool {name!r} not found (PATH, /usr/sbin, /sbin); "
        f"install it with: apt-get install {package}  (or run scripts/install-system-deps.sh)"
    )
    missing(message)


def missing(message: str) -> NoReturn:
    """Skip the test for what this machine lacks; fail it in CI, whose machine must have it."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_root(why: str) -> None:
    """Skip the test unless it runs as root (fail in CI, which runs the tests as root)."""
    if os.geteuid() != 0:
        missing(f"needs root: {why}")


def write_nginx_prefix(run_dir: Path, site_conf: bytes, user: str | None = None) -> Path:
    """Lay out an nginx prefix in ``run_dir`` around ``site_conf``; return the main config.

    The main config holds what a Debian ``nginx.conf`` would (pid, logs, temp paths, all inside
    ``run_dir``) and includes the site at http level.  As root it says ``user root;`` so the
    workers can read test folders that only root may enter; ``user`` (``"nobody www-data"``)
    names the workers' user and group instead.
    """
    conf_dir = run_dir / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(exist_ok=True)
    site = conf_dir / "site.conf"
    site.write_bytes(site_conf)
    user = f"user {user};\n" if user else "user root;\n" if os.geteuid() == 0 else ""
    main = conf_dir / "nginx.conf"
    main.write_text(
        f"{user}"
        "worker_processes 1;\n"
        f"pid {run_dir}/nginx.pid;\n"
        f"error_log {run_dir}/logs/error.log info;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"    access_log {run_dir}/logs/access.log;\n"
        f"    client_body_temp_path {run_dir}/tmp/body;\n"
        f"    proxy_temp_path {run_dir}/tmp/proxy;\n"
        f"    fastcgi_temp_path {run_dir}/tmp/fastcgi;\n"
        f"    uwsgi_temp_path {run_dir}/tmp/uwsgi;\n"
        f"    scgi_temp_path {run_dir}/tmp/scgi;\n"
        f"    include {site};\n"
        "}\n",
        encoding="utf-8",
    )
    (run_dir / "tmp").mkdir(exist_ok=True)
    return main
