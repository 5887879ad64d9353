"""Render: effective phones to artifacts (relative path under www/ → bytes).

Takes a :class:`mipc.model.Plan`; gives artifacts. One module per vendor family, registered by
family name; templates and vendor data from ``vendor_templates/``. Never imports release.
"""
