"""``mipc import-csv`` and ``mipc export-csv`` through the command line (click's CliRunner).

Each test works on a copy of ``examples/lab`` (what ``mipc init`` writes) and compares the
inventory's bytes before and after whenever nothing may be written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mipc.cli import main
from mipc.diagnostics import Diagnostics
from mipc.inventory.csv_edits import remove_records
from mipc.inventory.csv_write import phone_row
from mipc.pipeline import load_model
from tests.builders import tree

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data" / "csv"
TEMPLATE_LIST = DATA / "guide-template.csv"
TMM_LIST = DATA / "guide-tmm.csv"
REPLACED = ("Agent420HD", "AgentISS1", "AgentISS2")


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(ROOT / "examples" / "lab", target)
    return target


def phones_of(inventory: Path) -> dict[str, tuple[object, ...]]:
    """Every phone of an inventory, as a CSV row sees it, by name."""
    from mipc.inventory.csv_write import phone_row

    inv, diags = load_model(inventory)
    assert inv is not None, diags.sorted()
    return {p.name: tuple(phone_row(p).values()) for p in inv.phones}


def the_one_error_of_a_refused_replace(lab: Path, clash: Path) -> str:
    """The only error of ``import-csv --on-conflict replace clash``, which writes nothing."""
    before = tree(lab)
    result = run("import-csv", "-i", lab, "--on-conflict", "replace", clash)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if "error[" in line]
    assert len(errors) == 1
    assert tree(lab) == before
    return errors[0]


def test_template_list_then_tmm_list_reports_conflicts_and_writes_nothing(lab: Path) -> None:
    result = run("import-csv", "-i", lab, TEMPLATE_LIST)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("6 imported, 0 unchanged")
    assert "files written: lists/guide-template.csv, phone-lists.yaml" in result.stdout
    assert run("validate", lab).exit_code == 0

    before = tree(lab)
    result = run("import-csv", "-i", lab, TMM_LIST)
    assert result.exit_code == 1
    conflicts = [line for line in result.stderr.splitlines() if "error[conflict]" in line]
    assert len(conflicts) == 3
    assert "name 'AgentISS1' already used by phone 'AgentISS1'" in conflicts[0]
    assert "name 'Agent420HD' and MAC 00:90:8f:12:34:56 already used" in conflicts[1]
    assert "name 'AgentISS2' and MAC 00:90:8f:56:35:bb already used" in conflicts[2]
    assert all(line.startswith(f"{TMM_LIST.as_posix()}:") for line in conflicts)
    assert result.stderr.splitlines()[-1] == "mipc import-csv: nothing written"
    assert "3 conflict(s)" in result.stdout
    assert tree(lab) == before


def test_on_conflict_skip_imports_the_rest(lab: Path) -> None:
    assert run("import-csv", "-i", lab, TEMPLATE_LIST).exit_code == 0
    result = run("import-csv", "-i", lab, "--on-conflict", "skip", TMM_LIST)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("3 imported, 0 unchanged, 0 replaced, 3 skipped")
    assert result.stderr.count("warning[conflict-skipped]") == 3  # one per skipped row
    names = set(phones_of(lab))
    assert {"PolycomLobby2", "PolycomAgent2", "AgentSSP-PC2"} <= names
    assert run("validate", lab).exit_code == 0


def test_dry_run_writes_nothing(lab: Path) -> None:
    before = tree(lab)
    result = run("import-csv", "-i", lab, "--dry-run", TEMPLATE_LIST)
    assert result.exit_code == 0, result.output
    assert "+++ b/lists/guide-template.csv" in result.stdout
    assert "+++ b/phone-lists.yaml" in result.stdout
    assert "files to write:" in result.stdout
    assert tree(lab) == before

    result = run("import-csv", "-i", lab, "--dry-run", "--as", "yaml", TEMPLATE_LIST)
    assert result.exit_code == 0, result.output
    assert "+++ b/phones-guide-template.yaml" in result.stdout
    assert '+  - name: "PolycomLobby1"' in result.stdout
    assert tree(lab) == before


def test_as_yaml_writes_a_file_of_its_own_that_validates(lab: Path) -> None:
    before = tree(lab)
    result = run("import-csv", "-i", lab, "--as", "yaml", TEMPLATE_LIST)
    assert result.exit_code == 0, result.output
    assert "files written: phones-guide-template.yaml" in result.stdout
    after = tree(lab)
    assert {k: v for k, v in after.items() if k != "phones-guide-template.yaml"} == before
    text = (lab / "phones-guide-template.yaml").read_text()
    assert '  - name: "PolycomLobby1"\n    template: "My Polycom SA Template"\n' in text
    assert '    address: "00:04:f2:aa:bb:cc"\n    appearances:\n' in text
    assert '      - extension: "7101"\n        label: "Lobby"\n' in text
    validated = run("validate", lab)
    assert validated.exit_code == 0, validated.output
    waiting = "(1 waiting for an address, no files for it)"
    assert f"valid: 12 phones {waiting}, 0 errors" in validated.stdout

    # The same list again changes nothing; the TMM list then conflicts as with CSV.
    result = run("import-csv", "-i", lab, "--as", "yaml", TEMPLATE_LIST)
    assert result.exit_code == 0
    assert result.stdout.startswith("0 imported, 6 unchanged")
    assert tree(lab) == after
    result = run("import-csv", "-i", lab, "--as", "yaml", TMM_LIST)
    assert result.exit_code == 1
    assert result.stderr.count("error[conflict]") == 3
    assert "(phones-guide-template.yaml:" in result.stderr
    assert tree(lab) == after


def test_as_yaml_single_file_inventory_keeps_every_other_byte(lab: Path) -> None:
    inventory = lab / "mipc.yaml"
    original = inventory.read_text() + "\n# the end: keep me\n"
    inventory.write_text(original)
    awkward = lab.parent / "awkward.csv"
    awkward.write_text(
        "Name,Template,Extension,Label,Address\n"
        'Desk: 1 #2,My Polycom SA Template,0123,"Say ""hi""",0004F2ABCDEF\n'
        "Zoë's PC,My Agent SSP Template,0124,,zoe-pc.lab.local\n",
        encoding="utf-8",
    )
    result = run("import-csv", "-i", inventory, "--as", "yaml", awkward)
    assert result.exit_code == 0, result.output
    added = (
        '  - name: "Desk: 1 #2"\n'
        '    template: "My Polycom SA Template"\n'
        '    address: "00:04:f2:ab:cd:ef"\n'
        "    appearances:\n"
        '      - extension: "0123"\n'
        '        label: "Say \\"hi\\""\n'
        '  - name: "Zoë\'s PC"\n'
        '    template: "My Agent SSP Template"\n'
        '    address: "zoe-pc.lab.local"\n'
        "    appearances:\n"
        '      - extension: "0124"\n'
    )
    text = inventory.read_text()
    assert text == original.replace("\n\n# the end", f"\n{added}\n# the end")
    assert run("validate", inventory).exit_code == 0
    phones = phones_of(inventory)
    assert phones["Desk: 1 #2"][6] == "0123"
    assert phones["Desk: 1 #2"][8] == 'Say "hi"'


