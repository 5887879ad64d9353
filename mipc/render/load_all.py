"""Import every renderer module so that each registers its family."""

from __future__ import annotations

from mipc.render import keyvalue, polycom, softphone

RENDERER_MODULES = (polycom, keyvalue, softphone)
