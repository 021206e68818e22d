"""Build the fastrt Lambda layer zip: the one build step behind both ``build-layer.sh --local``
and the Docker build (layer/Dockerfile runs this same file inside AWS's Lambda Python image).

Run it with the interpreter the layer targets (bytecode and the compiled core are made for it):

    python layer/build_layer.py --python-version 3.12 --arch x86_64 --out dist

Layout of the zip (Lambda unpacks it to /opt):

    bootstrap              provided.al2023 entry point (static executable, from layer/entry.c)
    fastrt                 AWS_LAMBDA_EXEC_WRAPPER for the managed python3.x runtimes (likewise)
    fastrt-launch.py       what both exec with the interpreter: starts fastrt from this layer
    python/                fastrt (compiled core + plain modules), orjson, urllib3
    fastrt-python/         only with --bundle-python: a trimmed CPython for provided.al2023

Only what runs on Lambda goes in: no tests, docs, stubs or C sources; stripped shared objects;
bytecode for the target version only, precompiled with unchecked-hash invalidation (see
``precompile``). The build fails if an ELF file needs glibc newer than Amazon Linux 2023's, if a
forbidden file slipped in, or if a layer without interpreter exceeds the size budget.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import os
import platform
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

LAYER_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(LAYER_DIR)

# Amazon Linux 2023 (python3.12+, provided.al2023) ships glibc 2.34 (contract §2, §4).
MAX_GLIBC = (2, 34)
# Zipped size budget for a layer without a bundled interpreter.
SIZE_BUDGET = 1_500_000
# Where Lambda unpacks layers: recorded in the bytecode as the source location.
OPT = "/opt"
# Fixed timestamp for every zip entry, so equal inputs give an identical zip.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# Parts of fastrt the runtime never imports on Lambda (the local emulator and its CLI).
FASTRT_LEFT_OUT = ("fastrt/emulator", "fastrt/cli.py")
# urllib3's browser (Pyodide) backend, imported only when sys.platform == "emscripten".
DEPENDENCY_LEFT_OUT = ("urllib3/contrib/emscripten",)
# Standard-library parts a Lambda function never needs, left out of a bundled interpreter.
STDLIB_LEFT_OUT = (
    "test", "idlelib", "tkinter", "turtledemo", "turtle.py", "ensurepip", "lib2to3",
    "pydoc_data", "site-packages", "venv", "__phello__",
)

ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}


# ---------------------------------------------------------------- rules for what may ship


FORBIDDEN_DIRS = frozenset(("tests", "test", "testing", "idle_test", "docs", "doc", "examples"))
FORBIDDEN_SUFFIXES = (".pyi", ".pxd", ".pyx", ".c", ".h", ".md", ".rst", ".typed", ".js", ".whl")


def audit(names: list[str], python_version: str) -> list[str]:
    """Problems with a layer's file list (zip entry names); empty when the layer may ship.

    Forbidden: tests and docs, type stubs and typing markers, C/Cython sources, the emulator and
    CLI, bytecode for another Python or optimisation level, and any ``.py`` under ``python/``
    without its precompiled ``.pyc`` (it would be recompiled at every cold start, since /opt is
    read-only).
    """
    tag = "cpython-%s" % python_version.replace(".", "")
    present = set(names)
    problems = []
    for name in names:
        parts = name.split("/")
        if FORBIDDEN_DIRS.intersection(parts[:-1]):
            problems.append("%s: tests/docs do not run on Lambda" % name)
        elif name.endswith(FORBIDDEN_SUFFIXES):
            problems.append("%s: not needed at run time" % name)
        elif name.startswith(tuple("python/" + p for p in FASTRT_LEFT_OUT + DEPENDENCY_LEFT_OUT)):
            problems.append("%s: never imported on Lambda" % name)
        elif name.endswith(".pyc") and "/__pycache__/" not in name:
            problems.append("%s: sourceless bytecode; ship the .py with a __pycache__ .pyc" % name)
        elif name.endswith(".pyc") and not name.endswith(".%s.pyc" % tag):
            problems.append("%s: bytecode is not for CPython %s (no optimisation)" % (name, python_version))
        elif name.startswith(("python/", "fastrt-python/lib/")) and name.endswith(".py"):
            head, _, module = name.rpartition("/")
            pyc = "%s/__pycache__/%s.%s.pyc" % (head, module[:-3], tag)
            if pyc not in present:
                problems.append("%s: no precompiled %s" % (name, pyc))
    for required in ("bootstrap", "fastrt", "fastrt-launch.py", "python/fastrt/__init__.py"):
        if required not in present:
            problems.append("%s: missing" % required)
    return problems


# ---------------------------------------------------------------- ELF checks


def glibc_versions_needed(path: str) -> list[tuple[int, ...]]:
    """The GLIBC_x.y symbol versions an ELF file needs (its .gnu.version_r section)."""
    out = _run(["readelf", "--version-info", "--wide", path], capture=True)
    found = set()
    for match in re.finditer(r"Name: GLIBC_([0-9.]+)", out):
        found.add(tuple(int(part) for part in match.group(1).split(".")))
    return sorted(found)


def runpath(path: str) -> str | None:
    """The RPATH/RUNPATH baked into an ELF file, if any (a layer must not point at the build host)."""
    out = _run(["readelf", "--dynamic", "--wide", path], capture=True)
    match = re.search(r"\((?:RPATH|RUNPATH)\)\s+Library (?:rpath|runpath): \[([^\]]*)\]", out)
    return match.group(1) if match else None


def check_elf_files(root: str, own_extensions: list[str]) -> list[str]:
    """Check every ELF file under ``root``; print one line each, return the failures."""
    failures = []
    limit = "GLIBC_%d.%d" % MAX_GLIBC
    for path in _walk_files(root):
        if not _is_elf(path):
            continue
        rel = os.path.relpath(path, root)
        versions = glibc_versions_needed(path)
        newest = ".".join(map(str, versions[-1])) if versions else "none"
        if versions and versions[-1] > MAX_GLIBC:
            too_new = ["GLIBC_" + ".".join(map(str, v)) for v in versions if v > MAX_GLIBC]
            failures.append("%s needs %s, newer than Amazon Linux 2023's %s" % (rel, ", ".join(too_new), limit))
            verdict = "FAIL"
        else:
            verdict = "ok"
        print("  glibc check: %-58s newest GLIBC_%s <= %s: %s" % (rel, newest, limit, verdict))
        baked = runpath(path)
        if baked and path in own_extensions:
            failures.append("%s has RUNPATH %s (the layer is relocatable)" % (rel, baked))
    return failures


def _is_elf(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


# ---------------------------------------------------------------- build steps


def compile_core(src: str, work: str) -> list[str]:
    """Build the Cython extensions through setup.py (the module list lives there); return them.

    Release flags: -O2 without debug info; no RUNPATH (pyenv's LDSHARED adds one). The sources
    are copied first so a concurrent in-place build of the checkout is never disturbed.
    """
    tree = os.path.join(work, "src")
    os.makedirs(tree)
    # setup.py alone: pyproject.toml's metadata plays no part in compiling the extensions.
    shutil.copy2(os.path.join(src, "setup.py"), tree)
    shutil.copytree(
        os.path.join(src, "fastrt"),
        os.path.join(tree, "fastrt"),
        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c", "*.html"),
    )
    compiler = _c_compiler()
    env = dict(os.environ)
    env.pop("FASTRT_NO_EXT", None)
    env.update(CFLAGS="-O2 -g0", LDSHARED="%s -shared" % compiler, LDFLAGS="")
    lib = os.path.join(work, "lib")
    _run(
        [sys.executable, "setup.py", "-q", "build_ext", "--build-lib", lib,
         "--build-temp", os.path.join(work, "temp"), "--parallel", str(os.cpu_count() or 1)],
        cwd=tree,
        env=env,
    )
    built = {}
    for path in _walk_files(os.path.join(lib, "fastrt")):
        if path.endswith(".so"):
            built[os.path.basename(path).split(".")[0]] = path
    missing = [name for name in _compiled_modules(tree) if name not in built]
    if missing:
        raise BuildError("the compiled core was not built (is Cython installed?): missing %s" % ", ".join(missing))
    return sorted(built.values())


def _c_compiler() -> str:
    """$CC, else the compiler this Python was built with, else cc."""
    import sysconfig

    return os.environ.get("CC") or (sysconfig.get_config_var("CC") or "cc").split()[0]


def _compiled_modules(tree: str) -> tuple:
    """fastrt.COMPILED_MODULES, read without importing fastrt (as setup.py does)."""
    with open(os.path.join(tree, "fastrt", "__init__.py")) as f:
        for node in ast.parse(f.read()).body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "COMPILED_MODULES":
                return ast.literal_eval(node.value)
    raise BuildError("fastrt/__init__.py has no COMPILED_MODULES")


# The two executables at the layer's root, built from layer/entry.c: static, no libc, no
# dynamic loader (the file says why); every warning fails the build.
ENTRY_POINTS = (("bootstrap", []), ("fastrt", ["-DFASTRT_EXEC_WRAPPER"]))
ENTRY_POINT_FLAGS = [
    "-Os", "-static", "-nostdlib", "-no-pie", "-fno-pie", "-ffreestanding", "-fno-builtin",
    # No libc: no stack-protector canary to read, no memcpy/memset a loop may be turned into.
    "-fno-stack-protector", "-fno-tree-loop-distribute-patterns",
    "-fno-asynchronous-unwind-tables", "-fno-unwind-tables",
    "-Wall", "-Wextra", "-Werror", "-Wl,--build-id=none", "-s",
]


def compile_entry_points(layer: str, compiler: str | None = None) -> None:
    """``bootstrap`` and ``fastrt`` into ``layer``, for this machine's architecture."""
    compiler = compiler or _c_compiler()
    source = os.path.join(LAYER_DIR, "entry.c")
    for name, defines in ENTRY_POINTS:
        target = os.path.join(layer, name)
        _run([compiler, *ENTRY_POINT_FLAGS, *defines, "-o", target, source])
        os.chmod(target, 0o755)


def stage_fastrt(src: str, extensions: list[str], python_dir: str) -> None:
    """Copy the fastrt package minus what Lambda never runs, plus the freshly built extensions."""
    package = os.path.join(src, "fastrt")
    for path in _walk_files(package):
        rel = os.path.relpath(path, src).replace(os.sep, "/")
        if not rel.endswith(".py") or rel.startswith(FASTRT_LEFT_OUT):
            continue  # .pxd/.c/.so of the checkout/py.typed/__pycache__: not shipped
        _copy(path, os.path.join(python_dir, rel))
    for path in extensions:
        _copy(path, os.path.join(python_dir, "fastrt", os.path.basename(path)))


def stage_dependencies(python_version: str, arch: str, wheel_cache: str, python_dir: str) -> None:
    """Fetch orjson and urllib3 as manylinux wheels for the target, unpack the parts that run."""
    os.makedirs(wheel_cache, exist_ok=True)
    platforms = []
    for minor in range(MAX_GLIBC[1], 16, -1):  # manylinux_2_34 ... manylinux_2_17
        platforms += ["--platform", "manylinux_2_%d_%s" % (minor, arch)]
    _run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "--no-deps", "--require-hashes",
         "--implementation", "cp", "--python-version", python_version, *platforms,
         "--dest", wheel_cache, "-r", os.path.join(LAYER_DIR, "requirements-layer.txt")]
    )
    wanted = _pinned(os.path.join(LAYER_DIR, "requirements-layer.txt"))
    tag = "cp" + python_version.replace(".", "")
    for name, version in wanted:
        wheel = _find_wheel(wheel_cache, name, version, tag, arch)
        with zipfile.ZipFile(wheel) as zf:
            for entry in zf.namelist():
                if entry.endswith("/") or _dependency_file_left_out(entry):
                    continue
                target = os.path.join(python_dir, entry)
                _write(target, zf.read(entry))
                if entry.endswith(".dist-info/METADATA"):
                    _trim_metadata(target)


