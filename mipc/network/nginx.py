"""The nginx sites: the one that serves a release to the phones, and a remote-site cache.

Takes the server name, paths and listen address (checked here); gives the site files as bytes,
each meant to be included at http level (``sites-enabled``). Never imports render or release.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mipc.network.access import (
    Serving,
    abs_path,
    access_lines,
    access_maps,
    htpasswd,
    map_hash,
    tls_lines,
)
from mipc.network.checks import HEADER, host_or_ip, hostile, port, text, url
from mipc.network.values import all_macs

__all__ = ["Serving", "htpasswd", "render_nginx", "render_nginx_cache"]

_LISTEN = re.compile(
    r"^(?:(?:\[[0-9A-Fa-f:.]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[A-Za-z0-9.-]+):)?[0-9]{1,5}$"
)

#: Content types, replacing the inherited map for this server (so the result does not depend
#: on the host's mime.types): .cfg as text/plain (Polycom XML and AudioCodes key=value files
#: alike), .xml as text/xml, firmware as application/octet-stream (also the default).
_TYPES = (
    ("text/plain", ("cfg", "log", "txt")),
    ("text/xml", ("xml",)),
    ("application/octet-stream", ("bin", "img", "ld", "zip")),
    ("audio/wav", ("wav",)),
    ("image/bmp", ("bmp",)),
    ("image/jpeg", ("jpeg", "jpg")),
    ("image/png", ("png",)),
)

_UPLOAD_DIRS = ("contacts", "logs", "overrides")

#: What a phone uploads, by folder: the names after ``<mac>-`` (Polycom's boot and application
#: logs, the overrides its menu and web UI write, its contact directory).
_UPLOAD_NAMES = (
    ("logs", r"(?:app|boot)\.log"),
    ("overrides", r"(?:phone|web)\.cfg"),
    ("contacts", r"directory\.xml"),
)
_MAC = re.compile(r"^[0-9a-f]{12}$")
_SHARED_MAC = "000000000000"


def _listen(value: str) -> str:
    hostile("listen", value)
    if not _LISTEN.match(value):
        raise ValueError(f"listen {value!r}: expected PORT, ADDRESS:PORT or [IPv6]:PORT")
    port("listen port", int(value.rsplit(":", 1)[-1]))
    return value


def _server_name(value: str) -> str:
    if value == "_":
        return value
    return host_or_ip("server_name", value)


def _size(what: str, value: int) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**40:
        raise ValueError(f"{what} {value!r}: a positive number of bytes")
    return str(value)


def _types_block(indent: str) -> list[str]:
    lines = [f"{indent}default_type application/octet-stream;", f"{indent}types {{"]
    for mime, exts in _TYPES:
        lines.append(f"{indent}    {mime} {' '.join(exts)};")
    lines.append(f"{indent}}}")
    return lines


def render_nginx(
    server_name: str,
    www_root: str,
    uploads_root: str,
    listen: str,
    serving: Serving | None = None,
) -> bytes:
    """Render the nginx site that serves a release to the phones.

    The file is meant for ``sites-enabled`` (it is included at http level: it holds ``map``
    blocks and one ``server``).  ``www_root`` is served read-only (GET/HEAD; other methods get
    403); a file whose name starts with 12 hex digits (a MAC) is also found when the phone asks
    in upper case; directories and dotfiles give 404.  ``PUT`` is accepted only for the names
    a phone uploads (``logs/<mac>-{app,boot}.log``, ``overrides/<mac>-{phone,web}.cfg`` unless
    ``serving.overrides`` is off, ``contacts/<mac>-directory.xml``) and only for the MACs of
    ``serving.macs`` (a ``map``; any other MAC answers 403), stored under ``uploads_root``
    (create or overwrite; no DELETE, no MKCOL), bodies up to ``serving.max_upload_bytes``
    (else 413).  ``uploads_root`` must exist and be writable by nginx's worker user: nginx
    keeps upload bodies in ``uploads_root/.tmp`` (same file system as the uploads, so a
    finished PUT is a rename) and creates only that last folder.
    """
    serving = serving or Serving()
    name = _server_name(server_name)
    www = abs_path("www_root", www_root)
    uploads = abs_path("uploads_root", uploads_root)
    lst = _listen(listen)
    max_body = _size("max_upload_bytes", serving.max_upload_bytes)
    out = [*_maps(www, uploads, serving), *access_maps(serving)]
    out += [
        "",
        "server {",
        f"    listen {lst}{' ssl' if serving.certificate else ''};",
        f"    server_name {name};",
        *tls_lines(serving),
        f'    root "{www}";',
        "    autoindex off;",
        "    server_tokens off;",
        "    client_max_body_size 1m;",
        *access_lines(serving),
        "    # A types block here replaces the inherited map (mime.types) for this server.",
        *_types_block("    "),
        "",
        "    # Dotfiles (and anything under a dot-directory): not found.",
        "    location ~ /\\. {",
        "        return 404;",
        "    }",
        *_upload_locations(uploads, max_body, serving.overrides),
        *_read_locations(),
        "}",
    ]
    return text(out)


_HEXES = tuple(f"mipc_h{i}" for i in range(1, 13))
_LOWS = tuple(f"mipc_l{i}" for i in range(1, 13))


def _maps(www: str, uploads: str, serving: Serving) -> list[str]:
    """The file's head: what it serves, the maps' hash, the lower-casing maps, the phones."""
    out = [
        f"# {HEADER}",
        "# nginx site for the phones: include at http level (e.g. /etc/nginx/sites-enabled/).",
        f"# Read-only: {www} ; uploads (PUT only): {uploads}/{{{','.join(_UPLOAD_DIRS)}}}",
        "# MAC-named files: a request for 0004F2AABBCC.cfg is answered with 0004f2aabbcc.cfg.",
        "# The regex location below captures the 12 hex digits one by one and these maps",
        "# lower-case each of them (stock nginx has no lower-case function).",
        *map_hash(serving),
    ]
    for h, low in zip(_HEXES, _LOWS, strict=True):
        out.append(f"map ${h} ${low} {{ A a; B b; C c; D d; E e; F f; default ${h}; }}")
    return out + _phones_map(serving.macs)


def _phones_map(macs: tuple[str, ...]) -> list[str]:
    """``$mipc_phone``: 1 for the MAC of an upload location that is one of ``macs``, else 0.

    nginx looks a map's strings up without regard to case, so an upper-case MAC matches too.
    """
    if not all_macs(macs) or _SHARED_MAC in macs:
        for mac in macs:
            if not _MAC.fullmatch(mac) or mac == _SHARED_MAC:
                raise ValueError(f"upload MAC {mac!r}: 12 lower-case hex digits, not all zero")
    return [
        "",
        "# The phones of the inventory: only they may upload (never 000000000000, shared by all).",
        "map $mipc_umac $mipc_phone {",
        "    default 0;",
        *(f"    {mac} 1;" for mac in sorted(set(macs))),
        "}",
    ]


def _upload_locations(uploads: str, max_body: str, overrides: bool) -> list[str]:
    """The locations of the names phones upload, stored under ``uploads``."""
    out = [
        "",
        "    # Phone uploads, only the names phones write and only for the inventory's MACs:",
        "    # PUT creates or overwrites; GET reads back (overrides, contacts).",
    ]
    for folder, names in _UPLOAD_NAMES:
        regex = f"^/{folder}/(?<mipc_umac>[0-9A-Fa-f]{{12}})-{names}$"
        out.append(f'    location ~ "{regex}" {{')
        if folder == "overrides" and not overrides:
            out += [
                "        # Overrides are switched off for this site (serving.overrides: false).",
                "        if ($request_method !~ ^(?:GET|HEAD)$) {",
                "            return 403;",
                "        }",
                "        return 404;",
                "    }",
            ]
            continue
        out += [
            "        if ($mipc_phone = 0) {",
            "            return 403;",
            "        }",
            f'        root "{uploads}";',
            "        dav_methods PUT;",
            "        create_full_put_path on;",
            "        dav_access user:rw group:r;",
            f"        client_max_body_size {max_body};",
            "        # Same file system as the uploads: PUT renames the temporary file into place.",
            f'        client_body_temp_path "{uploads}/.tmp";',
            "        limit_except GET PUT {",
            "            deny all;",
            "        }",
            "    }",
        ]
    return out


def _read_locations() -> list[str]:
    """The read-only locations: MAC-named files in any case, then every other file."""
    mac_regex = (
        "^(?<mipc_dir>/(?:[^/]+/)*)"
        + "".join(f"(?<{h}>[0-9A-Fa-f])" for h in _HEXES)
        + "(?<mipc_rest>(?:[^/0-9A-Fa-f][^/]*)?)$"
    )
    lowered = "$mipc_dir" + "".join(f"${low}" for low in _LOWS) + "$mipc_rest"
    return [
        "",
        "    # MAC-named files, any case: the file as asked, else its lower-case MAC name.",
        f'    location ~ "{mac_regex}" {{',
        "        limit_except GET {",
        "            deny all;",
        "        }",
        f"        try_files $uri {lowered} =404;",
        "    }",
        "",
        "    # Everything else: files only (a directory gives 404), read-only.",
        "    location / {",
        "        limit_except GET {",
        "            deny all;",
        "        }",
        "        try_files $uri =404;",
        "    }",
    ]


def render_nginx_cache(
    server_name: str,
    central_url: str,
    cache_root: str,
    listen: str,
    *,
    max_size_bytes: int = 2 * 1024**3,
    max_upload_bytes: int = 10 * 1024 * 1024,
) -> bytes:
    """Render the nginx site of a remote-site cache in front of the central provisioning server.

    GET/HEAD are cached under ``cache_root`` (200 for 5 minutes, 404 for 1 minute, revalidated
    with conditional requests, served stale while the central server is down or refreshing);
    PUT and everything else go through to ``central_url`` (``http(s)://host[:port][/]``).
    Like :func:`render_nginx` the file is included at http level.
    """
    name = _server_name(server_name)
    scheme, host_port, host_header = _central(central_url)
    cache = abs_path("cache_root", cache_root)
    lst = _listen(listen)
    max_size = _size("max_size_bytes", max_size_bytes)
    max_body = _size("max_upload_bytes", max_upload_bytes)
    out = [
        f"# {HEADER}",
        "# nginx site for a remote-site cache: include at http level (sites-enabled).",
        f"# GET/HEAD are cached from {scheme}://{host_port}/ ; uploads (PUT) pass through.",
        f'proxy_cache_path "{cache}" levels=1:2 keys_zone=mipc_phones:10m max_size={max_size}'
        " inactive=30d use_temp_path=off;",
        "",
        "upstream mipc_central {",
        f"    server {host_port};",
        "    keepalive 8;",
        "}",
        "",
        "server {",
        f"    listen {lst};",
        f"    server_name {name};",
        "    server_tokens off;",
        f"    client_max_body_size {max_body};",
        "",
        "    location ~ /\\. {",
        "        return 404;",
        "    }",
        "",
        "    location / {",
        f"        proxy_pass {scheme}://mipc_central;",
        "        proxy_http_version 1.1;",
        '        proxy_set_header Connection "";',
        f"        proxy_set_header Host {host_header};",
        *_CACHE_DIRECTIVES,
        "    }",
        "}",
    ]
    return text(out)


_CACHE_DIRECTIVES = (
    "        proxy_cache mipc_phones;",
    "        proxy_cache_valid 200 5m;",
    "        proxy_cache_valid 404 1m;",
    "        proxy_cache_revalidate on;",
    "        proxy_cache_lock on;",
    "        proxy_cache_background_update on;",
    "        proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;",
    "        add_header X-Cache-Status $upstream_cache_status always;",
)


def _central(central_url: str) -> tuple[str, str, str]:
    """The central server's scheme, ``host:port`` and the Host header to send it."""
    scheme, host, given_port = url("central_url", central_url, ("http", "https"))
    path = urlsplit(central_url).path
    if path not in ("", "/") or urlsplit(central_url).query:
        raise ValueError(f"central_url {central_url!r}: give the server only (no path or query)")
    default_port = 443 if scheme == "https" else 80
    central_port = given_port or default_port
    host_port = f"[{host}]:{central_port}" if ":" in host else f"{host}:{central_port}"
    host_header = host if central_port == default_port else host_port
    return scheme, host_port, host_header
