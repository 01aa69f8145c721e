"""Pictures of the flow (thesis ch. 7, 10, App. A.2, D): arrays first, then drawings.

Compute (return xarray): :func:`grid_lines`, :func:`deform_grid`, :func:`propagate`,
:func:`level_sets`, :func:`layer_field`, :func:`history_arrays`.
Draw (take those arrays and a matplotlib Axes; a 3-D Axes draws three components):
:func:`draw_grid`, :func:`draw_propagation`, :func:`draw_flow_lines`, :func:`draw_time_lines`,
:func:`draw_level_sets`, :func:`draw_field`.
Schemes: :func:`architecture_scheme` (the layout of a network's diagram from its spec) and
:func:`draw_architecture` (thesis Fig 1.1, 3.1, 7.1, 8.7, 8.8).
Animate (GIF through Pillow): :func:`animate_layers`, :func:`animate_training`, :func:`save_gif`.

Nothing here picks a matplotlib backend: GIFs are drawn on a pyplot-free ``Figure`` (Agg
canvas), and the ``draw_*`` functions draw on whatever Axes they are given.
"""

from deepdyn.viz._animate import animate_layers, animate_training, save_gif
from deepdyn.viz._arrays import (
    deform_grid,
    grid_lines,
    history_arrays,
    layer_field,
    level_sets,
    propagate,
)
from deepdyn.viz._draw import (
    draw_field,
    draw_flow_lines,
    draw_grid,
    draw_level_sets,
    draw_propagation,
    draw_time_lines,
)
from deepdyn.viz._scheme import Column, Scheme, architecture_scheme, draw_architecture

__all__ = [
    "Column",
    "Scheme",
    "animate_layers",
    "animate_training",
    "architecture_scheme",
    "deform_grid",
    "draw_architecture",
    "draw_field",
    "draw_flow_lines",
    "draw_grid",
    "draw_level_sets",
    "draw_propagation",
    "draw_time_lines",
    "grid_lines",
    "history_arrays",
    "layer_field",
    "level_sets",
    "propagate",
    "save_gif",
]
