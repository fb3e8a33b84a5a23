"""The Predict dock: a model from this session or a file, an image layer (2D or a stack) -> Labels."""

from __future__ import annotations

import threading
from functools import partial

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
    create_widget,
)
from napari.qt.threading import thread_worker
from napari.utils import progress
from napari.utils.notifications import show_info

from ..core.errors import SegDLError
from ._common import (
    CHANNEL_AXES,
    SESSION_MODELS,
    UserError,
    channel_axis,
    image_data,
    keras_progress,
    keras_result,
    layer_recipe,
    report,
    reported,
)


@thread_worker
def _load_worker(path):
    from ..core.bundle import load_model

    return keras_result(load_model, path)


class _Cancelled(Exception):
    """Cancel was pressed: prediction stops at the next tile."""


def _predict_layer(model, image, cancel, maps: bool, on_tile, **options):
    """Labels (and probabilities when ``maps``) of one layer; runs on a Keras thread."""
    from ..core.predict import labels_and_probabilities, predict

    def guarded(done, total):
        if cancel.is_set():
            raise _Cancelled
        on_tile(done, total)

    if not maps:
        return predict(model, image, on_tile=guarded, **options), None
    return labels_and_probabilities(model, image, on_tile=guarded, **options)


@thread_worker
def _predict_worker(model, jobs, cancel, maps, options):
    """Predict every (layer, image, preprocess) job in turn, yielding progress and results."""
    for number, (layer, image, preprocess) in enumerate(jobs, 1):
        try:
            labels, scores = yield from keras_progress(
                _predict_layer,
                model,
                image,
                cancel,
                maps,
                name=f"image layer '{layer.name}'",
                preprocess=preprocess,
                **options,
            )
        except _Cancelled:
            return "cancelled"
        except SegDLError as error:  # this layer is reported; the others go on
            yield ("error", layer, UserError(error))
            continue
        yield ("done", layer, labels, scores, number, len(jobs))
    return "completed"


