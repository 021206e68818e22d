"""The built layer, unpacked into a temporary stand-in for /opt, serving a sample function against
the emulator through both entry points: the exec wrapper (managed python3.x runtimes) and the
bootstrap (provided.al2023)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from fastrt.emulator import Emulator

from layer_harness import FUNCTION_DIR, PYTHON_VERSION

pytestmark = pytest.mark.timeout(300)


@pytest.fixture()
def task_root(tmp_path) -> str:
    root = tmp_path / "task"
    shutil.copytree(FUNCTION_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    return str(root)


def serve_one_event(argv: list, extra_env: dict, task_root: str, event: bytes = b'{"k": 1}'):
    """Start the runtime as Lambda would, send one event; return (result, process pid, output)."""
    with Emulator(function_name="layer-test", timeout=30) as emu:
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
        env.update(emu.lambda_env("app.handler", task_root))
        env.update(extra_env)
        proc = subprocess.Popen(argv, env=env, cwd=task_root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            inv = emu.enqueue(event)
            try:
                result = inv.result(timeout=30)
            except Exception:
                proc.kill()
                raise AssertionError("no result; runtime output:\n%s" % proc.communicate()[0].decode(errors="replace"))
        finally:
            if proc.poll() is None:
                proc.terminate()
            output = proc.communicate(timeout=30)[0].decode(errors="replace")
        assert emu.init_error is None, output
    return result, proc.pid, output


def check_served_by_layer(result, pid: int, output: str, layer_root: str, orjson_from_layer: bool = True) -> dict:
    assert result.kind == "response", output + result.body.decode(errors="replace")
    seen = json.loads(result.body)
    layer_python = os.path.join(layer_root, "python")
    assert seen["echo"] == {"k": 1}
    # exec all the way down: the process Lambda started is the interpreter serving events.
    assert seen["pid"] == pid
    # fastrt and its compiled core come from the unpacked layer (and orjson, when the layer is on
    # sys.path ahead of the interpreter's own site-packages).
    assert seen["compiled"] is True
    assert seen["fastrt_file"] == os.path.join(layer_python, "fastrt", "__init__.py")
    for path in seen["core_files"]:
        assert path.startswith(os.path.join(layer_python, "fastrt") + os.sep) and path.endswith(".so"), path
    if orjson_from_layer:
        assert seen["orjson_file"].startswith(layer_python + os.sep)
    return seen


def test_exec_wrapper_serves_the_function(layer_root, task_root, base_python):
    # Lambda runs: $AWS_LAMBDA_EXEC_WRAPPER <interpreter> /var/runtime/bootstrap.py
    argv = [os.path.join(layer_root, "fastrt"), base_python, "/var/runtime/bootstrap.py"]
    exec_env = "AWS_Lambda_python%s" % PYTHON_VERSION
    result, pid, output = serve_one_event(argv, {"AWS_EXECUTION_ENV": exec_env}, task_root)
    seen = check_served_by_layer(result, pid, output, layer_root)
    layer_python = os.path.join(layer_root, "python")
    # sys.path as the managed runtime builds it (contract §1.1), with this directory standing in for /opt.
    assert seen["sys_path"][:5] == [
        task_root,
        os.path.join(layer_python, "lib", "python%s" % PYTHON_VERSION, "site-packages"),
        layer_python,
        "/var/lang/lib/python%s/site-packages" % PYTHON_VERSION,
        "/var/runtime",  # LAMBDA_RUNTIME_DIR, where the stock bootstrap.py's own folder stands
    ]
    assert seen["sys_path"].count(layer_python) == 1
    assert seen["environ"]["AWS_EXECUTION_ENV"] == exec_env  # the managed runtime's value is kept
    assert seen["environ"]["PYTHONPATH"] == "/var/runtime"  # LAMBDA_RUNTIME_DIR, as under awslambdaric
    assert os.path.realpath(seen["executable"]) == os.path.realpath(base_python)


def test_bootstrap_serves_the_function(layer_root, task_root, base_python):
    result, pid, output = serve_one_event(
        [os.path.join(layer_root, "bootstrap")], {"FASTRT_PYTHON": base_python}, task_root
    )
    seen = check_served_by_layer(result, pid, output, layer_root)
    assert seen["sys_path"][0] == task_root
    assert seen["environ"]["AWS_EXECUTION_ENV"] is None  # not invented on provided.al2023
    assert os.path.realpath(seen["executable"]) == os.path.realpath(base_python)


def test_with_user_pythonpath_the_layer_stays_last(layer_root, task_root, base_python, tmp_path):
    # With PYTHONPATH set the managed runtime adds only the task root (§1.1); fastrt's own
    # dependencies must still import, from the end of sys.path.
    user_dir = str(tmp_path / "user")
    os.mkdir(user_dir)
    result, pid, output = serve_one_event(
        [os.path.join(layer_root, "bootstrap")],
        {"FASTRT_PYTHON": base_python, "PYTHONPATH": user_dir},
        task_root,
    )
    # orjson is imported by the handler either way; the interpreter's own copy may come first.
    seen = check_served_by_layer(result, pid, output, layer_root, orjson_from_layer=False)
    layer_python = os.path.join(layer_root, "python")
    path = seen["sys_path"]
    assert path[0] == task_root and user_dir in path
    assert os.path.join(layer_python, "lib", "python%s" % PYTHON_VERSION, "site-packages") not in path
    assert path[-1] == layer_python and path.count(layer_python) == 1
    assert seen["environ"]["PYTHONPATH"] == user_dir


def test_bootstrap_without_interpreter_says_what_it_tried(layer_root, tmp_path):
    empty_bin = str(tmp_path / "bin")
    os.mkdir(empty_bin)
    done = subprocess.run(
        [os.path.join(layer_root, "bootstrap")],
        env={"PATH": empty_bin}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30,
    )
    assert done.returncode == 127
    message = done.stderr
    assert os.path.join(layer_root, "fastrt-python", "bin", "python3") in message
    assert "$FASTRT_PYTHON (unset)" in message and "python3 on PATH (%s)" % empty_bin in message


@pytest.mark.parametrize("given", ["missing path", "directory", "name not on PATH"])
def test_bootstrap_rejects_a_fastrt_python_that_is_not_an_executable(layer_root, tmp_path, given):
    fastrt_python = {
        "missing path": str(tmp_path / "nope"),
        "directory": str(tmp_path),
        "name not on PATH": "fastrt-no-such-python",
    }[given]
    done = subprocess.run(
        [os.path.join(layer_root, "bootstrap")],
        env={"PATH": os.environ["PATH"], "FASTRT_PYTHON": fastrt_python},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30,
    )
    assert done.returncode == 127
    assert "FASTRT_PYTHON=%s is not an executable" % fastrt_python in done.stderr


def test_bootstrap_finds_a_fastrt_python_named_on_path(layer_root, base_python, tmp_path):
    # A bare command name is looked up on PATH, as `exec` will.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "my-python").symlink_to(base_python)
    done = subprocess.run(
        [os.path.join(layer_root, "bootstrap"), "--version"],
        env={"PATH": "%s:%s" % (bin_dir, os.environ["PATH"]), "FASTRT_PYTHON": "my-python"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("fastrt ")


def test_bootstrap_started_through_a_symlink_or_a_relative_path_finds_its_layer(layer_root, base_python, tmp_path):
    # The layer is where the executable really is (a function's own /var/task/bootstrap may be a
    # link to /opt/bootstrap), not where the link that started it is.
    link = tmp_path / "bootstrap"
    link.symlink_to(os.path.join(layer_root, "bootstrap"))
    for argv, cwd in (([str(link), "--version"], None), (["./bootstrap", "--version"], layer_root)):
        done = subprocess.run(
            argv, cwd=cwd, env={"PATH": os.environ["PATH"], "FASTRT_PYTHON": base_python},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30,
        )
        assert done.returncode == 0, done.stdout
        assert "compiled (Cython) core" in done.stdout


def test_wrapper_reports_an_interpreter_it_cannot_run(layer_root, tmp_path):
    missing = str(tmp_path / "python3.12")
    done = subprocess.run(
        [os.path.join(layer_root, "fastrt"), missing, "/var/runtime/bootstrap.py"],
        env={"PATH": os.environ["PATH"]}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30,
    )
    assert done.returncode == 127
    assert "cannot execute the interpreter %s" % missing in done.stderr


def test_wrapper_without_interpreter_argument_explains_itself(layer_root):
    done = subprocess.run(
        [os.path.join(layer_root, "fastrt")],
        env={"PATH": os.environ["PATH"]}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30,
    )
    assert done.returncode == 2
    assert "expected the interpreter path" in done.stderr


def test_version_through_the_layer_reports_the_compiled_core(layer_root, base_python):
    done = subprocess.run(
        [os.path.join(layer_root, "bootstrap"), "--version"],
        env={"PATH": os.environ["PATH"], "FASTRT_PYTHON": base_python},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stdout
    assert "compiled (Cython) core" in done.stdout


def test_bootstrap_prefers_the_bundled_interpreter(layer_root, tmp_path):
    # A copy of the layer with a stand-in for the interpreter --bundle-python adds: it is chosen
    # over FASTRT_PYTHON and PATH, and its lib dir goes first on LD_LIBRARY_PATH.
    layer = tmp_path / "opt"
    shutil.copytree(layer_root, layer, symlinks=True)
    fake = layer / "fastrt-python" / "bin" / "python3"
    fake.parent.mkdir(parents=True)
    fake.write_text('#!/bin/sh\necho "bundled $* LD_LIBRARY_PATH=$LD_LIBRARY_PATH"\n')
    fake.chmod(0o755)
    done = subprocess.run(
        [str(layer / "bootstrap"), "app.handler"],
        env={"PATH": os.environ["PATH"], "FASTRT_PYTHON": "python3", "LD_LIBRARY_PATH": "/var/task/lib"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == "bundled %s app.handler LD_LIBRARY_PATH=%s:/var/task/lib" % (
        layer / "fastrt-launch.py", layer / "fastrt-python" / "lib")
