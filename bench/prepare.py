"""What the rows need before they can run: the interpreter's modules, the compiled core, the layer.

Everything is checked with the interpreter the Python rows use (``--python``), built when the bench
can build it (the compiled core in place, the layer with build-layer.sh), and otherwise reported
as ``Unavailable`` with the reason, which becomes that row's error.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass


class Unavailable(Exception):
    """A row cannot run on this machine; the message says why and how to fix it."""


@dataclass(frozen=True)
class Layer:
    zip_path: str
    directory: str
    zip_bytes: int
    unzipped_bytes: int


def minimal_environ() -> dict[str, str]:
    """The environment every child starts from: a Lambda sandbox has little more."""
    return {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}


def _fastrt_source_root() -> str | None:
    # A source checkout (setup.py beside the package) can be put on PYTHONPATH and built in place.
    import fastrt

    root = os.path.dirname(os.path.dirname(os.path.abspath(fastrt.__file__)))
    return root if os.path.exists(os.path.join(root, "setup.py")) else None


class Toolbox:
    """Checks and builds for one bench run; every answer is computed once."""

    def __init__(self, python: str, workdir: str, log=None) -> None:
        self.python = python
        self.workdir = workdir
        self._log = log or (lambda message: None)
        self._cache: dict[object, object] = {}

    def _once(self, key, compute):
        if key not in self._cache:
            try:
                self._cache[key] = compute()
            except Unavailable as exc:
                self._cache[key] = exc
        value = self._cache[key]
        if isinstance(value, Unavailable):
            raise value
        return value

    def _run_python(self, code: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = {**minimal_environ(), **(extra_env or {})}
        return subprocess.run([self.python, "-c", code], env=env, capture_output=True, text=True, timeout=120)

    def scratch_dir(self, name: str) -> str:
        path = os.path.join(self.workdir, name)
        os.makedirs(path, exist_ok=True)
        return path

    def python_version(self) -> str:
        """"X.Y" of the interpreter the Python rows use."""

        def compute() -> str:
            done = self._run_python("import sys; print('%d.%d' % sys.version_info[:2])")
            if done.returncode != 0:
                raise Unavailable("%s does not run: %s" % (self.python, done.stderr.strip()[-200:]))
            return done.stdout.strip()

        return self._once("python_version", compute)

    def fastrt_source_root(self) -> str | None:
        return self._once("source_root", _fastrt_source_root)

    def _fastrt_env(self) -> dict[str, str]:
        root = self.fastrt_source_root()
        return {"PYTHONPATH": root} if root else {}

    def require_module_version(self, module: str, version: str | None) -> None:
        """``module`` must be importable by the rows' interpreter (at exactly ``version`` if given)."""

        def compute() -> None:
            code = "import importlib.metadata as m, %s; print(m.version(%r))" % (module, module)
            done = self._run_python(code)
            if done.returncode != 0:
                pin = "==" + version if version else ""
                raise Unavailable("%s is not importable by %s (pip install %s%s)" % (module, self.python, module, pin))
            found = done.stdout.strip()
            if version and found != version:
                raise Unavailable("%s %s is installed for %s, the bench pins %s" % (module, found, self.python, version))

        self._once(("module", module, version), compute)

    def require_fastrt(self) -> None:
        def compute() -> None:
            done = self._run_python("import fastrt", self._fastrt_env())
            if done.returncode != 0:
                raise Unavailable("fastrt is not importable by %s: %s" % (self.python, done.stderr.strip()[-200:]))

        self._once("fastrt", compute)

    def _fastrt_compiled(self) -> bool:
        done = self._run_python("import fastrt; print(fastrt.COMPILED)", self._fastrt_env())
        if done.returncode != 0:
            raise Unavailable("fastrt does not import: %s" % done.stderr.strip()[-200:])
        return done.stdout.strip() == "True"

    def require_compiled_fastrt(self) -> None:
        """The compiled core must load in the rows' interpreter; from a checkout it is built in place."""

        def compute() -> None:
            self.require_fastrt()
            if self._fastrt_compiled():
                return
            root = self.fastrt_source_root()
            if root is None:
                raise Unavailable("the installed fastrt has no compiled core for %s" % self.python)
            self._log("building fastrt's compiled core (setup.py build_ext --inplace)")
            done = subprocess.run(
                [self.python, "setup.py", "build_ext", "--inplace"],
                cwd=root,
                env=minimal_environ(),
                capture_output=True,
                text=True,
                timeout=900,
            )
            if done.returncode != 0 or not self._fastrt_compiled():
                reason = (done.stderr or done.stdout).strip()[-300:]
                raise Unavailable("compiled core unavailable: build_ext --inplace failed: %s" % reason)

        self._once("compiled", compute)

    def layer(self) -> Layer:
        """The layer zip for this Python (built with build-layer.sh when missing), unzipped in the work dir."""
        return self._once("layer", self._build_and_unzip_layer)

    def _build_and_unzip_layer(self) -> Layer:
        root = self.fastrt_source_root()
        if root is None:
            raise Unavailable("the layer is built from a fastrt source checkout (build-layer.sh)")
        version = self.python_version()
        pattern = os.path.join(root, "dist", "fastrt-python%s-*.zip" % version)
        built = glob.glob(pattern)
        if not built or max(map(os.path.getmtime, built)) < _newest_source(root):
            # Missing, or older than the code it packages: a stale layer would measure old code.
            script = os.path.join(root, "build-layer.sh")
            if not os.path.exists(script):
                raise Unavailable("no up-to-date %s and no build-layer.sh to build it" % pattern)
            self._log("building the layer (build-layer.sh --local --python %s)" % version)
            done = subprocess.run(
                [script, "--local", "--python", version],
                cwd=root,
                env={**minimal_environ(), "FASTRT_PYTHON": self.python},
                capture_output=True,
                text=True,
                timeout=1800,
            )
            if done.returncode != 0:
                reason = (done.stderr or done.stdout).strip()[-300:]
                raise Unavailable("build-layer.sh --local --python %s failed: %s" % (version, reason))
        zips = sorted(glob.glob(pattern), key=os.path.getmtime)
        if not zips:
            raise Unavailable("build-layer.sh wrote no %s" % pattern)
        return _unzip(zips[-1], self.scratch_dir("layer"))


