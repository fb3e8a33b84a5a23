"""The viewer's side of the worker process: a ``spawn`` child that runs Keras jobs.

A crash, a ``kill -9``, an out-of-memory kill or a hang of TensorFlow ends the child, never the
viewer; the job that ran reports it as :class:`ChildDied`. The child stays alive between jobs
(a second prediction does not import TensorFlow again) and ends with :meth:`close` — when the
dock that owns it closes, on request ("free memory"), or with the Python process.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.reduction import ForkingPickler

from ..errors import SegDLError

#: Seconds without a word from a working child before it is reported as silent.
HANG_SECONDS = 300.0


class ChildDied(SegDLError):
    """The worker process ended during a job; the message says how."""


class ChildFailed(RuntimeError):
    """A job failed with an unexpected error in the worker process (its traceback follows)."""


@dataclass(frozen=True)
class Silent:
    """The child has sent nothing for ``seconds`` during a job: it may hang."""

    seconds: float


def death_message(exitcode: int | None, ended: bool) -> str:
    """How the child ended, in words."""
    if ended:
        return "The worker process was ended on request"
    if exitcode is not None and exitcode < 0:
        number = -exitcode
        name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
        why = {
            "SIGKILL": "killed (SIGKILL: out of memory, or ended from outside)",
            "SIGSEGV": "crashed in native code (SIGSEGV)",
            "SIGABRT": "aborted in native code (SIGABRT)",
            "SIGBUS": "crashed in native code (SIGBUS)",
            "SIGTERM": "terminated (SIGTERM)",
        }.get(name, f"ended by signal {name}")
        return f"The worker process was {why}"
    return (
        f"The worker process exited unexpectedly (exit code {exitcode}; its reason, e.g. a "
        "failed import, is in napari's terminal output)"
    )


class WorkerProcess:
    """One ``spawn`` child running jobs one at a time; thread-safe for one caller of
    :meth:`call` and any number of callers of :meth:`request_stop`, :meth:`send`, :meth:`end`.

    ``call(function, *args)`` runs ``function(*args)`` in the child (a generator function's
    items come back as events) and, used as ``yield from``, yields its events and returns its
    value; bad input (:class:`SegDLError`) is raised unchanged, other errors as
    :class:`ChildFailed` with the child's traceback.
    """

    def __init__(self, hang_seconds: float = HANG_SECONDS):
        self.hang_seconds = hang_seconds
        self._context = get_context("spawn")
        self._process = None
        self._lock = threading.Lock()
        self._ended = False
        self._stop = self._context.Event()
        self._inbox = self._context.Queue()

    @property
    def pid(self) -> int | None:
        """The child's process id while it lives."""
        return self._process.pid if self.alive else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def call(self, function, *args, **kwargs) -> Generator:
        """Run ``function(*args, **kwargs)`` in the child; yield its events, return its value."""
        job = ForkingPickler.dumps((function, args, kwargs))  # what cannot travel fails here
        with self._lock:
            self._start()
            self._ended = False
            with contextlib.suppress(OSError):  # a child dead between jobs: read below
                self._jobs.send_bytes(job)
            try:
                return (yield from self._replies())
            except GeneratorExit:  # nobody waits for this job any more: end it with its child
                self.end()
                self._process = None
                raise
            finally:  # a Stop pressed before the job reached the child still counts; after
                self._stop.clear()  # it, it is spent

    def _replies(self) -> Generator:
        last, silent = time.monotonic(), False
        while True:
            try:
                ready = self._events.poll(0.25)
                message = self._events.recv() if ready else None
            except (EOFError, OSError):
                self._died()
            if message is None:
                if not self._process.is_alive():
                    self._died()
                if not silent and time.monotonic() - last > self.hang_seconds:
                    silent = True
                    yield Silent(time.monotonic() - last)
                continue
            last, silent = time.monotonic(), False
            kind, payload = message
            if kind == "event":
                yield payload
            elif kind == "result":
                return payload
            elif kind == "bad input":
                raise payload
            else:
                raise ChildFailed(f"The job failed in the worker process:\n{payload}")

    def _died(self):
        self._process.join(5)
        message = death_message(self._process.exitcode, self._ended)
        self._process = None
        raise ChildDied(message)

    def _start(self) -> None:
        if self.alive:
            return
        from .child import serve

        jobs_out, self._jobs = self._context.Pipe(duplex=False)
        self._events, events_in = self._context.Pipe(duplex=False)
        self._process = self._context.Process(
            target=serve,
            args=(jobs_out, events_in, self._stop, self._inbox),
            name="napari-segdl worker",
            daemon=True,  # multiprocessing ends it when this Python process exits
        )
        self._process.start()
        jobs_out.close()
        events_in.close()

    def request_stop(self) -> None:
        """Ask the running job (or the next, when none runs yet) to stop at its next step or
        tile; it keeps what it has."""
        self._stop.set()

    def send(self, item) -> None:
        """Hand the running job an item (e.g. the slice now on screen, for the preview)."""
        self._inbox.put(item)

    def end(self) -> None:
        """Kill the child now (a hanging job); the running :meth:`call` raises ChildDied."""
        process = self._process
        if process is not None and process.is_alive():
            self._ended = True
            process.kill()
            process.join(2)  # reaped here: the thread that waited for the job may be gone

    def close(self, timeout: float = 5.0) -> None:
        """End the child and free its memory (TensorFlow's, the GPU's); the next job starts a
        new one. A child still working is killed (its job reports that it was ended)."""
        if not self._lock.acquire(blocking=False):  # a job runs: end it, its caller cleans up
            self.end()
            return
        try:
            process, self._process = self._process, None
            if process is None or not process.is_alive():
                return
            with contextlib.suppress(OSError):
                self._jobs.send_bytes(ForkingPickler.dumps(None))
            process.join(timeout)
            if process.is_alive():
                process.kill()
                process.join(timeout)
        finally:
            self._lock.release()
