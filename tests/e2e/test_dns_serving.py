"""The zone's SIP records served by a real DNS server: dnsmasq on 127.0.0.1 answers with the
records of the generated ``dnsmasq.conf``, and a small RFC 3263 client (NAPTR, then the SRV
records it names) finds the transport and the servers a phone set to ``DNSnaptr`` would."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mipc.network.plan import render_network
from tests.e2e.conftest import free_port
from tests.tooling import require_tool
from tests.unit.test_network import lab_plan

pytestmark = pytest.mark.e2e

NAPTR, SRV = 35, 33


def _name(msg: bytes, at: int) -> tuple[str, int]:
    """A (possibly compressed) domain name at ``at``: the name and the offset after it."""
    labels: list[str] = []
    end = None
    while True:
        size = msg[at]
        if size >= 0xC0:
            end = at + 2 if end is None else end
            at = struct.unpack("!H", msg[at : at + 2])[0] & 0x3FFF
            continue
        if size == 0:
            return ".".join(labels) + ".", (at + 1 if end is None else end)
        labels.append(msg[at + 1 : at + 1 + size].decode())
        at += 1 + size


def _strings(data: bytes, count: int) -> tuple[list[str], int]:
    out, at = [], 0
    for _ in range(count):
        out.append(data[at + 1 : at + 1 + data[at]].decode())
        at += 1 + data[at]
    return out, at


def query(port: int, name: str, rtype: int) -> list[tuple[object, ...]]:
    """Ask 127.0.0.1:``port`` for ``name``/``rtype``; the answers' decoded data."""
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    packet = struct.pack("!HHHHHH", 0x4D49, 0x0100, 1, 0, 0, 0) + question
    packet += b"\0" + struct.pack("!HH", rtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(packet, ("127.0.0.1", port))
        msg = sock.recv(4096)
    ident, _flags, _qd, ancount = struct.unpack("!HHHH", msg[:8])
    assert ident == 0x4D49
    at = _name(msg, 12)[1] + 4
    answers: list[tuple[object, ...]] = []
    for _ in range(ancount):
        at = _name(msg, at)[1]
        atype, _cls, _ttl, size = struct.unpack("!HHIH", msg[at : at + 10])
        start, at = at + 10, at + 10 + size
        if atype == NAPTR:
            order, pref = struct.unpack("!HH", msg[start : start + 4])
            (flags, service, regexp), used = _strings(msg[start + 4 : at], 3)
            replacement = _name(msg, start + 4 + used)[0]
            answers.append((order, pref, flags, service, regexp, replacement))
        elif atype == SRV:
            prio, weight, srv_port = struct.unpack("!HHH", msg[start : start + 6])
            answers.append((prio, weight, srv_port, _name(msg, start + 6)[0]))
    return sorted(answers)


@contextlib.contextmanager
def serving(port: int, conf: Path, records: bytes) -> Iterator[None]:
    """dnsmasq answering DNS only (no DHCP, no upstream, no /etc/hosts) on 127.0.0.1:``port``
    with the DNS records (host-record, srv-host, naptr-record) of a generated ``dnsmasq.conf``."""
    lines = [ln for ln in records.decode().splitlines() if ln.split("=")[0] in _RECORDS]
    conf.write_text("\n".join(lines) + "\n")
    log = conf.with_suffix(".log")
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                require_tool("dnsmasq"),
                "-k",
                f"--conf-file={conf}",
                f"--port={port}",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
                f"--user={_user()}",
                "--pid-file=",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        for _ in range(100):
            assert proc.poll() is None, log.read_text()
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


_RECORDS = ("host-record", "srv-host", "naptr-record")


def _user() -> str:
    return "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")


@pytest.mark.parametrize(
    ("changes", "first"),
    [
        ({}, ("SIPS+D2T", 8061)),
        ({"sip_preference": ("tcp",)}, ("SIP+D2T", 8060)),
        ({"sip_port_tls": 0, "sip_port_tcp": 0}, ("SIP+D2U", 8060)),
    ],
)
def test_a_dnsnaptr_phone_finds_the_chosen_transport(
    tmp_path: Path, changes: dict[str, object], first: tuple[str, int]
) -> None:
    port = free_port()
    files = render_network(dataclasses.replace(lab_plan(), **changes))  # type: ignore[arg-type]
    with serving(port, tmp_path / "records.conf", files["dnsmasq.conf"]):
        naptr = query(port, "lab.voip", NAPTR)
        assert naptr and all(n[2] == "S" and n[4] == "" for n in naptr)
        order, _pref, _flags, service, _re, replacement = naptr[0]
        assert (service, order) == (first[0], 10)
        # The record the zone file has too, for each transport used, in the same order.
        zone = files["lab.voip.zone"].decode()
        assert [n[3] for n in naptr] == [
            line.split('"')[3] for line in zone.splitlines() if " IN NAPTR " in line
        ]
        srv = query(port, str(replacement), SRV)
        assert srv == [(0, 0, first[1], "vm40ic1.lab.voip."), (0, 0, first[1], "vm40ic2.lab.voip.")]
