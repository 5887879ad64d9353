"""The ``network/`` files of a plan, as every build path writes them.

Composes the renderers' knowledge of each phone's own files (which ``serving.access: phone``
lets only that phone read) with :func:`mipc.network.plan.network_files_of`; the incremental
build gives the facts and owners it kept of the phones it did not compile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mipc.model import EffectivePhone, Inventory, Plan
from mipc.network.facts import PhoneFacts, facts_of
from mipc.network.plan import DEFAULT_SERVER_ROOT, DhcpMemo, network_files_of
from mipc.network.serials import PriorZones
from mipc.render.stage import phone_owners
from mipc.resolve.credentials import phone_credentials

__all__ = ["SiteInputs", "provisioning_credentials", "site_files", "site_inputs"]


@dataclass(frozen=True)
class SiteInputs:
    """What the network files take from the phones: their facts, in name order, and (with
    ``serving.access`` phone or certificate) each phone's own files (stems under ``www/``)
    with the user that may read them; else None."""

    inventory: Inventory
    facts: Sequence[PhoneFacts]
    owners: Mapping[str, str] | None

    def files(
        self,
        server_root: str = DEFAULT_SERVER_ROOT,
        prior: PriorZones | None = None,
        dhcp: DhcpMemo | None = None,
    ) -> dict[str, bytes]:
        """``network/`` (DHCP, DNS, the nginx sites, htpasswd), the zones' serials following
        ``prior`` (the zones of OUT's releases), the DHCP files taken from ``dhcp`` if they
        are the same; raises ``ValueError`` on a value that cannot be written safely."""
        return network_files_of(self.inventory, self.facts, server_root, self.owners, prior, dhcp)


def per_phone(inventory: Inventory) -> bool:
    """Whether the nginx site lets each phone read only its own files."""
    return inventory.serving.access in ("phone", "certificate")


def site_inputs(plan: Plan) -> SiteInputs:
    """The :class:`SiteInputs` of ``plan``."""
    owners = phone_owners(plan) if per_phone(plan.inventory) else None
    return SiteInputs(plan.inventory, facts_of(plan.phones), owners)


def site_files(
    plan: Plan, server_root: str = DEFAULT_SERVER_ROOT, prior: PriorZones | None = None
) -> dict[str, bytes]:
    """``network/`` of ``plan`` (see :meth:`SiteInputs.files`)."""
    return site_inputs(plan).files(server_root, prior)


def provisioning_credentials(inventory: Inventory, phone: EffectivePhone) -> tuple[str, str] | None:
    """The user and password ``phone`` presents to the site (``serving.access`` basic or
    phone), for ``mipc explain``; None when it presents none."""
    return phone_credentials(inventory, phone)
