# The developers' entry points (students need none of them: README, "Install"). All are idempotent: each environment
# is (re)built only when pyproject.toml or constraints.txt changes, and both install the exact versions of
# constraints.txt (pip install -c constraints.txt), torch as its CPU build.
#   make test           - everything CI runs (.ci/run): lint (ruff); the unit tests and every notebook, natively and
#                         again under MKL_CBWR=AVX2; the course site; the browser suite; the student check. Every
#                         part runs even when an earlier one fails (make -k), and make test fails if any did.
#   make lint           - ruff on the package, tests, scripts and notebooks
#   make unit           - the unit tests and doctests (make unit-avx2: the same under MKL_CBWR=AVX2)
#   make notebooks      - every notebook top to bottom under nbval (make notebooks-avx2: under MKL_CBWR=AVX2)
#   make student-check  - a second, fresh environment (.venv-student) with the student install only
#                         (pip install -e ".[lab]", none of the developers' tools) runs notebook 01 with its own
#                         jupyter nbconvert
#   make site           - the course site: the saved notebooks rendered to HTML in build/site/ (offline, nothing re-executed)
#   make student        - the student copy in build/student/ (scripts/student_copy.py): the notebooks without their
#                         solutions, the package without grsn_edu/course/solutions, data/; hand out the whole folder
#   make browser        - the browser suite alone (JupyterLab and the site in headless Chromium)
#   make lab            - the developers' environment, then JupyterLab on notebooks/
#   make bench          - the speed benchmark of the cores
#   make clean          - remove both environments
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STUDENT_VENV := .venv-student
STUDENT_STAMP := $(STUDENT_VENV)/.installed
CONSTRAINTS := constraints.txt
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
PYTEST_UNIT := -m pytest -q tests --ignore=tests/browser --doctest-modules grsn_edu
PYTEST_NOTEBOOKS := -m pytest -q --nbval-lax --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider notebooks
# MKL_CBWR=AVX2 makes MKL (torch's CPU kernels) take its AVX2 code path instead of the one it picks for this CPU
# (AVX-512 on most servers), so that a result that holds only on this CPU's kernels fails in CI, not on a laptop.
AVX2 := MKL_CBWR=AVX2

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

# One part at a time, even under make -j: the parts share the CPU (timings, timeouts) and build/.
.NOTPARALLEL:

.PHONY: test lint unit unit-avx2 notebooks notebooks-avx2 student-check student browser chromium site lab bench clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) --upgrade pip
	$(call install_cpu_torch,$(BIN))
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev,peer,site,ray]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	touch $(STAMP)

test: $(STAMP) chromium
	$(MAKE) --keep-going lint unit unit-avx2 notebooks notebooks-avx2 site browser student-check

lint: $(STAMP)
	$(BIN)/ruff check .

unit: $(STAMP)
	$(BIN)/python $(PYTEST_UNIT)

unit-avx2: $(STAMP)
	$(AVX2) $(BIN)/python $(PYTEST_UNIT) -p no:cacheprovider

notebooks: $(STAMP)
	$(BIN)/python $(PYTEST_NOTEBOOKS)

notebooks-avx2: $(STAMP)
	$(AVX2) $(BIN)/python $(PYTEST_NOTEBOOKS)

# The student's environment, built from scratch: the README's pip route (CPU torch, then the package with the extra
# 'lab'), with constraints.txt so that it holds the versions tested.
$(STUDENT_STAMP): pyproject.toml $(CONSTRAINTS)
	rm -rf $(STUDENT_VENV)
	$(PYTHON) -m venv $(STUDENT_VENV)
	$(STUDENT_VENV)/bin/python -m pip install --quiet -c $(CONSTRAINTS) --upgrade pip
	$(call install_cpu_torch,$(STUDENT_VENV)/bin)
	$(STUDENT_VENV)/bin/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[lab]"
	touch $(STUDENT_STAMP)

# Notebook 01 run by the student environment's own jupyter: its kernel is that environment's Python (the kernel
# list must show it inside .venv-student), none of the developers' tools is installed there, torch is the CPU
# build, and PYTHONPATH is cleared, so nothing of .venv can stand in for a missing dependency.
student-check: $(STUDENT_STAMP)
	$(STUDENT_VENV)/bin/python -c "import importlib.metadata as m, torch; \
	  dev = [p for p in ('pytest', 'nbval', 'ruff', 'playwright', 'sphinx', 'ray', 'stable-baselines3') \
	         if any(d.metadata['Name'].lower() == p for d in m.distributions())]; \
	  assert not dev, f'developers tools in the student environment: {dev}'; \
	  assert torch.version.cuda is None, 'torch is a CUDA build'"
	$(STUDENT_VENV)/bin/jupyter kernelspec list | grep -q "python3 *$(CURDIR)/$(STUDENT_VENV)/"
	rm -rf build/student-check
	env -u PYTHONPATH $(STUDENT_VENV)/bin/jupyter nbconvert --to notebook --execute \
	  --output-dir build/student-check notebooks/01_lif_basics.ipynb
	@echo "student check passed: notebook 01 ran in $(STUDENT_VENV) (build/student-check/01_lif_basics.ipynb)"

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

# The student copy: written next to build/student and moved into place when complete (tests/test_student_copy.py)
student: $(STAMP)
	$(BIN)/python scripts/student_copy.py --out build/student

# --allow-root: JupyterLab refuses to start as root (as in a container) without it
lab: $(STAMP)
	@echo "JupyterLab is starting; open the http://127.0.0.1:8888/lab?token=... address it prints below."
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=8888 --no-browser $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cores.py

clean:
	rm -rf $(VENV) $(STUDENT_VENV)
