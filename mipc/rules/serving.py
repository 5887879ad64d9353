"""Rules on the ``serving:`` section: an access mode has what it needs, and every phone can
present the credentials it asks for.

Takes the assembled inventory (and the effective phones, the catalog); gives diagnostics.
Never imports resolve, render or release.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from mipc.catalog.models import Catalog
from mipc.diagnostics import Diagnostics
from mipc.model import EffectivePhone, Inventory

__all__ = ["check_serving", "check_serving_phones"]


def check_serving(inv: Inventory, diags: Diagnostics) -> None:
    """``serving.access`` has what it needs: credentials for basic, the site secret for
    phone, networks for networks; staging networks only with phone."""
    serving = inv.serving
    if urlsplit(inv.site.provisioning_url).scheme not in ("http", "https"):
        return
    if serving.access == "basic" and (serving.user is None or serving.password is None):
        diags.error(
            "serving-credentials",
            "serving.access is basic: give serving.user and serving.password",
            path="serving",
        )
    if serving.access == "phone" and serving.password is None:
        diags.error(
            "serving-credentials",
            "serving.access is phone: give serving.password, the site secret every phone's "
            "password is derived from ({env: MIPC_...} or {file: ...})",
            path="serving",
        )
    if serving.access == "networks" and not any(loc.networks for loc in inv.locations.values()):
        diags.error(
            "serving-networks",
            "serving.access is networks but no location names its networks: add "
            "networks: [CIDR, ...] to the locations",
            path="serving",
        )
    if serving.staging and serving.access != "phone":
        diags.warning(
            "serving-staging",
            f"serving.staging is used only with access: phone (this site is "
            f"{serving.access}); remove it or choose access: phone",
            path="serving",
        )


def check_serving_phones(
    phones: Iterable[EffectivePhone], inv: Inventory, catalog: Catalog, diags: Diagnostics
) -> None:
    """With credentials, a family whose files cannot carry them: one warning per family,
    naming its phones (they answer 401 until their credentials are set by hand)."""
    if inv.serving.access not in ("basic", "phone"):
        return
    left: dict[str, list[str]] = {}
    for phone in phones:
        facts = catalog.families.get(phone.family)
        if facts is not None and not facts.provisioning_credentials and not phone.waiting:
            left.setdefault(phone.family, []).append(phone.name)
    for family, names in sorted(left.items()):
        shown = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
        count = f"{len(names)} phone{'s' if len(names) > 1 else ''}"
        diags.warning(
            "serving-credentials-family",
            f"serving.access is {inv.serving.access}: mipc writes no provisioning credentials "
            f"into {family} files ({count}: {shown}); set each phone's user and password on "
            "the phone (mipc explain PHONE --show-secrets shows them), or it answers 401",
            path="serving",
        )
