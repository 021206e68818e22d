"""Security: event content never reaches a shell or an evaluator, the layer's dependencies are
pinned by version and hash, and no credential reaches the logs, even at DEBUG level."""

from __future__ import annotations

import ast
import json
import os
import re

import pytest

from fastrt.emulator import Fault

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FASTRT = os.path.join(REPO, "fastrt")
LAYER = os.path.join(REPO, "layer")


# --- no shell, no eval ----------------------------------------------------------------------------


def _runtime_sources():
    for root, _dirs, files in os.walk(FASTRT):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(root, name)


# The one import by name: the handler module _HANDLER names (configuration, never event content),
# imported as awslambdaric imports it with importlib.import_module.
_ALLOWED = {(os.path.join("fastrt", "handler.py"), "__import__")}


def _dangerous_calls(path: str) -> list:
    """Calls that could run text as code or as a shell command line."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        where = "%s:%d" % (os.path.relpath(path, REPO), node.lineno)
        if isinstance(func, ast.Name) and name in ("eval", "exec", "compile", "__import__"):
            if (os.path.relpath(path, REPO), name) not in _ALLOWED:
                found.append("%s %s()" % (where, name))
        if owner == "os" and (name in ("system", "popen") or name.startswith(("spawn", "exec"))):
            found.append("%s os.%s()" % (where, name))
        if owner in ("pickle", "marshal") and name in ("loads", "load"):
            found.append("%s %s.%s()" % (where, owner, name))
        for keyword in node.keywords:
            if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                found.append("%s shell=%s" % (where, ast.unparse(keyword.value)))
    return found


def test_no_runtime_source_evaluates_text_or_uses_a_shell_command_line():
    sources = list(_runtime_sources())
    assert len(sources) > 10  # the walk really saw the package
    found = [hit for path in sources for hit in _dangerous_calls(path)]
    assert found == []


def test_the_checker_catches_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os, subprocess, pickle\n"
        "eval(x)\nexec(x)\nos.system(x)\nos.execvp('a', [])\nsubprocess.run(x, shell=True)\npickle.loads(b)\n"
        "subprocess.run(['ls'], shell=False)\n"
    )
    assert len(_dangerous_calls(str(sample))) == 6


HOSTILE_TEXT = "$(touch {d}/dollar) `touch {d}/tick` ; touch {d}/semi | touch {d}/pipe && __import__('os').system('touch {d}/py')"


def test_hostile_event_content_is_only_ever_data(serve, tmp_path):
    canary = tmp_path / "canary"
    canary.mkdir()
    text = HOSTILE_TEXT.format(d=canary)
    fn = serve(
        "import os\n"
        "def handler(event, context):\n"
        "    if isinstance(event, bytes):\n"
        "        return event.decode()\n"
        "    return [event, os.environ.get('_X_AMZN_TRACE_ID'), context.client_context and context.client_context.custom]\n"
    )
    result = fn.invoke(
        {"payload": text},
        trace_id=text,
        client_context=json.dumps({"custom": {"k": text}}),
        tenant_id=text,
    )
    assert json.loads(result.body) == [{"payload": text}, text, {"k": text}]
    # As a raw body of another content type, and as a request id (which is refused, not sent).
    assert json.loads(fn.invoke(text.encode(), content_type="text/x-shellscript").body) == text
    fn.emu.enqueue(b"{}", request_id="id;touch %s/rid" % canary)
    assert fn.invoke({"after": 1}).kind == "response"
    assert sorted(os.listdir(canary)) == []


def test_shell_handlers_get_the_event_as_an_argument_not_as_code(serve, tmp_path):
    canary = tmp_path / "canary"
    canary.mkdir()
    text = HOSTILE_TEXT.format(d=canary) + "\n\"'\\ end"
    script = 'handler() {\n  printf "%s" "$1"\n}\n'
    fn = serve("", handler="function.handler", files={"function.sh": script})
    result = fn.invoke(text.encode(), content_type="text/plain")
    assert result.kind == "response", result.body
    assert result.body.decode() == text
    assert sorted(os.listdir(canary)) == []


# --- the layer's dependencies are pinned by version and hash ---------------------------------------


def _logical_lines(path: str) -> list:
    text = open(path).read().replace("\\\n", " ")
    return [line.split("#", 1)[0].strip() if not line.lstrip().startswith("--hash") else line.strip()
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_every_layer_requirement_is_pinned_by_version_and_sha256():
    # The layer helper's design: layer/requirements-*.txt, installed with pip --require-hashes.
    files = sorted(name for name in os.listdir(LAYER) if re.fullmatch(r"requirements.*\.txt", name))
    assert files, "no requirement files in layer/"
    for name in files:
        lines = _logical_lines(os.path.join(LAYER, name))
        assert lines, name
        for line in lines:
            assert re.match(r"^[A-Za-z0-9_.\-\[\]]+==[0-9][A-Za-z0-9_.+!\-]*\s", line + " "), (name, line)
            hashes = re.findall(r"--hash=sha256:([0-9a-f]*)", line)
            assert hashes and all(len(h) == 64 for h in hashes), (name, line)


def test_layer_build_installs_requirements_only_with_require_hashes():
    scripts = [os.path.join(REPO, "build-layer.sh"), os.path.join(LAYER, "build_layer.py"), os.path.join(LAYER, "Dockerfile")]
    pip_lines = []
    for path in scripts:
        if not os.path.exists(path):
            continue
        text = open(path).read().replace("\\\n", " ")
        # Python list-of-args calls span lines: judge each pip invocation with what follows it.
        for match in re.finditer(r"pip[\"']?,?\s+[\"']?(install|download)\b.{0,400}", text, re.S):
            pip_lines.append((os.path.basename(path), match.group(0)))
    with_requirements = [(f, cmd) for f, cmd in pip_lines if "requirements" in cmd or '"-r"' in cmd or " -r " in cmd]
    assert with_requirements, pip_lines
    for f, cmd in with_requirements:
        assert "--require-hashes" in cmd, (f, cmd[:200])


# --- credentials never reach the logs -----------------------------------------------------------------

SECRET = "fakeSecretKeyDoNotLog0123456789abcdefXYZ"
TOKEN = "fakeSessionTokenDoNotLog//0123456789+abcdefXYZ=="
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIAFAKEACCESSKEY000",
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "AWS_SESSION_TOKEN": TOKEN,
    "AWS_LAMBDA_LOG_LEVEL": "DEBUG",
}

NOISY = """
import logging
logging.getLogger().debug("handler module loaded")
def handler(event, context):
    logging.getLogger("app").debug("event %s", event)
    if event.get("kind") == "raise":
        raise RuntimeError("handler failed")
    return event
