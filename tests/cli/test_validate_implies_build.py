"""What ``mipc validate`` accepts, ``mipc build`` builds; what a build would refuse at render or
network time, validate already says, naming the phone's entry."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import mipc.render.pool as pool_mod
from mipc.cli import main

ROOT = Path(__file__).resolve().parents[2]
VALID = sorted((ROOT / "tests" / "cases" / "valid").iterdir())
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("inventory", VALID + EXAMPLES, ids=lambda p: p.name)
def test_validate_passing_means_build_passes(inventory: Path, tmp_path: Path) -> None:
    copy = tmp_path / "inv"
    shutil.copytree(inventory, copy)
    validated = run("validate", copy)
    assert validated.exit_code == 0, validated.output
    built = run("build", copy, "-o", tmp_path / "out")
    assert built.exit_code == 0, built.output


def _lab(tmp_path: Path) -> Path:
    copy = tmp_path / "lab"
    shutil.copytree(ROOT / "examples" / "lab", copy)
    return copy


def _edit(lab: Path, old: str, new: str) -> None:
    path = lab / "mipc.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _entry_line(lab: Path, name: str) -> int:
    lines = (lab / "mipc.yaml").read_text(encoding="utf-8").splitlines()
    return lines.index(f"  - name: {name}") + 1


def test_a_template_the_build_cannot_render_fails_validate_at_the_phones_entry(
    tmp_path: Path,
) -> None:
    lab = _lab(tmp_path)
    override = lab / "vendor_templates" / "polycom"
    override.mkdir(parents=True)
    (override / "phone.cfg.j2").write_text(
        '{% extends "polycom/phone.cfg.j2" %}\n'
        "{% block extra %}{{ no_such_value }}{% endblock %}\n",
        encoding="utf-8",
    )
    validated = run("validate", lab, "--format", "github")
    assert validated.exit_code == 1
    line = _entry_line(lab, "PolycomAgent")
    assert f"line={line},col=5,title=render::phone PolycomAgent: " in validated.stderr
    assert "no_such_value" in validated.stderr
    assert run("build", lab, "-o", tmp_path / "out").exit_code == 1
    assert not (tmp_path / "out" / "current").exists()


def test_a_value_the_dhcp_files_cannot_hold_fails_validate(tmp_path: Path) -> None:
    lab = _lab(tmp_path)
    _edit(lab, "    sntp_server: ic-server", "    sntp_server: time.example.com")
    validated = run("validate", lab)
    assert validated.exit_code == 1
    assert "error[network]" in validated.stderr and "time.example.com" in validated.stderr
    assert run("build", lab, "-o", tmp_path / "out").exit_code == 1


def test_validate_reports_every_phone_the_build_would_refuse(tmp_path: Path) -> None:
    """Rendering goes on after a refused phone, so one run says every problem."""
    lab = _lab(tmp_path)
    override = lab / "vendor_templates" / "polycom"
    override.mkdir(parents=True)
    (override / "phone.cfg.j2").write_text("{{ no_such_value }}\n", encoding="utf-8")
    validated = run("validate", lab)
    assert validated.exit_code == 1
    refused = [ln for ln in validated.stderr.splitlines() if "error[render]" in ln]
    assert {ln.split("phone ", 1)[1].split(":", 1)[0] for ln in refused} == {
        "PolycomAgent",
        "PolycomLobby",
    }


@pytest.mark.parametrize("template", ["phone.cfg.j2", "group.cfg.j2"])
def test_validate_in_worker_processes_says_what_one_process_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: str
) -> None:
    """validate renders in worker processes as a build does (the pool starts only for large
    plans; here it is made to start for the lab): the same refusals, in the same order. A
    group file that cannot render is what every Polycom master names: worked out before the
    workers fork, its refusal is still each phone's, as in one process."""
    lab = _lab(tmp_path)
    override = lab / "vendor_templates" / "polycom"
    override.mkdir(parents=True)
    (override / template).write_text("{{ no_such_value }}\n", encoding="utf-8")
    serial = run("validate", lab)
    monkeypatch.setattr(pool_mod, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(pool_mod, "CHUNK_SIZE", 1)
    pools: list[int] = []
    real = pool_mod.ProcessPoolExecutor  # type: ignore[attr-defined]

    def counted(*args: Any, **kwargs: Any) -> Any:
        pools.append(kwargs["max_workers"])
        return real(*args, **kwargs)

    monkeypatch.setattr(pool_mod, "ProcessPoolExecutor", counted)
    parallel = run("validate", lab)
    assert parallel.exit_code == serial.exit_code == 1
    assert parallel.stderr == serial.stderr
    assert "error[render]" in parallel.stderr
    assert pools, "validate rendered in one process"
