"""The Runs dock: every recorded training run in a table, best first; load a run's model, or
reopen the images and labels it trained on as layers."""

from __future__ import annotations

from pathlib import Path

import napari
from magicgui.widgets import PushButton, Table
from napari.qt.threading import thread_worker

from ..core.bundle import SegModel
from ..core.errors import SegDLError
from ..core.train.rundata import load_run_data
from ..core.train.runs import RunLog
from ._common import SESSION_MODELS, outcome, table_value
from ._dock import Dock


@thread_worker
def data_worker(path):
    """A run's kept data, read (and decompressed) off the GUI thread: an
    :class:`~._common.Ended`."""
    return outcome(load_run_data, path)


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
        self.data_button = PushButton(
            name="data_button",
            text="Open the selected run's data",
            tooltip="Add the images and labels the run trained on (as they were when it "
            "started) as layers, to look at, correct or train on again.",
        )
        self.busy_buttons = [self.load_button, self.data_button]
        self.extend(
            [self.table, self.refresh_button, self.load_button, self.data_button, self.status]
        )
        self._connect_callbacks()
        self.refresh()

    def _connect_callbacks(self) -> None:
        self.refresh_button.changed.connect(self.refresh)
        self.load_button.changed.connect(self._load)
        self.data_button.changed.connect(self._open_data)

    def refresh(self) -> None:
        #: The runs in the table's order (the table turns ids like '5e177110' into numbers).
        self.shown = self.log.ranked()
        rows = run_rows(self.shown)
        self.table.value = table_value(rows, COLUMNS)
        self.status.value = f"{len(rows)} run(s) in {self.log.path}"

    def _selected(self) -> dict | None:
        """The run selected in the table (refused with a message when none is)."""
        selected = self.table.native.selectionModel().selectedRows()
        row = selected[0].row() if selected else self.table.native.currentRow()
        if not 0 <= row < len(self.shown):
            self.refuse(SegDLError("Select a run in the table first."))
            return None
        return self.shown[row]

    def _load(self) -> None:
        run = self._selected()
        if run is None:
            return
        bundle = run.get("bundle")
        try:
            if not bundle or not Path(bundle).is_file():
                raise SegDLError(
                    f"Run {run['id']} has no saved model file ({bundle or 'never saved'}); "
                    "save models from the Train dock to keep them."
                )
            model = SegModel.from_file(bundle)  # its network is read where it predicts
        except SegDLError as error:
            self.refuse(error)
            return
        name = SESSION_MODELS.add(f"run {run['id']}", model)
        self.status.value = f"'{name}' is ready in the Predict dock."

    def _open_data(self) -> None:
        run = self._selected()
        if run is None:
            return
        if not run.get("data_file"):
            why = "over the size cap" if run.get("folder") else "recorded before runs kept data"
            self.refuse(SegDLError(f"Run {run['id']} has no data kept ({why})."))
            return
        self.run(
            data_worker(run["data_file"]),
            message=f"Opening the data of run {run['id']}...",
            on_result=lambda data: self._add_data(run["id"], data),
        )

    def _add_data(self, run_id: str, data) -> None:
        for i, (image_name, labels_name) in enumerate(data.names):
            self._viewer.add_image(data.images[i], name=f"{image_name} (run {run_id})")
            self._viewer.add_labels(data.labels[i], name=f"{labels_name} (run {run_id})")
        self.status.value = f"Opened {len(data.names)} image/labels pair(s) of run {run_id}."
