"""The Predict dock's work: one layer after another in the worker process (a lazy layer in a
thread of the viewer), as typed events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from napari.qt.threading import thread_worker

from ..core.errors import SegDLError
from ..core.infer.chunks import is_lazy
from ..core.worker import jobs
from ..core.worker.jobs import CANCELLED, ModelLoaded, Progress
from ._common import keras_result, outcome, outcome_of

__all__ = ["ModelLoaded", "Progress"]


@dataclass(frozen=True)
class LayerFailed:
    """Bad input in one layer: it is reported, the others go on."""

    layer: Any
    error: SegDLError


@dataclass(frozen=True)
class LayerPredicted:
    """What predicting one layer gave (:class:`~..core.worker.jobs.LayerResult`: labels,
    probabilities, uncertainty, places, the engine that ran), ``number`` of ``total``."""

    layer: Any
    result: jobs.LayerResult
    number: int
    total: int


@dataclass
class PredictRun:
    """One press of Predict: the model chosen (by its name in the session, and the model once
    loaded), the options, and the layers added so far."""

    model_name: str
    model: Any
    options: Any = None
    added: list = field(default_factory=list)

    def summary(self, cancelled: bool) -> str:
        """What the run added, for the status line when it was cancelled and for a
        notification when it completed."""
        if cancelled:
            return f"Cancelled; {len(self.added)} layer(s) added."
        return f"Added {', '.join(repr(n) for n in self.added)}." if self.added else ""


@dataclass(frozen=True)
class PredictJob:
    """One layer to predict: its data (numpy copied, dask kept lazy) and whether to apply the
    model's recipe (False for a layer the Preprocess dock made with it)."""

    layer: Any
    image: Any
    preprocess: bool


@thread_worker
def load_worker(process, path):
    """A model bundle (read in the worker process, which checks its network), or a Model Zoo
    package (its test tensors reproduced first, here: bioimageio.core runs its own
    frameworks); an :class:`~._common.Ended` with the model."""
    from ..core.interop.zoo import is_zoo_package, load_zoo_model

    if is_zoo_package(path):
        return outcome(keras_result, load_zoo_model, path)
    return (yield from outcome_of(process.call(jobs.load, path)))


@thread_worker
def predict_worker(process, model, work: list[PredictJob], options):
    """Predict every job in turn in the worker process (a lazy layer here, where its result
    computes as it is viewed), yielding :class:`Progress`, :class:`LayerFailed` and
    :class:`LayerPredicted` (after :class:`ModelLoaded` for a bundled model loaded first);
    returns an :class:`~._common.Ended`."""
    return (yield from outcome_of(_predict_all(process, model, work, options)))


def _predict_all(process, model, work: list[PredictJob], options):
    for number, job in enumerate(work, 1):
        name = f"image layer '{job.layer.name}'"
        args = (job.image, options, name, job.preprocess)
        if is_lazy(job.image) and isinstance(model, str):  # a bundled model, read here
            model = keras_result(jobs.loaded, model)  # for a lazy result
            yield ModelLoaded(jobs.file_backed(model))
        try:
            if is_lazy(job.image):
                result = keras_result(jobs.predict_layer, model, *args)
            else:
                calling = process.call(jobs.predict_one, model, *args)
                while True:
                    try:
                        event = next(calling)
                    except StopIteration as finished:
                        result = finished.value
                        break
                    if isinstance(event, ModelLoaded):  # a bundled model: loaded once
                        model = event.model
                    yield event
        except SegDLError as error:
            yield LayerFailed(job.layer, error)
            continue
        if isinstance(result, str) and result == CANCELLED:
            return CANCELLED
        yield LayerPredicted(job.layer, result, number, len(work))
    return "completed"


def result_layers(layer, labels, scores, model, record: dict, channel_axis) -> list[tuple]:
    """napari layer data ``(data, kwargs, kind)`` for a layer's prediction: Labels with the
    image's scale and translate, and one Image per class for the probabilities."""
    spatial = list(range(layer.ndim))
    if channel_axis is not None and len(spatial) > labels.ndim:  # the channel axis is gone
        del spatial[channel_axis]
    place = {
        "scale": [layer.scale[i] for i in spatial],
        "translate": [layer.translate[i] for i in spatial],
        "metadata": {"napari_segdl": {**record, "source": layer.name}},
    }
    out = [(labels, {"name": f"{layer.name} prediction", **place}, "labels")]
    if scores is not None:
        names = [f"{layer.name} p({n})" for n in model.class_map.names]
        maps = {"colormap": "magma", "contrast_limits": (0.0, 1.0)}
        out += [
            (scores[..., k], {"name": n, **maps, **place}, "image") for k, n in enumerate(names)
        ]
    return out


def model_recipe(model) -> dict:
    """A model's recipe; for a bundled model not loaded yet, from its metadata (no TensorFlow)."""
    if not isinstance(model, str):
        return model.info.recipe
    from ..core.bundle import read_metadata
    from ..core.models.bundled import BUNDLED

    return read_metadata(BUNDLED.path(model)).get("recipe") or {}
