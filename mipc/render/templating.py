"""Jinja2 for vendor files: sandboxed, StrictUndefined, and overridable per inventory.

Takes a template name (``<family>/<file>.j2``), its context and the inventory's overrides (its
``vendor_templates/`` files, gathered at load into ``Inventory.files``: :func:`overrides`);
gives the rendered text, or a :class:`TemplateError` naming the template and the cause. The
shipped templates (and the family data beside them) are the package's data, read once per
process (:func:`shipped_sources`); rendering reads nothing else. Imports no other part of
mipc than :mod:`mipc.model` and :mod:`mipc.resources`.

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

import hashlib
import inspect
import os
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mipc.diagnostics import InvalidInputError
from mipc.model import InventoryFiles
from mipc.render.limits import Limited, LimitExceeded, limit_environment, render_limited
from mipc.resources import templates_dir

__all__ = [
    "FOLDER",
    "SHIPPED",
    "Overrides",
    "TemplateError",
    "environment",
    "fast_macro",
    "fast_path",
    "kv_value",
    "overrides",
    "proof",
    "proven",
    "render_template",
    "shipped_sources",
    "template_source",
    "xml_attr",
]

#: The inventory's folder of overrides (templates and data), relative to its root.
FOLDER = "vendor_templates"


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
        raise TemplateError(
            "a value with a newline or control character cannot be written on one key=value line"
        )
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


class _LimitedEnvironment(Limited, _Environment):
    """The sandbox of an inventory with overrides: within the limits of
    :mod:`mipc.render.limits` (size, loops, time)."""

    limited = True


def _text(data: bytes) -> str:
    """A template's text as Jinja2's file loader reads it (UTF-8, line ends made LF)."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class Overrides:
    """An inventory's ``vendor_templates/`` as the load step gathered it: each file's bytes by
    POSIX path relative to the folder, why a file could not be read, and the folder itself
    (only to name a file in messages). Equal when the folder and the bytes are."""

    folder: str
    digest: str
    files: Mapping[str, bytes] = field(compare=False, repr=False)
    problems: Mapping[str, str] = field(compare=False)

    def has(self, name: str) -> bool:
        """Whether the folder holds the file ``name`` (readable or not)."""
        return name in self.files or name in self.problems

    def read(self, name: str) -> bytes | None:
        """The bytes of ``name``; None when there is none; OSError when it could not be read."""
        problem = self.problems.get(name)
        if problem is not None:
            raise OSError(problem)
        return self.files.get(name)

    def path(self, name: str) -> str:
        """Where ``name`` is, for messages: the path Jinja2's file loader gives."""
        return os.path.normpath(posixpath.join(self.folder, name))


def _gathered(folder: str, files: Mapping[str, bytes], problems: Mapping[str, str]) -> Overrides:
    h = hashlib.sha256(folder.encode() + b"\0")
    for name in sorted({*files, *problems}):
        h.update(name.encode() + b"\0")
        if name in files:
            h.update(b"F" + hashlib.sha256(files[name]).digest())
        else:
            h.update(b"P" + problems[name].encode() + b"\0")
    return Overrides(folder, h.hexdigest(), MappingProxyType(files), MappingProxyType(problems))


_LAST: list[tuple[InventoryFiles, str, Overrides | None]] = []


def overrides(root: str, files: InventoryFiles) -> Overrides | None:
    """The overrides of the inventory at ``root`` among its gathered ``files``; None when its
    ``vendor_templates/`` holds nothing. Made once per inventory (the last one is kept)."""
    if _LAST and _LAST[0][0] is files and _LAST[0][1] == root:
        return _LAST[0][2]
    prefix = FOLDER + "/"
    found = {k.removeprefix(prefix): v for k, v in files.contents.items() if k.startswith(prefix)}
    bad = {k.removeprefix(prefix): v for k, v in files.problems.items() if k.startswith(prefix)}
    made = _gathered(str(Path(root) / FOLDER), found, bad) if found or bad else None
    _LAST[:] = [(files, root, made)]
    return made


@cache
def shipped_sources() -> Overrides:
    """The templates and data shipped with mipc: the package's data, read once per process."""
    folder = str(templates_dir())
    files: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            with open(path, "rb") as stream:
                files[os.path.relpath(path, folder).replace(os.sep, "/")] = stream.read()
    return _gathered(folder, files, {})