"""


def _assert_no_credentials(*texts):
    for text in texts:
        for secret in (SECRET, TOKEN, TOKEN.replace("/", "\\/")):
            assert secret not in text


@pytest.mark.parametrize("log_format", ["text", "JSON"])
def test_credentials_never_logged_through_errors_and_protocol_faults(serve, log_format):
    env = dict(CREDENTIALS, AWS_LAMBDA_LOG_FORMAT=log_format)
    fn = serve(NOISY, env=env, start=False)
    for fault in (
        Fault("next", "garbage"),
        Fault("response", "garbage"),
        Fault("response", "status", status=400, body=b'{"errorType":"InvalidRequestID"}'),
        Fault("error", "status", status=413, body=b"{}"),
    ):
        fn.emu.add_fault(fault)
    fn.start()
    fn.invoke({"n": 1})
    fn.emu.enqueue(b'{"kind": "raise"}').wait_results(1, timeout=20)
    fn.emu.enqueue(b"{not json").wait_results(1, timeout=20)
    fn.emu.enqueue(b"{}", content_type=None, client_context="{bad").wait_results(1, timeout=20)
    assert fn.invoke({"n": 2}).kind == "response"
    # Then an exit through a non-recoverable answer, which logs on the way out.
    fn.emu.add_fault(Fault("next", "status", status=500, body=b"{}"))
    fn.emu.enqueue(b"{}")
    assert fn.wait(timeout=20) == 1
    posted = b"".join(r.body for inv in fn.emu.api.invocations.values() for r in inv.results).decode("latin-1")
    headers = json.dumps([r.headers for inv in fn.emu.api.invocations.values() for r in inv.results])
    assert "LAMBDA_RUNTIME" in fn.stdout  # the faults really produced runtime log lines
    assert "handler module loaded" in fn.stdout  # and DEBUG records really were written
    _assert_no_credentials(fn.stdout, fn.stderr, posted, headers)


def test_credentials_never_logged_on_init_errors(serve):
    fn = serve("import logging\nlogging.getLogger().debug('x')\nraise ImportError('cannot load')\n", env=CREDENTIALS)
    assert fn.wait(timeout=20) == 1
    report = fn.emu.init_error
    assert report is not None and "cannot load" in report.body.decode()
    _assert_no_credentials(fn.stdout, fn.stderr, report.body.decode("latin-1"), json.dumps(report.headers))
