"""The phone lists an inventory names (``phone_lists:``), read as phone entries.

Takes the parsed inventory document; gives :class:`mipc.model.PhoneSpec` entries and
diagnostics. A list that lies (through every link) outside the inventory's folder is refused
unread (:func:`mipc.inventory.confine.check_list`). Never imports the rules, resolve, render
or the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mipc.catalog.models import load_catalog
from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.confine import check_list
from mipc.inventory.csvlists import PhoneList, ReadOptions, parse_phone_list
from mipc.inventory.load import Document, display_name
from mipc.model import PhoneSpec, chain


def list_templates(doc: Document) -> dict[str, str]:
    """Each template's manufacturer, as a phone list needs it: the nearest in its
    ``extends`` chain that names one (templates that name none are left out)."""
    return template_manufacturers(doc.data.get("templates") or {})


def template_manufacturers(templates: Mapping[str, Any]) -> dict[str, str]:
    """:func:`list_templates` of the ``templates:`` mapping of a document's data."""
    raw = {str(n): t or {} for n, t in templates.items()}
    parents = {n: t.get("extends") for n, t in raw.items()}
    templates = {
        name: next(
            (
                str(raw[t]["manufacturer"])
                for t in chain(name, parents)
                if raw[t].get("manufacturer")
            ),
            "",
        )
        for name in raw
    }
    return {k: v for k, v in templates.items() if v}


#: A list's rows as the incremental state keeps them: each record's digest
#: (:func:`~mipc.inventory.csvlists.row_digest`), and the phone it made ("" for none).
ListRows = tuple[tuple[bytes, ...], tuple[str, ...]]


def list_rows(found: PhoneList) -> ListRows:
    """The :data:`ListRows` of a list read with its digests (a row whose phone was not read
    is "": :mod:`mipc.incremental.csv_rows` fills those in)."""
    names = [""] * len(found.rows)
    for spec in found.phones:
        if spec.position is not None and 0 < spec.position.line <= len(names):
            names[spec.position.line - 1] = spec.name
    return found.rows, tuple(names)


def read_list(
    doc: Document,
    index: int,
    diags: Diagnostics,
    templates: dict[str, str],
    wanted: Callable[[int, bytes], bool] | None = None,
    digests: bool = False,
) -> PhoneList:
    """The ``index``-th entry of ``phone_lists`` read (``wanted``: which rows, see
    :func:`~mipc.inventory.csvlists.parse_phone_list_bytes`; ``digests``: with its rows'
    digests); problems go into diags."""
    entry = doc.data["phone_lists"][index]
    path = doc.root / str(entry)
    shown = display_name(path, doc.root)
    if not check_list(doc, index, diags):
        return PhoneList(severe=True)
    if not path.is_file():
        diags.error(
            "missing-list",
            f"phone list {entry} does not exist; fix the path or remove it from phone_lists",
            doc.positions.get(("phone_lists", index), Position(shown)),
        )
        return PhoneList(severe=True)
    options = ReadOptions(catalog=load_catalog(), templates=templates, digests=digests)
    return parse_phone_list(path, shown, diags, options, wanted)


def read_lists(
    doc: Document, diags: Diagnostics, rows: dict[str, ListRows] | None = None
) -> list[PhoneSpec]:
    """The phones of every phone list, in order; problems go into diags; ``rows``, when
    given, receives each list's :data:`ListRows` (by its name as shown)."""
    if not doc.data.get("phone_lists"):
        return []
    templates = list_templates(doc)
    phones: list[PhoneSpec] = []
    for i, entry in enumerate(doc.data["phone_lists"]):
        found = read_list(doc, i, diags, templates, digests=rows is not None)
        phones.extend(found.phones)
        if rows is not None and found.rows:
            rows[display_name(doc.root / str(entry), doc.root)] = list_rows(found)
    return phones
