"""The Train dock: image/labels pairs, training in a worker with live curves, the model saved."""

from __future__ import annotations

import threading
from datetime import datetime

import napari
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    Label,
    PushButton,
    SpinBox,
)
from napari.qt.threading import thread_worker
from napari.utils import progress
from napari.utils.notifications import show_info

from ..core.checkpoints import default_checkpoint_dir
from ..core.config import LOSSES, PRESETS, TrainConfig
from ..core.errors import SegDLError
from ..core.labels import LABEL_MODES
from ..core.runs import RunLog, summarize_run
from . import _train_parts as parts
from ._common import (
    CHANNEL_AXES,
    SESSION_MODELS,
    UserError,
    channel_axis,
    image_data,
    labels_data,
    relay_from_keras_thread,
    report,
    reported,
)


@thread_worker
def _training_worker(images, labels, config, stop, preview, **options):
    """Train on a Keras thread; ``options`` are :func:`iter_training`'s keyword arguments."""
    from ..core.training import iter_training

    def run():
        events = iter_training(images, labels, config, stop=stop.is_set, **options)
        return parts.with_preview(events, preview)

    try:
        return (yield from relay_from_keras_thread(run))
    except SegDLError as error:  # bad input: reported by the dock, not as a crash
        return UserError(error)


class TrainWidget(Container):
    """Train a U-Net or SegNet on image layers (2D or stacks) and their painted labels layers."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__()
        self._viewer = napari_viewer
        self.model = None
        self._run_id = None
        self._data_names: list[str] = []
        self._stop = threading.Event()
        self._worker = None
        self._progress = None
        self._alive = True
        self._preview = None
        self.pairs = parts.PairList()
        self.mode = ComboBox(
            name="mode",
            label="label mode",
            choices=LABEL_MODES,
            value="dense",
            tooltip="dense: every pixel labelled, 0 = background. "
            "sparse: 0 = unlabelled scribbles, 1..K = classes. "
            "instance: one ID per object, 0 = background; predicts separated objects.",
        )
        self.arch = ComboBox(
            name="arch",
            label="network",
            choices=[("U-Net", "unet"), ("SegNet", "segnet")],
            value="unet",
            tooltip="U-Net: skip connections, sharp borders. SegNet: upsampling with the "
            "encoder's pooling indices, lighter decoder.",
        )
        self.start_from = ComboBox(
            name="start_from",
            label="start from",
            choices=self._start_choices,
            tooltip="A new network, or a model of this session to continue training on new or "
            "corrected labels (its network, label mode and classes are kept).",
        )
        self.preset = ComboBox(
            name="preset",
            label="preset",
            choices=[("custom", ""), ("fast CPU", "fast-cpu"), ("accurate GPU", "accurate-gpu")],
            tooltip="Sets the settings below to values that work together; edit them after.",
        )
        self.class_weights = ComboBox(
            name="class_weights",
            label="class weights",
            choices=[("none", "none"), ("balance rare classes", "auto")],
        )
        self.loss = ComboBox(name="loss", label="loss", choices=list(LOSSES))
        self.epochs = SpinBox(name="epochs", value=50, min=1, max=10000)
        self.patch = SpinBox(
            name="patch",
            value=256,
            min=16,
            max=2048,
            step=16,
            tooltip="Side of the training patches; a multiple of 2^depth.",
        )
        self.batch = SpinBox(name="batch", value=8, min=1, max=256)
        self.lr = FloatSpinBox(
            name="lr", label="learning rate", value=1e-3, min=1e-4, max=0.1, step=1e-4
        )
        self.filters = SpinBox(
            name="filters",
            value=16,
            min=8,
            max=256,
            step=8,
            tooltip="Filters of the first level. 16 trains well on a CPU; 32 or more on a GPU.",
        )
        self.depth = SpinBox(name="depth", value=4, min=2, max=5)
        self.max_time = SpinBox(
            name="max_time",
            label="time limit (s)",
            value=0,
            min=0,
            max=7 * 24 * 3600,
            tooltip="0 = no limit",
        )
        self.augment = CheckBox(name="augment", text="flips and 90° rotations", value=True)
        self.augment_intensity = CheckBox(
            name="augment_intensity", text="intensity (contrast, gamma, noise)"
        )
        self.augment_deform = CheckBox(
            name="augment_deform", text="small affine and elastic deformations"
        )
        self.channel_axis = ComboBox(
            name="channel_axis",
            label="channel axis",
            choices=CHANNEL_AXES,
            tooltip="Where the channels of a multichannel image layer are; Z/T stacks are "
            "trained slice by slice.",
        )
        self.mixed_precision = ComboBox(
            name="mixed_precision",
            label="mixed precision",
            choices=[("on GPUs", "auto"), ("always", "on"), ("never", "off")],
        )
        self.train_button = PushButton(name="train_button", text="Train")
        self.stop_button = PushButton(name="stop_button", text="Stop", enabled=False)
        self.status = Label(name="status", value="")
        self.checkpoints = FileEdit(
            name="checkpoints",
            label="checkpoints",
            mode="d",
            value=default_checkpoint_dir(),
            tooltip="The best model so far is written here after every better epoch; empty: "
            "no checkpoints. Continue from one with Load model file in Predict, then start from.",
        )
        self.live_preview = CheckBox(
            name="live_preview",
            text="live preview of the slice on screen",
            tooltip="After every epoch, predict the first image's slice on screen into a "
            "'<image> preview' Labels layer.",
        )
        self.show_advanced = CheckBox(name="show_advanced", text="advanced settings")
        self.advanced = Container(
            name="advanced",
            visible=False,
            widgets=[
                self.batch,
                self.lr,
                self.filters,
                self.depth,
                self.class_weights,
                self.loss,
                self.augment,
                self.augment_intensity,
                self.augment_deform,
                self.channel_axis,
                self.mixed_precision,
                self.checkpoints,
            ],
        )
        self.device = Label(name="device", label="device", value="(shown when training starts)")
        self.save_path = FileEdit(name="save_path", label="model file", mode="w", filter="*.keras")
        self.save_button = PushButton(name="save_button", text="Save model", enabled=False)
        self.extend(
            [
                self.pairs,
                self.mode,
                self.arch,
                self.start_from,
                self.preset,
                self.epochs,
                self.patch,
                self.max_time,
                self.live_preview,
                self.show_advanced,
                self.advanced,
                self.train_button,
                self.stop_button,
                self.status,
                self.device,
                self.save_path,
                self.save_button,
            ]
        )
        self.plot = parts.TrainingPlot()
        self.native.layout().addWidget(self.plot.native)
        self._connect_callbacks()

    def _apply_preset(self, name: str) -> None:
        for key, value in PRESETS.get(name, {}).items():
            getattr(self, key).value = 0 if value is None else value  # 0: no time limit

    def _start_choices(self, _widget=None) -> list[tuple[str, str]]:
        return [("a new network", ""), *((name, name) for name in SESSION_MODELS.names())]

    @property
    def image(self):
        """The image choice of the first pair."""
        return self.pairs.rows[0].image

    @property
    def labels_layer(self):
        """The labels choice of the first pair."""
        return self.pairs.rows[0].labels_layer

    def _connect_callbacks(self) -> None:
        SESSION_MODELS.changed.connect(self.start_from.reset_choices)
        self.preset.changed.connect(self._apply_preset)
        self.show_advanced.changed.connect(lambda shown: setattr(self.advanced, "visible", shown))
        self.train_button.changed.connect(self._start)
        self.stop_button.changed.connect(self._request_stop)
        self.save_button.changed.connect(self._save)
        self.native.destroyed.connect(self._on_destroyed)

    def _on_destroyed(self, *_) -> None:
        """The viewer closed: stop training (best weights are kept) and ignore late events."""
        self._alive = False
        self._stop.set()
        SESSION_MODELS.changed.disconnect(self.start_from.reset_choices)

    @property
    def running(self) -> bool:
        return self._worker is not None

    def _config(self) -> TrainConfig:
        return TrainConfig(
            mode=self.mode.value,
            arch=self.arch.value,
            epochs=self.epochs.value,
            patch=self.patch.value,
            batch=self.batch.value,
            lr=self.lr.value,
            filters=self.filters.value,
            depth=self.depth.value,
            max_time=self.max_time.value or None,
            class_weights=self.class_weights.value,
            loss=self.loss.value,
            augment=self.augment.value,
            augment_intensity=self.augment_intensity.value,
            augment_deform=self.augment_deform.value,
            mixed_precision=self.mixed_precision.value,
            checkpoint_dir=self.checkpoints.line_edit.value.strip() or None,  # empty: none
        )

    def _start(self) -> None:
        if self.running:
            return
        try:
            config = self._config()
            pairs = self.pairs.layers()
            images = [image_data(image) for image, _ in pairs]
            labels = [labels_data(labels) for _, labels in pairs]
            recipe = parts.shared_recipe([image for image, _ in pairs])
        except SegDLError as error:
            report(error)
            return
        sources = [
            (f"image layer '{image.name}'", f"labels layer '{labels.name}'")
            for image, labels in pairs
        ]
        self._stop = threading.Event()
        self._source_name = pairs[0][0].name
        self._data_names = [f"{image.name} + {labels.name}" for image, labels in pairs]
        initial = SESSION_MODELS.get(self.start_from.value) if self.start_from.value else None
        self._preview = (
            parts.LivePreview(self._viewer, pairs[0][0]) if self.live_preview.value else None
        )
        self._worker = _training_worker(
            images,
            labels,
            config,
            self._stop,
            self._preview and self._preview.source,
            sources=sources,
            recipe=recipe,
            initial=initial,
            channel_axis=channel_axis(self.channel_axis.value),
        )
        self._worker.yielded.connect(self._on_event)
        self._worker.returned.connect(self._on_trained)
        self._worker.errored.connect(
            lambda _: self._alive and setattr(self.status, "value", "Training failed.")
        )
        self._worker.finished.connect(self._on_finished)
        self._set_running(True)
        self.plot.reset()
        self.status.value = "Preparing data and building the network..."
        self._worker.start()

    def _request_stop(self) -> None:
        self._stop.set()
        self.status.value = "Stopping after this step; keeping the best weights..."

    def _set_running(self, running: bool) -> None:
        self.train_button.enabled = not running
        self.stop_button.enabled = running

    def _on_event(self, event) -> None:
        if not self._alive:
            return
        if isinstance(event, parts.Preview):
            self._preview.show(event)
        elif event.kind == "start":
            self._progress = progress(total=event.epochs * event.steps, desc="Training")
            self.device.value = event.model.info.training["device"]
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
            self.status.value = (
                f"Training {event.reason} after {event.epoch} epoch(s), "
                f"{event.elapsed:.0f} s; best epoch {event.best_epoch}{best}"
            )

    def _on_trained(self, model) -> None:
        if not self._alive:
            return
        if reported(model, self.status, "Nothing trained: see the message."):
            return
        self.model = model
        arch = {"unet": "U-Net", "segnet": "SegNet"}.get(model.info.arch, model.info.arch)
        name = f"{arch} on {self._source_name} ({datetime.now():%H:%M:%S})"
        SESSION_MODELS.add(name, model)
        self.save_button.enabled = True
        self._run_id = self._record_run(model)
        show_info(f"Model trained: '{name}' is ready in the Predict dock.")

    def _record_run(self, model) -> str | None:
        """Add the run to the run log (the Runs dock); a log that cannot be written is reported."""
        try:
            return RunLog().record(summarize_run(model, self._data_names))["id"]
        except SegDLError as error:
            report(error)
            return None

    def _on_finished(self) -> None:
        if self._preview is not None:
            self._preview.close()
        if self._progress is not None:
            self._progress.close()
            self._progress = None
        self._worker = None
        if self._alive:
            self._set_running(False)

    def _save(self) -> None:
        try:
            if self.model is None:
                raise SegDLError("Train a model before saving it.")
            path = self.model.save(self.save_path.value)
            if self._run_id is not None:
                RunLog().set_bundle(self._run_id, path.resolve())
        except SegDLError as error:
            report(error)
            return
        show_info(f"Model saved to {path}")
