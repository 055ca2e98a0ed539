"""Sphinx settings of the course site (``make site``; ``site/build.py`` stages the sources beside this file).

The notebooks are rendered as saved: nothing is executed. Everything a page needs is in the build folder (the
theme's files, MathJax from ``sphinx-mathjax-offline``, the figures), so the site works with no network.
"""

project = "grsn-edu"
author = "grsn-edu"
copyright = "grsn-edu"
extensions = ["myst_nb", "sphinx-mathjax-offline"]
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]

# the notebooks as saved by their last run top to bottom; the site never runs them
nb_execution_mode = "off"
# an interactive figure saves a widget view and a PNG of its defaults: the site shows the PNG (a widget needs a
# kernel, and its JavaScript would come from a CDN)
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "image/gif", 45)]
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
# a notebook prints the pickled objects' addresses etc.; warnings about them are not the site's
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

html_theme = "sphinx_book_theme"
html_title = "grsn-edu"
html_favicon = "favicon.svg"  # without one the browser asks for /favicon.ico and logs a 404
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "navigation_with_keys": False,
}
html_show_sourcelink = False
# the theme reads its light/dark mode from here; unset, its script logs an error on every page
html_context = {"default_mode": "light"}
html_last_updated_fmt = None
