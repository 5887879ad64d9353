"""An inventory's ``vendor_templates/``: templates that extend the shipped ones by block,
templates in another syntax, and the Polycom option mapping, each built through the CLI."""

from __future__ import annotations

import configparser
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.render.polycom import iter_params, phone_guid
from tests.builders import served_path

REPO = Path(__file__).parent.parent.parent


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", target)
    return target


def override(lab: Path, name: str, text: str) -> None:
    path = lab / "vendor_templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build(lab: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["build", str(lab), "-o", str(out)], catch_exceptions=False)
    return result.exit_code, result.output


def www(out: Path) -> Path:
    return out / "current" / "www"


def polycom_params(out: Path, path: str) -> dict[str, str]:
    return dict(iter_params(served_path(www(out), path).read_bytes()))


def test_a_polycom_override_adds_a_parameter_by_extending_a_block(
    lab: Path, tmp_path: Path
) -> None:
    override(
        lab,
        "polycom/phone.cfg.j2",
        '{% extends "polycom/phone.cfg.j2" %}\n'
        "{% block extra %}\n"
        '  <site feature.callRecording.enabled="1"/>\n'
        "{% endblock %}\n",
    )
    override(
        lab,
        "polycom/server.cfg.j2",
        '{% extends "mipc/polycom/server.cfg.j2" %}\n'
        '{% block extra %}  <site up.headsetMode="1"/>\n{% endblock %}\n',
    )
    code, output = build(lab, tmp_path / "out")
    assert code == 0, output
    phone = polycom_params(tmp_path / "out", f"phone/{phone_guid('PolycomLobby')}.cfg")
    assert phone["feature.callRecording.enabled"] == "1"
    assert phone["reg.1.address"] == "7001"  # the shipped blocks are still there
    server = polycom_params(tmp_path / "out", "server/xic.cfg")
    assert server["up.headsetMode"] == "1" and server["efk.version"] == "2"


INI = """{#- syntax: ini -#}
[{{ system_type }}]
{% for key, value in settings %}
{{ key }} = {{ value | kv }}
{% endfor %}
"""


def test_an_iss_override_in_ini_syntax_builds(lab: Path, tmp_path: Path) -> None:
    override(lab, "iss/phone.cfg.j2", INI)
    code, output = build(lab, tmp_path / "out")
    assert code == 0, output
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string((www(tmp_path / "out") / "0026fd001004.cfg").read_text(encoding="ascii"))
    assert parser.sections() == ["SIP100"]
    assert parser["SIP100"]["system/type"] == "SIP100"


def test_an_override_that_breaks_its_declared_syntax_fails_the_build(
    lab: Path, tmp_path: Path
) -> None:
    override(lab, "iss/phone.cfg.j2", INI.replace("[{{ system_type }}]\n", ""))
    code, output = build(lab, tmp_path / "out")
    assert code != 0 and "is not an INI file" in output
    # undeclared, an ISS override must still be mipc's key=value (a fresh inventory: one
    # process reads a folder's templates once)
    other = tmp_path / "other"
    shutil.copytree(REPO / "examples" / "lab", other)
    override(other, "iss/phone.cfg.j2", INI.replace("{#- syntax: ini -#}\n", ""))
    code, output = build(other, tmp_path / "out2")
    assert code != 0 and "not a key=value line" in output


def test_an_override_of_the_mapping_changes_the_parameter_an_option_writes(
    lab: Path, tmp_path: Path
) -> None:
    override(
        lab,
        "polycom/mapping.yaml",
        "options:\n"
        "  - {option: one_touch_voicemail, params: [up.mwiVisible], transform: boolean}\n",
    )
    code, output = build(lab, tmp_path / "out")
    assert code == 0, output
    phone = polycom_params(tmp_path / "out", f"phone/{phone_guid('PolycomLobby')}.cfg")
    assert phone["up.mwiVisible"] == "1"
    assert "up.oneTouchVoiceMail" not in phone
    assert phone["voice.volume.persist.handset"] == "1"  # the other entries stay


def test_a_malformed_mapping_override_names_the_file(lab: Path, tmp_path: Path) -> None:
    override(lab, "polycom/mapping.yaml", "options:\n  - {option: dial_plan, transform: upper}\n")
    code, output = build(lab, tmp_path / "out")
    assert code != 0
    assert "mapping.yaml" in output and "unknown transform 'upper'" in output
