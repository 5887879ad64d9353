"""The network plan of an inventory, and the ``network/`` files of a release.

Takes the inventory and its phones' :class:`~mipc.network.facts.PhoneFacts` (or a
:class:`mipc.model.Plan`, whose phones' facts are made); gives the
:class:`mipc.network.checks.NetworkPlan` the DHCP, DNS and nginx writers take, and those files
(name → bytes). Never imports render or release.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from mipc import __version__
from mipc.model import Inventory, Plan
from mipc.network.checks import Checked, NetPhone, NetServer, NetworkPlan, check, host_or_ip
from mipc.network.dhcp import render_dhcpd, render_dnsmasq, render_kea
from mipc.network.dns import render_named_snippet, render_reverse_zones, render_zone
from mipc.network.facts import PhoneFacts, facts_of
from mipc.network.nginx import Serving, htpasswd, render_nginx, render_nginx_cache
from mipc.network.scopes import location_scopes, location_time, voice_vlan
from mipc.network.serials import PriorZones
from mipc.network.sip import sip_use
from mipc.resolve.credentials import user_credentials
from mipc.resolve.resolver import DEFAULT_LOCATION
from mipc.rules.serving import pem_certificates

#: Where OUT lives on the web server unless ``--server-root`` says otherwise.
DEFAULT_SERVER_ROOT = "/srv/mipc"

#: Where a provision proxy's nginx keeps its cache.
PROXY_CACHE_ROOT = "/var/cache/nginx/mipc"


def network_plan(plan: Plan) -> NetworkPlan:
    """The :class:`mipc.network.checks.NetworkPlan` of a plan (DHCP, DNS)."""
    return network_plan_of(plan.inventory, facts_of(plan.phones))


def network_plan_of(inv: Inventory, phones: Sequence[PhoneFacts]) -> NetworkPlan:
    """The :class:`mipc.network.checks.NetworkPlan` of an inventory whose phones have the
    facts ``phones`` (in name order)."""
    site = inv.site
    sip = sip_use(inv, phones)
    home = [p for p in phones if p.location == DEFAULT_LOCATION] or phones
    offset, time_servers = location_time(inv, home[0].location if home else DEFAULT_LOCATION, home)
    dns = site.dns_servers
    if dns is None:
        dns = tuple(s.address for s in site.servers if ":" not in s.address)
    return NetworkPlan(
        domain=site.domain,
        provisioning_url=site.provisioning_url,
        servers=tuple(NetServer(s.name, s.address) for s in site.servers),
        sip_port_udp=sip.port("udp"),
        sip_port_tcp=sip.port("tcp"),
        sip_port_tls=sip.port("tls"),
        sip_preference=sip.chosen,
        time_offset=offset,
        time_servers=time_servers,
        tftp_server=site.tftp_server,
        # The guide: one provisioning A record per server of a switchover pair.
        provisioning_host_address=(
            tuple(s.address for s in site.servers)
            if site.provisioning_address == site.servers[0].address
            else site.provisioning_address
        ),
        phones=tuple(
            NetPhone(p.name, p.mac, p.boot_file, p.family) for p in phones if p.mac is not None
        ),
        default_boot_file=None,
        dns_servers=dns,
        voice_vlan=voice_vlan(phones),
        zone_serial=site.zone_serial,
        scopes=location_scopes(inv, phones),
        vlan_encoding=site.vlan_option_encoding,
        time_server_option=site.time_server_option,
    )


#: The DHCP files, made from the checked network plan alone (:class:`DhcpMemo`).
DHCP_FILES = ("dhcpd.conf", "kea-dhcp4.json", "dnsmasq.conf")


@dataclass
class DhcpMemo:
    """The DHCP files of the last release, to take again while the network plan checks the
    same: they are made from the checked plan alone, and at 100k phones making them is half
    a second of a one-phone build. ``before``: the digest of the plan they were made from
    (none: make them); ``read``: their bytes by name, or None when they cannot be read.
    :func:`render_network` sets ``key`` to the digest of the plan it was given."""

    before: str = ""
    read: Callable[[], Mapping[str, bytes] | None] = lambda: None
    key: str = ""

    def files(self, checked: Checked) -> Mapping[str, bytes]:
        """The DHCP files of ``checked``: the last release's when it checks the same."""
        self.key = hashlib.sha256(f"{__version__}\0{checked!r}".encode()).hexdigest()
        if self.before and self.before == self.key:
            known = self.read()
            if known is not None and all(name in known for name in DHCP_FILES):
                return {name: known[name] for name in DHCP_FILES}
        return _dhcp_files(checked)


