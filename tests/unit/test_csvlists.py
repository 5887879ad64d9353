"""CSV phone lists: the guide's sample lists, Excel-style files, the write/read round trip."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipc.diagnostics import Diagnostics
from mipc.inventory.csv_text import sniff_delimiter
from mipc.inventory.csv_write import write_phone_list
from mipc.inventory.csvlists import (
    ReadOptions,
    TemplateFacts,
    parse_phone_list,
    parse_phone_list_bytes,
    read_phone_list,
)
from mipc.model import AppearanceSpec, PhoneSpec, Setting

DATA = Path(__file__).parent.parent / "data" / "csv"
LAB_TEMPLATES: dict[str, str | TemplateFacts] = {
    "My Polycom SA Template": TemplateFacts("Polycom", "VVX 450"),
    "My Polycom Agent Template": TemplateFacts("Polycom", "VVX 450"),
    "My Agent SSP Template": TemplateFacts("ININ", "Soft Phone"),
    "My Agent ISS Template": TemplateFacts("ININ", "Interaction SIP Station"),
    "My Agent 420HD Template": TemplateFacts("AudioCodes", "420HD"),
    "My Agent ISS v2 Template": TemplateFacts("ININ", "Interaction SIP Station II"),
}
HEADER_TMM = (
    "Name,Type,Manufacturer,Model,Proxy Group,Extension,Identification Address,Label,Address"
)


def texts(diags: Diagnostics) -> list[str]:
    return [
        d.text()
        for d in sorted(diags, key=lambda d: (d.position.line if d.position else 0, d.text()))
    ]


def read_bytes(raw: bytes, **kwargs: object) -> tuple[list[PhoneSpec], Diagnostics]:
    diags = Diagnostics()
    result = parse_phone_list_bytes(raw, "list.csv", diags, ReadOptions(doubts=True, **kwargs))  # type: ignore[arg-type]
    return result.phones, diags


def summary(phone: PhoneSpec) -> tuple[object, ...]:
    app = phone.appearances[0] if phone.appearances else None
    return (
        phone.name,
        phone.template,
        {k: v.value for k, v in phone.layer.items()},
        app.extension if app else None,
        app.identification_address if app else None,
        app.label if app else None,
        phone.address,
    )


# --- the guide's sample lists -------------------------------------------------------------


def test_guide_template_list() -> None:
    diags = Diagnostics()
    phones = read_phone_list(
        DATA / "guide-template.csv",
        "guide-template.csv",
        diags,
        ReadOptions(templates=LAB_TEMPLATES, doubts=True),
    )
    assert texts(diags) == [
        "guide-template.csv:7:Address: warning[mac-vendor]: MAC 00:90:8f:56:35:bb has the"
        " AudioCodes and Genesys prefix 00:90:8f, not ININ's (00:26:fd); check the address",
        "guide-template.csv:7:Label: warning[label-not-polycom]: label 'Line2' is not imported:"
        " labels are for Polycom phones only, and this phone is ININ",
    ]
    assert [summary(p) for p in phones] == [
        ("PolycomLobby1", "My Polycom SA Template", {}, "7101", None, "Lobby", "00:04:f2:aa:bb:cc"),
        ("PolycomAgent1", "My Polycom Agent Template", {}, "7201", None, "Line1", None),
        ("AgentSSP-PC1", "My Agent SSP Template", {}, "7301", None, None, "AgentPC1.lab.local"),
        ("AgentISS1", "My Agent ISS Template", {}, "7401", None, None, "00:26:fd:00:95:fd"),
        ("Agent420HD", "My Agent 420HD Template", {}, "7501", None, None, "00:90:8f:12:34:56"),
        ("AgentISS2", "My Agent ISS v2 Template", {}, "7601", None, None, "00:90:8f:56:35:bb"),
    ]
    assert all(p.origin == "csv" for p in phones)
    assert str(phones[0].position) == "guide-template.csv:2:Name"
    assert str(phones[0].address_position) == "guide-template.csv:2:Address"


def test_guide_tmm_list() -> None:
    diags = Diagnostics()
    result = parse_phone_list(
        DATA / "guide-tmm.csv", "guide-tmm.csv", diags, ReadOptions(doubts=True)
    )
    assert result.layout == "tmm"
    assert texts(diags) == [
        "guide-tmm.csv:2:Model: warning[end-of-life]: SoundPoint IP 330 is end of life:"
        " Genesys no longer supports it",
        "guide-tmm.csv:3:Model: warning[end-of-life]: SoundPoint IP 601 is end of life:"
        " Genesys no longer supports it",
        "guide-tmm.csv:5:Address: warning[bad-mac]: '0026DF00020' is not a MAC address: it has"
        " 11 hex digits, a MAC has 12 (write it as 00:04:f2:aa:bb:cc or 0004F2AABBCC);"
        " imported without an address",
        "guide-tmm.csv:5:Type: warning[workstation-only]: Interaction SIP Station is a"
        " workstation only, not a stand-alone phone; imported as Workstation",
        "guide-tmm.csv:7:Address: warning[mac-vendor]: MAC 00:90:8f:56:35:bb has the AudioCodes"
        " and Genesys prefix 00:90:8f, not ININ's (00:26:fd); check the address",
        "guide-tmm.csv:7:Label: warning[label-not-polycom]: label 'Line2' is not imported:"
        " labels are for Polycom phones only, and this phone is ININ",
        "guide-tmm.csv:7:Type: warning[workstation-only]: Interaction SIP Station II is a"
        " workstation only, not a stand-alone phone; imported as Workstation",
    ]
    iss = "Interaction SIP Station"
    ssp = "Remote Agent SSP - TLS"
    iss_group = "Remote Agent ISS - TCP"
    assert [summary(p) for p in result.phones] == [
        (
            "PolycomLobby2",
            None,
            {"type": "stand-alone", "manufacturer": "Polycom", "model": "IP330"},
            "7102",
            None,
            "Lobby",
            None,
        ),
        (
            "PolycomAgent2",
            None,
            {"type": "workstation", "manufacturer": "Polycom", "model": "IP601"},
            "7202",
            None,
            "Line1",
            "00:04:f2:04:f6:a9",
        ),
        (
            "AgentSSP-PC2",
            None,
            {
                "type": "workstation",
                "manufacturer": "ININ",
                "model": "Soft Phone",
                "registration_group": ssp,
            },
            "7302",
            "7302",
            None,
            None,
        ),
        (
            "AgentISS1",
            None,
            {
                "type": "workstation",
                "manufacturer": "ININ",
                "model": iss,
                "registration_group": iss_group,
            },
            "7402",
            "7402",
            None,
            None,
        ),
        (
            "Agent420HD",
            None,
            {"type": "stand-alone", "manufacturer": "AudioCodes", "model": "420HD"},
            "7502",
            "7502",
            None,
            "00:90:8f:12:34:56",
        ),
        (
            "AgentISS2",
            None,
            {
                "type": "workstation",
                "manufacturer": "ININ",
                "model": f"{iss} II",
                "registration_group": iss_group,
            },
            "7602",
            "7602",
            None,
            "00:90:8f:56:35:bb",
        ),
    ]
    group = result.phones[2].layer["registration_group"]
    assert group == Setting(ssp, "csv", group.position)
    assert str(group.position) == "guide-tmm.csv:4:Proxy Group"


def test_doubts_are_left_to_the_rules_stage_by_default() -> None:
    diags = Diagnostics()
    read_phone_list(DATA / "guide-tmm.csv", "guide-tmm.csv", diags)
    assert {d.code for d in diags} == {"bad-mac", "workstation-only", "label-not-polycom"}


# --- Excel-style files --------------------------------------------------------------------


def test_bom_semicolons_crlf_cp1252_quotes_reordered_trailing_blanks() -> None:
    utf8 = (
        "\ufeffaddress ; NAME;Extension;model;Manufacturer;Type;Label;;\r\n"
        '0004F2AABBCC;"Smith; Zoë";7101;VVX 450;polycom;Workstation;"Desk, 1";;\r\n'
        ";;;;;;;;\r\n"
        "\r\n"
    ).encode()
    phones, diags = read_bytes(utf8)
    assert texts(diags) == []
    assert [summary(p) for p in phones] == [
        (
            "Smith; Zoë",
            None,
            {"type": "workstation", "manufacturer": "Polycom", "model": "VVX 450"},
            "7101",
            None,
            "Desk, 1",
            "00:04:f2:aa:bb:cc",
        )
    ]
    cp1252 = utf8.decode("utf-8").lstrip("\ufeff").encode("cp1252")
    assert b"Zo\xeb" in cp1252
    again, diags = read_bytes(cp1252)
    assert texts(diags) == []
    assert [summary(p) for p in again] == [summary(p) for p in phones]


def test_comma_list_with_quoted_commas_and_lf() -> None:
    raw = b'Template,Name,Address\n"My Polycom SA Template","Lobby, ""East""",00-04-f2-00-00-01\n\n'
    diags = Diagnostics()
    result = parse_phone_list_bytes(raw, "x.csv", diags, ReadOptions(templates=LAB_TEMPLATES))
    assert result.layout == "template"
    assert [p.name for p in result.phones] == ['Lobby, "East"']
    assert result.phones[0].address == "00:04:f2:00:00:01"


