"""Reliability suite: fault matrix, fuzzing, hostile handlers, security, soak.

The end-to-end harness is the runtime suite's (tests/runtime/runtime_harness.py, on pytest's
pythonpath): its fixtures are re-exported here, so both suites start runtimes the same way.
``@pytest.mark.soak`` tests run only with FASTRT_SOAK=1 (long; never in CI's default run).
"""

from __future__ import annotations

import os

import pytest
from runtime_harness import emulator, serve  # noqa: F401  (fixtures shared with tests/runtime)

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
