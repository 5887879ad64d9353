"""The access control of the nginx site that serves a release: who may read and upload.

Takes a :class:`Serving`; gives the lines of the site that restrict it (an allow-list of
networks, HTTP basic credentials, TLS with the site's certificate and client certificates,
and the maps that keep each phone to its own files) and the ``htpasswd`` file. Never imports
render or release.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass

from mipc.artifacts import ADDRESS_PATTERN
from mipc.network.checks import hostile

__all__ = ["Serving", "abs_path", "access_lines", "access_maps", "htpasswd", "tls_lines"]

_PATH = re.compile(r"^/[A-Za-z0-9._+@=/:-]*$")


@dataclass(frozen=True)
class Serving:
    """What the site lets the phones do beyond reading the release.

    ``macs``: the phones that may upload (12 lower-case hex digits each; ``000000000000``, the
    name every phone shares, never may); ``overrides``: whether ``<mac>-phone.cfg`` and
    ``<mac>-web.cfg`` are taken (else PUT answers 403 and GET 404); ``max_upload_bytes``: the
    largest upload body; ``allow``: the only networks (CIDR) answered, when any; ``htpasswd``:
    the absolute path of the ``auth_basic_user_file`` every request must match, when set.
    ``per_phone``: each phone presents its own identity and reads only its own files,
    ``owners`` ((path, user) pairs, paths relative to the root), every MAC-named file (its
    MAC is its owner's user) and the shared files; the identity is the basic user
    (``htpasswd`` has one line per phone), or with ``client_ca`` the subject CN of the
    phone's client certificate; ``staging``: the networks (CIDR) answered without
    credentials, which then read every file. ``certificate`` and ``certificate_key``: the
    absolute paths of the site's certificate chain and key (HTTPS); ``client_ca``: of the
    CA bundle every client certificate must chain to (no certificate: no answer).
    """

    macs: tuple[str, ...] = ()
    overrides: bool = True
    max_upload_bytes: int = 10 * 1024 * 1024
    allow: tuple[str, ...] = ()
    htpasswd: str | None = None
    per_phone: bool = False
    owners: tuple[tuple[str, str], ...] = ()
    staging: tuple[str, ...] = ()
    certificate: str | None = None
    certificate_key: str | None = None
    client_ca: str | None = None


def abs_path(what: str, value: str) -> str:
    """``value``, an absolute path nginx can be given; else ``ValueError`` naming ``what``."""
    hostile(what, value)
    if not _PATH.match(value) or "/../" in value + "/" or "/./" in value + "/":
        raise ValueError(
            f"{what} {value!r}: an absolute path of letters, digits and ._+@=:- is expected"
        )
    return value.rstrip("/") or "/"


def htpasswd(user: str, password: str) -> bytes:
    """An ``auth_basic_user_file`` of one user: ``{SSHA}``, base64(sha1(password + salt) +
    salt), the salt derived from the password and user, so the same secret gives the same
    bytes (a rebuild stays byte-identical) and nothing of the password is written."""
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", user):
        raise ValueError(f"user {user!r}: 1 to 64 letters, digits and ._-")
    if not password or any(c in password for c in "\r\n\0"):
        raise ValueError(f"the password of {user}: empty, or holds a line break")
    secret = password.encode()
    salt = hmac.new(secret, b"mipc htpasswd " + user.encode(), hashlib.sha256).digest()[:8]
    digest = base64.b64encode(hashlib.sha1(secret + salt).digest() + salt).decode()
    return f"{user}:{{SSHA}}{digest}\n".encode()


def _allow(networks: tuple[str, ...]) -> list[str]:
    """``allow`` each network, then ``deny all``."""
    out: list[str] = []
    for cidr in networks:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError as exc:
            raise ValueError(f"network {cidr!r}: not an address/prefix ({exc})") from None
        out.append(f"    allow {network};")
    return [*out, "    deny all;"]


def tls_lines(serving: Serving) -> list[str]:
    """The server's TLS: the site's certificate, and the client certificates it requires."""
    if serving.certificate is None or serving.certificate_key is None:
        return []
    out = [
        "    # HTTPS with the site's certificate (serving.tls); the key stays on this server.",
        f'    ssl_certificate "{abs_path("certificate", serving.certificate)}";',
        f'    ssl_certificate_key "{abs_path("certificate key", serving.certificate_key)}";',
    ]
    if serving.client_ca is not None:
        out += [
            "    # Every phone shows a certificate of this CA bundle (serving.tls.client_ca).",
            "    ssl_verify_client on;",
            "    ssl_verify_depth 4;",
            f'    ssl_client_certificate "{abs_path("client CA", serving.client_ca)}";',
        ]
    return out


def access_lines(serving: Serving) -> list[str]:
    """The server's access control: an allow-list of networks, HTTP basic credentials, and
    with ``per_phone`` the 403 for another phone's file."""
    out: list[str] = []
    if serving.allow:
        out.append("    # Only the networks of the locations (serving.access: networks).")
        out += _allow(serving.allow)
    if serving.staging:
        out.append("    # Staging networks: answered without credentials (serving.staging).")
        out += ["    satisfy any;", *_allow(serving.staging)]
    if serving.htpasswd is not None:
        path = abs_path("htpasswd", serving.htpasswd)
        mode = "phone" if serving.per_phone else "basic"
        out += [
            f"    # Every request presents the phones' credentials (serving.access: {mode}).",
            '    auth_basic "phones";',
            f'    auth_basic_user_file "{path}";',
        ]
    if serving.per_phone:
        out += [
            "    # Another phone's file (or upload name) answers 403.",
            "    if ($mipc_foreign) {",
            "        return 403;",
            "    }",
        ]
    return out


#: A MAC-named path (not 000000000000, which every phone shares): its MAC, any case.
_MAC_NAMED = "~*^/(?:[^/]+/)*(?!000000000000)(?<mipc_omac>[0-9a-f]{12})(?:[^/0-9a-f][^/]*)?$"


def map_hash(serving: Serving) -> list[str]:
    """With ``per_phone``, the maps' hash sized for ``$mipc_owner``'s keys (each path with its
    slash); they must come before the first ``map`` of the file (which fixes them) and are
    http-level, so nginx's configuration must set them nowhere else."""
    if not serving.per_phone:
        return []
    longest = max((len(path) + 1 for path, _ in serving.owners), default=0)
    return [
        "# The maps' hash, sized for the phones' paths (http level: set it nowhere else).",
        f"map_hash_bucket_size {_power_of_two(16 + -(-(longest + 2) // 8) * 8, 64)};",
        f"map_hash_max_size {_power_of_two(2 * len(serving.owners), 2048)};",
    ]


def _power_of_two(at_least: int, floor: int) -> int:
    """The smallest power of two that is at least ``at_least`` and ``floor``."""
    size = floor
    while size < at_least:
        size *= 2
    return size


def access_maps(serving: Serving) -> list[str]:
    """With ``per_phone``: ``$mipc_owner``, the user a path belongs to ("" for a shared
    file), and ``$mipc_foreign``, 1 when a request shows another identity than the owner.

    With basic credentials a request without any is not foreign (``auth_basic`` answers
    401, or a staging network reads it); with client certificates the identity is the
    certificate's subject CN, and a certificate without a usable CN owns nothing. nginx looks
    a map's strings up without regard to case, and the last regex compares owner and
    identity without regard to case too.
    """
    if not serving.per_phone:
        return []
    entries = []
    for path, user in sorted(serving.owners):
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", user):
            raise ValueError(f"user {user!r}: 1 to 64 letters, digits and ._-")
        entries.append((abs_path("owned file", "/" + path), user))
    by_cert = serving.client_ca is not None
    lines = [
        "",
        "# A file's name without its content address (phone/<guid>.1a2b3c4d.cfg: its stem).",
        "map $uri $mipc_stem {",
        "    default $uri;",
        f'    "~^(?<mipc_s>/.+?){ADDRESS_PATTERN}(?<mipc_e>\\.[^./]*)?$" $mipc_s$mipc_e;',
        "}",
        "# Each phone's own files (by stem) and the identity that may read them.",
        "map $mipc_stem $mipc_owner {",
        '    default "";',
        *(f'    "{path}" {user};' for path, user in entries),
        f'    "{_MAC_NAMED}" $mipc_omac;',
        "}",
    ]
    if by_cert:
        lines += [
            "# The identity: the subject CN of the phone's verified client certificate.",
            "map $ssl_client_s_dn $mipc_identity {",
            '    default "";',
            '    "~(?:^|,)CN=(?<mipc_cn>[A-Za-z0-9._-]{1,64})(?:,|$)" $mipc_cn;',
            "}",
        ]
    identity = "$mipc_identity" if by_cert else "$remote_user"
    return [
        *lines,
        f'map "$mipc_owner:{identity}" $mipc_foreign {{',
        "    default 1;",
        '    "~^:" 0;',
        *(() if by_cert else ('    "~:$" 0;',)),
        '    "~*^(?<mipc_ouser>[^:]+):\\k<mipc_ouser>$" 0;',
        "}",
    ]
