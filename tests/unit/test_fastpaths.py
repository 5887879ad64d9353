"""The Python renderings of shipped templates (mipc.render.fastpaths) write what the templates
write, byte for byte; they are used only while the templates are the shipped ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import mipc.render.templating as templating
from mipc.pipeline import validate
from mipc.render import fastpaths, syntax
from mipc.render.base import RenderError
from mipc.render.limits import render_limited
from mipc.render.polycom.renderer import PolycomRenderer
from mipc.render.stage import render_all
from mipc.render.templating import FAST_PATHS, render_template, shipped_digest

REPO = Path(__file__).resolve().parents[2]
INVENTORIES = sorted(p for p in (REPO / "examples").iterdir() if p.is_dir()) + sorted(
    (REPO / "tests" / "cases" / "valid").iterdir()
)


@pytest.fixture
def jinja_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every template rendered by Jinja2, macros included: the fast paths switched off."""
    monkeypatch.setattr(templating, "_fast", lambda name, override: None)
    monkeypatch.setattr(templating, "FAST_MACROS", {})
    templating.environment.cache_clear()  # no template loaded with its fast macros
    templating._template.cache_clear()
    yield
    templating.environment.cache_clear()
    templating._template.cache_clear()


def _plain(override: templating.Overrides | None = None) -> jinja2.Environment:
    """A sandbox of its own whose templates are Jinja2's: no fast macro."""
    env = templating.environment.__wrapped__(override)
    env.template_class = jinja2.Template
    return env


_PLAIN = _plain()


def _jinja(name: str, context: dict[str, Any]) -> str:
    text = _PLAIN.get_template(name).render(**context)
    return text.replace("\r\n", "\n") if "\r" in text else text


def test_every_fast_path_reproduces_the_shipped_sources_it_names() -> None:
    """A template changed without its fast path: this fails (and the stale path is unused)."""
    assert callable(fastpaths.keyvalue_phone)  # the module registers on import
    assert set(FAST_PATHS) >= {
        "polycom/phone.cfg.j2",
        "polycom/master.cfg.j2",
        "iss/phone.cfg.j2",
        "audiocodes/phone.cfg.j2",
    }
    for name, (_, digests) in FAST_PATHS.items():
        assert name in digests
        for source, digest in digests.items():
            assert shipped_digest(source) == digest, f"{source} changed: update {name}'s path"
        assert templating._current(name) is not None


@pytest.mark.parametrize("inventory", INVENTORIES, ids=lambda p: p.name)
def test_fast_paths_render_every_file_the_templates_render(
    inventory: Path, request: pytest.FixtureRequest
) -> None:
    plan = validate(inventory).plan
    assert plan is not None
    fast, fast_warnings = render_all(plan)
    request.getfixturevalue("jinja_only")
    slow, slow_warnings = render_all(plan)
    assert fast == slow
    assert fast_warnings == slow_warnings


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
_VALUE = st.one_of(_TEXT, st.integers(-5, 10**6), st.booleans(), st.none())


@settings(max_examples=60, deadline=None)
@given(
    elements=st.lists(
        st.fixed_dictionaries(
            {"tag": _TEXT, "attributes": st.lists(st.tuples(_TEXT, _VALUE), max_size=4)}
        ),
        max_size=4,
    ),
    emergency=st.lists(st.tuples(_TEXT, _TEXT), max_size=3),
    comments=st.tuples(_TEXT, st.one_of(_TEXT, st.none())),
)
def test_polycom_phone_path_on_any_values(
    elements: list[dict[str, Any]], emergency: list[tuple[str, str]], comments: tuple[Any, Any]
) -> None:
    context = {
        "phone_comment": comments[0],
        "model_comment": comments[1],
        "elements": elements,
        "emergency": emergency,
    }
    assert render_template("polycom/phone.cfg.j2", context) == _jinja(
        "polycom/phone.cfg.j2", context
    )


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(_VALUE, min_size=5, max_size=5),
    comment=_TEXT,
    overrides=st.booleans(),
)
def test_polycom_master_path_on_any_values(
    values: list[Any], comment: str, overrides: bool
) -> None:
    context = {
        "phone_comment": comment,
        "app_file_path": values[0],
        "config_files": values[1],
        "uploads": {"logs": values[2], "overrides": values[3], "contacts": values[4]},
        "overrides": overrides,
    }
    assert render_template("polycom/master.cfg.j2", context) == _jinja(
        "polycom/master.cfg.j2", context
    )


_NAME = st.lists(st.sampled_from(["reg", "msg", "1", "2", "x_y"]), min_size=1, max_size=3).map(
    ".".join
)