def test_replace_removes_the_yaml_entry_and_keeps_the_rest(lab: Path) -> None:
    inventory = lab / "mipc.yaml"
    original = inventory.read_text()
    clash = lab.parent / "clash.csv"
    clash.write_text(
        "Name,Template,Extension,Address\n"
        "AgentSSP-Lab,My Agent SSP Template,7003,AgentPC10.lab.local\n"
    )
    before = tree(lab)
    result = run("import-csv", "-i", lab, clash)
    assert result.exit_code == 1
    assert "already used by phone 'AgentSSP-Lab' (mipc.yaml:104:5)" in result.stderr
    assert tree(lab) == before

    result = run("import-csv", "-i", lab, "--on-conflict", "replace", "--dry-run", clash)
    assert result.exit_code == 0, result.output
    assert "--- a/mipc.yaml\n+++ b/mipc.yaml\n" in result.stdout
    assert "\n-  - name: AgentSSP-Lab\n" in result.stdout
    assert tree(lab) == before

    result = run("import-csv", "-i", lab, "--on-conflict", "replace", clash)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 imported, 0 unchanged, 1 replaced")
    entry = (
        "  - name: AgentSSP-Lab\n"
        "    template: My Agent SSP Template\n"
        "    address: AgentPC9.lab.local\n"
        "    appearances:\n"
        '      - {extension: "7003"}\n'
    )
    assert inventory.read_text() == original.replace(entry, "")
    assert phones_of(lab)["AgentSSP-Lab"][9] == "AgentPC10.lab.local"
    assert run("validate", lab).exit_code == 0


