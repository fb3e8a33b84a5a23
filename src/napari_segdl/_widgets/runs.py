"""The Runs dock: every recorded training run in a table, best first; load a run's model."""

from __future__ import annotations

from pathlib import Path

import napari
from magicgui.widgets import PushButton, Table

from ..core.errors import SegDLError
from ..core.train.runs import RunLog
from ._common import SESSION_MODELS, table_value
from ._dock import Dock
from ._predict_jobs import load_worker

COLUMNS = ("id", "finished", "arch", "mode", "data", "epochs", "seconds", "best val IoU", "bundle")


def run_rows(ranked: list[dict]) -> list[list]:
    """Table rows of runs (in the order given)."""
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


class RunsWidget(Dock):
    """Compare training runs and bring the best one's model into the Predict dock."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(napari_viewer)
        self.log = RunLog()
        self.table = Table(name="table", value=table_value([], COLUMNS))
        self.refresh_button = PushButton(name="refresh_button", text="Refresh")
        self.load_button = PushButton(name="load_button", text="Load the selected run's model")
        self.busy_buttons = [self.load_button]
        self.extend([self.table, self.refresh_button, self.load_button, self.status])
        self._connect_callbacks()
        self.refresh()

    def _connect_callbacks(self) -> None:
        self.refresh_button.changed.connect(self.refresh)
        self.load_button.changed.connect(self._load)

    def refresh(self) -> None:
        rows = run_rows(self.log.ranked())
        self.table.value = table_value(rows, COLUMNS)
        self.status.value = f"{len(rows)} run(s) in {self.log.path}"

    def _load(self) -> None:
        selected = self.table.native.selectionModel().selectedRows()
        row = selected[0].row() if selected else self.table.native.currentRow()
        if row < 0:
            self.refuse(SegDLError("Select a run in the table first."))
            return
        run_id, *_, bundle = self.table.value["data"][row]
        if not bundle or not Path(bundle).is_file():
            self.refuse(
                SegDLError(
                    f"Run {run_id} has no saved model file ({bundle or 'never saved'}); save models "
                    "from the Train dock to keep them."
                )
            )
            return
        self.run(
            load_worker(Path(bundle)),
            message=f"Loading run {run_id}...",
            on_result=lambda model: self._on_loaded(run_id, model),
        )

    def _on_loaded(self, run_id: str, model) -> None:
        name = SESSION_MODELS.add(f"run {run_id}", model)
        self.status.value = f"'{name}' is ready in the Predict dock."