def test_sniff_delimiter() -> None:
    assert sniff_delimiter("Name;Template;Address") == ";"
    assert sniff_delimiter('"Name, with comma";Template') == ";"
    assert sniff_delimiter("Name,Template") == ","
    assert sniff_delimiter("Name") == ","


def test_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    raw = f"{HEADER_TMM}\n\nA,Workstation,Polycom,VVX 4500,,1,,,\n".encode()
    phones, diags = read_bytes(raw)
    assert phones == []
    assert texts(diags) == [
        "list.csv:3:Model: error[unknown-model]: Polycom has no model 'VVX 4500'; did you mean"
        " 'VVX 500' or 'VVX 450' or 'VVX 400'?; row not imported"
    ]


# --- row errors, warnings and severe errors -----------------------------------------------


def test_row_errors_skip_the_row() -> None:
    raw = (
        f"{HEADER_TMM}\n"
        ",Workstation,Polycom,VVX 450,,1,,,\n"
        "B,Desk,Polycom,VVX 450,,2,,,\n"
        "C,Workstation,Polycon,VVX 450,,3,,,\n"
        "D,Workstation,Polycom,,,4,,,\n"
        "E,Workstation,Polycom,VVX450,,5,,,0004f2000005\n"
        "e,Workstation,Polycom,VVX450,,6,,,\n"
        "F,Workstation,Polycom,VVX450,,7,,,00:04:f2:00:00:05\n"
        "G,Workstation,Polycom,VVX450,,5,,,\n"
        "H/1,Workstation,Polycom,VVX450,,9,,,\n"
        "I,Workstation,Polycom,IP 450,,10,sip:agent10@10.0.0.1:5060,Ten,\n"
    ).encode()
    diags = Diagnostics()
    result = parse_phone_list_bytes(raw, "l.csv", diags)
    assert [p.name for p in result.phones] == ["E", "I"]
    assert result.phones[1].appearances[0].identification_address == "agent10"
    assert result.rejected_rows == [2, 3, 4, 5, 7, 8, 9, 10]
    assert texts(diags) == [
        "l.csv:2:Name: error[missing-name]: Name is required; row not imported",
        "l.csv:3:Type: error[bad-type]: type 'Desk' is not Workstation or Stand-alone Phone;"
        " row not imported",
        "l.csv:4:Manufacturer: error[unknown-manufacturer]: manufacturer 'Polycon' is not one"
        " of AudioCodes, Genesys, ININ, Polycom; did you mean 'Polycom'?; row not imported",
        "l.csv:5:Model: error[missing-model]: Model is required in a list without a template;"
        " row not imported",
        "l.csv:7:Name: error[duplicate-name]: name 'e' is already used in row 6; row not imported",
        "l.csv:8:Address: error[duplicate-mac]: MAC 00:04:f2:00:00:05 is already used in row 6;"
        " row not imported",
        "l.csv:9:Extension: error[duplicate-extension]: extension '5' is already used in row 6;"
        " row not imported",
        "l.csv:10:Name: error[bad-name]: name 'H/1' cannot become a file name (no '/', '\\',"
        " '..' or control characters); row not imported",
    ]


