"""Entry point for ``python -m mipc``."""

from mipc.cli import run

run()
