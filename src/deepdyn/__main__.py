"""``python -m deepdyn``: the deepdyn command."""

from deepdyn.cli import main

if __name__ == "__main__":
    main()
