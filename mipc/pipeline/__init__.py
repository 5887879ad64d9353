"""The pipeline: the one place the stages are composed.

:mod:`mipc.pipeline.compile` composes load → validate → assemble → check → resolve → check the
effective phones (and the incremental compile through the same function);
:mod:`mipc.pipeline.compare` what ``mipc diff`` compares an inventory with;
:mod:`mipc.pipeline.build` a build's three paths (no-op, changed phones only, full) into a
release. The commands call these and decide what to print. Never imports the CLI.
"""

from mipc.pipeline.compile import (
    Result,
    compile_inventory,
    default_inventory,
    delta,
    load_model,
    paused_gc,
    validate,
)

__all__ = [
    "Result",
    "compile_inventory",
    "default_inventory",
    "delta",
    "load_model",
    "paused_gc",
    "validate",
]
