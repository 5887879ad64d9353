"""An override template over a limit (size, loops, time) is an error naming the template and
the limit: exit 1, no release (``mipc.render.limits``)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.render import limits
from mipc.render.templating import TemplateError, _gathered, render_template

REPO = Path(__file__).parent.parent.parent


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", target)
    return target


def hostile(lab: Path, block: str) -> None:
    path = lab / "vendor_templates" / "polycom" / "phone.cfg.j2"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '{% extends "polycom/phone.cfg.j2" %}\n{% block extra %}' + block + "{% endblock %}\n",
        encoding="utf-8",
    )


def build(lab: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["build", str(lab), "-o", str(out)])
    return result.exit_code, result.output


def test_a_template_allocating_2_gb_is_refused(lab: Path, tmp_path: Path) -> None:
    hostile(lab, '{{ ("x" * 2000000000)|length }}')
    started = time.monotonic()
    code, output = build(lab, tmp_path / "out")
    assert time.monotonic() - started < 30
    assert code == 1
    assert "template polycom/phone.cfg.j2: a repetition of 2000000000 characters" in output
    assert "over the limit of 4194304" in output
    assert not (tmp_path / "out" / "current").exists()


def test_a_huge_loop_stops_at_the_step_limit(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_STEPS", 100_000)
    hostile(lab, "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    started = time.monotonic()
    code, output = build(lab, tmp_path / "out")
    assert time.monotonic() - started < 30
    assert code == 1
    assert "template polycom/phone.cfg.j2: over the limit of 100000 loop iterations" in output
    assert not (tmp_path / "out" / "current").exists()


def test_validate_says_the_same(lab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_STEPS", 100_000)
    hostile(lab, "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    result = CliRunner().invoke(main, ["validate", str(lab)])
    assert result.exit_code == 1
    assert "over the limit of 100000 loop iterations and calls" in result.output


def test_a_render_over_its_time_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_SECONDS", 0.2)
    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"template x/t\.j2: over the time limit of 0\.2 s"):
        render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    assert time.monotonic() - started < 5


def render(text: str) -> str:
    sources = _gathered("/inventory/vendor_templates", {"x/t.j2": text.encode()}, {})
    return render_template("x/t.j2", {}, sources)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{{ ("x" * 2000000000)|length }}', "a repetition of 2000000000"),
        ("{{ [0] * 2000000000 }}", "a repetition of 2000000000"),
        ("{% for i in range(2000000) %}{% endfor %}", "a range of 2000000 numbers"),
        ('{{ "x"|center(2000000000) }}', "an argument of |center of 2000000000"),
        ('{{ "x"|indent(2000000000, true) }}', "an argument of |indent of 2000000000"),
        ('{{ "x".ljust(2000000000) }}', "a width for str.ljust of 2000000000"),
        ('{{ "%2000000000s" % 1 }}', "a %-format width"),
        ('{{ "%2000000000s"|format(1) }}', "a %-format width"),
        ('{{ "{:>2000000000}".format(1) }}', "a format width"),
        ("{{ 2 ** 100000000 }}", "a power of over 4096 bits"),
        ('{{ ("x" * 4000000)|replace("x", "yy") }}', "a replacement of 8000000"),
        ('{% set s = "x" * 3000000 %}{{ (s ~ s)|length }}', "a concatenation (~) of 6000000"),
        ('{% set s = "x" * 3000000 %}{{ (s + s)|length }}', "a sum of 6000000"),
        (
            '{% set ns = namespace(s="x") %}{% for i in range(40) %}'
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "a concatenation (~) of 8388608",
        ),
        ('{% for i in range(2000) %}{{ "x" * 4000 }}{% endfor %}', "output over the limit"),
        ("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}", "calls nested too deep"),
    ],
)
def test_each_limit(text: str, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateError) as info:
        render(text)
    assert str(info.value).startswith("template x/t.j2: ")
    assert message in str(info.value)
    assert time.monotonic() - started < 5


def test_within_the_limits_a_template_renders_as_jinja2_does() -> None:
    text = (
        '{% set ns = namespace(n=0) %}{% for i in range(3) %}{{ i ~ "-" }}'
        "{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }} {{ 2 * 3 }} {{ 2 ** 10 }}"
        ' {{ "a%sb" % 1 }} {{ "{:>3}".format(1) }} {{ "ab"|center(6) }}|'
        '{{ "x"|replace("x", "yz") }} {% for k in {"a": 1} %}{{ k }}{{ loop.length }}{% endfor %}'
    )
    assert render(text) == "0-1-2-3 6 1024 a1b   1   ab  |yz a1"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{{ 1 / 0 }}", "division by zero (ZeroDivisionError)"),
        ('{{ 1 + "a" }}', "(TypeError)"),
        ('{{ "{:d}".format("a") }}', "(ValueError)"),
        ("{{ params_body([], 2) }}", "macro 'params_body' takes not more than 1 argument(s)"),
        ("{{ range(3)(1) }}", "(TypeError)"),
        ('{{ "%(a)s" % {} }}', "(KeyError)"),
        ('{{ {}|dictsort(by="x") }}', 'You can only sort by either "key" or "value"'),
        ('{{ [1]|map("nofilter")|list }}', "No filter named 'nofilter'"),
        ('{{ "abc"|truncate(-5) }}', "(AssertionError)"),
        ("{{ cycler()|list }}", "(RuntimeError)"),
    ],
)
def test_a_template_whose_code_fails_is_an_error_naming_it(
    lab: Path, tmp_path: Path, block: str, message: str
) -> None:
    """What the template's own code raises (a division by zero, a wrong call) is an error
    naming the template: exit 1 and one line from build and validate, no traceback, no
    release."""
    hostile(lab, '{% from "polycom/_params.j2" import params_body %}' + block)
    code, output = build(lab, tmp_path / "out")
    assert code == 1, output
    assert "Traceback" not in output
    said = [line for line in output.splitlines() if "template polycom/phone.cfg.j2: " in line]
    assert len(said) == 1 and message in said[0] and "cannot render" in said[0]
    assert not (tmp_path / "out" / "current").exists()
    result = CliRunner().invoke(main, ["validate", str(lab)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert message in result.output
