"""Processes on Linux, for the tests that kill runs and their workers: children, command lines, liveness."""
from __future__ import annotations

import signal
from pathlib import Path


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def cmdline(pid: int) -> str:
    """The command line of ``pid`` ('' once it has ended)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped has ended)."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def ignores_ctrl_c(pid: int) -> bool:
    """True once ``pid`` ignores SIGINT (a worker whose initializer has run)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(int(ln.split()[1], 16) for ln in status.splitlines() if ln.startswith("SigIgn:"))
    return bool(mask & (1 << (signal.SIGINT - 1)))
