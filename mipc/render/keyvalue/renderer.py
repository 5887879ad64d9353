"""The renderer of the key=value families: one ``<mac>.cfg`` per phone, from the family's data.

Takes an effective phone and its plan; gives the phone's file (``system/type`` first, then the
keys of its custom files, mipc's keys section by section as the family's data lists them, then
``extra:``), laid out by ``vendor_templates/<family>/<template>`` and parsed back strictly
before it is accepted, and the family's shared files (:mod:`mipc.render.keyvalue.shared`). The
family's facts come from :func:`mipc.render.keyvalue.data.load_profile`; custom files from the
plan's :class:`mipc.model.InventoryFiles` (no I/O here). Never imports release.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from mipc.artifacts import Artifact, Artifacts
from mipc.model import EffectivePhone, Plan
from mipc.render.base import ProfileMemo, RenderError, set_explicitly
from mipc.render.keyvalue.data import load_profile
from mipc.render.keyvalue.kvfile import KeyValueFile, parse_custom
from mipc.render.keyvalue.profile import Profile
from mipc.render.keyvalue.sections import SECTIONS, Writer
from mipc.render.keyvalue.shared import (
    custom_names,
    custom_source,
    shared_custom,
    shared_firmware,
    system_type,
)
from mipc.render.syntax import check_rendered
from mipc.render.templating import Overrides, TemplateError, overrides, render_template

__all__ = ["KeyValueRenderer"]

_MAC = re.compile(r"[0-9a-f]{12}")

#: What the sections that depend only on a phone's profile wrote: keys and texts, the options
#: tried and the options written.
_Part = tuple[list[tuple[str, str]], frozenset[str], frozenset[str]]


def _override_dir(plan: Plan) -> Overrides | None:
    return overrides(plan.inventory.root, plan.inventory.files)


class KeyValueRenderer:
    """One renderer for every key=value family; :attr:`family` names its data."""

    family: str  # set by each family's subclass

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self._seen_warnings: set[str] = set()
        self._custom_cache: dict[str, dict[str, str] | None] = {}
        self._parts: dict[int, ProfileMemo[_Part]] = {}
        #: Whether an option was set by a template or the phone: its profile's settings say.
        self._explicit: dict[str, ProfileMemo[bool]] = {}

    def profile(self, plan: Plan) -> Profile:
        """The family's data, as the plan's inventory sees it (its overrides first)."""
        return load_profile(self.family, _override_dir(plan))

    def _warn(self, message: str, once: str = "") -> None:
        """Record a warning; with ``once``, only the first warning of that kind."""
        key = once or message
        if key not in self._seen_warnings:
            self._seen_warnings.add(key)
            self.warnings.append(message)

    def prepare(self, plan: Plan) -> None:
        """Nothing: a phone's render draws nothing from the whole plan."""

    def render_phone(self, phone: EffectivePhone, plan: Plan) -> Artifacts:
        """The phone's ``<mac>.cfg``."""
        profile = self.profile(plan)
        if phone.mac is None or not _MAC.fullmatch(phone.mac):
            raise RenderError(
                f"phone {phone.name}: a {profile.display} phone needs a MAC address "
                "(12 hex digits) to name its file"
            )
        file_name = f"{phone.mac}.cfg"
        context = {
            "settings": self.settings(phone, plan).items(),
            "phone": phone,
            "system_type": system_type(profile, phone),
            "file_name": file_name,
        }
        name = f"{self.family}/{profile.template}"
        try:
            text = render_template(name, context, _override_dir(plan))
        except TemplateError as exc:
            raise RenderError(f"phone {phone.name}: {exc}") from exc
        check_rendered(
            name, _override_dir(plan), "key=value", text, f"{file_name} (phone {phone.name})"
        )
        return {file_name: Artifact(data=text.encode("ascii"), phones=(phone.name,))}

    def own_files(self, phone: EffectivePhone, plan: Plan) -> tuple[str, ...]:
        """The ``<mac>.cfg`` :meth:`render_phone` writes."""
        return () if phone.mac is None else (f"{phone.mac}.cfg",)

    def settings(self, phone: EffectivePhone, plan: Plan) -> KeyValueFile:
        """The phone's keys in file order: type, custom files, mipc's settings, extra."""
        profile = self.profile(plan)
        w = Writer(profile, phone, self._warn)
        w.put("type", system_type(profile, phone))
        run: list[str] = []
        for index, name in enumerate((*profile.sections, "")):
            section = SECTIONS.get(name)
            if section is not None and section.per_profile:
                run.append(name)
                continue
            if run:
                self._shared_part(w, plan, index, tuple(run))
                run = []
            if section is not None:
                section.write(w, plan)
        self._report_unwritable(w, profile, phone)
        return self._assemble(w.file, phone, plan)

    def _shared_part(self, w: Writer, plan: Plan, index: int, run: tuple[str, ...]) -> None:
        """Sections that depend only on the phone's profile: written once per profile."""

        def compute() -> _Part:
            part = Writer(w.profile, w.phone, self._warn)
            for name in run:
                SECTIONS[name].write(part, plan)
            return part.file.items(), frozenset(part.tried), frozenset(part.written)

        items, tried, written = self._parts.setdefault(index, ProfileMemo()).get(w.phone, compute)
        for key, text in items:
            w.file.set_text(key, text)
        w.tried |= tried
        w.written |= written

    def _report_unwritable(self, w: Writer, profile: Profile, phone: EffectivePhone) -> None:
        for option in w.unwritable_options():
            once = f"option:{option}"
            if once in self._seen_warnings:
                continue  # said once already
            memo = self._explicit.setdefault(option, ProfileMemo())
            if not memo.get(phone, partial(set_explicitly, phone, option)):
                continue  # a catalog default the family has no key for: nothing to report
            self._warn(
                f"option {option} is set for {profile.display} phones "
                f"(first: {phone.name}) but mipc knows no {profile.display} key for it; "
                "not written (use extra: with the vendor's key)",
                once=once,
            )

    def _read_custom(self, plan: Plan, rel: str) -> dict[str, str] | None:
        """The pairs of the inventory's custom file ``rel``; None if it has no such file."""
        where = str(Path(plan.inventory.root) / rel)
        if where not in self._custom_cache:
            try:
                text = plan.inventory.files.read_text(rel, encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise RenderError(f"custom file {where}: cannot be read ({exc})") from exc
            self._custom_cache[where] = None if text is None else parse_custom(text, where)
        return self._custom_cache[where]

    def _custom_pairs(self, phone: EffectivePhone, plan: Plan) -> dict[str, tuple[str, str]]:
        """key -> (value, published file) of the phone's custom files, in order."""
        profile = self.profile(plan)
        custom: dict[str, tuple[str, str]] = {}
        for name in custom_names(profile, phone):
            published, rel = custom_source(profile, phone, name)
            pairs = self._read_custom(plan, rel)
            if pairs is None:
                where = Path(plan.inventory.root) / rel
                self._warn(f"phone {phone.name}: custom file {name} not found at {where}")
                continue
            for key, value in pairs.items():
                custom[key] = (value, published)
        return custom

    def _assemble(self, own: KeyValueFile, phone: EffectivePhone, plan: Plan) -> KeyValueFile:
        custom = self._custom_pairs(phone, plan)
        out = KeyValueFile(phone.name)
        items = own.items()
        out.set_text(*items[0])  # system/type first (own items are checked text already)
        for key, (value, published) in custom.items():
            if key in own:
                self._warn(
                    f"phone {phone.name}: custom file {published} sets {key}, which mipc "
                    "writes; mipc's value is used (the phone reads <MAC>.cfg last)"
                )
            elif key not in phone.extra:
                out.set(key, value)
        for key, text in items[1:]:
            out.set_text(key, text)
        for key in phone.extra:
            if key in own:
                raise RenderError(
                    f"phone {phone.name}: extra key {key} is one mipc already writes; "
                    "set it through the matching inventory setting instead"
                )
            out.set(key, phone.extra[key])
        return out

    def render_shared(self, plan: Plan, phones: tuple[EffectivePhone, ...]) -> Artifacts:
        """The family's custom files and firmware links."""
        profile = self.profile(plan)
        mine = tuple(p for p in phones if p.family == self.family)
        artifacts: Artifacts = {}
        shared_custom(profile, plan, mine, artifacts)
        shared_firmware(profile, plan, mine, artifacts, self._warn)
        return dict(sorted(artifacts.items()))
