"""Which rendered files hold a secret: the render stage marks them, the release guards them.

A secret's value (a SIP authentication password, a phone admin password, the provisioning
password of ``serving.access: basic``) is written into a file as text, or escaped for an XML
attribute (:func:`mipc.render.templating.xml_attr`). After a renderer made a phone's own
files, each that holds one of that phone's secrets, in either form, is marked
(:attr:`mipc.artifacts.Artifact.secret`); a family's shared files are looked at for every
secret of the plan. The release writes marked files mode 0640, of nginx's group
(:mod:`mipc.release.staging`). What a file holds decides, not its family or name: an override
template that writes a password into another file marks that file. A secret written otherwise
transformed (a template's own encoding of it) is not recognised; a very short one may mark
files that merely contain its text (they are then only better guarded).

Takes a :class:`~mipc.model.Plan` and artifacts; gives the artifacts marked. Reads nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from mipc.artifacts import Artifacts
from mipc.model import EffectivePhone, Plan, Secret
from mipc.render.templating import xml_attr


def forms(values: Iterable[str]) -> frozenset[bytes]:
    """The bytes each value is written as: itself, and escaped for an XML attribute."""
    out: set[bytes] = set()
    for value in values:
        if value:
            out.add(value.encode("utf-8", "surrogatepass"))
            out.add(xml_attr(value).encode("utf-8", "surrogatepass"))
    return frozenset(out)


class SecretForms:
    """The written forms of a plan's secrets: all of them, and each phone's."""

    def __init__(self, plan: Plan) -> None:
        inventory = plan.inventory
        self.every = forms(inventory.secrets.values.values())
        password = inventory.serving.password
        served = inventory.secrets.values.get(password) if password is not None else None
        self._served = [served] if served else []

    def of(self, phone: EffectivePhone) -> frozenset[bytes]:
        """The forms of the secrets ``phone``'s files may hold."""
        secrets: list[Secret | None] = [phone.admin_password]
        secrets.extend(app.auth_password for app in phone.appearances)
        values = [s.value for s in secrets if s is not None]
        return forms([*values, *self._served]) if values or self._served else frozenset()


def marked(artifacts: Artifacts, secrets: frozenset[bytes]) -> Artifacts:
    """``artifacts``, those holding one of ``secrets`` marked as holding a secret."""
    if not secrets:
        return artifacts
    out: Artifacts = {}
    for path, art in artifacts.items():
        holds = art.link is None and not art.secret and any(s in art.data for s in secrets)
        out[path] = replace(art, secret=True) if holds else art
    return out
