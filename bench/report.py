"""The bench document as text tables (stdout), as Markdown (README), and as JSON.

Both renderings come from one list of tables, so they always show the same numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bench.events import SIZES
from bench.results import cold_start_ratio


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]


def _number(value: float | None, unit_decimals: int = 1) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return "{:,.0f}".format(value)
    if abs(value) >= 100:
        return "%.0f" % value
    return "%.*f" % (unit_decimals, value)


def _spread(spread: dict | None) -> str:
    if spread is None:
        return "–"
    return "%s [%s–%s]" % (_number(spread["median"]), _number(spread["min"]), _number(spread["max"]))


def _times(value: float | None) -> str:
    return "–" if value is None else "%.2f×" % value


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _failed(row: dict) -> bool:
    return row["error"] is not None


def _cold_table(rows: dict) -> Table:
    floor = rows.get("floor")
    body = []
    for name, row in rows.items():
        if _failed(row):
            body.append([name, "error", "error", "–", "–", "–", "–"])
            continue
        response = row["cold_start_first_response_ms"]
        body.append([
            name,
            _spread(row["cold_start_first_next_ms"]),
            _spread(response),
            _times(cold_start_ratio(row, floor)),
            _spread(row["peak_rss_mib"]),
            _number(row["peak_rss_after_mib"]["1MiB"]),
            _number(row["peak_rss_after_mib"]["5.5MiB"]),
        ])
    headers = [
        "runtime", "launch → 1st /next ms", "launch → 1st response ms", "÷ floor", "peak RSS MiB",
        "peak after 1MiB", "peak after 5.5MiB",
    ]
    return Table("Cold start (median [min–max]; ÷ floor: the median of the ratios per trial)", headers, body)


def _cell(row: dict, size: str, key: str) -> str:
    latency = row["latency_us"][size]
    if _failed(row):
        return "error"
    if latency["error"] is not None:
        return "fails"
    return _number(latency[key])


def _latency_table(rows: dict) -> Table:
    headers = ["runtime"] + ["%s %s" % (size, key) for size in SIZES for key in ("p50", "p99")]
    body = [[name] + [_cell(row, size, key) for size in SIZES for key in ("p50", "p99")] for name, row in rows.items()]
    title = (
        "Warm latency per invocation, µs (server side: /next answer written → response read; "
        "percentiles per process, median over processes)"
    )
    return Table(title, headers, body)


def _cpu_table(rows: dict) -> Table:
    headers = ["runtime"] + ["CPU µs %s" % size for size in SIZES] + ["throughput /s"]
    body = []
    for name, row in rows.items():
        cpu = [
            "error" if _failed(row) else "fails" if row["latency_us"][size]["error"] else _number(row["cpu_us_per_invocation"][size])
            for size in SIZES
        ]
        body.append([name] + cpu + ["error" if _failed(row) else _number(row["throughput_per_s"])])
    return Table("Runtime CPU (user+system, whole process tree) per invocation, and throughput", headers, body)


def _ratio_table(rows: dict) -> Table | None:
    fastrt = rows.get("fastrt")
    if fastrt is None or _failed(fastrt):
        return None

    def metrics(row: dict) -> list[float | None]:
        return [row["latency_us"]["small"]["p50"], *[row["cpu_us_per_invocation"][size] for size in SIZES]]

    base = metrics(fastrt)
    headers = ["runtime", "cold start", "latency p50 small"] + ["CPU %s" % size for size in SIZES] + ["throughput"]
    body = []
    for name, row in rows.items():
        if name == "fastrt":
            continue
        if _failed(row):
            body.append([name] + ["error"] * (len(headers) - 1))
            continue
        cells = [_times(cold_start_ratio(row, fastrt))]
        cells += [_times(_ratio(value, reference)) for value, reference in zip(metrics(row), base)]
        cells.append(_times(_ratio(fastrt["throughput_per_s"], row["throughput_per_s"])))
        body.append([name] + cells)
    return Table("Each runtime ÷ fastrt (above 1×: fastrt is that many times faster / cheaper)", headers, body)


def _verdict(met: bool | None) -> str:
    return "–" if met is None else ("met" if met else "MISSED")


def _limit(limit: float | None) -> str:
    return "–" if limit is None else "≤ %.2f×" % limit


def _targets_table(targets: dict) -> Table:
    body = []
    for name, target in targets.items():
        body.append([
            name,
            _number(target["fastrt"]),
            "%s %s" % (target["baseline_row"], _number(target["baseline"])),
            _times(target["ratio"]),
            _limit(target["limit"]),
            _verdict(target["met"]),
            _number(target["awslambdaric"]),
            _times(target["fastrt_over_awslambdaric"]),
            _limit(target["awslambdaric_limit"]),
            _verdict(target["awslambdaric_met"]),
        ])
    headers = [
        "target", "fastrt", "floor", "fastrt ÷ floor", "limit", "", "awslambdaric", "fastrt ÷ awslambdaric", "limit", "",
    ]
    return Table("Targets (issue 2)", headers, body)


def tables(doc: dict) -> list[Table]:
    rows = doc["rows"]
    found = [_cold_table(rows), _latency_table(rows), _cpu_table(rows), _ratio_table(rows), _targets_table(doc["targets"])]
    return [table for table in found if table is not None]


def notes(doc: dict) -> list[str]:
    """Errors, failed sizes and the facts printed under the tables."""
    lines = []
    for name, row in doc["rows"].items():
        if row["error"]:
            lines.append("%s: error: %s" % (name, row["error"]))
            continue
        for size in SIZES:
            reason = row["latency_us"][size]["error"]
            if reason:
                lines.append("%s %s: fails: %s" % (name, size, reason))
    layer = doc["layer"]
    if layer:
        lines.append(
            "layer %s: %.2f MiB zipped, %.2f MiB unzipped"
            % (layer["zip"].rsplit("/", 1)[-1], layer["zip_bytes"] / 2**20, layer["unzipped_bytes"] / 2**20)
        )
    lines.append("emulator capacity: %s invocations/s (its own client, no runtime)" % _number(doc["emulator_capacity_per_s"]))
    lines.append(
        "cold-start ratios: the median over trials of the two starts' ratio in each trial (a trial starts every row once)"
    )
    return lines


def _header_lines(doc: dict) -> list[str]:
    machine = doc["machine"]
    return [
        "fastrt bench, %s" % machine.get("date", "?"),
        "machine: %s, %s cores, %s; python: %s" % (machine.get("cpu"), machine.get("cores"), machine.get("kernel"), machine.get("python")),
        "command: %s" % doc["command"],
    ]


def _text_table(table: Table) -> str:
    widths = [max(len(row[i]) for row in [table.headers] + table.rows) for i in range(len(table.headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths)))

    return "\n".join([table.title, line(table.headers), line(["-" * w for w in widths])] + [line(r) for r in table.rows])


def as_text(doc: dict) -> str:
    parts = ["\n".join(_header_lines(doc))] + [_text_table(table) for table in tables(doc)]
    parts.append("\n".join(notes(doc)))
    return "\n\n".join(parts) + "\n"


def _markdown_table(table: Table) -> str:
    lines = ["**%s**" % table.title, "", "| " + " | ".join(table.headers) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(table.headers) - 1)) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    return "\n".join(lines)


def as_markdown(doc: dict) -> str:
    header = ["```", *_header_lines(doc), "```"]
    parts = ["\n".join(header)] + [_markdown_table(table) for table in tables(doc)]
    parts.append("\n".join("- " + note for note in notes(doc)))
    return "\n\n".join(parts) + "\n"


def as_json(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
