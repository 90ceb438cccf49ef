"""``python -m labourwatch`` runs the CLI."""

from labourwatch.cli import main

main()
