"""Soak: many small invocations through one runtime process (bench/soak.py).

CI runs a short soak (no event lost or answered twice, the process alive); the long one,
with the RSS-flat check, runs with FASTRT_SOAK=1. The full 1,000,000-event run is the
command ``python -m bench.soak`` (see tests/reliability/README.md).
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from bench.soak import run_soak  # noqa: E402  (bench/ is a top-level package of the repo)

from runtime_harness import base_env  # noqa: E402


def _env() -> dict:
    return {k: v for k, v in base_env().items() if k.startswith("FASTRT_")}


def test_short_soak_loses_and_duplicates_nothing():
    result = run_soak(4000, batch=500, env=_env())
    assert result.invocations == 4000
    assert (result.lost, result.duplicated, result.wrong) == (0, 0, 0)
    assert result.runtime_alive
    assert result.rss_start_kib > 0 and result.rss_end_kib > 0


@pytest.mark.soak
def test_long_soak_keeps_memory_flat():
    result = run_soak(int(os.environ.get("FASTRT_SOAK_INVOCATIONS", "200000")), env=_env())
    assert (result.lost, result.duplicated, result.wrong) == (0, 0, 0)
    assert result.runtime_alive
    assert result.rss_growth_kib <= 2048, result.rss_samples_kib
