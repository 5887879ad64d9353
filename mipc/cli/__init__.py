"""The command line: ``mipc = "mipc.cli:run"``.

Gives :func:`main`, the click group of :mod:`mipc.cli.main`, and :func:`run`, the console
script that runs it; the verbs' options are in
:mod:`mipc.cli.options`, the reporter in :mod:`mipc.cli.report`, the command functions in
:mod:`mipc.cli.commands`. Never imports the pipeline or a stage.
"""

from mipc.cli.main import main, run

__all__ = ["main", "run"]
