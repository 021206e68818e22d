"""Start-up beyond ``python -m fastrt``: the embedding API, and the collector a handler finds."""

import json
import subprocess
import sys

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
