"""``mipc diff`` on a copy of examples/lab built with ``mipc build``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.diff.compare import diff
from mipc.pipeline import validate
from mipc.pipeline.compare import inventory_snapshot
from mipc.release.reader import load_release

REPO = Path(__file__).parent.parent.parent
SECRET = (REPO / "examples" / "lab" / "secrets" / "partner-pbx.txt").read_text().strip()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release of the unchanged lab (built once for the module)."""
    root = tmp_path_factory.mktemp("built")
    shutil.copytree(REPO / "examples" / "lab", root / "lab")
    code, stdout, stderr = run("build", str(root / "lab"), "-o", str(root / "out"))
    assert code == 0, stdout + stderr
    return root / "out"


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", target)
    return target


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def edit(lab: Path, old: str, new: str) -> None:
    path = lab / "mipc.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def setting_lines(stdout: str) -> list[str]:
    """The per-phone lines (``NAME  ...``), without the header, shared files and summary."""
    lines = stdout.splitlines()[1:]
    return [ln for ln in lines if ln and not ln.startswith((" ", "shared files:", "phones:"))]


def test_no_change(lab: Path, built: Path) -> None:
    code, stdout, _ = run("diff", str(lab), "--against", str(built))
    assert code == 0
    assert "no changes" in stdout
    assert run("diff", str(lab), "--against", str(built), "-q") == (0, "", "")


def test_one_extension(lab: Path, built: Path) -> None:
    edit(lab, '{extension: "7004"}', '{extension: "7014"}')
    code, stdout, _ = run("diff", str(lab), "--against", str(built))
    assert code == 1
    assert setting_lines(stdout) == [
        'AgentISS-Lab  voip/line/0/id: "7004" → "7014"',
        'AgentISS-Lab  voip/line/0/auth_name: "7004" → "7014"',
        "AgentISS-Lab  files changed: www/0026fd001004.cfg",
    ]
    assert "phones: 1 changed, 0 added, 0 removed, 5 unchanged" in stdout
    code, stdout, _ = run("diff", str(lab), "--against", str(built), "--changed-macs")
    assert (code, stdout) == (1, "0026fd001004\n")
    assert run("diff", str(lab), "--against", str(built), "-q") == (1, "", "")


def test_polycom_label(lab: Path, built: Path) -> None:
    edit(lab, "label: Lobby, sharable: true", 'label: "Front Desk", sharable: true')
    code, stdout, _ = run("diff", str(lab), "--against", str(built))
    assert code == 1
    assert 'PolycomLobby  reg.1.label: "Lobby" → "Front Desk"' in stdout
    assert "PolycomAgent" not in stdout  # its shared line keeps its own label


def test_template_option_lists_every_phone_of_the_template(lab: Path, built: Path) -> None:
    edit(lab, "volume_persistence: true", "volume_persistence: false")
    code, stdout, _ = run("diff", str(lab), "--against", str(built))
    assert code == 1
    phones = {ln.split()[0] for ln in setting_lines(stdout)}
    # My Polycom SA Template extends My Polycom Agent Template: both phones follow
    assert phones == {"PolycomAgent", "PolycomLobby"}
    for name in phones:
        assert f'{name}  voice.volume.persist.handset: "1" → "0"' in stdout


def test_registration_group(lab: Path, built: Path) -> None:
    edit(
        lab,
        "<Default Registration Group>:\n    registrations: [{line: Stations-UDP}]",
        "<Default Registration Group>:\n    registrations: [{line: Stations-TCP}]",
    )
    code, stdout, _ = run("diff", str(lab), "--against", str(built))
    assert code == 1
    assert "www/proxy/_3CDefault-Registration-Group_3E.cfg" in stdout
    assert 'PolycomLobby  voIpProt.server.1.transport: "UDPOnly" → "TCPOnly"' in stdout
    # the phones of the group: the Polycom one through its group file, the others in theirs
    assert 'AgentISS2-Lab  voip/signalling/sip/transport_protocol: "UDP" → "TCP"' in stdout
    assert {ln.split()[0] for ln in setting_lines(stdout)} == {
        "Agent420HD-Lab",
        "AgentISS2-Lab",
        "PolycomLobby",
    }


