"""The rows of the bench: how each runtime is prepared and launched.

Every row serves the same echo function against its own Runtime API emulator. Names are part of
the bench's interface (JSON keys, table rows), so they never change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from bench.prepare import Toolbox

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
APP_DIR = os.path.join(BENCH_DIR, "app")
SEED_DIR = os.path.join(BENCH_DIR, "seed")
FLOORS_DIR = os.path.join(BENCH_DIR, "floors")


@dataclass(frozen=True)
class Launch:
    """One way to start a runtime process: argv, working dir, and its Lambda handler settings."""

    argv: list[str]
    cwd: str
    handler: str
    task_root: str
    extra_env: dict[str, str] = field(default_factory=dict)


def _python_app(tools: Toolbox, args: list[str], extra_env: dict[str, str] | None = None) -> Launch:
    # `python -m X app.handler` from the task root, as in a container image.
    return Launch([tools.python, *args, "app.handler"], APP_DIR, "app.handler", APP_DIR, dict(extra_env or {}))


def _fastrt_env(tools: Toolbox, **extra: str) -> dict[str, str]:
    env = dict(extra)
    source_root = tools.fastrt_source_root()
    if source_root is not None:
        env["PYTHONPATH"] = source_root
    return env


def seed_bash(tools: Toolbox) -> Launch:
    # mktemp leaves one headers file per event behind; TMPDIR keeps them in the run's work dir.
    tmp = tools.scratch_dir("seed-tmp")
    return Launch([os.path.join(SEED_DIR, "bootstrap")], SEED_DIR, "function.handler", SEED_DIR, {"TMPDIR": tmp})


def awslambdaric(tools: Toolbox) -> Launch:
    tools.require_module_version("awslambdaric", "4.2.2")
    return _python_app(tools, ["-m", "awslambdaric"])


def fastrt(tools: Toolbox) -> Launch:
    tools.require_compiled_fastrt()
    return _python_app(tools, ["-m", "fastrt"], _fastrt_env(tools))


def fastrt_pure(tools: Toolbox) -> Launch:
    tools.require_fastrt()
    return _python_app(tools, ["-m", "fastrt"], _fastrt_env(tools, FASTRT_PURE="1"))


def fastrt_urllib3(tools: Toolbox) -> Launch:
    tools.require_compiled_fastrt()
    tools.require_module_version("urllib3", None)
    return _python_app(tools, ["-m", "fastrt"], _fastrt_env(tools, FASTRT_TRANSPORT="urllib3"))


def fastrt_layer(tools: Toolbox) -> Launch:
    # As Lambda does it: the layer's bootstrap, with the handler in _HANDLER and nothing on PYTHONPATH.
    layer = tools.layer()
    return Launch(
        [os.path.join(layer.directory, "bootstrap")], APP_DIR, "app.handler", APP_DIR, {"FASTRT_PYTHON": tools.python}
    )


def floor(tools: Toolbox) -> Launch:
    return Launch([tools.python, os.path.join(FLOORS_DIR, "floor.py")], FLOORS_DIR, "floor.handler", FLOORS_DIR)


def floor_orjson(tools: Toolbox) -> Launch:
    tools.require_module_version("orjson", None)
    return Launch([tools.python, os.path.join(FLOORS_DIR, "floor_orjson.py")], FLOORS_DIR, "floor.handler", FLOORS_DIR)


# Row name -> how to prepare and launch it (raises prepare.Unavailable when it cannot run here).
ROWS = {
    "seed-bash": seed_bash,
    "awslambdaric": awslambdaric,
    "fastrt": fastrt,
    "fastrt-pure": fastrt_pure,
    "fastrt-urllib3": fastrt_urllib3,
    "fastrt-layer": fastrt_layer,
    "floor": floor,
    "floor-orjson": floor_orjson,
}
