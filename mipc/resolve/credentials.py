"""The credentials a phone presents to the provisioning server (``serving.access``).

Takes the inventory and an effective phone; gives its user and password: with ``basic`` the
site's one shared pair, with ``phone`` its own (the user its MAC, or a soft phone's computer
name; the password derived from the site secret, so no list of per-phone secrets exists).
Pure: the secret was read by the load step. Never imports render, network or release.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from mipc.model import EffectivePhone, Inventory

__all__ = ["derive_password", "phone_credentials", "phone_user", "user_credentials"]

#: Characters of a derived password (base32 of the HMAC, lower case: letters and 2-7).
PASSWORD_LENGTH = 20


def derive_password(secret: str, user: str) -> str:
    """A phone's password: base32(HMAC-SHA256(secret, ``"mipc phone " + user``)), 20
    lower-case characters (100 bits). The same secret and user give the same password; one
    phone's password tells nothing of another's, nor of the secret."""
    mac = hmac.new(secret.encode(), b"mipc phone " + user.encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode().lower()[:PASSWORD_LENGTH]


def phone_user(phone: EffectivePhone) -> str | None:
    """The user a phone presents with ``access: phone``: its MAC, else its computer name."""
    return phone.mac or phone.computer_name


def phone_credentials(inventory: Inventory, phone: EffectivePhone) -> tuple[str, str] | None:
    """The user and password ``phone`` presents, or None (an ``open``/``networks`` site, an
    unset secret, a phone with neither MAC nor computer name)."""
    return user_credentials(inventory, phone_user(phone))


def user_credentials(inventory: Inventory, user: str | None) -> tuple[str, str] | None:
    """The user and password of a phone whose :func:`phone_user` is ``user``."""
    serving = inventory.serving
    if serving.password is None or serving.access not in ("basic", "phone"):
        return None
    secret = inventory.secrets.values.get(serving.password)
    if secret is None:
        return None
    if serving.access == "basic":
        return None if serving.user is None else (serving.user, secret)
    return None if user is None else (user, derive_password(secret, user))
