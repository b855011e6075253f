# make demo   run every experiment of the source documents (writes demo-output/)
# make test   run the test suite (gradient checks, nn, optim, viz, demos in quick mode)
# make bench  compare speed with numpy by hand and, when installed, PyTorch
# make tutorials  execute docs/tutorials/*.ipynb and save them with their outputs
# Each target creates .venv when missing and installs the project into it.
# WITH_TORCH=1 also installs PyTorch 2.13.0 (CPU) so tests compare against it.

PYTHON ?= python3
# MNIST: a copy beside the repository (as on build machines) is used when present;
# otherwise the loader looks in ~/.cache/autodiff/mnist and then downloads.
export AUTODIFF_DATA ?= $(abspath $(wildcard ../shared/data))
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench tutorials clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[all]"
	if [ "$(WITH_TORCH)" = "1" ]; then $(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0; fi
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m demos

test: $(STAMP)
	$(PY) -m pytest autodiff nn optim demos tests

bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[all,bench]"
	$(PY) -m benchmarks

tutorials: $(STAMP)
	$(PY) docs/tutorials/run.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache .hypothesis
