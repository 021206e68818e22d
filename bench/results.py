"""Samples -> the bench's JSON document: medians, percentiles, per-invocation CPU, the issue-2 targets.

Schema (every number may be null when its row or cell failed; see ``error`` fields):

    {"machine": {...}, "command": str, "profile": {...}, "emulator_capacity_per_s": float,
     "rows": {"<row>": {
         "cold_start_first_next_ms": {"median", "min", "max"},
         "cold_start_first_response_ms": {"median", "min", "max"},
         "cold_start_first_response_trials_ms": [float],  # one per trial, in trial order
         "latency_us": {"small"|"1MiB"|"5.5MiB": {"p50", "p99", "p99_blocks": [float], "p99_pooled", "error"}},
         "cpu_us_per_invocation": {"small", "1MiB", "5.5MiB"},
         "throughput_per_s": float,
         "peak_rss_mib": {"median", "min", "max"},      # VmHWM after the first event, per cold start
         "peak_rss_after_warm_mib": float,             # VmHWM after all warm sizes (5.5 MiB events)
         "peak_rss_after_mib": {"small"|"1MiB"|"5.5MiB": float},  # VmHWM right after that size
         "cold_starts": int, "invocations": int,        # how many were run and checked
         "error": null | str}},
     "targets": {"<target>": {"metric", "row", "fastrt", "baseline_row", "baseline", "ratio", "limit", "met",
                              "ratio_of_medians", "awslambdaric", "awslambdaric_over_fastrt",
                              "fastrt_over_awslambdaric", "awslambdaric_limit", "awslambdaric_met"}},
     "layer": {"zip", "zip_bytes", "unzipped_bytes"} | null}

Latency percentiles are per block (one process each); ``p50`` and ``p99`` are the medians over
blocks, ``p99_pooled`` the p99 of all blocks' samples together.

A target's ``ratio`` is ``fastrt / baseline`` (``ratio_of_medians``), except for cold starts: there
it is the median over trials of the two rows' ratio within the trial (see :func:`cold_start_ratio`),
and so are the ÷ awslambdaric ratios.
"""

from __future__ import annotations

import math
import statistics

from bench.events import SIZES
from bench.schedule import RowSamples, RunSamples


def _spread(values: list[float]) -> dict | None:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _percentile(sorted_values: list[float], fraction: float) -> float:
    # Nearest rank: an observed value, never an interpolation between two.
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def _latency(row: RowSamples, size: str) -> dict:
    # Percentiles are taken within each block (one process), and the row's figure is their
    # median over blocks, as for CPU: pooled, one process's bad luck set a row's p99 (one
    # block of eight at 366 us against 73-96 us for the rest made a pooled p99 of 115 us).
    error = row.size_errors.get(size)
    blocks = [sorted(s * 1e6 for s in block.latencies_s) for block in row.blocks[size] if block.latencies_s]
    if error is not None or not blocks:
        return {"p50": None, "p99": None, "p99_blocks": None, "p99_pooled": None, "error": error or row.error or "not measured"}
    p99_blocks = [_percentile(samples, 0.99) for samples in blocks]
    return {
        "p50": statistics.median(_percentile(samples, 0.50) for samples in blocks),
        "p99": statistics.median(p99_blocks),
        "p99_blocks": p99_blocks,
        "p99_pooled": _percentile(sorted(s for samples in blocks for s in samples), 0.99),
        "error": None,
    }


def _cpu_per_invocation_us(row: RowSamples, size: str) -> float | None:
    # The median over blocks: one noisy block (a neighbour's burst) cannot move it.
    per_block = [block.cpu_s / block.count * 1e6 for block in row.blocks[size] if block.count]
    if size in row.size_errors or not per_block:
        return None
    return statistics.median(per_block)


def summarise_row(row: RowSamples) -> dict:
    cold_ok = row.error is None
    return {
        "cold_start_first_next_ms": _spread([c.first_next_s * 1e3 for c in row.cold]) if cold_ok else None,
        "cold_start_first_response_ms": _spread([c.first_response_s * 1e3 for c in row.cold]) if cold_ok else None,
        "cold_start_first_response_trials_ms": [c.first_response_s * 1e3 for c in row.cold] if cold_ok else None,
        "latency_us": {size: _latency(row, size) for size in SIZES},
        "cpu_us_per_invocation": {size: _cpu_per_invocation_us(row, size) if cold_ok else None for size in SIZES},
        "throughput_per_s": statistics.median(row.throughput) if cold_ok and row.throughput else None,
        "peak_rss_mib": _spread([c.peak_rss_mib for c in row.cold]) if cold_ok else None,
        "peak_rss_after_warm_mib": row.warm_peak_rss_mib if cold_ok else None,
        "peak_rss_after_mib": {size: row.peak_rss_after_mib.get(size) if cold_ok else None for size in SIZES},
        "cold_starts": len(row.cold),
        "invocations": row.invocations + len(row.cold),
        "error": row.error,
    }


