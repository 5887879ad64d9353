"""Assembling the model: the inventory digest's text for phones read from lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from mipc.assemble import _phone_text
from mipc.csvlists import TemplateFacts, read_phone_list
from mipc.diagnostics import Diagnostics, Position
from mipc.model import EMPTY, AppearanceSpec, PhoneSpec, SecretRef, Setting

DATA = Path(__file__).parent.parent / "data" / "csv"
TEMPLATES: dict[str, str | TemplateFacts] = {
    "My Polycom SA Template": TemplateFacts("Polycom", "VVX 450"),
    "My Polycom Agent Template": TemplateFacts("Polycom", "VVX 450"),
    "My Agent SSP Template": TemplateFacts("ININ", "Soft Phone"),
    "My Agent ISS Template": TemplateFacts("ININ", "Interaction SIP Station"),
    "My Agent 420HD Template": TemplateFacts("AudioCodes", "420HD"),
    "My Agent ISS v2 Template": TemplateFacts("ININ", "Interaction SIP Station II"),
}


@pytest.mark.parametrize("name", ["guide-template.csv", "guide-tmm.csv"])
def test_phone_text_is_the_repr_of_list_phones(name: str) -> None:
    phones = read_phone_list(DATA / name, name, Diagnostics(), templates=TEMPLATES)
    assert phones
    for phone in phones:
        assert _phone_text(phone) == repr(phone)


def test_phone_text_is_the_repr_of_any_phone() -> None:
    where = Position("lists/a.csv", 7, 0, "Name")
    apps = (
        AppearanceSpec("private", extension="7001", label='It\'s "x"', position=where),
        AppearanceSpec("shared", shared="Reception", line_keys=2),
        AppearanceSpec(
            "external",
            registration_group="Trunk",
            identification_address="sip:a@b",
            auth_user="u",
            auth_password=SecretRef(file="secrets/x.txt"),
            sharable=True,
        ),
    )
    layer = {"model": Setting("VVX 450", "csv", where), "options.x": Setting(("a", 1), "csv", None)}
    for appearances in ((), apps[:1], apps):
        for position in (None, where, Position("phones.yaml", 3, 5)):
            phone = PhoneSpec(
                name="Desk 1",
                template=None,
                location="Berlin",
                address="00:04:f2:aa:bb:cc",
                appearances=appearances,
                layer=layer,
                position=position,
                origin="csv",
                address_position=position,
            )
            assert _phone_text(phone) == repr(phone)
    odd = PhoneSpec("x", "t", None, None, tuple(apps), EMPTY, None)
    assert _phone_text(odd) == repr(odd)
