"""What the Train dock shows while it trains: progress with ETA, status, live curves, device,
and the live preview of the slice on screen."""

from __future__ import annotations

from napari.utils import progress

from ._common import displayed_slice, image_data

#: The curves of the training plot and their colours.
_SERIES = {"loss": "#4fc3f7", "val_loss": "#ffb74d", "val_iou": "#81c784"}


class TrainingPlot:
    """Loss, validation loss and validation IoU per epoch (pyqtgraph, updated live)."""

    def __init__(self):
        import pyqtgraph as pg

        self.native = pg.PlotWidget()
        self.native.setMinimumHeight(160)
        self.native.setLabel("bottom", "epoch")
        self.native.addLegend(offset=(-10, 10))
        self.native.showGrid(x=True, y=True, alpha=0.2)
        self.curves = {
            key: self.native.plot(
                [], [], name=key.replace("_", " "), pen=pg.mkPen(colour, width=2)
            )
            for key, colour in _SERIES.items()
        }
        self._data: dict[str, list[tuple[int, float]]] = {key: [] for key in _SERIES}

    def reset(self) -> None:
        for key, curve in self.curves.items():
            self._data[key] = []
            curve.setData([], [])

    def add(self, epoch: int, **values) -> None:
        """Add one epoch's figures; None (no validation) leaves that curve as it is."""
        for key, value in values.items():
            if value is None or key not in self.curves:
                continue
            self._data[key].append((epoch, float(value)))
            x, y = zip(*self._data[key], strict=True)
            self.curves[key].setData(list(x), list(y))

    def values(self, key: str) -> list[float]:
        return [value for _, value in self._data[key]]


class TrainingDisplay:
    """Turns training events into the dock's status line, device line, curves and napari's
    activity panel (a progress bar with the epoch, loss and validation IoU)."""

    def __init__(self, status, device):
        self.status, self.device = status, device
        self.plot = TrainingPlot()
        self._progress = None

    def start(self) -> None:
        self.plot.reset()

    def show(self, event) -> None:
        if event.kind == "start":
            self._progress = progress(total=event.epochs * event.steps, desc="Training")
            self.device.value = event.model.info.run.device
        elif event.kind == "step":
            self._progress.update(1)
            self.status.value = (
                f"Epoch {event.epoch}/{event.epochs}, step {event.step}/"
                f"{event.steps}: loss {event.loss:.4f}, ETA {event.eta:.0f} s"
            )
        elif event.kind == "epoch":
            self.plot.add(
                event.epoch, loss=event.loss, val_loss=event.val_loss, val_iou=event.val_iou
            )
            val = "" if event.val_iou is None else f", val IoU {event.val_iou:.3f}"
            self._progress.set_description(
                f"Epoch {event.epoch}/{event.epochs}: loss {event.loss:.4f}{val}"
            )
        elif event.kind == "end":
            best = "" if event.val_iou is None else f"; best val IoU {event.val_iou:.3f}"
            kept = event.model.info.run.start_outcome
            self.status.value = (
                f"Training {event.reason} after {event.epoch} epoch(s), "
                f"{event.elapsed:.0f} s; best epoch {event.best_epoch}{best}"
                + (f"; {kept}" if kept else "")
            )

    def close(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None


class LivePreview:
    """The '<image> preview' Labels layer, predicted from the slice on screen of ``layer`` (the
    whole volume for a 3D network) in the worker process: ``send(key, (name, image))`` hands it
    the slice now on screen whenever the user moves to another one."""

    def __init__(self, viewer, layer, volume: bool, key: str, send):
        self.viewer, self.layer, self.volume = viewer, layer, volume
        self.key, self._send = key, send
        image = image_data(layer) if volume else displayed_slice(viewer, layer)
        #: What the job starts with: (key, (name, image)).
        self.first = (key, (self.name, image))
        viewer.dims.events.current_step.connect(self._follow)

    @property
    def name(self) -> str:
        return f"image layer '{self.layer.name}' (preview)"

    def _follow(self, *_) -> None:
        if self.layer in self.viewer.layers and not self.volume:
            self._send((self.key, (self.name, displayed_slice(self.viewer, self.layer))))

    def show(self, preview) -> None:
        name = f"{self.layer.name} preview"
        if name in self.viewer.layers:
            self.viewer.layers[name].data = preview.labels
        else:
            self.viewer.add_labels(
                preview.labels,
                name=name,
                scale=self.layer.scale[-preview.labels.ndim :],
                translate=self.layer.translate[-preview.labels.ndim :],
                opacity=0.5,
            )
        self.viewer.layers[name].metadata["napari_segdl"] = {"preview_epoch": preview.epoch}

    def close(self) -> None:
        self.viewer.dims.events.current_step.disconnect(self._follow)
