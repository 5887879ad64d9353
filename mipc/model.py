"""The model: frozen dataclasses built from a validated inventory, and the effective phones
that the resolve stage hands to the renderers.

Inventory entries keep their inheritable settings as a *layer*: a flat mapping from a dotted
key (``options.ring_volume``) to the value and the position that set it. Resolution stacks
layers; renderers only ever see ``EffectivePhone`` and ``Plan``.

Takes the catalog's model, firmware and time zone types; gives the types every stage passes
on. Never imports a file format (YAML, CSV, JSON, Jinja) nor any stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mipc.catalog.models import Firmware, Model
from mipc.catalog.timezones import TimeZone
from mipc.diagnostics import Position
from mipc.frozen import quick_init

EMPTY: Mapping[str, Any] = MappingProxyType({})


@quick_init
@dataclass(frozen=True, slots=True)
class Setting:
    """One leaf of a settings layer: its value and where it was written."""

    value: Any
    layer: str
    position: Position | None


Layer = Mapping[str, Setting]


@dataclass(frozen=True)
class SecretRef:
    """A secret named in the inventory, read at build time."""

    env: str | None = None
    file: str | None = None

    def describe(self) -> str:
        """How messages name it: ``env:NAME`` or ``file:path``."""
        return f"env:{self.env}" if self.env else f"file:{self.file}"


@dataclass(frozen=True)
class Secret:
    """A secret's value; its repr never shows the value."""

    value: str = field(repr=False)
    source: str

    def __str__(self) -> str:
        return "<redacted>"


@dataclass(frozen=True)
class Secrets:
    """The secrets an inventory names, read when it was loaded: values, or why not."""

    values: Mapping[SecretRef, str] = field(default_factory=lambda: MappingProxyType({}))
    problems: Mapping[SecretRef, str] = field(default_factory=lambda: MappingProxyType({}))


# --- the inventory, as validated -------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A CIC server of the site: its name and address."""

    name: str
    address: str


@dataclass(frozen=True)
class Site:
    """The site: its domain, where phones are provisioned from, its CIC servers."""

    domain: str
    provisioning_url: str
    servers: tuple[Server, ...]
    provisioning_address: str
    tftp_server: str
    voicemail_number: str | None
    dns_servers: tuple[str, ...] | None = None  # option 6; None: the servers' addresses
    zone_serial: int | None = None
    vlan_option_encoding: str = "string"  # option 132: string, uint16 or uint32
    time_server_option: int = 42  # the time servers' DHCP option: 42 (NTP) or 4


@dataclass(frozen=True)
class ServingTls:
    """``serving.tls``: the site's certificate chain (read at build, public), the path of its
    private key on the web server (never read by mipc), and the CA bundle that phones'
    client certificates must chain to (``access: certificate``)."""

    certificate: SecretRef
    key_path: str
    client_ca: SecretRef | None = None


@dataclass(frozen=True)
class Serving:
    """How the nginx site serves the release and takes uploads (the ``serving:`` section)."""

    overrides: bool = True
    max_upload_bytes: int = 10 * 1024 * 1024
    nginx_user: str = "www-data"
    nginx_group: str | None = None  # None: the group named like nginx_user
    access: str = "open"  # open | networks | basic | phone | certificate
    user: str | None = None
    password: SecretRef | None = None  # basic: the shared password; phone: the site secret
    staging: tuple[str, ...] = ()  # CIDRs answered without credentials (access: phone)
    tls: ServingTls | None = None
    # Where the section is, for messages; not part of what it means (nor of the render epoch).
    position: Position | None = field(default=None, repr=False, compare=False)
    # Whether the inventory names ``access`` (an open site chosen, not defaulted); for messages.
    access_chosen: bool = field(default=False, repr=False, compare=False)

    def secrets(self) -> tuple[SecretRef, ...]:
        """The secrets (and files read as secrets) the section names."""
        refs = [self.password]
        if self.tls is not None:
            refs += [self.tls.certificate, self.tls.client_ca]
        return tuple(ref for ref in refs if ref is not None)

    @property
    def group(self) -> str:
        """The group the files holding secrets are given (nginx reads them as it)."""
        return self.nginx_group or self.nginx_user


@dataclass(frozen=True)
class Line:
    """A CIC line phones register with: its transport and port."""

    name: str
    transport: str
    port: int
    position: Position | None


@dataclass(frozen=True)
class ManagedProxy:
    """A managed proxy: its address, port, transport and the location it serves."""

    name: str
    address: str
    port: int
    transport: str
    location: str | None
    position: Position | None


