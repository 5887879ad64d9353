"""Factory-default admin logins: ``admin_password`` replaces them where the family's files can
hold one, and every phone that keeps one (or cannot take one) is a warning.

One phone of each family (Polycom, AudioCodes, Genesys, ISS I and II, SIP Soft Phone) is built
with and without an admin password; the files each phone fetches are parsed and checked: the
Polycom parameter holds the secret, the AudioCodes/Genesys ``system/password`` its MD5-crypt
hash (checked by hashing again), the others nothing; the warnings name each template, its
family, the default and what to do.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mipc.catalog.advisories import AdvisoryDataError, read_advisories
from mipc.catalog.models import load_catalog
from mipc.cli import main
from mipc.render.keyvalue.hashes import hash_secret, md5_crypt

SECRET = "Adm1n secret & <more>"

INVENTORY = """\
mipc: 1
site:
  domain: test.voip
  provisioning_url: http://provision.test.voip/
  servers:
    - {name: ic1, address: 10.0.0.1}
lines:
  Stations-UDP: {transport: udp, port: 8060}
registration_groups:
  <Default Registration Group>:
    registrations: [{line: Stations-UDP}]
DEFAULTS
templates:
  Poly: {manufacturer: Polycom, model: VVX 450}
  AC: {manufacturer: AudioCodes, model: 420HD}
  GEN: {manufacturer: Genesys, model: 420HD}
  ISS1: {manufacturer: ININ, model: Interaction SIP Station}
  ISS2: {manufacturer: ININ, model: Interaction SIP Station II}
  SSP: {manufacturer: ININ, model: Soft Phone}
phones:
  - {name: P, template: Poly, address: 0004f2000001, appearances: [{extension: "7001"}]}
  - {name: A, template: AC, address: 00908f000002, appearances: [{extension: "7002"}]}
  - {name: G, template: GEN, address: 00908f000003, appearances: [{extension: "7003"}]}
  - {name: I1, template: ISS1, address: 0026fd000004, appearances: [{extension: "7004"}]}
  - {name: I2, template: ISS2, address: 00908f000005, appearances: [{extension: "7005"}]}
  - {name: S, template: SSP, address: pc1.test.voip, appearances: [{extension: "7006"}]}
