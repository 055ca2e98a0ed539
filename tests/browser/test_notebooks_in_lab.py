"""Every notebook in JupyterLab, as a student uses it: open it, Run All, move every control of every figure.

A notebook passes if it opens saved (no unsaved changes) with every saved picture loading; if "Run All" runs
every code cell without an error; if every interactive figure (``interactive_figure``: controls above an
``Output``) shows a real picture at its defaults and a different picture after each control is moved, never a
traceback, with labels that are not cut off and sliders long enough to set; if every other widget ``Output``
(``live_figure``) ends with a picture; and if the browser console stays free of errors and warnings and no request
leaves the machine. nbval cannot see any of this: it only runs the kernel.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
#: How long "Run All" may take for one notebook (the slowest runs about two minutes here).
RUN_ALL_TIMEOUT_MS = 900_000
#: How long one redraw of an interactive figure may take.
REDRAW_TIMEOUT_MS = 60_000
#: A slider track shorter than this cannot be set to one step in a hundred with a mouse.
MIN_TRACK_PX = 300


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


#: The notebook on show (JupyterLab keeps other documents' panels in the page, hidden).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def open_notebook(page, lab, name: str) -> None:
    """Open ``notebooks/NAME`` alone in a fresh workspace, and wait until its kernel is idle."""
    page.goto(lab.url(f"lab/workspaces/{name.split('.')[0]}/tree/notebooks/{name}", "reset"))
    page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=120_000)
    page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\|\s*Idle")).first.wait_for(timeout=120_000)


def run_all(page) -> None:
    """Run > Run All Cells, then wait until every code cell has its execution count."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # the saved notebook already shows execution counts: first see the cells queued ([*]), then wait for them
    page.wait_for_function("panel => [...document.querySelectorAll(panel + ' .jp-InputPrompt')]"
                           ".some(p => p.textContent.includes('*'))", arg=PANEL, timeout=60_000, polling=100)
    page.wait_for_function(
        """panel => {
            const prompts = [...document.querySelectorAll(panel + ' .jp-CodeCell .jp-InputPrompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent)
                                                        && !p.textContent.includes('*'));
        }""", arg=PANEL, timeout=RUN_ALL_TIMEOUT_MS, polling=1000)
    page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\|\s*Idle")).first.wait_for(timeout=60_000)


def save(page, lab, name: str) -> dict:
    """Save the notebook from the browser and return the file as saved."""
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
                           timeout=60_000)
    return json.loads((lab.root / "notebooks" / name).read_text())


def broken_images(page) -> list[str]:
    """Output pictures that did not load (a placeholder, not a picture)."""
    return page.eval_on_selector_all(
        f"{PANEL} .jp-OutputArea-output img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0))"
                                     ".map(i => (i.src || '').slice(0, 80))")


def figure_problems(page, where: str, figure) -> list[str]:
    """Move each control of one interactive figure and check the picture after each move."""
    problems = []
    output = figure.locator(".widget-output").first
    figure.scroll_into_view_if_needed()

    def picture():
        image = output.locator("img")
        if image.count() != 1:
            return None
        image.evaluate("i => i.decode()")
        return image.get_attribute("src"), pixels(output.screenshot())

    def traceback():
        text = output.inner_text()
        return "Traceback" in text or "Error" in text

    first = picture()
    if first is None or first[1].std() < 1:
        return [f"{where}: no picture at the defaults"]
    labels = figure.locator(".widget-label")
    for k in range(labels.count()):
        cut = labels.nth(k).evaluate("l => l.scrollWidth > l.clientWidth + 1")
        if cut:
            problems.append(f"{where}: the label {labels.nth(k).inner_text()!r} is cut off")
    previous = first
    controls = figure.locator(".widget-slider, .widget-dropdown")
    for k in range(controls.count()):
        control = controls.nth(k)
        control.scroll_into_view_if_needed()  # a tall figure can leave its controls under the toolbar
        label = control.locator(".widget-label").inner_text()
        if "widget-dropdown" in (control.get_attribute("class") or ""):
            select = control.locator("select")
            options = select.locator("option")
            current = select.evaluate("s => s.selectedIndex")
            select.select_option(index=(current + 1) % options.count())
        else:
            track = control.locator(".noUi-base").bounding_box()
            handle = control.locator(".noUi-handle").bounding_box()
            shown = page.locator(f"{PANEL} .jp-WindowedPanel-outer").bounding_box()
            if not shown["y"] <= handle["y"] and handle["y"] + handle["height"] <= shown["y"] + shown["height"]:
                problems.append(f"{where}: the slider {label!r} cannot be brought into view to be moved")
                continue
            if track["width"] < MIN_TRACK_PX:
                problems.append(f"{where}: the slider {label!r} is {track['width']:.0f} px long")
            x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
            fraction = (x - track["x"]) / track["width"]
            target = track["x"] + track["width"] * (0.2 if fraction > 0.5 else 0.8)
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(target, y, steps=8)
            page.mouse.up()
        try:
            page.wait_for_function("([el, src]) => { const i = el.querySelector('img'); return i && i.src !== src; }",
                                   arg=[output.element_handle(), previous[0]], timeout=REDRAW_TIMEOUT_MS)
        except Exception:
            problems.append(f"{where}: moving {label!r} did not redraw the figure"
                            + (" (the output shows an error)" if traceback() else ""))
            continue
        now = picture()
        if now is None:
            problems.append(f"{where}: after moving {label!r} the output holds no single picture")
            continue
        if traceback():
            problems.append(f"{where}: after moving {label!r} the output shows an error")
        same_size = now[1].shape == previous[1].shape
        if same_size and not np.abs(now[1] - previous[1]).any():
            problems.append(f"{where}: moving {label!r} did not change a pixel of the figure")
        previous = now
    return problems


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab_and_its_figures_respond(lab_page, lab, name):
    page = lab_page
    problems = []
    open_notebook(page, lab, name)
    page.wait_for_timeout(1000)
    if page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count():
        problems.append("the notebook opens with unsaved changes")
    problems += [f"a saved picture does not load: {src}" for src in broken_images(page)]

    run_all(page)
    saved = save(page, lab, name)
    code_cells = 0
    for i, cell in enumerate(saved["cells"]):
        if cell["cell_type"] != "code":
            continue
        code_cells += 1
        if cell.get("execution_count") != code_cells:  # a fresh kernel, every cell in order: 1, 2, 3, ...
            problems.append(f"cell {i} has execution count {cell.get('execution_count')}, not {code_cells}: "
                            "Run All did not run every cell in order")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i} shows {out['ename']}: {out['evalue']}")

    figures = page.locator(f"{PANEL} .jp-OutputArea-output .widget-interact")
    for k in range(figures.count()):
        problems += figure_problems(page, f"interactive figure {k + 1}", figures.nth(k))
    others = page.locator(f"{PANEL} .jp-OutputArea-output .widget-output:not(.widget-interact .widget-output)")
    for k in range(others.count()):
        if others.nth(k).locator("img").count() == 0:
            problems.append(f"output widget {k + 1} (outside an interactive figure) holds no picture")
    problems += [f"after running: a picture does not load: {src}" for src in broken_images(page)]
    problems += page.log.problems(lab.base)
    assert not problems, f"{name}:\n" + "\n".join(problems)
