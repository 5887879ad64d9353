"""Rules: the checks no schema can state (references, uniqueness, vendor capabilities).

Takes the model and the catalog; gives diagnostics. Never imports resolve, render or release.
"""
