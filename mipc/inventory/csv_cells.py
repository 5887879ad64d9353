"""The cells of a CSV phone list row: type, manufacturer and model; address; appearance.

Severities follow the guide. A *warning* either drops a value that cannot be verified (a
malformed MAC, a label on a non-Polycom phone) or keeps a doubtful one (a MAC whose vendor
prefix does not fit the manufacturer, an end-of-life model: only when asked for doubts). A
*row error* (a missing or unknown type, manufacturer or model) skips the row.

Takes the stripped values of a row by canonical column name and the catalog; gives settings,
the address and the appearance, adding diagnostics at ``file:row:column-name``. Never imports
the inventory loader or the other stages.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Final, Literal

from mipc.catalog.addresses import (
    format_mac,
    is_computer_name,
    looks_like_mac,
    mac_problem,
    normalize_mac,
)
from mipc.catalog.models import Catalog, Model
from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.csv_columns import (
    ADDRESS,
    CSV_LAYER,
    MANUFACTURER,
    MODEL,
    TMM,
    TYPE,
    TYPES,
    appearance_columns,
    fold,
)
from mipc.model import AppearanceSpec, Setting

__all__ = ["REJECTED", "Cells", "Rejected", "RowSink", "Tmm"]

_SIP_URI = re.compile(r"\A\s*sips?\s*:\s*([^@\s]+)\s*@[^@]*\Z", re.IGNORECASE)
_USER_PART = re.compile(r"\A[^@\s:;,<>\"]+\Z")


class _Rejection(Enum):
    ROW = "rejected"


#: What a cell reader gives when it rejected the row (a row error is in the diagnostics).
Rejected = Literal[_Rejection.ROW]
REJECTED: Final = _Rejection.ROW


@dataclass
class RowSink:
    """Where the problems of a list's rows go: its diagnostics and its rejected rows."""

    shown: str
    diags: Diagnostics
    written: Mapping[str, str]
    """Each canonical column's name as the header writes it."""
    rejected: list[int] = field(default_factory=list)

    def pos(self, row: int, column: str) -> Position:
        """The position of a cell."""
        return Position(self.shown, row, 0, self.written.get(column, column))

    def reject(self, row: int, column: str, code: str, message: str) -> None:
        """A row error: the row is not imported."""
        self.diags.error(code, f"{message}; row not imported", self.pos(row, column))
        self.rejected.append(row)

    def warn(self, row: int, column: str, code: str, message: str) -> None:
        """A warning on a cell."""
        self.diags.warning(code, message, self.pos(row, column))


@dataclass(frozen=True)
class Tmm:
    """What the Type, Manufacturer and Model cells of a row give."""

    layer: dict[str, Setting]
    manufacturer: str | None
    model: Model | None


