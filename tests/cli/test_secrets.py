"""Secrets: ``OUT/.inputs.key`` keys their recorded digests, and no value ever leaves mipc
outside the phones' files."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.incremental.inputs import KEY, KEY_BYTES, MIN_KEY_BYTES, secret_key

REPO = Path(__file__).parent.parent.parent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", target)
    return target


# --- the key -------------------------------------------------------------------------------


def test_the_key_is_made_of_random_bytes_for_its_owner_only(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        key = secret_key(tmp_path)
    finally:
        os.umask(old)
    path = tmp_path / KEY
    assert len(key) == KEY_BYTES
    assert path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(tmp_path) == key
    assert secret_key(tmp_path / ".." / tmp_path.name) == key
    other = tmp_path / "other"
    other.mkdir()
    assert secret_key(other) != key


def _one_line_error(code: int, stdout: str, stderr: str, verb: str) -> None:
    assert code == 2, stdout + stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"mipc {verb}: ")
    assert KEY in lines[0]
    assert "delete it" in lines[0]


@pytest.mark.parametrize("content", [b"", b"\n", b"x" * (MIN_KEY_BYTES - 1)])
def test_a_short_key_is_an_error_before_and_after_a_first_build(
    lab: Path, tmp_path: Path, content: bytes
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / KEY).write_bytes(content)
    _one_line_error(*run("build", str(lab), "-o", str(out), "--force"), "build")
    assert not (out / "inputs.json").exists()
    (out / KEY).unlink()
    assert run("build", str(lab), "-o", str(out))[0] == 0
    (out / KEY).write_bytes(content)
    _one_line_error(*run("build", str(lab), "-o", str(out)), "build")
    _one_line_error(*run("diff", str(lab), "--against", str(out / "current")), "diff")


def test_a_key_of_the_fewest_bytes_is_used(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / KEY).write_bytes(b"k" * MIN_KEY_BYTES)
    assert run("build", str(lab), "-o", str(out))[0] == 0
    assert (out / KEY).read_bytes() == b"k" * MIN_KEY_BYTES
    assert "unchanged" in run("build", str(lab), "-o", str(out))[1]


# --- no secret value in anything mipc prints or writes outside www/ ------------------------

#: Environment variable -> a unique password (the file secret is PARTNER).
GOOD = {
    "MIPC_T_ADMIN": "Zq7admin8Kp",
    "MIPC_T_LOBBY": "Zq7lobby3Rt",
    "MIPC_T_SSP": "Zq7ssp9Wm",
    "MIPC_T_ISS": "Zq7iss4Hn",
    "MIPC_T_ISS2": "Zq7isstwo5Jd",
    "MIPC_T_420": "Zq7hd420Bv",
}
PARTNER = "Zq7partner2Xc"
#: The same passwords, each made to fail where it is written: a control character or '=' on
#: a key=value line, over the family's length limit, through an override's ``kv`` filter,
#: and unescaped in an override of the Polycom layout.
BAD = {
    "MIPC_T_ADMIN": GOOD["MIPC_T_ADMIN"] + '"<',
    "MIPC_T_LOBBY": GOOD["MIPC_T_LOBBY"],
    "MIPC_T_SSP": GOOD["MIPC_T_SSP"] + "\ntail",
    "MIPC_T_ISS": GOOD["MIPC_T_ISS"] + "\x01",
    "MIPC_T_ISS2": GOOD["MIPC_T_ISS2"] + "x" * 40,
    "MIPC_T_420": GOOD["MIPC_T_420"] + "=x",
}
TOKENS = [*GOOD.values(), PARTNER]
FORMATS = ("text", "json", "github")


def _with_secrets(lab: Path) -> None:
    """Every secret-bearing field of the lab set from a variable (or the partner's file)."""
    path = lab / "mipc.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in (
        (
            "  admin_password: {file: secrets/admin.txt}  # replaces the factory admin logins\n",
            "  admin_password: {env: MIPC_T_ADMIN}\n",
        ),
        ("sharable: true}", "sharable: true, auth: {user: lobby, password: {env: MIPC_T_LOBBY}}}"),
        ('"7003"}', '"7003", auth: {user: ssp, password: {env: MIPC_T_SSP}}}'),
        ('"7004"}', '"7004", auth: {user: iss, password: {env: MIPC_T_ISS}}}'),
        ('"7005"}', '"7005", auth: {user: iss2, password: {env: MIPC_T_ISS2}}}'),
        ('"7006"}', '"7006", auth: {user: hd, password: {env: MIPC_T_420}}}'),
    ):
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    (lab / "secrets" / "partner-pbx.txt").write_text(PARTNER + "\n", encoding="utf-8")


