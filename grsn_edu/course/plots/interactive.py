"""Figures with sliders: :func:`interactive_figure` puts controls under any function that returns a Figure.

The figure functions of :mod:`grsn_edu.course.plots` build a ``matplotlib.figure.Figure`` without pyplot, and
IPython only shows such a figure when it is displayed explicitly: ``ipywidgets.interactive`` calls the draw
function but does not display what it returns (only ``interact`` does, and only pyplot figures are flushed by
it). So the widget here displays the figure itself, as a PNG inside the widget's ``Output``, at the defaults and
after every change; the cell's saved output also carries a PNG of the defaults, for viewers that cannot run
widgets (a notebook executed headless under nbval, a repository page).
"""

from __future__ import annotations

import base64
import functools
import inspect
import io
from collections.abc import Callable, Mapping

from matplotlib.figure import Figure

__all__ = ["interactive_figure", "control_label", "figure_png"]

#: Length of a slider's track, long enough to set a value to one step in a range of about a hundred steps.
SLIDER_WIDTH = "640px"


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (cropped to what is drawn)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def control_label(name: str) -> str:
    """A readable label for the keyword argument ``name``: ``"mean_current"`` -> ``"mean current"``."""
    return name.replace("_", " ").strip()


def interactive_figure(draw: Callable[..., Figure], labels: Mapping[str, str] | None = None, **controls):
    """Controls under a figure that redraw it live; a plain picture of the defaults where widgets cannot run.

    ``controls`` are ``ipywidgets.interactive`` abbreviations, e.g. ``beta=(0.5, 0.99, 0.01)`` for a slider or
    ``reset=["subtract", "zero"]`` for a drop-down (or ready-made widgets); a control starts at the default value
    of ``draw``'s keyword argument of the same name (``draw``'s other arguments keep their defaults). Each control
    is labelled with its argument's name in words
    (``mean_current`` -> "mean current") unless ``labels`` gives another label; the labels get a common width
    that fits the longest, and sliders a long track. A slider redraws when it is released.

    In a live notebook the widget's ``Output`` holds the figure as a PNG and is redrawn whenever a control
    changes. The cell's output also carries a PNG of the figure at the defaults, which a viewer without a kernel
    shows instead of the widget. An error in ``draw`` at the default values is raised here (after a later change
    it is shown in the widget's output, as a traceback).

    Args:
        draw: a function of keyword arguments returning a ``matplotlib.figure.Figure``.
        labels: optional ``{argument name: label}`` for controls whose name alone says too little.
        **controls: one widget abbreviation (or widget) per keyword argument of ``draw``.

    Returns:
        An ``ipywidgets.interactive`` widget: display it as the cell's value.
    """
    from IPython.display import Image, display
    from ipywidgets import interactive

    drawn: dict[str, object] = {}

    @functools.wraps(draw)  # so that the controls start at draw's defaults
    def redraw(**values):
        try:
            png = figure_png(draw(**values))
        except Exception as err:
            drawn.setdefault("error", err)  # the first call is at the defaults: raised below
            raise
        drawn.setdefault("png", png)
        display(Image(data=png, format="png"))  # inside the widget's Output, which interactive() has cleared

    # interactive() makes a control for every argument with a default; only the named ones should get one
    signature = inspect.signature(draw)
    redraw.__signature__ = signature.replace(
        parameters=[p for p in signature.parameters.values() if p.name in controls])

    class FigureControls(interactive):
        def _repr_mimebundle_(self, **kwargs):
            bundle = super()._repr_mimebundle_(**kwargs)
            bundle["text/plain"] = "Interactive figure: move the controls in a live notebook to redraw it."
            bundle["image/png"] = static_png
            return bundle

    widget = FigureControls(redraw, **controls)
    if "png" not in drawn:  # interactive() swallowed the exception at the defaults: raise it here
        raise drawn["error"]
    static_png = base64.b64encode(drawn["png"]).decode("ascii")

    labels = dict(labels or {})
    for control in widget.kwargs_widgets:
        name = control._kwarg
        if name in labels or control.description == name:  # our label, unless the caller built the widget
            control.description = labels.get(name, control_label(name))
    width = f"{max(len(c.description) for c in widget.kwargs_widgets) + 2}ch" if widget.kwargs_widgets else ""
    for control in widget.kwargs_widgets:
        control.style.description_width = width
        if hasattr(control, "continuous_update") and hasattr(control, "max"):  # a slider
            control.continuous_update = False  # redraw on release, not at every pixel of a drag
            control.layout.width = SLIDER_WIDTH
            control.layout.max_width = "100%"
    return widget
