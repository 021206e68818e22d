"""Finding the user's handler: ``sys.path`` as the managed runtime builds it, then the import.

Every failure becomes a :class:`fastrt.errors.FaultError` with the errorType and message of
awslambdaric (contract §1.6, §1.7), except exceptions raised by the module's own top-level
code, which propagate unchanged and are reported by class name, as the reference does.
"""

import os
import sys

# Where Lambda unpacks layers; FASTRT_LAYER_ROOT stands in for it in tests.
DEFAULT_OPT = "/opt"
# The managed runtimes' interpreter site-packages, which their bootstrap puts ahead of the
# standard library from python3.11 on (contract §1.1; earlier images kept boto3 in /var/runtime).
MANAGED_SITE_PACKAGES = "/var/lang/lib/python%d.%d/site-packages"


def prepare_sys_path(environ, task_root: str, version: tuple = sys.version_info) -> None:
    """Reproduce the managed runtime's ``sys.path`` (contract §1.1).

    Without PYTHONPATH: task root, the layer's ``python/lib/pythonX.Y/site-packages`` and
    ``python`` folders, the managed interpreter's site-packages (where the 3.11+ runtimes keep
    boto3), then the runtime dir (where the managed runtime's own script folder would stand).
    With PYTHONPATH: only the task root. Inserted as the managed runtime inserts them, even when
    already on ``sys.path`` further back: the first copy decides. ``.pth`` files in those
    folders are honoured through ``site.addsitedir``. Under ``python -m`` the working directory
    follows the task root when it is another folder.
    """
    import site  # already imported by the interpreter at start-up unless -S

    user_pythonpath = environ.get("PYTHONPATH")
    opt = environ.get("FASTRT_LAYER_ROOT") or DEFAULT_OPT
    runtime_dir = environ.get("LAMBDA_RUNTIME_DIR")
    # `python -m fastrt` put the working directory first, as `python -m awslambdaric` does. It
    # stays importable, behind the task root: container images built the way AWS documents for
    # awslambdaric keep their code in the WORKDIR, not in LAMBDA_TASK_ROOT.
    working_dir = working_directory()
    if sys.path and sys.path[0] in ("", working_dir):
        del sys.path[0]
    else:
        working_dir = ""  # not started by `python -m`: nothing of the user's to keep
    front = [task_root] if task_root else []
    if working_dir and working_dir != task_root:
        front.append(working_dir)
    if not user_pythonpath:
        layer_dirs = [
            "%s/python/lib/python%d.%d/site-packages" % (opt, version[0], version[1]),
            "%s/python" % opt,
        ]
        front += layer_dirs
        front.append(MANAGED_SITE_PACKAGES % (version[0], version[1]))
    if runtime_dir and runtime_dir not in sys.path:
        front.append(runtime_dir)
    sys.path[0:0] = front
    if task_root:
        _add_site_dir(site, task_root)
    if not user_pythonpath:
        for path in layer_dirs:
            _add_site_dir(site, path)
        if runtime_dir:
            # Child processes of the function see the runtime dir, as under the reference.
            environ["PYTHONPATH"] = runtime_dir


def _add_site_dir(site, path: str) -> None:
    """``site.addsitedir(path)`` for a folder just put on ``sys.path``, with the same effect but
    its full work (a stat of every ``sys.path`` entry first: a third of a millisecond per cold
    start for the three folders) only where a ``.pth`` file may need it."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        # All addsitedir does with a missing folder: append it to sys.path (again; it only
        # knows the entries that exist).
        sys.path.append(os.path.abspath(path))
        return
    except OSError:
        names = None  # unreadable: addsitedir decides
    # Any .pth at all, hidden ones too: which of them count differs between versions of site.
    if names is None or any(name.endswith(".pth") for name in names):
        site.addsitedir(path)


def working_directory() -> str:
    """The working directory, or "" when it no longer exists."""
    try:
        return os.getcwd()
    except OSError:
        return ""


def _errors():
    # fastrt.errors shapes failures only: imported by the first one, never on the cold start.
    from fastrt import errors

    return errors


def load(handler: str | None, task_root: str = ""):
    """Import the module named by ``handler`` (``module.function``) and return the function.

    A ``module.sh`` in the task root with no ``module.py`` beside it is a shell handler, served
    the seed's way (:mod:`fastrt.shell`).
    """
    if not handler:
        errors = _errors()
        raise errors.FaultError(
            errors.MALFORMED_HANDLER_NAME,
            "Handler not set: pass it as `python -m fastrt module.function` or set _HANDLER",
        )
    modname, dot, fname = handler.rpartition(".")
    if not dot:
        raise _errors().malformed_handler(handler)
    if modname.split(".")[0] in sys.builtin_module_names:
        raise _errors().built_in_conflict(modname)
    if task_root and _is_shell_handler(task_root, modname):
        from fastrt import shell

        return shell.load(task_root, modname, fname)
    try:
        module = _import(modname.replace("/", "."))
    except ImportError as exc:
        raise _errors().import_failed(modname, exc) from None
    except SyntaxError as exc:
        raise _errors().syntax_error(modname, exc) from None
    try:
        return getattr(module, fname)
    except AttributeError:
        raise _errors().handler_missing(fname, modname) from None


def _import(name: str):
    """``importlib.import_module(name)``, without importing ``importlib`` and ``warnings``
    (a millisecond of every cold start): ``__import__`` then ``sys.modules`` give the same
    module and the same errors for every absolute name."""
    if name.startswith("."):
        import importlib  # a relative name: its TypeError is importlib's own

        return importlib.import_module(name)
    __import__(name)
    return sys.modules[name]


def _is_shell_handler(task_root: str, modname: str) -> bool:
    base = os.path.join(task_root, modname.replace(".", "/"))
    return os.path.isfile(base + ".sh") and not os.path.exists(base + ".py")


# co_flags bits of `async def` functions and async generators (inspect is too costly to import).
_CO_COROUTINE = 0x80
_CO_ASYNC_GENERATOR = 0x200


def adapt(handler):
    """Return a plain ``handler(event, context)`` callable for whatever the user gave.

    ``async def`` handlers (and async-generator streaming handlers) run on one event loop that
    lives as long as the process (:mod:`fastrt.aio`); plain callables are returned unchanged.
    """
    code = getattr(handler, "__code__", None)
    if code is None:
        code = getattr(getattr(handler, "__call__", None), "__code__", None)
    if code is not None and code.co_flags & (_CO_COROUTINE | _CO_ASYNC_GENERATOR):
        from fastrt import aio

        return aio.wrap(handler)
    return handler
