# make demo      run every experiment of the source documents (writes demo-output/)
# make test      the test suite: gradient checks, nn, optim, drawings, notebooks, the demos
#                in quick mode (slow full-length runs excluded); a few minutes
# make test-all  the full-length accuracy runs (marked slow) and the README's numbers
#                against a fresh run of every demo; about 10 minutes
# make bench     compare speed with numpy by hand and, when installed, PyTorch
# make tutorials execute docs/tutorials/*.ipynb and save them with their outputs
# make lab       open the tutorials in JupyterLab (installs the `lab` extra)
# Each target creates .venv when missing and installs the project into it.
# WITH_TORCH=1 also installs PyTorch 2.13.0 (CPU) so tests compare against it; it is
# honoured on every run, also when .venv already exists.

PYTHON ?= python3
# MNIST: a copy beside the repository (as on build machines) is used when present;
# otherwise the loader looks in ~/.cache/autodiff/mnist and then downloads.
export AUTODIFF_DATA ?= $(abspath $(wildcard ../shared/data))
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
STAMP := $(VENV)/.installed
TORCH_STAMP := $(VENV)/.torch-installed
LAB_STAMP := $(VENV)/.lab-installed
INSTALLED := $(STAMP) $(if $(filter 1,$(WITH_TORCH)),$(TORCH_STAMP))

.PHONY: demo test test-all bench tutorials lab clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e ".[all]"
	touch $(STAMP)

$(TORCH_STAMP): $(STAMP)
	$(PIP) torch==2.13.0
	touch $(TORCH_STAMP)

$(LAB_STAMP): $(STAMP)
	$(PIP) -e ".[all,lab]"
	touch $(LAB_STAMP)

demo: $(INSTALLED)
	$(PY) -m demos

test: $(INSTALLED)
	$(PY) -m pytest autodiff nn optim demos tests

test-all: $(INSTALLED)
	$(PY) -m pytest tests -m slow

bench: $(INSTALLED)
	$(PIP) -e ".[all,bench]"
	$(PY) -m benchmarks

tutorials: $(INSTALLED)
	$(PY) docs/tutorials/run.py

lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab docs/tutorials

clean:
	rm -rf $(VENV) demo-output .pytest_cache .hypothesis
