"""Animations as animated GIFs: a picture that plays wherever the notebook is read.

matplotlib's ``to_jshtml`` player is HTML with a script and a stylesheet from a CDN: JupyterLab does not run the
script of a notebook it has not executed itself (the saved player shows a broken picture until the notebook is
run), and offline the stylesheet does not load. A GIF is a plain image: it plays in JupyterLab as saved, on a
rendered course page and on a repository page, with no script and no network.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

__all__ = ["animation_gif"]


def animation_gif(animation, fps: float | None = None, dpi: int = 80):
    """An ``IPython.display.Image`` (GIF) of a ``matplotlib.animation.Animation``, looping forever.

    Args:
        animation: e.g. :func:`grsn_edu.course.plots.rl.episode_animation`'s result.
        fps: frames per second; by default the animation's own ``interval`` (1000 / interval_ms).
        dpi: resolution of the frames (the figure's size in inches times ``dpi`` pixels).

    Returns:
        An image to show as a cell's value (mimetype ``image/gif``); its ``.data`` holds the GIF bytes.
    """
    from IPython.display import Image
    from matplotlib.animation import Animation, PillowWriter

    if not isinstance(animation, Animation):
        raise TypeError(f"animation_gif needs a matplotlib Animation, got {type(animation).__name__}")
    if fps is None:
        fps = 1000.0 / getattr(animation, "_interval", 200)
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "animation.gif"
        animation.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
        data = path.read_bytes()
    return Image(data=data, format="gif")
