"""Worker processes that leave Ctrl-C and SIGTERM to the command's main process from their first instruction.

A terminal sends Ctrl-C to the whole process group. A worker that is still starting (importing its libraries)
when it arrives would print a KeyboardInterrupt traceback of its own before its initializer could ignore the
signal; a forked process would meet this process's own handlers. Processes started inside
:func:`children_ignore_ctrl_c` are born with both signals blocked (the signal mask is inherited across fork
and exec): one that arrives is held until the process calls :func:`unblock_ctrl_c`, once its handlers are its
own (a worker then ignores Ctrl-C, so a held one is dropped, and ends on a held SIGTERM). This process's own
handlers are not changed - a signal for it is never lost. loky's workers are the exception: loky starts them with
a fork_exec that hands them an empty mask, so :func:`loky_workers_ignore_ctrl_c` has them begin with Ctrl-C
ignored instead (a SIGTERM during their imports ends them silently, as its default does).
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading

SHELL = "/bin/sh"
# a worker's command, run by the shell with SIGINT ignored (trap '' INT), which exec keeps for the command
IGNORING_CTRL_C = ["-c", 'trap "" INT; exec "$@"', "sh"]


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


def loky_workers_ignore_ctrl_c() -> bool:
    """Make the worker processes loky starts (joblib's process pool) begin with Ctrl-C ignored; True if they do.

    loky starts a worker with its own fork_exec, which hands the child an empty signal mask (measured with Python
    3.11: SigBlk 0 in a worker started inside :func:`children_ignore_ctrl_c`), so the block does not reach it, and
    a Ctrl-C while the worker still imported its libraries printed a KeyboardInterrupt traceback on the command's
    stderr. A signal's *ignored* disposition does survive fork and exec, and Python leaves an ignored SIGINT
    ignored: so each worker's command is run through the shell with SIGINT ignored first (``sh -c 'trap "" INT;
    exec "$@"'``; the same process, the same pid). Idempotent; a no-op (False) where loky has no fork_exec (not
    POSIX) or there is no /bin/sh."""
    try:
        from joblib.externals.loky.backend import fork_exec as module
    except ImportError:
        return False
    original = getattr(module, "fork_exec", None)
    if original is None or not os.path.exists(SHELL):
        return False
    if getattr(original, "ignores_ctrl_c", False):
        return True

    def fork_exec(cmd, keep_fds, env=None):
        return original([SHELL, *IGNORING_CTRL_C, *cmd], keep_fds, env=env)

    fork_exec.ignores_ctrl_c = True
    module.fork_exec = fork_exec          # loky's Popen imports it from the module at each start
    return True
