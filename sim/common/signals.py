"""Worker processes that leave Ctrl-C and SIGTERM to the command's main process from their first instruction.

A terminal sends Ctrl-C to the whole process group. A worker that is still starting (importing its libraries)
when it arrives would print a KeyboardInterrupt traceback of its own before its initializer could ignore the
signal; a forked process would meet this process's own handlers. Processes started inside
:func:`children_ignore_ctrl_c` are born with both signals blocked (the signal mask is inherited across fork
and exec): one that arrives is held until the process calls :func:`unblock_ctrl_c`, once its handlers are its
own (a worker then ignores Ctrl-C, so a held one is dropped, and ends on a held SIGTERM). This process's own
handlers are not changed - a signal for it is never lost.
"""
from __future__ import annotations

import contextlib
import signal
import threading


@contextlib.contextmanager
def children_ignore_ctrl_c():
    """Inside: processes started (forked or spawned) by this thread begin with Ctrl-C and SIGTERM blocked. Only
    in the main thread and where pthread_sigmask exists; elsewhere a no-op. (Python runs this process's handlers
    in the main thread whichever thread the signal reaches, so a Ctrl-C for this process still interrupts it
    here, or on leaving the block.)"""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)       # a signal held meanwhile is delivered now


def unblock_ctrl_c() -> None:
    """In a process started inside children_ignore_ctrl_c, once its signal handlers are its own: lift the block
    it inherited (a SIGTERM held meanwhile is delivered now)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
