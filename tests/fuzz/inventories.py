"""A hypothesis strategy of whole inventories: valid-looking ones, and mutations of them.

``inventories`` draws a site, the stations lines, registration groups (lines, DNS SRV, manual
entries, an external group), locations (a tree of them, with zones by IANA or Windows name,
networks and DHCP ranges), templates of every model of ``mipc/catalog/data/catalog.json`` (by
its display name or an alias, of a type it takes, with a firmware and language it may have),
firmware pins, and phones (MACs of their maker's prefixes or computer names, private, shared
and external appearances, passwords from ``{file: ...}`` secrets), with odd but schema-legal
strings (any printable unicode); then, sometimes, mutates the document (a value replaced by a
hostile one, a key dropped, an entry doubled). Sometimes it adds a phone list (the template
layout, UTF-8 with or without a BOM), a ``serving:`` section (any access, a group that may not
exist) and a managed proxy. It gives the files of the inventory (path → bytes).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
from typing import Any

import yaml
from hypothesis import strategies as st

from mipc.catalog.timezones import zone_names
from tests.fuzz.hostile import REPO

CATALOG = json.loads((REPO / "mipc" / "catalog" / "data" / "catalog.json").read_text())
MODELS = sorted(CATALOG["models"])
ZONES = (
    *zone_names()[::37],
    "America/New_York",
    "Europe/Dublin",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "(UTC-05:00) Eastern Time (US & Canada)",
    "UTC",
)
LINES = {
    "Stations-UDP": {"transport": "udp", "port": 8060},
    "Stations-TCP": {"transport": "tcp", "port": 8060},
    "Stations-TLS": {"transport": "tls", "port": 8061},
}

#: Printable text of any script, none of the characters a name may not hold.
ODD = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"), blacklist_characters="/\\"),
    min_size=1,
    max_size=24,
).filter(lambda s: ".." not in s and s.strip() == s and s[:1] not in "-!&*[]{}#|>@`%,?:'\"")
NAMES = st.one_of(ODD, st.from_regex(r"\A[A-Za-z][A-Za-z0-9 _-]{0,20}\Z"))
HOSTILE = st.one_of(
    st.sampled_from(("", "0", "-1", "99999999999999999999", "null", "../x", "<x>", "a/b", "\t")),
    st.text(max_size=8),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _entries(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A group's entries in a shape the guide allows: one DNS SRV entry, or a line (or a
    manual entry) first and manual entries after it."""
    if draw(st.integers(0, 3)) == 0:
        return [{"dns_srv": {"transport": draw(st.sampled_from(("udp", "tcp", "tls")))}}]
    first = {"line": draw(st.sampled_from(sorted(LINES)))}
    manual = st.builds(
        lambda address, port: {"manual": {"address": address, "port": port}},
        st.sampled_from(("10.1.1.1", "pbx.example", "::1")),
        st.integers(1, 65535),
    )
    return [first, *draw(st.lists(manual, max_size=3))]


def _groups(draw: st.DrawFn) -> dict[str, Any]:
    groups: dict[str, Any] = {
        "<Default Registration Group>": {"registrations": [{"line": "Stations-UDP"}]},
        "<Default Secure Registration Group>": {"registrations": [{"line": "Stations-TLS"}]},
        "External": {
            "type": "external",
            "registrations": [{"manual": {"address": "pbx.partner.example"}}],
        },
    }
    for name in draw(st.lists(NAMES, max_size=3, unique=True)):
        groups.setdefault(name, {"registrations": _entries(draw)})
    return groups


def _location(draw: st.DrawFn, parent: str | None, index: int) -> dict[str, Any]:
    location: dict[str, Any] = {"time_zone": draw(st.sampled_from(ZONES))}
    if parent is not None:
        location["parent"] = parent
    if draw(st.booleans()):
        location["sntp_server"] = draw(st.sampled_from(("ic-server", "10.9.9.9")))
    if draw(st.booleans()):
        net = ipaddress.ip_network(f"10.{index}.{draw(st.integers(0, 255))}.0/24")
        location["networks"] = [str(net)]
        if draw(st.booleans()):
            first, last = sorted(draw(st.lists(st.integers(1, 254), min_size=2, max_size=2)))
            location["dhcp_ranges"] = [f"{net[first]}-{net[last]}"]
    return location


