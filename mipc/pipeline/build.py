"""The build, composed: the stages from an inventory to a release of OUT.

Takes an inventory's path and OUT; gives the changed phones' own files of an incremental
compile (:func:`render_delta`). Never imports the CLI.
"""

from __future__ import annotations

from mipc.incremental.delta import Delta
from mipc.release.staging import safe_relpath
from mipc.render.stage import render_chunk


def render_delta(delta: Delta) -> dict[str, dict[str, bytes]] | None:
    """The changed phones' own files (``www/...`` paths), or None when rendering them warns
    in a new way or makes a file that another phone or the shared files have."""
    phones = sorted(delta.plan.phones, key=lambda p: p.name)
    rendered = render_chunk(delta.plan, phones)
    if not delta.render_warnings_known(rendered.warnings):
        return None
    own: dict[str, dict[str, bytes]] = {p.name: {} for p in phones}
    for path, art in rendered.artifacts.items():
        rel = "www/" + safe_relpath(path)
        if len(art.phones) != 1 or art.phones[0] not in own or art.link is not None:
            return None
        name = art.phones[0]
        if rel not in delta.state.phones[name][5] and rel in delta.state.index.files:
            return None
        own[name][rel] = art.data
    return own
