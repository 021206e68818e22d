# Two commands do all the set-up on a fresh machine (python3, gcc and curl needed):
#   make bench   builds the layer and runs the benchmark on the built-in emulator
#   make test    runs the whole test suite (what CI runs)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The Lambda runtimes' interpreters (python3.12, python3.13) the suites also run on, each in a
# venv of its own (.venv-X.Y): pyenv's newest X.Y, else pythonX.Y on PATH; skipped if absent.
TARGET_VERSIONS ?= 3.12 3.13
TARGET_TESTS := $(addprefix test-python,$(TARGET_VERSIONS))
PYENV_VERSIONS := $(shell pyenv root 2>/dev/null || echo /root/.pyenv)/versions
target_python = $(or $(lastword $(sort $(wildcard $(PYENV_VERSIONS)/$(1).*/bin/python$(1)))),$(shell command -v python$(1)))
BENCH_ARGS ?=

.PHONY: all venv build test test-target $(TARGET_TESTS) bench layer soak clean

all: test

# A venv with requirements-dev.txt and fastrt (editable) installed; made again when the
# requirements or the project change. $(1): the interpreter, $(2): the venv's directory.
define make_venv
	$(1) -m venv $(2)
	$(2)/bin/python -m pip install -q --upgrade pip
	$(2)/bin/python -m pip install -q -r requirements-dev.txt
	$(2)/bin/python -m pip install -q --no-build-isolation --no-deps -e . --config-settings editable_mode=compat
	touch $(2)/.requirements-installed
endef

$(VENV)/.requirements-installed: requirements-dev.txt pyproject.toml
	$(call make_venv,$(PYTHON),$(VENV))

.venv-%/.requirements-installed: requirements-dev.txt pyproject.toml
	$(call make_venv,$(call target_python,$*),.venv-$*)

venv: $(VENV)/.requirements-installed

# The compiled core, in place: fastrt.COMPILED is then True (FASTRT_PURE=1 still forces pure).
build: venv
	$(PY) setup.py -q build_ext --inplace

test: build
	$(PY) -m pytest -q tests
	FASTRT_PURE=1 $(PY) -m pytest -q tests/runtime tests/marshal
	$(MAKE) test-target

# The suites again on each Lambda target interpreter: all but the bench's compiled, the runtime
# and marshalling ones pure too (the bench measures, on whatever interpreter runs `make bench`).
test-target: $(TARGET_TESTS)

$(TARGET_TESTS): test-python%:
	@python="$(call target_python,$*)"; \
	if [ -z "$$python" ]; then echo "no python$* found: its test run is skipped"; exit 0; fi; \
	echo "== python$* ($$python)"; \
	$(MAKE) --no-print-directory .venv-$*/.requirements-installed && \
	.venv-$*/bin/python setup.py -q build_ext --inplace && \
	.venv-$*/bin/python -m pytest -q tests --ignore=tests/bench && \
	FASTRT_PURE=1 .venv-$*/bin/python -m pytest -q tests/runtime tests/marshal

layer: build
	./build-layer.sh --local --python $$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

bench: layer
	$(PY) -m bench $(BENCH_ARGS)

# 1,000,000 small invocations against one runtime process: RSS flat, nothing lost or doubled.
soak: build
	$(PY) -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf build dist fastrt/*.so fastrt/*.c
