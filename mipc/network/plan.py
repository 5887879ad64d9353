"""The network plan of an inventory, and the ``network/`` files of a release.

Takes a :class:`mipc.model.Plan`; gives the :class:`mipc.network.checks.NetworkPlan` the
DHCP, DNS and nginx writers take, and those files (name → bytes). Never imports render or
release.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from mipc.catalog.timezones import lookup
from mipc.model import Plan
from mipc.network.checks import NetPhone, NetServer, NetworkPlan, check
from mipc.network.dhcp import render_dhcpd, render_dnsmasq, render_kea
from mipc.network.dns import render_named_snippet, render_zone
from mipc.network.nginx import Serving, htpasswd, render_nginx
from mipc.resolve.resolver import DEFAULT_LOCATION

#: Where OUT lives on the web server unless ``--server-root`` says otherwise.
DEFAULT_SERVER_ROOT = "/srv/mipc"


def network_plan(plan: Plan) -> NetworkPlan:
    """The :class:`mipc.network.checks.NetworkPlan` of an inventory (DHCP, DNS)."""
    inv = plan.inventory
    site = inv.site

    def port(transport: str) -> int:
        ports = [ln.port for _, ln in sorted(inv.lines.items()) if ln.transport == transport]
        return ports[0] if ports else 0

    phones = sorted(plan.phones, key=lambda p: p.name)
    home = [p for p in phones if p.location == DEFAULT_LOCATION] or phones
    offset, time_servers = 0, tuple(s.address for s in site.servers)
    if home:
        offset = home[0].time.zone.std_offset
        time_servers = home[0].time.sntp_servers
    else:
        loc = inv.locations.get(DEFAULT_LOCATION)
        zone = loc.layer.get("time_zone") if loc is not None else None
        if zone is not None:
            offset = lookup(str(zone.value)).std_offset
    return NetworkPlan(
        domain=site.domain,
        provisioning_url=site.provisioning_url,
        servers=tuple(NetServer(s.name, s.address) for s in site.servers),
        sip_port_udp=port("udp"),
        sip_port_tcp=port("tcp"),
        sip_port_tls=port("tls"),
        time_offset=offset,
        time_servers=time_servers,
        tftp_server=site.tftp_server,
        provisioning_host_address=site.provisioning_address,
        phones=tuple(
            NetPhone(
                name=p.name,
                mac=p.mac,
                boot_file=p.model.firmware_image,
                family=p.family,
            )
            for p in phones
            if p.mac is not None
        ),
        default_boot_file=None,
    )


def render_network(plan: NetworkPlan) -> dict[str, bytes]:
    """Render the DHCP and DNS files of ``plan``.

    Keys: ``dhcpd.conf``, ``kea-dhcp4.json``, ``dnsmasq.conf``, ``<domain>.zone`` and
    ``named.conf.snippet``.  Raises :class:`ValueError` on an invalid or unsafe value.
    """
    c = check(plan)
    return {
        "dhcpd.conf": render_dhcpd(c),
        "kea-dhcp4.json": render_kea(c),
        "dnsmasq.conf": render_dnsmasq(c),
        f"{c.domain}.zone": render_zone(c),
        "named.conf.snippet": render_named_snippet(c),
    }


def network_files(plan: Plan, server_root: str = DEFAULT_SERVER_ROOT) -> dict[str, bytes]:
    """``network/``: DHCP, DNS and the nginx site serving ``server_root/current/www``.

    ``server_root`` is where OUT lives on the web server (not necessarily where it was built),
    so the release does not depend on the machine that built it. Raises ``ValueError`` on a
    value that cannot be written safely.
    """
    files = dict(render_network(network_plan(plan)))
    url = urlsplit(plan.inventory.site.provisioning_url)
    if url.scheme in ("http", "https"):
        root = server_root.rstrip("/") or "/"
        default_port = 443 if url.scheme == "https" else 80
        serving = _serving(plan)
        if plan.inventory.serving.access == "basic":
            files["htpasswd"] = htpasswd(*basic_credentials(plan))
            serving = replace(serving, htpasswd=f"{root}/current/network/htpasswd")
        files["nginx-site.conf"] = render_nginx(
            url.hostname or "_",
            f"{root}/current/www",
            f"{root}/uploads",
            str(url.port or default_port),
            serving,
        )
    return dict(sorted(files.items()))


def _serving(plan: Plan) -> Serving:
    """What the nginx site lets the plan's phones read and upload."""
    inv = plan.inventory
    allow: tuple[str, ...] = ()
    if inv.serving.access == "networks":
        allow = tuple(sorted({n for loc in inv.locations.values() for n in loc.networks}))
        if not allow:
            raise ValueError(
                "serving.access is networks but no location names its networks: add "
                "networks: [CIDR, ...] to the locations"
            )
    return Serving(
        macs=tuple(sorted({p.mac for p in plan.phones if p.mac is not None})),
        overrides=inv.serving.overrides,
        max_upload_bytes=inv.serving.max_upload_bytes,
        allow=allow,
    )


def basic_credentials(plan: Plan) -> tuple[str, str]:
    """The user and password every phone presents (``serving.access: basic``)."""
    serving = plan.inventory.serving
    secrets = plan.inventory.secrets
    if serving.user is None or serving.password is None:
        raise ValueError("serving.access is basic: give serving.user and serving.password")
    password = secrets.values.get(serving.password)
    if password is None:
        problem = secrets.problems.get(serving.password, "it cannot be read")
        raise ValueError(f"serving.password: {problem}")
    return serving.user, password
