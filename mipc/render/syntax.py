"""The syntax of a vendor file, and the parse-back check that follows it.

Takes a template name, the inventory's overrides and the rendered text; gives nothing
but a :class:`~mipc.render.base.RenderError` when the text does not parse as the syntax its
template declares. A template declares its syntax in a Jinja comment at its very top::

    {#- syntax: ini -#}

Known syntaxes: ``xml`` (well-formed XML), ``ini`` (sections and ``key = value`` lines, no
key twice in a section), ``other`` (any text: no check) and the ones renderer modules
register with :func:`syntax` (``key=value``, the strict form mipc writes, registered by
:mod:`mipc.render.keyvalue`). A template that declares nothing gets the renderer's default:
so a shipped template is checked as before, and an override may declare what it writes.
A fast path of a shipped template may prove its text parses (:data:`PROOFS
<mipc.render.templating.PROOFS>`): :func:`render_checked` then leaves the parse out. Never
imports release or another stage.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Callable, Mapping
from typing import Any
from xml.parsers import expat

from mipc.render.base import RenderError, registrar
from mipc.render.templating import Overrides, proven, render_template, template_source

__all__ = ["SYNTAXES", "check_rendered", "declared_syntax", "render_checked", "syntax"]

Checker = Callable[[str, str], object]
"""A parse-back check: ``(text, where)``; raises RenderError naming ``where``."""

SYNTAXES: dict[str, Checker] = {}

_DECLARED = re.compile(r"\A\s*\{#-?\s*syntax:\s*([A-Za-z0-9=._-]+)")


#: ``@syntax("ini")`` registers a parse-back check under the name templates declare.
syntax = registrar(SYNTAXES)


@syntax("xml")
def _xml(text: str, where: str) -> None:
    """Well-formed XML, namespaces included, as ElementTree would parse it: expat with
    ElementTree's namespace separator, without building the tree (a third of the time)."""
    parser = expat.ParserCreate(namespace_separator="}")
    try:
        parser.Parse(text.encode("utf-8"), True)
    except expat.ExpatError as exc:
        raise RenderError(f"{where}: is not well-formed XML ({exc})") from exc


@syntax("ini")
def _ini(text: str, where: str) -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        parser.read_string(text, source=where)
    except configparser.ParsingError as exc:  # its text quotes the line: it may hold a secret
        numbers = [n for n, _ in getattr(exc, "errors", ())] or [getattr(exc, "lineno", "?")]
        lines = ", ".join(str(n) for n in numbers)
        raise RenderError(f"{where}: is not an INI file (line {lines} cannot be read)") from exc
    except configparser.Error as exc:
        raise RenderError(f"{where}: is not an INI file ({exc})") from exc


@syntax("other")
def _other(text: str, where: str) -> None:
    return None


def declared_syntax(name: str, override: Overrides | None) -> str | None:
    """The syntax the template ``name`` resolves to declares, or None."""
    source, _ = template_source(name, override)
    match = _DECLARED.match(source)
    return match.group(1) if match else None


def check_rendered(
    name: str, override: Overrides | None, default: str, text: str, where: str
) -> None:
    """Parse ``text``, rendered from ``name``, back as the syntax the template declares
    (``default`` when it declares none)."""
    kind = declared_syntax(name, override) or default
    checker = SYNTAXES.get(kind)
    if checker is None:
        raise RenderError(
            f"template {name}: unknown syntax {kind!r} (one of {', '.join(sorted(SYNTAXES))})"
        )
    checker(text, where)


def render_checked(
    name: str, context: Mapping[str, Any], override: Overrides | None, default: str
) -> str:
    """Render ``name`` and parse the text back (see :func:`check_rendered`), unless its fast
    path proves the text parses (:func:`mipc.render.templating.proven`)."""
    text = render_template(name, context, override)
    if not proven(name, context, override):
        check_rendered(name, override, default, text, f"template {name}")
    return text
