"""The Train dock: image/labels pairs, training in a worker with live curves, the model saved.

Its settings are generated from the training schema (:mod:`napari_segdl.core.train.config`),
so they have the API's and the CLI's defaults, ranges and help.
"""

from __future__ import annotations

import napari
from magicgui.widgets import Container, FileEdit, Label, PushButton
from napari.utils.notifications import show_info

from ..core.errors import SegDLError
from ..core.schema import spec
from ..core.train.checkpoints import default_checkpoint_dir
from ..core.train.config import TrainConfig, parameters
from ..core.train.presets import PRESETS
from ..core.train.rundata import RunData
from ..core.worker.jobs import Preview
from ._adapt import start_adapting
from ._common import SESSION_MODELS, channel_axis, image_data, labels_data, report
from ._dock import Dock
from ._schema import make_widget, show_value, widget_value
from ._train_display import LivePreview, TrainingDisplay
from ._train_options import option_widgets
from ._train_pairs import PairList, checked_regions, run_options, shared_recipe
from ._train_run import DataKept, Run, training_worker


class TrainWidget(Dock):
    """Train a U-Net or SegNet, 2D or 3D, on image layers (2D, stacks or volumes) and their
    painted labels layers."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(napari_viewer)
        self.model = None
        #: The last run started (its data, its epochs, its checkpoint), and the run log's id of
        #: the run whose model the dock holds (Save model records the file there).
        self.last_run: Run | None = None
        self.model_run_id: str | None = None
        self._preview = None
        self.pairs = PairList()
        self._params = [item for item in parameters() if spec(item).dock]
        for item in self._params:
            setattr(self, item.name, make_widget(item))
        for name, widget in option_widgets(default_checkpoint_dir()).items():
            widget.name = name
            setattr(self, name, widget)
        basic, advanced = (
            [getattr(self, i.name) for i in self._params if spec(i).advanced == folded]
            for folded in (False, True)
        )
        self.advanced = Container(
            name="advanced",
            visible=False,
            widgets=[*advanced, self.channel_axis, self.checkpoints, self.keep_data, self.backend],
        )
        self.adapt_button = PushButton(
            name="adapt_button",
            text="Adapt to my corrections",
            tooltip="Fit the post-processing levels and the scale of the 'start from' model to "
            "the painted objects: seconds, no training (instance models). Fine-tuning does it "
            "first anyway; this gives the adapted model alone, to compare.",
        )
        self.train_button = PushButton(name="train_button", text="Train")
        self.stop_button = PushButton(name="stop_button", text="Stop", enabled=False)
        self.device = Label(name="device", label="device", value="(shown when training starts)")
        self.save_path = FileEdit(name="save_path", label="model file", mode="w", filter="*.keras")
        self.save_button = PushButton(name="save_button", text="Save model", enabled=False)
        self.busy_buttons = [self.train_button, self.adapt_button]
        self.cancel_button = self.stop_button
        self.extend(
            [
                self.pairs,
                *basic[:3],
                self.start_from,
                self.adapt_button,
                self.regions,
                self.preset,
                *basic[3:],
                self.live_preview,
                self.show_advanced,
                self.advanced,
                self.train_button,
                self.stop_button,
                self.end_button,
                self.status,
                self.device,
                self.save_path,
                self.save_button,
                self.free_button,
            ]
        )
        self.display = TrainingDisplay(self.status, self.device)
        self.native.layout().addWidget(self.display.plot.native)
        self._connect_callbacks()

    def _connect_callbacks(self) -> None:
        SESSION_MODELS.changed.connect(self.start_from.reset_choices)
        self.preset.changed.connect(self._apply_preset)
        self.start_from.changed.connect(self._suggest_fine_tuning)
        self.show_advanced.changed.connect(lambda shown: setattr(self.advanced, "visible", shown))
        self.train_button.changed.connect(self._start)
        self.adapt_button.changed.connect(lambda: self.running or start_adapting(self))
        self.stop_button.changed.connect(self._request_stop)
        self.save_button.changed.connect(self._save)
        self.pairs.changed.connect(lambda *_: self._offer_dims())
        self.dims.changed.connect(lambda *_: self._suggest_volume_settings())
        self._offer_dims()

    @property
    def process(self):
        """This dock's worker process, on the backend the dock shows."""
        process = super().process
        process.backend = self.backend.value or None
        return process

    def closing(self) -> None:
        """The viewer closed: its worker process ends with it (checkpoints stay on disk)."""
        SESSION_MODELS.changed.disconnect(self.start_from.reset_choices)

    def _apply_preset(self, name: str) -> None:
        shown = {item.name: item for item in self._params}
        for key, value in PRESETS.get(name, {}).items():
            if key in shown:
                show_value(shown[key], getattr(self, key), value)

    def _suggest_fine_tuning(self, start_from: str) -> None:
        """Starting from a model: a lower learning rate and a one-minute run, unless chosen."""
        if start_from and not self.preset.value:
            self.preset.value = "fine-tune"

    def config(self) -> TrainConfig:
        """The training configuration the dock shows."""
        values = {item.name: widget_value(item, getattr(self, item.name)) for item in self._params}
        folder = self.checkpoints.line_edit.value.strip() or None  # empty: no checkpoints
        return TrainConfig.create(**values, checkpoint_dir=folder)

    def _start(self) -> None:
        if self.running:
            return
        try:
            config = self.config()
            pairs = self.pairs.layers()
            images = [image_data(image) for image, _ in pairs]
            labels = [labels_data(labels) for _, labels in pairs]
            recipe = shared_recipe([image for image, _ in pairs])
            regions = checked_regions(self.regions.value, pairs)
            run = Run(pairs, config)  # its folder: refused here when it cannot be written
        except SegDLError as error:
            self.refuse(error)
            return
        self.last_run = run
        initial = SESSION_MODELS.get(self.start_from.value) if self.start_from.value else None
        self._preview = (
            LivePreview(
                self._viewer, pairs[0][0], config.dims == 3, run.preview_key, self.process.send
            )
            if self.live_preview.value
            else None
        )
        worker = training_worker(
            self.process,
            RunData(images, labels, run.names, regions),
            run,
            self.keep_data.value,
            config,
            self._preview and self._preview.first,
            **run_options(pairs, config),
            recipe=recipe,
            initial=initial,
            channel_axis=channel_axis(self.channel_axis.value),
        )
        self.display.start()
        self.run(
            worker,
            message="Keeping the run's data, starting the worker process...",
            on_event=self._on_event,
            on_result=self._on_trained,
            failed="Nothing trained: see the message.",
        )

    def _request_stop(self) -> None:
        self.process.request_stop()
        self.status.value = "Stopping after this step; keeping the best weights..."

    def _on_event(self, event) -> None:
        if isinstance(event, Preview):
            self._preview.show(event)
            return
        self.last_run.saw(event)
        if not isinstance(event, DataKept):
            self.display.show(event)

    def died(self, error) -> None:
        line, checkpoint = self.last_run.died(error)
        if checkpoint is not None:
            self.start_from.value = checkpoint
        self.status.value = line
        report(line)

    def _on_trained(self, model) -> None:
        self.model = model
        name, self.model_run_id = self.last_run.trained(model)
        self.save_button.enabled = True
        show_info(f"Model trained: '{name}' is ready in the Predict dock.")

    def finished(self) -> None:
        if self._preview is not None:
            self._preview.close()
        self.display.close()

    def _save(self) -> None:
        """Save the trained model to the file field (and note it in the run log)."""
        from ..core.train.runs import RunLog

        try:
            if self.model is None:
                raise SegDLError("Train a model before saving it.")
            path = self.model.save(self.save_path.value)
            if self.model_run_id is not None:
                RunLog().set_bundle(self.model_run_id, path.resolve())
        except SegDLError as error:
            self.refuse(error)
            return
        show_info(f"Model saved to {path}")

    def _offer_dims(self) -> None:
        """3D is offered when the first pair's image is a stack or a volume; a 2D image trains
        2D."""
        image = self.pairs.rows[0].image.value if self.pairs.rows else None
        stack = image is not None and image.ndim >= 3
        if not stack and self.dims.value == 3:
            self.dims.value = 2
        self.dims.enabled = stack  # its tooltip says what 3D is for

    def _suggest_volume_settings(self) -> None:
        """3D chosen: depth, patch, patch depth, batch and filters chosen for the first volume
        and this machine's memory (the values the CLI and the API choose when not given)."""
        image = self.pairs.rows[0].image.value if self.pairs.rows else None
        if self.dims.value != 3 or image is None or image.ndim < 3:
            return
        from ..core.train.memory import volume_settings

        try:
            spacing = tuple(float(s) for s in image.scale[-3:])
            shape = image.data.shape[-4:-1] if image.rgb else image.data.shape[-3:]
            _, chosen = volume_settings(self.config(), shape, spacing)
        except SegDLError as error:
            self.refuse(error)
            return
        for key, value in chosen.items():
            getattr(self, key).value = value
        settings = ", ".join(f"{key} {value}" for key, value in chosen.items())
        self.status.value = (
            f"3D settings chosen for this volume and this machine's memory: {settings}"
        )
