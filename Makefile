# Entry points, all idempotent: the environment is (re)built only when pyproject.toml or constraints.txt changes, with
# the exact versions of constraints.txt (pip install -c constraints.txt), torch as its CPU build.
#   make test  - create .venv, install the package with its test dependencies, lint (ruff), run unit tests and every
#                notebook, build the course site, then the browser suite (JupyterLab and the site in headless Chromium)
#   make site  - the course site: the saved notebooks rendered to HTML in build/site/ (offline, nothing re-executed)
#   make lab   - the same set-up, then JupyterLab on notebooks/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := constraints.txt
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu

# torch's CPU build, asked for by name, into the environment whose bin/ is $(1). constraints.txt pins torch to
# 2.13.0+cpu (not on macOS, where the plain build is the CPU build), which PyTorch's CPU index has and PyPI has not,
# so pip can never take PyPI's CUDA build of several GB instead. Only torch itself is looked up on that index
# (--no-deps: its dependencies come from PyPI in the next step), with no retries and a 30 s timeout: a network that
# cannot reach the index costs one failed look-up, then pip takes the wheel from elsewhere (this machine's pip
# configuration finds 2.13.0+cpu on disk). With the index on every package and pip's default 5 retries, each
# package cost 8 s here, about 20 minutes for the developers' environment.
define install_cpu_torch
$(1)/python -m pip install --quiet -c $(CONSTRAINTS) --no-deps --retries 0 --timeout 30 \
	  --extra-index-url $(TORCH_CPU_INDEX) torch
endef

.PHONY: test unit browser chromium site lab bench clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) --upgrade pip
	$(call install_cpu_torch,$(BIN))
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev,peer,site,ray]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	touch $(STAMP)

test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q tests --ignore=tests/browser --doctest-modules grsn_edu
	$(BIN)/python -m pytest -q --nbval-lax --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider notebooks
	$(MAKE) site
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests --ignore=tests/browser --doctest-modules grsn_edu

# The browser suite: JupyterLab and the course site in headless Chromium (screenshots of failures in build/browser/)
browser: $(STAMP) chromium site
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

# Debian's Chromium for the browser suite (Playwright drives it; no browser can be downloaded): installed here where
# apt-get can run as root, otherwise the command to run is printed and make stops. Never skipped.
chromium:
	@if [ -x "$${GRSN_EDU_CHROMIUM:-/usr/bin/chromium}" ] || command -v chromium > /dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	  echo "installing Debian's chromium for the browser suite"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium > /dev/null; \
	else \
	  echo "The browser suite needs Chromium. Install it (Debian/Ubuntu: sudo apt-get install chromium), or set"; \
	  echo "GRSN_EDU_CHROMIUM=/path/to/chromium-or-chrome, then run make test again."; exit 1; \
	fi

site: $(STAMP)
	$(BIN)/python site/build.py

# --allow-root: JupyterLab refuses to start as root (as in a container) without it
lab: $(STAMP)
	@echo "JupyterLab is starting; open the http://127.0.0.1:8888/lab?token=... address it prints below."
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=8888 --no-browser $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cores.py

clean:
	rm -rf $(VENV)
