"""Limits on what an inventory's override template may cost: size, loops and time.

An inventory's ``vendor_templates/`` may hold any Jinja2 text; the sandbox keeps it from
Python's internals, and this module keeps it from the build machine's memory and time. In an
environment made for an inventory with overrides (:class:`Limited`, mixed into the sandbox):

- a value a template makes (``*``, ``+``, ``%`` and ``~`` on text or lists, a method's or a
  filter's result) holds at most :data:`MAX_VALUE` characters or items, checked *before* the
  repetition, padding or replacement that would make it; an integer at most
  :data:`MAX_INT_BITS` bits (``**``, ``*``);
- ``range()`` gives at most :data:`MAX_RANGE` numbers; every loop iteration (in the override
  templates, whose ``{% for %}`` loops are rewritten when they are compiled) and every call
  counts one step, at most :data:`MAX_STEPS` per render;
- a render ends within :data:`MAX_SECONDS` (checked at each step);
- a rendered file holds at most :data:`MAX_OUTPUT` characters (:func:`render_limited`).

Going over a limit raises :class:`LimitExceeded`, naming the limit. The shipped templates
compile as they always have (their loops are not rewritten), so their output is the same.
Imports nothing of mipc but :mod:`mipc.diagnostics`.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace
from jinja2.visitor import NodeTransformer

from mipc.diagnostics import InvalidInputError

__all__ = [
    "MAX_INT_BITS",
    "MAX_OUTPUT",
    "MAX_RANGE",
    "MAX_SECONDS",
    "MAX_STEPS",
    "MAX_VALUE",
    "LimitExceeded",
    "Limited",
    "limit_environment",
    "render_limited",
]

MAX_OUTPUT = 4 * 1024 * 1024  # characters of one rendered file
MAX_VALUE = 4 * 1024 * 1024  # characters (or items) of one value a template makes
MAX_INT_BITS = 4096  # bits of an integer a template makes
MAX_RANGE = 100_000  # numbers in one range()
MAX_STEPS = 5_000_000  # loop iterations and calls in one render
MAX_SECONDS = 10.0  # wall-clock time of one render

#: The filters' names the rewritten templates use (never written by hand).
LOOP_FILTER = "mipc_limited_loop"
CONCAT_FILTER = "mipc_limited_concat"

#: Filters whose integer arguments say how large their result is (widths, counts).
SIZED_FILTERS = ("batch", "center", "indent", "slice", "tojson", "truncate", "wordwrap")
#: Methods of str whose integer arguments say how long their result is.
SIZED_METHODS = frozenset({"center", "expandtabs", "ljust", "rjust", "zfill"})

_PRINTF_WIDE = re.compile(r"%[-#0 +]*(?:\*|\d{7,}|\d*\.(?:\*|\d{7,}))")
_FORMAT_WIDE = re.compile(r"\{[^{}]*(?:\{|\d{7,})")


class LimitExceeded(InvalidInputError):
    """A template went over one of the limits; the message names it."""


class _Budget:
    """The steps taken and the deadline of the render under way (one per process)."""

    steps = 0
    deadline = math.inf

    @classmethod
    def start(cls) -> None:
        cls.steps = 0
        cls.deadline = time.monotonic() + MAX_SECONDS

    @classmethod
    def stop(cls) -> None:
        cls.steps = 0
        cls.deadline = math.inf


def step() -> None:
    """Count one loop iteration or call; raise when the render is over its steps or time."""
    _Budget.steps += 1
    if _Budget.steps > MAX_STEPS:
        raise LimitExceeded(f"over the limit of {MAX_STEPS} loop iterations and calls")
    if time.monotonic() > _Budget.deadline:
        raise LimitExceeded(f"over the time limit of {MAX_SECONDS:g} s per file")


def _too_long(size: int, what: str) -> LimitExceeded:
    return LimitExceeded(f"{what} of {size} characters or items, over the limit of {MAX_VALUE}")


def _check_length(size: int, what: str) -> None:
    if size > MAX_VALUE:
        raise _too_long(size, what)


def check_size(value: Any, what: str = "a value") -> Any:
    """``value``, or LimitExceeded if it is text, a list or a mapping over the limit."""
    if isinstance(value, str | bytes | list | tuple | dict) and len(value) > MAX_VALUE:
        raise _too_long(len(value), what)
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise LimitExceeded(f"a number of over {MAX_INT_BITS} bits")
    return value


def _sized(value: Any) -> bool:
    return isinstance(value, str | bytes | list | tuple)


def _check_repeat(left: Any, right: Any) -> None:
    """``left * right``: a repetition within the limit, or a product of few bits."""
    for seq, count in ((left, right), (right, left)):
        if _sized(seq) and isinstance(count, int) and len(seq) * count > MAX_VALUE:
            raise _too_long(len(seq) * count, "a repetition")
    ints = isinstance(left, int) and isinstance(right, int)
    if ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise LimitExceeded(f"a product of over {MAX_INT_BITS} bits")


def _check_power(base: Any, exponent: Any) -> None:
    """``base ** exponent``: a power of few bits."""
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1:
        if base.bit_length() * abs(exponent) > MAX_INT_BITS:
            raise LimitExceeded(f"a power of over {MAX_INT_BITS} bits")
    elif isinstance(exponent, int | float) and abs(exponent) > MAX_INT_BITS:
        raise LimitExceeded(f"an exponent over {MAX_INT_BITS}")


def _check_printf(text: str) -> None:
    if _PRINTF_WIDE.search(text):
        raise LimitExceeded("a %-format width or precision of a million or more (or '*')")


def _check_format(text: str) -> None:
    if _FORMAT_WIDE.search(text):
        raise LimitExceeded("a format width of a million or more (or a nested field)")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        _check_repeat(left, right)
    elif operator == "**":
        _check_power(left, right)
    elif operator == "%" and isinstance(left, str):
        _check_printf(left)
    elif operator == "+" and _sized(left) and _sized(right):
        _check_length(len(left) + len(right), "a sum")


def _check_replace(text: Any, old: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        grows = len(new) - len(old)
        count = text.count(old) if old else len(text) + 1
        if grows > 0 and len(text) + count * grows > MAX_VALUE:
            raise _too_long(len(text) + count * grows, "a replacement")


def _check_ints(args: Iterable[Any], limit: int, what: str) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > limit:
            raise LimitExceeded(f"{what} of {arg}, over the limit of {limit}")


def _check_call(obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """What a call would make: padding, replacement and formatting within the limits."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, str):
        if name in SIZED_METHODS:
            _check_ints((*args, *kwargs.values()), MAX_VALUE, f"a width for str.{name}")
        elif name == "replace" and len(args) >= 2:
            _check_replace(owner, args[0], args[1])
    for arg in (*args, *kwargs.values()):
        check_size(arg, "an argument")


