"""What the numbers were measured on: CPU, cores, kernel, interpreter, and the compared versions."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess

from bench.prepare import Toolbox, minimal_environ


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _first_line(argv: list[str], extra_env: dict[str, str] | None = None) -> str | None:
    try:
        done = subprocess.run(argv, env={**minimal_environ(), **(extra_env or {})}, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else None


def describe(tools: Toolbox) -> dict:
    root = tools.fastrt_source_root()
    fastrt_env = {"PYTHONPATH": root} if root else {}
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "kernel": "%s %s" % (platform.system(), platform.release()),
        "python": _first_line([tools.python, "-c", "import sys; print(sys.version.split()[0])"]),
        "python_path": tools.python,
        "fastrt": _first_line([tools.python, "-m", "fastrt", "--version"], fastrt_env),
        "awslambdaric": _first_line([tools.python, "-c", "import importlib.metadata as m; print(m.version('awslambdaric'))"]),
        "bash": _first_line(["bash", "--version"]),
        "curl": _first_line(["curl", "--version"]),
    }