@settings(max_examples=80, deadline=None)
@given(
    keys=st.lists(_NAME, max_size=8, unique=True),
    texts=st.lists(_TEXT, min_size=8, max_size=8),
    comments=st.tuples(_TEXT, _TEXT),
)
def test_parameter_elements_lay_out_as_the_template_does(
    keys: list[str], texts: list[str], comments: tuple[str, str]
) -> None:
    """Elements (names and texts, laid out once per list of names) renders as the template
    renders the same groups: by the fast path, by Jinja2, and as a plain list."""
    elements = fastpaths.Elements(tuple(keys), texts[: len(keys)])
    plain = [dict(e) for e in elements]
    pairs = [a for e in plain for a in e["attributes"]]
    assert sorted(pairs) == sorted(zip(keys, texts, strict=False))  # each once, grouped
    assert [e["tag"] for e in plain] == list(dict.fromkeys(k.split(".")[0] for k in keys))
    context = {
        "phone_comment": comments[0],
        "model_comment": comments[1],
        "elements": elements,
        "emergency": [],
    }
    text = render_template("polycom/phone.cfg.j2", context)
    assert text == _jinja("polycom/phone.cfg.j2", context)
    assert text == _jinja("polycom/phone.cfg.j2", {**context, "elements": plain})
    again = fastpaths.Elements(tuple(keys), texts[: len(keys)])  # the memo's second use
    assert render_template("polycom/phone.cfg.j2", {**context, "elements": again}) == text


_ANY_TEXT = st.text(max_size=8)  # surrogates and all
_ANY_NAME = st.one_of(_NAME, _ANY_TEXT, st.sampled_from(["xmlns", "XML.a", "a..b", "1a", "a-b"]))


def _well_formed(text: str) -> bool:
    try:
        syntax.SYNTAXES["xml"](text, "t")
    except (RenderError, UnicodeEncodeError):
        return False
    return True


@settings(max_examples=300, deadline=None)
@example(keys=["reg.1.address"], texts=["a&b", "", "", "", ""], comments=("P", "M"), emergency=[])
@given(
    keys=st.lists(_ANY_NAME, max_size=5),
    texts=st.lists(_ANY_TEXT, min_size=5, max_size=5),
    comments=st.tuples(_ANY_TEXT, st.one_of(_ANY_TEXT, st.none())),
    emergency=st.lists(st.tuples(_ANY_TEXT, _ANY_TEXT), max_size=2),
)
def test_a_proven_polycom_file_is_well_formed_xml(
    keys: list[str],
    texts: list[str],
    comments: tuple[str, str | None],
    emergency: list[tuple[str, str]],
) -> None:
    """Where the proofs let the parse-back check go, it had nothing to find: a context the
    proof passes renders well-formed XML (and one it fails is parsed, as before)."""
    phone = {
        "phone_comment": comments[0],
        "model_comment": comments[1],
        "elements": fastpaths.Elements(tuple(keys), texts[: len(keys)]),
        "emergency": emergency,
    }
    if templating.proven("polycom/phone.cfg.j2", phone):
        assert _well_formed(render_template("polycom/phone.cfg.j2", phone))
    master = {
        "phone_comment": comments[0],
        "app_file_path": texts[0],
        "config_files": texts[1],
        "uploads": {"logs": texts[2], "overrides": texts[3], "contacts": texts[4]},
        "overrides": bool(keys),
    }
    if templating.proven("polycom/master.cfg.j2", master):
        assert _well_formed(render_template("polycom/master.cfg.j2", master))


def test_the_proofs_hold_for_the_lab_phones_and_not_for_an_override(tmp_path: Path) -> None:
    """The proofs are used: every Polycom phone of the lab example passes them, so its files
    are not parsed back; an override of the template (or what it imports) is parsed."""
    result = validate(REPO / "examples" / "lab")
    assert result.plan is not None
    phones = [p for p in result.plan.phones if p.family == "polycom" and p.mac]
    assert phones
    renderer = PolycomRenderer()
    for phone in phones:
        params = renderer.phone_params(phone, result.plan)
        context = {
            "phone_comment": phone.name,
            "model_comment": phone.model.display,
            "elements": params.elements(),
            "emergency": [],
        }
        assert templating.proven("polycom/phone.cfg.j2", context)
    files = {"polycom/_params.j2": b"{% macro params_body(elements) %}{% endmacro %}\n"}
    override = templating._gathered(str(tmp_path), files, {})
    assert not templating.proven("polycom/phone.cfg.j2", context, override)
    assert not templating.proven("polycom/phone.cfg.j2", {**context, "phone_comment": "a--b"})
    assert not templating.proven("polycom/phone.cfg.j2", {**context, "elements": []})


_PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10)


@settings(max_examples=60, deadline=None)
@given(
    settings_=st.lists(st.tuples(_PRINTABLE, st.one_of(_PRINTABLE, st.integers(), st.booleans())))
)
def test_keyvalue_path_on_any_values(settings_: list[tuple[str, Any]]) -> None:
    for name in ("iss/phone.cfg.j2", "audiocodes/phone.cfg.j2"):
        context = {"settings": settings_, "phone": None, "system_type": "", "file_name": ""}
        assert render_template(name, context) == _jinja(name, context)


def test_a_value_that_breaks_a_line_is_refused_the_same_way_on_both_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    context = {"settings": [("a", "x\ny")], "phone": None, "system_type": "", "file_name": ""}
    with pytest.raises(templating.TemplateError) as fast:
        render_template("iss/phone.cfg.j2", context)
    monkeypatch.setattr(templating, "_fast", lambda name, override: None)
    with pytest.raises(templating.TemplateError) as slow:
        render_template("iss/phone.cfg.j2", context)
    assert str(fast.value) == str(slow.value)


