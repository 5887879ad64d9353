"""Data-driven inventories: every folder under tests/cases is one case.

- ``tests/cases/invalid/<case>/``: ``mipc validate`` exits 1 and prints exactly the diagnostics
  in ``expected.txt`` (text format, one per line, file names relative to the case folder).
- ``tests/cases/valid/<case>/``: ``mipc validate`` exits 0; when the case has an
  ``expected.txt`` (warnings only) it prints exactly those and ``--strict`` exits 1.

``MIPC_REGEN=1 pytest tests/unit/test_cases.py`` rewrites the expected.txt files from the
current output; review every changed line before committing it (one line per problem, naming
the place and saying what to do).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from jsonschema import Draft202012Validator

import mipc.inventory.load
from mipc.cli import main
from mipc.diagnostics import Diagnostics, InputError
from mipc.inventory.load import Document, load_inventory, parse_yaml
from mipc.inventory.schema import coerce_document, is_valid, load_schema
from mipc.pipeline import validate

CASES = Path(__file__).resolve().parent.parent / "cases"
VALID = sorted(p for p in (CASES / "valid").iterdir() if p.is_dir())
INVALID = sorted(p for p in (CASES / "invalid").iterdir() if p.is_dir())
REGEN = os.environ.get("MIPC_REGEN") == "1"
# Environment variables the cases name; a case never depends on the caller's environment.
CASE_ENV = ("MIPC_TEST_UNSET_SECRET",)
# Cases whose expected.txt says what mipc should print but does not yet (bug reported).
KNOWN_BUGS: dict[str, str] = {}
SUMMARY = re.compile(r"\.: (valid|invalid): \d+ phones, \d+ errors, \d+ warnings\Z")


def _param(case: Path) -> object:
    bug = KNOWN_BUGS.get(case.name)
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    return pytest.param(case, id=case.name, marks=marks)


def _run(case: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    for name in CASE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(case)
    return CliRunner().invoke(main, ["validate", ".", *args])


def _diagnostic_lines(result: Result) -> list[str]:
    """The diagnostics the CLI printed (stderr without the summary line)."""
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    summary = result.stdout.splitlines() + lines[-1:]
    assert any(SUMMARY.match(line) for line in summary), result.output
    return [line for line in lines if not SUMMARY.match(line)]


def _expected(case: Path, actual: list[str]) -> list[str]:
    path = case / "expected.txt"
    if REGEN and case.name not in KNOWN_BUGS:  # a known bug's file says what should print
        if actual:
            path.write_text("\n".join(actual) + "\n", encoding="utf-8")
        elif path.exists():
            path.unlink()
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("case", [_param(c) for c in INVALID])
def test_invalid_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(case, monkeypatch)
    actual = _diagnostic_lines(result)
    expected = _expected(case, actual)
    assert expected, f"{case.name}: an invalid case needs an expected.txt"
    assert actual == expected
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("case", [_param(c) for c in VALID])
def test_valid_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(case, monkeypatch)
    actual = _diagnostic_lines(result)
    expected = _expected(case, actual)
    assert actual == expected
    assert all("] warning[" in line or " warning[" in line for line in actual)
    assert result.exit_code == 0, result.output
    strict = _run(case, monkeypatch, "--strict")
    assert strict.exit_code == (1 if expected else 0)


def test_every_case_has_an_inventory() -> None:
    assert len(INVALID) >= 40 and len(VALID) >= 5
    for case in [*VALID, *INVALID]:
        assert any(p.suffix in (".yaml", ".yml") for p in case.iterdir()), case


# --- the two validators agree -------------------------------------------------------------


def _loaded(case: Path) -> Document | None:
    try:
        return load_inventory(case)
    except InputError:
        return None


LOADABLE = [c for c in [*VALID, *INVALID] if _loaded(c) is not None]


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.parent.name + "/" + c.name) for c in LOADABLE]
)
def test_fast_and_reference_validators_agree(case: Path) -> None:
    doc = _loaded(case)
    assert doc is not None
    coerce_document(doc)
    reference = Draft202012Validator(load_schema()).is_valid(doc.data)
    assert is_valid(doc.data) == reference
    if case.parent.name == "valid":
        assert reference


def test_agreement_covers_schema_failures() -> None:
    verdicts = set()
    for case in LOADABLE:
        doc = _loaded(case)
        assert doc is not None
        coerce_document(doc)
        verdicts.add(is_valid(doc.data))
    assert verdicts == {True, False}


# --- what the cases show in the model -----------------------------------------------------

MAC_NOTATIONS = {
    "ColonsLower": "0004f2aabb01",
    "ColonsUpper": "0004f2aabb02",
    "Dashes": "0004f2aabb03",
    "DashesUpper": "0004f2aabb04",
    "Dots": "0004f2aabb05",
    "CiscoDots": "0004f2aabb06",
    "CiscoDotsUpper": "0004f2aabb07",
    "BareUpper": "0004f2aabb08",
    "BareLower": "0004f2aabb09",
    "SixDashSix": "0004f2aabb0a",
    "QuotedColons": "0004f2aabb0b",
}


def test_every_mac_notation_is_normalised() -> None:
    result = validate(CASES / "valid" / "mac-notations")
    assert result.plan is not None
    assert {p.name: p.mac for p in result.plan.phones} == MAC_NOTATIONS
    for phone in result.plan.phones:
        assert phone.settings["address"].value == phone.mac
        assert phone.computer_name is None


def test_numbers_stay_as_written() -> None:
    case = CASES / "valid" / "kept-as-written"
    doc = load_inventory(case)
    phones = doc.data["phones"]
    assert phones[0]["address"] == "10:20:30:40:50:59"
    assert phones[0]["appearances"][0]["extension"] == "0123"
    assert phones[1]["address"] == "000412345678"
    assert all(isinstance(p["address"], str) for p in phones)
    result = validate(case)
    assert result.plan is not None
    by_name = {p.name: p for p in result.plan.phones}
    sexagesimal = by_name["Sexagesimal"]
    assert sexagesimal.mac == "102030405059"
    assert sexagesimal.address == "102030405059"
    assert sexagesimal.appearances[0].extension == "0123"
    assert sexagesimal.appearances[0].user == "0123"
    assert by_name["AllDigits"].mac == "000412345678"


def test_plain_scalars_reach_the_schema_as_text() -> None:
    diags = Diagnostics()
    doc = parse_yaml(
        "a: 0123\nb: 10:20:30:40:50:59\nc: on\nd: no\ne: 7101\nf: 0x1F\ng: 1e3\nh: ~\n",
        "t.yaml",
        diags,
    )
    assert doc is not None and not diags.items
    assert doc.data == {
        "a": "0123",
        "b": "10:20:30:40:50:59",
        "c": "on",
        "d": "no",
        "e": "7101",
        "f": "0x1F",
        "g": "1e3",
        "h": None,
    }
    assert all(type(v) is not int and type(v) is not bool for v in doc.data.values())


def test_schema_types_plain_scalars_only_where_it_wants_numbers() -> None:
    result = validate(CASES / "valid" / "minimal")
    assert result.inventory is not None
    line = result.inventory.lines["Stations-UDP"]
    assert line.port == 8060 and isinstance(line.port, int)
    assert result.plan is not None
    assert result.plan.phones[0].appearances[0].extension == "7001"


def test_alias_bomb_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    start = time.monotonic()
    result = _run(CASES / "invalid" / "alias-bomb", monkeypatch)
    elapsed = time.monotonic() - start
    assert result.exit_code == 1
    assert "error[yaml-anchor]" in result.stderr
    assert elapsed < 5.0  # a guard against expansion, not a benchmark


def test_file_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "mipc.yaml"
    with big.open("wb") as fh:  # sparse: 51 MiB on paper, nothing on disk
        fh.truncate(51 * 1024 * 1024)
    result = _run(tmp_path, monkeypatch)
    assert result.exit_code == 1
    assert _diagnostic_lines(result) == [
        "mipc.yaml: error[file-too-large]: inventory file is 51 MiB, over the 50 MiB limit;"
        " split it into several files"
    ]


def test_size_limit_is_checked_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (CASES / "valid" / "minimal" / "mipc.yaml").read_text(encoding="utf-8")
    (tmp_path / "mipc.yaml").write_text(text + "# padding\n" * 200, encoding="utf-8")
    monkeypatch.setattr(mipc.inventory.load, "MAX_FILE_BYTES", 1024)
    with pytest.raises(InputError) as info:
        load_inventory(tmp_path)
    [diag] = info.value.diagnostics.items
    assert diag.code == "file-too-large"
    assert diag.position is not None and diag.position.file == "mipc.yaml"
    monkeypatch.setattr(mipc.inventory.load, "MAX_FILE_BYTES", 50 * 1024 * 1024)
    assert load_inventory(tmp_path).data["phones"][0]["name"] == "Phone1"


def test_yaml_1_1_words_are_typed_by_the_schema_only() -> None:
    doc = load_inventory(CASES / "valid" / "yaml-1-1-words")
    coerce_document(doc)
    appearance = doc.data["phones"][0]["appearances"][0]
    assert appearance == {"extension": "0123", "sharable": True, "label": "no"}
    result = validate(CASES / "valid" / "yaml-1-1-words")
    assert result.plan is not None
    [app] = result.plan.phones[0].appearances
    assert (app.extension, app.label) == ("0123", "no")


def test_windows_time_zone_name() -> None:
    result = validate(CASES / "valid" / "windows-time-zone")
    assert result.plan is not None
    zone = result.plan.phones[0].time.zone
    assert (zone.name, zone.std_offset) == ("America/New_York", -18000)


def test_tos_byte_qos() -> None:
    result = validate(CASES / "valid" / "tos-byte-qos")
    assert result.plan is not None
    qos = result.plan.phones[0].qos
    assert (qos.rtp_dscp, qos.sip_dscp, qos.rtp_tos, qos.sip_tos) == (46, 24, 0xB8, 0x60)


def test_label_only_on_polycom(tmp_path: Path) -> None:
    base = (CASES / "valid" / "open-site-passwords" / "mipc.yaml").read_text(encoding="utf-8")
    text = base.replace(
        "    model: VVX450\n",
        "    model: VVX450\n  Desk AudioCodes:\n    manufacturer: AudioCodes\n    model: 440HD\n",
    ) + (
        "  - name: Phone2\n    template: Desk AudioCodes\n    address: 00:90:8f:aa:bb:dd\n"
        '    appearances:\n      - {extension: "7002", label: Reception}\n'
    )
    (tmp_path / "mipc.yaml").write_text(text, encoding="utf-8")
    diags = validate(tmp_path).diagnostics.items
    line = text.splitlines().index('      - {extension: "7002", label: Reception}') + 1
    assert [d for d in diags if d.position and d.position.line == line and "label" in d.message]