def test_unknown_template_and_group_with_suggestions() -> None:
    raw = (
        b"Name,Template,Proxy Group,Extension\n"
        b"A,My Polycom SA Templat,,1\n"
        b"B,My Polycom SA Template,Remote Agent ISS - UDP,2\n"
    )
    diags = Diagnostics()
    parse_phone_list_bytes(
        raw, "t.csv", diags, ReadOptions(templates=LAB_TEMPLATES, groups=["Remote Agent ISS - TCP"])
    )
    assert texts(diags) == [
        "t.csv:2:Template: error[unknown-template]: template 'My Polycom SA Templat' is not"
        " defined; did you mean 'My Polycom SA Template'?; row not imported",
        "t.csv:3:Proxy Group: error[unknown-registration-group]: registration group"
        " 'Remote Agent ISS - UDP' is not defined; did you mean 'Remote Agent ISS - TCP'?;"
        " row not imported",
    ]


def test_warnings_drop_or_keep_values() -> None:
    raw = (
        b"Name,Template,Extension,Label,Identification Address,Address,Colour\n"
        b"A,My Agent SSP Template,1,,sip: 321@ 10.0.0.1: 5060,not a host!,red\n"
        b"B,My Agent 420HD Template,,Desk,,00908F00000G\n"
        b"C,My Polycom SA Template,3,,a b,,,extra\n"
    )
    phones, diags = read_bytes(raw, templates=LAB_TEMPLATES)
    assert texts(diags) == [
        "list.csv:1:Colour: warning[unknown-column]: column 'Colour' is not a phone list column"
        " and is ignored",
        "list.csv:2:Address: warning[bad-computer-name]: 'not a host!' is not a full computer"
        " name (such as AgentPC1.lab.local); imported without an address",
        "list.csv:3:Address: warning[bad-mac]: '00908F00000G' is not a MAC address: 'G' is"
        " not a hex digit (a MAC has 12 of 0-9 and a-f, e.g. 00:04:f2:aa:bb:cc); imported"
        " without an address",
        "list.csv:3:Label: warning[label-not-polycom]: label 'Desk' is not imported: labels are"
        " for Polycom phones only, and this phone is AudioCodes",
        "list.csv:4:Identification Address: warning[bad-identification-address]: 'a b' is"
        " neither sip:user@host:port nor a bare user part; not imported",
        "list.csv:4:column H: warning[extra-value]: value 'extra' is in a column without a"
        " header and is ignored",
    ]
    assert [summary(p) for p in phones] == [
        ("A", "My Agent SSP Template", {}, "1", "321", None, None),
        ("B", "My Agent 420HD Template", {}, None, None, None, None),
        ("C", "My Polycom SA Template", {}, "3", None, None, None),
    ]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "empty-list"),
        (b"\n,,\n", "empty-list"),
        (b"Template,Address\nX,Y\n", "no-header"),
        (b"Name,Type,Model\nX,Workstation,VVX 450\n", "no-header"),
        (b"Name,name,Template\n", "duplicate-column"),
        (b"Name,Template\n\x00\x01", "binary-file"),
    ],
)
def test_severe_errors_import_nothing(raw: bytes, code: str) -> None:
    diags = Diagnostics()
    result = parse_phone_list_bytes(raw, "s.csv", diags)
    assert result.severe
    assert result.phones == []
    assert [d.code for d in diags.errors] == [code]