def test_replace_refuses_a_flow_style_entry(lab: Path) -> None:
    inventory = lab / "mipc.yaml"
    inventory.write_text(
        inventory.read_text().replace(
            "  - name: AgentSSP-Lab\n"
            "    template: My Agent SSP Template\n"
            "    address: AgentPC9.lab.local\n"
            "    appearances:\n"
            '      - {extension: "7003"}\n',
            "  - {name: AgentSSP-Lab, template: My Agent SSP Template,"
            ' address: AgentPC9.lab.local, appearances: [{extension: "7003"}]}\n',
        )
    )
    clash = lab.parent / "clash.csv"
    clash.write_text("Name,Template,Extension\nAgentSSP-Lab,My Agent SSP Template,7999\n")
    error = the_one_error_of_a_refused_replace(lab, clash)
    assert error.startswith("mipc.yaml:104:5: error[cannot-replace]: phone 'AgentSSP-Lab'")
    assert "flow style" in error
    assert "write it as a block item" in error


@pytest.mark.parametrize(
    "encoding",
    ["utf-8-sig", "cp1252", "bom+cp1252"],
)
def test_excel_style_file_imports(lab: Path, encoding: str) -> None:
    text = (
        "Address ; Label;Extension;Template;NAME;;\r\n"
        '0004F2ABCDEF;"Desk; 1";8101;My Polycom SA Template;"Lobby, ""East""";;\r\n'
        ";;8102;My Agent SSP Template;Zoë;;\r\n"
        ";\r\n"
        ";;;;;;\r\n"
    )
    raw = (
        b"\xef\xbb\xbf" + text.encode("cp1252")
        if encoding == "bom+cp1252"
        else text.encode(encoding)
    )
    excel = lab.parent / "excel.csv"
    excel.write_bytes(raw)
    result = run("import-csv", "-i", lab, excel)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2 imported, 0 unchanged")
    assert result.stderr == ""
    listed = (lab / "lists" / "excel.csv").read_text(encoding="utf-8")
    assert listed.splitlines()[1:] == [
        '"Lobby, ""East""",My Polycom SA Template,,,,,8101,,Desk; 1,00:04:f2:ab:cd:ef',
        "Zoë,My Agent SSP Template,,,,,8102,,,",
    ]
    assert run("validate", lab).exit_code == 0


def test_quiet_import_prints_no_summary_but_every_diagnostic(lab: Path) -> None:
    result = run("import-csv", "-q", "-i", lab, TEMPLATE_LIST)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "phone-lists.yaml" in {p.name for p in lab.iterdir()}

    before = tree(lab)
    result = run("import-csv", "--quiet", "-i", lab, TMM_LIST)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("error[conflict]") == 3
    assert result.stderr.splitlines()[-1] == "mipc import-csv: nothing written"
    assert tree(lab) == before


def test_quiet_dry_run_still_prints_the_diff(lab: Path) -> None:
    before = tree(lab)
    result = run("import-csv", "-q", "-i", lab, "--dry-run", TEMPLATE_LIST)
    assert result.exit_code == 0, result.output
    assert "+++ b/lists/guide-template.csv" in result.stdout
    assert "files to write:" not in result.stdout
    assert tree(lab) == before


