"""Start-up beyond ``python -m fastrt``: the embedding API, the collector a handler finds, how
fastrt imports its start-up modules, what the compiled core builds at import, and how the
command line and AWS_LAMBDA_MAX_CONCURRENCY are read."""

import json
import subprocess
import sys

import pytest

from runtime_harness import PURE

# fastrt pauses the garbage collector while it imports itself; the handler must find it on.
COLLECTOR_STATE = """
import gc

FROZEN_AT_IMPORT = gc.get_freeze_count()

def handler(event, context):
    return {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count(), "frozen_at_import": FROZEN_AT_IMPORT,
            "event": event, "request_id": context.aws_request_id}

if __name__ == "__main__":
    import fastrt

    fastrt.serve(handler)
"""


def _served(fn, count=3):
    answers = []
    for n in range(count):
        result = fn.invoke({"n": n})
        assert result.kind == "response", (result.kind, result.body, fn.stderr)
        body = json.loads(result.body)
        assert body["event"] == {"n": n} and body["request_id"] == result.request_id
        answers.append(body)
    return answers


# Freezing the start-up moves thousands of objects to the permanent generation; the count of
# what is already there may drift by a few (containers untracked and tracked again).
_A_FREEZE = 1000


def _frozen_by_the_interpreter() -> int:
    # Some interpreters keep objects of their own in the permanent generation (3.12: a few hundred).
    done = subprocess.run(
        [sys.executable, "-c", "import gc; print(gc.get_freeze_count())"], stdout=subprocess.PIPE, check=True
    )
    return int(done.stdout)


def test_handler_finds_the_collector_on_and_fastrts_start_up_frozen(serve):
    # By itself fastrt freezes what exists before the handler's import: the interpreter's and
    # its own start-up, which no collection then needs to walk again.
    baseline = _frozen_by_the_interpreter()
    for body in _served(serve(COLLECTOR_STATE)):
        assert body["enabled"] is True
        assert body["frozen_at_import"] > baseline + _A_FREEZE


def test_embedding_api_serves_a_callable_and_freezes_nothing(serve):
    # fastrt.serve(handler) from the user's own bootstrap: the same loop and context, and the
    # caller's objects are left to the collector (they may hold garbage).
    for body in _served(serve(COLLECTOR_STATE, runtime="fastrt-embedded")):
        assert body["enabled"] is True
        assert body["frozen"] < body["frozen_at_import"] + _A_FREEZE


# What a module's import left on it and on its spec (loaders described by class and path).
DESCRIBE_MODULE = """
import sys

def describe(name):
    module = sys.modules[name]
    spec = module.__spec__
    return {
        "file": module.__file__, "cached": getattr(module, "__cached__", None), "package": module.__package__,
        "loader": [type(module.__loader__).__name__, module.__loader__.path], "spec_loader_is_module_loader":
        spec.loader is module.__loader__, "name": spec.name, "origin": spec.origin, "spec_cached": spec.cached,
        "has_location": spec.has_location, "parent": spec.parent, "search": spec.submodule_search_locations,
        "on_package": getattr(sys.modules["fastrt"], name.rpartition(".")[2], None) is module,
    }
"""

# fastrt's own start-up modules are loaded from their files without the path search: the
# handler of a bootstrap that spied on sys.meta_path before fastrt.serve() reports what the
# finders were asked for, and how each start-up module looks.
SEARCH_SPY = DESCRIBE_MODULE + """
searched = []

class Spy:
    @staticmethod
    def find_spec(name, path=None, target=None):
        searched.append(name)
        return None

def handler(event, context):
    from fastrt.start import STARTUP_MODULES

    return {"searched": searched, "modules": {name: describe("fastrt." + name) for name in STARTUP_MODULES}}

if __name__ == "__main__":
    sys.meta_path.insert(0, Spy)
    import fastrt

    fastrt.serve(handler)
"""

# The same modules imported the usual way, for comparison.
IMPORTED_AS_USUAL = DESCRIBE_MODULE + """
import json
import fastrt.start

for name in fastrt.start.STARTUP_MODULES:
    __import__("fastrt." + name)
print(json.dumps({name: describe("fastrt." + name) for name in fastrt.start.STARTUP_MODULES}))
"""


def test_startup_modules_skip_the_path_search_and_look_as_if_imported(serve):
    result = serve(SEARCH_SPY, runtime="fastrt-embedded").invoke({})
    assert result.kind == "response", (result.body,)
    seen = json.loads(result.body)
    modules = seen["modules"]
    assert sorted(modules) == sorted(["logs", "handler", "protocol", "transport", "context", "marshal", "loop"])
    assert [name for name in seen["searched"] if name.startswith("fastrt.") and name[7:] in modules] == []
    # The search still runs for everything else: the spy was consulted.
    assert "fastrt.start" in seen["searched"]
    usual = subprocess.run([sys.executable, "-c", IMPORTED_AS_USUAL], capture_output=True, text=True)
    assert usual.returncode == 0, usual.stderr
    assert modules == json.loads(usual.stdout)
    compiled_loader = "SourceFileLoader" if PURE else "ExtensionFileLoader"
    assert modules["loop"]["loader"][0] == compiled_loader and modules["context"]["loader"][0] == "SourceFileLoader"


# Compiled, the core's modules build only static (extension) types at import: a Python class
# statement costs three times as much at every cold start, and one generator expression or
# Python-class method brings Cython's shared types (a module and three more types) with it.
CORE_TYPES = """
import json, sys
import fastrt, fastrt.loop
found = {}
for name in fastrt.COMPILED_MODULES:
    module = sys.modules["fastrt." + name]
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == module.__name__:
            found[module.__name__ + "." + value.__name__] = bool(value.__flags__ & (1 << 9))
print(json.dumps({"compiled": fastrt.COMPILED, "types": found,
                  "cython_shared": sorted(m for m in sys.modules if m.startswith("_cython_"))}))
"""


@pytest.mark.skipif(PURE, reason="the pure-Python mode builds Python classes by definition")
def test_compiled_core_builds_only_static_types():
    run = subprocess.run([sys.executable, "-c", CORE_TYPES], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["compiled"] is True
    assert "fastrt.loop.Runtime" in seen["types"] and "fastrt.transport.ConnectionLost" in seen["types"]
    assert [name for name, heap in seen["types"].items() if heap] == []
    assert seen["cython_shared"] == []


@pytest.mark.parametrize(
    "value, workers", [("4", 4), (" 4 ", 4), ("0", None), ("", None), ("four", None), (None, None)]
)
def test_max_concurrency_is_read_with_int_as_by_the_reference(value, workers) -> None:
    from fastrt.start import Config

    environ = {} if value is None else {"AWS_LAMBDA_MAX_CONCURRENCY": value}
    assert Config.from_environ(environ).max_concurrency == workers


@pytest.mark.parametrize(
    "value, on",
    [(None, True), ("", True), ("1", True), ("yes", True), ("0", False), ("false", False), ("No", False), ("OFF", False)],
)
def test_pipelining_is_on_unless_switched_off(value, on) -> None:
    from fastrt.start import Config

    environ = {} if value is None else {"FASTRT_PIPELINING": value}
    assert Config.from_environ(environ).pipelining is on


def test_arguments_after_the_handler_are_ignored_as_by_the_reference(monkeypatch) -> None:
    from fastrt import start

    seen = []
    monkeypatch.setattr(start, "run", lambda handler_name=None: seen.append(handler_name))
    start.main(["fastrt", "app.handler", "extra", "--flag"])
    assert seen == ["app.handler"]