def test_unreadable_file(tmp_path: Path) -> None:
    diags = Diagnostics()
    result = parse_phone_list(tmp_path / "missing.csv", "missing.csv", diags)
    assert result.severe and result.unreadable
    assert [d.code for d in diags] == ["unreadable"]


# --- writing and the round trip -----------------------------------------------------------


def test_write_guide_list_and_read_again(tmp_path: Path) -> None:
    diags = Diagnostics()
    phones = read_phone_list(DATA / "guide-tmm.csv", "guide-tmm.csv", diags)
    text = write_phone_list(phones, "tmm")
    assert text.splitlines()[:3] == [
        HEADER_TMM,
        "Agent420HD,Stand-alone Phone,AudioCodes,420HD,,7502,7502,,00:90:8f:12:34:56",
        "AgentISS1,Workstation,ININ,Interaction SIP Station,Remote Agent ISS - TCP,7402,7402,,",
    ]
    path = tmp_path / "again.csv"
    path.write_text(text, encoding="utf-8")
    again = Diagnostics()
    assert [summary(p) for p in read_phone_list(path, "again.csv", again)] == sorted(
        (summary(p) for p in phones), key=lambda s: str(s[0])
    )
    assert texts(again) == []
    assert write_phone_list(read_phone_list(path, "again.csv", again), "tmm") == text