def test_quiet_export(lab: Path, tmp_path: Path) -> None:
    exported = tmp_path / "export.csv"
    result = run("export-csv", lab, "--lossy", "-o", exported)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("6 phone(s) exported (tmm layout); file written: ")
    assert "warning[not-exported]" in result.stderr

    result = run("export-csv", lab, "--lossy", "-q", "-o", exported)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # no summary ...
    assert "warning[not-exported]" in result.stderr  # ... but every diagnostic
    written = exported.read_text()

    result = run("export-csv", lab, "--lossy", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout == written  # on stdout the list is the output, quiet or not
    assert "warning[not-exported]" in result.stderr


def test_export_then_reimport_gives_the_same_inventory(lab: Path, tmp_path: Path) -> None:
    awkward = tmp_path / "awkward.csv"
    awkward.write_text(
        "Name,Template,Extension,Label,Address\n"
        '"Lobby, ""East""",My Polycom SA Template,8101,"Desk, ""1""",0004F2ABCDEF\n'
        '"Agent ""Q"", Desk",My Agent ISS v2 Template,8102,,0026FDABCDEF\n'
        "Zoë,My Agent SSP Template,8103,,zoe-pc.lab.local\n"
    )
    assert run("import-csv", "-i", lab, awkward).exit_code == 0
    exported = tmp_path / "export.csv"
    result = run("export-csv", lab, "--lossy", "--layout", "template", "-o", exported)
    assert result.exit_code == 0, result.output
    assert '"Lobby, ""East""",My Polycom SA Template,,8101,,"Desk, ""1""",' in exported.read_text()

    # Into the same inventory: nothing changes.
    before = tree(lab)
    result = run("import-csv", "-i", lab, exported)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("0 imported, 9 unchanged")
    assert tree(lab) == before

    # Into a fresh inventory: the same phones, and the same export.
    fresh = tmp_path / "fresh"
    assert run("init", fresh).exit_code == 0
    result = run("import-csv", "-i", fresh, exported)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("3 imported, 6 unchanged")
    assert phones_of(fresh) == phones_of(lab)
    again = tmp_path / "again.csv"
    assert run("export-csv", fresh, "--lossy", "--layout", "template", "-o", again).exit_code == 0
    assert again.read_bytes() == exported.read_bytes()

    # And as YAML entries.
    as_yaml = tmp_path / "as-yaml"
    assert run("init", as_yaml).exit_code == 0
    result = run("import-csv", "-i", as_yaml, "--as", "yaml", exported)
    assert result.exit_code == 0, result.output
    assert phones_of(as_yaml) == phones_of(lab)
    yaml_export = tmp_path / "yaml-export.csv"
    assert (
        run("export-csv", as_yaml, "--lossy", "--layout", "template", "-o", yaml_export).exit_code
        == 0
    )
    assert yaml_export.read_bytes() == exported.read_bytes()


def test_strict_makes_warnings_fatal(lab: Path) -> None:
    before = tree(lab)
    result = run("import-csv", "-i", lab, "--strict", TEMPLATE_LIST)
    assert result.exit_code == 1
    assert "warning[label-not-polycom]" in result.stderr
    assert "warning[mac-vendor]" in result.stderr
    assert "mipc import-csv: nothing written" in result.stderr
    assert tree(lab) == before
    assert run("import-csv", "-i", lab, TEMPLATE_LIST).exit_code == 0


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb6\xa8", "binary-file"),
        (bytes(range(0x80, 0x100)) * 4, "not-text"),
        (b"Phone,Where\nLobby,Hall\n", "no-header"),
        (b"\r\n\r\n,,\r\n", "empty-list"),
    ],
)
def test_unreadable_list_exits_1_with_one_line_and_writes_nothing(
    lab: Path, raw: bytes, code: str
) -> None:
    bad = lab.parent / "bad.csv"
    bad.write_bytes(raw)
    before = tree(lab)
    result = run("import-csv", "-i", lab, bad)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    errors = [line for line in lines if "error[" in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"{bad.as_posix()}:")
    assert f"error[{code}]" in errors[0]
    assert lines[-1] == "mipc import-csv: nothing written"
    assert "0 imported" in result.stdout
    assert tree(lab) == before


