"""The rendered course site (``make site``) in headless Chromium: every page, as a reader opens it.

The site is served from ``build/site/html`` on 127.0.0.1. Starting at the landing page the test follows every
internal link, and on every page checks that it loads, that every picture loads and fits the page's width, that
formulas are typeset, that the console stays clean, and that no request leaves the machine; every internal link
must point at a page that exists and, where it names an anchor, at an anchor that exists on it. Solutions are
folded away (closed until clicked, and open when clicked), and the search finds the course's words.
"""

from __future__ import annotations

import functools
import http.server
import re
import socketserver
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "build" / "site" / "html"
#: A picture shown below this fraction of its own width is too small to read at the site's width.
MIN_SCALE = 0.45


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site() -> str:
    if not (HTML / "index.html").is_file():
        pytest.fail(f"no built site in {HTML}: run `make site` first (make test does)")
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def parse(path: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def local_path(url: str, site: str) -> Path | None:
    """The file under ``build/site/html`` that an address of the site serves; None for other addresses."""
    if not url.startswith(site):
        return None
    path = unquote(urlsplit(url).path)[1:]
    target = HTML / path
    return target / "index.html" if target.is_dir() or path == "" else target


def crawl(site: str) -> tuple[list[str], list[str]]:
    """Every page reachable from the landing page by internal links, and every broken internal link."""
    pages, broken, queue = [], [], [urljoin(site, "index.html")]
    seen = set(queue)
    while queue:
        url = queue.pop(0)
        path = local_path(url, site)
        pages.append(url)
        for href in parse(path).links:
            if href.startswith(("mailto:", "javascript:")):
                continue
            target = urljoin(url, href)
            if not target.startswith(site):
                continue
            page_url, _, fragment = target.partition("#")
            file = local_path(page_url, site)
            if not file.is_file():
                broken.append(f"{url}: link {href!r} points at a missing file")
                continue
            if fragment and file.suffix == ".html" and unquote(fragment) not in parse(file).ids:
                broken.append(f"{url}: link {href!r} names an anchor that {file.name} does not have")
            if file.suffix == ".html" and page_url not in seen:
                seen.add(page_url)
                queue.append(page_url)
    return pages, broken


def test_every_internal_link_resolves_and_every_notebook_has_a_page(site):
    pages, broken = crawl(site)
    assert not broken, "\n".join(broken)
    notebooks = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    reached = {Path(urlsplit(u).path).stem for u in pages if "/notebooks/" in u}
    assert notebooks <= reached, f"no page reached for {sorted(notebooks - reached)}"
    for name in ("results", "paper", "instructors", "reference", "search"):
        assert (HTML / f"{name}.html").is_file(), name


def page_problems(page, url: str, site: str) -> list[str]:
    problems = []
    response = page.goto(url)
    if response is None or response.status != 200:
        return [f"{url}: HTTP {response.status if response else 'no response'}"]
    page.wait_for_load_state("networkidle")
    # pictures below the fold may load lazily: ask for all of them, then wait until each is decoded or failed
    images = page.evaluate("""async () => {
        const imgs = [...document.querySelectorAll('article img, main img')];
        imgs.forEach(i => { i.loading = 'eager'; });
        await Promise.all(imgs.map(i => i.decode().catch(() => null)));
        const main = document.querySelector('article') || document.querySelector('main');
        const width = main.getBoundingClientRect().width;
        return imgs.map(i => ({src: (i.getAttribute('src') || '').slice(0, 80), ok: i.complete && i.naturalWidth > 0,
                               shown: i.getBoundingClientRect().width, natural: i.naturalWidth, room: width}));
    }""")
    for image in images:
        if not image["ok"]:
            problems.append(f"{url}: a picture does not load: {image['src']}")
        elif image["shown"] > image["room"] + 1:
            problems.append(f"{url}: a picture is wider than the page ({image['shown']:.0f} > {image['room']:.0f} px)")
        elif image["natural"] > 0 and image["shown"] / image["natural"] < MIN_SCALE:
            problems.append(f"{url}: a picture is shown at {image['shown'] / image['natural']:.0%} of its size, "
                            f"too small to read: {image['src']}")
    if page.locator(".math").count():
        page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=30_000)
        if page.locator("mjx-merror, .MathJax_Error").count():
            problems.append(f"{url}: MathJax could not typeset a formula")
    problems += [f"{url}: {p}" for p in page.log.problems(site.rstrip("/"))]
    return problems


def test_every_page_loads_its_pictures_and_formulas_offline_with_a_clean_console(page, site):
    pages, _ = crawl(site)
    problems = []
    for url in pages:
        page.log.console.clear()
        page.log.errors.clear()
        page.log.requests.clear()
        problems += page_problems(page, url, site)
    assert not problems, "\n".join(problems)


def test_solutions_are_folded_until_clicked(page, site):
    checked = 0
    for path in sorted((HTML / "notebooks").glob("*.html")):
        page.goto(urljoin(site, f"notebooks/{path.name}"))
        solutions = page.locator("details", has=page.locator("summary", has_text=re.compile("Solution")))
        for k in range(solutions.count()):
            details = solutions.nth(k)
            assert not details.evaluate("d => d.open"), f"{path.name}: solution {k + 1} is open before a click"
            code = details.locator("pre")
            assert code.count() and not code.first.is_visible(), f"{path.name}: solution {k + 1} shows its code"
            details.locator("summary").click()
            assert code.first.is_visible(), f"{path.name}: solution {k + 1} does not open on a click"
            checked += 1
    assert checked >= len(list((ROOT / "notebooks").glob("*.ipynb"))), f"only {checked} folded solutions found"


def test_search_finds_the_course(page, site):
    page.goto(urljoin(site, "search.html?q=forget+gate"))
    results = page.locator("#search-results a")
    results.first.wait_for(timeout=30_000)
    found = {Path(urlsplit(results.nth(k).get_attribute("href")).path).stem for k in range(results.count())}
    assert "03_grsn" in found, found
    assert not page.log.problems(site.rstrip("/"))
