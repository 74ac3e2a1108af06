"""``python -m sim`` and the ``staircase-sim`` command: the command line (sim.cli). Ctrl-C while the libraries are still loading ends it with one
line and exit 130, like Ctrl-C during a run; nothing has been written then.

An interrupted run ends through :func:`_end_interrupted`, not by returning to the interpreter: CPython (3.8-3.13)
remembers a KeyboardInterrupt that passed through code run by ``exec``/``eval`` of a string (namedtuple, dataclasses,
SciPy's distributions build methods that way while they load) and then ends ``python -m`` by re-raising SIGINT
on itself, exit -2, whatever exit code the program chose. The clean-up of ``sim.cli`` has run by then; the exit
handlers of the libraries run here, then the process ends with the chosen code."""
import signal
import sys

from .common.signals import SwallowedSignals, Terminated, interrupt_in

# the codes sim.cli returns for Ctrl-C and SIGTERM: 128 + the signal's number (130, 143), as a shell reports them
INTERRUPTED = (128 + signal.SIGINT, 128 + signal.SIGTERM)


_EARLY: list = []      # a signal that arrived before sim.cli took over (while the libraries load)


def _early(signum, frame) -> None:
    """SIGTERM while the libraries load: ended like Ctrl-C (sim.cli installs its own handler once loaded)."""
    _EARLY.append(signum)
    raise Terminated()


def _quiet() -> None:
    """From here on Ctrl-C and SIGTERM change nothing: the work is being ended (no traceback from a late signal
    while the exit handlers run, and no death by the signal with nothing said)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


_LATE: list = []       # a signal that arrived after the command's work was done, while the process ends


def _remember(signum, frame) -> None:
    _LATE.append(signum)


def _late() -> None:
    """The work is done: a Ctrl-C or SIGTERM from here on (while worker pools shut down and the exit handlers
    run, which can take a second) is remembered, not raised - what was stored stays whole - and ends the
    process with its one line and exit code in :func:`_late_exit`, never with exit 0 as if it had not come."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _remember)


_CODE: list = []       # the exit code the command returned, once it has


def _late_exit() -> None:
    """The last exit handler (registered first, so run last): a signal remembered by :func:`_late` gives the
    line of an ended command (naming what was stored) and the signal's exit code. Otherwise the process ends
    here with the command's code: the interpreter's own teardown (freeing the run's tables, up to a second)
    would be a window in which a signal could only be ignored or kill the process without a word. Every file
    is closed by then, and the threads were joined before the exit handlers ran."""
    _quiet()
    if not _LATE and not _CODE:
        return                                         # no code returned (an uncaught error): Python ends it
    code = _CODE[0] if _CODE else 1
    if _LATE:
        try:
            from .cli import ended
            code = ended(_LATE[0] == signal.SIGTERM)
        except Exception:                              # the line is what matters; the code is the signal's
            code = 128 + _LATE[0]
    _flush_and_exit(code)


def _flush_and_exit(code: int) -> None:
    """End the process now with ``code``, its output streams flushed."""
    import os
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _end_interrupted(code: int) -> None:
    """End the process with ``code`` after the exit handlers (atexit) and with flushed streams. The worker
    processes of a pool (joblib's, the figures') are stopped first: idle, they would end only with this process,
    and the exit handler of multiprocessing waits for them."""
    import atexit
    import multiprocessing
    _quiet()
    _LATE.clear()                                      # this end says its own line
    try:
        for child in multiprocessing.active_children():
            child.terminate()
        atexit._run_exitfuncs()
    finally:
        _flush_and_exit(code)


# The resource trackers of multiprocessing and loky (separate processes, one per process tree that uses a pool)
# free the semaphores of worker processes that were stopped (Ctrl-C, SIGTERM, a launcher's job ended) and say so
# with a UserWarning "resource_tracker: There appear to be N leaked semlock objects to clean up at shutdown"
# after this command has given its one line. They clean up all the same; the warning is silenced in every process
# this command starts (they read PYTHONWARNINGS when they start).
QUIET_TRACKERS = "ignore:resource_tracker:UserWarning"


def _quiet_trackers() -> None:
    import os
    given = os.environ.get("PYTHONWARNINGS", "")
    if QUIET_TRACKERS not in given.split(","):
        os.environ["PYTHONWARNINGS"] = f"{given},{QUIET_TRACKERS}" if given else QUIET_TRACKERS


def _interrupted_while_loading() -> None:
    """Ctrl-C or SIGTERM while the libraries load: one line, the signal's exit code."""
    term = signal.SIGTERM in _EARLY
    print(f"{'terminated' if term else 'interrupted'}: nothing was written", file=sys.stderr, flush=True)
    _end_interrupted(INTERRUPTED[1 if term else 0])


def console() -> None:
    """Run the command line and end the process with its exit code (``staircase-sim``; ``python -m sim``).
    A signal at any moment - while the libraries load, during the run, or just as it ends - gives one line and
    the signal's exit code (130, 143)."""
    signal.signal(signal.SIGTERM, _early)
    _quiet_trackers()
    import atexit
    atexit.register(_late_exit)            # first registered, last run
    try:
        swallowed = SwallowedSignals(sys.unraisablehook)     # for the process's life: a signal whose exception
        sys.unraisablehook = swallowed.hook                 # Python ignored in a callback is sent again
        from .cli import ended, main
        swallowed.raise_pending()           # swallowed as the imports ended (sim.cli's main has its own from here)
    except Exception as err:                # Ctrl-C or SIGTERM wrapped in another exception (interrupt_in)
        if interrupt_in(err) is None:
            raise
        _interrupted_while_loading()
    except KeyboardInterrupt:
        _interrupted_while_loading()
    try:
        code = main()
        _late()
    except BaseException as err:            # in the instant main's own handling had ended: what it stored is named
        interrupt = interrupt_in(err)
        if interrupt is None:
            raise
        code = ended(isinstance(interrupt, Terminated) or signal.SIGTERM in _EARLY)
    if code in INTERRUPTED:
        _end_interrupted(code)
    _CODE.append(code)
    raise SystemExit(code)


if __name__ == "__main__":
    console()