class _Loader(jinja2.BaseLoader):
    """Templates from gathered files; nothing is read when one is loaded."""

    def __init__(self, sources: Overrides) -> None:
        self.sources = sources

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        """The text of ``template``, where it is (for messages), and that it never changes."""
        name = "/".join(split_template_path(template))
        data = self.sources.read(name)
        if data is None:
            raise jinja2.TemplateNotFound(template)
        return _text(data), self.sources.path(name), lambda: True


@cache
def environment(override: Overrides | None) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment for one inventory's overrides (or none)."""
    shipped = _Loader(shipped_sources())
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({SHIPPED[:-1]: shipped})]
    if override is not None:
        loaders.append(_Loader(override))
    loaders.append(shipped)
    kind = _Environment if override is None else _LimitedEnvironment
    env = kind(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
        auto_reload=False,  # one build, one set of templates
    )
    env.template_class = _Template
    env.filters["xml"] = xml_attr
    env.filters["kv"] = kv_value
    if isinstance(env, _LimitedEnvironment):
        assert override is not None
        limit_environment(env, override.folder + os.sep)
    return env


@cache
def _template(override: Overrides | None, name: str) -> jinja2.Template:
    return environment(override).get_template(name)


@cache
def template_source(name: str, override: Overrides | None = None) -> tuple[str, bool]:
    """The source of the template ``name`` resolves to, and whether it is an override."""
    env = environment(override)
    assert env.loader is not None
    try:
        source, filename, _ = env.loader.get_source(env, name)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name} not found") from exc
    shipped = shipped_sources()
    overridden = not (name.startswith(SHIPPED) or filename == shipped.path(name))
    return source, overridden


Rendering = Callable[[Mapping[str, Any]], str]

#: Python renderings of shipped templates (:mod:`mipc.render.fastpaths`): by template name,
#: the function and the digests of the shipped sources it reproduces.
FAST_PATHS: dict[str, tuple[Rendering, Mapping[str, str]]] = {}


def fast_path(digests: Mapping[str, str]) -> Callable[[Rendering], Rendering]:
    """Register a function as the rendering of the first template named in ``digests``,
    which also names every template that one imports, each with the first 16 hex digits of
    the sha256 of the shipped source it reproduces."""

    def register(function: Rendering) -> Rendering:
        FAST_PATHS[next(iter(digests))] = (function, MappingProxyType(dict(digests)))
        return function

    return register


#: Python renderings of the macros of shipped templates, for the templates Jinja2 renders
#: (an inventory's overrides, most often extending a shipped one): by template name, each
#: macro's name, its arguments and the function, and the digests of the shipped sources
#: they reproduce. A function takes the environment's attribute lookup, then the macro's
#: arguments, under their names in the template.
FAST_MACROS: dict[
    str, tuple[dict[str, tuple[tuple[str, ...], Callable[..., str]]], Mapping[str, str]]
] = {}


