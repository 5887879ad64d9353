"""The boot and provision sequence of each family, played against a :class:`Source`.

- Polycom: ``<mac>.cfg`` (``000000000000.cfg`` for a MAC the release does not know: the
  provisional station), the firmware image its ``APP_FILE_PATH`` names, every file of
  ``CONFIG_FILES`` in order (the first file that sets a parameter wins), and the uploads the
  master's ``LOG_FILE_DIRECTORY``, ``OVERRIDES_DIRECTORY`` and ``CONTACTS_DIRECTORY`` take.
- AudioCodes, Genesys, Interaction SIP Station: the image DHCP option 67 names, the custom
  files the manifest lists for the phone, then ``<mac>.cfg`` (read last: its keys win).
- SIP Soft Phone: ``<computer name>.i3sipcfg``.

A firmware image (or a Polycom stock file) the server does not have is noted, not a failure:
the phone keeps the firmware (and built-in defaults) it runs. Any other file that is not
there, or does not parse, is the boot's failure. Takes a source and a target; gives a
:class:`~mipc.simulate.model.Boot`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from mipc.catalog.addresses import normalize_mac
from mipc.catalog.models import load_catalog
from mipc.diagnostics import InvalidInputError
from mipc.diff.decode import decode_settings
from mipc.diff.model import PhoneRecord
from mipc.simulate.model import Boot, Request, Setting, Target, Upload
from mipc.simulate.sources import Answer, Source

#: The master every Polycom phone falls back to when its own is not there.
PROVISIONAL = "000000000000.cfg"

#: What a Polycom phone uploads: master attribute naming the folder → file name suffixes.
POLYCOM_UPLOADS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("LOG_FILE_DIRECTORY", ("-boot.log", "-app.log")),
    ("OVERRIDES_DIRECTORY", ("-phone.cfg", "-web.cfg")),
    ("CONTACTS_DIRECTORY", ("-directory.xml",)),
)

NO_IMAGE = "not served: the phone keeps the firmware it runs"
NO_STOCK = "Polycom's stock file, not served: the phone keeps its built-in defaults"


def find_target(phones: Mapping[str, PhoneRecord], ident: str) -> Target:
    """The manifest's phone by name, MAC in any notation or computer name.

    A MAC the manifest does not hold is a Polycom phone the release does not know (it takes
    the provisional path); anything else unknown is an error naming it.
    """
    mac = normalize_mac(ident)
    for entry in phones.values():
        computer = entry.computer_name
        if (
            entry.name == ident
            or (mac is not None and entry.mac == mac)
            or (computer is not None and computer.lower() == ident.lower())
        ):
            return Target(
                name=entry.name,
                family=entry.family,
                mac=entry.mac,
                computer_name=computer,
                model=entry.model,
                files=tuple(f.removeprefix("www/") for f in entry.files),
            )
    if mac is not None:
        return Target(name=mac, family="polycom", mac=mac)
    raise InvalidInputError(f"no phone named or addressed {ident!r} in the release's manifest.json")


def bare_target(ident: str) -> Target:
    """A phone known only by its address (no manifest): the server's answer tells its family."""
    mac = normalize_mac(ident)
    if mac is not None:
        return Target(name=mac, family=None, mac=mac)
    return Target(name=ident, family="softphone", computer_name=ident)


class Player:
    """Plays one phone's requests, keeping what the server answered and the first failure."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.requests: list[Request] = []
        self.failure: str | None = None

    def fail(self, message: str) -> None:
        """Keep ``message`` when it is the boot's first failure."""
        if self.failure is None:
            self.failure = message

    def get(self, path: str, *, optional: str = "") -> bytes | None:
        """``GET`` a file: its bytes, or None (a failure unless ``optional`` says why not)."""
        answer = self.source.get(path)
        self._record("GET", path, answer, optional)
        return answer.body if answer.status == 200 else None

    def head(self, path: str, note: str) -> None:
        """``HEAD`` a firmware image: the phone checks it; its absence is only noted."""
        self._record("HEAD", path, self.source.head(path), note)

    def _record(self, method: str, path: str, answer: Answer, optional: str) -> None:
        ok = answer.status == 200
        self.requests.append(
            Request(method, path, answer.status, answer.size, "" if ok else optional)
        )
        if not ok and not optional:
            word = "not found" if answer.status == 404 else f"answered {answer.status}"
            self.fail(f"{path}: {word}")