def _dependency_file_left_out(entry: str) -> bool:
    parts = entry.split("/")
    return (
        bool(FORBIDDEN_DIRS.intersection(parts[:-1]))
        or entry.endswith(FORBIDDEN_SUFFIXES)
        or entry.startswith(DEPENDENCY_LEFT_OUT)
        or entry.endswith(".dist-info/RECORD")  # lists files we left out; nothing on Lambda reads it
    )


def _trim_metadata(path: str) -> None:
    """Keep the metadata headers (importlib.metadata needs them), drop the long description."""
    with open(path, encoding="utf-8") as f:
        headers = f.read().split("\n\n", 1)[0]
    with open(path, "w", encoding="utf-8") as f:
        f.write(headers + "\n")


def _pinned(requirements: str) -> list[tuple[str, str]]:
    with open(requirements) as f:
        return re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", f.read(), re.M)


def _find_wheel(cache: str, name: str, version: str, tag: str, arch: str) -> str:
    prefix = "%s-%s-" % (name.replace("-", "_"), version)
    candidates = []
    for wheel in sorted(os.listdir(cache)):
        if not (wheel.lower().startswith(prefix.lower()) and wheel.endswith(".whl")):
            continue
        python_tag, abi, plat = wheel[:-4].split("-")[-3:]
        if plat == "any" or (tag in python_tag.split(".") and abi == tag and plat.endswith(arch)):
            candidates.append(os.path.join(cache, wheel))
    if not candidates:
        raise BuildError("no %s %s wheel for %s/%s in %s" % (name, version, tag, arch, cache))
    return candidates[0]