@dataclass(frozen=True)
class GroupEntry:
    """One registration group entry as written: kind is line, manual, managed_proxy or dns_srv."""

    kind: str
    ref: str | None = None  # line or managed proxy name
    address: str | None = None
    port: int | None = None
    transport: str = "udp"
    position: Position | None = None


@dataclass(frozen=True)
class RegistrationGroup:
    """A registration group: its entries in order; ``external`` for external registrations."""

    name: str
    external: bool
    entries: tuple[GroupEntry, ...]
    position: Position | None


@dataclass(frozen=True)
class Location:
    """A location: its parent and its settings layer."""

    name: str
    parent: str | None
    layer: Layer
    position: Position | None
    networks: tuple[str, ...] = ()  # IPv4 CIDRs of the location's phones: its DHCP scopes, and
    # the nginx allow-list (serving.access: networks)
    dhcp_ranges: tuple[str, ...] = ()  # "FIRST-LAST" pools inside those networks
    provision_proxy: tuple[str, int] | None = None  # (host or address, port)


@dataclass(frozen=True)
class Template:
    """A phone template: the template it extends and its settings layer."""

    name: str
    extends: str | None
    layer: Layer  # includes type, manufacturer, model
    position: Position | None


@quick_init
@dataclass(frozen=True, slots=True)
class AppearanceSpec:
    """A station appearance as written (kind: private, shared or external)."""

    kind: str
    extension: str | None = None
    label: str | None = None
    display_name: str | None = None
    station: str | None = None
    identification_address: str | None = None
    auth_user: str | None = None
    auth_password: SecretRef | None = None
    sharable: bool = False
    line_keys: int = 1
    shared: str | None = None
    registration_group: str | None = None
    position: Position | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class PhoneSpec:
    """A managed IP phone as written in YAML or in a CSV phone list."""

    name: str
    template: str | None
    location: str | None
    address: str | None
    appearances: tuple[AppearanceSpec, ...]
    layer: Layer  # the phone's own settings (includes type/manufacturer/model if given)
    position: Position | None
    origin: str = "yaml"  # "yaml" or "csv"
    address_position: Position | None = None

    @property
    def origin_layer(self) -> str:
        """The name of the phone's own layer: its YAML entry or its CSV row."""
        return "phone" if self.origin == "yaml" else "csv"


@dataclass(frozen=True)
class Inventory:
    """The whole validated inventory, assembled: its entries by name and its phones."""

    root: str  # folder of the inventory (custom_files/, firmware store, secrets files)
    site: Site
    lines: Mapping[str, Line]
    managed_proxies: Mapping[str, ManagedProxy]
    registration_groups: Mapping[str, RegistrationGroup]
    locations: Mapping[str, Location]
    templates: Mapping[str, Template]
    defaults: Layer
    phones: tuple[PhoneSpec, ...]
    firmware_store: str | None
    firmware_pins: Mapping[str, str]
    digest: str  # sha256 of the inventory's sources
    firmware_pin_positions: Mapping[str, Position | None] = field(
        default_factory=lambda: MappingProxyType({})
    )
    secrets: Secrets = field(default_factory=Secrets)  # values read by the load step
    files: InventoryFiles = field(default_factory=lambda: InventoryFiles())  # read at load
    serving: Serving = field(default_factory=Serving)


# --- what the renderers receive ---------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """One server a phone registers with: an expanded registration group entry."""

    entry: int  # 1-based index of the group entry it came from
    kind: str  # line | manual | managed_proxy | dns_srv
    address: str  # host or IP; for dns_srv, the domain looked up
    port: int | None  # None for dns_srv (the SRV record gives it)
    transport: str  # udp | tcp | tls


@quick_init
@dataclass(frozen=True, slots=True)
class Appearance:
    """A station appearance ready to render: line key order, identity and registration."""

    index: int  # 1-based, in key order
    kind: str  # private | shared | external
    station: str
    extension: str
    label: str
    display_name: str
    user: str  # SIP user part the line registers as
    auth_user: str | None
    auth_password: Secret | None
    line_keys: int
    calls_per_line_key: int
    registration_group: str  # the group this line registers with
    registrations: tuple[Registration, ...]


@dataclass(frozen=True)
class TimeSettings:
    """A phone's time zone rule and time servers; ``overrides_dhcp`` when they win over DHCP's."""

    zone: TimeZone
    sntp_servers: tuple[str, ...]
    overrides_dhcp: bool


