"""Fixtures of the runtime suite; the harness itself is ``runtime_harness.py`` (a module with a
unique name, so other suites can import it without clashing with their own conftest)."""

from runtime_harness import emulator, serve  # noqa: F401  (pytest finds fixtures by name)
