# Two commands do all the set-up on a fresh machine:
#   make book   -> creates .venv, installs, builds the Jupyter Book into _build/html (index.html)
#   make test   -> creates .venv, installs, runs ruff, the unit tests and every notebook at smoke parameters
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBTEST := build/nbtest

export TQDM_DISABLE ?= 1
export PYTHONHASHSEED := 0
# the book's results store (resumable: `make book` only runs the cells that are missing), its profile, workers
RESULTS ?= $(CURDIR)/results
PROFILE ?= quick
WORKERS ?= 2
BOOKENV := HVGRAE_RESULTS=$(RESULTS) HVGRAE_PROFILE=$(PROFILE)

.PHONY: all book test lint unit notebooks reproduce clean venv

all: test

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[book,test]'
	touch $(STAMP)

# --all: every page is rebuilt, since the pages read the results store (and $(PROFILE)), which change while
# their sources do not; Sphinx would otherwise keep the pages of the last build.
# OMP_NUM_THREADS=1: the chapters that train a model in the page are then bit-reproducible; with several threads
# PyG's sparse aggregation adds in no fixed order and training amplifies it (test AUCs moved in the second decimal
# between two builds). The runner's workers already use one thread each when there are as many workers as cores.
book: $(STAMP)
	$(BOOKENV) $(BIN)/hvgrae reproduce --profile $(PROFILE) --results $(RESULTS) --workers $(WORKERS)
	$(BOOKENV) OMP_NUM_THREADS=1 $(BIN)/jupyter-book build . -W -n --keep-going --all
	@echo "HTML: $(CURDIR)/_build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

unit: $(STAMP)
	$(BIN)/pytest tests -q

# notebooks: converted from their py:percent sources into an ignored folder, run by nbmake at the smoke
# parameters given in each parameters cell's `nbmake.mock` metadata
notebooks: $(STAMP)
	rm -rf $(NBTEST) && mkdir -p $(NBTEST)
	for f in notebooks/*.py; do $(BIN)/jupytext --quiet --to ipynb -o $(NBTEST)/$$(basename $$f .py).ipynb $$f; done
	HVGRAE_RESULTS=$(CURDIR)/$(NBTEST)/results $(BIN)/pytest --nbmake $(NBTEST) -q -p no:cacheprovider

test: lint unit notebooks

# the paper's settings (all data sets found, 100 epochs, 5 seeds): hours on 2 cores
reproduce: $(STAMP)
	$(MAKE) book PROFILE=full

clean:
	rm -rf _build build