"""

WITH = "defaults:\n  admin_password: {file: admin.txt}\n"


def _inventory(tmp_path: Path, defaults: str, edit: tuple[str, str] = ("", "")) -> Path:
    root = tmp_path / "inv"
    root.mkdir()
    text = INVENTORY.replace("DEFAULTS\n", defaults)
    if edit[0]:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1], 1)
    (root / "mipc.yaml").write_text(text, encoding="utf-8")
    (root / "admin.txt").write_text(SECRET + "\n", encoding="utf-8")
    return root


def _build(root: Path) -> tuple[Result, Path]:
    out = root.parent / "out"
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result, out / "current" / "www"


def _warnings(result: Result, code: str) -> list[str]:
    return [line for line in result.stderr.splitlines() if f"warning[{code}]" in line]


def _template(line: str) -> str:
    found = re.search(r"template '(\w+)'", line)
    assert found is not None, line
    return found.group(1)


def _keyvalue(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_bytes().decode("ascii").splitlines():
        key, sep, value = line.partition("=")
        assert sep and key not in out, line
        out[key] = value
    return out


def _polycom(www: Path, mac: str) -> dict[str, str]:
    """Every parameter the Polycom phone reads, the first file that sets one winning."""
    master = ET.fromstring((www / f"{mac}.cfg").read_bytes())
    effective: dict[str, str] = {}
    for name in master.attrib["CONFIG_FILES"].split(","):
        path = www / name.strip()
        if path.is_file():
            for element in ET.fromstring(path.read_bytes()).iter():
                for key, value in element.attrib.items():
                    effective.setdefault(key, value)
    return effective


def _secret_nowhere_but_polycom(www: Path) -> None:
    """The secret's bytes are in the Polycom phone's own file only."""
    holders = {p.name for p in www.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()}
    assert holders == set()  # XML-escaped there: & and < never appear raw
    escaped = SECRET.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()
    holders = {p.parent.name for p in www.rglob("*.cfg") if escaped in p.read_bytes()}
    assert holders == {"phone"}


# --- with an admin password -----------------------------------------------------------------


def test_polycom_gets_the_secret_in_its_admin_parameter(tmp_path: Path) -> None:
    _, www = _build(_inventory(tmp_path, WITH))
    params = _polycom(www, "0004f2000001")
    assert params["device.auth.localAdminPassword"] == SECRET
    assert params["device.auth.localAdminPassword.set"] == "1"
    assert params["device.set"] == "1"
    _secret_nowhere_but_polycom(www)


@pytest.mark.parametrize("mac", ["00908f000002", "00908f000003"])  # AudioCodes, Genesys
def test_audiocodes_and_genesys_get_the_md5_crypt_hash(tmp_path: Path, mac: str) -> None:
    _, www = _build(_inventory(tmp_path, WITH))
    value = _keyvalue(www / f"{mac}.cfg")["system/password"]
    found = re.fullmatch(r"\$1\$([./0-9A-Za-z]{8})\$[./0-9A-Za-z]{22}", value)
    assert found is not None, value
    assert md5_crypt(SECRET, found.group(1)) == value  # the hash of this secret, this salt
    assert SECRET.encode() not in (www / f"{mac}.cfg").read_bytes()


def test_the_hash_is_the_same_on_every_build(tmp_path: Path) -> None:
    _, www = _build(_inventory(tmp_path, WITH))
    first = _keyvalue(www / "00908f000002.cfg")["system/password"]
    assert first == hash_secret("md5-crypt", SECRET)
    assert _keyvalue(www / "00908f000003.cfg")["system/password"] == first


@pytest.mark.parametrize("mac", ["0026fd000004", "00908f000005"])  # ISS I, ISS II
def test_iss_gets_nothing_and_each_template_warns(tmp_path: Path, mac: str) -> None:
    result, www = _build(_inventory(tmp_path, WITH))
    keys = _keyvalue(www / f"{mac}.cfg")
    assert not [k for k in keys if "password" in k and not k.startswith("voip/line/")]
    assert SECRET.encode() not in (www / f"{mac}.cfg").read_bytes()
    warned = _warnings(result, "factory-admin-password")
    assert len(warned) == 2  # ISS1 and ISS2, nothing for the families that took it
    for template, model in (("ISS1", "Station (family"), ("ISS2", "Station II (family")):
        [line] = [w for w in warned if f"template '{template}'" in w]
        assert f"admin_password is not written for the Interaction SIP {model} iss)" in line
        assert "admin login admin/1234" in line and "web interface" in line
        assert line.startswith(f"{tmp_path / 'inv' / 'mipc.yaml'}:13:")  # where it is set


def test_soft_phone_has_no_admin_login(tmp_path: Path) -> None:
    result, www = _build(_inventory(tmp_path, WITH))
    [profile] = list(www.glob("pc1.test.voip.*"))
    assert SECRET.encode() not in profile.read_bytes()
    assert b"dmin" not in profile.read_bytes()
    assert _warnings(result, "admin-password-unused") == []  # defaults: is for every family


def test_an_admin_password_on_a_soft_phone_template_warns(tmp_path: Path) -> None:
    edit = (
        "SSP: {manufacturer: ININ, model: Soft Phone}",
        "SSP: {manufacturer: ININ, model: Soft Phone, admin_password: {file: admin.txt}}",
    )
    result, _ = _build(_inventory(tmp_path, WITH, edit))
    [line] = _warnings(result, "admin-password-unused")
    assert "template 'SSP': admin_password is not written for the Soft Phone" in line
    assert "(family softphone)" in line and "no admin web interface" in line


def test_a_password_changed_by_hand_silences_only_that_template(tmp_path: Path) -> None:
    """An administrator who changed the ISS's login on each phone says so in its template:
    that template no longer warns, the other ISS template still does, nothing is written."""
    edit = (
        "ISS1: {manufacturer: ININ, model: Interaction SIP Station}",
        "ISS1: {manufacturer: ININ, model: Interaction SIP Station,"
        " admin_password_changed_by_hand: true}",
    )
    result, www = _build(_inventory(tmp_path, WITH, edit))
    warned = _warnings(result, "factory-admin-password")
    assert [_template(w) for w in warned] == ["ISS2"]
    assert "then set admin_password_changed_by_hand: true in the template" in warned[0]
    assert not [k for k in _keyvalue(www / "0026fd000004.cfg") if "admin" in k]


def test_changed_by_hand_false_still_warns(tmp_path: Path) -> None:
    edit = (
        "ISS1: {manufacturer: ININ, model: Interaction SIP Station}",
        "ISS1: {manufacturer: ININ, model: Interaction SIP Station,"
        " admin_password_changed_by_hand: false}",
    )
    result, _ = _build(_inventory(tmp_path, WITH, edit))
    assert sorted(_template(w) for w in _warnings(result, "factory-admin-password")) == [
        "ISS1",
        "ISS2",
    ]


# --- without one --------------------------------------------------------------------------


def test_every_family_with_a_factory_login_warns_without_one(tmp_path: Path) -> None:
    result, www = _build(_inventory(tmp_path, ""))
    warned = {_template(w): w for w in _warnings(result, "factory-admin-password")}
    assert sorted(warned) == ["AC", "GEN", "ISS1", "ISS2", "Poly"]  # not the soft phone
    assert "(family polycom) keeps its factory-default admin login Polycom/456" in warned["Poly"]
    audiocodes = "(family audiocodes) keeps its factory-default admin login admin/1234"
    assert audiocodes in warned["AC"] and audiocodes in warned["GEN"]
    for template in ("Poly", "AC", "GEN"):
        assert "admin_password: {env: MIPC_ADMIN_PASSWORD}" in warned[template]
    for template in ("ISS1", "ISS2"):
        assert "mipc cannot replace it" in warned[template]
        assert "admin_password is not written" not in warned[template]
    assert "device.auth.localAdminPassword" not in _polycom(www, "0004f2000001")
    for mac in ("00908f000002", "00908f000003"):
        assert "system/password" not in _keyvalue(www / f"{mac}.cfg")


def test_a_template_without_one_warns_where_others_have_it(tmp_path: Path) -> None:
    edit = (
        "Poly: {manufacturer: Polycom, model: VVX 450}",
        "Poly: {manufacturer: Polycom, model: VVX 450, admin_password: {file: admin.txt}}",
    )
    result, www = _build(_inventory(tmp_path, "", edit))
    warned = _warnings(result, "factory-admin-password")
    assert not [w for w in warned if "template 'Poly'" in w]
    assert [w for w in warned if "template 'AC'" in w]
    assert _polycom(www, "0004f2000001")["device.auth.localAdminPassword"] == SECRET


# --- the data -----------------------------------------------------------------------------


def test_every_family_says_its_factory_login() -> None:
    catalog = load_catalog()
    factory = catalog.advisories.factory_admin
    assert set(factory) == set(catalog.families)
    assert factory["polycom"].login == "Polycom/456" and factory["polycom"].written
    assert factory["audiocodes"].login == "admin/1234" and factory["audiocodes"].written
    assert factory["iss"].login == "admin/1234" and not factory["iss"].written
    assert factory["softphone"].password is None and not factory["softphone"].written
    assert all(f.source for f in factory.values())


def test_a_family_missing_from_the_data_is_refused() -> None:
    raw: dict[str, object] = {"security": [], "known_issues": [], "factory_admin": {}}
    with pytest.raises(AdvisoryDataError, match="exactly the families"):
        read_advisories(raw, set(), {"polycom"})


# --- md5-crypt ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "salt", "expected"),
    [
        # a 310HD's own configuration export: the factory password 1234
        ("1234", "FZ6rOGS1", "$1$FZ6rOGS1$54ZXSmjh7nod.kXFRyLx70"),
        # openssl passwd -1 -salt SALT PASSWORD
        ("", "abc", "$1$abc$Or2rbeUYTvt12aiVzMuS/."),
        ("x" * 40, "s", "$1$s$/qU56AV814za6ztngbplW."),
        ("pässwörd", "12345678", "$1$12345678$mQ1/t.WwP76MO4VquZEL.0"),
    ],
)
def test_md5_crypt_known_vectors(password: str, salt: str, expected: str) -> None:
    assert md5_crypt(password, salt) == expected


def test_md5_crypt_refuses_a_bad_salt() -> None:
    for salt in ("", "123456789", "a$b"):
        with pytest.raises(ValueError, match="salt"):
            md5_crypt("x", salt)


def test_the_derived_salt_follows_the_secret() -> None:
    one, two = hash_secret("md5-crypt", "one"), hash_secret("md5-crypt", "two")
    assert one == hash_secret("md5-crypt", "one")
    assert one.split("$")[2] != two.split("$")[2]
