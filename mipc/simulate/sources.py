"""Where a simulated phone fetches its files: a release on disk, or a provisioning URL.

Takes OUT (or a release folder, or a ``manifest.json``) or a base URL with optional HTTP basic
credentials and a CA file; gives :class:`Answer` objects for ``GET`` and ``HEAD`` of paths
under the web root (``www/``), and the manifest's phones. Trouble reaching the tree or the
server is a :class:`~mipc.diagnostics.MipcError` (exit 2); a file that is not there is an
answer (404), not an error.
"""

from __future__ import annotations

import base64
import os
import posixpath
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mipc.diagnostics import MipcError
from mipc.diff.model import PhoneRecord
from mipc.release.reader import load_release, release_folder

#: Seconds to wait for the server's answer.
TIMEOUT = 10.0


@dataclass(frozen=True)
class Answer:
    """The server's answer: the status, the body (empty for ``HEAD``) and its size."""

    status: int
    body: bytes = b""
    size: int | None = None


class Source(Protocol):
    """Answers a phone's requests for paths under the web root."""

    def get(self, path: str) -> Answer:
        """The file at ``path``, or the status that says why not."""

    def head(self, path: str) -> Answer:
        """Whether ``path`` is there, and its size, without its body (firmware images)."""


def read_manifest(path: Path) -> Mapping[str, PhoneRecord]:
    """The phones of the manifest of OUT, a release folder or a ``manifest.json``, by name."""
    return load_release(path).phones


def _inside(path: str) -> str | None:
    """``path`` relative to the web root, or None when it would leave it."""
    clean = posixpath.normpath("/" + path.lstrip("/")).lstrip("/")
    return clean if clean and clean != "." else None


class TreeSource:
    """The ``www/`` folder of a release on disk, as nginx would serve it (files only)."""

    def __init__(self, out: Path) -> None:
        root, _ = release_folder(out)
        self.www = root / "www"
        if not self.www.is_dir():
            raise MipcError(f"{root} has no www/ folder")

    def _file(self, path: str) -> Path | None:
        rel = _inside(path)
        if rel is None:
            return None
        found = self.www / rel
        return found if found.is_file() else None

    def get(self, path: str) -> Answer:
        """The file's bytes, or 404."""
        found = self._file(path)
        if found is None:
            return Answer(404)
        try:
            data = found.read_bytes()
        except OSError as exc:
            raise MipcError(f"cannot read {found}: {exc.strerror or exc}") from exc
        return Answer(200, data, len(data))

    def head(self, path: str) -> Answer:
        """The file's size, or 404."""
        found = self._file(path)
        if found is None:
            return Answer(404)
        return Answer(200, b"", os.stat(found).st_size)


@dataclass(frozen=True)
class ClientTls:
    """How an ``https://`` server is checked and what the phone shows it: ``cacert`` the CA
    certificates (PEM) to trust instead of the system store; ``cert`` and ``key`` the
    phone's client certificate and its key (PEM); ``insecure``: do not check the server."""

    cacert: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    insecure: bool = False

    def context(self) -> ssl.SSLContext:
        """The TLS context of these settings; an unusable file is a :class:`MipcError`."""
        try:
            context = ssl.create_default_context(cafile=str(self.cacert) if self.cacert else None)
        except (OSError, ssl.SSLError) as exc:
            raise MipcError(f"cannot use the CA file {self.cacert}: {exc}") from exc
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert is not None:
            try:
                context.load_cert_chain(self.cert, self.key)
            except (OSError, ssl.SSLError) as exc:
                raise MipcError(f"cannot use the certificate {self.cert}: {exc}") from exc
        return context


class HttpSource:
    """A provisioning server: ``urllib``, HTTP basic credentials, TLS as ``tls`` says (by
    default the system's CA store, no client certificate)."""

    def __init__(
        self,
        base: str,
        credentials: tuple[str, str] | None = None,
        tls: ClientTls | None = None,
    ) -> None:
        if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
            raise MipcError(f"{base}: not an http:// or https:// URL")
        self.base = base.rstrip("/") + "/"
        self.headers: dict[str, str] = {}
        if credentials is not None:
            token = base64.b64encode(":".join(credentials).encode("utf-8")).decode("ascii")
            self.headers["Authorization"] = f"Basic {token}"
        self.context = (tls or ClientTls()).context()

    def _ask(self, method: str, path: str) -> Answer:
        url = self.base + urllib.parse.quote(path.lstrip("/"))
        request = urllib.request.Request(url, method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT, context=self.context) as got:
                body = bytes(got.read()) if method == "GET" else b""
                length = got.headers.get("Content-Length")
                size = len(body) if method == "GET" else (int(length) if length else None)
                return Answer(int(got.status), body, size)
        except urllib.error.HTTPError as exc:
            return Answer(exc.code)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise MipcError(f"cannot reach {url}: {reason}") from exc

    def get(self, path: str) -> Answer:
        """``GET`` the path under the base URL."""
        return self._ask("GET", path)

    def head(self, path: str) -> Answer:
        """``HEAD`` the path under the base URL."""
        return self._ask("HEAD", path)
