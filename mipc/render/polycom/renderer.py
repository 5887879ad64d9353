"""The Polycom renderer: effective phones to the Polycom files of a release.

Takes a :class:`~mipc.model.Plan` and its Polycom phones; gives artifacts (see the package
docstring for the files). The values come from :mod:`~mipc.render.polycom.mapping` (the
data) and :mod:`~mipc.render.polycom.files`; the templates in ``vendor_templates/polycom/``
lay them out, and every rendered file is parsed back in the syntax its template declares
(or proven to parse by the shipped layout's fast path).
Never imports release or another stage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mipc.artifacts import Artifact, Artifacts, addressed
from mipc.catalog.models import load_catalog
from mipc.model import Appearance, EffectivePhone, Plan, Registration
from mipc.render.base import ProfileMemo, register
from mipc.render.polycom import files, shared
from mipc.render.polycom.generations import Generation, adapt, adapt_keys
from mipc.render.polycom.mapping import PolycomData, load_mapping, option_params
from mipc.render.polycom.names import (
    CA_FILE,
    CUSTOM_DIR,
    DEFAULT_MASTER,
    FAMILY,
    SERVER_FILE,
    SETUP_FILE,
    firmware_path,
    group_file_name,
    phone_file_name,
)
from mipc.render.polycom.params import Params, PolycomError, comment, device_pairs
from mipc.render.syntax import render_checked
from mipc.render.templating import Overrides, overrides
from mipc.resolve.credentials import phone_credentials

__all__ = ["PolycomRenderer"]

#: The CA certificate parameter of ``server/cert/ca.cfg``.
CA_PARAM = "sec.TLS.customCaCert.1"


def _uses_tls(phone: EffectivePhone) -> bool:
    return phone.secure or any(
        reg.transport == "tls" for app in phone.appearances for reg in app.registrations
    )


def _served(phones: Iterable[EffectivePhone]) -> tuple[EffectivePhone, ...]:
    """The phones that fetch files (those with a MAC), by name."""
    return tuple(sorted((p for p in phones if p.mac is not None), key=lambda p: p.name))


def _override_dir(plan: Plan) -> Overrides | None:
    return overrides(plan.inventory.root, plan.inventory.files)


def _render(
    plan: Plan, template: str, context: Mapping[str, Any], phones: tuple[str, ...] = ()
) -> Artifact:
    text = render_checked(f"polycom/{template}", context, _override_dir(plan), "xml")
    return Artifact(text.encode("utf-8"), phones)


@register(FAMILY)
class PolycomRenderer:
    """Renders the Polycom family. After a build, :attr:`warnings` holds what went unwritten."""

    family = FAMILY

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self._groups: shared.GroupFiles | None = None
        self._data: tuple[Plan, PolycomData] | None = None
        self._profile_params: ProfileMemo[list[tuple[str, str]]] = ProfileMemo()
        self._addresses: tuple[Plan, Mapping[str, str]] | None = None

    def _warn(self, message: str) -> None:
        """Add a warning once (render_shared may run more than once per renderer)."""
        if message not in self.warnings:
            self.warnings.append(message)

    def data(self, plan: Plan) -> PolycomData:
        """The Polycom mapping for this plan's inventory (shipped, extended by its own)."""
        if self._data is None or self._data[0] is not plan:
            self._data = (plan, load_mapping(_override_dir(plan)))
        return self._data[1]

    # --- public API ------------------------------------------------------------------------

    def render_phone(self, phone: EffectivePhone, plan: Plan) -> Artifacts:
        """The master ``<mac>.cfg`` and the per-phone file; nothing for a phone without MAC."""
        if phone.mac is None:
            return {}
        data = self.data(plan)
        if phone.model.id in data.accessories:
            raise PolycomError(f"phone {phone.name}: {data.accessories[phone.model.id]}")
        gen = shared.generation(phone)
        params = self.for_firmware(phone, gen, self.phone_params(phone, plan), plan)
        self._apply_extra(phone, params)
        self._warn_left_out_servers(phone, data)
        owner = (phone.name,)
        per_phone = {
            "phone_comment": comment(phone.name),
            "model_comment": comment(phone.model.display),
            "elements": params.elements(),
            "emergency": self._emergency(phone),
        }
        own = _render(plan, "phone.cfg.j2", per_phone, owner)
        own_path = addressed(phone_file_name(phone.name), own.data)
        master = self.master_context(phone, self.config_files(phone, plan, own_path), plan)
        return {f"{phone.mac}.cfg": _render(plan, "master.cfg.j2", master, owner), own_path: own}

    def own_files(self, phone: EffectivePhone, plan: Plan) -> tuple[str, ...]:
        """The master and the per-phone file :meth:`render_phone` writes, by stem (the
        per-phone file is served under its content-addressed name, see
        :func:`mipc.artifacts.addressed`)."""
        return () if phone.mac is None else (f"{phone.mac}.cfg", phone_file_name(phone.name))

    def for_firmware(
        self, phone: EffectivePhone, gen: Generation, params: Params, plan: Plan
    ) -> Params:
        """``params`` as the phone's firmware reads them; what it cannot read is warned."""
        data = self.data(plan)
        names, places, dropped = adapt_keys(data.by_firmware, gen, params.names())
        texts = params.texts()
        out = Params(params.owner)
        out.set_texts(names, [texts[i] for i in places])
        shown = [k for k in dropped if k != data.device_enable and not k.endswith(".set")]
        if shown:
            version = phone.firmware.version if phone.firmware else "unknown"
            self._warn(
                f"{phone.name}: {', '.join(shown)} not written: {phone.model.display} on "
                f"firmware {version} ({gen.name}) reads no such parameter; set it on the "
                "phone or choose newer firmware"
            )
        return out

    def _warn_left_out_servers(self, phone: EffectivePhone, data: PolycomData) -> None:
        """A registration group with more servers than Polycom's slots loses the rest."""
        groups = [(phone.registration_group, phone.registrations)] + [
            (f"of line {app.label}", app.registrations)
            for app in phone.appearances
            if app.kind == "external"
        ]
        for group, regs in groups:
            rest = regs[data.max_servers :]
            if rest:
                left = ", ".join(f"{r.address}:{r.port or 0}/{r.transport}" for r in rest)
                self._warn(
                    f"{phone.name}: registration group {group} gives {len(regs)} servers; "
                    f"a Polycom phone has {data.max_servers} server slots, so {left} "
                    "is left out"
                )

    def render_shared(self, plan: Plan, phones: tuple[EffectivePhone, ...]) -> Artifacts:
        """Group, server, CA, provisional, custom, stock and firmware files; those a master
        names under their content-addressed names."""
        served = _served(phones)
        named = self._named(plan, served)
        names = {path: addressed(path, art.data) for path, art in named.items()}
        if served == _served(p for p in plan.phones if p.family == FAMILY):
            self._addresses = (plan, names)  # what addresses() would work out again
        out = {names[path]: art for path, art in named.items()}
        default_master = self.default_master_context(plan)
        out[DEFAULT_MASTER] = _render(plan, "default-master.cfg.j2", default_master)
        out.update(shared.store_links(plan, served, self._warn))
        return out

    def prepare(self, plan: Plan) -> None:
        """The served names of the shared files, which every master names (see
        :class:`~mipc.render.base.Renderer`)."""
        self.addresses(plan)

    def addresses(self, plan: Plan) -> Mapping[str, str]:
        """The served name of each shared file a master names (its stem →
        :func:`~mipc.artifacts.addressed` name), for all the plan's phones: worked out once
        per plan, without the warnings (:meth:`render_shared` raises those)."""
        if self._addresses is None or self._addresses[0] is not plan:
            before = list(self.warnings)
            named = self._named(plan, _served(p for p in plan.phones if p.family == FAMILY))
            self.warnings[:] = before
            names = {path: addressed(path, art.data) for path, art in named.items()}
            self._addresses = (plan, names)
        return self._addresses[1]

    def _named(self, plan: Plan, served: tuple[EffectivePhone, ...]) -> Artifacts:
        """The shared files a master names, by stem: group, server, CA, setup and custom."""
        out: Artifacts = {}
        wanted = {p.name for p in served}
        for path, group in sorted(self._group_files(plan).files.items()):
            users = tuple(n for n in group.phones if n in wanted)
            if users:
                params = self.group_params(group.group, group.servers, plan)
                context = {
                    "group_comment": comment(group.group),
                    "elements": self._adapted(plan, group.generation, params).elements(),
                }
                out[path] = _render(plan, "group.cfg.j2", context, users)
        by_gen: dict[Generation, list[EffectivePhone]] = {}
        for phone in served:
            by_gen.setdefault(shared.generation(phone), []).append(phone)
        for gen, gen_phones in by_gen.items():
            out.update(self._generation_files(plan, gen, gen_phones))
        setup = {"elements": self.setup_params(plan).elements()}
        out[SETUP_FILE] = _render(plan, "setup.cfg.j2", setup)
        out.update(shared.custom_files(plan, served, self._warn))
        return out

    def _adapted(self, plan: Plan, gen: Generation, params: Params) -> Params:
        """A shared file's parameters as ``gen`` reads them; the rest is warned about."""
        rules = self.data(plan).by_firmware
        kept, dropped = adapt(rules, gen, params.items())
        out = Params(params.owner)
        for key, text in kept:
            out.set_text(key, text)
        if dropped:
            stems = dict.fromkeys(re.sub(r"\.\d+(?=\.|$)", ".N", k) for k in dropped)
            self._warn(
                f"{params.owner} for {gen.name} phones: {', '.join(stems)} not written "
                "(that firmware reads no such parameter)"
            )
        return out

    def _reads_ca(self, plan: Plan, gen: Generation) -> bool:
        return bool(adapt(self.data(plan).by_firmware, gen, [(CA_PARAM, "")])[0])

    def _generation_files(
        self, plan: Plan, gen: Generation, phones: list[EffectivePhone]
    ) -> Artifacts:
        """``server/xic.cfg`` and ``server/cert/ca.cfg`` of one firmware generation."""
        out: Artifacts = {}
        names = tuple(p.name for p in phones)
        site = self._adapted(plan, gen, self.server_params(plan))
        out[gen.path(SERVER_FILE)] = _render(
            plan, "server.cfg.j2", {"elements": site.elements()}, names
        )
        tls_users = tuple(p.name for p in phones if _uses_tls(p))
        if tls_users and self._reads_ca(plan, gen):
            ca = {"elements": self.ca_params(plan).elements()}
            out[gen.path(CA_FILE)] = _render(plan, "ca.cfg.j2", ca, tls_users)
        return out

    # --- master files ----------------------------------------------------------------------

    def config_files(self, phone: EffectivePhone, plan: Plan, own: str) -> list[str]:
        """``CONFIG_FILES`` of a phone's master, in the guide's order (first file wins): the
        files of its firmware generation, the custom files that exist, its stock files; each
        under its served name (``own``: the per-phone file's)."""
        gen = shared.generation(phone)
        names: list[str] = []
        if _uses_tls(phone):
            if self._reads_ca(plan, gen):
                names.append(gen.path(CA_FILE))
            else:
                self._warn(
                    f"{phone.name}: registers over TLS, but firmware of {gen.name} reads no "
                    "custom CA certificate; install CIC's certificate authority on the phone"
                )
        names.append(own)
        group_file = self._group_files(plan).by_phone.get(phone.name)
        names.append(group_file or gen.path(group_file_name(phone.registration_group)))
        names.append(gen.path(SERVER_FILE))
        for name in shared.custom_names(phone, self._warn):
            if shared.custom_source(plan, name) is None:
                self._warn(
                    f"{phone.name}: custom config file {name} not found in "
                    f"{Path(plan.inventory.root) / 'custom_files' / 'polycom'}; left out of "
                    "its CONFIG_FILES"
                )
            elif f"{CUSTOM_DIR}/{name}" not in names:
                names.append(f"{CUSTOM_DIR}/{name}")
        served = self.addresses(plan)
        names = [served.get(name, name) for name in names]
        if phone.firmware is not None:
            names.extend(shared.stock_paths(phone.firmware.version, gen))
        self._check_length(phone.name, names, plan)
        return names

    def _check_length(self, who: str, names: list[str], plan: Plan) -> None:
        """Polycom's limits on ``CONFIG_FILES``: per item and in all."""
        item, total = self.data(plan).config_files_limits
        long = [n for n in names if len(n) > item]
        text = ", ".join(names)
        if long or len(text) > total:
            what = f"{long[0]!r} is over {item}" if long else f"the list is over {total}"
            raise PolycomError(
                f"phone {who}: CONFIG_FILES cannot be written, {what} characters "
                "(Polycom's limit); use fewer or shorter custom config files"
            )

    def master_context(
        self, phone: EffectivePhone, config_files: list[str], plan: Plan
    ) -> dict[str, Any]:
        """What ``master.cfg.j2`` lays out: firmware path, ``CONFIG_FILES``, upload folders."""
        if phone.firmware is None:
            self._warn(
                f"{phone.name}: no firmware known for {phone.model.display}; the master "
                "names the default sip.ld"
            )
            app_file = "sip.ld"
        else:
            app_file = firmware_path(phone.firmware.version, phone.model.part_number)
        return {
            "phone_comment": comment(phone.name),
            "app_file_path": app_file,
            "config_files": ", ".join(config_files),
            "uploads": self.data(plan).upload_dirs,
            "overrides": plan.inventory.serving.overrides,
        }

    def default_master_context(self, plan: Plan) -> dict[str, Any]:
        """``000000000000.cfg``: latest firmware per model, the ``Setup`` file, nothing else."""
        setup = self.addresses(plan)[SETUP_FILE]
        children = [
            {
                "token": token,
                "app_file_path": path,
                "config_files": ", ".join((setup, *stock)) if stock else None,
            }
            for token, path, stock in shared.provisional_firmware()
        ]
        return {
            "app_file_path": "sip.ld",
            "config_files": setup,
            "uploads": self.data(plan).upload_dirs,
            "overrides": plan.inventory.serving.overrides,
            "models": children,
        }

    # --- parameter files -------------------------------------------------------------------

    def phone_params(self, phone: EffectivePhone, plan: Plan) -> Params:
        """Everything ``phone/<guid>.cfg`` holds, before ``extra``."""
        params = Params(f"phone {phone.name}")
        options = phone.options
        expires = options.get("registration_expires")
        voicemail = options.get("voicemail_number") or plan.inventory.site.voicemail_number
        data = self.data(plan)
        for n, app in enumerate(sorted(phone.appearances, key=lambda a: a.index), start=1):
            self._appearance(data, params, n, app, (expires, voicemail))
        shared_prov = plan.inventory.serving.access == "basic"
        prov = phone_credentials(plan.inventory, phone)
        site = prov if shared_prov else None
        profile = self._profile_params.get(phone, lambda: self._profile_items(phone, data, site))
        for key, text in profile:
            params.set_text(key, text)
        if prov is not None and not shared_prov:  # access: phone, its own credentials
            own = list(zip(data.prov_credentials, prov, strict=False))
            enabled = data.device_enable in params
            for key, value in device_pairs(data.device_enable, data.device_suffix, own, enabled):
                params.set(key, value)
        return params

    def _profile_items(
        self, phone: EffectivePhone, data: PolycomData, prov: tuple[str, str] | None
    ) -> list[tuple[str, str]]:
        """The part of ``phone/<guid>.cfg`` every phone of the profile shares (``prov``: the
        site's provisioning credentials, the same for every phone)."""
        params = Params(f"phone {phone.name}")
        expires = phone.options.get("registration_expires")
        if expires is not None:
            # Main-group lines take their servers from voIpProt.server.M (the group file);
            # this file comes first, so its expiry wins over the group file's.
            for m in range(1, len(phone.registrations[: data.max_servers]) + 1):
                params.set(f"voIpProt.server.{m}.expires", expires)
        files.time_params(data, params, phone.time, self._warn, phone.name)
        params.set("lcl.ml.lang", self._language(phone))
        self._qos(data, params, phone)
        if phone.audio_protocol == "srtp":
            params.update(data.srtp)
        params.update(option_params(data, phone, self._warn, prov))
        return params.items()

    def _appearance(
        self,
        data: PolycomData,
        params: Params,
        n: int,
        app: Appearance,
        line: tuple[int | None, str | None],
    ) -> None:
        """``reg.N.*`` of one appearance; ``line`` is (registration expiry, voice mail)."""
        expires, voicemail = line
        prefix = f"reg.{n}"
        params.set(f"{prefix}.address", app.user)
        params.set(f"{prefix}.label", app.label)
        params.set(f"{prefix}.displayName", app.display_name)
        if app.auth_password is not None:
            params.set(f"{prefix}.auth.userId", app.auth_user or app.user)
            params.set(f"{prefix}.auth.password", app.auth_password.value)
        elif app.auth_user:
            params.set(f"{prefix}.auth.userId", app.auth_user)
        params.set(f"{prefix}.type", "shared" if app.kind == "shared" else "private")
        params.set(f"{prefix}.lineKeys", app.line_keys)
        params.set(f"{prefix}.callsPerLineKey", app.calls_per_line_key)
        if app.kind == "external":
            servers = app.registrations[: data.max_servers]
            files.server_list(data, params, f"{prefix}.server", servers, expires)
        elif voicemail:
            params.set(f"msg.mwi.{n}.callBackMode", "contact")
            params.set(f"msg.mwi.{n}.callBack", voicemail)

    def _language(self, phone: EffectivePhone) -> str:
        catalog = load_catalog()
        lang = phone.language if phone.language in catalog.languages else None
        lang = lang or catalog.language_id(phone.language)
        if lang is None:
            raise PolycomError(f"phone {phone.name}: unknown language {phone.language!r}")
        return lang

    def _qos(self, data: PolycomData, params: Params, phone: EffectivePhone) -> None:
        for what, value in (("rtp", phone.qos.rtp_dscp), ("callControl", phone.qos.sip_dscp)):
            if not 0 <= value <= 63:
                raise PolycomError(f"phone {phone.name}: DSCP {value} is outside 0-63")
            params.set(f"qos.ip.{what}.dscp", value)
        vlan = phone.options.get("vlan") or {}
        if "priority" in vlan:
            for key in data.vlan_priority:
                params.set(key, vlan["priority"])

    def _apply_extra(self, phone: EffectivePhone, params: Params) -> None:
        for key in sorted(phone.extra):
            if key in params:
                raise PolycomError(
                    f"phone {phone.name}: extra parameter {key} is one mipc already writes; "
                    "set it through the inventory's own setting instead"
                )
            value = phone.extra[key]
            try:
                params.set(key, value)
            except (PolycomError, TypeError) as exc:
                raise PolycomError(f"phone {phone.name}: extra parameter {key}: {exc}") from exc

    def _emergency(self, phone: EffectivePhone) -> list[tuple[str, str]]:
        info = phone.options.get("emergency") or {}
        return [(comment(str(k)), comment(str(info[k]))) for k in sorted(info)]

    def group_params(self, group: str, servers: tuple[Registration, ...], plan: Plan) -> Params:
        """``proxy/<group>.cfg``: the group's servers as the phone-wide default servers."""
        return files.group_params(self.data(plan), group, servers)

    def server_params(self, plan: Plan) -> Params:
        """``server/xic.cfg``: the site-wide settings, park and page keys, dial plan."""
        return files.site_params(self.data(plan), bool(plan.inventory.site.voicemail_number))

    def ca_params(self, plan: Plan) -> Params:
        """``server/cert/ca.cfg``: the CA certificate from ``<inventory>/certs/ca.pem``."""
        params = Params(CA_FILE)
        pem = Path(plan.inventory.root) / "certs" / "ca.pem"  # for the warning only
        text = plan.inventory.files.read_text("certs/ca.pem")
        if text is not None:
            params.set(CA_PARAM, text.strip())
        else:
            self._warn(
                f"{CA_FILE}: no CA certificate at {pem}; phones on TLS trust only their "
                "built-in certificate authorities"
            )
        return params

    def setup_params(self, plan: Plan) -> Params:
        """The provisional station: one line labelled ``Setup``; nothing site-private."""
        return files.setup_params(self.data(plan))

    def _group_files(self, plan: Plan) -> shared.GroupFiles:
        if self._groups is None or self._groups.plan is not plan:
            self._groups = shared.group_files(plan)
        return self._groups