def stage_interpreter(prefix: str, python_version: str, layer: str) -> None:
    """Copy a trimmed CPython from ``prefix`` (AWS's image: /var/lang) into fastrt-python/.

    The executable, the libpython it links to (if shared) and the standard library without its
    test suite, IDLE/Tk, ensurepip, the static library and site-packages (the image's boto3).
    """
    target = os.path.join(layer, "fastrt-python")
    executable = os.path.realpath(os.path.join(prefix, "bin", "python" + python_version))
    _copy(executable, os.path.join(target, "bin", "python3"))
    for needed in re.findall(r"\(NEEDED\)\s+Shared library: \[(libpython[^\]]+)\]",
                             _run(["readelf", "--dynamic", "--wide", executable], capture=True)):
        _copy(os.path.realpath(os.path.join(prefix, "lib", needed)), os.path.join(target, "lib", needed))
    stdlib = os.path.join("lib", "python" + python_version)
    skip = shutil.ignore_patterns(
        "__pycache__", "config-*", "_test*", "_ctypes_test*", "xxlimited*", "_xxtestfuzz*",
        *STDLIB_LEFT_OUT, *FORBIDDEN_DIRS, *("*" + suffix for suffix in FORBIDDEN_SUFFIXES),
    )
    shutil.copytree(os.path.join(prefix, stdlib), os.path.join(target, stdlib), ignore=skip)
    # An empty site-packages keeps site.py's layout; the image's own packages do not come along.
    os.makedirs(os.path.join(target, stdlib, "site-packages"))


