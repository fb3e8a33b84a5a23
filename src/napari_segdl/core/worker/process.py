"""The viewer's side of the worker process: a ``spawn`` child that runs Keras jobs.

A crash, a ``kill -9``, an out-of-memory kill or a hang of TensorFlow ends the child, never the
viewer; the job that ran reports it as :class:`ChildDied`, with the tail of what the child wrote
to its standard error. The child stays alive between jobs (a second prediction does not import
TensorFlow again) and ends with :meth:`close` — when the dock that owns it closes, on request
("free memory"), or with the Python process. It never runs the viewer's own script again,
however the viewer was started (see :func:`main_module_hidden`), and its temporary files live in
a folder of its own that goes with it. Its Keras runs on :attr:`WorkerProcess.backend` (None:
the process's own choice, :func:`~napari_segdl.core.backend.wanted_backend`); a child on another
backend is replaced at the next job.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Generator
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

from .lifecycle import STDERR_NAME, death_message, main_module_hidden, stderr_tail, stderr_to

#: Seconds without a word from a working child before it is reported as silent.
HANG_SECONDS = 300.0
#: Seconds a new child has to say it is ready (it imports only the standard library and
#: napari_segdl's light modules before that) before it is reported as not starting.
READY_SECONDS = 60.0


class ChildDied(RuntimeError):
    """The worker process ended during a job; the message says how. Not bad input (not a
    :class:`SegDLError`): the input may be fine, and the job can run again."""


class ChildFailed(RuntimeError):
    """A job failed with an unexpected error in the worker process (its traceback follows)."""


@dataclass(frozen=True)
class Silent:
    """The child has sent nothing for ``seconds`` during a job: it may hang."""

    seconds: float


class WorkerProcess:
    """One ``spawn`` child running jobs one at a time; thread-safe for one caller of
    :meth:`call` and any number of callers of :meth:`request_stop`, :meth:`send`, :meth:`end`.

    ``call(function, *args)`` runs ``function(*args)`` in the child (a generator function's
    items come back as events) and, used as ``yield from``, yields its events and returns its
    value; bad input (:class:`SegDLError`) is raised unchanged, other errors as
    :class:`ChildFailed` with the child's traceback.
    """

    def __init__(
        self,
        hang_seconds: float = HANG_SECONDS,
        ready_seconds: float = READY_SECONDS,
        backend: str | None = None,
    ):
        self.backend = backend  # Keras' backend in the child (None: this process's choice)
        self._started_on: str | None = None
        self.hang_seconds = hang_seconds
        self.ready_seconds = ready_seconds
        self._context = get_context("spawn")
        self._process = None
        self._folder: Path | None = None  # the child's temporary files and standard error
        self._finalizer = None
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
            self._ended = False
            self._start()
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

    def _died(self, starting: bool = False, late: bool = False):
        if late:  # it did not say it was ready in time
            self._process.kill()
        self._process.join(5)
        last_words = "" if self._ended else stderr_tail(self._folder)
        if late:
            message = (
                f"The worker process did not start within {self.ready_seconds:g} s and was "
                "ended" + (f" (it wrote: {last_words})" if last_words else "")
            )
        else:
            message = death_message(self._process.exitcode, self._ended, last_words)
            if starting:
                message = message.replace("was ", "could not start: it was ", 1).replace(
                    "exited unexpectedly", "exited before it was ready", 1
                )
        self._process = None
        self._remove_folder()
        raise ChildDied(message)

    def _start(self) -> None:
        if self.alive and self._started_on == self.backend:
            return
        if self.alive:  # a child on another backend leaves first
            self._retire()
        from .child import serve

        self._remove_folder()  # of a child that ended between jobs
        self._folder = Path(tempfile.mkdtemp(prefix="segdl-worker-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._folder, True)
        jobs_out, self._jobs = self._context.Pipe(duplex=False)
        self._events, events_in = self._context.Pipe(duplex=False)
        self._process = self._context.Process(
            target=serve,
            args=(jobs_out, events_in, self._stop, self._inbox, str(self._folder), self.backend),
            name="napari-segdl worker",
            daemon=True,  # multiprocessing ends it when this Python process exits
        )
        with main_module_hidden(), stderr_to(self._folder / STDERR_NAME):
            self._process.start()
        jobs_out.close()
        events_in.close()
        self._started_on = self.backend
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        """The child's first word is that it serves; a child that dies first, or says nothing
        for :attr:`ready_seconds`, is reported with what it wrote to its standard error."""
        deadline = time.monotonic() + self.ready_seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                if self._events.poll(min(left, 0.1)) and self._events.recv()[0] == "ready":
                    return
            except (EOFError, OSError):
                self._died(starting=True)
            if not self._process.is_alive():
                self._died(starting=True)
        self._died(starting=True, late=True)

    def _remove_folder(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # removes the folder once
        self._folder = self._finalizer = None

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
            self._retire(timeout)
        finally:
            self._lock.release()

    def _retire(self, timeout: float = 5.0) -> None:
        """Ask an idle child to leave (killed if it does not), and remove its folder."""
        process, self._process = self._process, None
        try:
            if process is None or not process.is_alive():
                return
            with contextlib.suppress(OSError):
                self._jobs.send_bytes(ForkingPickler.dumps(None))
            process.join(timeout)
            if process.is_alive():
                process.kill()
                process.join(timeout)
        finally:
            self._remove_folder()
