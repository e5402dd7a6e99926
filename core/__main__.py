"""``python -m microseg``: the command line."""
from microseg.cli import main

main()