def test_as_yaml_into_must_be_an_inventory_yaml_file(lab: Path) -> None:
    before = tree(lab)
    result = run("import-csv", "-i", lab, "--as", "yaml", "--into", "lists/x.yaml", TEMPLATE_LIST)
    assert result.exit_code == 2
    assert "must name a .yaml file directly in the inventory folder" in result.stderr
    result = run("import-csv", "-i", lab, "--as", "yaml", "--into", "desk.yaml", TEMPLATE_LIST)
    assert result.exit_code == 0, result.output
    assert (lab / "desk.yaml").is_file()
    assert set(tree(lab)) == {*before, "desk.yaml"}


def test_replace_removes_the_rows_of_another_phone_list(lab: Path) -> None:
    assert run("import-csv", "-i", lab, TMM_LIST).exit_code == 0
    other = lab / "lists" / "guide-tmm.csv"
    # A hand-kept list: CRLF line ends, a blank line, the rows in an order of its own.
    lines = other.read_text().splitlines()
    hand = "\r\n".join([lines[0], lines[3], "", *lines[1:3], *lines[4:]]) + "\r\n"
    other.write_bytes(hand.encode())
    before = tree(lab)

    result = run("import-csv", "-i", lab, "--on-conflict", "replace", "--dry-run", TEMPLATE_LIST)
    assert result.exit_code == 0, result.output
    assert "--- a/lists/guide-tmm.csv\n+++ b/lists/guide-tmm.csv\n" in result.stdout
    for name in REPLACED:
        assert f"\n-{name},," in result.stdout
        assert f"phone {name!r} to remove from lists/guide-tmm.csv row" in result.stdout
    assert tree(lab) == before

    result = run("import-csv", "-i", lab, "--on-conflict", "replace", TEMPLATE_LIST)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("6 imported, 0 unchanged, 3 replaced, 0 skipped")
    assert "phone 'AgentISS1' removed from lists/guide-tmm.csv row 5" in result.stdout
    kept = [line for line in hand.split("\r\n") if not line.startswith(REPLACED)]
    assert other.read_bytes() == "\r\n".join(kept).encode()
    assert run("validate", lab).exit_code == 0

    inv, diags = load_model(lab)
    assert inv is not None, diags.sorted()
    names = [p.name for p in inv.phones]
    template_rows = TEMPLATE_LIST.read_text().splitlines()
    for name in REPLACED:
        assert names.count(name) == 1
        phone = next(p for p in inv.phones if p.name == name)
        assert phone.position is not None
        assert phone.position.file == "lists/guide-template.csv"
        row = phone_row(phone)
        source = next(r for r in template_rows if r.startswith(f"{name},"))
        assert row["Template"] == source.split(",")[1]


def test_replace_refuses_a_list_it_cannot_write_back_byte_for_byte(lab: Path) -> None:
    other = lab / "lists" / "hand.csv"
    other.parent.mkdir()
    hand = (
        "Name,Template,Extension\n"
        "AgentISS1,My Agent ISS Template,7499\n"
        "Büro,My Agent ISS Template,7498\n"
    )
    other.write_bytes(hand.encode("cp1252"))
    (lab / "phone-lists.yaml").write_text("phone_lists:\n  - lists/hand.csv\n")
    assert run("validate", lab).exit_code == 0
    error = the_one_error_of_a_refused_replace(lab, TEMPLATE_LIST)
    assert error.startswith("lists/hand.csv:2:Name: error[cannot-replace]: phone 'AgentISS1'")
    assert "Windows-1252" in error


@pytest.mark.parametrize(
    ("text", "rows", "expected"),
    [
        ("\ufeffName;Label\r\nA;x\r\nB;y\r\n", {2}, "\ufeffName;Label\r\nB;y\r\n"),
        ('Name,Label\nA,"two\nlines"\nB,y', {2}, "Name,Label\nB,y"),
        ('Name,Label\nA,"two\nlines"\nB,y', {3}, 'Name,Label\nA,"two\nlines"\n'),
        ("Name\r\n\r\nA\rB\r", {3}, "Name\r\n\r\nB\r"),
    ],
)
def test_remove_records_keeps_every_other_byte(text: str, rows: set[int], expected: str) -> None:
    assert remove_records(text, rows, "l.csv", Diagnostics()) == expected
