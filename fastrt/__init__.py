"""fastrt — a fast, drop-in AWS Lambda runtime for Python.

``python -m fastrt module.function`` serves a handler the way awslambdaric does;
``fastrt.serve(callable)`` does the same from a bootstrap of your own.

This module stays tiny: it is imported on every cold start. ``FASTRT_PURE=1`` makes the
compiled core step aside so the same source runs as plain Python.
"""

import os as _os

# typing.TYPE_CHECKING without importing typing at every cold start (type checkers treat any
# name TYPE_CHECKING as true): the names below exist for them only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping
    from typing import Any

    from fastrt.shutdown import on_shutdown as on_shutdown
    from fastrt.stream import streaming as streaming

    COMPILED: bool

__version__ = "0.1.0"

# The modules Cython compiles (setup.py reads this list). Each is valid plain Python too.
COMPILED_MODULES = ("protocol", "transport", "loop", "marshal")

# FASTRT_PURE=1: the compiled modules are imported from their .py.
_PURE = _os.environ.get("FASTRT_PURE", "") not in ("", "0")

if _PURE:
    import sys as _sys

    # Defined only when asked for: a class statement is work at every cold start.
    class _PureSourceFinder:
        """Finds the plain ``.py`` of the compiled modules, ahead of the extension beside it."""

        @staticmethod
        def find_spec(fullname: str, path=None, target=None):
            package, _, name = fullname.rpartition(".")
            if package != "fastrt" or name not in COMPILED_MODULES:
                return None
            from importlib.machinery import ModuleSpec, SourceFileLoader

            location = _os.path.join(_os.path.dirname(__file__), name + ".py")
            spec = ModuleSpec(fullname, SourceFileLoader(fullname, location), origin=location)
            spec.has_location = True
            return spec

    _sys.meta_path.insert(0, _PureSourceFinder)


def serve(handler: "Callable[[Any, Any], object]", *, environ: "MutableMapping[str, str] | None" = None) -> None:
    """Serve ``handler(event, context)`` on the Runtime API named by AWS_LAMBDA_RUNTIME_API.

    For a bootstrap of your own that already holds the function; never returns.
    """
    from fastrt.start import run

    run(handler=handler, environ=environ)


def __getattr__(name: str) -> object:
    # Attributes that cost an import are resolved on first use only.
    if name == "COMPILED":
        from fastrt import loop

        return not loop.__file__.endswith(".py")
    if name in ("streaming", "on_shutdown"):
        import importlib

        module = importlib.import_module("fastrt.stream" if name == "streaming" else "fastrt.shutdown")
        return getattr(module, name)
    raise AttributeError("module 'fastrt' has no attribute %r" % name)
