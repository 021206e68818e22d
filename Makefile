# Two commands do all the set-up on a fresh machine (python3, gcc and curl needed):
#   make bench   builds the layer and runs the benchmark on the built-in emulator
#   make test    runs the whole test suite (what CI runs)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# A second interpreter (a Lambda target) the runtime tests also run on; skipped if absent.
PYTHON_TARGET ?= $(shell ls $$(pyenv root 2>/dev/null || echo /root/.pyenv)/versions/3.12*/bin/python3.12 2>/dev/null | tail -n 1)
VENV_TARGET ?= .venv-target
BENCH_ARGS ?=

.PHONY: all venv build test test-target bench layer lint soak clean

all: test

$(PY): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(PY)

venv: $(PY)

# The compiled core, in place: fastrt.COMPILED is then True (FASTRT_PURE=1 still forces pure).
build: $(PY)
	$(PY) -m pip install -q --no-build-isolation --no-deps -e . --config-settings editable_mode=compat
	$(PY) setup.py -q build_ext --inplace

test: build
	$(PY) -m pytest -q tests
	FASTRT_PURE=1 $(PY) -m pytest -q tests/runtime tests/marshal
	$(MAKE) test-target

# The runtime suites again on the Lambda target interpreter (compiled and pure modes).
test-target:
	@if [ -z "$(PYTHON_TARGET)" ]; then echo "no python3.12 found: target-interpreter run skipped"; exit 0; fi; \
	if [ ! -x $(VENV_TARGET)/bin/python ]; then \
		$(PYTHON_TARGET) -m venv $(VENV_TARGET) && \
		$(VENV_TARGET)/bin/python -m pip install -q --upgrade pip && \
		$(VENV_TARGET)/bin/python -m pip install -q -r requirements-dev.txt && \
		$(VENV_TARGET)/bin/python -m pip install -q --no-build-isolation --no-deps -e . --config-settings editable_mode=compat; \
	fi; \
	$(VENV_TARGET)/bin/python setup.py -q build_ext --inplace && \
	$(VENV_TARGET)/bin/python -m pytest -q tests/runtime && \
	FASTRT_PURE=1 $(VENV_TARGET)/bin/python -m pytest -q tests/runtime

layer: build
	./build-layer.sh --local --python $$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

bench: layer
	$(PY) -m bench $(BENCH_ARGS)

# 1,000,000 small invocations against one runtime process: RSS flat, nothing lost or doubled.
soak: build
	$(PY) -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf build dist fastrt/*.so fastrt/*.c