@dataclass(frozen=True)
class Qos:
    """A phone's DSCP values for media and signalling."""

    rtp_dscp: int
    sip_dscp: int

    @property
    def rtp_tos(self) -> int:
        """The media DSCP as a TOS byte."""
        return self.rtp_dscp << 2

    @property
    def sip_tos(self) -> int:
        """The signalling DSCP as a TOS byte."""
        return self.sip_dscp << 2


@quick_init
@dataclass(frozen=True, slots=True)
class EffectivePhone:
    """Everything a renderer needs about one phone, computed once by the resolve stage."""

    name: str
    model: Model
    type: str  # workstation | stand-alone
    mac: str | None  # 12 lower-case hex digits; None for soft phones or unknown addresses
    computer_name: str | None  # SIP Soft Phone full computer name
    template: str | None
    location: str
    registration_group: str
    registrations: tuple[Registration, ...]  # the main group, expanded in order
    secure: bool  # a TLS registration is used
    audio_protocol: str  # rtp | srtp
    firmware: Firmware | None
    language: str
    time: TimeSettings
    qos: Qos
    appearances: tuple[Appearance, ...]
    options: Mapping[str, Any]  # effective options, nested as in the schema
    extra: Mapping[str, Any]
    config_files: tuple[str, ...]
    admin_password: Secret | None
    settings: Mapping[str, Setting]  # every effective leaf with its layer (for explain)
    digest: str  # sha256 of the effective settings (manifest, incremental builds, diff)
    profile: str = ""  # digest shared by every phone of one model/location/template/overrides

    @property
    def family(self) -> str:
        """The model's family (polycom, iss, audiocodes, softphone)."""
        return self.model.family

    @property
    def address(self) -> str | None:
        """The MAC, or the SIP Soft Phone's computer name; None while the phone waits."""
        return self.mac or self.computer_name

    @property
    def waiting(self) -> bool:
        """A managed phone without an address yet: checked and explained, but given no
        files until it has one (as CIC keeps a managed IP phone whose MAC is not known)."""
        return self.address is None


def waiting_phones(phones: Iterable[EffectivePhone]) -> int:
    """How many of ``phones`` wait for an address."""
    return sum(1 for p in phones if p.waiting)


@dataclass(frozen=True)
class Plan:
    """The whole resolved inventory: the input of render."""

    inventory: Inventory
    phones: tuple[EffectivePhone, ...]
    #: Only for a plan of some of an inventory's phones (an incremental compile): the
    #: registration groups whose phones, all of them, see more than one set of servers.
    varied_groups: frozenset[str] | None = None


def chain(start: str | None, parent_of: Mapping[str, str | None]) -> list[str]:
    """start, its parent, its grandparent ... (nearest first), stopping at an unknown name or
    at a cycle (cycles are reported by the rules)."""
    out: list[str] = []
    node = start
    while node is not None and node in parent_of and node not in out:
        out.append(node)
        node = parent_of[node]
    return out


@dataclass(frozen=True)
class InventoryFiles:
    """The files next to an inventory that the renderers use, read once by the load step
    (:func:`mipc.inventory.files.gather_files`); resolve and render read only through this.

    ``contents`` holds the bytes of every file under ``custom_files/`` and ``certs/``, by POSIX
    path relative to the inventory (``custom_files/Genesys/tones.cfg``); ``problems`` why a
    file there could not be read; ``firmware_files`` every file of the firmware store, by POSIX
    path relative to the store (``audiocodes/2.2.16.643/420hd.img``), mapped to the absolute,
    resolved path a release links. Empty when an inventory is built by hand.
    """

    #: Not in the repr: ``certs/`` may hold a private key.
    contents: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    problems: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    firmware_files: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def exists(self, rel: str) -> bool:
        """Whether the inventory has the file ``rel`` (readable or not)."""
        return rel in self.contents or rel in self.problems

    def read(self, rel: str) -> bytes | None:
        """The bytes of ``rel``; None when there is no such file; OSError (saying why) when it
        could not be read."""
        problem = self.problems.get(rel)
        if problem is not None:
            raise OSError(problem)
        return self.contents.get(rel)

    def read_text(self, rel: str, encoding: str = "utf-8") -> str | None:
        """The text of ``rel`` as :meth:`pathlib.Path.read_text` gives it (line ends made LF);
        None when there is no such file."""
        data = self.read(rel)
        if data is None:
            return None
        return data.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")

    def firmware(self, rel: str) -> str | None:
        """The absolute path of the firmware store's file ``rel``, to link; None if absent."""
        return self.firmware_files.get(rel)