_text = (
    st.text(
        alphabet=st.sampled_from(string.ascii_letters + string.digits + " ,;\"'-_.éëß()"),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(lambda s: bool(s) and ".." not in s)
)
_models = st.sampled_from(
    [
        ("Polycom", "VVX 450", "00:04:f2"),
        ("Polycom", "IP 331", "64:16:7f"),
        ("AudioCodes", "420HD", "00:90:8f"),
        ("ININ", "Interaction SIP Station II", "00:26:fd"),
        ("ININ", "Soft Phone", ""),
    ]
)


@st.composite
def _phones(draw: st.DrawFn) -> list[PhoneSpec]:
    count = draw(st.integers(min_value=0, max_value=8))
    names = draw(st.lists(_text, min_size=count, max_size=count, unique_by=str.casefold))
    phones = []
    for i, name in enumerate(names):
        maker, model, prefix = draw(_models)
        kind = draw(st.sampled_from(["workstation", "stand-alone"]))
        if model.startswith("Interaction"):
            kind = "workstation"
        layer = {
            "type": Setting(kind, "csv", None),
            "manufacturer": Setting(maker, "csv", None),
            "model": Setting(model, "csv", None),
        }
        if draw(st.booleans()):
            layer["registration_group"] = Setting(draw(_text), "csv", None)
        address = None
        if draw(st.booleans()):
            address = f"{prefix}:00:{i // 256:02x}:{i % 256:02x}" if prefix else f"pc{i}.lab.local"
        appearances: tuple[AppearanceSpec, ...] = ()
        if draw(st.booleans()):
            label = draw(st.one_of(st.none(), _text)) if maker == "Polycom" else None
            ident = draw(st.one_of(st.none(), st.from_regex(r"\A[a-z0-9]{1,8}\Z")))
            appearances = (
                AppearanceSpec(
                    kind="private",
                    extension=str(1000 + i),
                    label=label,
                    identification_address=ident,
                ),
            )
        phones.append(
            PhoneSpec(
                name=name,
                template=None,
                location=None,
                address=address,
                appearances=appearances,
                layer=layer,
                position=None,
                origin="csv",
            )
        )
    return phones


@settings(max_examples=60, deadline=None)
@given(phones=_phones(), layout=st.sampled_from(["tmm", "normalised"]))
def test_round_trip_write_then_read(phones: list[PhoneSpec], layout: str) -> None:
    text = write_phone_list(phones, layout)  # type: ignore[arg-type]
    diags = Diagnostics()
    result = parse_phone_list_bytes(text.encode(), "rt.csv", diags)
    assert texts(diags) == []
    assert sorted(summary(p) for p in result.phones) == sorted(summary(p) for p in phones)
    assert write_phone_list(result.phones, layout) == text  # type: ignore[arg-type]


_MAC_NOTATIONS = [
    r"\A[0-9A-Fa-f]{2}([:\-.])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}\Z",  # 00:04:f2:aa:bb:cc
    r"\A[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\Z",  # 0004.f2aa.bbcc
    r"\A[0-9A-Fa-f]{6}-[0-9A-Fa-f]{6}\Z",  # 0004f2-aabbcc
    r"\A[0-9A-Fa-f]{12}\Z",  # 0004f2aabbcc
]


@given(
    st.from_regex(r"\A[0-9a-fA-Fg:.\- \t]{0,18}\Z")
    | st.from_regex(r"\A\s?[0-9a-fA-F]{2}([:\-.][0-9a-fA-F]{2}){5}\s?\Z")
    | st.from_regex(r"\A[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}[.:][0-9a-fA-F]{4}\Z")
    | st.from_regex(r"\A[0-9a-fA-F]{6}-[0-9a-fA-F]{6}\Z")
)
def test_normalize_mac_accepts_exactly_the_notations(text: str) -> None:
    import re

    from mipc.catalog.addresses import normalize_mac

    stripped = text.strip()
    if any(re.match(pattern, stripped) for pattern in _MAC_NOTATIONS):
        expected: str | None = re.sub(r"[^0-9A-Fa-f]", "", stripped).lower()
    else:
        expected = None
    assert normalize_mac(text) == expected
