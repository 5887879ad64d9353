"""The zone's SIP records: SRV only for the transports the phones use, NAPTR records that
lead a phone discovering its transport (Polycom ``DNSnaptr``, RFC 3263 §4.1) to them."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from mipc.network.facts import facts_of
from mipc.network.plan import network_files, render_network
from mipc.network.sip import sip_use
from mipc.pipeline import validate
from tests.unit.test_network import lab_plan, zone_records

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def naptr(records: list[tuple[str, str, list[str]]]) -> list[tuple[int, int, str, str, str]]:
    """The apex NAPTR records as (order, preference, flags, service, replacement), sorted."""
    return sorted(
        (int(d[0]), int(d[1]), d[2].strip('"'), d[3].strip('"'), d[5])
        for o, t, d in records
        if t == "NAPTR" and o == "@" and d[4] == '""'
    )


def discover(records: list[tuple[str, str, list[str]]], domain: str) -> tuple[str, list[str]]:
    """What an RFC 3263 client supporting every transport finds: the first NAPTR's service and
    the SRV records (port target) at its replacement."""
    _order, _pref, flags, service, replacement = naptr(records)[0]
    assert flags == "S" and replacement.endswith(f".{domain}.")
    owner = replacement.removesuffix(f".{domain}.")
    return service, sorted(f"{d[2]} {d[3]}" for o, t, d in records if t == "SRV" and o == owner)


def zone(plan_changes: dict[str, object]) -> list[tuple[str, str, list[str]]]:
    return zone_records(render_network(lab_plan(**plan_changes))["lab.voip.zone"].decode())


def test_naptr_names_every_srv_owner_most_secure_first() -> None:
    records = zone({})
    assert naptr(records) == [
        (10, 0, "S", "SIPS+D2T", "_sips._tcp.lab.voip."),
        (20, 0, "S", "SIP+D2T", "_sip._tcp.lab.voip."),
        (30, 0, "S", "SIP+D2U", "_sip._udp.lab.voip."),
    ]
    assert discover(records, "lab.voip") == (
        "SIPS+D2T",
        ["8061 vm40ic1.lab.voip.", "8061 vm40ic2.lab.voip."],
    )


def test_naptr_puts_the_chosen_transport_first() -> None:
    """A DNS SRV registration's transport leads; the others follow, most secure first."""
    records = zone({"sip_preference": ("udp",)})
    assert [n[3] for n in naptr(records)] == ["SIP+D2U", "SIPS+D2T", "SIP+D2T"]
    assert discover(records, "lab.voip")[0] == "SIP+D2U"
    records = zone({"sip_preference": ("tcp",), "sip_port_udp": 0})
    assert [n[3] for n in naptr(records)] == ["SIP+D2T", "SIPS+D2T"]
    assert discover(records, "lab.voip") == (
        "SIP+D2T",
        ["8060 vm40ic1.lab.voip.", "8060 vm40ic2.lab.voip."],
    )


def test_no_srv_no_naptr() -> None:
    records = zone({"sip_port_udp": 0, "sip_port_tcp": 0, "sip_port_tls": 0})
    assert not [r for r in records if r[1] in ("SRV", "NAPTR")]
    dnsmasq = render_network(lab_plan(sip_port_udp=0))["dnsmasq.conf"].decode()
    assert [ln for ln in dnsmasq.splitlines() if ln.startswith("naptr-record=")] == [
        "naptr-record=lab.voip,10,0,S,SIPS+D2T,,_sips._tcp.lab.voip",
        "naptr-record=lab.voip,20,0,S,SIP+D2T,,_sip._tcp.lab.voip",
    ]


def edited(tmp_path: Path, example: str, groups: dict[str, object]) -> Path:
    """``example`` with the registration groups ``groups`` added (or replaced)."""
    target = tmp_path / example
    shutil.copytree(EXAMPLES / example, target)
    path = target / "mipc.yaml"
    data = yaml.safe_load(path.read_text())
    data["registration_groups"].update(groups)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def test_srv_only_for_the_transports_phones_use() -> None:
    """campus has a TCP line no registration group names: no _sip._tcp records."""
    result = validate(EXAMPLES / "campus")
    assert result.plan is not None
    assert "Stations-TCP" in result.plan.inventory.lines
    use = sip_use(result.plan.inventory, facts_of(result.plan.phones))
    assert dict(use.ports) == {"tls": 8061, "udp": 8060} and use.chosen == ("tls",)
    records = zone_records(network_files(result.plan)["campus.voip.zone"].decode())
    assert sorted({o for o, t, _ in records if t == "SRV"}) == ["_sip._udp", "_sips._tcp"]
    assert [n[3] for n in naptr(records)] == ["SIPS+D2T", "SIP+D2U"]


def test_a_group_no_phone_uses_adds_nothing(tmp_path: Path) -> None:
    """Records follow the phones' groups (and their appearances'), not every group defined."""
    target = edited(
        tmp_path,
        "lab",
        {"Unused UDP": {"registrations": [{"dns_srv": {"transport": "udp"}}]}},
    )
    before = validate(EXAMPLES / "lab")
    after = validate(target)
    assert before.plan is not None and after.plan is not None
    assert sip_use(after.plan.inventory, facts_of(after.plan.phones)) == sip_use(
        before.plan.inventory, facts_of(before.plan.phones)
    )
    assert sip_use(before.plan.inventory, facts_of(before.plan.phones)).chosen == ("tls", "tcp")


def test_the_chosen_transport_gets_its_line_port() -> None:
    """A DNS SRV entry over a transport only an unused line has: that line's port."""
    result = validate(EXAMPLES / "lab")
    assert result.plan is not None
    assert (
        sip_use(result.plan.inventory, facts_of(result.plan.phones)).port("tcp")
        == result.plan.inventory.lines["Stations-TCP"].port
    )
    assert not any(
        r.kind == "line" and r.transport == "tcp"
        for p in result.plan.phones
        for r in p.registrations
    )
