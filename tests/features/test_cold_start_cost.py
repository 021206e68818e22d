"""The features cost nothing on the plain path: none of their modules is imported by a
plain synchronous handler, at start-up or while serving."""

from __future__ import annotations

import json

from feature_harness import invoke

FEATURE_MODULES = ["fastrt.aio", "fastrt.shell", "fastrt.shutdown", "fastrt.snapstart", "fastrt.stream", "fastrt.workers",
                   "asyncio", "select"]

APP = """
    import sys

    AT_IMPORT = sorted(m for m in sys.modules if m.startswith("fastrt."))

    def handler(event, context):
        names = %r
        return {"at_import": AT_IMPORT, "now": sorted(m for m in names if m in sys.modules)}
""" % (FEATURE_MODULES,)


def test_plain_handler_imports_no_feature_module(function, emulator):
    function({"app.py": APP})
    first = json.loads(invoke(emulator, {}).body)
    second = json.loads(invoke(emulator, {}).body)
    assert first["now"] == [] and second["now"] == []
    assert not set(first["at_import"]) & set(FEATURE_MODULES)
