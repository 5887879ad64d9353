"""The ``network/`` files of a plan, as every build path writes them.

Composes the renderers' knowledge of each phone's own files (which ``serving.access: phone``
lets only that phone read) with :func:`mipc.network.plan.network_files`.
"""

from __future__ import annotations

from mipc.model import EffectivePhone, Inventory, Plan
from mipc.network.plan import DEFAULT_SERVER_ROOT, network_files
from mipc.network.serials import PriorZones
from mipc.render.stage import phone_owners
from mipc.resolve.credentials import phone_credentials

__all__ = ["provisioning_credentials", "site_files"]


def site_files(
    plan: Plan, server_root: str = DEFAULT_SERVER_ROOT, prior: PriorZones | None = None
) -> dict[str, bytes]:
    """``network/`` (DHCP, DNS, the nginx sites, htpasswd) of ``plan``, the zones' serials
    following ``prior`` (the zones of OUT's releases); raises ``ValueError`` on a value that
    cannot be written safely."""
    per_phone = plan.inventory.serving.access in ("phone", "certificate")
    return network_files(plan, server_root, phone_owners(plan) if per_phone else None, prior)


def provisioning_credentials(inventory: Inventory, phone: EffectivePhone) -> tuple[str, str] | None:
    """The user and password ``phone`` presents to the site (``serving.access`` basic or
    phone), for ``mipc explain``; None when it presents none."""
    return phone_credentials(inventory, phone)
