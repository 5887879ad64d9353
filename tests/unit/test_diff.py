"""The pure diff on synthetic snapshots: decoding, redaction, shared files, firmware."""

from __future__ import annotations

from mipc.diff.compare import diff, same_file
from mipc.diff.decode import decode_settings, is_secret_key, redact_line
from mipc.diff.model import REDACTED, FileRef, PhoneRecord, Snapshot

POLY = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- {comment} -->
<polycomConfig>
  <reg
    reg.1.address="7001"
    reg.1.label="{label}"
    reg.1.auth.password="{password}"
  />
</polycomConfig>
"""

KV = """# a comment
system/type=SIP100
voip/line/0/id={ext}
voip/line/0/auth_password={password}
"""

SOFT = """<?xml version="1.0" encoding="UTF-8"?>
<SipSoftPhoneConfiguration computerName="PC1.lab">
  <Lines>
    <Line index="1" extension="{ext}" authPassword="{password}"/>
  </Lines>
</SipSoftPhoneConfiguration>
"""

GROUP = """<polycomConfig><voIpProt voIpProt.server.1.address="{server}"/></polycomConfig>"""

MASTER = """<APPLICATION APP_FILE_PATH="firmware/polycom/{fw}/sip.ld" CONFIG_FILES="a.cfg"/>"""


def poly(label: str = "Lobby", password: str = "pw1", comment: str = "x") -> bytes:
    return POLY.format(label=label, password=password, comment=comment).encode()


def phone(name: str, files: tuple[str, ...], **kw: str | None) -> PhoneRecord:
    return PhoneRecord(
        name=name,
        family=str(kw.pop("family", "polycom")),
        model="VVX450",
        address=kw.pop("address", name.lower()),
        mac=None,
        files=tuple(sorted(files)),
        digest=kw.pop("digest", "d"),
        firmware=kw.pop("firmware", "6.4.5"),
    )


def lab(**over: bytes) -> dict[str, bytes]:
    files = {
        "www/0004f2000001.cfg": MASTER.format(fw="6.4.5").encode(),
        "www/phone/lobby.cfg": poly(),
        "www/phone/agent.cfg": poly("Agent", "pw2"),
        "www/proxy/group.cfg": GROUP.format(server="10.0.0.1").encode(),
        "www/000000000000.cfg": b"<APPLICATION CONFIG_FILES='server/setup.cfg'/>",
        "www/iss.cfg": KV.format(ext="7004", password="s3cret").encode(),
        "network/dhcpd.conf": b"host a { hardware ethernet 00:04:f2:00:00:01; }\n",
    }
    files.update(over)
    return files


PHONES = (
    phone("PolycomLobby", ("www/0004f2000001.cfg", "www/phone/lobby.cfg", "www/proxy/group.cfg")),
    phone("PolycomAgent", ("www/phone/agent.cfg", "www/proxy/group.cfg")),
    phone("AgentISS", ("www/iss.cfg",), family="iss"),
)


def snap(files: dict[str, bytes], phones: tuple[PhoneRecord, ...] = PHONES) -> Snapshot:
    return Snapshot.of(files, phones)


def test_no_change() -> None:
    report = diff(snap(lab()), snap(lab()))
    assert not report.changed
    assert report.phone_counts.unchanged == 3
    assert report.file_counts.unchanged == 7


def test_polycom_attribute_decoded() -> None:
    report = diff(snap(lab()), snap(lab(**{"www/phone/lobby.cfg": poly("Front Desk")})))
    assert [p.name for p in report.phones] == ["PolycomLobby"]
    (change,) = report.phones[0].settings
    assert (change.key, change.old, change.new) == ("reg.1.label", "Lobby", "Front Desk")
    assert change.file == "www/phone/lobby.cfg"
    assert report.phone_counts.changed == 1 and report.phone_counts.unchanged == 2
    assert report.rollout() == ["polycomlobby"]


def test_keyvalue_decoded() -> None:
    new = lab(**{"www/iss.cfg": KV.format(ext="7005", password="s3cret").encode()})
    report = diff(snap(lab()), snap(new))
    (p,) = report.phones
    assert p.name == "AgentISS"
    assert [(s.key, s.old, s.new) for s in p.settings] == [("voip/line/0/id", "7004", "7005")]


def test_softphone_xml_decoded() -> None:
    files = {"www/PC1.lab.i3sipcfg": SOFT.format(ext="7003", password="").encode()}
    after = {"www/PC1.lab.i3sipcfg": SOFT.format(ext="7013", password="").encode()}
    phones = (phone("SSP", ("www/PC1.lab.i3sipcfg",), family="softphone"),)
    report = diff(snap(files, phones), snap(after, phones))
    (s,) = report.phones[0].settings
    assert (s.key, s.old, s.new) == ("Lines/Line/extension", "7003", "7013")


def test_decode_formats() -> None:
    assert decode_settings("www/x.cfg", KV.format(ext="1", password="p").encode()) == {
        "system/type": "SIP100",
        "voip/line/0/id": "1",
        "voip/line/0/auth_password": "p",
    }
    got = decode_settings("www/a.cfg", poly())
    assert got is not None and got["reg.1.label"] == "Lobby"
    assert decode_settings("network/dhcpd.conf", b"a=b\n") is None
    assert decode_settings("www/fw.ld", b"\x00\x01") is None


def test_secret_keys() -> None:
    for key in (
        "reg.1.auth.password",
        "voip/line/0/auth_password",
        "Lines/Line[1]/authPassword",
        "device.auth.localAdminPassword",
    ):
        assert is_secret_key(key), key
    assert not is_secret_key("reg.1.label")


def test_password_redacted_but_reported() -> None:
    report = diff(snap(lab()), snap(lab(**{"www/phone/agent.cfg": poly("Agent", "new-pw")})))
    (p,) = report.phones
    (s,) = p.settings
    assert (s.key, s.old, s.new, s.secret) == ("reg.1.auth.password", REDACTED, REDACTED, True)
    shown = diff(
        snap(lab()),
        snap(lab(**{"www/phone/agent.cfg": poly("Agent", "new-pw")})),
        show_secrets=True,
    )
    (s,) = shown.phones[0].settings
    assert (s.old, s.new, s.secret) == ("pw2", "new-pw", False)


def test_known_secret_values_redacted_in_any_key() -> None:
    old = Snapshot.of(lab(), PHONES, secrets={"Lobby-is-secret"})
    new = Snapshot.of(lab(**{"www/phone/lobby.cfg": poly("Lobby-is-secret")}), PHONES)
    (s,) = diff(old, new).phones[0].settings
    assert s.secret and s.new == REDACTED


def test_unified_diff_redacts() -> None:
    new = lab(**{"www/phone/agent.cfg": poly("Agent", "new-pw")})
    report = diff(snap(lab()), snap(new), files=True)
    (fc,) = report.files
    assert fc.unified is not None
    assert "new-pw" not in fc.unified and "pw2" not in fc.unified
    assert f'-    reg.1.auth.password="{REDACTED}"' in fc.unified
    assert f'+    reg.1.auth.password="{REDACTED}"' in fc.unified
    assert redact_line("voip/line/0/auth_password=abc\n", frozenset()) == (
        f"voip/line/0/auth_password={REDACTED}\n"
    )


def test_shared_file_attributed_to_its_phones() -> None:
    new = lab(**{"www/proxy/group.cfg": GROUP.format(server="10.0.0.2").encode()})
    report = diff(snap(lab()), snap(new))
    (fc,) = report.files
    assert fc.shared and fc.phones == ("PolycomAgent", "PolycomLobby")
    assert [(s.key, s.old, s.new) for s in fc.settings] == [
        ("voIpProt.server.1.address", "10.0.0.1", "10.0.0.2")
    ]
    assert [p.name for p in report.phones] == ["PolycomAgent", "PolycomLobby"]
    for p in report.phones:
        assert p.shared_files == ("www/proxy/group.cfg",) and not p.settings


def test_files_of_no_phone_are_shared() -> None:
    new = lab(**{"network/dhcpd.conf": b"changed\n", "www/000000000000.cfg": b"<APPLICATION/>"})
    report = diff(snap(lab()), snap(new))
    assert not report.phones
    assert {f.path: (f.shared, f.phones) for f in report.files} == {
        "network/dhcpd.conf": (True, ()),
        "www/000000000000.cfg": (True, ()),
    }
    dhcp = next(f for f in report.files if f.path == "network/dhcpd.conf")
    assert not dhcp.decoded and (dhcp.lines_added, dhcp.lines_removed) == (1, 1)


def test_firmware_called_out() -> None:
    new_phones = (
        phone(
            "PolycomLobby",
            ("www/0004f2000001.cfg", "www/phone/lobby.cfg", "www/proxy/group.cfg"),
            firmware="6.4.6",
        ),
        *PHONES[1:],
    )
    new = lab(**{"www/0004f2000001.cfg": MASTER.format(fw="6.4.6").encode()})
    report = diff(snap(lab()), snap(new, new_phones))
    (p,) = report.phones
    assert p.firmware is not None and (p.firmware.old, p.firmware.new) == ("6.4.5", "6.4.6")
    (s,) = p.settings
    assert s.key == "APP_FILE_PATH" and s.new == "firmware/polycom/6.4.6/sip.ld"


def test_added_and_removed_phones() -> None:
    files = lab(**{"www/new.cfg": KV.format(ext="9", password="").encode()})
    del files["www/iss.cfg"]
    phones = (*PHONES[:2], phone("NewOne", ("www/new.cfg",), family="iss"))
    report = diff(snap(lab()), snap(files, phones))
    assert {p.name: p.status for p in report.phones} == {
        "AgentISS": "removed",
        "NewOne": "added",
    }
    assert (report.phone_counts.added, report.phone_counts.removed) == (1, 1)
    assert {f.path: f.status for f in report.files} == {
        "www/iss.cfg": "removed",
        "www/new.cfg": "added",
    }


def test_group_switch_compares_renamed_own_files() -> None:
    files = lab(**{"www/proxy/other.cfg": GROUP.format(server="10.9.9.9").encode()})
    old_phones = (
        *PHONES[:2],
        phone("AgentISS", ("www/iss.cfg", "www/proxy/solo.cfg"), family="iss"),
    )
    old_files = {**files, "www/proxy/solo.cfg": GROUP.format(server="10.0.0.1").encode()}
    del files["www/proxy/group.cfg"]
    new_phones = (
        phone("PolycomLobby", ("www/0004f2000001.cfg", "www/phone/lobby.cfg")),
        PHONES[1],
        phone("AgentISS", ("www/iss.cfg", "www/proxy/other.cfg"), family="iss"),
    )
    report = diff(snap(old_files, old_phones), snap(files, new_phones))
    iss = next(p for p in report.phones if p.name == "AgentISS")
    (s,) = iss.settings
    assert (s.key, s.old, s.new) == ("voIpProt.server.1.address", "10.0.0.1", "10.9.9.9")
    assert s.file == "www/proxy/solo.cfg → www/proxy/other.cfg"
    lobby = next(p for p in report.phones if p.name == "PolycomLobby")
    assert lobby.files_removed == ("www/proxy/group.cfg",)


def test_comment_only_change_is_a_file_change_without_settings() -> None:
    report = diff(snap(lab()), snap(lab(**{"www/phone/lobby.cfg": poly(comment="y")})))
    (fc,) = report.files
    assert fc.decoded and not fc.settings
    assert [p.name for p in report.phones] == ["PolycomLobby"]


def test_digest_only_change_is_unchanged() -> None:
    phones = (phone("PolycomLobby", PHONES[0].files, digest="other"), *PHONES[1:])
    report = diff(snap(lab()), snap(lab(), phones))
    assert not report.changed


def test_same_file_reads_only_when_needed() -> None:
    def boom() -> bytes:
        raise AssertionError("read")

    a = FileRef("a" * 64, 3, boom)
    assert same_file(a, FileRef("a" * 64, 3, boom))
    assert not same_file(a, FileRef(None, 4, boom))
    import hashlib

    b = FileRef.of(b"abc")
    assert same_file(FileRef(hashlib.sha256(b"abc").hexdigest(), 3, boom), b)
