"""The bench runs end to end and reports every row and column with sane values.

Timings are never asserted here (they belong to the bench); only that every runtime answered every
event, that each number exists and is positive and consistent (min <= median <= max, p50 <= p99),
and that seed-bash fails the sizes its curl argument cannot carry, with the reason.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

import pytest

from bench.runtimes import ROWS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROW_NAMES = [
    "seed-bash",
    "awslambdaric",
    "fastrt",
    "fastrt-pure",
    "fastrt-urllib3",
    "fastrt-layer",
    "floor",
    "floor-orjson",
]
SIZES = ["small", "1MiB", "5.5MiB"]
SIZES_SEED_BASH_CANNOT_POST = ["1MiB", "5.5MiB"]
# Two bench runs on a 2-core machine that other suites may load: more than the default timeout.
pytestmark = pytest.mark.timeout(600)


def _bench(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    paths = {"json": out / "bench.json", "markdown": out / "bench.md"}
    # --scale keeps the test short; every row and phase still runs.
    done = _bench("--quick", "--scale", "0.3", "--json", str(paths["json"]), "--markdown", str(paths["markdown"]), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(paths["json"].read_text()), paths["markdown"].read_text(), done.stdout


def _spread_is_sane(spread: dict) -> None:
    assert 0 < spread["min"] <= spread["median"] <= spread["max"], spread


def test_row_names_are_the_interface():
    assert list(ROWS) == ROW_NAMES


def test_every_row_is_reported(quick_run):
    doc, markdown, text = quick_run
    assert list(doc["rows"]) == ROW_NAMES
    for name in ROW_NAMES:
        assert name in markdown
        assert name in text


@pytest.mark.parametrize("name", ROW_NAMES)
def test_row_ran_and_answered_every_event(quick_run, name):
    row = quick_run[0]["rows"][name]
    assert row["error"] is None, row["error"]
    assert row["cold_starts"] >= 1
    _spread_is_sane(row["cold_start_first_next_ms"])
    _spread_is_sane(row["cold_start_first_response_ms"])
    assert row["cold_start_first_next_ms"]["min"] <= row["cold_start_first_response_ms"]["min"]
    _spread_is_sane(row["peak_rss_mib"])
    assert row["peak_rss_after_warm_mib"] > 0
    peaks = [row["peak_rss_after_mib"][size] for size in SIZES if row["peak_rss_after_mib"][size] is not None]
    assert peaks and all(peak > 0 for peak in peaks)
    if name != "seed-bash":
        # Each size's peak is read from the process of its last block, which served events of
        # that size: larger events, a larger peak. That process (5.5 MiB) also runs the throughput
        # rounds, and a VmHWM only grows. seed-bash's tree is read at one moment, its curl
        # processes come and go.
        assert peaks == sorted(peaks) and peaks[-1] <= row["peak_rss_after_warm_mib"]
    assert row["throughput_per_s"] > 0
    # At least the cold starts plus one warm-up and one measured invocation per size it can carry.
    assert row["invocations"] > row["cold_starts"] + 2


@pytest.mark.parametrize("name", ROW_NAMES)
def test_row_has_latency_and_cpu_per_size(quick_run, name):
    row = quick_run[0]["rows"][name]
    for size in SIZES:
        latency, cpu = row["latency_us"][size], row["cpu_us_per_invocation"][size]
        if name == "seed-bash" and size in SIZES_SEED_BASH_CANNOT_POST:
            assert latency == {"p50": None, "p99": None, "p99_blocks": None, "p99_pooled": None, "error": latency["error"]}
            assert "Argument list too long" in latency["error"]
            assert cpu is None
            continue
        assert latency["error"] is None
        assert 0 < latency["p50"] <= latency["p99"]
        assert cpu > 0


def test_seed_bash_failures_are_shown_not_crashed(quick_run):
    doc, markdown, text = quick_run
    assert "seed-bash 1MiB: fails:" in text
    assert "fails" in markdown


def _per_trial_ratio(rows: dict, name: str, baseline: str) -> float:
    mine = rows[name]["cold_start_first_response_trials_ms"]
    theirs = rows[baseline]["cold_start_first_response_trials_ms"]
    assert len(mine) == len(theirs) == rows[baseline]["cold_starts"]
    return statistics.median(a / b for a, b in zip(mine, theirs))


def test_targets_compare_fastrt_with_floors_and_awslambdaric(quick_run):
    doc = quick_run[0]
    targets, rows = doc["targets"], doc["rows"]
    assert {"cold_start", "warm_cpu_small", "warm_cpu_1MiB", "peak_rss_1MiB", "peak_rss_5.5MiB"} <= set(targets)
    for name, target in targets.items():
        assert target["ratio_of_medians"] == pytest.approx(target["fastrt"] / target["baseline"]), name
        if name.startswith("cold_start"):
            # The median of the ratios of each trial's two starts (a trial starts every row once).
            mine, floor = target["row"], target["baseline_row"]
            assert target["ratio"] == pytest.approx(_per_trial_ratio(rows, mine, floor)), name
            assert target["fastrt_over_awslambdaric"] == pytest.approx(_per_trial_ratio(rows, mine, "awslambdaric"))
            assert target["awslambdaric_over_fastrt"] == pytest.approx(_per_trial_ratio(rows, "awslambdaric", mine))
            continue
        assert target["ratio"] == target["ratio_of_medians"], name
        assert target["awslambdaric_over_fastrt"] == pytest.approx(target["awslambdaric"] / target["fastrt"]), name
        assert target["fastrt_over_awslambdaric"] == pytest.approx(target["fastrt"] / target["awslambdaric"]), name
    assert statistics.median(rows["floor"]["cold_start_first_response_trials_ms"]) == pytest.approx(
        rows["floor"]["cold_start_first_response_ms"]["median"]
    )
    assert targets["cold_start"]["baseline_row"] == "floor"
    assert targets["cold_start_layer"]["row"] == "fastrt-layer"
    assert targets["warm_cpu_small"]["limit"] == 1.15
    assert targets["warm_cpu_small"]["awslambdaric_limit"] == 0.35
    assert isinstance(targets["warm_cpu_1MiB"]["met"], bool)
    assert isinstance(targets["peak_rss_5.5MiB"]["awslambdaric_met"], bool)


def test_layer_sizes_and_machine(quick_run):
    doc = quick_run[0]
    assert 0 < doc["layer"]["zip_bytes"] < doc["layer"]["unzipped_bytes"]
    assert doc["emulator_capacity_per_s"] > 0
    assert doc["machine"]["cores"] >= 1 and doc["machine"]["python"]


def test_runtimes_selects_rows_and_plot_draws(tmp_path):
    if not _has_matplotlib():
        pytest.skip("matplotlib (the plot extra) is not installed")
    out = tmp_path / "b.json"
    png = tmp_path / "b.png"
    done = _bench("--quick", "--scale", "0.1", "--runtimes", "floor,floor-orjson", "--json", str(out), "--plot", str(png), timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert list(json.loads(out.read_text())["rows"]) == ["floor", "floor-orjson"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_unknown_runtime_is_refused():
    done = _bench("--runtimes", "floor,nope", timeout=60)
    assert done.returncode == 2
    assert "nope" in done.stderr
