"""Rules on the ``serving:`` section: an access mode has what it needs.

Takes the assembled inventory; gives diagnostics. Never imports resolve, render or release.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mipc.diagnostics import Diagnostics
from mipc.model import Inventory

__all__ = ["check_serving"]


def check_serving(inv: Inventory, diags: Diagnostics) -> None:
    """``serving.access`` has what it needs: credentials for basic, networks for networks."""
    serving = inv.serving
    if urlsplit(inv.site.provisioning_url).scheme not in ("http", "https"):
        return
    if serving.access == "basic" and (serving.user is None or serving.password is None):
        diags.error(
            "serving-credentials",
            "serving.access is basic: give serving.user and serving.password",
            path="serving",
        )
    if serving.access == "networks" and not any(loc.networks for loc in inv.locations.values()):
        diags.error(
            "serving-networks",
            "serving.access is networks but no location names its networks: add "
            "networks: [CIDR, ...] to the locations",
            path="serving",
        )
