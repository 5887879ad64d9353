"""Diff: a pure comparison of two releases (manifests and files), per phone and setting.

Takes two sets of records and files; gives a report. Does no I/O of its own.
"""
