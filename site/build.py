"""Build the course site from the saved notebooks, offline: ``make site`` (or ``.venv/bin/python site/build.py``).

The notebooks are rendered as they were saved after their last run top to bottom; nothing is executed. The
script stages the sources in ``build/site/src``: ``site/conf.py`` and ``site/*.md`` (hand-written pages), the
notebooks, the README of every ``data/`` folder, and three generated pages:

* ``index.md``, the landing page: the README's opening paragraphs and the course map, one row per notebook with what
  it teaches (the README's table under "The notebooks"), what it builds on (the chapters its opening names under
  "What it builds on"), its reading time (words of prose at 200 words a minute), its run time (the sum of its cells'
  execution times as recorded in the saved notebook) and its number of exercises;
* ``results.md``: the whole of ``RESULTS.md``;
* ``reference.md``: the whole of ``REFERENCE.md`` (the package, the command line, the developers' tools);
* in the hand-written ``instructors.md``, the table of every exercise (notebook, title, the function the student
  writes, what its check tests, from the check's docstring), written where the page has :data:`EXERCISE_TABLE`.

On the two pages made from top-level files, every path of a notebook or of a ``data/`` folder written as code
becomes a link to its page, and a link to ``README.md``, ``RESULTS.md``, ``REFERENCE.md`` or ``site/paper.md``
becomes a link to the page made from it.

Then Sphinx (myst-nb, sphinx-book-theme) writes HTML to ``build/site/html``; open ``build/site/html/index.html``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
WORDS_PER_MINUTE = 200
#: Links between the repository's top-level documents, and the site's page for each.
SITE_PAGES = {"README.md": "index.md", "RESULTS.md": "results.md", "REFERENCE.md": "reference.md",
              "site/paper.md": "paper.md", "site/instructors.md": "instructors.md", "site/glossary.md": "glossary.md"}
#: The line of ``site/instructors.md`` that the exercise table replaces.
EXERCISE_TABLE = "<!-- exercise table: site/build.py writes it here -->"


class SiteError(RuntimeError):
    """The sources do not have what the site is built from; the message says what to fix."""


def notebook_title(nb: dict) -> str:
    first = "".join(nb["cells"][0]["source"])
    match = re.match(r"#\s+(.+)", first)
    if not match:
        raise SiteError("a notebook's first cell must start with its '# title'")
    return match.group(1).strip()


def builds_on(nb: dict, name: str) -> list[str]:
    """The chapters (two-digit numbers) the notebook's opening names after "What it builds on"."""
    first = "".join(nb["cells"][0]["source"])
    match = re.search(r"\*\*What it builds on:?\*\*:?(.*?)(\n\n|$)", first, flags=re.S)
    if not match:
        raise SiteError(f"{name}: its first cell has no '**What it builds on:**' paragraph for the course map")
    own = name[:2]
    return sorted({n for n in re.findall(r"\b(0[1-9]|[1-9]\d)\b", match.group(1)) if n < own})


def reading_minutes(nb: dict) -> int:
    words = sum(len("".join(c["source"]).split()) for c in nb["cells"] if c["cell_type"] == "markdown")
    return max(1, round(words / WORDS_PER_MINUTE))


