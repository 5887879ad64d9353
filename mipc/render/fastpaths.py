"""Python renderings of the shipped templates most files come from, byte for byte the same.

Takes a template's context; gives the text the shipped Jinja2 template would render. Jinja2
spends most of a small file's render in its loop machinery (a ``key=value`` file is a loop of
a hundred lines), so :func:`mipc.render.templating.render_template` uses these instead of the
template while the template and every template it imports are the shipped ones: an inventory
that overrides any of them gets Jinja2 (in the sandbox), and so does a shipped template whose
text no longer has the digest recorded here (the first 16 hex digits of its sha256): a fast
path not updated with its template is never used. ``tests/unit/test_fastpaths.py`` fails on
a stale digest, and proves each fast path renders what its template renders. Imports only
:mod:`mipc.render.templating`; never imports release.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any, overload

from mipc.render.templating import fast_macro, fast_path, kv_value, proof, xml_attr

__all__ = ["Elements", "keyvalue_phone", "polycom_master", "polycom_phone"]


def _out(value: Any) -> str:
    """``{{ value }}`` as the shipped environment writes it (None is empty)."""
    return "" if value is None else str(value)


def _get(obj: Any, name: str) -> Any:
    """``obj.name`` as Jinja2 looks it up: the attribute, else the item."""
    try:
        return getattr(obj, name)
    except AttributeError:
        return obj[name]


@fast_path({"iss/phone.cfg.j2": "01eb21c20d311b9b"})
@fast_path({"audiocodes/phone.cfg.j2": "751c2a9c1271ef24"})
def keyvalue_phone(context: Mapping[str, Any]) -> str:
    """``<mac>.cfg`` of the key=value families: one ``key=value`` line per setting."""
    return "".join(f"{_out(key)}={kv_value(value)}\n" for key, value in context["settings"])


#: (value order, text around the values) of each list of parameter names seen: the same few
#: lists recur in every phone of a profile, so each is laid out once.
_LAYOUTS: dict[tuple[str, ...], tuple[Any, tuple[str, ...]]] = {}


class Elements(Sequence[Mapping[str, Any]]):
    """Parameters (names and checked texts, in the order written) as the ``elements`` of
    ``polycom/_params.j2``: one ``{tag, attributes}`` per first dotted name, in first-seen
    order. A template sees the list; the fast path lays out the text once per list of names
    and fills in the values."""

    __slots__ = ("_groups", "_keys", "_values")

    def __init__(self, keys: tuple[str, ...], values: list[str]) -> None:
        self._keys = keys
        self._values = values
        self._groups: list[Mapping[str, Any]] | None = None

    def _list(self) -> list[Mapping[str, Any]]:
        if self._groups is None:
            keys, values = self._keys, self._values
            self._groups = [
                {"tag": tag, "attributes": [(keys[i], values[i]) for i in places]}
                for tag, places in _grouped(keys).items()
            ]
        return self._groups

    @overload
    def __getitem__(self, index: int) -> Mapping[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Mapping[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._list())

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return iter(self._list())

    def well_formed(self) -> bool:
        """Whether :meth:`body` is well-formed XML whatever the values (:func:`xml_attr`
        escapes each): the names are distinct XML names."""
        return _names_hold(self._keys)

    def body(self) -> str:
        """The text ``params_body`` writes for these parameters."""
        if not self._keys:
            return ""
        layout = _LAYOUTS.get(self._keys)
        if layout is None:
            if len(_LAYOUTS) > 4096:  # an inventory of many shapes: keep the memo bounded
                _LAYOUTS.clear()
            layout = _LAYOUTS[self._keys] = _layout(self._keys)
        order, pieces = layout
        values = order(self._values) if len(self._keys) > 1 else (self._values[0],)
        filled = zip(pieces, map(xml_attr, values), strict=False)  # pieces: one more
        return "".join(chain.from_iterable(filled)) + pieces[-1]


#: A parameter name that is an XML name and no reserved one (the first dotted part, a tag).
_NAME = re.compile(r"(?!(?i:xml))[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")

#: Text an XML comment holds as it is: XML characters, no ``--``, no ``-`` at either end.
_COMMENT = re.compile(
    r"(?!-)(?:[^\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff-]|-(?!-))*(?<!-)"
)

#: The lists of names found to be XML attribute names, each one once.
_NAMED: dict[tuple[str, ...], bool] = {}


def _comments_hold(*texts: Any) -> bool:
    """Whether each text (None: empty) goes into an XML comment as it is."""
    return all(t is None or (type(t) is str and _COMMENT.fullmatch(t)) for t in texts)


def _names_hold(keys: tuple[str, ...]) -> bool:
    """Whether ``keys`` are distinct XML attribute names (their first parts, tags)."""
    held = _NAMED.get(keys)
    if held is None:
        if len(_NAMED) > 4096:
            _NAMED.clear()
        held = _NAMED[keys] = len(set(keys)) == len(keys) and all(
            type(k) is str and _NAME.fullmatch(k) for k in keys
        )
    return held


def _grouped(keys: tuple[str, ...]) -> dict[str, list[int]]:
    """The places of ``keys`` by their first dotted name (a tag), in first-seen order."""
    groups: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key.split(".", 1)[0], []).append(index)
    return groups


def _layout(keys: tuple[str, ...]) -> tuple[Any, tuple[str, ...]]:
    """The value order and the text around each value of :meth:`Elements.body`."""
    order: list[int] = []
    pieces: list[str] = []
    before = ""
    for tag, indices in _grouped(keys).items():
        before += f"  <{tag}\n"
        for index in indices:
            order.append(index)
            pieces.append(f'{before}    {keys[index]}="')
            before = '"\n'
        before += "  />\n"
    pieces.append(before)
    return itemgetter(*order), tuple(pieces)


#: The digest of the shipped ``polycom/_params.j2`` that :func:`params_body` reproduces.
_PARAMS = {"polycom/_params.j2": "021ae722385f4665"}


@fast_macro("polycom/_params.j2", "params_body", _PARAMS)
def params_body(get: Callable[[Any, str], Any], elements: Any) -> str:
    """``polycom/_params.j2``'s ``params_body``: one element per group of parameters; ``get``
    looks up ``element.tag`` as the template does."""
    if type(elements) is Elements:
        return elements.body()
    out: list[str] = []
    for element in elements:
        out.append(f"  <{_out(get(element, 'tag'))}\n")
        out.extend(
            f'    {_out(name)}="{xml_attr(value)}"\n' for name, value in get(element, "attributes")
        )
        out.append("  />\n")
    return "".join(out)


@fast_path({"polycom/phone.cfg.j2": "ae42a773f46d0c41", **_PARAMS})
def polycom_phone(context: Mapping[str, Any]) -> str:
    """``phone/<guid>.cfg``: the phone's parameters, after the comments that name it."""
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f"<!-- Per-phone configuration of {_out(context['phone_comment'])} "
        f"({_out(context['model_comment'])}): written by mipc. -->\n",
    ]
    emergency = context["emergency"]
    if emergency:
        out.append(
            "<!-- Emergency information (kept for reference; Polycom has no parameter for it):\n"
        )
        out.extend(f"     {_out(name)}: {_out(value)}\n" for name, value in emergency)
        out.append("-->\n")
    out.append("<polycomConfig>\n")
    out.append(params_body(_get, context["elements"]))
    out.append("</polycomConfig>\n")
    return "".join(out)


