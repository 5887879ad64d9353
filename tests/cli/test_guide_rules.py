"""The guide's rules and defaults, through ``mipc validate`` and ``mipc build`` on copies of
the lab: QoS in the guide's hex form, Polycom security notices, the Trio 8800 voicemail issue
and factory-default admin passwords."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mipc.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
LAB = ROOT / "examples" / "lab"


def lab_copy(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """A copy of the lab with ``old`` replaced by ``new`` once in its mipc.yaml."""
    inv = tmp_path / "lab"
    shutil.copytree(LAB, inv)
    path = inv / "mipc.yaml"
    text = path.read_text(encoding="utf-8")
    if old:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return inv


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def diagnostics(result: Result, code: str) -> list[str]:
    """The printed diagnostics with this code."""
    assert "Traceback" not in result.output
    return [line for line in result.stderr.splitlines() if f"[{code}]" in line]


# --- QoS as the guide writes it -----------------------------------------------------------


@pytest.mark.parametrize("written", ["B8", "b8", "0xB8", "B8h", "46"])
def test_guide_hex_tos_is_dscp_46(tmp_path: Path, written: str) -> None:
    value = written if written == "46" else f'"{written}"'
    inv = lab_copy(
        tmp_path, "qos: {rtp_dscp: 46, sip_dscp: 24}", f'qos: {{rtp_dscp: {value}, sip_dscp: "60"}}'
    )
    out = tmp_path / "out"
    result = run("build", str(inv), "-o", str(out))
    assert result.exit_code == 0, result.output
    text = (out / "current" / "www" / "0004f2001001.cfg").read_text(encoding="utf-8")
    phone_files = list((out / "current" / "www" / "phone").glob("*.cfg"))
    params = "".join(p.read_text(encoding="utf-8") for p in phone_files) + text
    assert 'qos.ip.rtp.dscp="46"' in params
    assert 'qos.ip.callControl.dscp="24"' in params


def test_quoted_decimal_is_read_as_hex_and_says_so(tmp_path: Path) -> None:
    inv = lab_copy(tmp_path, "rtp_dscp: 46", 'rtp_dscp: "46"')
    result = run("validate", str(inv))
    assert result.exit_code == 1
    (line,) = diagnostics(result, "bad-dscp")
    assert "mipc.yaml:50:" in line and "write it without quotes" in line


def test_unquoted_guide_hex_warns(tmp_path: Path) -> None:
    inv = lab_copy(tmp_path, "sip_dscp: 24", "sip_dscp: 60")
    result = run("validate", str(inv))
    assert result.exit_code == 0
    (line,) = diagnostics(result, "dscp-not-hex")
    assert 'write "60"' in line and "DSCP 24" in line