class PredictWidget(Container):
    """Predict new Labels layers for image layers with a trained model."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__()
        self._viewer = napari_viewer
        self._busy = None
        self._alive = True
        self._cancel = threading.Event()
        self.images = create_widget(
            annotation=list[napari.layers.Image], name="images", label="images"
        )
        self.images.tooltip = "One or more image layers (2D, RGB, stacks; dask layers stay lazy)."
        self.model = ComboBox(
            name="model", label="model", choices=lambda _widget: SESSION_MODELS.names()
        )
        self.model_file = FileEdit(
            name="model_file", label="model file", mode="r", filter="*.keras"
        )
        self.load_button = PushButton(name="load_button", text="Load model file")
        self.tile = SpinBox(
            name="tile",
            value=0,
            min=0,
            max=16384,
            step=64,
            tooltip="Largest tile side; 0 = chosen from the free memory. Tiles overlap by the "
            "network's receptive margin and blend seamlessly.",
        )
        self.channel_axis = ComboBox(
            name="channel_axis",
            label="channel axis",
            choices=CHANNEL_AXES,
            tooltip="Where the channels of a multichannel image layer are; Z/T stacks are "
            "predicted slice by slice.",
        )
        self.threshold = FloatSpinBox(
            name="threshold",
            value=0.0,
            min=0.0,
            max=0.99,
            step=0.05,
            tooltip="Models of two classes: the second class where its probability is at "
            "least this; 0 = the more probable class.",
        )
        self.tta = CheckBox(name="tta", text="test-time augmentation (8 flips, slower)")
        self.maps = CheckBox(name="maps", text="probability maps as image layers")
        self.predict_button = PushButton(name="predict_button", text="Predict")
        self.cancel_button = PushButton(name="cancel_button", text="Cancel", enabled=False)
        self.status = Label(name="status", value="")
        self.extend(
            [
                self.images,
                self.model,
                self.model_file,
                self.load_button,
                self.tile,
                self.channel_axis,
                self.threshold,
                self.tta,
                self.maps,
                self.predict_button,
                self.cancel_button,
                self.status,
            ]
        )
        self._connect_callbacks()

    def _connect_callbacks(self) -> None:
        SESSION_MODELS.changed.connect(self.model.reset_choices)
        self.load_button.changed.connect(self._load)
        self.predict_button.changed.connect(self._predict)
        self.cancel_button.changed.connect(self._request_cancel)
        self.native.destroyed.connect(self._on_destroyed)

    def _on_destroyed(self, *_) -> None:
        """The viewer closed: stop predicting; the registry outlives this dock."""
        self._alive = False
        self._cancel.set()
        SESSION_MODELS.changed.disconnect(self.model.reset_choices)

    @property
    def busy(self) -> bool:
        return self._busy is not None

    def _run(self, worker, on_result, message: str) -> None:
        self._busy = progress(total=0, desc=message)
        self.status.value = message
        self.load_button.enabled = self.predict_button.enabled = False
        worker.returned.connect(partial(self._on_result, on_result))
        worker.errored.connect(
            lambda _error: self._alive and setattr(self.status, "value", "Failed.")
        )
        worker.finished.connect(self._on_finished)
        worker.start()

    def _on_result(self, on_result, result) -> None:
        if not self._alive:
            return
        if not reported(result, self.status):
            on_result(result)

    def _on_finished(self) -> None:
        self._busy.close()
        self._busy = None
        if self._alive:
            self.load_button.enabled = self.predict_button.enabled = True
            self.cancel_button.enabled = False

    def _load(self) -> None:
        path = self.model_file.value
        if not path or not path.is_file():
            report(SegDLError(f"Choose a model file (.keras) to load; '{path}' is not a file."))
            return
        self._run(
            _load_worker(path),
            lambda model: self._on_loaded(path, model),
            f"Loading {path.name}...",
        )

    def _on_loaded(self, path, model) -> None:
        name = SESSION_MODELS.add(path.stem, model)
        self.model.value = name
        self.status.value = f"Loaded {model}"

    def _predict(self) -> None:
        try:
            if not self.model.value:
                raise SegDLError("No model: train one in the Train dock or load a model file.")
            layers = list(self.images.value)
            if not layers:
                raise SegDLError("Choose one or more image layers to predict.")
            model = SESSION_MODELS.get(self.model.value)
            jobs = [(layer, self._layer_image(layer), self._raw(layer, model)) for layer in layers]
        except SegDLError as error:
            report(error)
            return
        options = {
            "tile": self.tile.value or None,
            "threshold": self.threshold.value or None,
            "tta": self.tta.value,
            "channel_axis": channel_axis(self.channel_axis.value),
        }
        self._cancel = threading.Event()
        self._job = {"model_name": self.model.value, "model": model, "added": [], **options}
        worker = _predict_worker(model, jobs, self._cancel, self.maps.value, options)
        worker.yielded.connect(self._on_yielded)
        self._run(worker, self._on_done, f"Predicting {len(jobs)} layer(s)...")
        self.cancel_button.enabled = True

    @staticmethod
    def _layer_image(layer):
        """The layer's data: numpy copied (never changed in place), dask kept lazy."""
        from ..core.lazy import is_lazy

        return layer.data if is_lazy(layer.data) else image_data(layer)

    @staticmethod
    def _raw(layer, model) -> bool:
        """An image the Preprocess dock made with the model's recipe is not preprocessed twice."""
        return not model.info.recipe or layer_recipe(layer) != model.info.recipe

    def _request_cancel(self) -> None:
        self._cancel.set()
        self.status.value = "Cancelling after this tile..."

    def _on_yielded(self, item) -> None:
        if not self._alive:
            return
        if item[0] == "error":
            reported(item[2], self.status, f"'{item[1].name}' failed: see the message.")
        elif item[0] == "done":
            _, layer, labels, scores, number, total = item
            self._add_results(layer, labels, scores)
            self.status.value = f"{number}/{total}: added '{layer.name} prediction'."
        else:
            done, total = item
            self._busy.total = total
            self._busy.n = done
            self._busy.refresh()

    def _on_done(self, outcome) -> None:
        added = len(self._job["added"])
        if outcome == "cancelled":
            self.status.value = f"Cancelled; {added} layer(s) added."
        elif added:
            show_info(f"Added {', '.join(repr(n) for n in self._job['added'])}.")

    def _add_results(self, layer, labels, scores) -> None:
        model, axis = self._job["model"], self._job["channel_axis"]
        spatial = list(range(layer.ndim))
        if axis is not None and len(spatial) > labels.ndim:  # the channel axis is gone
            del spatial[axis]
        place = {
            "scale": [layer.scale[i] for i in spatial],
            "translate": [layer.translate[i] for i in spatial],
        }
        record = {
            "model": self._job["model_name"],
            "classes": model.info.classes,
            "source": layer.name,
            "tile": self._job["tile"] or "auto",
            "tta": self._job["tta"],
            "threshold": self._job["threshold"],
        }
        name = f"{layer.name} prediction"
        self._viewer.add_labels(labels, name=name, metadata={"napari_segdl": record}, **place)
        self._job["added"].append(name)
        if scores is not None:
            names = [f"{layer.name} p({n})" for n in model.class_map.names]
            self._viewer.add_image(
                scores,
                channel_axis=-1,
                name=names,
                colormap="magma",
                contrast_limits=(0.0, 1.0),
                metadata={"napari_segdl": record},
                **place,
            )
