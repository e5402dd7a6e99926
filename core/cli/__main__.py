from microseg.cli import cli

cli()
