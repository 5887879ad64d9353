"""The phone lists an inventory names (``phone_lists:``), read as phone entries.

Takes the parsed inventory document; gives :class:`mipc.model.PhoneSpec` entries and
diagnostics. A list that lies (through every link) outside the inventory's folder is refused
unread (:func:`mipc.inventory.confine.check_list`). Never imports the rules, resolve, render
or the pipeline.
"""

from __future__ import annotations

from mipc.catalog.models import load_catalog
from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.confine import check_list
from mipc.inventory.csvlists import ReadOptions, read_phone_list
from mipc.inventory.load import Document, display_name
from mipc.model import PhoneSpec, chain


def list_templates(doc: Document) -> dict[str, str]:
    """Each template's manufacturer, as a phone list needs it: the nearest in its
    ``extends`` chain that names one (templates that name none are left out)."""
    raw = {str(n): t or {} for n, t in (doc.data.get("templates") or {}).items()}
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


def read_list(
    doc: Document, index: int, diags: Diagnostics, templates: dict[str, str]
) -> list[PhoneSpec]:
    """The phones of the ``index``-th entry of ``phone_lists``; problems go into diags."""
    entry = doc.data["phone_lists"][index]
    path = doc.root / str(entry)
    shown = display_name(path, doc.root)
    if not check_list(doc, index, diags):
        return []
    if not path.is_file():
        diags.error(
            "missing-list",
            f"phone list {entry} does not exist; fix the path or remove it from phone_lists",
            doc.positions.get(("phone_lists", index), Position(shown)),
        )
        return []
    return read_phone_list(
        path, shown, diags, ReadOptions(catalog=load_catalog(), templates=templates)
    )


def read_lists(doc: Document, diags: Diagnostics) -> list[PhoneSpec]:
    """The phones of every phone list, in order; problems go into diags."""
    if not doc.data.get("phone_lists"):
        return []
    templates = list_templates(doc)
    phones: list[PhoneSpec] = []
    for i in range(len(doc.data["phone_lists"])):
        phones.extend(read_list(doc, i, diags, templates))
    return phones