def run_seconds(nb: dict, name: str) -> float:
    """Sum of the code cells' execution times recorded in the saved notebook (nbclient's cell metadata)."""
    total = 0.0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        times = cell.get("metadata", {}).get("execution", {})
        try:
            start = datetime.fromisoformat(times["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(times["shell.execute_reply"].replace("Z", "+00:00"))
        except KeyError as err:
            raise SiteError(f"{name}: a code cell has no recorded execution time; execute the notebook top to "
                            "bottom (jupyter nbconvert --to notebook --execute --inplace) and save it") from err
        total += (end - start).total_seconds()
    return total


def exercises(nb: dict, name: str) -> list:
    """The exercises of notebook ``name`` (:func:`grsn_edu.course.exercises.notebook_exercises`), or a SiteError."""
    from grsn_edu.course.exercises import ExerciseFormatError, notebook_exercises

    try:
        return notebook_exercises(nb, name)
    except ExerciseFormatError as err:
        raise SiteError(str(err)) from None


def readme_course_table(readme: str) -> dict[str, str]:
    """``{notebook file: what it teaches}`` from the README's table under "## The notebooks"."""
    section = readme.split("## The notebooks", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\d\d_[\w]+\.ipynb)` \| (.+?) \|$", section, flags=re.M)
    if not rows:
        raise SiteError("README.md: no course table (| `NN_name.ipynb` | what it teaches |) under '## The notebooks'")
    return dict(rows)


def link_paths(text: str, notebooks: list[str], data_pages: list[str]) -> str:
    """Turn `notebooks/NN_x.ipynb`, `NN_x.ipynb` and `data/folder/...` code spans into links to their pages."""
    def notebook_link(match):
        name = match.group(1)
        return f"[`{name}`](notebooks/{name})" if name in notebooks else match.group(0)

    def data_link(match):
        folder, rest = match.group(1), match.group(2)
        if folder not in data_pages:
            return match.group(0)
        return f"[`data/{folder}/{rest}`](data/{folder}/README.md)"

    text = re.sub(r"`(?:notebooks/)?(\d\d_\w+\.ipynb)`", notebook_link, text)
    return re.sub(r"`data/(\w+)/([^`]*)`", data_link, text)


def link_pages(text: str) -> str:
    """Turn markdown links to the repository's documents (``](RESULTS.md)``, ``](site/paper.md#x)``, ...) into links to
    their pages on the site."""
    names = "|".join(re.escape(name) for name in SITE_PAGES)
    return re.sub(rf"\]\(({names})(#[^)]*)?\)", lambda m: f"]({SITE_PAGES[m.group(1)]}{m.group(2) or ''})", text)


def check_summary(doc: str | None, where: str) -> str:
    """What a check tests, from its docstring: the text before ``Returns:``, without its "Exercise N:" and with
    reStructuredText's roles and double backquotes turned into markdown code, on one line of a table."""
    if not doc:
        raise SiteError(f"{where}: the check has no docstring to say what it tests")
    text = " ".join(doc.split("Returns:", 1)[0].split())
    text = re.sub(r"^Exercise \d+:\s*", "", text)
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text).replace("``", "`")
    return text.replace("|", "\\|")


def exercise_table(notebooks: dict[str, dict]) -> str:
    """The markdown table of every exercise of ``notebooks`` (``{file name: notebook}``): where it is, what the student
    writes and what its check tests."""
    import importlib

    from grsn_edu.course.exercises import chapter_module

    rows = []
    for name, nb in notebooks.items():
        found = exercises(nb, name)
        module = f"grsn_edu.course.checks.{chapter_module(name)}"
        checks = importlib.import_module(module) if found else None
        for exercise in found:
            where = f"{name}, exercise {exercise.number}"
            check = getattr(checks, exercise.check, None)
            if check is None:
                raise SiteError(f"{where}: {module} has no {exercise.check}")
            rows.append(f"| [{name[:2]}](notebooks/{name}) | {name[:2]}.{exercise.number} {exercise.title} | "
                        f"`{exercise.name}` | {check_summary(check.__doc__, where)} |")
    return "\n".join(["| notebook | exercise | the student writes | the check tests |", "|---|---|---|---|", *rows])


def instructors_page(text: str, notebooks: dict[str, dict]) -> str:
    """``site/instructors.md`` with the exercise table in place of its :data:`EXERCISE_TABLE` line."""
    if text.count(EXERCISE_TABLE) != 1:
        raise SiteError(f"site/instructors.md must hold the line {EXERCISE_TABLE} once, where the exercise table goes")
    return text.replace(EXERCISE_TABLE, exercise_table(notebooks))


def index_page(readme: str, notebooks: dict[str, dict], data_pages: list[str]) -> str:
    teaches = readme_course_table(readme)
    missing = sorted(set(notebooks) - set(teaches))
    if missing:
        raise SiteError(f"README.md's course table has no row for {', '.join(missing)}")
    intro = readme.split("\n## ", 1)[0].split("\n", 1)[1].strip()
    def chapter_link(number: str, name: str) -> str:
        found = [k for k in notebooks if k.startswith(f"{number}_")]
        if not found:
            raise SiteError(f"{name} builds on chapter {number}, which has no notebook in notebooks/")
        return f"[{number}](notebooks/{found[0]})"

    rows = []
    for name, nb in notebooks.items():
        needs = ", ".join(chapter_link(n, name) for n in builds_on(nb, name)) or "nothing"
        rows.append(f"| [{notebook_title(nb)}](notebooks/{name}) | {teaches[name]} | {needs} | "
                    f"{reading_minutes(nb)} min | {run_seconds(nb, name):.0f} s | {len(exercises(nb, name))} |")
    pages = "\n".join([f"notebooks/{n}" for n in notebooks]
                      + ["results", "paper", "instructors", "glossary", "reference"]
                      + [f"data/{d}/README" for d in data_pages])
    return f"""# grsn-edu: spiking neural networks for reinforcement learning

{intro}

## The course map

Read the notebooks in order. *Builds on* lists the chapters each one uses; *reading* counts its prose at
{WORDS_PER_MINUTE} words a minute; *runs in* is the time its cells took when it was last executed top to bottom on one
CPU (2 cores). Each exercise has a check cell; its solution is folded under the check, one click away.

| notebook | what it teaches | builds on | reading | runs in | exercises |
|---|---|---|---:|---:|---:|
{chr(10).join(rows)}

Beside the chapters: [the results](results.md) (every table of the course with the command that prints it),
[the paper and this course](paper.md) (what the paper claims, what its authors' code does, what this course
measured), [the instructors' page](instructors.md) (prerequisites, core and optional chapters, a three-week plan,
what each exercise checks, the student copy), [the glossary](glossary.md) (every term the course uses, with the
chapter that teaches it), [the reference](reference.md) (the package, the command line, the
developers' tools) and the `data/` folders behind every result:
 {", ".join(f"[{d}](data/{d}/README.md)" for d in data_pages)}.

To run the notebooks yourself, in a clone of the repository: `pip install torch --index-url
https://download.pytorch.org/whl/cpu` (torch's CPU build), then `pip install -e ".[lab]"` and
`jupyter lab notebooks/`. The README's Install section gives the students' routes (pip, conda); the developers'
(make) is in [the reference](reference.md).

```{{toctree}}
:hidden:
:maxdepth: 1

{pages}
```
"""


def document_page(text: str, name: str, notebooks: list[str], data_pages: list[str]) -> str:
    """A site page from a top-level document (``RESULTS.md``, ``REFERENCE.md``): the whole file, one ``# title`` and
    its sections, with its paths and links turned into links to the site's pages."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # a "# comment" in a code block is no heading
    if not text.startswith("# ") or re.search(r"^# ", prose[1:], flags=re.M):
        raise SiteError(f"{name} must open with its '# title' and have no other top-level heading")
    return link_pages(link_paths(text, notebooks, data_pages))


def results_page(results: str, notebooks: list[str], data_pages: list[str]) -> str:
    return document_page(results, "RESULTS.md", notebooks, data_pages)


def reference_page(reference: str, notebooks: list[str], data_pages: list[str]) -> str:
    return document_page(reference, "REFERENCE.md", notebooks, data_pages)


def stage(src: Path) -> None:
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    readme, results, reference = ((ROOT / name).read_text() for name in ("README.md", "RESULTS.md", "REFERENCE.md"))
    notebooks = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebooks[path.name] = json.loads(path.read_text())
        shutil.copy2(path, src / "notebooks" / path.name)
    if not notebooks:
        raise SiteError("notebooks/ holds no notebook")
    data_pages = sorted(p.parent.name for p in (ROOT / "data").glob("*/README.md"))
    for folder in data_pages:
        (src / "data" / folder).mkdir(parents=True)
        text = (ROOT / "data" / folder / "README.md").read_text()
        (src / "data" / folder / "README.md").write_text(text)
    for page in SITE.glob("*.md"):
        shutil.copy2(page, src / page.name)
    (src / "instructors.md").write_text(link_pages(link_paths(instructors_page(
        (SITE / "instructors.md").read_text(), notebooks), list(notebooks), data_pages)))
    for name in ("conf.py", "favicon.svg"):
        shutil.copy2(SITE / name, src / name)
    (src / "index.md").write_text(index_page(readme, notebooks, data_pages))
    (src / "results.md").write_text(results_page(results, list(notebooks), data_pages))
    (src / "reference.md").write_text(reference_page(reference, list(notebooks), data_pages))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site",
                        help="build folder (default build/site): sources in OUT/src, HTML in OUT/html")
    args = parser.parse_args(argv)
    try:
        stage(args.out / "src")
    except SiteError as err:
        print(f"site: {err}", file=sys.stderr)
        return 2
    html = args.out / "html"
    tmp = args.out / "html.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    # -W: a broken reference or a missing picture fails the build instead of leaving a page with a hole in it
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-d", str(args.out / "doctrees"),
           str(args.out / "src"), str(tmp)]
    if subprocess.run(cmd).returncode != 0:
        print("site: sphinx-build failed (messages above)", file=sys.stderr)
        return 1
    if html.exists():
        shutil.rmtree(html)
    tmp.rename(html)  # the previous site stays whole until the new one is complete
    print(f"site: open {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
