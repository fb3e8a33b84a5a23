"""The Runs dock: every recorded training run in a table, best first; load a run's model."""

from __future__ import annotations

from pathlib import Path

import napari
from magicgui.widgets import Container, Label, PushButton, Table
from napari.qt.threading import thread_worker

from ..core.errors import SegDLError
from ..core.runs import RunLog
from ._common import SESSION_MODELS, keras_result, report, reported, table_value

COLUMNS = ("id", "finished", "arch", "mode", "data", "epochs", "seconds", "best val IoU", "bundle")


@thread_worker
def _load_worker(path):
    from ..core.bundle import load_model

    return keras_result(load_model, path)


def run_rows(runs: list[dict]) -> list[list]:
    """Table rows, best validation IoU first (runs without one last)."""
    ranked = sorted(runs, key=lambda r: -(r.get("best_val_iou") or -1.0))
    return [
        [
            r["id"],
            r["finished"],
            r["arch"],
            r["mode"],
            ", ".join(r.get("data", [])),
            r.get("epochs_run"),
            r.get("seconds"),
            None if r.get("best_val_iou") is None else round(r["best_val_iou"], 4),
            r.get("bundle") or "",
        ]
        for r in ranked
    ]


class RunsWidget(Container):
    """Compare training runs and bring the best one's model into the Predict dock."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__()
        self._viewer = napari_viewer
        self._alive = True
        self.log = RunLog()
        self.table = Table(name="table", value=table_value([], COLUMNS))
        self.refresh_button = PushButton(name="refresh_button", text="Refresh")
        self.load_button = PushButton(name="load_button", text="Load the selected run's model")
        self.status = Label(name="status", value="")
        self.extend([self.table, self.refresh_button, self.load_button, self.status])
        self._connect_callbacks()
        self.refresh()

    def _connect_callbacks(self) -> None:
        self.refresh_button.changed.connect(self.refresh)
        self.load_button.changed.connect(self._load)
        self.native.destroyed.connect(lambda *_: setattr(self, "_alive", False))

    def refresh(self) -> None:
        rows = run_rows(self.log.runs())
        self.table.value = table_value(rows, COLUMNS)
        self.status.value = f"{len(rows)} run(s) in {self.log.path}"

    def _load(self) -> None:
        selected = self.table.native.selectionModel().selectedRows()
        row = selected[0].row() if selected else self.table.native.currentRow()
        if row < 0:
            report(SegDLError("Select a run in the table first."))
            return
        run_id, *_, bundle = self.table.value["data"][row]
        if not bundle or not Path(bundle).is_file():
            report(
                SegDLError(
                    f"Run {run_id} has no saved model file ({bundle or 'never saved'}); save models "
                    "from the Train dock to keep them."
                )
            )
            return
        worker = _load_worker(Path(bundle))
        worker.returned.connect(lambda model: self._on_loaded(run_id, model))
        self.status.value = f"Loading run {run_id}..."
        worker.start()

    def _on_loaded(self, run_id: str, model) -> None:
        if not self._alive:
            return
        if reported(model, self.status):
            return
        name = SESSION_MODELS.add(f"run {run_id}", model)
        self.status.value = f"'{name}' is ready in the Predict dock."
