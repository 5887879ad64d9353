"""Release: the store on disk (releases, current, lock, rollback), staging, manifest, emit.

Takes rendered artifacts; gives a release switched atomically. Never imports rules or resolve.
"""
