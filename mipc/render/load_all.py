"""Import every renderer module so that each registers its family, and the fast paths of
the shipped templates (:mod:`mipc.render.fastpaths`)."""

from __future__ import annotations

from mipc.render import fastpaths, keyvalue, polycom, softphone

RENDERER_MODULES = (polycom, keyvalue, softphone)
FAST_PATHS = fastpaths
