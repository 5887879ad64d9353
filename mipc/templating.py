"""Jinja2 for vendor files: sandboxed, StrictUndefined, and overridable per inventory.

Templates are looked up first in a ``vendor_templates/`` folder next to the inventory (an
administrator's override), then in the templates shipped with mipc. Every template renders in
a sandbox, so an inventory's template cannot reach Python internals; a missing variable is an
error naming the template and the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mipc.resources import templates_dir


class TemplateError(Exception):
    """A template failed to render: names the template and the cause."""


_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_attr(value: Any) -> str:
    """Escape a value for an XML attribute; characters XML cannot hold are dropped."""
    if isinstance(value, bool):
        value = int(value)
    text = _XML_BAD.sub("", str(value))
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
    text = str(value)
    if any(ch in text for ch in "\r\n\x00") or (not text.isprintable() and text != ""):
        raise TemplateError(f"value {text!r} cannot be written on one key=value line")
    return text


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    return value


@cache
def environment(override_dir: str | None) -> ImmutableSandboxedEnvironment:
    search: list[str] = []
    if override_dir and Path(override_dir).is_dir():
        search.append(override_dir)
    search.append(str(templates_dir()))
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["xml"] = xml_attr
    env.filters["kv"] = kv_value
    return env


def render_template(name: str, context: Mapping[str, Any], override_dir: str | None = None) -> str:
    """Render one template; every failure becomes a TemplateError naming the template."""
    env = environment(override_dir)
    try:
        template = env.get_template(name)
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
