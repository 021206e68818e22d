"""Fixtures of the feature tests; the helpers live in feature_harness (a unique module name,
so that other test directories' conftest modules cannot shadow them)."""

from feature_harness import function  # noqa: F401  (pytest fixtures)
from runtime_harness import emulator  # noqa: F401
