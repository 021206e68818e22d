"""``python -m bench.soak [--invocations N]``: many small invocations through one runtime process.

The emulator runs in this process (its Python API, in a thread); the runtime under test is a
subprocess serving an echo handler. Events are fed in batches, every answer is checked
(exactly one accepted post per event, carrying the event back), and the runtime's resident
memory (VmRSS) is sampled after warm-up and at the end. Exit status 0 means: nothing lost,
nothing answered twice, the runtime still alive, and RSS flat within ``--max-rss-growth-kib``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

from fastrt.emulator import Emulator

ECHO_HANDLER = "def handler(event, context):\n    return event\n"


@dataclass
class SoakResult:
    invocations: int
    seconds: float
    per_second: float
    rss_start_kib: int  # after warm-up
    rss_end_kib: int
    rss_max_kib: int
    lost: int  # events with no accepted answer
    duplicated: int  # events with more than one post
    wrong: int  # accepted answers whose body is not the event
    runtime_alive: bool
    rss_samples_kib: list = field(default_factory=list)

    @property
    def rss_growth_kib(self) -> int:
        return self.rss_end_kib - self.rss_start_kib

    def ok(self, max_rss_growth_kib: int) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.wrong == 0
            and self.runtime_alive
            and self.rss_growth_kib <= max_rss_growth_kib
        )


def vm_rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB, from /proc (Linux)."""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def run_soak(
    invocations: int,
    *,
    python: str = sys.executable,
    batch: int = 2000,
    warmup: int | None = None,
    env: dict | None = None,
    progress=None,
) -> SoakResult:
    """Serve ``invocations`` echo events through a fresh runtime process; see the module doc."""
    if warmup is None:
        warmup = min(max(invocations // 20, batch), 50000)
    workdir = tempfile.mkdtemp(prefix="fastrt-soak-")
    task_root = os.path.join(workdir, "task")
    os.makedirs(task_root)
    with open(os.path.join(task_root, "app.py"), "w") as f:
        f.write(ECHO_HANDLER)
    emu = Emulator(function_name="soak", timeout=900.0, memory_mb=128, record_requests=False).start()
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    if os.environ.get("FASTRT_PURE"):
        child_env["FASTRT_PURE"] = os.environ["FASTRT_PURE"]
    child_env.update(emu.lambda_env("app.handler", task_root))
    child_env.update(env or {})
    log = open(os.path.join(workdir, "runtime.log"), "wb")
    proc = subprocess.Popen(
        [python, "-m", "fastrt"], cwd=task_root, env=child_env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    counts = {"lost": 0, "duplicated": 0, "wrong": 0}
    samples = []
    rss_start = None
    started = time.perf_counter()
    timed_from = started
    served = 0
    try:
        pending = []  # batches fed but not yet checked: (first index, invocations)
        next_index = 0
        while served < invocations:
            # Two batches in flight: the runtime never waits for the feeder.
            while len(pending) < 2 and next_index < invocations:
                size = min(batch, invocations - next_index)
                events = [b'{"i":%d}' % i for i in range(next_index, next_index + size)]
                pending.append((next_index, emu.enqueue_many(events)))
                next_index += size
            first, fed = pending.pop(0)
            _check_batch(emu, first, fed, counts, proc)
            served += len(fed)
            if rss_start is None and served >= warmup:
                rss_start = vm_rss_kib(proc.pid)
                samples.append(rss_start)
                timed_from = time.perf_counter()
                timed_base = served
            elif rss_start is not None and served % max(batch, invocations // 20) < len(fed):
                samples.append(vm_rss_kib(proc.pid))
            if progress is not None:
                progress(served, invocations)
        elapsed = time.perf_counter() - timed_from
        rss_end = vm_rss_kib(proc.pid)
        samples.append(rss_end)
        alive = proc.poll() is None
    finally:
        proc.kill()
        proc.wait(10)
        log.close()
        emu.stop()
    timed = served - (timed_base if rss_start is not None else 0)
    if rss_start is None:  # fewer invocations than the warm-up: measure the whole run
        rss_start = samples[0] if samples else rss_end
        elapsed = time.perf_counter() - started
        timed = served
    return SoakResult(
        invocations=served,
        seconds=round(time.perf_counter() - started, 2),
        per_second=round(timed / elapsed, 1) if elapsed > 0 else 0.0,
        rss_start_kib=rss_start,
        rss_end_kib=rss_end,
        rss_max_kib=max(samples),
        lost=counts["lost"],
        duplicated=counts["duplicated"],
        wrong=counts["wrong"],
        runtime_alive=alive,
        rss_samples_kib=samples,
    )


def _check_batch(emu: Emulator, first: int, fed: list, counts: dict, proc) -> None:
    """Wait for the batch's answers, count lost/duplicated/wrong ones, then forget the batch."""
    last = fed[-1]
    try:
        last.wait_accepted(timeout=60.0)
    except TimeoutError:
        if proc.poll() is not None:
            raise RuntimeError("the runtime exited with %s during the soak" % proc.returncode) from None
    for offset, inv in enumerate(fed):
        results = inv.results
        accepted = [r for r in results if r.accepted]
        if not accepted:
            counts["lost"] += 1
        if len(results) > 1:
            counts["duplicated"] += 1
        if accepted and json.loads(accepted[0].body) != {"i": first + offset}:
            counts["wrong"] += 1
    # The runtime serves one event at a time and never posts for an older one once it has
    # moved on, so a checked batch can be dropped: the emulator's memory stays flat too.
    ids = [inv.request_id for inv in fed]
    emu.call(_forget, emu.api.invocations, ids)


def _forget(invocations: dict, ids: list) -> None:
    for request_id in ids:
        invocations.pop(request_id, None)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--invocations", type=int, default=1_000_000, metavar="N", help="events to serve (default 1,000,000)")
    parser.add_argument("--python", default=sys.executable, help="interpreter running the runtime (default: this one)")
    parser.add_argument("--batch", type=int, default=2000, help="events handed to the emulator at once")
    parser.add_argument("--max-rss-growth-kib", type=int, default=2048, help="allowed RSS growth after warm-up")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    args = parser.parse_args(argv)
    if args.invocations <= 0 or args.batch <= 0:
        parser.error("--invocations and --batch must be positive")

    def progress(done: int, total: int) -> None:
        if done % (args.batch * 50) < args.batch or done == total:
            sys.stderr.write("\rsoak: %d/%d" % (done, total))
            sys.stderr.flush()

    result = run_soak(args.invocations, python=args.python, batch=args.batch, progress=progress)
    sys.stderr.write("\n")
    print(
        "invocations %d in %.1f s: %.0f inv/s after warm-up\n"
        "runtime VmRSS: start %d KiB, end %d KiB (growth %+d KiB, max %d KiB)\n"
        "lost %d, duplicated %d, wrong %d, runtime alive: %s"
        % (
            result.invocations,
            result.seconds,
            result.per_second,
            result.rss_start_kib,
            result.rss_end_kib,
            result.rss_growth_kib,
            result.rss_max_kib,
            result.lost,
            result.duplicated,
            result.wrong,
            "yes" if result.runtime_alive else "NO",
        )
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(asdict(result), rss_growth_kib=result.rss_growth_kib), f, indent=2)
    ok = result.ok(args.max_rss_growth_kib)
    print("soak: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
