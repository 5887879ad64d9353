"""Incremental: what a release was built from, and which phones changed since.

Takes the inventory and the records of the current release; gives a delta, or None to build in
full.
"""