def precompile(tree: str, opt_path: str) -> None:
    """Write ``__pycache__/*.cpython-XY.pyc`` for every module, unchecked-hash invalidation.

    Lambda's /opt is read-only, so a .pyc the interpreter considers stale is recompiled in memory
    at every cold start. Timestamp .pycs would be stale: a zip keeps mtimes at 2-second
    resolution without time zone, so the mtime after unpacking need not match the one recorded
    in the .pyc. checked-hash would read and hash every source at each import. unchecked-hash
    trusts the .pyc, which is exactly right for files that cannot change after the build (a
    layer version is immutable), and it makes the bytecode independent of build time.
    """
    ok = compileall.compile_dir(
        tree,
        ddir=opt_path,  # tracebacks/co_filename name /opt/..., not the build directory
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        raise BuildError("byte-compiling %s failed" % tree)


def strip_shared_objects(tree: str) -> None:
    for path in _walk_files(tree):
        if path.endswith(".so") or ".so." in os.path.basename(path):
            _run(["strip", "--strip-unneeded", path])


def write_zip(layer: str, out: str) -> list[str]:
    """A deterministic zip: sorted entries, fixed dates, 0755 for executables, else 0644."""
    names = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(_walk_files(layer)):
            name = os.path.relpath(path, layer).replace(os.sep, "/")
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode bits below are honoured
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            with open(path, "rb") as f:
                zf.writestr(info, f.read(), compresslevel=9)
            names.append(name)
    return names


def summarize(zip_path: str, with_interpreter: bool) -> list[str]:
    """Print the size and a per-part breakdown of a built layer; return budget failures."""
    with zipfile.ZipFile(zip_path) as zf:
        infos = zf.infolist()
    zipped = os.path.getsize(zip_path)
    unzipped = sum(info.file_size for info in infos)
    parts: dict[str, list[int]] = {}
    for info in infos:
        bits = info.filename.split("/")
        part = "/".join(bits[:2]) if bits[0] == "python" and len(bits) > 1 else bits[0]
        part = re.sub(r"-[0-9][^/]*\.dist-info$", ".dist-info", part)
        entry = parts.setdefault(part, [0, 0, 0])
        entry[0] += 1
        entry[1] += info.file_size
        entry[2] += info.compress_size
    print("layer: %s" % zip_path)
    print("  %-34s %6s %12s %12s" % ("part", "files", "unzipped", "zipped"))
    for part in sorted(parts, key=lambda p: -parts[p][2]):
        files, size, packed = parts[part]
        print("  %-34s %6d %12s %12s" % (part, files, _kb(size), _kb(packed)))
    print("  %-34s %6d %12s %12s" % ("total", len(infos), _kb(unzipped), _kb(zipped)))
    failures = []
    if not with_interpreter:
        verdict = "within" if zipped <= SIZE_BUDGET else "OVER"
        print("  size budget: %s zipped, %s the %s budget" % (_kb(zipped), verdict, _kb(SIZE_BUDGET)))
        if zipped > SIZE_BUDGET:
            failures.append("%s is %d bytes zipped, over the %d byte budget" % (zip_path, zipped, SIZE_BUDGET))
    return failures


def _kb(size: int) -> str:
    return "%.1f kB" % (size / 1000.0)


# ---------------------------------------------------------------- the whole build


class BuildError(Exception):
    """A build step failed or the layer broke a rule; the message says which."""


def build(python_version: str, arch: str, out_dir: str, wheel_cache: str, bundle_from: str | None) -> str:
    """Build ``<out_dir>/fastrt-python<ver>-<arch>.zip`` and return its path."""
    running = "%d.%d" % sys.version_info[:2]
    if running != python_version:
        raise BuildError("run this with Python %s (the layer's target), not %s" % (python_version, running))
    machine = ARCH_ALIASES.get(platform.machine(), platform.machine())
    if ARCH_ALIASES[arch] != machine:
        raise BuildError("cannot compile for %s on this %s machine; use build-layer.sh --docker --arch %s" % (arch, machine, arch))
    arch_name = "arm64" if ARCH_ALIASES[arch] == "aarch64" else "x86_64"
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "fastrt-python%s-%s.zip" % (python_version, arch_name))
    with tempfile.TemporaryDirectory(prefix="fastrt-layer-") as work:
        layer = os.path.join(work, "layer")
        python_dir = os.path.join(layer, "python")
        print("compiling the core with %s (%s) ..." % (sys.executable, platform.python_version()))
        extensions = compile_core(REPO, os.path.join(work, "build"))
        stage_fastrt(REPO, extensions, python_dir)
        print("fetching orjson and urllib3 wheels for cp%s %s ..." % (python_version.replace(".", ""), arch_name))
        stage_dependencies(python_version, ARCH_ALIASES[arch], wheel_cache, python_dir)
        compile_entry_points(layer)
        _copy(os.path.join(LAYER_DIR, "fastrt-launch.py"), os.path.join(layer, "fastrt-launch.py"))
        precompile(python_dir, OPT + "/python")
        if bundle_from:
            print("bundling the interpreter from %s ..." % bundle_from)
            stage_interpreter(bundle_from, python_version, layer)
            stdlib = os.path.join("fastrt-python", "lib", "python" + python_version)
            precompile(os.path.join(layer, stdlib), OPT + "/" + stdlib)
        strip_shared_objects(layer)
        staged_extensions = [os.path.join(python_dir, "fastrt", os.path.basename(p)) for p in extensions]
        failures = check_elf_files(layer, staged_extensions)
        names = write_zip(layer, out)
    failures += audit(names, python_version)
    failures += summarize(out, with_interpreter=bool(bundle_from))
    if failures:
        os.unlink(out)
        raise BuildError("the layer breaks the rules:\n  " + "\n  ".join(failures))
    return out


