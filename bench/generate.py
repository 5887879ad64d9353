"""Generate a benchmark inventory of N phones: mixed families, templates, locations, CSV lists.

``python bench/generate.py N DIR`` writes ``DIR/mipc.yaml`` (the lab's site, lines and groups,
five locations in different zones, nine templates, two of them extended by none: "Polycom
Desk", holding 40% of the phones, and "Polycom Lobby", holding 1%; a tenth of the phones as
YAML entries with locations and appearances) and ``DIR/lists/*.csv`` (the rest, in the
guide's template layout, 10,000 rows a file). MACs, names and extensions are unique and
derived from the index, so the same N gives the same bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADER = """\
mipc: 1

site:
  domain: bench.voip
  provisioning_url: http://provision.bench.voip:8088/
  servers:
    - {name: ic1, address: 10.250.1.151}
    - {name: ic2, address: 10.250.1.152}
  voicemail_number: "*86"

lines:
  Stations-UDP: {transport: udp, port: 8060}
  Stations-TCP: {transport: tcp, port: 8060}
  Stations-TLS: {transport: tls, port: 8061}

registration_groups:
  <Default Registration Group>:
    registrations: [{line: Stations-UDP}]
  <Default Secure Registration Group>:
    registrations: [{line: Stations-TLS}]
  Remote Agent SSP - TLS:
    registrations: [{dns_srv: {transport: tls}}]
  Remote Agent ISS - TCP:
    registrations: [{dns_srv: {transport: tcp}}]

locations:
  <Default Location>:
    time_zone: America/New_York
    sntp_server: ic-server
  Chicago:
    parent: <Default Location>
    time_zone: America/Chicago
  Denver:
    parent: <Default Location>
    time_zone: America/Denver
  London:
    parent: <Default Location>
    time_zone: Europe/London
  Berlin:
    parent: London
    time_zone: Europe/Berlin

defaults:
  qos: {rtp_dscp: 46, sip_dscp: 24}
  options:
    emergency: {customer_name: Bench Contact Center}
  # no secrets in the bench: the admin logins are kept by hand, the site served on a closed
  # network (both said, so neither warns, and the incremental paths are open as on a real site)
  admin_password_changed_by_hand: true

serving: {access: open}

templates:
  Polycom Agent:
    type: workstation
    manufacturer: Polycom
    model: VVX 450
    registration_group: <Default Registration Group>
    options:
      volume_persistence: true
      one_touch_voicemail: true
  Polycom SA:
    extends: Polycom Agent
    type: stand-alone
  Polycom Desk:
    extends: Polycom Agent
    options:
      one_touch_voicemail: true  # bench: the 40% template
  Polycom Secure:
    extends: Polycom Agent
    registration_group: <Default Secure Registration Group>
  Polycom Lobby:
    extends: Polycom Agent
    options:
      volume_persistence: true  # bench: the 1% template
  AudioCodes 420HD:
    manufacturer: AudioCodes
    model: 420HD
  ISS:
    manufacturer: ININ
    model: Interaction SIP Station
    registration_group: Remote Agent ISS - TCP
  ISS II:
    manufacturer: ININ
    model: Interaction SIP Station II
  Soft Phone:
    manufacturer: ININ
    model: Soft Phone
    registration_group: Remote Agent SSP - TLS
    audio_protocol: srtp
"""

# template, MAC prefix (None: a soft phone, addressed by computer name)
# "Polycom Desk" (no template extends it) holds 4 in 10 phones: changing it touches 40%.
KINDS: tuple[tuple[str, str | None], ...] = (
    ("Polycom Desk", "0004F2"),
    ("Polycom SA", "0004F2"),
    ("Polycom Desk", "64167F"),
    ("Polycom Secure", "0004F2"),
    ("AudioCodes 420HD", "00908F"),
    ("Polycom Desk", "0004F2"),
    ("ISS", "0026FD"),
    ("Polycom Desk", "64167F"),
    ("ISS II", "0026FD"),
    ("Soft Phone", None),
)
#: Every hundredth phone (those of index 3 modulo 100, "Polycom Secure" otherwise) is a
#: "Polycom Lobby": a template of 1% of the phones, which no template extends.
LOBBY = ("Polycom Lobby", 100, 3)
LOCATIONS = ("<Default Location>", "Chicago", "Denver", "London", "Berlin")
CSV_ROWS = 10_000
CSV_HEADER = "Name,Template,Proxy Group,Extension,Identification Address,Label,Address\n"


def phone(i: int) -> tuple[str, str, str, str]:
    """Name, template, address and extension of phone ``i``."""
    template, prefix = KINDS[i % len(KINDS)]
    if i % LOBBY[1] == LOBBY[2]:
        template = LOBBY[0]
    address = f"Agent{i:06d}.bench.local" if prefix is None else f"{prefix}{i:06X}"
    return f"Phone{i:06d}", template, address, str(100000 + i)


def yaml_phone(i: int) -> str:
    name, template, address, ext = phone(i)
    location = LOCATIONS[(i // len(KINDS)) % len(LOCATIONS)]
    label = f"Desk {i}" if template.startswith("Polycom") else ""
    app = f'{{extension: "{ext}", label: "{label}"}}' if label else f'{{extension: "{ext}"}}'
    return (
        f'  - name: "{name}"\n    template: "{template}"\n    location: "{location}"\n'
        f'    address: "{address}"\n    appearances:\n      - {app}\n'
    )


def generate(count: int, target: Path) -> None:
    """Write an inventory of ``count`` phones into ``target`` (created if missing)."""
    target.mkdir(parents=True, exist_ok=True)
    in_yaml = max(1, count // 10)
    lists = target / "lists"
    lists.mkdir(exist_ok=True)
    files: list[str] = []
    rows: list[str] = []
    for i in range(in_yaml, count):
        name, template, address, ext = phone(i)
        label = f"Desk {i}" if template.startswith("Polycom") else ""
        rows.append(f"{name},{template},,{ext},,{label},{address}\n")
    for n, start in enumerate(range(0, len(rows), CSV_ROWS)):
        path = lists / f"phones-{n + 1:03d}.csv"
        path.write_text(CSV_HEADER + "".join(rows[start : start + CSV_ROWS]), encoding="utf-8")
        files.append(f"lists/{path.name}")
    text = [HEADER]
    if files:
        text.append("\nphone_lists:\n" + "".join(f"  - {f}\n" for f in files))
    text.append("\nphones:\n")
    text.extend(yaml_phone(i) for i in range(in_yaml))
    (target / "mipc.yaml").write_text("".join(text), encoding="utf-8")


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: python bench/generate.py N DIR")
    generate(int(sys.argv[1]), Path(sys.argv[2]))


if __name__ == "__main__":
    main()
