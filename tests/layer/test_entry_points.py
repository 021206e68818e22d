"""The layer's executables, ``bootstrap`` and ``fastrt`` (layer/entry.c): static, without libc,
and the same choices on both of Lambda's architectures — aarch64 built with a cross compiler and
run under qemu-user (CI installs both; elsewhere that half is skipped unless FASTRT_CROSS=1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

# A stand-in interpreter: says how it was run.
FAKE_PYTHON = '#!/bin/sh\necho "ran $0 with $* LD_LIBRARY_PATH=$LD_LIBRARY_PATH"\n'


@pytest.mark.parametrize("name", ["bootstrap", "fastrt"])
def test_entry_points_are_small_static_executables(layer_root, name):
    path = os.path.join(layer_root, name)
    program = subprocess.run(["readelf", "--program-headers", "--wide", path],
                             stdout=subprocess.PIPE, text=True, check=True).stdout
    dynamic = subprocess.run(["readelf", "--dynamic", "--wide", path], stdout=subprocess.PIPE, text=True, check=True).stdout
    assert "INTERP" not in program and "NEEDED" not in dynamic  # no dynamic loader, no libc
    assert os.path.getsize(path) < 16 * 1024


def _cross_tools():
    tools = [shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64")]
    if None in tools:
        if os.environ.get("FASTRT_CROSS") == "1":
            pytest.fail("FASTRT_CROSS=1 but aarch64-linux-gnu-gcc or qemu-aarch64 is missing")
        pytest.skip("no aarch64 cross compiler and qemu-user here (apt: gcc-aarch64-linux-gnu qemu-user)")
    return tools


@pytest.fixture(scope="module")
def arm_layer(tmp_path_factory, build_layer):
    """The entry points built for aarch64 into an otherwise empty layer, with a stand-in python."""
    compiler, qemu = _cross_tools()
    layer = tmp_path_factory.mktemp("arm-opt")
    build_layer.compile_entry_points(str(layer), compiler=compiler)
    fake = layer / "bin" / "fake-python"
    fake.parent.mkdir()
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    return layer, qemu


def _run_arm(arm_layer, name, args, env):
    layer, qemu = arm_layer
    done = subprocess.run([qemu, str(layer / name), *args], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)
    return done.returncode, done.stdout.strip(), done.stderr


def test_aarch64_build_is_an_aarch64_static_executable(arm_layer):
    layer, _ = arm_layer
    header = subprocess.run(["readelf", "--file-header", "--program-headers", "--wide", str(layer / "bootstrap")],
                            stdout=subprocess.PIPE, text=True, check=True).stdout
    assert "AArch64" in header and "INTERP" not in header


def test_aarch64_bootstrap_runs_fastrt_python(arm_layer):
    layer, _ = arm_layer
    fake = layer / "bin" / "fake-python"
    for given, path in ((str(fake), "/usr/bin:/bin"), ("fake-python", "%s:/usr/bin:/bin" % fake.parent)):
        code, out, err = _run_arm(arm_layer, "bootstrap", ["app.handler"], {"PATH": path, "FASTRT_PYTHON": given})
        assert code == 0, err
        assert out == "ran %s with %s/fastrt-launch.py app.handler LD_LIBRARY_PATH=" % (fake, layer)


def test_aarch64_bootstrap_refuses_what_is_not_an_interpreter(arm_layer, tmp_path):
    for given in (str(tmp_path / "missing"), str(tmp_path), "no-such-python"):
        code, _, err = _run_arm(arm_layer, "bootstrap", [], {"PATH": "/usr/bin:/bin", "FASTRT_PYTHON": given})
        assert code == 127 and "FASTRT_PYTHON=%s is not an executable" % given in err
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    code, _, err = _run_arm(arm_layer, "bootstrap", [], {"PATH": str(empty)})
    layer, _ = arm_layer
    assert code == 127
    assert "%s/fastrt-python/bin/python3" % layer in err and "python3 on PATH (%s)" % empty in err


def test_aarch64_bootstrap_prefers_the_bundled_interpreter(arm_layer):
    layer, _ = arm_layer
    bundled = layer / "fastrt-python" / "bin" / "python3"
    bundled.parent.mkdir(parents=True)
    shutil.copy(layer / "bin" / "fake-python", bundled)
    try:
        code, out, err = _run_arm(arm_layer, "bootstrap", ["app.handler"],
                                  {"PATH": "/usr/bin:/bin", "FASTRT_PYTHON": "python3", "LD_LIBRARY_PATH": "/var/task/lib"})
    finally:
        shutil.rmtree(layer / "fastrt-python")
    assert code == 0, err
    assert out == "ran %s with %s/fastrt-launch.py app.handler LD_LIBRARY_PATH=%s/fastrt-python/lib:/var/task/lib" % (
        bundled, layer, layer)


def test_aarch64_exec_wrapper(arm_layer):
    layer, _ = arm_layer
    fake = layer / "bin" / "fake-python"
    code, out, err = _run_arm(arm_layer, "fastrt", [str(fake), "/var/runtime/bootstrap.py"], {"PATH": "/usr/bin:/bin"})
    assert code == 0, err
    assert out == "ran %s with %s/fastrt-launch.py LD_LIBRARY_PATH=" % (fake, layer)
    code, _, err = _run_arm(arm_layer, "fastrt", [], {"PATH": "/usr/bin:/bin"})
    assert code == 2 and "expected the interpreter path" in err


def test_bootstrap_started_with_an_empty_argv(layer_root, tmp_path):
    # execve(path, {NULL}, envp) is legal (argc 0): the arguments still end where they should.
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    script = (
        "import ctypes, sys\n"
        "libc = ctypes.CDLL(None)\n"
        "argv = (ctypes.c_char_p * 1)(None)\n"
        "envp = (ctypes.c_char_p * 3)(b'PATH=/usr/bin:/bin', sys.argv[2].encode(), None)\n"
        "libc.execve(sys.argv[1].encode(), argv, envp)\n"
        "sys.exit('execve failed')\n"
    )
    bootstrap = os.path.join(layer_root, "bootstrap")
    done = subprocess.run([sys.executable, "-c", script, bootstrap, "FASTRT_PYTHON=%s" % fake],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ran %s with %s/fastrt-launch.py LD_LIBRARY_PATH=" % (fake, os.path.realpath(layer_root))
