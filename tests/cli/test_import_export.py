"""``run_import`` / ``run_export`` on a copy of the lab inventory, and the YAML text edits."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mipc.cli.commands.export_csv import ExportCommand, run_export
from mipc.cli.commands.import_csv import ImportCommand, run_import
from mipc.diagnostics import Diagnostics
from mipc.inventory.load import parse_yaml
from mipc.inventory.yaml_edits import add_list_entry, entry_lines, render_entries, yaml_quote

REPO = Path(__file__).parent.parent.parent
DATA = REPO / "tests" / "data" / "csv"


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", target)
    return target


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def run(csvs: list[Path], inventory: Path, **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_import(ImportCommand(csvs, inventory, **kwargs), out=out, err=err)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def test_template_list_then_tmm_list_conflicts(lab: Path) -> None:
    code, out, err = run([DATA / "guide-template.csv"], lab)
    assert code == 0, err
    assert out.startswith("6 imported, 0 unchanged")
    assert (lab / "phone-lists.yaml").read_text() == "phone_lists:\n  - lists/guide-template.csv\n"
    listed = (lab / "lists" / "guide-template.csv").read_text()
    assert listed.splitlines()[1] == (
        "Agent420HD,My Agent 420HD Template,,,,,7501,,,00:90:8f:12:34:56"
    )
    before = snapshot(lab)
    code, out, err = run([DATA / "guide-tmm.csv"], lab)
    assert code == 1
    shown = (DATA / "guide-tmm.csv").as_posix()
    conflicts = [line for line in err.splitlines() if "error[conflict]" in line]
    assert conflicts == [
        f"{shown}:5:Name: error[conflict]: name 'AgentISS1' already used by phone 'AgentISS1'"
        " (lists/guide-template.csv:3:Name)",
        f"{shown}:6:Name: error[conflict]: name 'Agent420HD' and MAC 00:90:8f:12:34:56 already"
        " used by phone 'Agent420HD' (lists/guide-template.csv:2:Name)",
        f"{shown}:7:Name: error[conflict]: name 'AgentISS2' and MAC 00:90:8f:56:35:bb already"
        " used by phone 'AgentISS2' (lists/guide-template.csv:4:Name)",
    ]
    assert "nothing written" in err
    assert snapshot(lab) == before

    code, out, err = run([DATA / "guide-tmm.csv"], lab, on_conflict="skip")
    assert code == 0, err
    assert out.startswith("3 imported, 0 unchanged, 0 replaced, 3 skipped")
    assert (lab / "phone-lists.yaml").read_text().splitlines()[1:] == [
        "  - lists/guide-template.csv",
        "  - lists/guide-tmm.csv",
    ]


def test_reimport_changes_nothing_and_validates(lab: Path) -> None:
    from mipc.pipeline import validate

    assert run([DATA / "guide-template.csv"], lab)[0] == 0
    before = snapshot(lab)
    code, out, _ = run([DATA / "guide-template.csv"], lab)
    assert code == 0
    assert out.startswith("0 imported, 6 unchanged")
    assert snapshot(lab) == before
    result = validate(lab)
    assert result.diagnostics.errors == []
    assert len([p for p in result.inventory.phones if p.origin == "csv"]) == 6  # type: ignore[union-attr]


def test_dry_run_writes_nothing(lab: Path) -> None:
    before = snapshot(lab)
    code, out, _ = run([DATA / "guide-template.csv"], lab, dry_run=True)
    assert code == 0
    assert "+++ b/lists/guide-template.csv" in out
    assert "+  - lists/guide-template.csv" in out
    assert snapshot(lab) == before


def test_interrupted_import_leaves_inventory_unchanged(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(lab)
    real = os.replace
    calls: list[object] = []

    def flaky(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", flaky)
    code, _, err = run([DATA / "guide-template.csv"], lab)
    assert code == 2
    assert "nothing changed" in err
    assert snapshot(lab) == before
    assert not (lab / "lists").exists()


def test_single_file_inventory_keeps_its_text(lab: Path) -> None:
    inventory = lab / "mipc.yaml"
    original = inventory.read_text()
    code, _, err = run([DATA / "guide-template.csv"], inventory)
    assert code == 0, err
    text = inventory.read_text()
    assert text == original + "phone_lists:\n  - lists/guide-template.csv\n"


def test_add_list_entry_keeps_comments() -> None:
    text = "mipc: 1\nphone_lists:   # bulk\n  - a.csv\n\n  # more\nphones: []\n"
    assert add_list_entry(text, "lists/b c.csv") == (
        'mipc: 1\nphone_lists:   # bulk\n  - a.csv\n  - "lists/b c.csv"\n\n  # more\nphones: []\n'
    )
    assert add_list_entry("phone_lists: []\n", "x.csv") == "phone_lists:\n  - x.csv\n"
    assert add_list_entry("a: 1", "x.csv") == "a: 1\nphone_lists:\n  - x.csv\n"


def test_export_round_trip_with_commas_and_quotes(lab: Path, tmp_path: Path) -> None:
    awkward = tmp_path / "awkward.csv"
    awkward.write_text(
        "Name;Template;Extension;Label;Address\r\n"
        '"Lobby, ""East""";My Polycom SA Template;8101;"Desk, 1";0004F2ABCDEF\r\n'
        "Zoë;My Agent SSP Template;8102;;zoe-pc.lab.local\r\n",
        encoding="utf-8-sig",
    )
    assert run([awkward], lab)[0] == 0
    exported = tmp_path / "export.csv"
    out, err = io.StringIO(), io.StringIO()
    assert run_export(ExportCommand(lab, "template", exported, lossy=True), out=out, err=err) == 0
    assert out.getvalue() == f"8 phone(s) exported (template layout); file written: {exported}\n"
    text = exported.read_text()
    assert '"Lobby, ""East""",My Polycom SA Template,,8101,,"Desk, 1",00:04:f2:ab:cd:ef' in text
    before = snapshot(lab)
    code, out_text, _ = run([exported], lab, into=Path("lists/awkward.csv"))
    # Every phone is already there (in YAML or in a list) and identical: nothing changes.
    assert snapshot(lab) == before
    assert out_text.startswith("0 imported, 8 unchanged"), out_text
    assert code == 0


