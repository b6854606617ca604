"""A blank matplotlib figure for a result's plot; matplotlib is imported only when one is drawn,
so that it stays off the start-up path of every command that does not plot."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    """A figure of `width` × `height` inches with constrained layout (no pyplot state)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")
