"""Profile-level work is done once per profile, never reused for a phone that differs."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from mipc.model import Plan
from mipc.pipeline import validate
from mipc.render.base import ProfileMemo
from mipc.render.stage import ChunkRenderer, render_chunk
from tests.builders import by_stem

REPO = Path(__file__).parent.parent.parent


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    target = tmp_path_factory.mktemp("memo") / "campus"
    shutil.copytree(REPO / "examples" / "campus", target)
    result = validate(target)
    assert result.plan is not None
    return result.plan


def test_memo_computes_once_per_profile_and_again_for_a_changed_value(plan: Plan) -> None:
    phones = [p for p in plan.phones if p.family == "polycom"]
    first = phones[0]
    twins = [p for p in phones if p.profile == first.profile]
    assert len(twins) >= 2, "the campus needs two Polycom phones of one profile"
    memo: ProfileMemo[int] = ProfileMemo()
    calls: list[str] = []

    def compute(name: str) -> int:
        calls.append(name)
        return len(calls)

    assert memo.get(twins[0], lambda: compute(twins[0].name)) == 1
    assert memo.get(twins[1], lambda: compute(twins[1].name)) == 1  # shared
    changed = replace(twins[1], options=MappingProxyType({**twins[1].options, "x": 1}))
    assert memo.get(changed, lambda: compute(changed.name)) == 2  # same digest, other value


@pytest.mark.parametrize("family", ["polycom", "audiocodes", "iss"])
def test_a_hand_made_phone_with_a_stale_digest_renders_its_own_values(
    plan: Plan, family: str
) -> None:
    phone = next(p for p in plan.phones if p.family == family)
    chunk = ChunkRenderer(plan)
    before = by_stem(render_chunk(plan, [phone], chunk).artifacts)
    changed = replace(phone, options=MappingProxyType({**phone.options, "sip_port": 5077}))
    assert changed.profile == phone.profile
    after = by_stem(render_chunk(plan, [changed], chunk).artifacts)
    assert before.keys() == after.keys()
    assert any(b"5077" in after[k].data and b"5077" not in before[k].data for k in after)
    # and the memo still serves the original phone its own files
    assert by_stem(render_chunk(plan, [phone], chunk).artifacts) == before
