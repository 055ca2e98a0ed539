"""The course site's sources (site/build.py): the course map is made from the notebooks and the README, the results
and reference pages from RESULTS.md and REFERENCE.md, and the hand-written page about the paper quotes only numbers
the course shows elsewhere."""

import json
import re

import pytest
from conftest import ROOT, import_file

build = import_file("site", "build")
NOTEBOOKS = {p.name: json.loads(p.read_text()) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}


def _nb(first_cell: str, cells=()):
    return {"cells": [{"cell_type": "markdown", "source": first_cell, "metadata": {}}, *cells]}


def test_builds_on_reads_the_chapters_named_in_the_opening():
    nb = _nb("# 05 · X\n\n**What it builds on:** the GRSN core (chapter 03), TAP (chapter 04) and chapters 01-02.\n\n"
             "**Running it:** 2 minutes, 10 exercises in chapter 07.")
    assert build.builds_on(nb, "05_x.ipynb") == ["01", "02", "03", "04"]  # not the 07 of the next paragraph
    assert build.builds_on(_nb("# 01\n\n**What it builds on:** PyTorch. No earlier chapter."), "01_a.ipynb") == []
    with pytest.raises(build.SiteError, match="What it builds on"):
        build.builds_on(_nb("# 02 · Y\n\nno such paragraph"), "02_y.ipynb")


def test_run_seconds_sums_the_recorded_cell_times_and_asks_for_an_executed_notebook():
    timed = {"cell_type": "code", "source": "", "metadata": {"execution": {
        "iopub.execute_input": "2026-01-01T00:00:00.000Z", "shell.execute_reply": "2026-01-01T00:00:02.500Z"}}}
    assert build.run_seconds(_nb("# t", [timed, timed]), "t.ipynb") == pytest.approx(5.0)
    untimed = {"cell_type": "code", "source": "", "metadata": {}}
    with pytest.raises(build.SiteError, match="execute the notebook"):
        build.run_seconds(_nb("# t", [timed, untimed]), "t.ipynb")