def test_an_override_of_an_imported_template_turns_the_fast_path_off(tmp_path: Path) -> None:
    """polycom/phone.cfg.j2 imports _params.j2: overriding only the latter still counts."""
    files = {"polycom/_params.j2": b"{% macro params_body(elements) %}MINE\n{% endmacro %}\n"}
    override = templating._gathered(str(tmp_path), files, {})
    context = {"phone_comment": "P", "model_comment": "M", "elements": [], "emergency": []}
    text = render_template("polycom/phone.cfg.j2", context, override)
    assert "MINE" in text
    assert "MINE" not in render_template("polycom/phone.cfg.j2", context)


_PARAMS = b'{% from "polycom/_params.j2" import params_body %}{{ params_body(elements) }}'


def _override(tmp_path: Path, files: dict[str, bytes]) -> templating.Overrides:
    return templating._gathered(str(tmp_path), files, {})


@settings(max_examples=100, deadline=None)
@example(elements=[{"tag": "\r", "attributes": [("a", "\r\n")]}])  # a line end made LF
@given(
    elements=st.one_of(
        st.lists(
            st.fixed_dictionaries(
                {"tag": _VALUE, "attributes": st.lists(st.tuples(_VALUE, _VALUE), max_size=4)}
            ),
            max_size=4,
        ),
        st.lists(_NAME, max_size=6, unique=True).map(
            lambda keys: fastpaths.Elements(tuple(keys), [f"v{i}&" for i in range(len(keys))])
        ),
    ),
)
def test_the_params_macro_renders_in_an_override_as_jinja2_renders_it(
    elements: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """An inventory's template that imports the shipped macro gets its Python rendering,
    and the same text as Jinja2's macro, whatever the elements."""
    override = _override(tmp_path_factory.getbasetemp(), {"polycom/mine.cfg.j2": _PARAMS})
    context = {"elements": elements}
    text = render_template("polycom/mine.cfg.j2", context, override)
    template = _plain(override).get_template("polycom/mine.cfg.j2")
    plain = render_limited(template, context)
    assert text == plain.replace("\r\n", "\n")  # as render_template gives every template


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ("params_body([{'attributes': []}])", "undefined variable"),
        ("params_body()", "undefined variable"),
        ("params_body(elements=[{'tag': 't', 'attributes': [('a', 1)]}])", None),
    ],
)
def test_the_params_macro_is_called_as_jinja2_calls_it(
    call: str, error: str | None, tmp_path: Path
) -> None:
    source = b'{% from "polycom/_params.j2" import params_body %}{{ ' + call.encode() + b" }}"
    override = _override(tmp_path, {"polycom/mine.cfg.j2": source})
    plain = _plain(override).get_template("polycom/mine.cfg.j2")
    if error is None:
        text = render_template("polycom/mine.cfg.j2", {}, override)
        assert text == render_limited(plain, {}) == '  <t\n    a="1"\n  />\n'
        return
    with pytest.raises(templating.TemplateError, match=error):
        render_template("polycom/mine.cfg.j2", {}, override)
    with pytest.raises(jinja2.UndefinedError):
        render_limited(plain, {})


def test_too_many_arguments_fail_on_both_macros(tmp_path: Path) -> None:
    source = b'{% from "polycom/_params.j2" import params_body %}{{ params_body([], 2) }}'
    override = _override(tmp_path, {"polycom/mine.cfg.j2": source})
    with pytest.raises(templating.TemplateError, match="takes not more than 1 argument"):
        render_template("polycom/mine.cfg.j2", {}, override)
    with pytest.raises(TypeError, match="takes not more than 1 argument"):
        render_limited(_plain(override).get_template("polycom/mine.cfg.j2"), {})


def test_the_fast_macro_is_used_only_while_its_template_is_the_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def macro(override: templating.Overrides | None) -> object:
        template = templating.environment.__wrapped__(override).get_template("polycom/_params.j2")
        return getattr(template.module, "params_body")  # noqa: B009 - made at run time

    assert isinstance(macro(None), templating._FastMacro)
    assert isinstance(macro(_override(tmp_path, {"polycom/x.j2": b""})), templating._FastMacro)
    mine = b"{% macro params_body(elements) %}MINE{% endmacro %}"
    assert isinstance(
        macro(_override(tmp_path, {"polycom/_params.j2": mine})), jinja2.runtime.Macro
    )
    _, digests = templating.FAST_MACROS["polycom/_params.j2"]
    assert all(shipped_digest(n) == d for n, d in digests.items()), "update the macro's digest"
    monkeypatch.setitem(
        templating.FAST_MACROS,
        "polycom/_params.j2",
        (templating.FAST_MACROS["polycom/_params.j2"][0], {"polycom/_params.j2": "stale"}),
    )
    assert isinstance(macro(None), jinja2.runtime.Macro)
