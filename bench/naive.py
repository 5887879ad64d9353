"""The naive per-device peer: ``python bench/naive.py INVENTORY TARGET``.

The way other provisioning servers work, on the same two cores as mipc: read the inventory
(``mipc.yaml`` with PyYAML's C loader when there is one, the phone lists with ``csv``), and
for each phone, in a pool of two processes: merge its layers (``defaults:`` → location
chain → template chain → the phone's YAML entry or CSV row), render a plain (not sandboxed)
Jinja2 template with the parameters of mipc's Polycom per-phone file
(``phone/<guid>.cfg``: registration, voicemail, server expiry, SNTP and daylight saving,
language, QoS, one-touch voicemail, volume persistence, fixed device values), and write one
file per phone to a temporary name and rename it; one ``syncfs`` at the end, as a release
(mipc's own ``mipc.release.durable.syncfs``).

It writes that Polycom file for every phone, whatever its family, and nothing else: no
master or group files, no other family's files, no network files, no manifest, no checks
(schema, references, uniqueness), no firmware, no secrets, no incremental state. Its time
zone table holds the five zones of ``bench/generate.py``.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mipc.release.durable import syncfs

NAMESPACE = uuid.UUID("6d1f0c0e-3b7a-5c52-9a61-7c2f0e4f8a10")  # mipc's phone guids
CHUNK = 1000
# zone: (standard offset s, (month, week, weekday 0=Sunday, hour) of DST start, of DST stop)
ZONES: dict[str, tuple[int, tuple[int, int, int, int], tuple[int, int, int, int]]] = {
    "America/New_York": (-18000, (3, 2, 0, 2), (11, 1, 0, 2)),
    "America/Chicago": (-21600, (3, 2, 0, 2), (11, 1, 0, 2)),
    "America/Denver": (-25200, (3, 2, 0, 2), (11, 1, 0, 2)),
    "Europe/London": (0, (3, 5, 0, 1), (10, 5, 0, 2)),
    "Europe/Berlin": (3600, (3, 5, 0, 2), (10, 5, 0, 3)),
}

TEMPLATE = """\
<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- Per-phone configuration of {{ name }} ({{ s.model }}). -->
{%- if s.options.emergency %}
<!-- Emergency information:
{%- for k, v in s.options.emergency|dictsort %}
     {{ k }}: {{ v }}
{%- endfor %}
-->
{%- endif %}
<polycomConfig>
  <reg reg.1.address="{{ ext }}" reg.1.label="{{ label }}" reg.1.displayName="{{ label or name }}"
    reg.1.type="private" reg.1.lineKeys="1" reg.1.callsPerLineKey="4"/>
  <msg msg.mwi.1.callBackMode="contact" msg.mwi.1.callBack="{{ site.voicemail_number }}"/>
  <voIpProt{% for server in site.servers %} voIpProt.server.{{ loop.index }}.expires="3600"
    {%- endfor %} voIpProt.SIP.local.port="5060"/>
  <tcpIpApp tcpIpApp.sntp.address="{{ sntp }}" tcpIpApp.sntp.address.overrideDHCP="0"
    tcpIpApp.sntp.gmtOffset="{{ zone[0] }}" tcpIpApp.sntp.gmtOffset.overrideDHCP="0"
    tcpIpApp.sntp.resyncPeriod="86400" tcpIpApp.sntp.daylightSavings.enable="1"
    tcpIpApp.sntp.daylightSavings.fixedDayEnable="0"
{%- for which, (month, week, day, hour) in [("start", zone[1]), ("stop", zone[2])] %}
    tcpIpApp.sntp.daylightSavings.{{ which }}.month="{{ month }}"
    tcpIpApp.sntp.daylightSavings.{{ which }}.date="{{ 22 if week >= 5 else week * 7 - 6 }}"
    tcpIpApp.sntp.daylightSavings.{{ which }}.time="{{ hour }}"
    tcpIpApp.sntp.daylightSavings.{{ which }}.dayOfWeek="{{ day + 1 }}"
    tcpIpApp.sntp.daylightSavings.{{ which }}.dayOfWeek.lastInMonth="{{ 1 if week >= 5 else 0 }}"
{%- endfor %}
    tcpIpApp.port.rtp.mediaPortRangeStart="2222"/>
  <lcl lcl.ml.lang="English_United_States"/>
  <qos qos.ip.rtp.dscp="{{ s.qos.rtp_dscp }}" qos.ip.callControl.dscp="{{ s.qos.sip_dscp }}"/>
{%- if s.options.one_touch_voicemail is defined %}
  <up up.oneTouchVoiceMail="{{ 1 if s.options.one_touch_voicemail else 0 }}"/>
{%- endif %}
  <nat nat.keepalive.interval="0"/>
{%- if s.options.volume_persistence is defined %}
{%- set p = 1 if s.options.volume_persistence else 0 %}
  <voice voice.volume.persist.handset="{{ p }}" voice.volume.persist.headset="{{ p }}"
    voice.volume.persist.handsfree="{{ p }}"/>
{%- endif %}
  <device device.set="1" device.net.etherModeLAN="Auto" device.net.etherModeLAN.set="1"
    device.net.etherModePC="Auto" device.net.etherModePC.set="1"/>
