"""Resolve: inheritance (catalog, defaults, locations, templates, phone, CSV row).

Takes the inventory and the catalog; gives a :class:`mipc.model.Plan` of effective phones,
each leaf with its layer. Never imports render, release or file formats.
"""
