"""The bench's own parts: event sizes, the echo check, process-tree CPU/RSS readings, cold-start ratios."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import procstats
from bench.events import SIZES, EchoChecker, make_events
from bench.measure import Block
from bench.results import cold_start_ratio, summarise_row
from bench.schedule import RowSamples


def test_events_have_their_exact_sizes():
    events = make_events()
    assert list(events) == list(SIZES)
    assert len(events["small"]) < 200
    assert len(events["1MiB"]) == 1024 * 1024
    assert len(events["5.5MiB"]) == int(5.5 * 1024 * 1024)


def test_echo_check_accepts_other_spacing_and_refuses_changes():
    events = make_events()
    checker = EchoChecker(events)
    compact = json.dumps(json.loads(events["small"]), separators=(",", ":")).encode()
    assert checker.problem("small", events["small"]) is None
    assert checker.problem("small", compact) is None
    assert "differs" in checker.problem("small", compact.replace(b"value1", b"value9"))
    assert "not JSON" in checker.problem("1MiB", events["1MiB"][:-1])


def _cold_row(trials_ms, error=None):
    return {"cold_start_first_response_trials_ms": trials_ms, "error": error}


def test_cold_start_ratio_pairs_the_starts_of_each_trial():
    # Bimodal starts: 1.2x in every trial but one, where the two starts fell in different modes.
    # The ratio of the two medians would read 19.2 / 25 = 0.77x.
    baseline = _cold_row([16.0, 25.0, 16.0, 25.0, 25.0])
    row = _cold_row([19.2, 30.0, 19.2, 30.0, 19.2])
    assert cold_start_ratio(row, baseline) == pytest.approx(1.2)
    assert cold_start_ratio(_cold_row([10.0, 30.0]), _cold_row([10.0, 10.0])) == 2.0  # an even count: the mean of the middle two
    assert cold_start_ratio(row, _cold_row(None, error="cold start: exited")) is None
    assert cold_start_ratio(None, baseline) is None


def test_latency_percentiles_are_per_block_then_the_median_over_blocks():
    # Five processes of 100 events each; one had a bad spell (its slowest events 400-1000 us).
    # Pooled, its ten slow events make the row's p99; per block, it is one block of five.
    row = RowSamples("fastrt")
    for block in range(5):
        base = [50e-6 + i * 1e-7 for i in range(100)]  # 50.0 .. 59.9 us
        if block == 2:
            base[-10:] = [400e-6 + i * 60e-6 for i in range(10)]
        row.blocks["small"].append(Block(base, cpu_s=0.01))
    latency = summarise_row(row)["latency_us"]["small"]
    assert latency["p99_blocks"] == pytest.approx([59.8, 59.8, 880.0, 59.8, 59.8])
    assert latency["p99"] == pytest.approx(59.8)
    assert latency["p50"] == pytest.approx(54.9)
    assert latency["p99_pooled"] == pytest.approx(640.0)  # the 6th slowest of 500: the bad block's
    assert summarise_row(row)["latency_us"]["1MiB"] == {
        "p50": None, "p99": None, "p99_blocks": None, "p99_pooled": None, "error": "not measured"
    }


def test_tree_cpu_counts_live_and_reaped_children():
    # A shell that burns CPU in a child it has already reaped, then waits: both must count.
    code = "import subprocess, sys, time; subprocess.run([sys.executable, '-c', 'sum(range(3_000_000))']); print('ok', flush=True); time.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "ok"
        assert procstats.process_tree(parent.pid)[0] == parent.pid
        assert procstats.tree_cpu_seconds(parent.pid) > 0.05
        assert procstats.tree_peak_rss_mib(parent.pid) > 1
    finally:
        parent.kill()
        parent.wait()
