"""``python -m microseg``: the command line."""
from microseg.cli import cli

cli(prog_name="microseg")