# Issue 2's targets: (name, what is compared, the fastrt row measured, the floor row it is
# compared with, the limit of fastrt ÷ that floor, the limit of fastrt ÷ awslambdaric); None where
# the issue sets none. cold_start_layer is fastrt started as Lambda starts it (no runpy, which
# `python -m` costs every interpreter before any of its own code runs).
TARGETS = [
    ("cold_start", "cold start, launch -> first response, median ms", "fastrt", "floor", 1.2, 0.8),
    ("cold_start_layer", "cold start from the layer, median ms", "fastrt-layer", "floor", 1.2, 0.8),
    ("warm_cpu_small", "runtime CPU per invocation, small event, us", "fastrt", "floor-orjson", 1.15, 0.35),
    ("warm_cpu_1MiB", "runtime CPU per invocation, 1 MiB event, us", "fastrt", "floor-orjson", 1.10, 0.30),
    ("warm_cpu_5.5MiB", "runtime CPU per invocation, 5.5 MiB event, us", "fastrt", "floor-orjson", None, None),
    ("latency_p50_small", "warm latency p50, small event, us", "fastrt", "floor-orjson", None, None),
    ("latency_p99_small", "warm latency p99, small event, us", "fastrt", "floor-orjson", None, 0.5),
    ("peak_rss_1MiB", "peak RSS after the 1 MiB events, MiB", "fastrt", "floor-orjson", None, 1.0),
    ("peak_rss_5.5MiB", "peak RSS after the 5.5 MiB events, MiB", "fastrt", "floor-orjson", None, 1.0),
]


def _target_value(rows: dict, name: str, target: str) -> float | None:
    row = rows.get(name)
    if row is None or row["error"]:
        return None
    if target.startswith("cold_start"):
        return row["cold_start_first_response_ms"]["median"]
    if target.startswith("warm_cpu_"):
        return row["cpu_us_per_invocation"][target[len("warm_cpu_") :]]
    if target.startswith("peak_rss_"):
        return row["peak_rss_after_mib"][target[len("peak_rss_") :]]
    return row["latency_us"]["small"]["p99" if target == "latency_p99_small" else "p50"]


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def cold_start_ratio(row: dict | None, baseline: dict | None) -> float | None:
    """How many times ``baseline``'s cold start ``row``'s takes: the median of their ratios per trial.

    A trial starts every row once, back to back, so the two starts of a trial share the
    machine's state of the moment. Cold starts here are bimodal (the floor's: ~16 or ~21 ms) and
    the two starts of a trial correlate (0.3-0.8): a ratio of the two rows' medians, each taken
    over all trials, mixes modes and scatters more from run to run around the same centre.
    """
    if row is None or baseline is None or row["error"] or baseline["error"]:
        return None
    pairs = zip(row["cold_start_first_response_trials_ms"], baseline["cold_start_first_response_trials_ms"])
    ratios = [mine / theirs for mine, theirs in pairs if theirs > 0]
    return statistics.median(ratios) if ratios else None


def _met(ratio: float | None, limit: float | None) -> bool | None:
    return None if ratio is None or limit is None else ratio <= limit


def targets(rows: dict) -> dict:
    """fastrt against its floor and against awslambdaric, each with issue 2's limit, per target."""
    out = {}
    for target, metric, fastrt_row, baseline_row, limit, awslambdaric_limit in TARGETS:
        fastrt = _target_value(rows, fastrt_row, target)
        baseline = _target_value(rows, baseline_row, target)
        awslambdaric = _target_value(rows, "awslambdaric", target)
        ratio_of_medians = _ratio(fastrt, baseline)
        if target.startswith("cold_start"):
            mine, reference = rows.get(fastrt_row), rows.get("awslambdaric")
            ratio = cold_start_ratio(mine, rows.get(baseline_row))
            over_awslambdaric = cold_start_ratio(mine, reference)
            awslambdaric_over_fastrt = cold_start_ratio(reference, mine)
        else:
            ratio = ratio_of_medians
            over_awslambdaric = _ratio(fastrt, awslambdaric)
            awslambdaric_over_fastrt = _ratio(awslambdaric, fastrt)
        out[target] = {
            "metric": metric,
            "row": fastrt_row,
            "fastrt": fastrt,
            "baseline_row": baseline_row,
            "baseline": baseline,
            "ratio": ratio,
            "limit": limit,
            "met": _met(ratio, limit),
            "ratio_of_medians": ratio_of_medians,
            "awslambdaric": awslambdaric,
            "awslambdaric_over_fastrt": awslambdaric_over_fastrt,
            "fastrt_over_awslambdaric": over_awslambdaric,
            "awslambdaric_limit": awslambdaric_limit,
            "awslambdaric_met": _met(over_awslambdaric, awslambdaric_limit),
        }
    return out


def document(samples: RunSamples, machine: dict, command: str, profile: dict) -> dict:
    rows = {name: summarise_row(row) for name, row in samples.rows.items()}
    layer = samples.layer
    return {
        "machine": machine,
        "command": command,
        "profile": profile,
        "emulator_capacity_per_s": samples.emulator_capacity_per_s,
        "rows": rows,
        "targets": targets(rows),
        "layer": None
        if layer is None
        else {"zip": layer.zip_path, "zip_bytes": layer.zip_bytes, "unzipped_bytes": layer.unzipped_bytes},
    }
