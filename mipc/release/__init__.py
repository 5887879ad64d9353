"""Release: the store on disk (releases, current, lock, rollback), staging, manifest, emit.

Takes a plan and a rendering (:mod:`mipc.release.rendering`) that gives artifacts; gives a
release switched atomically. Never imports render, incremental, rules or resolve.
"""