def _locations(draw: st.DrawFn) -> dict[str, Any]:
    root = "<Default Location>"
    locations = {root: _location(draw, None, 0)}
    for index, name in enumerate(draw(st.lists(NAMES, max_size=3, unique=True)), start=1):
        parent = draw(st.sampled_from(sorted(locations)))
        locations.setdefault(name, _location(draw, parent, index))
    return locations


def _firmware(draw: st.DrawFn, model: str) -> str | None:
    versions = [f["version"] for f in CATALOG["firmware"] if model in f["models"]]
    latest = [f for f in CATALOG["firmware"] if model in f["latest_for"]]
    return (
        draw(st.sampled_from([None, *versions, *(["latest"] if latest else [])]))
        if versions
        else None
    )


def _template(draw: st.DrawFn, model: str, groups: list[str]) -> dict[str, Any]:
    facts = CATALOG["models"][model]
    template: dict[str, Any] = {
        "manufacturer": facts["manufacturer"],
        "model": draw(st.sampled_from([facts["display"], *facts["aliases"]])),
        "type": draw(st.sampled_from(facts["types"])),
    }
    if draw(st.booleans()):
        template["registration_group"] = draw(
            st.sampled_from([g for g in groups if g != "External"])
        )
    firmware = _firmware(draw, model)
    if firmware is not None:
        template["firmware"] = firmware
    languages = CATALOG["languages"] if facts["languages"] == "all" else facts["languages"]
    if languages and draw(st.booleans()):
        template["language"] = draw(st.sampled_from(sorted(languages)))
    return template


def _address(draw: st.DrawFn, model: str, index: int) -> str:
    facts = CATALOG["models"][model]
    if facts["family"] == "softphone":
        return f"agent{index}.{draw(st.sampled_from(('lab.local', 'x.example')))}"
    prefix = draw(st.sampled_from(CATALOG["manufacturers"][facts["manufacturer"]]["mac_prefixes"]))
    mac = f"{prefix}{index:06x}"
    notation = draw(st.sampled_from(("plain", "colons", "dots", "upper")))
    if notation == "colons":
        return ":".join(mac[i : i + 2] for i in range(0, 12, 2))
    if notation == "dots":
        return ".".join(mac[i : i + 4] for i in range(0, 12, 4))
    return mac.upper() if notation == "upper" else mac


def _appearances(
    draw: st.DrawFn, index: int, polycom: bool, sharable: list[str]
) -> list[dict[str, Any]]:
    """A phone's appearances: private ones (labels and sharing on Polycom phones only, which
    show other phones' sharable stations), and sometimes an external one."""
    apps: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 3 if polycom else 1))):
        app: dict[str, Any] = {
            "extension": f"{draw(st.sampled_from(('', '0', '+')))}{7000 + index * 4 + n}"
        }
        if polycom and draw(st.booleans()):
            app["label"] = draw(ODD)
        if polycom and draw(st.booleans()):
            app["sharable"] = True
        if draw(st.booleans()):
            app["auth"] = {"user": f"u{index}{n}", "password": {"file": "secrets/pw.txt"}}
        apps.append(app)
    if polycom and sharable and draw(st.booleans()):
        apps.append({"shared": draw(st.sampled_from(sharable))})
    if apps and draw(st.integers(0, 5)) == 0:
        apps.append({"external": {"registration_group": "External", "identification_address": "x"}})
    return apps


def _phones(draw: st.DrawFn, templates: dict[str, str]) -> list[dict[str, Any]]:
    phones: list[dict[str, Any]] = []
    sharable: list[str] = []
    for index, name in enumerate(draw(st.lists(NAMES, min_size=1, max_size=6, unique=True))):
        template = draw(st.sampled_from(sorted(templates)))
        phone: dict[str, Any] = {"name": name, "template": template}
        if draw(st.integers(0, 4)):
            phone["address"] = _address(draw, templates[template], index)
        polycom = CATALOG["models"][templates[template]]["family"] == "polycom"
        apps = _appearances(draw, index, polycom, sharable)
        phone["appearances"] = apps
        if draw(st.integers(0, 3)) == 0:
            phone["admin_password"] = {"file": "secrets/pw.txt"}
        if apps and apps[0].get("sharable"):
            sharable.append(name)
        phones.append(phone)
    return phones


