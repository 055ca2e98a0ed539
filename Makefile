# Two entry points, both idempotent: the environment is (re)built only when pyproject.toml changes.
#   make test  - create .venv, install the package with its test dependencies, lint (ruff), run unit tests and every notebook
#   make lab   - the same set-up, then JupyterLab on notebooks/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test unit notebooks lab bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and exactly pinned: the CPU build (the pip config on this kind of machine finds it on disk)
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev,peer]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q tests --doctest-modules grsn_edu
	$(BIN)/python -m pytest -q --nbval-lax --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider notebooks

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests --doctest-modules grsn_edu

# --allow-root: JupyterLab refuses to start as root (as in a container) without it
lab: $(STAMP)
	@echo "JupyterLab is starting; open the http://127.0.0.1:8888/lab?token=... address it prints below."
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=8888 --no-browser $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cores.py

clean:
	rm -rf $(VENV)
