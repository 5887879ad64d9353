"""Catalog: phone models, firmware, time zones and addresses, with their data files.

Takes nothing but its own data; gives frozen facts. Imports nothing else of mipc.
"""
