"""CPU time and peak memory of a runtime's process tree, read from /proc (Linux only).

CPU: for each live process of the tree, its process CPU clock (``clock_gettime`` on the clock id
Linux derives from a pid: nanosecond precision, user + system, dead threads included) plus the
``cutime + cstime`` of children it has already reaped (clock ticks; this is where the short-lived
curl processes of seed-bash end up). Summing over the live tree counts every process exactly once.
"""

from __future__ import annotations

import os
import time

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
# Field positions in /proc/<pid>/stat after the ")" closing the command name.
_PPID, _CUTIME, _CSTIME = 1, 13, 14


def _stat_fields(pid: int) -> list[str]:
    with open("/proc/%d/stat" % pid, "rb") as file:
        data = file.read()
    return data[data.rindex(b")") + 2 :].decode().split()


def process_tree(root: int) -> list[int]:
    """``root`` and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(_stat_fields(int(entry))[_PPID])
            except (OSError, IndexError, ValueError):
                continue  # exited while we looked
            children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _process_cpu_clock(pid: int) -> int:
    # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) from the kernel's posix-timers.h.
    return ((~pid) << 3) | 2


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds used so far by ``root``'s process tree (reaped children included)."""
    total = 0.0
    for pid in process_tree(root):
        try:
            fields = _stat_fields(pid)
            own = time.clock_gettime_ns(_process_cpu_clock(pid)) / 1e9
        except (OSError, ValueError):
            continue
        total += own + (int(fields[_CUTIME]) + int(fields[_CSTIME])) / _TICKS_PER_S
    return total


def _peak_rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as file:
        for line in file:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0  # kernel threads and zombies have no memory lines


def tree_peak_rss_mib(root: int) -> float:
    """The largest VmHWM (peak resident set) among the live processes of ``root``'s tree."""
    peak = 0
    for pid in process_tree(root):
        try:
            peak = max(peak, _peak_rss_kib(pid))
        except OSError:
            continue
    return peak / 1024