def polycom_params(path: str, data: bytes) -> dict[str, str] | None:
    """Every attribute of every element, as a Polycom phone reads a file; None if not XML."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    out: dict[str, str] = {}
    for element in root.iter():
        for key, value in element.attrib.items():
            if not key.startswith("{"):  # a namespaced attribute (xsi:...) is no parameter
                out.setdefault(key, value)
    return out


def _polycom_master(player: Player, target: Target) -> tuple[str, dict[str, str]] | None:
    mac = target.mac or ""
    own = f"{mac}.cfg"
    known = own in target.files
    data = player.get(own, optional="" if known else "no master of its own: provisional")
    name = own
    if data is None and not known:
        name = PROVISIONAL
        data = player.get(PROVISIONAL)
    if data is None:
        return None
    master = polycom_params(name, data)
    if master is None:
        player.fail(f"{name}: not well-formed XML")
        return None
    return name, master


def play_polycom(player: Player, target: Target) -> tuple[list[Setting], list[Upload]]:
    """Master, image, ``CONFIG_FILES`` left to right (first file wins), and the uploads."""
    found = _polycom_master(player, target)
    if found is None:
        return [], []
    _, master = found
    image = master.get("APP_FILE_PATH", "")
    if image:
        player.head(image, NO_IMAGE)
    effective: dict[str, Setting] = {}
    for name in (f.strip() for f in master.get("CONFIG_FILES", "").split(",")):
        if not name:
            continue
        data = player.get(name, optional=NO_STOCK if name.startswith("firmware/") else "")
        if data is None:
            continue
        params = polycom_params(name, data)
        if params is None:
            player.fail(f"{name}: not well-formed XML")
            continue
        for key, value in params.items():
            effective.setdefault(key, Setting(key, value, name))
    uploads = [
        Upload("PUT", "/".join(p for p in (master.get(attr, ""), f"{target.mac}{suffix}") if p))
        for attr, suffixes in POLYCOM_UPLOADS
        for suffix in suffixes
    ]
    return list(effective.values()), uploads


def _keyvalue_file(player: Player, name: str, into: dict[str, Setting]) -> None:
    data = player.get(name)
    if data is None:
        return
    settings = decode_settings(name, data)
    if settings is None or data.lstrip().startswith(b"<"):
        player.fail(f"{name}: not key=value lines")
        return
    for key, value in settings.items():
        into[key] = Setting(key, value, name)  # a later file overrides an earlier one


def play_keyvalue(player: Player, target: Target) -> tuple[list[Setting], list[Upload]]:
    """The option 67 image, the custom files, then ``<mac>.cfg``: the last file wins."""
    model = load_catalog().models.get(target.model or "")
    if model is not None and model.firmware_image:
        player.head(model.firmware_image, NO_IMAGE)
    effective: dict[str, Setting] = {}
    own = f"{target.mac}.cfg"
    for name in (*(f for f in target.files if f != own), own):
        _keyvalue_file(player, name, effective)
    return list(effective.values()), []


def play_softphone(player: Player, target: Target) -> tuple[list[Setting], list[Upload]]:
    """The one ``<computer name>.i3sipcfg``."""
    name = f"{target.computer_name}.i3sipcfg"
    data = player.get(name)
    if data is None:
        return [], []
    settings = decode_settings(name, data) if data.lstrip().startswith(b"<") else None
    if settings is None:
        player.fail(f"{name}: not well-formed XML")
        return [], []
    return [Setting(k, v, name) for k, v in settings.items()], []


def _family(player: Player, target: Target) -> str:
    """A phone known only by its MAC: Polycom when its file is XML or absent, else key=value."""
    answer = player.source.get(f"{target.mac}.cfg")
    if answer.status == 200 and not answer.body.lstrip().startswith(b"<"):
        return "keyvalue"
    return "polycom"


PLAYERS = {
    "polycom": play_polycom,
    "audiocodes": play_keyvalue,
    "iss": play_keyvalue,
    "keyvalue": play_keyvalue,
    "softphone": play_softphone,
}


def simulate(source: Source, target: Target) -> Boot:
    """Play ``target``'s boot against ``source``."""
    player = Player(source)
    family = target.family or _family(player, target)
    play = PLAYERS.get(family)
    if play is None:
        raise InvalidInputError(f"{target.name}: no boot sequence known for family {family!r}")
    settings, uploads = play(player, target)
    return Boot(
        target=target,
        family=family,
        requests=tuple(player.requests),
        settings=tuple(settings),
        uploads=tuple(uploads),
        failure=player.failure,
    )
