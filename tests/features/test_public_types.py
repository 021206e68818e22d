"""The public API is typed (py.typed ships): a function written against it passes
``mypy --strict``, with the decorators keeping the decorated function's type."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("mypy")

USER_FUNCTION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "typed", "user_function.py")


def test_a_strictly_typed_function_checks_clean(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path), USER_FUNCTION],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Success: no issues found in 1 source file" in run.stdout
