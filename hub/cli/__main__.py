"""`python -m hub.cli` runs the `kartei` command."""

from hub.cli import main

main()
