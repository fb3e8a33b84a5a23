"""The Predict dock: a model from this session or a file, image layers (2D or stacks) -> Labels."""

from __future__ import annotations

import napari
from magicgui.widgets import (
    ComboBox,
    FileEdit,
    PushButton,
    Select,
    create_widget,
)
from napari.utils import progress
from napari.utils.notifications import show_info

from ..core.errors import SegDLError
from ..core.infer.chunks import is_lazy
from ..core.interop.zoo import ZooModel
from ..core.preprocess import already_preprocessed
from ._common import SESSION_MODELS, image_data, report
from ._dock import Dock
from ._export import ExportFields, start_export
from ._predict_jobs import (
    LayerFailed,
    LayerPredicted,
    ModelLoaded,
    PredictJob,
    PredictRun,
    Progress,
    load_worker,
    model_recipe,
    predict_worker,
    result_layers,
)
from ._predict_options import PredictOptionsPanel
from ._zoo import start_zoo_prediction


class PredictWidget(Dock):
    """Predict new Labels layers for image layers with a trained model."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(napari_viewer)
        #: napari's progress bar of the running job (activity panel), or None.
        self.progress_bar = None
        #: The run of the last press of Predict (its model, options and added layers).
        self.job: PredictRun | None = None
        self.images = create_widget(
            annotation=list[napari.layers.Image], name="images", label="images"
        )
        self.images.tooltip = "One or more image layers (2D, RGB, stacks; dask layers stay lazy)."
        self.model = ComboBox(
            name="model", label="model", choices=lambda _widget: SESSION_MODELS.names()
        )
        self.model_file = FileEdit(
            name="model_file",
            label="model file",
            mode="r",
            filter="Models (*.keras *.zip *.yaml)",
        )
        self.model_file.tooltip = (
            "A napari-segdl .keras bundle, or a BioImage Model Zoo package (.zip or rdf.yaml)."
        )
        self.load_button = PushButton(name="load_button", text="Load model file")
        self.option_panel = PredictOptionsPanel()
        for name, widget in self.option_panel.widgets.items():
            setattr(self, name, widget)
        #: (image layer, place) of the last prediction's least certain places.
        self.uncertain_places: list[tuple] = []
        self.places = Select(
            name="places", label="least certain", choices=self._place_choices, allow_multiple=False
        )
        self.predict_button = PushButton(name="predict_button", text="Predict")
        self.cancel_button = PushButton(name="cancel_button", text="Cancel", enabled=False)
        self.export = ExportFields()
        self.busy_buttons = [self.load_button, self.predict_button, self.export.button]
        self.extend(
            [
                self.images,
                self.model,
                self.model_file,
                self.load_button,
                *self.option_panel.all,
                self.predict_button,
                self.cancel_button,
                self.end_button,
                self.status,
                self.places,
                self.export,
                self.free_button,
            ]
        )
        self._select_current_images()
        self._connect_callbacks()

    def _connect_callbacks(self) -> None:
        SESSION_MODELS.changed.connect(self.model.reset_choices)
        SESSION_MODELS.added.connect(self._choose_model)
        self.load_button.changed.connect(self._load)
        self.predict_button.changed.connect(self._predict)
        self.cancel_button.changed.connect(self._request_cancel)
        self.places.changed.connect(self._go_to)
        self.export.button.changed.connect(self._export)

    def _select_current_images(self) -> None:
        """Start with the selected image layers (or the only image), not an empty list."""
        layers = self._viewer.layers
        images = [layer for layer in layers if isinstance(layer, napari.layers.Image)]
        chosen = [layer for layer in images if layer in layers.selection] or images[-1:]
        if chosen:
            self.images.value = chosen

    def closing(self) -> None:
        """The viewer closed (its worker process ends with it); the registry outlives it."""
        SESSION_MODELS.changed.disconnect(self.model.reset_choices)
        SESSION_MODELS.added.disconnect(self._choose_model)

    def _choose_model(self, name: str) -> None:
        """A model just trained or loaded is the one to predict with."""
        if name in self.model.choices:
            self.model.value = name

    def _load(self) -> None:
        path = self.model_file.value
        if not path or not path.is_file():
            self.refuse(
                SegDLError(
                    f"Choose a model file (.keras, or a Model Zoo .zip) to load; '{path}' is not a file."
                )
            )
            return
        self._start_bar(f"Loading {path.name}...")
        self.run(
            load_worker(self.process, path),
            message=f"Loading {path.name}...",
            on_result=lambda model: self._on_loaded(path, model),
        )

    def _export(self) -> None:
        start_export(self)

    def _on_loaded(self, path, model) -> None:
        self.model.value = SESSION_MODELS.add(path.stem, model)
        self.status.value = f"Loaded {model}"

    def _predict(self) -> None:
        try:
            if not self.model.value:
                raise SegDLError("No model: train one in the Train dock or load a model file.")
            layers = list(self.images.value)
            if not layers:
                raise SegDLError("Choose one or more image layers to predict.")
            model = SESSION_MODELS.get(self.model.value)
            if isinstance(model, ZooModel):
                start_zoo_prediction(self, model, layers)
                return
            recipe = model_recipe(model)
            jobs = [
                PredictJob(
                    layer,
                    layer.data if is_lazy(layer.data) else image_data(layer),
                    not already_preprocessed(layer.metadata, recipe),
                )
                for layer in layers
            ]
            options = self.option_panel.options()
        except SegDLError as error:
            self.refuse(error)
            return
        self.job = PredictRun(self.model.value, model, options)
        self.uncertain_places = []
        message = f"Predicting {len(jobs)} layer(s)..."
        self._start_bar(message)
        self.run(
            predict_worker(self.process, model, jobs, options),
            message=message,
            on_event=self._on_event,
            on_result=self.done,
        )

    def _start_bar(self, message: str) -> None:
        self.progress_bar = progress(total=0, desc=message)

    def finished(self) -> None:
        if self.progress_bar is not None:
            self.progress_bar.close()
            self.progress_bar = None

    def _request_cancel(self) -> None:
        self.process.request_stop()
        self.status.value = "Cancelling after this tile..."

    def _on_event(self, event) -> None:
        if isinstance(event, ModelLoaded):
            SESSION_MODELS.keep(self.job.model_name, event.model)
            self.job.model = event.model
        elif isinstance(event, LayerFailed):
            self.layer_failed(event)
        elif isinstance(event, LayerPredicted):
            self._add_results(event)
            self.status.value = (
                f"{event.number}/{event.total}: added '{event.layer.name} prediction'."
            )
        elif isinstance(event, Progress):
            self.progress_bar.total = event.total
            self.progress_bar.n = event.done
            self.progress_bar.refresh()

    restart = "Press Predict to start again."

    def layer_failed(self, event: LayerFailed) -> None:
        """Bad input in one layer: shown, the status line says which; the others go on."""
        report(event.error)
        self.status.value = f"'{event.layer.name}' failed: see the message."

    def done(self, _value=None) -> None:
        """The run completed: a notification says what it added."""
        if self.job.added:
            show_info(self.job.summary(cancelled=False))

    def cancelled(self) -> None:
        self.status.value = self.job.summary(cancelled=True)

    def _add_results(self, predicted: LayerPredicted) -> None:
        job, options, layer = self.job, self.job.options, predicted.layer
        result = predicted.result
        record = {
            "model": job.model_name,
            "classes": job.model.info.classes,
            "tile": options.tile or "auto",
            "tta": options.tta,
            "threshold": options.threshold,
            "engine": result.engine,  # the engine that ran
        }
        for data, kwargs, kind in result_layers(
            layer, result.labels, result.scores, job.model, record, options.channel_axis
        ):
            self._viewer.add_layer(napari.layers.Layer.create(data, kwargs, kind))
        job.added.append(f"{layer.name} prediction")
        for advice in result.advice:  # e.g. objects far from the size the model learned
            show_info(advice)
        if result.uncertainty is not None:
            self._viewer.add_image(
                result.uncertainty,
                name=f"{layer.name} uncertainty",
                colormap="inferno",
                contrast_limits=(0.0, 1.0),
                opacity=0.6,
                blending="additive",
                scale=layer.scale[: result.uncertainty.ndim],
                translate=layer.translate[: result.uncertainty.ndim],
            )
            self.uncertain_places += [(layer, place) for place in result.places]
            self.places.reset_choices()

    def _place_choices(self, _widget=None) -> list[tuple[str, int]]:
        return [
            (
                f"{layer.name}: {p['kind']} {p['label']} at {p['slice'] + p['centre']}, "
                f"{p['uncertainty']:.2f}",
                i,
            )
            for i, (layer, p) in enumerate(self.uncertain_places)
        ]

    def _go_to(self, chosen) -> None:
        """Centre the view on a least certain place (its slice too, in a stack)."""
        index = chosen[0] if isinstance(chosen, list) and chosen else chosen
        if not isinstance(index, int) or index >= len(self.uncertain_places):
            return
        layer, place = self.uncertain_places[index]
        world = layer.data_to_world((*place["slice"], *place["centre"]))
        for axis, value in enumerate(world[:-2]):
            self._viewer.dims.set_point(axis, value)
        scene = getattr(self._viewer, "scene", None)  # napari >= 0.9; before: viewer.camera
        camera = scene.camera if scene is not None else self._viewer.camera
        camera.center = tuple(world[-2:])