class Cells:
    """Reads the cells of the rows of one list (with caches: lists repeat their values)."""

    def __init__(self, catalog: Catalog, sink: RowSink, doubts: bool) -> None:
        self.catalog = catalog
        self.sink = sink
        self.doubts = doubts
        self.makers = {m.casefold(): m for m in catalog.manufacturers}
        self.type_cache: dict[str, str | None] = {}
        self.maker_cache: dict[str, str | None] = {}
        self.model_cache: dict[tuple[str, str], Model | None] = {}

    def find_model(self, name: str, manufacturer: str) -> Model | None:
        """The catalog's model of that name and manufacturer."""
        key = (name, manufacturer)
        if key not in self.model_cache:
            self.model_cache[key] = self.catalog.find_model(name, manufacturer)
        return self.model_cache[key]

    # --- type, manufacturer, model --------------------------------------------------------

    def read_tmm(self, values: Mapping[str, str], row: int, *, required: bool) -> Tmm | None:
        """The Type, Manufacturer and Model cells, or None when the row is rejected."""
        if required:
            for column in TMM:
                if column not in values:
                    self.sink.reject(
                        row,
                        column,
                        f"missing-{column.lower()}",
                        f"{column} is required in a list without a template",
                    )
                    return None
        layer: dict[str, Setting] = {}
        kind = self._type(values.get(TYPE), row)
        if kind is REJECTED:
            return None
        maker = self._manufacturer(values.get(MANUFACTURER), row, layer)
        if maker is REJECTED:
            return None
        model = self._model(values.get(MODEL), row, maker, layer)
        if model is REJECTED:
            return None
        if kind is not None:
            if model is not None and kind not in model.types:
                self.sink.warn(
                    row,
                    TYPE,
                    "workstation-only",
                    f"{model.display} is a workstation only, not a stand-alone phone;"
                    " imported as Workstation",
                )
                kind = model.types[0]
            layer["type"] = Setting(kind, CSV_LAYER, self.sink.pos(row, TYPE))
        return Tmm(layer, maker, model)

    def _type(self, text: str | None, row: int) -> str | Rejected | None:
        """The phone type of the Type cell."""
        if text is None:
            return None
        if text not in self.type_cache:
            self.type_cache[text] = TYPES.get(fold(text))
        kind = self.type_cache[text]
        if kind is None:
            self.sink.reject(
                row, TYPE, "bad-type", f"type {text!r} is not Workstation or Stand-alone Phone"
            )
            return REJECTED
        return kind

    def _manufacturer(
        self, text: str | None, row: int, layer: dict[str, Setting]
    ) -> str | Rejected | None:
        """The catalog's manufacturer of the Manufacturer cell."""
        if text is None:
            return None
        if text not in self.maker_cache:
            self.maker_cache[text] = self.makers.get(fold(text))
        maker = self.maker_cache[text]
        if maker is None:
            close = difflib.get_close_matches(text.casefold(), list(self.makers), n=1, cutoff=0.5)
            hint = f"; did you mean {self.makers[close[0]]!r}?" if close else ""
            known = ", ".join(self.catalog.manufacturers)
            self.sink.reject(
                row,
                MANUFACTURER,
                "unknown-manufacturer",
                f"manufacturer {text!r} is not one of {known}{hint}",
            )
            return REJECTED
        layer["manufacturer"] = Setting(maker, CSV_LAYER, self.sink.pos(row, MANUFACTURER))
        return maker

    def _model(
        self, text: str | None, row: int, maker: str | None, layer: dict[str, Setting]
    ) -> Model | Rejected | None:
        """The catalog's model of the Model cell."""
        if text is None:
            return None
        if maker is None:
            self.sink.reject(
                row, MANUFACTURER, "missing-manufacturer", "a Model needs its Manufacturer"
            )
            return REJECTED
        model = self.find_model(text, maker)
        if model is None:
            close = self.catalog.suggest_models(text, maker)
            shown = " or ".join(repr(self.catalog.models[m].display) for m in close[:3])
            hint = f"; did you mean {shown}?" if close else ""
            self.sink.reject(row, MODEL, "unknown-model", f"{maker} has no model {text!r}{hint}")
            return REJECTED
        layer["model"] = Setting(text, CSV_LAYER, self.sink.pos(row, MODEL))
        if self.doubts and model.eol:
            self.sink.warn(
                row,
                MODEL,
                "end-of-life",
                f"{model.display} is end of life: Genesys no longer supports it",
            )
        return model

    # --- address --------------------------------------------------------------------------

    def read_address(
        self, text: str | None, row: int, manufacturer: str | None, model: Model | None
    ) -> str | None:
        """The Address cell: a MAC (as ``00:04:f2:aa:bb:cc``) or a computer name; None when
        missing or dropped with a warning."""
        if text is None:
            return None
        soft = model is not None and model.family == "softphone"
        hardware = (model is not None and not soft) or (
            manufacturer is not None and manufacturer != "ININ"
        )
        if soft or (not hardware and not looks_like_mac(text)):
            if is_computer_name(text):
                return text
            self.sink.warn(
                row,
                ADDRESS,
                "bad-computer-name",
                f"{text!r} is not a full computer name (such as AgentPC1.lab.local);"
                " imported without an address",
            )
            return None
        mac = normalize_mac(text)
        if mac is None:
            self.sink.warn(
                row, ADDRESS, "bad-mac", f"{mac_problem(text)}; imported without an address"
            )
            return None
        if self.doubts and manufacturer is not None:
            self._doubt_vendor(mac, row, manufacturer)
        return _format_mac(mac)

    def _doubt_vendor(self, mac: str, row: int, manufacturer: str) -> None:
        """Warn when the MAC's vendor prefix is not one of the manufacturer's."""
        prefixes = self.catalog.mac_prefixes.get(manufacturer, ())
        if not prefixes or any(mac.startswith(p) for p in prefixes):
            return
        owners = [m for m in self.catalog.manufacturer_of_prefix(mac) if m != manufacturer]
        whose = f"the {' and '.join(owners)} prefix" if owners else "a prefix"
        expected = " or ".join(format_mac(p + "000000")[:8] for p in prefixes)
        self.sink.warn(
            row,
            ADDRESS,
            "mac-vendor",
            f"MAC {format_mac(mac)} has {whose} {format_mac(mac)[:8]}, not {manufacturer}'s"
            f" ({expected}); check the address",
        )

    # --- appearance -----------------------------------------------------------------------

    def read_appearance(
        self, values: Mapping[str, str], row: int, manufacturer: str | None, number: int = 1
    ) -> AppearanceSpec | None:
        """The private appearance of the Extension, Identification Address and Label cells
        (``Extension 2`` ... for ``number`` 2 ...; None without an Extension: the other two
        are then dropped with a warning)."""
        ext_column, ident_column, label_column = appearance_columns(number)
        extension = values.get(ext_column)
        ident = self._ident(values.get(ident_column), row, ident_column)
        label = self._label(values.get(label_column), row, manufacturer, label_column)
        if extension is None:
            for column, value in ((label_column, label), (ident_column, ident)):
                if value is not None:
                    self.sink.warn(
                        row,
                        column,
                        "no-extension",
                        f"{column} {value!r} is not imported: the row has no {ext_column}",
                    )
            return None
        return AppearanceSpec(
            kind="private",
            extension=extension,
            label=label,
            identification_address=ident,
            position=Position(
                self.sink.shown, row, 0, self.sink.written.get(ext_column, ext_column)
            ),
        )

    def _ident(self, text: str | None, row: int, column: str) -> str | None:
        """The user part of the Identification Address cell (dropped when malformed)."""
        if text is None:
            return None
        ident = _user_part(text)
        if ident is None:
            self.sink.warn(
                row,
                column,
                "bad-identification-address",
                f"{text!r} is neither sip:user@host:port nor a bare user part; not imported",
            )
        return ident

    def _label(
        self, label: str | None, row: int, manufacturer: str | None, column: str
    ) -> str | None:
        """The Label cell, dropped for a phone that is not a Polycom."""
        if label is not None and manufacturer is not None and manufacturer != "Polycom":
            self.sink.warn(
                row,
                column,
                "label-not-polycom",
                f"label {label!r} is not imported: labels are for Polycom phones only, and"
                f" this phone is {manufacturer}",
            )
            return None
        return label


def _format_mac(mac: str) -> str:
    """``format_mac`` spelt out: it runs for every row of a list."""
    return f"{mac[0:2]}:{mac[2:4]}:{mac[4:6]}:{mac[6:8]}:{mac[8:10]}:{mac[10:12]}"


def _user_part(text: str) -> str | None:
    """The user part of ``sip:user@host:port`` or a bare user part, else None."""
    match = _SIP_URI.match(text)
    if match:
        return match.group(1)
    stripped = text.strip()
    if stripped.casefold().startswith("sip:"):
        stripped = stripped[4:].strip()
    return stripped if _USER_PART.match(stripped) else None
