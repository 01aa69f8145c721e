"""``python -m deepdyn``: the deepdyn command."""

from deepdyn.cli import main

main()
