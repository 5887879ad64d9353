"""The reporter: formats, --quiet, colour, paths relative to the current directory, and one
mapping of :class:`~mipc.diagnostics.MipcError` to exit codes."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mipc.cli import main
from mipc.cli import report as reporting
from mipc.cli.commands import build
from mipc.cli.report import JsonReporter, Reporter, reporter, shown_path
from mipc.diagnostics import (
    Diagnostic,
    Diagnostics,
    InputError,
    InvalidInputError,
    MipcError,
    Position,
    Severity,
)
from mipc.release.store import EmitError, LockHeld
from mipc.render.templating import TemplateError

ROOT = Path(__file__).resolve().parent.parent.parent
LAB = ROOT / "examples" / "lab"
INVALID = ROOT / "tests" / "cases" / "invalid" / "srtp-ip601"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


# --- paths ---------------------------------------------------------------------------------


def test_a_file_in_the_current_directory_is_shown_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv" / "mipc.yaml").write_text("mipc: 1\n", encoding="utf-8")
    assert shown_path("mipc.yaml", tmp_path / "inv", cwd=tmp_path) == "inv/mipc.yaml"


def test_a_file_outside_the_current_directory_is_shown_absolute(tmp_path: Path) -> None:
    (tmp_path / "mipc.yaml").write_text("mipc: 1\n", encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    shown = shown_path("mipc.yaml", tmp_path, cwd=tmp_path / "elsewhere")
    assert shown == (tmp_path / "mipc.yaml").as_posix()


def test_a_name_that_is_no_file_there_is_shown_as_given(tmp_path: Path) -> None:
    assert shown_path("inventory", tmp_path, cwd=tmp_path) == "inventory"
    assert shown_path("absent/mipc.yaml", tmp_path, cwd=tmp_path) == "absent/mipc.yaml"
    assert shown_path("mipc.yaml", None) == "mipc.yaml"


def test_validate_outside_the_inventory_shows_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("validate", str(INVALID))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{INVALID / 'mipc.yaml'}:15:12: warning[end-of-life]: ")


def test_json_keeps_the_positions_relative_to_the_inventory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    doc = json.loads(run("validate", str(INVALID), "--format", "json").stdout)
    assert {d["file"] for d in doc["diagnostics"]} == {"mipc.yaml"}


def test_a_renderer_diagnostic_names_its_template_and_phone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What build and diff will report for a renderer's problem: a code and a position."""
    monkeypatch.chdir(ROOT)
    template = ROOT / "README.md"  # any file in the checkout
    diag = Diagnostic(
        Severity.WARNING,
        "render-line-key",
        "phone PolycomAgent: key 3 has no label",
        Position(str(template), 7, 3),
        subject="PolycomAgent",
    )
    Reporter("build").diagnostics([diag], base=LAB)
    assert capsys.readouterr().err == (
        "README.md:7:3: warning[render-line-key]: phone PolycomAgent: key 3 has no label\n"
    )
    reporter("build", "github").diagnostics([diag], base=LAB)
    assert capsys.readouterr().err.startswith(
        "::warning file=README.md,line=7,col=3,title=render-line-key::phone PolycomAgent"
    )


# --- colour --------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert not reporting.use_colour()
    monkeypatch.setattr("sys.stderr", _Terminal())
    assert reporting.use_colour()
    monkeypatch.setenv("NO_COLOR", "")
    assert not reporting.use_colour()


