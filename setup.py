"""Build the compiled core: the modules named in fastrt.COMPILED_MODULES, each a .py with a
.pxd beside it, go through Cython. Without Cython (or with FASTRT_NO_EXT=1) nothing is
compiled and the same sources run as plain Python."""

import ast
import os

from setuptools import setup


def compiled_modules():
    # Read the list without importing fastrt (its import depends on the environment).
    tree = ast.parse(open(os.path.join("fastrt", "__init__.py")).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "COMPILED_MODULES":
            return ast.literal_eval(node.value)
    raise RuntimeError("fastrt/__init__.py lost COMPILED_MODULES")


def extensions():
    if os.environ.get("FASTRT_NO_EXT"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("fastrt: Cython not installed, building the pure-Python package")
        return []
    extensions = cythonize(
        ["fastrt/%s.py" % name for name in compiled_modules()],
        compiler_directives={
            "language_level": 3,
            # Types come from the .pxd files only, so the .py keeps plain-Python semantics.
            "annotation_typing": False,
            "embedsignature": False,
            # Plain C functions instead of Cython's introspectable function objects: each
            # module's init then builds no code object per function (~0.5M instructions less
            # per cold start). Nothing in the runtime introspects its own internals.
            # With it, and with no generator expression and no Python class in these modules
            # (list comprehensions and .pxd extension types instead), Cython also skips its
            # shared function and generator types: nothing but static types is built at import.
            "binding": False,
            # No generated pickle support (__reduce_cython__, __setstate_cython__, one unpickle
            # function per type, set up at init): ~0.2M instructions less per cold start. Nothing
            # pickles these internal types; their exceptions pickle as every exception does.
            "auto_pickle": False,
        },
        quiet=True,
    )
    for extension in extensions:
        # Release builds: no debug info and stripped symbols load faster at every cold start.
        extension.extra_compile_args += ["-g0"]
        extension.extra_link_args += ["-s"]
    return extensions


setup(ext_modules=extensions())
