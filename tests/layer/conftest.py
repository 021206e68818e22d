"""Fixtures of the layer suite; helpers live in ``layer_harness.py`` (a unique module name, so
running several suites in one pytest call cannot mix up their conftest modules)."""

from layer_harness import base_python, build_layer, layer_root, layer_zip  # noqa: F401  (fixtures, found by name)
