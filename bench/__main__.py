"""``python -m bench``: run every runtime against the same emulator, print medians and ratios."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import shutil
import sys
import tempfile

from bench import machine, plot, report, results, schedule
from bench.prepare import Toolbox
from bench.progress import Progress
from bench.runtimes import ROWS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Cold start, warm latency, CPU per invocation, throughput and memory of fastrt, "
        "seed-bash, awslambdaric and the floors, interleaved against the same Runtime API emulator.",
    )
    parser.add_argument("--quick", action="store_true", help="a first look in under a minute (default: a few minutes, stable medians)")
    parser.add_argument("--scale", type=float, default=1.0, metavar="F", help="multiply every count by F (e.g. 0.3 for a smoke run)")
    parser.add_argument("--runtimes", metavar="A,B,...", help="rows to run, in this order (default: all): " + ",".join(ROWS))
    parser.add_argument("--python", default=sys.executable, metavar="PATH", help="interpreter of the Python rows (default: this one)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="write the tables as Markdown")
    parser.add_argument("--plot", metavar="FILE.png", help="draw cold start and CPU per invocation (needs matplotlib)")
    parser.add_argument("--keep-work", action="store_true", help="keep the work directory (runtime logs, unzipped layer)")
    parser.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    return parser


def _rows(parser: argparse.ArgumentParser, selection: str | None) -> list[str]:
    if not selection:
        return list(ROWS)
    names = [name.strip() for name in selection.split(",") if name.strip()]
    unknown = [name for name in names if name not in ROWS]
    if len(set(names)) != len(names):
        parser.error("--runtimes names a row twice: %s" % selection)
    if unknown or not names:
        parser.error("unknown runtime(s) %s; choose from %s" % (",".join(unknown) or "(none)", ",".join(ROWS)))
    return names


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    names = _rows(parser, args.runtimes)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    if args.plot and not plot.available():
        parser.error("--plot needs matplotlib: pip install 'fastrt[plot]' (or matplotlib)")
    profile = (schedule.QUICK if args.quick else schedule.DEFAULT).scaled(args.scale)
    progress = Progress(enabled=not args.no_progress)
    workdir = tempfile.mkdtemp(prefix="fastrt-bench-")
    try:
        tools = Toolbox(args.python, workdir, log=progress.note)
        samples = schedule.run(names, tools, profile, progress)
        command = "python -m bench " + shlex.join(argv if argv is not None else sys.argv[1:])
        profile_info = {"name": "quick" if args.quick else "default", "scale": args.scale, **dataclasses.asdict(profile)}
        doc = results.document(samples, machine.describe(tools), command.strip(), profile_info)
    finally:
        progress.done()
        if args.keep_work:
            print("work directory kept: %s" % workdir, file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.stdout.write(report.as_text(doc))
    if args.json:
        with open(args.json, "w") as file:
            file.write(report.as_json(doc))
    if args.markdown:
        with open(args.markdown, "w") as file:
            file.write(report.as_markdown(doc))
    if args.plot:
        plot.draw(doc, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
