"""The Predict dock: a model from this session or a file, an image layer -> a Labels layer."""

from __future__ import annotations

from functools import partial

import napari
from magicgui.widgets import (
    ComboBox,
    Container,
    FileEdit,
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
    SESSION_MODELS,
    image_data,
    keras_result,
    layer_recipe,
    report,
    reported,
)


@thread_worker
def _load_worker(path):
    from ..core.bundle import load_model

    return keras_result(load_model, path)


@thread_worker
def _predict_worker(model, image, tile, name, preprocess):
    from ..core.predict import predict

    return keras_result(predict, model, image, tile=tile, name=name, preprocess=preprocess)


class PredictWidget(Container):
    """Predict a new Labels layer for an image layer with a trained model."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__()
        self._viewer = napari_viewer
        self._busy = None
        self._alive = True
        self.image = create_widget(annotation=napari.layers.Image, name="image", label="image")
        self.model = ComboBox(
            name="model", label="model", choices=lambda _widget: SESSION_MODELS.names()
        )
        self.model_file = FileEdit(
            name="model_file", label="model file", mode="r", filter="*.keras"
        )
        self.load_button = PushButton(name="load_button", text="Load model file")
        self.tile = SpinBox(
            name="tile",
            value=1024,
            min=64,
            max=16384,
            step=64,
            tooltip="Images larger than this are predicted in blended tiles.",
        )
        self.predict_button = PushButton(name="predict_button", text="Predict")
        self.status = Label(name="status", value="")
        self.extend(
            [
                self.image,
                self.model,
                self.model_file,
                self.load_button,
                self.tile,
                self.predict_button,
                self.status,
            ]
        )
        self._connect_callbacks()

    def _connect_callbacks(self) -> None:
        SESSION_MODELS.changed.connect(self.model.reset_choices)
        self.load_button.changed.connect(self._load)
        self.predict_button.changed.connect(self._predict)
        self.native.destroyed.connect(self._on_destroyed)

    def _on_destroyed(self, *_) -> None:
        """The viewer closed: the registry outlives this dock, and results may still arrive."""
        self._alive = False
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
        layer = self.image.value
        try:
            if not self.model.value:
                raise SegDLError("No model: train one in the Train dock or load a model file.")
            image = image_data(layer)
        except SegDLError as error:
            report(error)
            return
        model_name = self.model.value
        model = SESSION_MODELS.get(model_name)
        # an image the Preprocess dock made with the model's recipe is not preprocessed twice
        raw = not model.info.recipe or layer_recipe(layer) != model.info.recipe
        name = f"image layer '{layer.name}'"
        worker = _predict_worker(model, image, self.tile.value, name, raw)
        self._run(
            worker,
            lambda labels: self._add_labels(layer, model_name, model, labels),
            f"Predicting {layer.name}...",
        )

    def _add_labels(self, layer, model_name, model, labels) -> None:
        name = f"{layer.name} prediction"
        self._viewer.add_labels(
            labels,
            name=name,
            scale=layer.scale,
            translate=layer.translate,
            metadata={"napari_segdl": {"model": model_name, "classes": model.info.classes}},
        )
        self.status.value = f"Added '{name}'."
        show_info(f"Added '{name}'.")
