"""Inventory: YAML files and CSV phone lists to a validated, assembled model.

Takes paths; gives :class:`mipc.model.Inventory` with source positions, and diagnostics.
Knows file formats (YAML, CSV, JSON Schema); never imports resolve, render or release.
"""
