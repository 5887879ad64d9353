"""The command line: ``mipc = "mipc.cli:main"``.

Gives :func:`main`, the click group of :mod:`mipc.cli.main`; the verbs' options are in
:mod:`mipc.cli.options`, the reporter in :mod:`mipc.cli.report`, the command functions in
:mod:`mipc.cli.commands`. Never imports the pipeline or a stage.
"""

from mipc.cli.main import main

__all__ = ["main"]
