"""``mipc simulate --tree OUT``: every phone of the examples boots from a built tree with the
settings the test-suite players derive; missing and broken files, unknown MACs and trouble
give the documented exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.builders import served_path
from tests.simulate_helpers import EXAMPLES, build, expected, phones, settings, simulate


@pytest.fixture(scope="module", params=EXAMPLES)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(str(request.param), tmp_path_factory.mktemp("simulate"))


def test_every_phone_boots_with_the_players_settings(built: Path) -> None:
    for name, entry in phones(built).items():
        result = simulate(name, "--tree", str(built), "--format", "json", "--show-secrets")
        assert result.exit_code == 0, (name, result.output)
        assert settings(result) == expected(built, entry), name
        doc = json.loads(result.stdout)
        assert doc["phone"] == name and doc["family"] == entry["family"]
        fetched = {r["path"] for r in doc["requests"] if r["status"] == 200}
        assert {f.removeprefix("www/") for f in entry["files"]} <= fetched, name


def test_the_text_names_each_request_and_each_settings_file(tmp_path: Path) -> None:
    out = build("lab", tmp_path)
    result = simulate("00:04:F2:00:10:02", "--tree", str(out))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "PolycomAgent (polycom)"
    size = (out / "current" / "www" / "0004f2001002.cfg").stat().st_size
    assert lines[1] == f"GET 0004f2001002.cfg 200 {size} bytes"
    assert lines[2].startswith("HEAD firmware/polycom/6.4.5.1251/") and " 404  (" in lines[2]
    www = out / "current" / "www"
    own = served_path(www, "phone/1710df14-14a2-5847-a31b-9dd8e38b745d.cfg")
    own_name = own.relative_to(www).as_posix()  # its content-addressed name
    assert own_name != "phone/1710df14-14a2-5847-a31b-9dd8e38b745d.cfg"
    assert f"reg.1.address = 7002  ({own_name})" in lines
    assert f"reg.3.auth.password = <redacted>  ({own_name})" in lines
    assert "lab-only-partner-secret" not in result.stdout
    assert "PUT logs/0004f2001002-app.log  (would upload)" in lines
    assert "PUT contacts/0004f2001002-directory.xml  (would upload)" in lines
    quiet = simulate("PolycomAgent", "--tree", str(out), "-q")
    assert quiet.exit_code == 0 and quiet.output == ""
    github = simulate("AgentPC9.LAB.local", "--tree", str(out), "--format", "github")
    assert github.exit_code == 0 and "GET AgentPC9.lab.local.i3sipcfg 200" in github.stdout


def test_an_unknown_mac_takes_the_provisional_path(tmp_path: Path) -> None:
    out = build("lab", tmp_path)
    result = simulate("0004f2999999", "--tree", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [(r["path"], r["status"]) for r in doc["requests"][:2]] == [
        ("0004f2999999.cfg", 404),
        ("000000000000.cfg", 200),
    ]
    assert settings(result)["reg.1.label"] == "Setup"
    assert {u["path"] for u in doc["uploads"]} >= {"logs/0004f2999999-app.log"}


def test_a_deleted_listed_file_fails_naming_it(tmp_path: Path) -> None:
    out = build("lab", tmp_path)
    www = out / "current" / "www"
    group = served_path(www, "proxy/Branch-Survivable.cfg")
    group.unlink()
    name = group.relative_to(www).as_posix()
    result = simulate("PolycomAgent", "--tree", str(out))
    assert result.exit_code == 1
    assert f"GET {name} 404" in result.stdout
    assert result.stderr.strip() == f"mipc simulate: PolycomAgent would not boot: {name}: not found"
    (out / "current" / "www" / "0026fd001004.cfg").unlink()
    assert simulate("AgentISS-Lab", "--tree", str(out)).exit_code == 1


@pytest.mark.parametrize(
    ("phone", "file", "message"),
    [
        ("PolycomAgent", "server/xic.cfg", r"server/xic\.[0-9a-f]{8}\.cfg: not well-formed XML"),
        ("PolycomAgent", "0004f2001002.cfg", "0004f2001002.cfg: not well-formed XML"),
        ("AgentSSP-Lab", "AgentPC9.lab.local.i3sipcfg", "not well-formed XML"),
        ("Agent420HD-Lab", "00908f001006.cfg", "00908f001006.cfg: not key=value lines"),
    ],
)
def test_a_corrupted_file_fails_naming_it(
    tmp_path: Path, phone: str, file: str, message: str
) -> None:
    out = build("lab", tmp_path)
    target = served_path(out / "current" / "www", file)
    data = target.read_bytes()
    target.unlink()  # a hard link into earlier releases: replace, do not write through
    target.write_bytes(data[: len(data) // 2] if data.startswith(b"<") else b"<broken")
    result = simulate(phone, "--tree", str(out), "--format", "json")
    assert result.exit_code == 1
    assert re.search(message, json.loads(result.stdout)["error"])


def test_trouble_exits_2(tmp_path: Path) -> None:
    missing = simulate("PolycomAgent", "--tree", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    assert simulate("PolycomAgent").exit_code == 2  # neither --tree nor --url
    both = simulate("x", "--tree", str(tmp_path), "--url", "http://127.0.0.1:1")
    assert both.exit_code == 2
    unreachable = simulate("0004f2001002", "--url", "http://127.0.0.1:1")
    assert unreachable.exit_code == 2 and "cannot reach" in unreachable.stderr
    no_password = simulate("0004f2001002", "--url", "http://127.0.0.1:1", "--user", "u")
    assert no_password.exit_code == 2 and "--password-env" in no_password.stderr


def test_an_unknown_name_is_invalid(tmp_path: Path) -> None:
    out = build("lab", tmp_path)
    result = simulate("NoSuchPhone", "--tree", str(out))
    assert result.exit_code == 1 and "NoSuchPhone" in result.stderr