def test_shared_file_lists_its_phones(lab: Path, built: Path) -> None:
    edit(lab, "- {name: vm40ic2, address: 10.250.1.152}", "- {name: vm40ic2, address: 10.250.1.9}")
    code, stdout, _ = run("diff", str(lab), "--against", str(built))
    assert code == 1
    assert "shared files:" in stdout
    assert "www/proxy/Branch-Survivable.cfg" in stdout
    report = json.loads(run("diff", str(lab), "--against", str(built), "--format", "json")[1])
    dhcp = next(f for f in report["files"] if f["path"] == "network/dhcpd.conf")
    assert dhcp["shared"] and dhcp["phones"] == []


def test_firmware_pin(lab: Path, built: Path) -> None:
    edit(lab, "\nphones:\n", "\nfirmware:\n  pins: {VVX450: 6.4.5.1210}\n\nphones:\n")
    code, stdout, _ = run("diff", str(lab), "--against", str(built))
    assert code == 1
    assert "PolycomLobby  firmware: 6.4.5.1251 → 6.4.5.1210" in stdout
    assert "PolycomAgent  firmware: 6.4.5.1251 → 6.4.5.1210" in stdout
    assert 'APP_FILE_PATH: "firmware/polycom/6.4.5.1251/' in stdout


def test_password_redacted_but_reported(lab: Path, built: Path) -> None:
    (lab / "secrets" / "partner-pbx.txt").write_text("a-brand-new-secret\n")
    for extra in ((), ("--files",), ("--format", "json"), ("--format", "github")):
        code, stdout, _ = run("diff", str(lab), "--against", str(built), *extra)
        assert code == 1
        assert "<redacted>" in stdout
        assert "a-brand-new-secret" not in stdout and SECRET not in stdout, extra
    code, stdout, _ = run("diff", str(lab), "--against", str(built))
    assert setting_lines(stdout)[0] == "PolycomAgent  reg.3.auth.password: <redacted> (changed)"
    code, stdout, _ = run("diff", str(lab), "--against", str(built), "--show-secrets")
    assert f'"{SECRET}" → "a-brand-new-secret"' in stdout


def test_files_gives_unified_diffs(lab: Path, built: Path) -> None:
    edit(lab, '{extension: "7006"}', '{extension: "7016"}')
    code, stdout, _ = run("diff", str(lab), "--against", str(built), "--files")
    assert code == 1
    assert "--- a/www/00908f001006.cfg\n+++ b/www/00908f001006.cfg\n" in stdout
    assert "-voip/line/0/id=7006\n+voip/line/0/id=7016\n" in stdout


