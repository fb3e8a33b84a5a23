"""What every dock shares: one job at a time in a worker, a status line, errors as
notifications, nothing touched after the viewer closed, and the dock's worker process (where
TensorFlow runs; ended with the dock, on request, or when it hangs)."""

from __future__ import annotations

from collections.abc import Callable

from magicgui.widgets import Container, Label, PushButton
from napari.qt.threading import GeneratorWorker

from ..core.errors import SegDLError
from ..core.worker.process import Silent, WorkerProcess
from ._common import Ended, report

#: The status line when napari quit a dock's job (it ends its worker process too).
ABORTED = "Ended: napari stopped this job (a viewer window closed); press the button again."


class Dock(Container):
    """A dock widget's base: ``run`` starts a napari worker and routes what it sends.

    Bad input found before the job starts is shown with :meth:`refuse`. Every job returns an
    :class:`~._common.Ended`: bad input found in the worker is shown once, with the status line
    saying so; a worker process that died goes to :meth:`died`, a cancelled job to
    :meth:`cancelled`, a completed one's value to ``on_result``; real failures take napari's
    error path with their traceback. ``running`` is True from ``run`` until the worker has
    finished; the ``busy_buttons`` are disabled meanwhile and the ``cancel_button`` (if any)
    enabled.

    Keras work runs in :attr:`process`, this dock's worker process, started on first use and
    kept between jobs; :attr:`free_button` ends it (freeing TensorFlow's and the GPU's
    memory), and :attr:`end_button` appears when a job has been silent for
    ``process.hang_seconds``.
    """

    def __init__(self, napari_viewer, **kwargs):
        super().__init__(**kwargs)
        self._viewer = napari_viewer
        self._alive = True
        self._worker = None
        self.busy_buttons: list[PushButton] = []
        self.cancel_button: PushButton | None = None
        self.status = Label(name="status", value="")
        self._process: WorkerProcess | None = None
        self.end_button = PushButton(
            name="end_button",
            text="End the worker process",
            visible=False,
            tooltip="The job has sent nothing for a long time: end its process (the viewer "
            "and your layers stay; checkpoints written so far stay on disk).",
        )
        self.free_button = PushButton(
            name="free_button",
            text="Free memory",
            tooltip="End this dock's worker process, giving back the memory TensorFlow holds "
            "(the GPU's too); the next job starts a new one in a few seconds.",
        )
        self.end_button.changed.connect(self._end_process)
        self.free_button.changed.connect(self.free_memory)
        self.native.destroyed.connect(self._on_destroyed)

    @property
    def viewer(self):
        """The napari viewer this dock belongs to."""
        return self._viewer

    @property
    def has_process(self) -> bool:
        """True once a job has asked for this dock's worker process (nothing started one while
        it is False)."""
        return self._process is not None

    @property
    def process(self) -> WorkerProcess:
        """This dock's worker process (started by its first job)."""
        if self._process is None:
            self._process = WorkerProcess()
        return self._process

    @property
    def running(self) -> bool:
        """True while a job of this dock runs."""
        return self._worker is not None

    def run(
        self,
        worker,
        *,
        message: str,
        on_result: Callable | None = None,
        on_event: Callable | None = None,
        failed: str = "Failed: see the message.",
    ) -> None:
        """Start ``worker``: its yielded events go to ``on_event`` and the value of its
        completed :class:`~._common.Ended` to ``on_result``, on the GUI thread, while the dock
        is alive."""
        self._worker = worker
        self.status.value = message
        if isinstance(worker, GeneratorWorker):
            worker.yielded.connect(lambda event: self._alive and self._route(event, on_event))
            worker.aborted.connect(  # napari quits the workers of a window that closes
                lambda: self._alive and setattr(self.status, "value", ABORTED)
            )
        worker.returned.connect(lambda result: self.ended(result, on_result, failed))
        worker.errored.connect(lambda _: self._alive and setattr(self.status, "value", failed))
        worker.finished.connect(self._on_finished)
        self._set_busy(True)
        worker.start()

    def _route(self, event, on_event) -> None:
        if isinstance(event, Silent):
            self.status.value = (
                f"No word from the worker process for {event.seconds:.0f} s: it may hang. "
                "Wait, or end it with the button below."
            )
            self.end_button.visible = True
            return
        self.end_button.visible = False
        if on_event is not None:
            on_event(event)

    def _end_process(self) -> None:
        self.end_button.visible = False
        if self._process is not None:
            self._process.end()

    def free_memory(self) -> None:
        """End the worker process (refused while a job runs: Stop or Cancel it first)."""
        if self.running:
            self.refuse(SegDLError("A job is running: stop it (or wait) before freeing memory."))
            return
        if self._process is not None:
            self._process.close()
        self.status.value = "Worker process ended, its memory given back; the next job starts one."

    def refuse(self, error: SegDLError) -> None:
        """Bad input found before a job starts: the notification says what to change."""
        report(error)

    def closing(self) -> None:
        """Called once when the viewer closes the dock: stop work (subclasses add to it)."""

    def ended(self, result: Ended, on_result=None, failed: str = "Failed: see the message."):
        """Route how a job ended (its worker's return value): a completed job's value to
        ``on_result``; bad input shown, with ``failed`` in the status line; a worker process
        that died to :meth:`died`; a cancelled job to :meth:`cancelled`."""
        if not isinstance(result, Ended):
            raise TypeError(f"a dock's job must return an Ended; received {result!r}")
        if not self._alive:
            return
        if result.how == "refused":
            report(result.error)
            self.status.value = failed
        elif result.how == "died":
            self.died(result.error)
        elif result.how == "cancelled":
            self.cancelled()
        elif on_result is not None:
            on_result(result.value)

    def died(self, error) -> None:
        """The worker process ended during a job: say what happened and what to do."""
        line = f"{error}; your layers are untouched. {self.restart}"
        self.status.value = line
        report(line)

    #: What :meth:`died` tells the user to do.
    restart = "Press the button again to start a new worker process."

    def cancelled(self) -> None:
        """The job was cancelled before its end."""
        self.status.value = "Cancelled."

    def _on_finished(self) -> None:
        self._worker = None
        if self._alive:
            self._set_busy(False)
            self.end_button.visible = False
        self.finished()

    def finished(self) -> None:
        """Called on the GUI thread after every job, however it ended (subclasses add to it)."""

    def _set_busy(self, busy: bool) -> None:
        for button in self.busy_buttons:
            button.enabled = not busy
        if self.cancel_button is not None:
            self.cancel_button.enabled = busy

    def _on_destroyed(self, *_) -> None:
        self._alive = False
        self.closing()
        if self._process is not None:  # no process outlives its dock
            self._process.close()
