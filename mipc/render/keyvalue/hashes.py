"""Password hashes a key=value family's data asks for (``hashes:`` in its keys.yaml).

Takes a secret and the scheme's name; gives the text the phone's file holds. ``md5-crypt`` is
the ``$1$<salt>$<hash>`` form of FreeBSD's MD5-based crypt(3), which AudioCodes 400HD phones
keep in ``system/password`` (their own configuration exports hold it). The salt is derived
from the secret, so the same inventory gives the same bytes and no random salt is drawn; the
password itself is never written. Written here with :mod:`hashlib` because the standard
library's ``crypt`` is deprecated (and gone in 3.13) and the maintained alternatives are
whole password-hashing frameworks for one function. Imports nothing of mipc.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SCHEMES", "hash_secret", "md5_crypt"]

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: The digest's bytes in the order md5-crypt encodes them, three at a time.
_GROUPS = ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5))


def _to64(value: int, count: int) -> str:
    out = []
    for _ in range(count):
        out.append(_ITOA64[value & 0x3F])
        value >>= 6
    return "".join(out)


def _initial(password: bytes, salt: bytes) -> bytes:
    """The digest md5-crypt starts its 1000 rounds from."""
    ctx = hashlib.md5(password + b"$1$" + salt)  # the phone's format, not a choice
    alternate = hashlib.md5(password + salt + password).digest()
    for left in range(len(password), 0, -16):
        ctx.update(alternate[: min(16, left)])
    bits = len(password)
    while bits:
        ctx.update(b"\0" if bits & 1 else password[:1])
        bits >>= 1
    return ctx.digest()


def md5_crypt(password: str, salt: str) -> str:
    """``$1$<salt>$<22 characters>`` for ``password`` (UTF-8) and ``salt`` (at most 8
    characters of ``./0-9A-Za-z``), as ``openssl passwd -1 -salt SALT`` prints it."""
    if not salt or len(salt) > 8 or any(c not in _ITOA64 for c in salt):
        raise ValueError("an md5-crypt salt is 1 to 8 characters of ./0-9A-Za-z")
    secret, salted = password.encode(), salt.encode()
    final = _initial(secret, salted)
    for i in range(1000):
        ctx = hashlib.md5(secret if i & 1 else final)
        if i % 3:
            ctx.update(salted)
        if i % 7:
            ctx.update(secret)
        ctx.update(final if i & 1 else secret)
        final = ctx.digest()
    text = "".join(_to64(final[a] << 16 | final[b] << 8 | final[c], 4) for a, b, c in _GROUPS)
    return f"$1${salt}${text}{_to64(final[11], 2)}"


def _derived_salt(password: str, purpose: str) -> str:
    """Eight salt characters from the secret itself (an HMAC keyed by it)."""
    digest = hmac.new(password.encode(), f"mipc {purpose}".encode(), hashlib.sha256).digest()
    return "".join(_ITOA64[b & 0x3F] for b in digest[:8])


def _md5_crypt_derived(password: str) -> str:
    return md5_crypt(password, _derived_salt(password, "md5-crypt"))


#: Scheme name (as a family's data spells it) -> the text written for a secret.
SCHEMES = {"md5-crypt": _md5_crypt_derived}


def hash_secret(scheme: str, password: str) -> str:
    """The secret as the scheme writes it; a KeyError for a scheme mipc does not know."""
    return SCHEMES[scheme](password)