def _mutate(draw: st.DrawFn, node: Any) -> None:
    """Change one place of the document: replace a value, drop a key or double a list item."""
    while True:
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node, key=str)))
            child = node[key]
        elif isinstance(node, list) and node:
            key = draw(st.integers(0, len(node) - 1))
            child = node[key]
        else:
            return
        if not isinstance(child, dict | list) or draw(st.integers(0, 3)) == 0:
            action = draw(st.sampled_from(("replace", "drop", "double")))
            if action == "replace":
                node[key] = draw(HOSTILE)
            elif action == "drop" or isinstance(node, dict):
                del node[key]
            else:
                node.insert(key, child)
            return
        node = child


def _phone_list(draw: st.DrawFn, templates: dict[str, str], taken: int) -> bytes:
    """A phone list of the Managed IP Phone Assistant's template layout."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=draw(st.sampled_from(("\n", "\r\n"))))
    writer.writerow(["Name", "Template", "Proxy Group", "Extension", "Label", "Address"])
    for n, name in enumerate(draw(st.lists(NAMES, max_size=4, unique=True))):
        template = draw(st.sampled_from(sorted(templates)))
        polycom = CATALOG["models"][templates[template]]["family"] == "polycom"
        label = draw(ODD) if polycom and draw(st.booleans()) else ""
        address = _address(draw, templates[template], taken + n)
        writer.writerow([f"L {name}", template, "", str(8000 + n), label, address])
    return text.getvalue().encode(draw(st.sampled_from(("utf-8", "utf-8-sig"))))


def _serving(draw: st.DrawFn) -> dict[str, Any]:
    access = draw(st.sampled_from(("open", "networks", "basic")))
    serving: dict[str, Any] = {"access": access}
    if access == "basic":
        serving |= {"user": "phones", "password": {"file": "secrets/pw.txt"}}
    if draw(st.booleans()):
        serving["nginx_group"] = draw(st.sampled_from(("www-data", "nogroup", "no-such-group")))
    return serving


@st.composite
def inventories(draw: st.DrawFn) -> dict[str, bytes]:
    """The files of one inventory (``mipc.yaml`` and its secret)."""
    groups = _groups(draw)
    models = draw(st.lists(st.sampled_from(MODELS), min_size=1, max_size=4, unique=True))
    templates = {f"T {model}": model for model in models}
    doc: dict[str, Any] = {
        "mipc": 1,
        "site": {
            "domain": "lab.voip",
            "provisioning_url": "http://provision.lab.voip:8088/",
            "servers": [{"name": "ic1", "address": "10.250.1.151"}],
            "voicemail_number": draw(st.sampled_from(("*86", "8600"))),
        },
        "lines": {name: dict(line) for name, line in LINES.items()},
        "registration_groups": groups,
        "locations": _locations(draw),
        "templates": {t: _template(draw, m, sorted(groups)) for t, m in templates.items()},
        "phones": _phones(draw, templates),
    }
    files: dict[str, bytes] = {}
    if draw(st.booleans()):
        files["lists/phones.csv"] = _phone_list(draw, templates, 100)
        doc["phone_lists"] = ["lists/phones.csv"]
    if draw(st.booleans()):
        doc["serving"] = _serving(draw)
    if draw(st.booleans()):
        location = draw(st.sampled_from(sorted(doc["locations"])))
        doc["managed_proxies"] = {"Proxy": {"address": "proxy.lab.voip", "location": location}}
        doc["registration_groups"]["Via proxy"] = {
            "registrations": [{"line": "Stations-UDP"}, {"managed_proxy": "Proxy"}]
        }
    if draw(st.booleans()):
        model = draw(st.sampled_from(models))
        pin = _firmware(draw, model)
        if pin is not None:
            doc["firmware"] = {"pins": {CATALOG["models"][model]["display"]: pin}}
    for _ in range(draw(st.sampled_from((0, 0, 1, 2)))):
        _mutate(draw, doc)
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)
    secret = draw(
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)
    )
    return {**files, "mipc.yaml": text.encode("utf-8"), "secrets/pw.txt": secret.encode() + b"\n"}