def test_every_notebook_has_its_course_map_row():
    readme = (ROOT / "README.md").read_text()
    data_pages = sorted(p.parent.name for p in (ROOT / "data").glob("*/README.md"))
    index = build.index_page(readme, NOTEBOOKS, data_pages)
    rows = [line for line in index.splitlines() if line.startswith("| [")]
    assert len(rows) == len(NOTEBOOKS)
    for name, row in zip(NOTEBOOKS, rows, strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert f"(notebooks/{name})" in cells[0] and cells[1]
        assert re.fullmatch(r"\d+ min", cells[3]) and re.fullmatch(r"\d+ s", cells[4]) and cells[5].isdigit()
    assert "nothing" in rows[0]  # chapter 01 builds on no chapter
    assert "[01](notebooks/01_" in rows[1]


def test_a_chapter_named_in_an_opening_needs_its_notebook():
    nbs = {"01_a.ipynb": _nb("# 01\n\n**What it builds on:** PyTorch."),
           "03_c.ipynb": _nb("# 03\n\n**What it builds on:** chapters 01 and 02.")}
    readme = "## The notebooks\n\n| `01_a.ipynb` | a |\n| `03_c.ipynb` | c |\n"
    with pytest.raises(build.SiteError, match="03_c.ipynb builds on chapter 02, which has no notebook"):
        build.index_page(readme, nbs, [])


def test_the_course_table_must_list_every_notebook():
    readme = (ROOT / "README.md").read_text()
    shorter = re.sub(r"^\| `08_\w+\.ipynb` .*\n", "", readme, flags=re.M)
    with pytest.raises(build.SiteError, match="no row for 08_"):
        build.index_page(shorter, NOTEBOOKS, [])


def test_results_page_links_notebooks_and_data_folders():
    text = "see `notebooks/08_pomdp_cartpole.ipynb`, `data/marl/summary.csv` and `data/nowhere/x`"
    linked = build.link_paths(text, ["08_pomdp_cartpole.ipynb"], ["marl"])
    assert "[`08_pomdp_cartpole.ipynb`](notebooks/08_pomdp_cartpole.ipynb)" in linked
    assert "[`data/marl/summary.csv`](data/marl/README.md)" in linked and "`data/nowhere/x`" in linked
    results = (ROOT / "RESULTS.md").read_text()
    page = build.results_page(results, list(NOTEBOOKS), ["marl"])
    assert page.startswith("# Results\n") and "\n## " in page and "\n# " not in page[1:]
    # the whole file: every section, the last one included
    headings = re.findall(r"^##+ .*$", results, flags=re.M)
    assert headings and headings == re.findall(r"^##+ .*$", page, flags=re.M)
    assert "## Speed of the cores" in headings


def test_document_pages_link_the_site_s_pages_and_need_one_title():
    text = ("# Reference\n\nSee [the results](RESULTS.md), [the paper](site/paper.md#claims), [the README](README.md)"
            " and [data](data/marl/README.md).\n\n```bash\n# a comment, not a heading\n```\n")
    page = build.reference_page(text, [], ["marl"])
    assert "[the results](results.md)" in page and "[the paper](paper.md#claims)" in page
    assert "[the README](index.md)" in page and "[data](data/marl/README.md)" in page
    for broken in ["no title\n", "# One\n\n# Two\n"]:
        with pytest.raises(build.SiteError, match="REFERENCE.md must open with its '# title'"):
            build.reference_page(broken, [], [])
    page = build.reference_page((ROOT / "REFERENCE.md").read_text(), list(NOTEBOOKS), ["marl"])
    assert "](RESULTS.md)" not in page and "](results.md)" in page and "](paper.md)" in page


NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?(?![\w.])")
SHOWN = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?(?!\.?\d)")  # also "3.6-4.0x", "500," ...


def test_the_paper_page_quotes_only_numbers_the_course_shows():
    """Each number of site/paper.md (5.5-13.8, 0.061, 480, ...) must appear in RESULTS.md, the README or a notebook's
    text or outputs, so that the page cannot keep a number the results no longer show."""
    page = (ROOT / "site" / "paper.md").read_text()
    page = re.sub(r"arXiv \d+\.\d+|AAAI \d+|Horowitz \d+|\d+ nm", "", page)
    shown = (ROOT / "RESULTS.md").read_text() + (ROOT / "README.md").read_text() + "".join(
        (ROOT / "notebooks" / name).read_text() for name in NOTEBOOKS)
    missing = sorted({n for n in NUMBER.findall(page) if float(n.split("-")[0]) >= 5 or "." in n}
                     - set(SHOWN.findall(shown)))
    assert not missing, f"site/paper.md quotes numbers that RESULTS.md, the README and notebooks do not show: {missing}"


def test_the_instructors_page_lists_every_exercise_with_what_its_check_tests():
    page = build.instructors_page((ROOT / "site" / "instructors.md").read_text(), NOTEBOOKS)
    assert build.EXERCISE_TABLE not in page
    rows = [line for line in page.splitlines() if re.match(r"\| \[\d\d\]\(notebooks/", line)]
    stubs = [(name, re.search(r"^(?:def|class) (\w+)", "".join(cell["source"]), flags=re.M)[1])
             for name, nb in NOTEBOOKS.items() for cell in nb["cells"]
             if cell["cell_type"] == "code" and "raise NotImplementedError" in "".join(cell["source"])]
    assert len(rows) == len(stubs) == sum(len(build.exercises(nb, name)) for name, nb in NOTEBOOKS.items())
    for (name, function), row in zip(stubs, rows):
        assert f"(notebooks/{name})" in row and f"| `{function}` |" in row, row
        assert "``" not in row and ":func:" not in row and "Returns" not in row
    assert "run time" in page and "(index.md)" in page, "the page points to the course map for run times"
    assert not re.search(r"\d+\s*(s|min|minutes|seconds)\b", page.split("## The exercises")[0]), (
        "run times are stated once, in the course map")


def test_the_instructors_page_needs_its_table_line_and_every_check():
    with pytest.raises(build.SiteError, match="exercise table"):
        build.instructors_page("# For instructors\n\nno table here\n", NOTEBOOKS)
    stub = {"cell_type": "code", "source": "def f(x):\n    raise NotImplementedError('a hint')"}
    nb = {"cells": [{"cell_type": "markdown", "source": "### Exercise 1: f"}, stub,
                    {"cell_type": "code", "source": "f = checks.check_nothing_of_the_kind(f)"}]}
    with pytest.raises(build.SiteError, match="has no check_nothing_of_the_kind"):
        build.exercise_table({"01_lif_basics.ipynb": nb})
    assert build.check_summary("Exercise 2: ``f(x)`` equals :func:`grsn_edu.g` | h.\n\n    Returns:\n  f", "w") == (
        "`f(x)` equals `grsn_edu.g` \\| h.")
