"""The order of a bench run: interleaved cold starts, then interleaved warm blocks, then throughput.

Rows take turns (A B C A B C …) in every phase, so a slow drift of the machine (thermal, another
tenant) spreads over all rows instead of favouring the ones measured first. A row that cannot be
prepared, or that loses or corrupts an event, gets an error instead of numbers; a runtime that
dies at one event size (seed-bash's curl cannot take a 1 MiB argument) fails that size only.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass, field, replace

from fastrt.emulator import Emulator

from bench import measure
from bench.events import SIZES, EchoChecker, make_events
from bench.measure import RuntimeFailed, RuntimeProcess, WrongAnswer
from bench.prepare import Toolbox, Unavailable
from bench.progress import Progress
from bench.runtimes import ROWS, Launch


@dataclass(frozen=True)
class Profile:
    """How much to measure. ``--quick`` is a first look; the default gives stable medians."""

    cold_trials: int
    blocks: int  # warm rounds per event size; each row runs one block per round
    per_block: dict[str, int]  # invocations per block, by size
    warmup: dict[str, int]  # unmeasured invocations before each block (each in a fresh process)
    cell_budget_s: float  # wall-clock cap per row and size, over all blocks (slow rows do fewer)
    throughput_events: int  # queued at once, at most ...
    throughput_rounds: int
    throughput_budget_s: float  # ... and about as many as the row's small latency allows in this time
    capacity_invocations: int

    def scaled(self, factor: float) -> Profile:
        """Every count multiplied by ``factor`` (at least one of each)."""

        def times(n: int) -> int:
            return max(1, round(n * factor))

        return replace(
            self,
            cold_trials=times(self.cold_trials),
            per_block={size: times(n) for size, n in self.per_block.items()},
            warmup={size: times(n) for size, n in self.warmup.items()},
            cell_budget_s=self.cell_budget_s * factor,
            throughput_budget_s=self.throughput_budget_s * factor,
            throughput_events=times(self.throughput_events),
            capacity_invocations=times(self.capacity_invocations),
        )


QUICK = Profile(
    # Enough cold starts and 1 MiB events that one slow sample cannot move a median by itself.
    # Cold starts on this kind of shared 2-core VM are bimodal (the floor: 15 or 25 ms), so
    # their medians want more samples than the rest: 10 gave 1.08-1.31x for one build.
    cold_trials=20,
    # Three blocks, not two: the median of two processes is their mean, which one slow process
    # moves by half its excess (two processes of a runtime differ by up to ~10% in CPU per event).
    blocks=3,
    per_block={"small": 150, "1MiB": 8, "5.5MiB": 1},
    warmup={"small": 20, "1MiB": 1, "5.5MiB": 1},
    cell_budget_s=2.0,
    throughput_events=300,
    throughput_rounds=2,
    throughput_budget_s=0.5,
    capacity_invocations=1000,
)
DEFAULT = Profile(
    cold_trials=30,
    blocks=5,
    per_block={"small": 1000, "1MiB": 20, "5.5MiB": 4},
    warmup={"small": 100, "1MiB": 3, "5.5MiB": 1},
    cell_budget_s=20.0,
    throughput_events=2000,
    throughput_rounds=3,
    throughput_budget_s=2.0,
    capacity_invocations=5000,
)


@dataclass
class RowSamples:
    """Everything measured for one row, before summarising."""

    name: str
    error: str | None = None
    cold: list[measure.ColdStart] = field(default_factory=list)
    blocks: dict[str, list[measure.Block]] = field(default_factory=lambda: {size: [] for size in SIZES})
    size_errors: dict[str, str] = field(default_factory=dict)
    throughput: list[float] = field(default_factory=list)
    warm_peak_rss_mib: float | None = None
    # VmHWM read right after each size's warm blocks, of the process that ran the last block:
    # the peak of a runtime that has served events of that size (warm-up and one block).
    peak_rss_after_mib: dict[str, float] = field(default_factory=dict)
    invocations: int = 0


@dataclass
class RunSamples:
    rows: dict[str, RowSamples]
    emulator_capacity_per_s: float
    layer: object | None  # prepare.Layer when fastrt-layer was prepared


class _Run:
    def __init__(self, names: list[str], tools: Toolbox, profile: Profile, progress: Progress) -> None:
        self.tools = tools
        self.profile = profile
        self.progress = progress
        self.events = make_events()
        self.checker = EchoChecker(self.events)
        self.rows = {name: RowSamples(name) for name in names}
        self.launches: dict[str, Launch] = {}
        self.sessions: dict[str, RuntimeProcess] = {}
        self._logs = tools.scratch_dir("logs")
        self._process_count = 0

    def active(self) -> list[str]:
        return [name for name, row in self.rows.items() if row.error is None]

    def new_process(self, name: str) -> RuntimeProcess:
        self._process_count += 1
        log = os.path.join(self._logs, "%s.%d.log" % (name, self._process_count))
        return RuntimeProcess(self.launches[name], log, self.checker)

    def prepare(self) -> None:
        for name in self.rows:
            self.progress.show("prepare", name)
            try:
                self.launches[name] = ROWS[name](self.tools)
            except Unavailable as exc:
                self.rows[name].error = str(exc)

    def cold_starts(self) -> None:
        trials = self.profile.cold_trials
        for trial in range(trials):
            for name in self.active():
                self.progress.show("cold starts", "%d/%d  %s" % (trial + 1, trials, name))
                try:
                    self.rows[name].cold.append(measure.cold_start(self.new_process(name), self.events["small"]))
                except RuntimeFailed as exc:
                    self.rows[name].error = "cold start: %s" % exc

    def session(self, name: str) -> RuntimeProcess:
        """The row's warm process, relaunched if an earlier size killed it."""
        process = self.sessions.get(name)
        if process is None or not process.alive():
            if process is not None:
                self._retire(name)
            process = self.new_process(name)
            self.sessions[name] = process
            process.start()
        return process

    def _retire(self, name: str) -> None:
        process = self.sessions.pop(name)
        self.rows[name].invocations += process.invocations
        try:
            process.verify_one_answer_each()
        finally:
            process.stop()

    def _guarded(self, name: str, size: str, step) -> None:
        # A dead runtime fails the size; a wrong answer fails the whole row.
        row = self.rows[name]
        try:
            step()
        except WrongAnswer as exc:
            row.error = "%s: %s" % (size, exc)
            self._stop_session(name)
        except RuntimeFailed as exc:
            row.size_errors[size] = str(exc)
            self._stop_session(name)

    def _stop_session(self, name: str) -> None:
        process = self.sessions.pop(name, None)
        if process is not None:
            self.rows[name].invocations += process.invocations
            process.stop()

    def warm(self) -> None:
        # Every block runs in a process of its own, warmed up first. Two processes of the same
        # runtime differ by up to ~10% in CPU per event (where their memory lands in the
        # caches), more than the gaps the targets judge; a row's median over its blocks is then
        # a median over as many processes, not the luck of one.
        profile = self.profile
        for size, event in self.events.items():
            budget = profile.cell_budget_s / profile.blocks
            for block in range(profile.blocks):
                for name in [n for n in self.active() if size not in self.rows[n].size_errors]:
                    self.progress.show("warm %s" % size, "%d/%d  %s" % (block + 1, profile.blocks, name))

                    def step(name=name) -> None:
                        if name in self.sessions:
                            self._retire(name)
                        process = self.session(name)
                        measure.warm_block(process, size, event, profile.warmup[size], budget / 4)
                        measured = measure.warm_block(process, size, event, profile.per_block[size], budget)
                        self.rows[name].blocks[size].append(measured)

                    self._guarded(name, size, step)
            for name in [n for n in self.active() if size not in self.rows[n].size_errors]:
                if self.sessions[name].alive():
                    self.rows[name].peak_rss_after_mib[size] = self.sessions[name].peak_rss_mib()

    def _throughput_events(self, row: RowSamples) -> int:
        # Slow rows (seed-bash) get a batch they can finish in about the budget.
        latencies = [s for block in row.blocks["small"] for s in block.latencies_s]
        per_event = statistics.median(latencies) if latencies else 0.01
        return max(10, min(self.profile.throughput_events, int(self.profile.throughput_budget_s / per_event)))

    def throughput(self) -> None:
        rounds = self.profile.throughput_rounds
        for round_ in range(rounds):
            for name in [n for n in self.active() if "small" not in self.rows[n].size_errors]:
                self.progress.show("throughput", "%d/%d  %s" % (round_ + 1, rounds, name))

                def step(name=name) -> None:
                    count = self._throughput_events(self.rows[name])
                    rate = measure.throughput(self.session(name), self.events["small"], count)
                    self.rows[name].throughput.append(rate)

                self._guarded(name, "small", step)

    def finish(self) -> None:
        for name in list(self.sessions):
            row = self.rows[name]
            if self.sessions[name].alive():
                row.warm_peak_rss_mib = self.sessions[name].peak_rss_mib()
            try:
                self._retire(name)
            except WrongAnswer as exc:
                row.error = str(exc)

    def stop_all(self) -> None:
        for name in list(self.sessions):
            self._stop_session(name)


def emulator_capacity(invocations: int) -> float:
    """The emulator's own ceiling, in invocations per second."""
    emulator = Emulator(function_name="bench", timeout=300.0, memory_mb=128, record_requests=False)
    emulator.start()
    try:
        return emulator.capacity(invocations)
    finally:
        emulator.stop()


def run(names: list[str], tools: Toolbox, profile: Profile, progress: Progress) -> RunSamples:
    """Measure the rows ``names`` (in that order) as the profile says."""
    state = _Run(names, tools, profile, progress)
    progress.show("emulator capacity")
    capacity = emulator_capacity(profile.capacity_invocations)
    state.prepare()
    try:
        state.cold_starts()
        state.warm()
        state.throughput()
        state.finish()
    finally:
        state.stop_all()
    layer = None
    if "fastrt-layer" in state.launches:
        layer = tools.layer()
    return RunSamples(state.rows, capacity, layer)