def test_export_tmm_to_stdout(lab: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_export(ExportCommand(lab, "tmm", lossy=True), out=out, err=err) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "Name,Type,Manufacturer,Model,Proxy Group,Extension,Identification Address,Label,Address"
        ",Location"  # mipc's extension column: PolycomAgent is in Branch
    )
    assert (
        "AgentSSP-Lab,Workstation,ININ,Soft Phone,Remote Agent SSP - TLS,7003,,,AgentPC9.lab.local,"
        in lines
    )
    assert "warning[not-exported]" in err.getvalue()


@given(st.text())
def test_yaml_quote_reads_back_exactly(text: str) -> None:
    doc = parse_yaml(f"k: {yaml_quote(text)}\n", "t.yaml", Diagnostics())
    assert doc is not None
    assert doc.data["k"] == text
    assert type(doc.data["k"]) is str  # quoted: never read as a number or boolean


def test_render_entries_keeps_the_line_ending() -> None:
    entries = [
        {"name": "0123", "address": "00:04:f2:00:00:01", "appearances": [{"extension": "7"}]}
    ]
    assert render_entries(entries, "", "\r\n") == (
        '- name: "0123"\r\n  address: "00:04:f2:00:00:01"\r\n  appearances:\r\n'
        '    - extension: "7"\r\n'
    )


def test_entry_lines() -> None:
    lines = (
        "phones:\n"  # 1
        "- name: a\n"  # 2
        "  template: t\n"  # 3
        "# about b\n"  # 4
        "\n"  # 5
        "- name: b\n"  # 6
        "  # inside b\n"  # 7
        "  appearances:\n"  # 8
        "    - {extension: '1'}\n"  # 9
        "\n"  # 10
        "site: {}\n"  # 11
        "other:\n"  # 12
        "  - {name: c}\n"  # 13
        "  -\n"  # 14
        "    name: d\n"  # 15
    ).splitlines(keepends=True)
    assert entry_lines(lines, 2, 3) == (1, 3)
    assert entry_lines(lines, 6, 3) == (5, 9)
    assert entry_lines(lines, 13, 5) == "it is written in flow style ({name: ...})"
    assert entry_lines(lines, 15, 5) == "it is not a block item written as '- name: ...'"


