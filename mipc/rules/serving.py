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
            position=inv.serving.position,
            path="serving",
        )
    if serving.access == "phone" and serving.password is None:
        diags.error(
            "serving-credentials",
            "serving.access is phone: give serving.password, the site secret every phone's "
            "password is derived from ({env: MIPC_...} or {file: ...})",
            position=inv.serving.position,
            path="serving",
        )
    if serving.access == "networks" and not any(loc.networks for loc in inv.locations.values()):
        diags.error(
            "serving-networks",
            "serving.access is networks but no location names its networks: add "
            "networks: [CIDR, ...] to the locations",
            position=inv.serving.position,
            path="serving",
        )
    _check_tls(inv, diags)
    _unreadable_secrets(inv, diags)
    if serving.staging and serving.access != "phone":
        diags.warning(
            "serving-staging",
            f"serving.staging is used only with access: phone (this site is "
            f"{serving.access}); remove it or choose access: phone",
            position=inv.serving.position,
            path="serving",
        )


def pem_certificates(text: str) -> bool:
    """Whether ``text`` holds PEM certificates and no private key (what nginx is given as
    the site's chain or the phones' CA bundle; a key there would be published)."""
    return "-----BEGIN CERTIFICATE-----" in text and "PRIVATE KEY" not in text


def _unreadable_secrets(inv: Inventory, diags: Diagnostics) -> None:
    """A secret the ``serving:`` section names (its password, certificate chain, client CA)
    that the load step could not read, or a certificate file that holds no PEM certificate
    or a private key: said here, at the section, as the phones' secrets are at their
    settings, before anything is rendered."""
    tls = inv.serving.tls
    certificates = {tls.certificate, tls.client_ca} if tls is not None else set()
    for ref in dict.fromkeys(inv.serving.secrets()):
        problem = inv.secrets.problems.get(ref)
        if problem is not None:
            diags.error("missing-secret", f"serving: {problem}", inv.serving.position, "serving")
        elif ref in certificates and not pem_certificates(inv.secrets.values.get(ref, "")):
            diags.error(
                "serving-tls",
                f"serving.tls: {ref.describe()} must hold PEM certificates only"
                " (-----BEGIN CERTIFICATE-----) and no private key",
                inv.serving.position,
                "serving",
            )


def _check_tls(inv: Inventory, diags: Diagnostics) -> None:
    """``serving.tls`` goes with an https:// provisioning URL; certificate needs client_ca."""
    tls, https = inv.serving.tls, urlsplit(inv.site.provisioning_url).scheme == "https"
    if inv.serving.access == "certificate" and (tls is None or tls.client_ca is None):
        diags.error(
            "serving-tls",
            "serving.access is certificate: give serving.tls with certificate, key_path and "
            "client_ca (the CA bundle the phones' certificates chain to)",
            position=inv.serving.position,
            path="serving",
        )
    if tls is not None and not https:
        diags.error(
            "serving-tls",
            "serving.tls is given but site.provisioning_url is not https://: make it "
            "https://host[:port]/ or remove serving.tls",
            position=inv.serving.position,
            path="serving",
        )
    if tls is None and https:
        diags.warning(
            "serving-tls",
            "site.provisioning_url is https:// but serving.tls names no certificate: the "
            "nginx site listens without TLS; add serving.tls (certificate, key_path)",
            position=inv.serving.position,
            path="serving",
        )
    if tls is not None and https:
        diags.warning(
            "serving-tls-trust",
            "serving.tls: mipc writes no provisioning CA into the phones' files (no family's "
            "parameter for it is verified): use a certificate from a CA the phones already "
            "trust, or load its CA on each phone by hand",
            position=inv.serving.position,
            path="serving",
        )


def check_serving_phones(
    phones: Iterable[EffectivePhone], inv: Inventory, catalog: Catalog, diags: Diagnostics
) -> None:
    """With credentials, a family whose files cannot carry them: one warning per family,
    naming its phones (they answer 401 until their credentials are set by hand)."""
    access = inv.serving.access
    if access == "open":
        _open_site(phones, inv, diags)
    if access not in ("basic", "phone", "certificate"):
        return
    left: dict[str, list[str]] = {}
    for phone in phones:
        facts = catalog.families.get(phone.family)
        if facts is None or phone.waiting:
            continue
        if not (
            facts.device_certificate if access == "certificate" else facts.provisioning_credentials
        ):
            left.setdefault(phone.family, []).append(phone.name)
    for family, names in sorted(left.items()):
        if access == "certificate":
            diags.warning(
                "serving-certificate-family",
                f"serving.access is certificate: {family} phones carry no device certificate "
                f"mipc knows the subject of ({_count(names)}); give each one a client "
                "certificate of serving.tls.client_ca whose CN is its MAC, or it gets no answer",
                position=inv.serving.position,
                path="serving",
            )
            continue
        diags.warning(
            "serving-credentials-family",
            f"serving.access is {access}: mipc writes no provisioning credentials "
            f"into {family} files ({_count(names)}); set each phone's user and password on "
            "the phone (mipc explain PHONE --show-secrets shows them), or it answers 401",
            position=inv.serving.position,
            path="serving",
        )


def _open_site(phones: Iterable[EffectivePhone], inv: Inventory, diags: Diagnostics) -> None:
    """An ``open`` site whose phones' files hold passwords (SIP or admin): anyone who reaches
    the server reads them. One warning, counting those phones, unless the inventory chose
    ``access: open`` in so many words (a network that is itself the protection)."""
    if inv.serving.access_chosen or urlsplit(inv.site.provisioning_url).scheme not in (
        "http",
        "https",
    ):
        return
    holding = [
        p.name
        for p in phones
        if not p.waiting
        and (p.admin_password is not None or any(a.auth_password for a in p.appearances))
    ]
    if holding:
        diags.warning(
            "open-site-passwords",
            "serving.access is open: anyone who reaches the server reads the passwords (SIP "
            f"or admin) in the files of {_count(holding)}; choose serving.access networks, "
            "basic, phone or certificate, or write access: open to accept it (docs/serving.md)",
            position=inv.serving.position,
            path="serving",
        )


def _count(names: list[str]) -> str:
    """``3 phones: A, B, C`` (the first three names, sorted)."""
    shown = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
    return f"{len(names)} phone{'s' if len(names) > 1 else ''}: {shown}"
