"""What AudioCodes/Genesys and ISS phones receive for SRTP, languages and firmware names.

Real inventories (the lab example, edited) built through ``mipc.cli.main``; the files the
phones download are parsed back.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from mipc.cli import main
from tests.builders import edit

REPO = Path(__file__).parent.parent.parent
AC_TEMPLATE = "  My Agent 420HD Template:\n    manufacturer: AudioCodes\n    model: 420HD\n"
ISS_TEMPLATE = (
    "    model: Interaction SIP Station\n    registration_group: Remote Agent ISS - TCP\n"
)

Built = tuple[int, str, Path]


def built(tmp_path: Path, *pairs: str, store: dict[str, bytes] | None = None) -> Built:
    """The lab example with each (old, new) text pair replaced in its inventory (and the
    ``store`` files, by path under the inventory, written), built into ``tmp_path/out``: the
    exit code, everything printed, and the output folder."""
    lab = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", lab)
    edit(lab / "mipc.yaml", *pairs)
    for rel, data in (store or {}).items():
        (lab / rel).parent.mkdir(parents=True, exist_ok=True)
        (lab / rel).write_bytes(data)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(lab), "-o", str(out)])
    return result.exit_code, result.output, out


def keyvalue(path: Path) -> dict[str, str]:
    """A phone's ``<mac>.cfg`` as the phone reads it."""
    pairs = [line.split("=", 1) for line in path.read_text(encoding="ascii").splitlines()]
    return dict((key, value) for key, value in pairs)


SECURE = "    registration_group: <Default Secure Registration Group>\n"


def test_srtp_on_an_audiocodes_phone_is_an_error_naming_the_phone(tmp_path: Path) -> None:
    srtp = AC_TEMPLATE + SECURE + "    audio_protocol: srtp\n"
    code, output, out = built(tmp_path, AC_TEMPLATE, srtp)
    assert code == 1
    assert "Agent420HD-Lab" in output and "srtp" in output
    assert "audio_protocol: rtp" in output and "Traceback" not in output
    assert not (out / "current").exists()


def test_the_same_phone_with_rtp_over_tls_builds(tmp_path: Path) -> None:
    code, output, out = built(tmp_path, AC_TEMPLATE, AC_TEMPLATE + SECURE)
    assert code == 0, output
    kv = keyvalue(out / "current" / "www" / "00908f001006.cfg")
    assert kv["voip/signalling/sip/transport_protocol"] == "TLS"


def test_srtp_on_an_iss_is_refused_by_the_rules(tmp_path: Path) -> None:
    srtp = "    model: Interaction SIP Station\n" + SECURE + "    audio_protocol: srtp\n"
    code, output, _ = built(tmp_path, ISS_TEMPLATE, srtp)
    assert code == 1 and "does not support SRTP" in output


def test_a_factory_420hd_finds_its_firmware_under_its_own_upper_case_name(
    tmp_path: Path,
) -> None:
    site = 'voicemail_number: "*86"\n'
    image = {"fw/audiocodes/2.2.16.643/420hd.img": b"420HD image"}
    code, output, out = built(tmp_path, site, site + "firmware: {store: fw}\n", store=image)
    assert code == 0, output
    www = out / "current" / "www"
    assert (www / "420HD.img").read_bytes() == b"420HD image"  # the phone's default request
    assert (www / "420hd.img").read_bytes() == b"420HD image"  # the guide's option 67 name
    kv = keyvalue(www / "00908f001006.cfg")
    assert kv["provisioning/firmware/url"].endswith("/firmware/audiocodes/2.2.16.643/420hd.img")


def test_a_spanish_audiocodes_phone_gets_the_vendors_value(tmp_path: Path) -> None:
    spanish = AC_TEMPLATE + "    language: Spanish_Spain\n"
    code, output, out = built(tmp_path, AC_TEMPLATE, spanish)
    assert code == 0, output
    kv = keyvalue(out / "current" / "www" / "00908f001006.cfg")
    assert kv["personal_settings/language"] == "SPANISH"


def test_a_language_the_audiocodes_cannot_show_names_the_phone_and_its_languages(
    tmp_path: Path,
) -> None:
    french = AC_TEMPLATE + "    language: French_France\n"
    code, output, _ = built(tmp_path, AC_TEMPLATE, french)
    assert code == 1 and "Traceback" not in output
    line = next(line for line in output.splitlines() if "language-unsupported" in line)
    assert "mipc.yaml:78:" in line and "My Agent 420HD Template" in line
    assert "AudioCodes 420HD does not support French_France" in line
    assert "English_United_States" in line and "Spanish_Spain" in line


def test_an_iss_in_spanish_is_refused_with_its_languages(tmp_path: Path) -> None:
    spanish = ISS_TEMPLATE + "    language: Spanish_Spain\n"
    code, output, _ = built(tmp_path, ISS_TEMPLATE, spanish)
    assert code == 1
    assert "does not support Spanish_Spain; its languages: English_United_States" in output