def _newest_source(root: str) -> float:
    """The latest modification time of what the layer is built from (package, layer files)."""
    newest = 0.0
    for folder in ("fastrt", "layer"):
        for dirpath, dirnames, files in os.walk(os.path.join(root, folder)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in files:
                # Under layer/ every file (entry.c, the launcher…); under fastrt/ the sources only
                # (the .c files there are Cython's output, remade by every in-place build).
                if folder == "layer" or name.endswith((".py", ".pxd")):
                    newest = max(newest, os.path.getmtime(os.path.join(dirpath, name)))
    script = os.path.join(root, "build-layer.sh")
    return max(newest, os.path.getmtime(script)) if os.path.exists(script) else newest


def _unzip(zip_path: str, directory: str) -> Layer:
    # zipfile drops the permission bits; they are restored from each entry's external attributes.
    with zipfile.ZipFile(zip_path) as archive:
        unzipped = 0
        for info in archive.infolist():
            target = archive.extract(info, directory)
            mode = info.external_attr >> 16
            if mode and not info.is_dir():
                os.chmod(target, mode & 0o7777)
            unzipped += info.file_size
    if not os.access(os.path.join(directory, "bootstrap"), os.X_OK):
        raise Unavailable("%s has no executable bootstrap at its root" % zip_path)
    return Layer(zip_path, directory, os.path.getsize(zip_path), unzipped)


def interpreter_description(python: str) -> str:
    """A one-line description of an interpreter, for the machine section."""
    if python == sys.executable:
        return "%s (%s)" % (sys.version.split()[0], python)
    done = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True)
    return "%s (%s)" % (done.stdout.strip() or "?", python)