def _dhcp_files(checked: Checked) -> dict[str, bytes]:
    """The DHCP files (:data:`DHCP_FILES`) of a checked network plan."""
    return {
        "dhcpd.conf": render_dhcpd(checked),
        "kea-dhcp4.json": render_kea(checked),
        "dnsmasq.conf": render_dnsmasq(checked),
    }


def render_network(
    plan: NetworkPlan, prior: PriorZones | None = None, dhcp: DhcpMemo | None = None
) -> dict[str, bytes]:
    """Render the DHCP and DNS files of ``plan``; the zones' serials follow ``prior`` (the
    zones of OUT's releases, :mod:`mipc.network.serials`; none: 1); ``dhcp``: the last
    release's DHCP files, taken if the plan checks the same.

    Keys: ``dhcpd.conf``, ``kea-dhcp4.json``, ``dnsmasq.conf``, ``<domain>.zone``,
    ``<c>.<b>.<a>.in-addr.arpa.zone`` (one per /24 of the servers) and ``named.conf.snippet``.
    Raises :class:`ValueError` on an invalid or unsafe value.
    """
    c = check(plan)
    return {
        **(_dhcp_files(c) if dhcp is None else dhcp.files(c)),
        f"{c.domain}.zone": render_zone(c, prior),
        "named.conf.snippet": render_named_snippet(c),
        **render_reverse_zones(c, prior),
    }


def network_files(
    plan: Plan,
    server_root: str = DEFAULT_SERVER_ROOT,
    owners: Mapping[str, str] | None = None,
    prior: PriorZones | None = None,
) -> dict[str, bytes]:
    """``network/`` of ``plan``: :func:`network_files_of` its inventory and its phones'
    facts."""
    return network_files_of(plan.inventory, facts_of(plan.phones), server_root, owners, prior)


def network_files_of(
    inv: Inventory,
    phones: Sequence[PhoneFacts],
    server_root: str = DEFAULT_SERVER_ROOT,
    owners: Mapping[str, str] | None = None,
    prior: PriorZones | None = None,
    dhcp: DhcpMemo | None = None,
) -> dict[str, bytes]:
    """``network/``: DHCP, DNS and the nginx site serving ``server_root/current/www``, for
    the inventory ``inv`` whose phones have the facts ``phones`` (in name order).

    ``server_root`` is where OUT lives on the web server (not necessarily where it was built),
    so the release does not depend on the machine that built it. ``owners``: each phone's own
    files (path under ``www/`` → the user it presents), which ``serving.access: phone`` lets
    only that phone read; ``prior`` the zones of the releases in OUT, which the zones' serials
    follow; ``dhcp`` the last release's DHCP files (:class:`DhcpMemo`). Raises
    ``ValueError`` on a value that cannot be written safely.
    """
    files = dict(render_network(network_plan_of(inv, phones), prior, dhcp))
    url = urlsplit(inv.site.provisioning_url)
    if url.scheme in ("http", "https"):
        root = server_root.rstrip("/") or "/"
        default_port = 443 if url.scheme == "https" else 80
        serving = _serving(inv, phones)
        access = inv.serving.access
        if access in ("basic", "phone"):
            files["htpasswd"] = b"".join(htpasswd(*c) for c in site_credentials(inv, phones))
            serving = replace(serving, htpasswd=f"{root}/current/network/htpasswd")
        if access in ("phone", "certificate"):
            owned = tuple(sorted((owners or {}).items()))
            staging = inv.serving.staging if access == "phone" else ()
            serving = replace(serving, per_phone=True, owners=owned, staging=staging)
        pem = tls_files(inv)
        files.update({f"tls/{name}": data for name, data in pem.items()})
        tls = inv.serving.tls
        if tls is not None:
            serving = replace(
                serving,
                certificate=f"{root}/current/network/tls/site.crt",
                certificate_key=tls.key_path,
                client_ca=f"{root}/current/network/tls/client-ca.pem" if len(pem) > 1 else None,
            )
        files["nginx-site.conf"] = render_nginx(
            url.hostname or "_",
            f"{root}/current/www",
            f"{root}/uploads",
            str(url.port or default_port),
            serving,
        )
        files.update(proxy_sites(inv))
    return dict(sorted(files.items()))


