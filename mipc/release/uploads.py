"""Whether nginx's worker user can write OUT's upload folders, and handing them to it.

Takes OUT and a user name (``serving.nginx_user``); gives the upload folders that user cannot
write (judged from each folder's owner, group and mode against the user's uid and groups, as
the kernel does; ACLs are not read), the one-line warning that says so with the command that
fixes it, and :func:`give_uploads`, the ``chown`` of ``mipc build --uploads-owner`` (root
only). A user this machine does not know gives no warning: the build machine is then not the
web server, where the folders are set up as docs/serving.md says. Never imports render.
"""

from __future__ import annotations

import os
import pwd
import shlex
import stat
from pathlib import Path

from mipc.release.store import UPLOAD_DIRS

__all__ = ["give_uploads", "unwritable_uploads", "uploads_warning"]


def _account(user: str) -> tuple[int, int, set[int]] | None:
    """(uid, primary gid, every gid) of ``user``, or None when this machine has no such user."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid, set(os.getgrouplist(user, entry.pw_gid))


def _writable(path: Path, uid: int, gids: set[int]) -> bool:
    """Whether ``uid`` (in ``gids``) may create files in folder ``path``: write and search."""
    if uid == 0:
        return True
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_uid == uid:
        need = stat.S_IWUSR | stat.S_IXUSR
    elif st.st_gid in gids:
        need = stat.S_IWGRP | stat.S_IXGRP
    else:
        need = stat.S_IWOTH | stat.S_IXOTH
    return st.st_mode & need == need


def unwritable_uploads(out: Path, user: str) -> list[str] | None:
    """The upload folders (``logs``, ...) of OUT that ``user`` cannot write, sorted; None when
    this machine has no user ``user``."""
    account = _account(user)
    if account is None:
        return None
    uid, _gid, gids = account
    return sorted(n for n in UPLOAD_DIRS if not _writable(out / "uploads" / n, uid, gids))


def uploads_warning(out: Path, user: str) -> str:
    """One line when nginx's ``user`` cannot write some upload folder of OUT; else ``""``."""
    missing = unwritable_uploads(out, user)
    if not missing:
        return ""
    names = missing[0] if len(missing) == 1 else "{" + ",".join(missing) + "}"
    folders = f"{shlex.quote(str(out))}/uploads/{names}"
    return (
        f"warning: nginx's user {user} (serving.nginx_user) cannot write {folders}: the phones'"
        f" uploads there will fail with 500; run: chown {shlex.quote(user)}: {folders}"
        f" (or build with --uploads-owner {shlex.quote(user)} as root)"
    )


def give_uploads(out: Path, user: str) -> None:
    """``chown user:<its group>`` OUT's upload folders that ``user`` does not own yet.

    Raises :class:`ValueError` for a user this machine does not know, :class:`OSError` when
    the change is not allowed (not root)."""
    account = _account(user)
    if account is None:
        raise ValueError(f"--uploads-owner {user}: no such user on this machine")
    uid, gid, _gids = account
    for name in UPLOAD_DIRS:
        folder = out / "uploads" / name
        st = folder.stat()
        if (st.st_uid, st.st_gid) != (uid, gid):
            os.chown(folder, uid, gid)
