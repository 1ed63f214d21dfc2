# lossref: every target creates .venv and installs requirements.txt on first use.
# The stamp file makes later runs skip the install until requirements or pyproject change.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8000
# extra arguments for `make lab`, e.g. make lab ARGS="--port 8890 --no-browser"
ARGS   ?=
# pytest-xdist workers for make test
JOBS   ?= 2

# Once torch is imported, NumPy's OpenBLAS threads and torch's OpenMP threads spin against each
# other on a small machine (a 17 ms linear_cross_entropy took 1.07 s): tests and notebook runs
# give NumPy's BLAS one thread (make bench sets its own threads per case).
test execute: export OPENBLAS_NUM_THREADS = 1
# Bytecode caches (__pycache__, gitignored) even where the environment sets PYTHONDONTWRITEBYTECODE
# (as some containers do): otherwise every pytest process, kernel and subprocess compiles lossref and
# re-rewrites the test modules' asserts from source, ~4 core-s per pytest process.
test execute: export PYTHONDONTWRITEBYTECODE =

.PHONY: book test execute serve lab bench clean distclean venv browser pdf pdf-check pdf-fonts

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || { echo ">> creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo ">> installing requirements into $(VENV) (first run: a few minutes)"
	$(PY) -m pip install --progress-bar off -r requirements.txt
	@touch $(STAMP)

## make book: build the site into _build/html with warnings as errors (-W -n --keep-going);
## incremental after a clean build, from scratch otherwise (book/_tools/build_site.py)
book: $(STAMP)
	$(PY) book/_tools/build_site.py
	@echo ">> open _build/html/index.html, or run 'make serve'"

## make test: unit + parity tests, doctests, nbval on every notebook, browser tests
# The browser tests (one file: one worker, about a minute) are listed first so that they start at
# once and the other worker takes everything else, instead of starting last and running alone.
# Each notebook runs in a fresh kernel forked from a process that has already imported torch
# (tests/nbkernel.py, tests/kernels/lossref-warm): 44 kernels no longer import it 44 times.
test: $(STAMP) browser
	$(PY) -m pytest -n $(JOBS) --dist loadfile --durations=10 \
	    --doctest-modules \
	    --nbval -p tests.nbkernel --nbval-kernel-name lossref-warm --nbval-sanitize-with tests/nbval_sanitize.cfg \
	    --ignore-glob='book/*/scripts/*' \
	    tests/test_site.py src/lossref tests book/en book/zh

## make execute: re-run every book notebook in place, in order, and store the outputs
execute: $(STAMP)
	$(PY) book/_tools/execute.py

serve:
	@test -d _build/html || { echo "no _build/html yet: run 'make book' first"; exit 1; }
	$(PYTHON) -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

## make lab: JupyterLab on the notebooks; as root (containers) with --allow-root; ARGS="..." passed on
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=book $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(ARGS)

## make pdf: _build/pdf/lossref-en.pdf and lossref-zh.pdf, printed from the site by chromium, then checked
pdf: book browser pdf-fonts
	$(PY) book/_tools/make_pdf.py

## make pdf-check: only check the PDFs (pages, text in each language, fonts, images, bookmarks)
pdf-check: $(STAMP)
	$(PY) book/_tools/make_pdf.py --check-only

# The Chinese PDF needs a TrueType CJK font (see book/_tools/make_pdf.py): Debian's WenQuanYi Micro Hei.
pdf-fonts:
	@fc-list : family 2>/dev/null | grep -q "WenQuanYi Micro Hei" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo ">> installing Debian's fonts-wqy-microhei for the Chinese PDF"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; \
	  else \
	    echo "!! the Chinese PDF needs a TrueType CJK font. Install it with:"; \
	    echo "!!   sudo apt-get install -y fonts-wqy-microhei"; \
	  fi; }

## make bench: lossref vs torch (speed, memory) into benchmarks/results.json, then what
## lossref.watch costs a small training step
bench: $(STAMP)
	$(PY) benchmarks/run.py
	$(PY) benchmarks/watch_overhead.py

# Browser tests drive Debian's chromium (Playwright's own browser download does not work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo ">> installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "!! chromium is not installed: the browser tests will fail. Install it with:"; \
	    echo "!!   sudo apt-get install -y chromium"; \
	  fi; }

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
