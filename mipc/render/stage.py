r"""The render stage over a whole plan: every family's renderer over its phones.

Takes a :class:`mipc.model.Plan`; gives artifacts (:mod:`mipc.artifacts`) and the renderers'
warnings as :class:`~mipc.diagnostics.Diagnostic`\ s of code ``render``: a warning raised while
rendering a phone's own files names that phone (``subject``) and its entry's position in its
YAML file or CSV row; one raised for the shared files names neither.
:func:`render_all` gives every artifact of a plan in memory (``diff`` and small builds use
it); :func:`render_phones` renders only some phones' own files (incremental work). The build
does not hold the whole tree in memory: it renders chunks of phones with :func:`render_chunk`,
in worker processes when the plan is large enough for that to pay (:mod:`mipc.render.pool`).
Never imports release.

Phones are always visited in name order and artifacts merged in path order, so the result
does not depend on how the work was split. A path produced twice with different bytes is a
renderer bug: :class:`RenderConflict`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from mipc.artifacts import Artifact, Artifacts, RenderConflict
from mipc.diagnostics import Diagnostic, InvalidInputError, Position, Severity, once_each
from mipc.model import EffectivePhone, Plan
from mipc.render import load_all
from mipc.render.base import Renderer, RendererFactory, registered
from mipc.render.secrets import SecretForms, marked
from mipc.resolve.credentials import phone_user


class UnknownFamily(InvalidInputError, ValueError):
    """A phone of a family no renderer is registered for."""


@dataclass
class Rendered:
    """Artifacts and the warnings that came with them."""

    artifacts: Artifacts = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    #: Phones that were the first to raise one of the warnings (see mipc.incremental.state).
    warned: list[str] = field(default_factory=list)

    def merge(self, artifacts: Mapping[str, Artifact], warnings: Iterable[Diagnostic] = ()) -> None:
        """Add artifacts (see :func:`merge_artifact`) and warnings."""
        for path, art in artifacts.items():
            merge_artifact(self.artifacts, path, art)
        self.warnings.extend(warnings)


def merge_artifact(into: Artifacts, path: str, art: Artifact) -> None:
    """Add one artifact; the same path twice is fine only with the same contents."""
    old = into.get(path)
    if old is None:
        into[path] = art
        return
    if old.data != art.data or old.link != art.link:
        raise RenderConflict(
            f"{path} is produced twice with different contents "
            f"(for {', '.join(old.phones) or 'all phones'} and "
            f"{', '.join(art.phones) or 'all phones'}); this is a bug in a renderer"
        )
    if art.phones != old.phones or art.secret != old.secret:
        phones = tuple(sorted({*old.phones, *art.phones}))
        into[path] = Artifact(old.data, phones, old.link, old.secret or art.secret)


#: The code of the renderers' warnings.
CODE = "render"


def provisioned(plan: Plan) -> Plan:
    """The plan as the renderers see it: without the phones that wait for an address, so
    they neither get files nor shape the shared ones (group file variants, the master's
    list of models)."""
    if not any(p.waiting for p in plan.phones):
        return plan
    return replace(plan, phones=tuple(p for p in plan.phones if not p.waiting))


def sorted_phones(plan: Plan) -> tuple[EffectivePhone, ...]:
    """The plan's phones in name order."""
    return tuple(sorted(plan.phones, key=lambda p: p.name))


def by_family(phones: Iterable[EffectivePhone]) -> dict[str, tuple[EffectivePhone, ...]]:
    """Phones grouped by family (families sorted, phones in the order given)."""
    groups: dict[str, list[EffectivePhone]] = {}
    for phone in phones:
        groups.setdefault(phone.family, []).append(phone)
    return {family: tuple(groups[family]) for family in sorted(groups)}


def renderers() -> Mapping[str, RendererFactory]:
    """Every family's renderer factory, by family name."""
    assert load_all.RENDERER_MODULES  # imported for their registrations
    return registered()


def _factory(family: str) -> Renderer:
    factories = renderers()
    if family not in factories:
        known = ", ".join(sorted(factories)) or "none"
        raise UnknownFamily(f"no renderer for the {family} family (renderers: {known})")
    return factories[family]()