def test_errors_red_warnings_yellow(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(reporting, "use_colour", lambda: True)
    diags = Diagnostics()
    diags.error("e", "bad")
    diags.warning("w", "odd")
    diags.error("e", "bad", Position("mipc.yaml", 3, 4))
    Reporter("validate").diagnostics(diags)
    err = capsys.readouterr().err
    assert "\x1b[31mmipc.yaml:3:4: error[e]: bad\x1b[0m" in err
    assert "\x1b[33mwarning[w]: odd\x1b[0m" in err
    assert "\x1b[31merror[e]: bad\x1b[0m" in err  # no position: still an error, still red
    reporter("validate", "github").diagnostics(diags)
    assert "\x1b[" not in capsys.readouterr().err


# --- --quiet -------------------------------------------------------------------------------


def test_quiet_validate_prints_diagnostics_but_no_summary() -> None:
    quiet = run("validate", str(LAB), "-q")  # the lab's ISS phones keep their admin logins
    assert quiet.stdout == "" and quiet.stderr.count("warning[factory-admin-password]") == 2
    result = run("validate", str(INVALID), "-q")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 3  # the three diagnostics, no summary


def test_quiet_init_and_explain_print_nothing_but_errors(tmp_path: Path) -> None:
    result = run("init", str(tmp_path / "site"), "-q")
    assert (result.exit_code, result.output) == (0, "")
    assert (tmp_path / "site" / "mipc.yaml").is_file()
    again = run("init", str(tmp_path / "site"), "--quiet")
    assert again.exit_code == 1 and again.stderr.startswith("mipc init: ")
    explained = run("explain", "PolycomAgent", str(LAB), "-q")
    assert explained.stdout == "" and "error" not in explained.stderr
    missing = run("explain", "NoSuchPhone", str(LAB), "-q")
    assert missing.exit_code == 1
    assert missing.stderr.splitlines()[-1].startswith("mipc explain: no phone")


# --- --format json -------------------------------------------------------------------------


def test_init_json(tmp_path: Path) -> None:
    result = run("init", str(tmp_path / "site"), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["directory"] == str(tmp_path / "site")
    assert str(tmp_path / "site" / "mipc.yaml") in doc["written"]
    assert (doc["diagnostics"], doc["errors"], doc["warnings"]) == ([], 0, 0)


def test_a_failure_in_json_says_error_and_prints_the_line(tmp_path: Path) -> None:
    result = run("rollback", str(tmp_path), "--format", "json")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["error"] == f"{tmp_path} holds no releases"
    assert result.stderr == f"mipc rollback: {tmp_path} holds no releases\n"


def test_json_with_quiet_has_the_diagnostics_only(tmp_path: Path) -> None:
    doc = json.loads(run("init", str(tmp_path / "s"), "--format", "json", "-q").stdout)
    assert doc == {"diagnostics": [], "errors": 0, "warnings": 0}


def test_rollback_json_and_text(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for _ in range(2):
        assert run("build", str(LAB), "-o", str(out), "--force").exit_code == 0
    releases = json.loads((out / "releases.json").read_text(encoding="utf-8"))
    result = run("rollback", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["out"], doc["current"]) == (str(out), (out / "current").readlink().name)
    assert doc["previous"] != doc["current"]
    assert releases  # the history the rollback followed
    quiet = run("rollback", str(out), "--to", doc["previous"], "-q")
    assert (quiet.exit_code, quiet.output) == (0, "")


def test_explain_json_of_an_invalid_inventory_holds_its_diagnostics() -> None:
    case = ROOT / "tests" / "cases" / "invalid" / "unknown-template"
    result = run("explain", "Phone1", str(case), "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [d["code"] for d in doc["diagnostics"]] == ["unknown-template"]
    assert "settings" not in doc and "error" not in doc


def test_explain_shows_a_phone_whose_own_checks_fail_with_the_diagnostics() -> None:
    result = run("explain", "Phone1", str(INVALID), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["phone"] == "Phone1" and doc["errors"] == 2


def test_explain_github_prints_the_settings_as_text() -> None:
    text = run("explain", "PolycomAgent", str(LAB)).stdout
    assert run("explain", "PolycomAgent", str(LAB), "--format", "github").stdout == text


def test_report_prints_json_even_without_diagnostics(capsys: pytest.CaptureFixture[str]) -> None:
    reporting.report(Diagnostics(), "json")
    assert json.loads(capsys.readouterr().out) == {"diagnostics": [], "errors": 0, "warnings": 0}
    reporting.report(Diagnostics(), "text")
    assert capsys.readouterr() == ("", "")


# --- the error tree ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (MipcError("x"), 2),
        (EmitError("x"), 2),
        (LockHeld("x"), 2),
        (InvalidInputError("x"), 1),
        (TemplateError("x"), 1),
        (InputError(Diagnostics()), 1),
    ],
)
def test_exit_codes(error: MipcError, code: int) -> None:
    assert error.exit_code == code


def test_input_error_that_is_trouble_exits_2() -> None:
    diags = Diagnostics()
    diags.error("no-inventory", "absent")
    assert InputError(diags).exit_code == 2


@pytest.mark.parametrize(("error", "code"), [(EmitError("boom"), 2), (TemplateError("boom"), 1)])
def test_an_escaped_error_is_one_line_and_its_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: MipcError, code: int
) -> None:
    def fail(*args: object) -> int:
        raise error

    monkeypatch.setattr(build, "run_build", fail)
    result = run("build", str(LAB), "-o", str(tmp_path))
    assert (result.exit_code, result.stderr) == (code, "mipc build: boom\n")
    assert "Traceback" not in result.output


def test_the_reporter_catches_a_mipc_error_only(capsys: pytest.CaptureFixture[str]) -> None:
    with JsonReporter("init") as out:
        raise InvalidInputError("no")
    assert out.code == 1
    assert json.loads(capsys.readouterr().out)["error"] == "no"
    with pytest.raises(KeyError), Reporter("init"):
        raise KeyError("a bug is not reported as an error")


# --- escaping ------------------------------------------------------------------------------


def _forged() -> Diagnostic:
    return Diagnostic(
        Severity.ERROR,
        "code",
        "50% done\r\n::error file=x::forged \x1b[2J\x7f\x85",
        Position("a,b:c%\n::warning file=y.yaml", 3, 4),
        "$.site",
    )


def test_github_escapes_messages_and_properties_as_github_documents() -> None:
    line = _forged().github()
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert line == (
        "::error file=a%2Cb%3Ac%25%0A%3A%3Awarning file=y.yaml,line=3,col=4,title=code::"
        "50%25 done%0D%0A::error file=x::forged \\x1b[2J\\x7f\\x85 (at $.site)"
    )


def test_text_shows_control_characters_escaped_and_keeps_tabs() -> None:
    d = replace(_forged(), message="a\tb\x1b[31mc\x9bd\ne")
    assert (
        d.text() == "a,b:c%\\x0a::warning file=y.yaml:3:4: error[code]: "
        "a\tb\\x1b[31mc\\x9bd\\x0ae (at $.site)"
    )


def test_a_csv_column_name_is_escaped_in_text_and_github(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campus = tmp_path / "campus"
    shutil.copytree(ROOT / "examples" / "campus", campus)
    lists = campus / "lists" / "agents.csv"
    header, rest = lists.read_text(encoding="utf-8").split("\n", 1)
    lists.write_text(f"{header},bad\x1b[2J,col\x9b1\n{rest}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for fmt in ("text", "github"):
        result = run("validate", "campus", "--format", fmt)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x9b" not in result.output
        assert "bad\\x1b[2J" in result.stderr and "col\\x9b1" in result.stderr


def test_an_error_that_stops_a_command_is_escaped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def fail(*args: object) -> int:
        raise EmitError("cannot write \x1b]0;title\x07 here\nnext")

    monkeypatch.setattr(build, "run_build", fail)
    result = run("build", str(LAB), "-o", str(tmp_path))
    assert result.stderr == "mipc build: cannot write \\x1b]0;title\\x07 here\\x0anext\n"
