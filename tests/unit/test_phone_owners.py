"""Each renderer names its phones' own files without rendering them (``own_files``), and the
names are exactly what it renders for one phone, by stem (the site's owner map looks a path up
without its content address): what ``serving.access: phone`` lets only that phone read."""

from __future__ import annotations

from pathlib import Path

import pytest

from mipc.pipeline import validate
from mipc.render.stage import ChunkRenderer, phone_owners, provisioned
from tests.builders import by_stem

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("example", ["lab", "campus", "polycom-generations"])
def test_owners_are_the_files_rendered_for_one_phone(example: str) -> None:
    plan = validate(REPO / "examples" / example).plan
    assert plan is not None
    chunk = ChunkRenderer(plan)
    rendered: dict[str, str] = {}
    for phone in provisioned(plan).phones:
        for path, art in by_stem(chunk.phone(phone)).items():
            assert art.phones == (phone.name,), path
            user = phone.mac or phone.computer_name
            assert user is not None
            rendered[path] = user
    assert phone_owners(plan) == dict(sorted(rendered.items()))
    assert any(path.startswith("phone/") for path in rendered)
