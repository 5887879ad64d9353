"""What every fuzz harness checks of one input, shared by the hypothesis tests and the replay of
``tests/fuzz/corpus/<harness>/`` (the inputs that once crashed mipc, and hostile seeds).

Each ``check_*`` takes one input and fails the test when mipc gives anything but its answer
for it: a loaded model or diagnostics, a parsed value or its own error, an exit code of 0, 1 or
2 with no traceback. ``fuzz_settings`` gives a harness's hypothesis settings: deterministic
(``derandomize``, no example database), ``short`` inputs under ``make test`` and
``MIPC_FUZZ_EXAMPLES`` (times ``share``) under ``make fuzz``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from mipc.catalog.addresses import format_mac, looks_like_mac, mac_problem, normalize_mac
from mipc.catalog.timezones import TimeZoneDataError, UnknownTimeZone, lookup, parse_posix_tz
from mipc.cli import main
from mipc.diagnostics import Diagnostics, render
from mipc.inventory.csvlists import ReadOptions, TemplateFacts, parse_phone_list_bytes
from mipc.pipeline import load_model

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "corpus"
LONG = int(os.environ.get("MIPC_FUZZ_EXAMPLES", "0"))

settings.register_profile(
    "mipc-fuzz",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: The templates of ``examples/lab`` (the CSV harness reads lists against them).
LAB_TEMPLATES = {
    "My Polycom Agent Template": TemplateFacts("Polycom", "VVX 450"),
    "My Polycom SA Template": TemplateFacts("Polycom", "VVX 450"),
    "My Agent SSP Template": TemplateFacts("ININ", "Soft Phone"),
    "My Agent ISS Template": TemplateFacts("ININ", "Interaction SIP Station"),
    "My Agent 420HD Template": TemplateFacts("AudioCodes", "420HD"),
}


def fuzz_settings(short: int, share: float = 1.0) -> settings:
    """The settings of a harness: ``short`` inputs, or ``share`` of ``MIPC_FUZZ_EXAMPLES``."""
    count = max(1, int(LONG * share)) if LONG else short
    return settings(settings.get_profile("mipc-fuzz"), max_examples=count)


def corpus(harness: str) -> list[Path]:
    """The kept inputs of one harness, sorted."""
    return sorted(p for p in (CORPUS / harness).iterdir() if not p.name.startswith("."))


def _said(diags: Diagnostics) -> None:
    """Every format renders the diagnostics (a message that cannot be formatted is a crash)."""
    for fmt in ("text", "json", "github"):
        assert isinstance(render(diags, fmt), str)


def check_yaml(data: bytes) -> None:
    """An inventory file of these bytes loads into a model or is refused with diagnostics."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mipc.yaml"
        path.write_bytes(data)
        inventory, diags = load_model(path)
    assert inventory is not None or diags.errors, "refused without saying why"
    _said(diags)


def check_csv(data: bytes) -> None:
    """A phone list of these bytes gives phones, row errors, or a refusal, never a crash."""
    diags = Diagnostics()
    options = ReadOptions(templates=LAB_TEMPLATES, doubts=True)
    found = parse_phone_list_bytes(data, "list.csv", diags, options)
    assert not found.severe or diags.errors, "a severe list without an error"
    _said(diags)


def check_mac(text: str) -> None:
    """A MAC parses to 12 hex digits that format back to it, or says why not."""
    mac = normalize_mac(text)
    if mac is None:
        assert mac_problem(text).startswith(repr(text))
        looks_like_mac(text)
        return
    assert len(mac) == 12 and mac == mac.lower()
    assert normalize_mac(format_mac(mac)) == mac


def check_zone(text: str) -> None:
    """A POSIX TZ string or a zone name gives a zone or mipc's own error."""
    for parse in (parse_posix_tz, lookup):
        try:
            zone = parse(text)
        except (TimeZoneDataError, UnknownTimeZone) as exc:
            assert str(exc)
        else:
            assert -24 * 3600 <= zone.std_offset <= 24 * 3600


def check_import(data: bytes) -> None:
    """``mipc import-csv --dry-run`` of a list of these bytes into the lab answers 0, 1 or 2."""
    with tempfile.TemporaryDirectory() as folder:
        lab = Path(folder) / "lab"
        shutil.copytree(REPO / "examples" / "lab", lab)
        (lab / "list.csv").write_bytes(data)
        _run("import-csv", "-i", lab, lab / "list.csv", "--dry-run", "-q")


def _run(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    said = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"mipc {args[0]} crashed: {result.exception!r}\n{said}"
    )
    assert result.exit_code in (0, 1, 2), f"mipc {args[0]} exited {result.exit_code}\n{said}"
    assert "Traceback" not in said, said
    return result


def check_inventory(files: dict[str, bytes]) -> int:
    """Validate an inventory of ``files`` (path → bytes); when it passes, build it too, which
    must pass. The exit code of validate."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "inv"
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        validated = _run("validate", root, "-q")
        if validated.exit_code == 0:
            built = _run("build", root, "-o", Path(folder) / "out", "-q")
            assert built.exit_code == 0, f"validate passed, build failed:\n{built.output}"
        return validated.exit_code
