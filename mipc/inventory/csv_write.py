"""Writing a CSV phone list: phone entries as the rows of a layout, canonical and stable.

One phone per line, sorted by name, canonical header, minimal quoting, LF: a re-import of
the same list changes nothing and every later change is a one-line diff. A cell a spreadsheet
would run as a formula is written with a ``'`` before it
(:func:`mipc.inventory.csv_text.neutralise`); the reader takes it off again.

Takes phone entries and a layout; gives the text of the list. Never imports the loader, the
catalog or the other stages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from mipc.inventory.csv_columns import (
    ADDRESS,
    COLUMNS,
    EXTENSION,
    IDENT,
    LABEL,
    LOCATION,
    MANUFACTURER,
    MODEL,
    NAME,
    PROXY_GROUP,
    TEMPLATE,
    TYPE,
    TYPE_SPELLING,
    Layout,
    appearance_columns,
)
from mipc.inventory.csv_text import neutralise
from mipc.model import PhoneSpec

__all__ = ["phone_row", "write_phone_list"]


def _setting(phone: PhoneSpec, key: str) -> str:
    setting = phone.layer.get(key)
    return "" if setting is None or setting.value is None else str(setting.value)


def phone_row(phone: PhoneSpec) -> dict[str, str]:
    """The normalised-layout cells of a phone, then mipc's extension columns it needs
    (``Location``, ``Extension 2`` ... for its second and later private appearances)."""
    private = [a for a in phone.appearances if a.kind == "private"]
    appearance = private[0] if private else None
    kind = _setting(phone, "type")
    row = {
        NAME: phone.name,
        TEMPLATE: phone.template or "",
        TYPE: TYPE_SPELLING.get(kind, kind),
        MANUFACTURER: _setting(phone, "manufacturer"),
        MODEL: _setting(phone, "model"),
        PROXY_GROUP: _setting(phone, "registration_group"),
        EXTENSION: (appearance.extension or "") if appearance else "",
        IDENT: (appearance.identification_address or "") if appearance else "",
        LABEL: (appearance.label or "") if appearance else "",
        ADDRESS: phone.address or "",
    }
    if phone.location:
        row[LOCATION] = phone.location
    for number, app in enumerate(private[1:], start=2):
        ext, ident, label = appearance_columns(number)
        row[ext] = app.extension or ""
        row[ident] = app.identification_address or ""
        row[label] = app.label or ""
    return row


def _extra_columns(rows: Sequence[dict[str, str]]) -> tuple[str, ...]:
    """The extension columns some row needs: ``Location``, then each further appearance's."""
    extra = [LOCATION] if any(LOCATION in r for r in rows) else []
    number = 2
    while any(appearance_columns(number)[0] in r for r in rows):
        extra.extend(appearance_columns(number))
        number += 1
    return tuple(extra)


def write_phone_list(phones: Iterable[PhoneSpec], layout: Layout) -> str:
    """A CSV list in ``layout``: canonical header, rows sorted by name, minimal quoting, LF.

    Writing the phones read from a list and reading the text again gives the same phones
    (with their locations and every private appearance, in mipc's extension columns).
    """
    rows = sorted((phone_row(p) for p in phones), key=lambda r: (r[NAME], r[ADDRESS]))
    columns = COLUMNS[layout] + _extra_columns(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows([neutralise(row.get(c, "")) for c in columns] for row in rows)
    return out.getvalue()
