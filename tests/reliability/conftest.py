"""Reliability suite: fault matrix, fuzzing, hostile handlers, security, soak.

The end-to-end harness is the runtime suite's (tests/runtime/runtime_harness.py): it is loaded here
under another name and its fixtures re-exported, so both suites start runtimes the same way.
``@pytest.mark.soak`` tests run only with FASTRT_SOAK=1 (long; never in CI's default run).
"""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "runtime_harness", os.path.join(os.path.dirname(_HERE), "runtime", "runtime_harness.py")
)
runtime_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runtime_harness)
# Test modules here import its helpers with `from runtime_harness import ...`.
sys.modules.setdefault("runtime_harness", runtime_harness)

# Fixtures shared with tests/runtime (pytest finds them by name in this module).
serve = runtime_harness.serve
emulator = runtime_harness.emulator

SOAK = os.environ.get("FASTRT_SOAK", "") not in ("", "0")


def pytest_configure(config):
    config.addinivalue_line("markers", "soak: long soak/fuzz runs; only with FASTRT_SOAK=1")


def pytest_collection_modifyitems(config, items):
    if SOAK:
        return
    skip = pytest.mark.skip(reason="long run: set FASTRT_SOAK=1")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)
