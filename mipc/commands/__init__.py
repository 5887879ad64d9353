"""One module per verb: each holds the logic of a command; mipc.cli only parses and reports."""
