"""Fixtures for the layer tests: the layer built once per session with ``build-layer.sh --local``
for the running Python, and unpacked into a temporary directory standing in for /opt."""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
import zipfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON_VERSION = "%d.%d" % sys.version_info[:2]
FUNCTION_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "function")


def load_build_module():
    """layer/build_layer.py as a module (layer/ is not a package)."""
    spec = importlib.util.spec_from_file_location("build_layer", os.path.join(REPO, "layer", "build_layer.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def build_layer():
    return load_build_module()


@pytest.fixture(scope="session")
def layer_zip(tmp_path_factory) -> str:
    """Build the layer exactly as CI and users do; fail with the build's output if it fails."""
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [os.path.join(REPO, "build-layer.sh"), "--local", "--python", PYTHON_VERSION, "--dist", str(dist)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout
    assert "glibc check:" in done.stdout and "size budget:" in done.stdout, done.stdout
    arch = "arm64" if os.uname().machine in ("aarch64", "arm64") else "x86_64"
    path = dist / ("fastrt-python%s-%s.zip" % (PYTHON_VERSION, arch))
    assert path.is_file(), done.stdout
    return str(path)


def unpack(zip_path: str, target: str) -> None:
    """Unpack like Lambda does: the zip's Unix mode bits are kept (zipfile alone drops them)."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            path = zf.extract(info, target)
            mode = info.external_attr >> 16
            if mode and stat.S_ISREG(mode):
                os.chmod(path, stat.S_IMODE(mode))


@pytest.fixture(scope="session")
def layer_root(layer_zip, tmp_path_factory) -> str:
    """The built layer unpacked somewhere that is not /opt."""
    root = tmp_path_factory.mktemp("opt")
    unpack(layer_zip, str(root))
    return str(root)


@pytest.fixture(scope="session")
def base_python() -> str:
    """An interpreter without this checkout's fastrt or orjson installed: everything must come from
    the layer (in a venv, the interpreter the venv was made from)."""
    return getattr(sys, "_base_executable", None) or sys.executable