def _limited_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise LimitExceeded(f"a range of {len(numbers)} numbers, over the limit of {MAX_RANGE}")
    return numbers


def _loop(iterable: Iterable[Any]) -> Iterator[Any]:
    """The items of a loop's iterable, one step each."""
    for item in iterable:
        step()
        yield item


def _concat(parts: tuple[Any, ...]) -> str:
    """``a ~ b ~ …`` once the length of the text is known to be within the limit."""
    texts = [str(p) for p in parts]
    total = sum(map(len, texts))
    if total > MAX_VALUE:
        raise _too_long(total, "a concatenation (~)")
    return "".join(texts)


class _Namespace(Namespace):
    """``namespace()`` whose attributes hold values within the limit."""

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, check_size(value, f"namespace attribute {name}"))


def _sized_filter(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(func)
    def limited(*args: Any, **kwargs: Any) -> Any:
        _check_ints((*args[1:], *kwargs.values()), MAX_VALUE, f"an argument of |{name}")
        return check_size(func(*args, **kwargs), f"the result of |{name}")

    return limited


def _replace_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def limited(*args: Any, **kwargs: Any) -> Any:
        value, old, new = _replace_args(args, kwargs)
        _check_replace(str(value), old, new)
        return func(*args, **kwargs)

    return limited


def _replace_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """(value, old, new) of a call of ``|replace`` (whose first argument is the eval context)."""
    rest = list(args[1:])
    value = rest[0] if rest else kwargs.get("s")
    old = rest[1] if len(rest) > 1 else kwargs.get("old")
    new = rest[2] if len(rest) > 2 else kwargs.get("new")
    return value, old, new


def _format_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def limited(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_printf(str(value))
        return check_size(func(value, *args, **kwargs), "the result of |format")

    return limited


class _Rewriter(NodeTransformer):
    """Every ``{% for %}`` loop counted, every ``~`` measured before it is joined."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        """The loop over ``iter|mipc_limited_loop``."""
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, LOOP_FILTER, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        """``(a, b, …)|mipc_limited_concat``."""
        self.generic_visit(node)
        parts = nodes.Tuple(node.nodes, "load", lineno=node.lineno)
        return nodes.Filter(parts, CONCAT_FILTER, [], [], None, None, lineno=node.lineno)


class Limited(SandboxedEnvironment):
    """A sandbox with the limits: calls and operators checked; the templates under
    :attr:`limited_folder` rewritten so that their loops count and their ``~`` is measured."""

    #: The folder whose templates are rewritten (an inventory's overrides); "" for none.
    limited_folder = ""
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        """``left operator right``, once its size is known to be within the limits."""
        step()
        _check_binop(operator, left, right)
        return check_size(super().call_binop(context, operator, left, right), "a result")

    def call(self, context: jinja2.runtime.Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """A call, counted, once what it would make is known to be within the limits."""
        step()
        _check_call(obj, args, kwargs)
        return check_size(super().call(context, obj, *args, **kwargs), "a call's result")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` and ``format_map``, sandboxed, of a text without huge widths."""
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)
        return wrapped

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        if self.limited_folder and filename and filename.startswith(self.limited_folder):
            rewritten = _Rewriter().visit(tree)
            assert isinstance(rewritten, nodes.Template)
            return rewritten
        return tree


def limit_environment(env: Limited, folder: str) -> None:
    """Give ``env`` the limited globals and filters; rewrite the templates under ``folder``."""
    env.limited_folder = folder
    env.globals["range"] = _limited_range
    env.globals["namespace"] = _Namespace
    env.globals.pop("lipsum", None)  # paragraphs by the million: no use in a phone's file
    env.filters[LOOP_FILTER] = _loop
    env.filters[CONCAT_FILTER] = _concat
    for name in SIZED_FILTERS:
        env.filters[name] = _sized_filter(env.filters[name], name)
    env.filters["replace"] = _replace_filter(env.filters["replace"])
    env.filters["format"] = _format_filter(env.filters["format"])


def render_limited(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render ``template`` within the limits of steps, time and output size."""
    _Budget.start()
    try:
        parts: list[str] = []
        size = 0
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise LimitExceeded(f"output over the limit of {MAX_OUTPUT} characters per file")
            parts.append(chunk)
        return "".join(parts)
    finally:
        _Budget.stop()