def _serving(inv: Inventory, phones: Sequence[PhoneFacts]) -> Serving:
    """What the nginx site lets the phones read and upload."""
    allow: tuple[str, ...] = ()
    if inv.serving.access == "networks":
        allow = tuple(sorted({n for loc in inv.locations.values() for n in loc.networks}))
        if not allow:
            raise ValueError(
                "serving.access is networks but no location names its networks: add "
                "networks: [CIDR, ...] to the locations"
            )
    return Serving(
        macs=tuple(sorted({p.mac for p in phones if p.mac is not None})),
        overrides=inv.serving.overrides,
        max_upload_bytes=inv.serving.max_upload_bytes,
        allow=allow,
    )


def site_credentials(inv: Inventory, phones: Sequence[PhoneFacts]) -> list[tuple[str, str]]:
    """The users and passwords of ``network/htpasswd``, sorted by user: with ``basic`` the
    one pair every phone presents, with ``phone`` each provisioned phone's own."""
    serving, secrets = inv.serving, inv.secrets
    if serving.password is None or (serving.access == "basic" and serving.user is None):
        raise ValueError(f"serving.access is {serving.access}: {_NEEDS[serving.access]}")
    if serving.password not in secrets.values:
        problem = secrets.problems.get(serving.password, "it cannot be read")
        raise ValueError(f"serving.password: {problem}")
    users = (p.user for p in phones if not p.waiting)
    pairs = {c for c in (user_credentials(inv, u) for u in users) if c is not None}
    if serving.access == "basic":  # the pair, even for a site of no phones yet
        pairs = {(str(serving.user), secrets.values[serving.password])}
    return sorted(pairs)


def tls_files(inv: Inventory) -> dict[str, bytes]:
    """``site.crt`` (the site's certificate chain) and, for ``access: certificate``,
    ``client-ca.pem`` (the CA bundle of the phones' certificates): each read at build as a
    ``{file:}`` secret and checked to hold PEM certificates. Nothing without ``serving.tls``."""
    serving, secrets = inv.serving, inv.secrets
    if serving.tls is None:
        if serving.access == "certificate":
            raise ValueError("serving.access is certificate: give serving.tls with client_ca")
        return {}
    wanted = {"site.crt": ("serving.tls.certificate", serving.tls.certificate)}
    if serving.access == "certificate":
        if serving.tls.client_ca is None:
            raise ValueError("serving.access is certificate: give serving.tls.client_ca")
        wanted["client-ca.pem"] = ("serving.tls.client_ca", serving.tls.client_ca)
    out: dict[str, bytes] = {}
    for name, (what, ref) in wanted.items():
        text = secrets.values.get(ref)
        if text is None:
            raise ValueError(f"{what}: {secrets.problems.get(ref, 'it cannot be read')}")
        if not pem_certificates(text):
            raise ValueError(
                f"{what} ({ref.describe()}): PEM certificates only (-----BEGIN CERTIFICATE-----"
                ", and no private key)"
            )
        out[name] = text.strip().replace("\r\n", "\n").encode("ascii", "replace") + b"\n"
    return out


#: What an access mode needs from the ``serving:`` section.
_NEEDS = {
    "basic": "give serving.user and serving.password",
    "phone": "give serving.password, the site secret the phones' passwords are derived from",
}


def proxy_sites(inv: Inventory) -> dict[str, bytes]:
    """``nginx-cache-<host>.conf``: the cache site of each location's provision proxy.

    The proxy caches GET/HEAD from the provisioning server (revalidating, and serving stale
    copies while it is down) and passes uploads through; one file per proxy host and port.
    """
    url = urlsplit(inv.site.provisioning_url)
    central = f"{url.scheme}://{url.netloc}/"
    proxies = {loc.provision_proxy for loc in inv.locations.values() if loc.provision_proxy}
    sites: dict[str, bytes] = {}
    for host, port in sorted(proxies):
        name = f"nginx-cache-{host_or_ip('provision_proxy', host)}"
        name += ".conf" if f"{name}.conf" not in sites else f"-{port}.conf"
        sites[name] = render_nginx_cache(host, central, PROXY_CACHE_ROOT, str(port))
    return sites
