"""``python -m sim`` and the ``staircase-sim`` command: the command line (sim.cli). Ctrl-C while the libraries are still loading ends it with one
line and exit 130, like Ctrl-C during a run; nothing has been written then.

An interrupted run ends through :func:`_end_interrupted`, not by returning to the interpreter: CPython (3.8-3.13)
remembers a KeyboardInterrupt that passed through code run by ``exec``/``eval`` of a string (namedtuple, dataclasses,
SciPy's distributions build methods that way while they load) and then ends ``python -m`` by re-raising SIGINT
on itself, exit -2, whatever exit code the program chose. The clean-up of ``sim.cli`` has run by then; the exit
handlers of the libraries run here, then the process ends with the chosen code."""
import signal
import sys

# the codes sim.cli returns for Ctrl-C and SIGTERM: 128 + the signal's number (130, 143), as a shell reports them
INTERRUPTED = (128 + signal.SIGINT, 128 + signal.SIGTERM)


def _end_interrupted(code: int) -> None:
    """End the process with ``code`` after the exit handlers (atexit) and with flushed streams."""
    import atexit
    import os
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


def console() -> None:
    """Run the command line and end the process with its exit code (``staircase-sim``; ``python -m sim``)."""
    try:
        from .cli import main
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr, flush=True)
        _end_interrupted(INTERRUPTED[0])
    code = main()
    if code in INTERRUPTED:
        _end_interrupted(code)
    raise SystemExit(code)


if __name__ == "__main__":
    console()