def fast_macro(
    template: str, macro: str, digests: Mapping[str, str]
) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Register a function as the rendering of ``macro`` of the shipped ``template``
    (``digests``: as for :func:`fast_path`)."""

    def register(function: Callable[..., str]) -> Callable[..., str]:
        arguments = tuple(inspect.signature(function).parameters)[1:]  # after the lookup
        macros, _ = FAST_MACROS.setdefault(template, ({}, MappingProxyType(dict(digests))))
        macros[macro] = (arguments, function)
        return function

    return register


class _FastMacro:
    """A shipped macro's Python rendering, called as Jinja2 calls the macro: its arguments
    by place or by name, a missing one undefined."""

    __slots__ = ("_env", "_function", "arguments", "name")

    def __init__(self, env: jinja2.Environment, name: str, macro: tuple[tuple[str, ...], Any]):
        self._env = env
        self.name = name
        self.arguments, self._function = macro

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        if len(args) > len(self.arguments):
            raise TypeError(
                f"macro {self.name!r} takes not more than {len(self.arguments)} argument(s)"
            )
        values = list(args)
        for arg in self.arguments[len(args) :]:
            if arg in kwargs:
                values.append(kwargs.pop(arg))
            else:
                values.append(self._env.undefined(f"parameter {arg!r} was not provided", name=arg))
        if kwargs:
            raise TypeError(f"macro {self.name!r} takes no keyword argument {next(iter(kwargs))!r}")
        return self._function(self._env.getattr, *values)  # type: ignore[no-any-return]


class _Template(jinja2.Template):
    """A template whose module's macros are their Python renderings while its source is the
    shipped one, as recorded (:data:`FAST_MACROS`)."""

    def make_module(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> jinja2.environment.TemplateModule:
        """The module of the template, its recorded macros made fast."""
        module = super().make_module(vars, shared, locals)
        name = (self.name or "").removeprefix(SHIPPED)
        entry = FAST_MACROS.get(name)
        if entry is None or self.filename != shipped_sources().path(name):
            return module
        macros, digests = entry
        if _recorded(digests):
            for macro, found in macros.items():
                setattr(module, macro, _FastMacro(self.environment, macro, found))
        return module


Proof = Callable[[Mapping[str, Any]], bool]

#: What some fast paths know of their text: by template name, a test of the context that,
#: when it passes, means the fast path's text parses in the syntax the template declares
#: (so the parse-back check has nothing to find); when it fails, the text is parsed.
PROOFS: dict[str, Proof] = {}


def proof(name: str) -> Callable[[Proof], Proof]:
    """Register the proof of the fast path of the template ``name`` (see :data:`PROOFS`)."""

    def register(function: Proof) -> Proof:
        PROOFS[name] = function
        return function

    return register


def proven(name: str, context: Mapping[str, Any], override: Overrides | None = None) -> bool:
    """Whether what :func:`render_template` gives for ``name`` and ``context`` is known to
    parse in its template's syntax: its fast path is used and that path's proof holds."""
    test = PROOFS.get(name)
    return test is not None and _fast(name, override) is not None and test(context)


def shipped_digest(name: str) -> str | None:
    """The first 16 hex digits of the sha256 of the shipped template ``name`` (None: none)."""
    data = shipped_sources().files.get(name)
    return None if data is None else hashlib.sha256(data).hexdigest()[:16]


@cache
def _current(name: str) -> Rendering | None:
    """The fast path of ``name`` if its recorded digests are the shipped sources' own."""
    entry = FAST_PATHS.get(name)
    if entry is None:
        return None
    function, digests = entry
    return function if _recorded(digests) else None


def _recorded(digests: Mapping[str, str]) -> bool:
    """Whether each shipped source named has the digest recorded for it."""
    return all(shipped_digest(n) == d for n, d in digests.items())


def _fast(name: str, override: Overrides | None) -> Rendering | None:
    """The fast path for ``name``, unless the inventory overrides it or what it imports."""
    function = _current(name)
    if function is None or override is None:
        return function
    return None if any(override.has(n) for n in FAST_PATHS[name][1]) else function


#: What a template's own code may raise in Python (a division by zero, a wrong call, a
#: filter's assertion, a filter reading what its value lacks): an error naming the template,
#: when Jinja2 renders it (tests/unit/test_template_faults.py tries any expression).
_CODE_FAULTS = (
    TypeError,
    ArithmeticError,
    ValueError,
    LookupError,
    AttributeError,
    AssertionError,
    RuntimeError,
)


def render_template(
    name: str, context: Mapping[str, Any], override: Overrides | None = None
) -> str:
    """Render one template; every failure becomes a TemplateError naming the template."""
    fast = _fast(name, override)
    try:
        if fast is not None:
            text = fast(context)
        elif isinstance((template := _template(override, name)).environment, _LimitedEnvironment):
            text = render_limited(template, context)
        else:
            text = template.render(**context)
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"template {name}: undefined variable ({exc.message})") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name} not found") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template {exc.filename or name}:{exc.lineno}: {exc.message}") from exc
    except (TemplateError, LimitExceeded) as exc:
        raise TemplateError(f"template {name}: {exc}") from exc
    except RecursionError as exc:
        raise TemplateError(
            f"template {name}: calls nested too deep (a macro calling itself?)"
        ) from exc
    except jinja2.TemplateError as exc:  # the sandbox's refusal, a filter's bad argument
        raise TemplateError(f"template {name}: {exc}") from exc
    except _CODE_FAULTS as exc:
        if fast is not None or isinstance(exc, InvalidInputError):
            raise  # mipc's own rendering, or an error that names its cause already
        raise TemplateError(f"template {name}: {exc} ({type(exc).__name__})") from exc
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return text
