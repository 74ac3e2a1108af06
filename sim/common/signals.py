"""Worker processes that leave Ctrl-C and SIGTERM to the command's main process from their first instruction.

A terminal sends Ctrl-C to the whole process group. A worker that is still starting (importing its libraries)
when it arrives would print a KeyboardInterrupt traceback of its own before its initializer could ignore the
signal; a forked process would meet this process's own handlers. Processes started inside
:func:`children_ignore_ctrl_c` are born with both signals blocked (the signal mask is inherited across fork
and exec): one that arrives is held until the process calls :func:`unblock_ctrl_c`, once its handlers are its
own (a worker then ignores Ctrl-C, so a held one is dropped, and ends on a held SIGTERM). This process's own
handlers are not changed - a signal for it is never lost. Spawned processes are the exception: loky and
multiprocessing's spawn start them with an exec that hands them an empty mask, so inside the block
(:func:`spawns_ignore_ctrl_c`) they begin with Ctrl-C ignored instead.
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
    """Inside: processes started by this thread with fork begin with Ctrl-C and SIGTERM blocked, and processes
    started (by any thread) through loky's or multiprocessing's spawning - joblib's workers, a Dask LocalCluster's
    nannies - begin with Ctrl-C ignored (:func:`spawns_ignore_ctrl_c`). The block only in the main thread and
    where pthread_sigmask exists. (Python runs this process's handlers in the main thread whichever thread the
    signal reaches, so a Ctrl-C for this process still interrupts it here, or on leaving the block.)"""
    with spawns_ignore_ctrl_c():
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


_PATCHED = {"depth": 0, "undo": []}
_PATCH_LOCK = threading.Lock()


@contextlib.contextmanager
def spawns_ignore_ctrl_c():
    """Inside: the processes loky (joblib's process pool) and multiprocessing's spawn (a Dask LocalCluster's
    nannies) start begin with Ctrl-C ignored. Re-entrant; where there is no /bin/sh, a no-op.

    Both start a process with an exec that hands it an empty signal mask (measured with Python 3.11: SigBlk 0 in
    a worker started inside the block of :func:`children_ignore_ctrl_c`), so the block does not reach it, and a
    Ctrl-C while it still imported its libraries printed a KeyboardInterrupt traceback on the command's stderr.
    A signal's *ignored* disposition does survive fork and exec, and Python leaves an ignored SIGINT ignored: so
    while this is in force each such command is run through the shell with SIGINT ignored first (``sh -c 'trap ""
    INT; exec "$@"'``: the same process, the same pid). A SIGTERM during the imports ends it silently, as its
    default does."""
    with _PATCH_LOCK:
        _PATCHED["depth"] += 1
        if _PATCHED["depth"] == 1 and os.path.exists(SHELL):
            _PATCHED["undo"] = _patch_spawns()
    try:
        yield
    finally:
        with _PATCH_LOCK:
            _PATCHED["depth"] -= 1
            if _PATCHED["depth"] == 0:
                for undo in _PATCHED["undo"]:
                    undo()
                _PATCHED["undo"] = []


def _patch_spawns() -> list:
    """Wrap loky's fork_exec and multiprocessing.util.spawnv_passfds (each read from its module at every start)
    so that the command runs through IGNORING_CTRL_C; the functions that undo it."""
    undo = []
    import multiprocessing.util as mp_util
    spawn = getattr(mp_util, "spawnv_passfds", None)
    if spawn is not None:
        def spawnv_passfds(path, args, passfds):
            return spawn(os.fsencode(SHELL), [os.fsencode(SHELL), *IGNORING_CTRL_C, *args], passfds)
        mp_util.spawnv_passfds = spawnv_passfds
        undo.append(lambda: setattr(mp_util, "spawnv_passfds", spawn))
    try:
        from joblib.externals.loky.backend import fork_exec as loky
    except ImportError:
        return undo
    fork_exec = getattr(loky, "fork_exec", None)
    if fork_exec is not None:
        def fork_exec_ignoring(cmd, keep_fds, env=None):
            return fork_exec([SHELL, *IGNORING_CTRL_C, *cmd], keep_fds, env=env)
        loky.fork_exec = fork_exec_ignoring
        undo.append(lambda: setattr(loky, "fork_exec", fork_exec))
    return undo
