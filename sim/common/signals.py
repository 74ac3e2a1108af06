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

A signal for this process is never swallowed either (:func:`signals_never_swallowed`): Python may run its
handler inside a callback whose exceptions it ignores, and the signal is then sent again.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

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


class Terminated(KeyboardInterrupt):
    """SIGTERM (e.g. a scheduler cancelling the job), raised like Ctrl-C so that every clean-up runs."""


def interrupt_in(err: BaseException | None) -> KeyboardInterrupt | None:
    """The Ctrl-C or SIGTERM (KeyboardInterrupt, Terminated) that ``err`` is or wraps, at any depth of its causes
    and contexts; None if none. Python wraps an exception in some places: in 3.11 one raised inside
    ``__set_name__`` while a class is made (a signal while matplotlib's axes load) comes out as a RuntimeError
    caused by it."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, KeyboardInterrupt):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


# a swallowed Ctrl-C or SIGTERM is sent again this long after (s): by then the main thread has left the callback
# that swallowed it (microseconds), and a command's end is not noticeably later
RESEND_AFTER_S = 0.01


class SwallowedSignals:
    """Ctrl-C or SIGTERM that Python swallowed, sent again.

    Python runs a signal's handler at the main thread's next instruction, and that may be inside a weakref
    callback, a ``__del__`` or a garbage-collector callback, where an exception is ignored ("Exception ignored in
    ..."): the command then went on and exited 0 (seen in CI: SIGTERM during an import, inside importlib's
    module-lock callback). As ``sys.unraisablehook`` this catches such a signal and sends it again, as a real
    signal (it wakes a blocking call), to the main thread - from a thread of its own, once the main thread has
    left the callback (sent from the hook, the handler would run inside the hook, where it is ignored too). If it
    lands in such a place again, it is sent again. A command that ends before that asks :meth:`raise_pending`;
    once closed (:meth:`close`), nothing more is sent. Any other ignored exception goes to the previous hook."""

    def __init__(self, previous_hook) -> None:
        self.previous_hook = previous_hook
        self.signals: list[int] = []
        self.lock = threading.Lock()
        self.closed = False
        self.main_id = threading.main_thread().ident

    def hook(self, unraisable) -> None:
        """``sys.unraisablehook``: a swallowed Ctrl-C or SIGTERM is sent again; anything else goes on."""
        try:
            if isinstance(unraisable.exc_value, KeyboardInterrupt):
                self._send_again(unraisable.exc_value)
            else:
                self.previous_hook(unraisable)
        except KeyboardInterrupt as err:          # the signal came back while the hook ran
            self._send_again(err)

    def _send_again(self, err: BaseException) -> None:
        sig = signal.SIGTERM if isinstance(err, Terminated) else signal.SIGINT
        self.signals.append(sig)
        threading.Thread(target=self._send, args=(sig,), name=f"resend-{signal.Signals(sig).name}",
                         daemon=True).start()

    def _send(self, sig: int) -> None:
        time.sleep(RESEND_AFTER_S)
        with self.lock:
            if not self.closed:
                signal.pthread_kill(self.main_id, sig)

    def close(self) -> None:
        """Nothing more is sent (a signal sent just before may still be raised in the main thread)."""
        with self.lock:
            self.closed = True

    def raise_pending(self) -> None:
        """Raise the exception of a swallowed signal, if there was one: for a command that ended before it was
        sent again (call :meth:`close` first)."""
        if self.signals:
            raise Terminated() if signal.SIGTERM in self.signals else KeyboardInterrupt()


@contextlib.contextmanager
def signals_never_swallowed():
    """Inside (in the main thread; elsewhere a no-op), a Ctrl-C or SIGTERM whose exception Python ignored is sent
    again (:class:`SwallowedSignals`, which this yields). Nested, the innermost catches it."""
    swallowed = SwallowedSignals(sys.unraisablehook)
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_kill"):
        swallowed.close()
        yield swallowed
        return
    sys.unraisablehook = swallowed.hook
    try:
        yield swallowed
    finally:
        swallowed.close()
        if sys.unraisablehook == swallowed.hook:
            sys.unraisablehook = swallowed.previous_hook
