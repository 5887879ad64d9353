"""Import every renderer module so that each registers its family."""

from __future__ import annotations

import importlib

for _name in ("polycom", "keyvalue", "softphone"):
    try:
        importlib.import_module(f"mipc.render.{_name}")
    except ModuleNotFoundError as exc:  # a renderer still being written
        if exc.name != f"mipc.render.{_name}":
            raise
