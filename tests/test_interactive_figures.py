"""The interactive figure widget without a browser: it draws at its defaults, redraws on a change, labels its
controls in words, and leaves a static picture in every notebook cell that builds one (for viewers without a
kernel: nbval, a repository page, the course site). In a real browser, moving every control of every figure of
the notebooks is ``tests/browser/test_notebooks_in_lab.py``'s job."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FIGURE_CALL = re.compile(r"\binteractive_figure\(")


def figure_cells(path: Path) -> list[int]:
    """Indices of the code cells of a notebook that build an interactive figure."""
    nb = nbformat.read(path, as_version=4)
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and FIGURE_CALL.search(c.source)]


NOTEBOOKS_WITH_FIGURES = [p.name for p in sorted(NOTEBOOKS.glob("*.ipynb")) if figure_cells(p)]


# -- the widget on its own, without a kernel ---------------------------------------------------------------------
def _line_figure(**values):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, sum(v for v in values.values() if isinstance(v, (int, float)))])
    ax.set_title(repr(values))
    return fig


def test_interactive_figure_starts_at_the_defaults_redraws_and_keeps_a_static_png():
    from grsn_edu.course.plots.interactive import interactive_figure

    calls = []

    def draw(beta=0.9, mean_current=0.2, reset="subtract", steps=60):
        calls.append((beta, mean_current, reset, steps))
        return _line_figure(beta=beta, mean_current=mean_current)

    widget = interactive_figure(draw, labels={"reset": "reset mechanism"}, beta=(0.0, 0.99, 0.01),
                                mean_current=(-0.2, 1.0, 0.01), reset=["subtract", "zero"])
    assert calls == [(0.9, 0.2, "subtract", 60)]  # steps has no control: it keeps its default
    controls = widget.kwargs_widgets
    assert [c.description for c in controls] == ["beta", "mean current", "reset mechanism"]
    assert {c.style.description_width for c in controls} == {f"{len('reset mechanism') + 2}ch"}
    sliders = [c for c in controls if hasattr(c, "max")]
    assert len(sliders) == 2 and all(not c.continuous_update and c.layout.width for c in sliders)
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"].startswith("iVBOR")  # base64 of a PNG header: the figure at the defaults
    controls[0].value = 0.5
    controls[2].value = "zero"
    assert calls[-1] == (0.5, 0.2, "zero", 60)
    assert widget._repr_mimebundle_()["image/png"] == bundle["image/png"]  # the static picture stays the defaults'


def test_interactive_figure_raises_an_error_of_draw_at_the_defaults():
    from grsn_edu.course.plots.interactive import interactive_figure

    def draw(x=1.0):
        raise RuntimeError("broken figure")

    with pytest.raises(RuntimeError, match="broken figure"):
        interactive_figure(draw, x=(0.0, 2.0, 0.1))


@pytest.mark.parametrize("notebook", NOTEBOOKS_WITH_FIGURES)
def test_every_saved_interactive_figure_keeps_a_static_picture(notebook):
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    for i in figure_cells(NOTEBOOKS / notebook):
        bundles = [o.get("data", {}) for o in nb.cells[i].outputs if o.get("output_type") == "execute_result"]
        assert bundles, f"{notebook} cell {i}: the figure is not the cell's value"
        assert "image/png" in bundles[-1] and "application/vnd.jupyter.widget-view+json" in bundles[-1], \
            f"{notebook} cell {i}: the saved output needs the widget and a PNG of its defaults"