class ChunkRenderer:
    """Renders phones one family at a time, keeping one renderer per family; gathers the
    renderers' warnings in the order they were first raised (a chunk's new warnings are the
    tail of :meth:`warnings`, whatever the families of the phones)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = provisioned(plan)
        self._renderers: dict[str, Renderer] = {}
        self._seen: dict[str, int] = {}  # per family: the renderer's warnings gathered
        self._raised: list[Diagnostic] = []
        self._positions: dict[str, Position | None] | None = None  # made on first warning
        self._secrets = SecretForms(self.plan)

    def renderer(self, family: str) -> Renderer:
        """The renderer of ``family`` (made on first use)."""
        if family not in self._renderers:
            self._renderers[family] = _factory(family)
            self._seen[family] = 0
        return self._renderers[family]

    def _gather(self, family: str, phone: str = "") -> None:
        """Take the warnings ``family``'s renderer raised since the last call, while
        rendering ``phone``'s own files ("": the shared files)."""
        raised = getattr(self._renderers[family], "warnings", ())
        new = raised[self._seen[family] :]
        self._seen[family] = len(raised)
        if new:
            where = self._position(phone) if phone else None
            for message in new:
                self._raised.append(Diagnostic(Severity.WARNING, CODE, message, where, "", phone))

    def _position(self, phone: str) -> Position | None:
        """Where ``phone``'s entry is: its YAML mapping or its CSV row."""
        if self._positions is None:
            self._positions = {s.name: s.position for s in self.plan.inventory.phones}
        return self._positions.get(phone)

    def prepare(self) -> None:
        """Make the renderers of the plan's families and let each work out what it draws
        from the whole plan (:meth:`~mipc.render.base.Renderer.prepare`). What cannot be
        worked out (a family without a renderer, a group file an override cannot render) is
        left to the phones' renders, which then refuse each phone in its own name, as
        without this; what a renderer warned meanwhile is forgotten, as they warn it."""
        for family in sorted({p.family for p in self.plan.phones}):
            try:
                renderer = self.renderer(family)
            except UnknownFamily:
                continue
            before = list(renderer.warnings)
            try:
                renderer.prepare(self.plan)
            except Exception:  # any: what the phones' renders would raise, they raise
                renderer.warnings[:] = before

    def phone(self, phone: EffectivePhone) -> Artifacts:
        """One phone's own files (none while it waits for an address); those holding one of
        its secrets are marked."""
        if phone.waiting:
            return {}
        artifacts = self.renderer(phone.family).render_phone(phone, self.plan)
        self._gather(phone.family, phone.name)
        return marked(artifacts, self._secrets.of(phone))

    def shared(self, family: str, phones: tuple[EffectivePhone, ...]) -> Artifacts:
        """The shared files of one family's phones; those holding a secret are marked."""
        artifacts = self.renderer(family).render_shared(self.plan, phones)
        self._gather(family)
        return marked(artifacts, self._secrets.every)

    def warning_count(self) -> int:
        """How many warnings the renderers raised so far."""
        return len(self._raised)

    def warnings(self) -> list[Diagnostic]:
        """The renderers' warnings, in the order first raised, each once."""
        return once_each(self._raised)


def render_chunk(
    plan: Plan, phones: Iterable[EffectivePhone], chunk: ChunkRenderer | None = None
) -> Rendered:
    """The own files of some phones (no shared files); ``chunk`` keeps renderers between
    calls (their warnings accumulate in it)."""
    chunk = chunk or ChunkRenderer(plan)
    out = Rendered()
    count = chunk.warning_count()
    for phone in phones:
        out.merge(chunk.phone(phone))
        if chunk.warning_count() != count:
            count = chunk.warning_count()
            out.warned.append(phone.name)
    out.warnings = chunk.warnings()
    return out


def render_shared(plan: Plan) -> Rendered:
    """Every family's shared files (group files, server files, defaults, firmware links)."""
    chunk = ChunkRenderer(plan)
    out = Rendered()
    for family, phones in by_family(sorted_phones(chunk.plan)).items():
        out.merge(chunk.shared(family, phones))
    out.warnings = chunk.warnings()
    return out


def render_all(plan: Plan) -> tuple[Artifacts, list[Diagnostic]]:
    """Every artifact of the plan (per-phone and shared), sorted by path, and the warnings."""
    for phone in plan.phones:
        _factory(phone.family)  # fail early, before any rendering, on an unknown family
    out = render_chunk(plan, sorted_phones(plan))
    shared = render_shared(plan)
    out.merge(shared.artifacts, shared.warnings)
    return dict(sorted(out.artifacts.items())), once_each(out.warnings)


def render_phones(plan: Plan, names: Iterable[str]) -> tuple[Artifacts, list[Diagnostic]]:
    """The own files of the named phones only (no shared files), sorted by path.

    Unknown names raise :class:`KeyError`. Used for incremental work: the phones whose
    digest changed are rendered, shared files are rendered separately.
    """
    index = {p.name: p for p in plan.phones}
    wanted = sorted(set(names))
    missing = [n for n in wanted if n not in index]
    if missing:
        raise KeyError(f"no phone named {', '.join(missing)}")
    out = render_chunk(plan, (index[n] for n in wanted))
    return dict(sorted(out.artifacts.items())), out.warnings


def phone_owners(plan: Plan) -> dict[str, str]:
    """Each phone's own files (paths under ``www/``) and the user that phone presents with
    ``serving.access: phone`` (:func:`mipc.resolve.credentials.phone_user`), sorted by path:
    what the nginx site lets only that phone read."""
    plan = provisioned(plan)
    chunk = ChunkRenderer(plan)
    owners: dict[str, str] = {}
    for phone in sorted_phones(plan):
        user = phone_user(phone)
        if user is not None:
            for path in chunk.renderer(phone.family).own_files(phone, plan):
                owners[path] = user
    return dict(sorted(owners.items()))
