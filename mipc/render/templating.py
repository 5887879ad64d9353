"""Jinja2 for vendor files: sandboxed, StrictUndefined, and overridable per inventory.

Takes a template name (``<family>/<file>.j2``), its context and the inventory's
``vendor_templates/`` folder; gives the rendered text, or a :class:`TemplateError` naming the
template and the cause. Imports no other part of mipc than :mod:`mipc.resources`.

Look-up: a name under ``mipc/`` (``mipc/polycom/phone.cfg.j2``) is always the template
shipped with mipc; any other name is looked up first in the inventory's ``vendor_templates/``
(an administrator's override), then in the shipped templates. A template that extends,
includes or imports its *own* name gets the shipped one, so an override
``vendor_templates/polycom/phone.cfg.j2`` may start ``{% extends "polycom/phone.cfg.j2" %}``
and replace only the blocks it changes. Every template renders in a sandbox
(``ImmutableSandboxedEnvironment``), so an inventory's template cannot reach Python
internals; a missing variable is an error naming the template and the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mipc.diagnostics import InvalidInputError
from mipc.resources import templates_dir


class TemplateError(InvalidInputError):
    """A template failed to render: names the template and the cause."""


_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_XML_PLAIN = re.compile("[^&<>\"'\n\r\t\x00-\x1f\ufffe\uffff]*")


def xml_attr(value: Any) -> str:
    """Escape a value for an XML attribute; characters XML cannot hold are dropped."""
    if type(value) is str:
        return _xml_text(value)
    return _xml_text(str(int(value) if isinstance(value, bool) else value))


@lru_cache(maxsize=1 << 16)  # most values repeat from phone to phone (one profile, many phones)
def _xml_text(text: str) -> str:
    if _XML_PLAIN.fullmatch(text):
        return text
    text = _XML_BAD.sub("", text)
    return (
        text.translate(_XML_ESCAPES)
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def kv_value(value: Any) -> str:
    """A value for a key=value line: one line, printable; raises on what cannot be written."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return _kv_text(value if type(value) is str else str(value))


@lru_cache(maxsize=1 << 16)
def _kv_text(text: str) -> str:
    if "\r" in text or "\n" in text or "\x00" in text or not text.isprintable():
        raise TemplateError(f"value {text!r} cannot be written on one key=value line")
    return text


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    return value


#: The prefix that always names a shipped template.
SHIPPED = "mipc/"


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox, where a template that names itself means the shipped template."""

    def join_path(self, template: str, parent: str) -> str:
        """``template`` as named from ``parent``: its own name is the shipped one."""
        return SHIPPED + template if template == parent else template


@cache
def environment(override_dir: str | None) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment for one inventory's override folder (or none)."""
    shipped = jinja2.FileSystemLoader(str(templates_dir()))
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({SHIPPED[:-1]: shipped})]
    if override_dir and Path(override_dir).is_dir():
        loaders.append(jinja2.FileSystemLoader(override_dir))
    loaders.append(shipped)
    env = _Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
        auto_reload=False,  # one build, one set of templates: no stat() per render
    )
    env.filters["xml"] = xml_attr
    env.filters["kv"] = kv_value
    return env


@cache
def _template(override_dir: str | None, name: str) -> jinja2.Template:
    return environment(override_dir).get_template(name)


@cache
def template_source(name: str, override_dir: str | None = None) -> tuple[str, bool]:
    """The source of the template ``name`` resolves to, and whether it is an override."""
    env = environment(override_dir)
    assert env.loader is not None
    try:
        source, filename, _ = env.loader.get_source(env, name)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name} not found") from exc
    shipped = Path(str(templates_dir())).resolve()
    overridden = filename is not None and not Path(filename).resolve().is_relative_to(shipped)
    return source, overridden


def render_template(name: str, context: Mapping[str, Any], override_dir: str | None = None) -> str:
    """Render one template; every failure becomes a TemplateError naming the template."""
    try:
        template = _template(override_dir, name)
        text = template.render(**context)
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"template {name}: undefined variable ({exc.message})") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name} not found") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template {exc.filename or name}:{exc.lineno}: {exc.message}") from exc
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"template {name}: {exc}") from exc
    except TemplateError as exc:
        raise TemplateError(f"template {name}: {exc}") from exc
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return text
