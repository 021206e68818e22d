"""What goes into the layer zip, and the checks that fail the build: forbidden files, glibc
symbol versions newer than Amazon Linux 2023's, and the size budget."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import zipfile

import pytest

from layer_harness import PYTHON_VERSION, REPO

TAG = "cpython-%s" % PYTHON_VERSION.replace(".", "")


@pytest.fixture(scope="module")
def entries(layer_zip) -> dict:
    with zipfile.ZipFile(layer_zip) as zf:
        return {info.filename: info for info in zf.infolist()}


def test_the_built_layer_passes_its_own_audit(entries, build_layer):
    assert build_layer.audit(sorted(entries), PYTHON_VERSION) == []


def test_layout_entry_points_at_the_root_and_executable(entries):
    for script in ("bootstrap", "fastrt"):
        mode = entries[script].external_attr >> 16
        assert stat.S_ISREG(mode) and mode & 0o111 == 0o111, (script, oct(mode))
    assert "fastrt-launch.py" in entries
    assert "python/fastrt/__init__.py" in entries
    assert "python/urllib3/__init__.py" in entries and "python/orjson/__init__.py" in entries
    assert not any(name.startswith("fastrt-python/") for name in entries)  # no --bundle-python locally


def test_compiled_core_present_and_stripped(entries, layer_root, build_layer):
    import fastrt

    for module in fastrt.COMPILED_MODULES:
        so = [n for n in entries if n.startswith("python/fastrt/%s.cpython-" % module) and n.endswith(".so")]
        assert len(so) == 1, (module, so)
        symbols = subprocess.run(["readelf", "--sections", "--wide", os.path.join(layer_root, so[0])],
                                 stdout=subprocess.PIPE, text=True, check=True).stdout
        assert ".symtab" not in symbols and ".debug_info" not in symbols, so[0]
        assert build_layer.runpath(os.path.join(layer_root, so[0])) is None


def test_only_runtime_files_ship(entries):
    names = list(entries)
    assert not [n for n in names if n.startswith(("python/fastrt/emulator/", "python/fastrt/cli.py"))]
    assert not [n for n in names if n.endswith((".pyi", ".pxd", ".c", "py.typed", "RECORD"))]
    assert not [n for n in names if "/tests/" in n or "/emscripten/" in n]
    pycs = [n for n in names if n.endswith(".pyc")]
    assert pycs and all(n.endswith(".%s.pyc" % TAG) and "/__pycache__/" in n for n in pycs)


def test_bytecode_is_unchecked_hash_so_unpacking_cannot_make_it_stale(entries, layer_zip):
    # PEP 552 header: flags word 0b01 = hash-based, unchecked (bit 1 clear).
    with zipfile.ZipFile(layer_zip) as zf:
        for name in entries:
            if name.endswith(".pyc"):
                flags = int.from_bytes(zf.read(name)[4:8], "little")
                assert flags == 0b01, (name, flags)


def test_every_module_is_precompiled_so_nothing_compiles_at_cold_start(layer_root, base_python):
    # Import the whole runtime with writes to __pycache__ impossible (as on Lambda's read-only /opt)
    # and the source-to-bytecode compiler spied on: nothing from the layer may be compiled.
    probe = (
        "import sys, importlib.machinery as m\n"
        "compiled = []\n"
        "real = m.SourceFileLoader.source_to_code\n"
        "def spy(self, data, path, **kw):\n"
        "    compiled.append(path)\n"
        "    return real(self, data, path, **kw)\n"
        "m.SourceFileLoader.source_to_code = spy\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import importlib, os\n"
        "for name in sorted(os.listdir(os.path.join(sys.argv[1], 'fastrt'))):\n"
        "    if name.endswith('.py') and name != '__main__.py':\n"
        "        importlib.import_module('fastrt.' + name[:-3])\n"
        "import orjson, urllib3\n"
        "print([p for p in compiled if p.startswith(sys.argv[1])])\n"
    )
    done = subprocess.run([base_python, "-B", "-c", probe, os.path.join(layer_root, "python")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "name, complaint",
    [
        ("python/urllib3/tests/test_x.py", "tests/docs"),
        ("python/orjson/__init__.pyi", "not needed"),
        ("python/fastrt/loop.pxd", "not needed"),
        ("python/fastrt/loop.c", "not needed"),
        ("python/fastrt/py.typed", "not needed"),
        ("python/fastrt/emulator/__init__.py", "never imported"),
        ("python/fastrt/cli.py", "never imported"),
        ("python/fastrt/__pycache__/start.cpython-39.pyc", "not for CPython"),
        ("python/fastrt/__pycache__/start.%s.opt-1.pyc" % TAG, "not for CPython"),
        ("python/fastrt/start.pyc", "sourceless"),
        ("python/fastrt/new_module.py", "no precompiled"),
    ],
)
def test_audit_rejects_forbidden_files(entries, build_layer, name, complaint):
    problems = build_layer.audit(sorted(entries) + [name], PYTHON_VERSION)
    assert len(problems) == 1 and problems[0].startswith(name + ":") and complaint in problems[0], problems


def test_audit_requires_the_entry_points(entries, build_layer):
    problems = build_layer.audit([n for n in entries if n != "bootstrap"], PYTHON_VERSION)
    assert problems == ["bootstrap: missing"]


def test_size_budget_is_enforced(layer_zip, build_layer, monkeypatch, capsys):
    assert build_layer.summarize(layer_zip, with_interpreter=False) == []
    monkeypatch.setattr(build_layer, "SIZE_BUDGET", os.path.getsize(layer_zip) - 1)
    assert len(build_layer.summarize(layer_zip, with_interpreter=False)) == 1
    assert "OVER" in capsys.readouterr().out


def test_glibc_check_passes_the_built_extensions(layer_root, build_layer, capsys):
    extensions = [os.path.join(layer_root, "python", "fastrt", n)
                  for n in os.listdir(os.path.join(layer_root, "python", "fastrt")) if n.endswith(".so")]
    assert build_layer.check_elf_files(layer_root, extensions) == []
    report = capsys.readouterr().out
    assert report.count("<= GLIBC_2.34: ok") == len(extensions) + 3  # + orjson, bootstrap, fastrt


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_glibc_check_fails_an_object_needing_a_newer_glibc(tmp_path, build_layer):
    # arc4random is versioned GLIBC_2.36: newer than Amazon Linux 2023's 2.34.
    source = tmp_path / "new.c"
    source.write_text("#include <stdlib.h>\nunsigned int f(void) { return arc4random(); }\n")
    layer = tmp_path / "layer"
    layer.mkdir()
    built = subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(layer / "new.so"), str(source)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if built.returncode != 0:
        pytest.skip("this C library has no arc4random (glibc < 2.36): %s" % built.stdout)
    assert build_layer.glibc_versions_needed(str(layer / "new.so"))[-1] >= (2, 36)
    failures = build_layer.check_elf_files(str(layer), [])
    assert len(failures) == 1 and "GLIBC_2.36" in failures[0] and "2.34" in failures[0]


def test_zip_is_reproducible(layer_zip, build_layer, layer_root, tmp_path):
    # Same tree in, same bytes out: fixed timestamps and modes, sorted entries.
    first = build_layer.write_zip(layer_root, str(tmp_path / "a.zip"))
    second = build_layer.write_zip(layer_root, str(tmp_path / "b.zip"))
    assert first == second
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_local_build_refuses_bundle_python_and_foreign_arch():
    for args, message in (
        (["--local", "--bundle-python"], "--bundle-python needs --docker"),
        (["--local", "--arch", "sparc"], "--arch must be x86_64 or arm64"),
        (["--local", "--python", "3.9"], "--python must be 3.12 or 3.13"),
    ):
        done = subprocess.run([os.path.join(REPO, "build-layer.sh"), *args, "--dist", "/tmp/fastrt-never-built"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        assert done.returncode != 0 and message in done.stderr, (args, done.stderr)
