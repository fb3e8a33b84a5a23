"""What every dock shares: one job at a time in a worker, a status line, errors as
notifications, and nothing touched after the viewer closed."""

from __future__ import annotations

from collections.abc import Callable

from magicgui.widgets import Container, Label, PushButton

from ..core.errors import SegDLError
from ._common import report, reported


class Dock(Container):
    """A dock widget's base: ``run`` starts a napari worker and routes what it sends.

    Bad input found before the job starts is shown with :meth:`refuse`; bad input found in the
    worker comes back as a ``UserError`` value and is shown once, with the status line saying
    so; real failures take napari's error path with their traceback. ``running`` is True from
    ``run`` until the worker has finished; the ``busy_buttons`` are disabled meanwhile and the
    ``cancel_button`` (if any) enabled.
    """

    def __init__(self, napari_viewer, **kwargs):
        super().__init__(**kwargs)
        self._viewer = napari_viewer
        self._alive = True
        self._worker = None
        self.busy_buttons: list[PushButton] = []
        self.cancel_button: PushButton | None = None
        self.status = Label(name="status", value="")
        self.native.destroyed.connect(self._on_destroyed)

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
        """Start ``worker``: its yielded events go to ``on_event`` and its result (unless bad
        input) to ``on_result``, on the GUI thread, while the dock is alive."""
        self._worker = worker
        self.status.value = message
        if on_event is not None:
            worker.yielded.connect(lambda event: self._alive and on_event(event))
        worker.returned.connect(lambda result: self._on_returned(result, on_result, failed))
        worker.errored.connect(lambda _: self._alive and setattr(self.status, "value", failed))
        worker.finished.connect(self._on_finished)
        self._set_busy(True)
        worker.start()

    def refuse(self, error: SegDLError) -> None:
        """Bad input found before a job starts: the notification says what to change."""
        report(error)

    def closing(self) -> None:
        """Called once when the viewer closes the dock: stop work (subclasses add to it)."""

    def _on_returned(self, result, on_result, failed: str) -> None:
        if not self._alive or reported(result, self.status, failed):
            return
        if on_result is not None:
            on_result(result)

    def _on_finished(self) -> None:
        self._worker = None
        if self._alive:
            self._set_busy(False)
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
