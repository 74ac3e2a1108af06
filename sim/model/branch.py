"""One warm-up for all the arms of a replication: the run forks at the start of the horizon.

Every arm of a replication runs the same warm-up - the warm-up's (baseline) practice, the same random streams
(common random numbers) - and differs only from the start of the horizon. So the warm-up is simulated once:
at the horizon start the process forks (``os.fork``) once for each arm but the last; each child continues the
simulation as its arm, sends its result (a pickled RepResult) back through a pipe and ends; the parent
continues as the last arm. A child is the same process image up to that moment, so each arm's result is the
one a model run from the start would give, draw for draw and event for event (tests/model/test_branch.py).

The children run one after another: a worker uses one core whether it branches or not. A child that fails sends
its exception; a child that ends without a result (killed) is an error naming its exit status. When the parent
is interrupted while a child runs (Ctrl-C, SIGTERM), the child is killed before the interrupt goes on.
Where ``os.fork`` does not exist (Windows), the runner runs each arm from the start instead; the results
are the same.
"""
from __future__ import annotations

import os
import pickle
import signal
import traceback

READ_CHUNK = 1 << 20          # bytes per read from a child's pipe (bookkeeping, not a parameter)


def can_branch() -> bool:
    """True where this platform can fork the process (POSIX)."""
    return hasattr(os, "fork")


class Branches:
    """The arms a model branches into at the horizon start, and the results of the branches that ran as
    child processes (in arm order; the parent's own, the last arm's, is what Model.run returns)."""

    def __init__(self, arms: list):
        """``arms``: the Compiled parameters of each arm, in order; at least one."""
        if not arms:
            raise ValueError("Branches needs at least one arm")
        self.arms = list(arms)
        self.results: list = [None] * len(self.arms)
        self._fd: int | None = None          # in a child: the pipe's end its result goes to

    @property
    def in_child(self) -> bool:
        """True in a child process made by :meth:`split`."""
        return self._fd is not None

    def split(self) -> int:
        """Fork a child for every arm but the last, one after another, each waited for; returns the index of
        the arm this process goes on as (in a child, its arm; in the parent, the last, after all children)."""
        for i in range(len(self.arms) - 1):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:                                  # the child: goes on as arm i
                os.close(r)
                self._fd = w
                return i
            os.close(w)
            self.results[i] = _receive(r, pid, i)
        return len(self.arms) - 1

    def deliver(self, result) -> None:
        """In a child: send ``result`` to the parent and end the process (never returns)."""
        self._send(("ok", result), 0)

    def fail(self, err: BaseException) -> None:
        """In a child: send the exception ``err`` to the parent and end the process (never returns)."""
        text = "".join(traceback.format_exception(err))
        try:
            pickle.dumps(err)
            payload = ("error", (err, text))
        except Exception:                                   # an exception that cannot be pickled: its text
            payload = ("error", (RuntimeError(f"{type(err).__name__}: {err}"), text))
        self._send(payload, 1)

    def _send(self, payload, code: int) -> None:
        try:
            data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(self._fd, "wb") as f:
                f.write(data)
        except BaseException:                               # the parent is gone (broken pipe) or interrupted
            code = code or 1
        finally:
            os._exit(code)


def _receive(fd: int, pid: int, arm: int):
    """The result a child sends through ``fd``, after the child has ended; its exception, raised here."""
    chunks = []
    try:
        with os.fdopen(fd, "rb") as f:
            while True:
                chunk = f.read(READ_CHUNK)
                if not chunk:
                    break
                chunks.append(chunk)
        _, status = os.waitpid(pid, 0)
    except BaseException:                # interrupted (Ctrl-C, SIGTERM) or failed: the child goes too
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
        raise
    if not chunks:
        how = (f"signal {-os.waitstatus_to_exitcode(status)}" if os.WIFSIGNALED(status)
               else f"exit status {os.waitstatus_to_exitcode(status)}")
        raise RuntimeError(f"the branch of arm {arm} ended without a result ({how})")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "error":
        err, text = value
        err.add_note(f"raised in the branch of arm {arm} (a child process):\n{text}")
        raise err
    return value


class BranchingRun:
    """``run`` and ``run_arms`` of a Model (a mixin): the model provides ``_run`` (the replication to its end),
    ``warm_months`` and ``branches``; its ``months`` process calls ``self.branches.split()`` at the horizon start
    and then ``_become`` the arm it goes on as."""

    def _become(self, arm) -> None:
        """From the horizon start, this run is the run of ``arm`` (run_arms; the warm-up never reads the arm)."""
        self.arm = arm
        self.switch_month = self.warm_months + arm.start_month

    def run_arms(self, arms: list) -> list:
        """The results of ``arms`` (each a horizon's Compiled parameters; the model's own is ignored), in their
        order, from one warm-up. Each equals ``Model(warm, arm, ...).run()`` with the same streams. Needs a
        warm-up (warm_months > 0) and ``can_branch()``."""
        if self.warm_months == 0:
            raise ValueError("run_arms needs a warm-up: with none, each arm runs from the start")
        self.branches = Branches(arms)
        self._become(arms[-1])
        own = self.run()
        return self.branches.results[:-1] + [own]

    def run(self):
        """Run the replication to its end and return its RepResult. (In a branch made by run_arms, the result
        goes to the parent process instead and the branch ends here.)"""
        try:
            result = self._run()
        except BaseException as err:
            if self.branches is not None and self.branches.in_child:
                self.branches.fail(err)          # never returns
            raise
        if self.branches is not None and self.branches.in_child:
            self.branches.deliver(result)        # never returns
        return result