def test_replace_in_a_crlf_file_with_an_unindented_list(tmp_path: Path) -> None:
    lab = tmp_path / "crlf"
    shutil.copytree(REPO / "examples" / "lab", lab)
    inventory = lab / "mipc.yaml"
    text = inventory.read_text()
    head, phones = text.split("phones:\n")
    unindented = "".join(line[2:] + "\n" for line in phones.splitlines())
    crlf = (head + "phones:\n# hand-kept phones\n" + unindented).replace("\n", "\r\n")
    inventory.write_bytes(crlf.encode())
    clash = tmp_path / "clash.csv"
    clash.write_text(
        "Name,Template,Extension,Address\nAgent420HD-Lab,My Agent 420HD Template,7006,\n"
    )
    code, _, err = run([clash], inventory, on_conflict="replace", as_format="yaml")
    assert code == 0, err
    entry = (
        "- name: Agent420HD-Lab\r\n  template: My Agent 420HD Template\r\n"
        '  address: 00908F001006\r\n  appearances:\r\n    - {extension: "7006"}\r\n'
    )
    added = (
        '- name: "Agent420HD-Lab"\r\n  template: "My Agent 420HD Template"\r\n'
        '  appearances:\r\n    - extension: "7006"\r\n'
    )
    assert crlf.endswith(entry)
    assert inventory.read_bytes().decode() == crlf[: -len(entry)] + added


def test_replace_of_every_yaml_phone_leaves_an_empty_list(tmp_path: Path) -> None:
    from mipc.pipeline import validate

    inventory = tmp_path / "mipc.yaml"
    text = (REPO / "examples" / "lab" / "mipc.yaml").read_text()
    (tmp_path / "secrets").mkdir()
    admin = REPO / "examples" / "lab" / "secrets" / "admin.txt"
    (tmp_path / "secrets" / "admin.txt").write_bytes(admin.read_bytes())
    head, _ = text.split("phones:\n")
    inventory.write_text(
        head + "phones:   # by hand\n  - name: Solo\n    template: My Agent SSP Template\n"
        "    appearances:\n      - extension: '7'\n"
    )
    clash = tmp_path / "clash.csv"
    clash.write_text("Name,Template,Extension\nSolo,My Agent SSP Template,8\n")
    code, _, err = run([clash], inventory, on_conflict="replace")
    assert code == 0, err
    assert inventory.read_text() == (
        head + "phones: []   # by hand\nphone_lists:\n  - lists/clash.csv\n"
    )
    assert validate(inventory).diagnostics.errors == []


def test_import_lists_plans_without_printing_or_writing(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mipc.inventory.importer import ImportOptions, import_lists
    from mipc.pipeline import load_model

    before = snapshot(lab)
    inv, diags = load_model(lab)
    assert inv is not None
    report = import_lists([DATA / "guide-tmm.csv"], lab, inv, ImportOptions(), diags)
    assert capsys.readouterr() == ("", "")
    assert snapshot(lab) == before
    assert sorted(p.relative_to(lab).as_posix() for p in report.files) == [
        "lists/guide-tmm.csv",
        "phone-lists.yaml",
    ]
    assert report.old[lab / "phone-lists.yaml"] is None
    assert not report.blocked() and report.exit_code() == 0
    assert len(report.imported) == len(report.files[lab / "lists/guide-tmm.csv"].splitlines()) - 1
    assert {d.code for d in report.diagnostics.warnings} >= {"end-of-life", "mac-vendor"}


def test_failed_write_of_a_temporary_file_leaves_no_trace(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(lab)

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = run([DATA / "guide-template.csv"], lab)
    assert code == 2
    assert "nothing changed" in err
    assert snapshot(lab) == before
    assert not (lab / "lists").exists()