</polycomConfig>
"""

_WORK: dict[str, Any] = {}  # set in each worker by _start


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, mappings merged key by key."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def chain(table: Mapping[str, Any], name: str, link: str) -> list[Mapping[str, Any]]:
    """The layers of ``name`` in ``table``, the farthest ancestor first (``link``: parent)."""
    layers: list[Mapping[str, Any]] = []
    while name:
        entry = table[name]
        layers.insert(0, entry)
        name = entry.get(link) or ""
    return layers


def load(inventory: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The inventory's document and its phones as layers (YAML entries, then CSV rows)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = yaml.load((inventory / "mipc.yaml").read_text(encoding="utf-8"), Loader=loader)
    phones: list[dict[str, Any]] = []
    for entry in doc.get("phones") or []:
        first = (entry.get("appearances") or [{}])[0]
        phones.append({**entry, "extension": first.get("extension"), "label": first.get("label")})
    for listed in doc.get("phone_lists") or []:
        with open(inventory / listed, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                phones.append(
                    {
                        "name": row["Name"],
                        "template": row["Template"],
                        "extension": row["Extension"],
                        "label": row["Label"],
                        "address": row["Address"],
                    }
                )
    return doc, phones


def _start(doc: dict[str, Any], target: str) -> None:
    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    _WORK.update(doc=doc, target=target, template=env.from_string(TEMPLATE))


def render_one(phone: Mapping[str, Any]) -> None:
    """Merge one phone's layers, render its file and write it atomically."""
    doc, target = _WORK["doc"], _WORK["target"]
    location = phone.get("location") or "<Default Location>"
    layers = [doc.get("defaults") or {}]
    layers += chain(doc["locations"], location, "parent")
    layers += chain(doc["templates"], phone["template"], "extends")
    settings: dict[str, Any] = {}
    for layer in [*layers, phone]:
        settings = deep_merge(settings, layer)
    servers = doc["site"]["servers"]
    sntp = settings.get("sntp_server")
    text = _WORK["template"].render(
        name=phone["name"],
        ext=phone["extension"],
        label=phone.get("label") or "",
        s=settings,
        site=doc["site"],
        sntp=servers[0]["address"] if sntp == "ic-server" else sntp,
        zone=ZONES[settings["time_zone"]],
    )
    dest = os.path.join(target, "phone", f"{uuid.uuid5(NAMESPACE, phone['name'])}.cfg")
    tmp = dest + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, dest)


def render_chunk(phones: list[dict[str, Any]]) -> int:
    """Render and write a chunk of phones in a worker; how many."""
    for phone in phones:
        render_one(phone)
    return len(phones)


def run(inventory: Path, target: Path, workers: int = 2) -> int:
    """Write every phone's file under ``target`` (which must not exist); the count."""
    doc, phones = load(inventory)
    (target / "phone").mkdir(parents=True)
    chunks = [phones[i : i + CHUNK] for i in range(0, len(phones), CHUNK)]
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_start, initargs=(doc, str(target))) as pool:
        done = sum(pool.imap_unordered(render_chunk, chunks))
    syncfs(target)
    return done


def main() -> None:
    """``python bench/naive.py INVENTORY TARGET``."""
    if len(sys.argv) != 3:
        sys.exit("usage: python bench/naive.py INVENTORY TARGET")
    count = run(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{count} phones")


if __name__ == "__main__":
    main()
