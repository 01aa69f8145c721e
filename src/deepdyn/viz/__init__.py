"""Pictures of the flow (thesis ch. 7, 10, App. A.2, D): arrays first, then drawings.

Compute (return xarray): :func:`grid_lines`, :func:`deform_grid`, :func:`propagate`,
:func:`level_sets`, :func:`layer_field`, :func:`history_arrays`.
Draw (take those arrays and a matplotlib Axes; a 3-D Axes draws three components):
:func:`draw_grid`, :func:`draw_propagation`, :func:`draw_flow_lines`, :func:`draw_time_lines`,
:func:`draw_level_sets`, :func:`draw_field`.
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

__all__ = [
    "animate_layers",
    "animate_training",
    "deform_grid",
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
