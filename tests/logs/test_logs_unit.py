"""fastrt.logs on its own: start-up cost, the logging import hook, streams, frames."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time

import pytest

from fastrt import logs

SETUP = "import os; from fastrt.start import Config; from fastrt import logs; logs.setup(Config.from_environ(os.environ))"


def run_python(code: str, env: dict | None = None, args=()) -> subprocess.CompletedProcess:
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    child_env.update(env or {})
    result = subprocess.run(
        [sys.executable, *args, "-c", textwrap.dedent(code)],
        env=child_env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result


@pytest.mark.parametrize("log_format", ["text", "JSON"])
def test_setup_imports_nothing_heavy(log_format: str) -> None:
    result = run_python(SETUP, {"AWS_LAMBDA_LOG_FORMAT": log_format, "AWS_LAMBDA_LOG_LEVEL": "INFO"}, ["-X", "importtime"])
    imported = {line.split("|")[-1].strip() for line in result.stderr.decode().splitlines() if "|" in line}
    assert "fastrt.logs" in imported
    for heavy in ("logging", "json", "re", "traceback", "threading", "enum", "typing", "fastrt.logs_stdlib"):
        assert heavy not in imported


def test_first_logging_import_is_configured_and_unhooked() -> None:
    result = run_python(
        SETUP
        + textwrap.dedent(
            """
            import sys
            assert "logging" not in sys.modules
            hooks = [finder for finder in sys.meta_path if type(finder).__name__ == "_ConfigureLoggingOnImport"]
            assert len(hooks) == 1
            import importlib.util
            assert importlib.util.find_spec("logging") is not None  # a look-up alone changes nothing
            import logging
            assert hooks[0] not in sys.meta_path
            assert logging.__loader__ is logging.__spec__.loader
            assert type(logging.__loader__).__name__ == "SourceFileLoader"
            (handler,) = logging.getLogger().handlers
            assert type(handler).__name__ == "RuntimeLogHandler" and handler.log_sink is logs._sink
            assert logging.Formatter.converter is __import__("time").gmtime
            assert logging.getLogger().level == logging.INFO
            import importlib
            importlib.reload(logging)  # a reload goes through the real loader, unhooked
            print("ok")
            """
        ),
        {"AWS_LAMBDA_LOG_LEVEL": "info"},
    )
    assert result.stdout == b"ok\n"


def test_submodule_import_configures_logging_too() -> None:
    result = run_python(
        SETUP
        + textwrap.dedent(
            """
            import logging.handlers
            import logging
            assert [type(h).__name__ for h in logging.getLogger().handlers] == ["RuntimeLogHandler"]
            logs.set_request("r-1", None)
            logging.getLogger("lib").warning("from a library")
            """
        )
    )
    assert result.stdout.endswith(b"\tr-1\tfrom a library\n")
    assert result.stdout.startswith(b"[WARNING]\t")


def test_logging_loaded_before_setup_is_configured_at_once() -> None:
    run_python(
        "import logging\n"
        + SETUP
        + textwrap.dedent(
            """
            import sys
            assert not any(type(f).__name__ == "_ConfigureLoggingOnImport" for f in sys.meta_path)
            assert [type(h).__name__ for h in logging.getLogger().handlers] == ["RuntimeLogHandler"]
            """
        )
    )


def test_setup_drops_the_telemetry_variable_even_when_unusable() -> None:
    result = run_python(SETUP + "\nprint('_LAMBDA_TELEMETRY_LOG_FD' in os.environ)", {"_LAMBDA_TELEMETRY_LOG_FD": "x"})
    assert result.stdout == b"False\n"


def test_wrapped_streams_keep_their_file_attributes() -> None:
    result = run_python(
        textwrap.dedent(
            """
            import io, sys
            before = [(s.fileno(), s.encoding, s.errors, s.name, s.mode, s.isatty()) for s in (sys.stdout, sys.stderr)]
            """
        )
        + SETUP
        + textwrap.dedent(
            """
            after = [(s.fileno(), s.encoding, s.errors, s.name, s.mode, s.isatty()) for s in (sys.stdout, sys.stderr)]
            assert before == after, (before, after)
            assert isinstance(sys.stdout, io.TextIOBase) and sys.stdout.write_through
            sys.stdout.buffer.write(b"bytes;")  # no buffer between the bytes layer and the fd
            os.write(1, b"fd;")
            sys.stdout.write("text")
            os.write(1, b";fd")
            """
        ),
        {"PYTHONIOENCODING": "latin-1:replace"},
    )
    assert result.stdout == b"bytes;fd;text;fd"


def test_python_unbuffered_streams_are_kept() -> None:
    run_python(
        "import sys; out, err = sys.stdout, sys.stderr\n" + SETUP + "\nassert sys.stdout is out and sys.stderr is err",
        args=["-u"],
    )


def test_stream_without_fd_gets_flush_after_write() -> None:
    class Recorder(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    stream = Recorder()
    wrapped = logs.flushing_stream(stream)
    assert isinstance(wrapped, logs.FlushingWriter)
    assert wrapped.write("abc") == 3
    wrapped.writelines(["d", "e"])
    assert stream.getvalue() == "abcde" and stream.flushes == 2
    assert wrapped.getvalue() == "abcde"  # everything else reaches the stream
    with wrapped as same:
        assert same is wrapped
    assert not stream.closed
    assert logs.flushing_stream(None) is None


def test_replaced_stream_with_fd_keeps_its_own_write() -> None:
    class Tee:
        def __init__(self, stream) -> None:
            self.stream = stream
            self.seen = []

        def fileno(self) -> int:
            return self.stream.fileno()

        def write(self, text: str) -> int:
            self.seen.append(text)
            return self.stream.write(text)

        def flush(self) -> None:
            self.stream.flush()

    tee = Tee(io.StringIO())
    wrapped = logs.flushing_stream(tee)
    assert isinstance(wrapped, logs.FlushingWriter)
    wrapped.write("x")
    assert tee.seen == ["x"]


def test_telemetry_frame_layout() -> None:
    read_end, write_end = os.pipe()
    try:
        sink = logs.TelemetrySink(write_end, logs.JSON_FRAME_TYPES[4])
        before = time.time_ns() // 1000
        sink.log("h\u00e9llo")
        sink.log("typed", logs.TEXT_FRAME_TYPES[2])
        sink.log_error(["line 1", "line 2"])
        after = time.time_ns() // 1000
        sink.file.close()
        data = b""
        while True:
            chunk = os.read(read_end, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(read_end)
    frames = []
    while data:
        length = int.from_bytes(data[4:8], "big")
        frames.append((data[:4].hex(), length, int.from_bytes(data[8:16], "big"), data[16 : 16 + length]))
        data = data[16 + length :]
    assert [(kind, length, body) for kind, length, _, body in frames] == [
        ("a55a0003", 6, "h\u00e9llo".encode()),
        ("a55a000f", 5, b"typed"),
        ("a55a0016", 13, b"line 1\nline 2"),
    ]
    assert all(before <= stamp <= after for _, _, stamp, _ in frames)


def test_telemetry_sink_finishes_short_writes() -> None:
    class ShortWriter:
        def __init__(self) -> None:
            self.data = b""

        def write(self, data) -> int:
            chunk = bytes(data[:5])
            self.data += chunk
            return len(chunk)

    sink = logs.TelemetrySink.__new__(logs.TelemetrySink)
    sink.file = ShortWriter()
    sink.log("a message longer than five bytes")
    assert sink.file.data[16:] == b"a message longer than five bytes"
    assert len(sink.file.data) == 16 + 32


@pytest.mark.parametrize(
    "levelno,index", [(-5, 0), (0, 0), (1, 0), (10, 1), (25, 2), (30, 3), (49, 4), (50, 5), (99, 5)]
)
def test_level_buckets(levelno: int, index: int) -> None:
    assert logs.level_index(levelno) == index


def test_context_log_before_setup_goes_to_stdout() -> None:
    result = run_python("from fastrt import logs; logs.context_log('as is')")
    assert result.stdout == b"as is"
