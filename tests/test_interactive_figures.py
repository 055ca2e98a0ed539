"""Every interactive figure of the notebooks, run in a real kernel: it draws at its defaults and after every change.

For each notebook cell that builds a slider figure (``interactive_figure(...)``), the
test executes, in a fresh kernel through nbclient, the notebook's own cells that the figure cell needs (found
from the names it uses), then the figure cell itself, unchanged. nbclient plays the part of the browser: it
routes what the kernel displays inside an ``ipywidgets.Output`` into that widget and syncs it back to the kernel,
as JupyterLab does. Probe cells then read the Output widget's ``outputs`` in the kernel, move each control in
turn, and read them again. A figure passes if its Output holds a PNG at the defaults, a different PNG after each
change, and never a traceback; if its controls carry readable labels; and if the cell's saved output also has a
static PNG for viewers without a kernel (nbval, GitHub).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from notebook_cells import needed_cells

nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipywidgets")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FIGURE_CALL = re.compile(r"\binteractive_figure\(")
REPORT = "INTERACTIVE-FIGURE-REPORT "


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


# -- every figure of the notebooks, in a kernel: the probe cells --------------------------------------------------
PROBE_SETUP = f'''
import hashlib as _hashlib
import json as _json

import ipywidgets as _ipywidgets

_figure_widget = Out.get({{count}})  # the value of the figure cell just run (its execution count)


def _descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)


def _figure_report(tag):
    if not isinstance(_figure_widget, _ipywidgets.Widget):
        print("{REPORT}" + _json.dumps({{"tag": tag, "widget": repr(_figure_widget)[:200]}}))
        return
    parts = list(_descendants(_figure_widget))
    outputs = [o for w in parts if isinstance(w, _ipywidgets.Output) for o in w.outputs]
    controls = [w for w in parts if isinstance(w, _ipywidgets.ValueWidget)]
    print("{REPORT}" + _json.dumps({{
        "tag": tag,
        "widget": type(_figure_widget).__name__,
        "output_widgets": sum(isinstance(w, _ipywidgets.Output) for w in parts),
        "pngs": [_hashlib.sha256(o["data"]["image/png"].encode()).hexdigest()
                 for o in outputs if "image/png" in o.get("data", {{}})],
        "errors": [o.get("ename", "") + ": " + o.get("evalue", "") for o in outputs
                   if o.get("output_type") == "error"],
        "controls": [{{"type": type(w).__name__, "description": w.description,
                      "description_width": getattr(getattr(w, "style", None), "description_width", ""),
                      "value": repr(w.value)}} for w in controls],
    }}))


def _move_control(k):
    """Give control k another valid value: the other end of a slider's range, the next option of a drop-down."""
    w = [w for w in _descendants(_figure_widget) if isinstance(w, _ipywidgets.ValueWidget)][k]
    if hasattr(w, "options") and hasattr(w, "index"):
        w.index = (w.index + 1) % len(w.options)
    elif hasattr(w, "max") and hasattr(w, "min"):
        w.value = w.max if w.value != w.max else w.min
    elif isinstance(w.value, bool):
        w.value = not w.value
    else:
        raise TypeError(f"the test does not know how to move a {{type(w).__name__}}")


def _figure_widget_label(k):
    w = [w for w in _descendants(_figure_widget) if isinstance(w, _ipywidgets.ValueWidget)][k]
    return f"{{w.description}} = {{w.value!r}}"


_figure_report("defaults")
'''


def _reports(cell) -> list[dict]:
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    return [json.loads(line[len(REPORT):]) for line in text.splitlines() if line.startswith(REPORT)]


def _width_fits(width: str, label: str) -> bool:
    """Whether a CSS description width leaves room for the label (about 1ch per character, 7px per character).

    An unset width is ipywidgets' default of 80px, room for about 11 characters.
    """
    if width in ("initial", "auto"):
        return True
    width = width or "80px"
    match = re.fullmatch(r"([\d.]+)(ch|px|em)", width or "")
    if not match:
        return False
    size = float(match.group(1)) * {"ch": 1.0, "em": 1.8, "px": 1 / 7}[match.group(2)]
    return size >= len(label)


@pytest.mark.parametrize("notebook", NOTEBOOKS_WITH_FIGURES)
def test_every_interactive_figure_redraws_in_a_kernel(notebook):
    source = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    targets = figure_cells(NOTEBOOKS / notebook)
    keep = sorted({i for t in targets for i in needed_cells(source.cells, t)})
    nb = nbformat.v4.new_notebook(metadata={k: v for k, v in source.metadata.items() if k != "widgets"})
    # Every cell here runs in seconds (the whole test takes about 10 s). On this kind of machine the client now and
    # then waits with the kernel idle until the cell's timeout and then goes on (it looks like a missed wake-up on
    # its zmq socket; not verified), so the timeout bounds the stall: 120 s keeps a real limit and a short stall.
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})

    def run(code: str):
        cell = nbformat.v4.new_code_cell(code)
        nb.cells.append(cell)
        client.execute_cell(cell, len(nb.cells) - 1)
        return cell

    reports = {}  # figure cell -> (the cell as run, [what the Output held at the defaults and after each move])
    with client.setup_kernel():
        for i in keep:
            figure = run(source.cells[i].source)
            if i not in targets:
                continue
            seen = _reports(run(PROBE_SETUP.replace("{count}", str(figure.execution_count))))
            for k in range(len(seen[0].get("controls", []))):
                run(f"_move_control({k})")  # its own cell: the Output's new state reaches the kernel in between
                seen += _reports(run(f'_figure_report(f"after moving control {k}: {{_figure_widget_label({k})}}")'))
            reports[i] = (figure, seen)

    problems = []
    for i, (figure, seen) in reports.items():
        where = f"{notebook} cell {i}"
        if not any("image/png" in o.get("data", {}) for o in figure.outputs):
            problems.append(f"{where}: the cell's saved output has no static PNG for viewers without a kernel")
        first = seen[0]
        if "controls" not in first:
            problems.append(f"{where}: the cell's value is not a widget but {first['widget']}")
            continue
        if first["output_widgets"] != 1:
            problems.append(f"{where}: expected one Output widget holding the figure, found {first['output_widgets']}")
        if not first["controls"]:
            problems.append(f"{where}: the figure has no controls")
        for control in first["controls"]:
            label = control["description"]
            if not label or "_" in label:
                problems.append(f"{where}: control {label!r} needs a readable label (words, not an argument name)")
            elif not _width_fits(control["description_width"], label):
                problems.append(f"{where}: the label {label!r} does not fit its width "
                                f"{control['description_width']!r}: it is cut off")
        previous = None
        for report in seen:
            tag = report["tag"]
            if report["errors"]:
                problems.append(f"{where}, {tag}: the Output shows an error: {report['errors']}")
            if len(report["pngs"]) != 1:
                problems.append(f"{where}, {tag}: the Output should hold one image, it holds {len(report['pngs'])}")
            elif report["pngs"][0] == previous:
                problems.append(f"{where}, {tag}: the image did not change")
            previous = report["pngs"][0] if report["pngs"] else previous
    assert not problems, "\n".join(problems)
