# Two set-up commands, both safe on a fresh machine:
#   make demo   creates .venv when needed, installs xai-tf, runs the demo on the embedded synthetic data
#   make test   the same install step, then ruff, the test suite and the documentation (strict)
# The install step reruns whenever setup.cfg or setup.py changes (the stamp file is older than them).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.xai-tf-installed

export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

.PHONY: demo test docs lint install clean mutate

$(STAMP): setup.cfg setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -e ".[dev,docs]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/xai-tf demo --out runs/demo

test: $(STAMP)
	$(BIN)/ruff check xai_tf tests benchmarks docs
	$(BIN)/python -m pytest -q tests
	$(MAKE) docs

# The site in build/docs (open build/docs/index.html). Strict: a warning (a broken reference, a bad
# docstring, a notebook that fails) fails the build. Examples and notebooks are recomputed only when
# the package's code, the notebooks or docs/examples.py change; -E re-reads every page (docstrings too).
docs: $(STAMP)
	$(BIN)/sphinx-build -E -W --keep-going -q -b html docs build/docs

lint: $(STAMP)
	$(BIN)/ruff check xai_tf tests benchmarks docs

# Mutation testing (a developer tool, not part of `make test`): cosmic-ray on a copy of the package
# (build/mutate/work), each module's mutants running only its tests; MUTANTS sampled per module,
# BUDGET seconds in all; report in build/mutate/report.json. MUTATE_VENV may name a separate
# environment for the tool (its dependencies then stay out of .venv).
MUTATE_VENV ?= $(VENV)
MUTANTS ?= 12
BUDGET ?= 2400
MODULES ?=
mutate: $(STAMP)
	test -x $(MUTATE_VENV)/bin/python || $(PYTHON) -m venv $(MUTATE_VENV)
	$(MUTATE_VENV)/bin/python -m pip install -q -r requirements-mutate.txt
	$(MUTATE_VENV)/bin/python tools/mutate.py --python $(abspath $(BIN)/python) --mutants $(MUTANTS) \
		--budget $(BUDGET) --modules "$(MODULES)"

clean:
	rm -rf $(VENV) runs .pytest_cache build docs/_generated
