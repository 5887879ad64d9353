"""Whatever an override template's code does, its render gives text or a TemplateError that
names the template: never another exception (a traceback, for the administrator)."""

from __future__ import annotations

import jinja2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipc.render.templating import TemplateError, _gathered, environment, render_template

_SOURCES = _gathered("/inventory/vendor_templates", {"x/t.j2": b""}, {})
_FILTERS = sorted(environment(_SOURCES).filters)
_TESTS = sorted(n for n in environment(_SOURCES).tests if n.isidentifier())
_BASE = st.sampled_from(
    [
        "0",
        "1",
        "-2",
        "2.5",
        '"a"',
        '"%s"',
        '"%(a)s"',
        '"{:d}"',
        '""',
        "none",
        "true",
        "[]",
        "[1, 'a']",
        "{}",
        "{'k': 1}",
        "range(3)",
        "missing",
        "namespace()",
        "cycler()",
        "joiner()",
    ]
)
_OPS = st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "~", "==", "<", "in", "and"])
_FILTERS_BY_NAME = st.sampled_from(_FILTERS).map(lambda n: f'"{n}"')
_METHODS = st.sampled_from(["format", "split", "join", "ljust", "encode", "get", "items"])


def _filtered(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    args = st.lists(st.one_of(_BASE, _FILTERS_BY_NAME), max_size=2).map(", ".join)
    return st.tuples(inner, st.sampled_from(_FILTERS), args).map(
        lambda t: f"({t[0]})|{t[1]}({t[2]})"
    )


def _expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        _BASE,
        lambda inner: st.one_of(
            st.tuples(inner, _OPS, inner).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
            _filtered(inner),
            st.tuples(inner, _METHODS, inner).map(lambda t: f"({t[0]}).{t[1]}({t[2]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]})[{t[1]}]"),
            st.tuples(inner, st.sampled_from(_TESTS), _BASE).map(
                lambda t: f"({t[0]}) is {t[1]}({t[2]})"
            ),
            inner.map(lambda e: f"({e})()"),
        ),
        max_leaves=6,
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=_expressions(), loop=st.booleans())
def test_an_override_s_code_renders_or_is_a_template_error(expression: str, loop: bool) -> None:
    text = (
        f"{{% for x in {expression} %}}{{{{ x }}}}{{% endfor %}}"
        if loop
        else f"{{{{ {expression} }}}}"
    )
    sources = _gathered("/inventory/vendor_templates", {"x/t.j2": text.encode()}, {})
    try:
        assert isinstance(render_template("x/t.j2", {}, sources), str)
    except TemplateError as exc:
        assert str(exc).startswith("template x/t.j2"), exc
    except jinja2.TemplateError as exc:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"{text!r} raised Jinja2's {exc!r}") from exc
