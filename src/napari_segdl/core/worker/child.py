"""The worker process's side: jobs in, events and results out, until told to end or until the
process that started it is gone (no orphan, even after a ``kill -9`` of the viewer).

The child's standard error is a file in the folder the viewer made for it (the viewer reads its
tail when the child dies); its temporary files go into that folder too, which the viewer removes
with the child. Jobs call :func:`emit` to send an event, :func:`stop_requested` to learn that
the user pressed Stop or Cancel, and :func:`latest` for the newest item the viewer sent (the
slice on screen).
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
import traceback
from collections.abc import Generator
from multiprocessing import parent_process
from multiprocessing.connection import wait
from multiprocessing.reduction import ForkingPickler

_events = None
_stop = None
_inbox = None
_latest: dict = {}


def emit(event) -> None:
    """Send ``event`` to the viewer (in a job; nothing happens outside the worker process)."""
    if _events is not None:
        _events.send(("event", event))


def stop_requested() -> bool:
    """True once the viewer asked the running job to stop."""
    return _stop is not None and _stop.is_set()


def latest(key: str, default=None):
    """The newest ``(key, value)`` item the viewer sent during this job, or ``default``."""
    while _inbox is not None:
        try:
            name, value = _inbox.get_nowait()
        except queue.Empty:
            break
        _latest[name] = value
    return _latest.get(key, default)


def _leave_with_parent(folder: str) -> None:
    parent = parent_process()
    if parent is not None:
        wait([parent.sentinel])
        shutil.rmtree(folder, ignore_errors=True)  # nobody else is left to remove it
        os._exit(0)


def _settle_in(folder: str) -> None:
    """Temporary files (a model that came as bytes, TensorFlow's) into ``folder``."""
    os.environ["TMPDIR"] = tempfile.tempdir = folder


def serve(jobs, events, stop, inbox, folder: str, backend: str | None = None) -> None:
    """Say that it is ready, then run jobs from ``jobs`` until ``None`` comes or the viewer's
    process ends; Keras, when a job loads it, runs on ``backend`` (None: the inherited choice)."""
    global _events, _stop, _inbox
    _events, _stop, _inbox = events, stop, inbox
    _settle_in(folder)
    if backend:
        from ..backend import BACKEND_ENV

        os.environ[BACKEND_ENV] = os.environ["KERAS_BACKEND"] = backend
    threading.Thread(
        target=_leave_with_parent, args=(folder,), daemon=True, name="segdl-parent-watch"
    ).start()
    events.send(("ready", os.getpid()))
    while True:
        try:
            job = ForkingPickler.loads(jobs.recv_bytes())
        except (EOFError, OSError):
            return
        if job is None:
            return
        _latest.clear()
        function, args, kwargs = job
        events.send(_run(function, args, kwargs))


def _run(function, args, kwargs) -> tuple:
    from ..errors import SegDLError

    try:
        result = function(*args, **kwargs)
        if isinstance(result, Generator):
            result = yield_events(result)
        ForkingPickler.dumps(result)  # a result that cannot travel is a failure, said here
        return ("result", result)
    except SegDLError as error:
        return ("bad input", error)
    except BaseException:
        return ("failed", traceback.format_exc())


def yield_events(generator: Generator):
    """Send every item of ``generator`` as an event; returns its value."""
    while True:
        try:
            emit(next(generator))
        except StopIteration as finished:
            return finished.value