# ---------------------------------------------------------------- small helpers


def _run(cmd: list[str], cwd: str | None = None, env: dict | None = None, capture: bool = False) -> str:
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, check=True, text=True,
                              stdout=subprocess.PIPE if capture else None)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BuildError("%s failed: %s" % (cmd[0], exc)) from None
    return done.stdout if capture else ""


def _walk_files(root: str) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found += [os.path.join(dirpath, name) for name in sorted(filenames)]
    return found


def _copy(source: str, target: str) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(source, target)


def _write(target: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as f:
        f.write(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the fastrt Lambda layer zip.")
    parser.add_argument("--python-version", required=True, help="target CPython, e.g. 3.12 (run with it)")
    parser.add_argument("--arch", default=platform.machine(), choices=sorted(ARCH_ALIASES))
    parser.add_argument("--out", default=os.path.join(REPO, "dist"), help="directory for the zip")
    parser.add_argument("--wheel-cache", default=os.path.join(REPO, "build", "layer", "wheels"))
    parser.add_argument("--bundle-python", default="", metavar="PREFIX",
                        help="copy a trimmed interpreter from PREFIX (e.g. /var/lang) into the layer")
    parser.add_argument("--summarize", metavar="ZIP", help="only print the summary of a built layer")
    args = parser.parse_args(argv)
    if args.summarize:
        with zipfile.ZipFile(args.summarize) as zf:
            names = zf.namelist()
        bundled = any(name.startswith("fastrt-python/") for name in names)
        problems = summarize(args.summarize, bundled) + audit(names, args.python_version)
        for problem in problems:
            print("build_layer: %s" % problem, file=sys.stderr)
        return 1 if problems else 0
    try:
        build(args.python_version, args.arch, args.out, args.wheel_cache, args.bundle_python or None)
    except BuildError as exc:
        print("build_layer: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