def test_json_validates_against_schema(lab: Path, built: Path) -> None:
    schema = json.loads((REPO / "schemas" / "diff.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    code, stdout, _ = run("diff", str(lab), "--against", str(built), "--format", "json")
    assert code == 0
    jsonschema.validate(json.loads(stdout), schema)
    edit(lab, '{extension: "7004"}', '{extension: "7014"}')
    edit(lab, "\nphones:\n", "\nfirmware:\n  pins: {VVX450: 6.4.5.1210}\n\nphones:\n")
    edit(lab, "  - name: AgentISS2-Lab", "  - name: AgentISS3-Lab")
    (lab / "secrets" / "partner-pbx.txt").write_text("changed\n")
    code, stdout, _ = run("diff", str(lab), "--against", str(built), "--format", "json", "--files")
    assert code == 1
    report = json.loads(stdout)
    jsonschema.validate(report, schema)
    assert report["summary"]["phones"] == {"added": 1, "removed": 1, "changed": 3, "unchanged": 2}
    assert report["rollout"] == sorted(report["rollout"])
    assert "0026fd001004" in report["rollout"]


def test_github_summary(lab: Path, built: Path) -> None:
    edit(lab, '{extension: "7004"}', '{extension: "7014"}')
    code, stdout, _ = run("diff", str(lab), "--against", str(built), "--format", "github")
    assert code == 1
    assert stdout.startswith("### mipc diff:")
    assert "| AgentISS-Lab | `0026fd001004` |" in stdout


def test_between_two_releases(lab: Path, built: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", str(lab), "-o", str(out))[0] == 0
    first = (out / "current").resolve()
    edit(lab, '{extension: "7005"}', '{extension: "7015"}')
    assert run("build", str(lab), "-o", str(out))[0] == 0
    code, stdout, _ = run("diff", "--between", str(first), str(out))
    assert code == 1
    assert 'AgentISS2-Lab  voip/line/0/id: "7005" → "7015"' in stdout
    assert run("diff", "--between", str(out), str(out / "current" / "manifest.json"))[0] == 0
    # after the build, the inventory matches the release again
    assert run("diff", str(lab), "--against", str(out))[0] == 0


def test_trouble_exits_2(lab: Path, built: Path, tmp_path: Path) -> None:
    code, _, stderr = run("diff", str(lab), "--against", str(tmp_path / "nowhere"))
    assert code == 2 and "does not exist" in stderr
    edit(lab, "model: 420HD", "model: 999XYZ")
    code, _, stderr = run("diff", str(lab), "--against", str(built))
    assert code == 2
    assert "error[" in stderr and "invalid" in stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    code, _, stderr = run("diff", "--between", str(broken), str(built))
    assert code == 2 and "not JSON" in stderr
    code, _, stderr = run("diff", str(lab))
    assert code == 2


MUTATIONS = {
    "extension": ('{extension: "7001", label: Lobby', '{extension: "7011", label: Lobby'),
    "server": ("address: 10.250.1.152", "address: 10.250.1.153"),
    "time zone": ("time_zone: America/Chicago", "time_zone: America/Denver"),
    "firmware pin": ("\nphones:\n", "\nfirmware:\n  pins: {VVX450: 6.4.5.1210}\n\nphones:\n"),
    "voice mail": ('voicemail_number: "*86"', 'voicemail_number: "*87"'),
    "ISS group": ("[{dns_srv: {transport: tcp}}]", "[{dns_srv: {transport: udp}}]"),
    "external group": ("address: pbx.partner.example", "address: pbx2.partner.example"),
}


@pytest.mark.parametrize("trust", [False, True], ids=["guarded", "digests-only"])
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_incremental_matches_full(lab: Path, built: Path, mutation: str, trust: bool) -> None:
    """Rendering only the phones whose digest changed gives what rendering all would.

    ``digests-only`` is the contract of the manifest's per-phone digests: every
    input of a phone's files changes its digest. ``TRUST_PHONE_DIGESTS`` may be switched on
    once it holds everywhere.
    """
    edit(lab, *MUTATIONS[mutation])
    plan = validate(lab).plan
    assert plan is not None
    base = load_release(built)
    full = inventory_snapshot(plan, base, label="full", incremental=False)
    inc = inventory_snapshot(plan, base, label="inc", trust_digests=trust)
    assert diff(base, full).changed
    report = diff(full, inc)
    assert not report.changed, [p.name for p in report.phones]


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_an_invalid_inventory_is_reported_relative_to_the_current_directory(
    lab: Path, built: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub annotations land on the PR's lines only with paths relative to the checkout."""
    edit(lab, "label: Agent}", "label: Agent, bogus_key: 1}")
    monkeypatch.chdir(lab.parent)
    code, _, stderr = run("diff", "lab", "--against", str(built), "--format", fmt)
    assert code == 2
    shown = "file=lab/mipc.yaml," if fmt == "github" else "lab/mipc.yaml:"
    assert shown in stderr, stderr
