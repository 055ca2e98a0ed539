"""The notebooks as saved, the way a student first opens them: executed top to bottom in one kernel, no error, no
stray object printed, nothing fetched from the network, and a kernelspec that JupyterLab does not rewrite (which
would open the notebook with unsaved changes). The browser suite opens them for real; these checks need no browser."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: What ``python -m ipykernel install --name python3`` (the Makefile) names the kernel, and JupyterLab writes back.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
STRAY = re.compile(r"^<[\w.]+( object)? at 0x[0-9a-f]+>$|^<(Figure|matplotlib\.|torch\._C\.)")
REMOTE = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""")


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request):
    return request.param.name, json.loads(request.param.read_text())


def test_kernelspec_is_the_installed_kernels(notebook):
    name, nb = notebook
    assert nb["metadata"]["kernelspec"] == KERNELSPEC, f"{name}: {nb['metadata']['kernelspec']}"


def test_every_code_cell_ran_in_order_without_an_error(notebook):
    name, nb = notebook
    codes = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in codes] == list(range(1, len(codes) + 1)), \
        f"{name}: execute it top to bottom in a fresh kernel and save it"
    errors = [o["ename"] for c in codes for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{name}: saved with errors {errors}"


def test_no_stray_object_printed_and_nothing_fetched_from_the_network(notebook):
    name, nb = notebook
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            text = "".join(data.get("text/plain", "")).strip()
            if out["output_type"] == "execute_result" and set(data) == {"text/plain"}:
                assert not STRAY.search(text), f"{name} cell {i} prints a stray object: {text[:80]}"
            html = "".join(data.get("text/html", ""))
            assert not REMOTE.search(html), f"{name} cell {i}: its HTML output loads something from the network"
