"""One module per verb: each takes one options object and returns an exit code.

Commands call the pipeline and the release store; they never parse argv.
"""
