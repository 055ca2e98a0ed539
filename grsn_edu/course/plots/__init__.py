"""Figures for the notebooks, one module per topic (``grsn_edu.course.plots.neurons``, ``...memory``, ...).

Every function returns the matplotlib ``Figure`` (or draws on a given ``Axes``), with a title, labelled axes
(with units) and a legend where there is more than one line, so that a figure reads without the code.
"""

import matplotlib.pyplot as plt

#: One colour per core, used by every figure so that a core keeps its colour across the course.
CORE_COLORS = {
    "mlp": "#7f7f7f",
    "gru": "#1f77b4",
    "lif": "#ff7f0e",
    "grsn": "#2ca02c",
    "rleaky": "#9467bd",
    "slstm": "#8c564b",
    "grsn-notap": "#17becf",
    "grsn-eq17": "#d62728",
    "grsn-first-release": "#e377c2",
    "random": "#bcbd22",
}


def core_color(name: str) -> str:
    """The course-wide colour of a core (grey for names it does not know)."""
    return CORE_COLORS.get(name, "#333333")


__all__ = ["CORE_COLORS", "core_color", "plt"]
