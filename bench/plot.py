"""The bench as a picture: cold start and per-invocation overhead per runtime (needs matplotlib)."""

from __future__ import annotations

from bench.events import SIZES

# Above this max/min spread a linear axis squeezes the fast rows into invisible bars.
_LOG_SCALE_SPREAD = 20.0


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _use_log(axis, values: list[float]) -> None:
    positive = [v for v in values if v and v > 0]
    if positive and max(positive) / min(positive) > _LOG_SCALE_SPREAD:
        axis.set_yscale("log")


def draw(doc: dict, path: str) -> None:
    """Write a PNG with two bar charts: cold start, and CPU per invocation by event size."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    rows = {name: row for name, row in doc["rows"].items() if row["error"] is None}
    names = list(rows)
    figure, (cold_axis, cpu_axis) = plt.subplots(1, 2, figsize=(13, 5))

    medians, lower, upper = [], [], []
    for name in names:
        spread = rows[name]["cold_start_first_response_ms"]
        medians.append(spread["median"])
        lower.append(spread["median"] - spread["min"])
        upper.append(spread["max"] - spread["median"])
    cold_axis.bar(names, medians, yerr=[lower, upper], capsize=3, color="tab:blue")
    cold_axis.set_title("Cold start: launch → first response (ms, median, min–max)")
    _use_log(cold_axis, medians)

    width = 0.8 / len(SIZES)
    all_values = []
    for index, size in enumerate(SIZES):
        values = [rows[name]["cpu_us_per_invocation"][size] or 0 for name in names]
        all_values += values
        positions = [i + (index - (len(SIZES) - 1) / 2) * width for i in range(len(names))]
        cpu_axis.bar(positions, values, width, label=size)
        for position, value in zip(positions, values):
            if not value:
                cpu_axis.annotate("fails", (position, 0), xycoords=("data", "axes fraction"), xytext=(0, 3),
                                  textcoords="offset points", ha="center", rotation=90, fontsize=7)
    cpu_axis.set_xticks(range(len(names)), names)
    cpu_axis.set_title("Runtime CPU per invocation (µs; missing bar: fails)")
    cpu_axis.legend()
    _use_log(cpu_axis, all_values)

    for axis in (cold_axis, cpu_axis):
        axis.tick_params(axis="x", labelrotation=35)
    figure.suptitle("fastrt bench — %s" % doc["machine"].get("date", ""))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