def _overrides(lab: Path) -> None:
    """A soft phone template that writes its password through ``kv``, and a Polycom layout
    that does not escape values."""
    shipped = REPO / "vendor_templates"
    for rel, old, new in (
        ("softphone/phone.i3sipcfg.j2", "line.auth_password | xml", "line.auth_password | kv"),
        ("polycom/_params.j2", "value|xml", "value"),
    ):
        text = (shipped / rel).read_text(encoding="utf-8")
        assert old in text
        target = lab / "vendor_templates" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace(old, new), encoding="utf-8")


def _written(out: Path) -> dict[str, bytes]:
    """Every file of OUT but the phones' own (``www/``)."""
    found = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if path.is_file() and not path.is_symlink() and "www" not in rel.parts:
            found[rel.as_posix()] = path.read_bytes()
    return found


def _commands(lab: Path, out: Path) -> list[list[str]]:
    runs = []
    for fmt in FORMATS:
        runs.append(["validate", str(lab), "--format", fmt])
        runs.append(["build", str(lab), "-o", str(out), "--format", fmt])
        runs.append(["diff", str(lab), "--against", str(out / "current"), "--format", fmt])
        for phone in ("PolycomAgent", "AgentSSP-Lab", "Agent420HD-Lab", "AgentISS2-Lab"):
            runs.append(["explain", phone, str(lab), "--format", fmt])
    return runs


def _leaks(printed: dict[str, bytes]) -> list[str]:
    found = []
    for where, data in printed.items():
        for token in TOKENS:
            for form in (token, token.encode().hex(), json_escaped(token)):
                if form.encode() in data:
                    found.append(f"{token} in {where}")
    return found


def json_escaped(text: str) -> str:
    """``text`` as a JSON string's body."""
    return json.dumps(text)[1:-1]


def test_no_secret_value_is_printed_or_written_outside_www(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_secrets(lab)
    out = tmp_path / "out"
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    printed: dict[str, bytes] = {}
    code, stdout, stderr = run("build", str(lab), "-o", str(out))
    assert code == 0, stdout + stderr
    www = b"".join(p.read_bytes() for p in (out / "current" / "www").rglob("*") if p.is_file())
    assert all(token.encode() in www for token in TOKENS)  # the phones do get them
    for args in _commands(lab, out):
        printed[" ".join(args)] = "\n".join(run(*args)[1:]).encode()
    _overrides(lab)
    for name, value in BAD.items():
        monkeypatch.setenv(name, value)
    for args in _commands(lab, out):
        code, stdout, stderr = run(*args)
        printed["bad: " + " ".join(args)] = (stdout + stderr).encode()
        if args[0] in ("validate", "build", "diff"):
            assert code != 0, (args, stdout, stderr)
    printed.update(_written(out))
    assert _leaks(printed) == []
    validated = printed["bad: validate " + str(lab) + " --format text"].decode()
    assert validated.count("<redacted>") >= 2, validated  # the errors were provoked
    for part in ("auth_password", "at most 35", "key=value line", "not well-formed XML"):
        assert part in validated, (part, validated)
