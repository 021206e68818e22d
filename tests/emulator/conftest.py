"""Fixtures of the emulator suite; helpers live in ``emulator_harness.py`` (a unique module name,
so running several suites in one pytest call cannot mix up their conftest modules)."""

from emulator_harness import client, emulator, start_runtime  # noqa: F401  (fixtures, found by name)
