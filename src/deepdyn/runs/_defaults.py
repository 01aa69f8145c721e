"""Defaults the ``deepdyn`` command shows in its help: here, in a module that imports nothing."""

GROUP_SIZE = 64
"""Default largest number of configs run as one ensemble."""
