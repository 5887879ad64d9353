"""quick_init: the same instances as a frozen dataclass's own ``__init__``, in slots."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, dataclass, field

import pytest

from mipc.diagnostics import Position
from mipc.frozen import quick_init
from mipc.model import Appearance, AppearanceSpec, EffectivePhone, PhoneSpec, Setting


@dataclass(frozen=True, slots=True)
class Plain:
    value: object
    layer: str
    position: object = None


@quick_init
@dataclass(frozen=True, slots=True)
class Quick:
    value: object
    layer: str
    position: object = None


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1, "a"), {}), ((1, "a", 3), {}), ((), {"layer": "b", "value": [2]}), ((None, "c"), {})],
)
def test_the_instance_is_the_dataclass_s_own(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    quick, plain = Quick(*args, **kwargs), Plain(*args, **kwargs)  # type: ignore[arg-type]
    assert (quick.value, quick.layer, quick.position) == (
        plain.value,
        plain.layer,
        plain.position,
    )
    assert repr(quick) == repr(plain).replace("Plain", "Quick")
    assert quick == Quick(*args, **kwargs)  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(quick)) == quick


def test_the_instance_stays_frozen_and_holds_no_dict() -> None:
    quick = Quick(1, "a")
    with pytest.raises(FrozenInstanceError):
        quick.value = 2  # type: ignore[misc]
    assert not hasattr(quick, "__dict__")


def test_the_signature_is_checked_as_the_dataclass_s() -> None:
    with pytest.raises(TypeError):
        Quick(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Quick(1, "a", 3, 4)  # type: ignore[call-arg]


def test_a_class_with_an_instance_dict_or_a_factory_is_refused() -> None:
    @dataclass(frozen=True)
    class Unslotted:
        value: int

    @dataclass(frozen=True, slots=True)
    class Factory:
        value: list[int] = field(default_factory=list)

    with pytest.raises(TypeError, match="slots=True"):
        quick_init(Unslotted)
    with pytest.raises(TypeError, match="only plain fields"):
        quick_init(Factory)


@pytest.mark.parametrize(
    "cls", [Setting, Position, AppearanceSpec, PhoneSpec, Appearance, EffectivePhone]
)
def test_the_objects_made_per_phone_have_slots(cls: type) -> None:
    """Made hundreds of thousands of times: an instance dict would cost ~100 bytes each."""
    assert "__slots__" in cls.__dict__ and "__dict__" not in dir(cls)