@fast_path({"polycom/master.cfg.j2": "c4deb7ae64d34234"})
def polycom_master(context: Mapping[str, Any]) -> str:
    """``<mac>.cfg``: the phone's firmware, ``CONFIG_FILES`` and upload folders."""
    uploads = context["uploads"]
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f"<!-- Master configuration of {_out(context['phone_comment'])}: written by mipc, "
        "do not edit. -->\n",
    ]
    if not context["overrides"]:
        out.append(
            "<!-- Overrides are switched off for this site (serving.overrides: false): the "
            "server refuses\n     the <mac>-phone.cfg and <mac>-web.cfg the phone uploads; "
            "its local changes do not last. -->\n"
        )
    out += [
        "<APPLICATION\n",
        f'  APP_FILE_PATH="{xml_attr(context["app_file_path"])}"\n',
        f'  CONFIG_FILES="{xml_attr(context["config_files"])}"\n',
        '  MISC_FILES=""\n',
        f'  LOG_FILE_DIRECTORY="{xml_attr(_get(uploads, "logs"))}"\n',
        f'  OVERRIDES_DIRECTORY="{xml_attr(_get(uploads, "overrides"))}"\n',
        f'  CONTACTS_DIRECTORY="{xml_attr(_get(uploads, "contacts"))}"\n',
        "/>\n",
    ]
    return "".join(out)


@proof("polycom/phone.cfg.j2")
def polycom_phone_holds(context: Mapping[str, Any]) -> bool:
    """``phone/<guid>.cfg`` parses whatever its values: its parameters are
    :class:`Elements` of XML names, and its comments hold their texts as they are."""
    elements, emergency = context["elements"], context["emergency"]
    return (
        type(elements) is Elements
        and elements.well_formed()
        and _comments_hold(context["phone_comment"], context["model_comment"])
        and all(_comments_hold(*line) for line in emergency)
    )


@proof("polycom/master.cfg.j2")
def polycom_master_holds(context: Mapping[str, Any]) -> bool:
    """``<mac>.cfg`` parses whatever its values (each escaped), when its comment holds the
    phone's name as it is."""
    return _comments_hold(context["phone_comment"])
