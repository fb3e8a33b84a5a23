"""The Predict dock's work: one layer after another in the worker process (a lazy layer in a
thread of the viewer), as typed events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from napari.qt.threading import thread_worker

from ..core.errors import SegDLError
from ..core.infer.chunks import is_lazy
from ..core.worker import jobs
from ..core.worker.jobs import ModelLoaded, Progress
from ..core.worker.process import ChildDied
from ._common import UserError, keras_result

__all__ = ["ModelLoaded", "Progress"]


@dataclass(frozen=True)
class LayerFailed:
    """Bad input in one layer: it is reported, the others go on."""

    layer: Any
    error: UserError


@dataclass(frozen=True)
class LayerPredicted:
    """The labels (and probabilities, or None) of one layer, ``number`` of ``total``; with
    ``uncertainty`` asked for also its uncertainty map and its least certain places (or None);
    and the engine that ran."""

    layer: Any
    labels: Any
    scores: Any
    number: int
    total: int
    uncertainty: Any = None
    places: list | None = None
    engine: str = "keras"


@dataclass
class PredictRun:
    """One press of Predict: the model chosen (by its name in the session, and the model once
    loaded), the options, and the layers added so far."""

    model_name: str
    model: Any
    options: Any = None
    added: list = field(default_factory=list)

    def summary(self, outcome) -> str | None:
        """What the status line says when the run ended ("cancelled" or another outcome), or
        None when a notification says it."""
        if outcome == "cancelled":
            return f"Cancelled; {len(self.added)} layer(s) added."
        return None


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
    frameworks)."""
    from ..core.interop.zoo import is_zoo_package, load_zoo_model

    if is_zoo_package(path):
        return keras_result(load_zoo_model, path)
    try:
        return (yield from process.call(jobs.load, path))
    except SegDLError as error:
        return UserError(error)


@thread_worker
def predict_worker(process, model, work: list[PredictJob], options):
    """Predict every job in turn in the worker process (a lazy layer here, where its result
    computes as it is viewed), yielding :class:`Progress`, :class:`LayerFailed` and
    :class:`LayerPredicted` (after :class:`ModelLoaded` for a bundled model loaded first);
    returns "completed", "cancelled", or the UserError of a worker process that died."""
    for number, job in enumerate(work, 1):
        name = f"image layer '{job.layer.name}'"
        args = (job.image, options, name, job.preprocess)
        try:
            if is_lazy(job.image):
                if isinstance(model, str):  # a bundled model, read here for a lazy result
                    model = keras_result(jobs.loaded, model)
                    if isinstance(model, UserError):
                        return model
                    yield ModelLoaded(jobs.file_backed(model))
                result = keras_result(jobs.predict_layer, model, *args)
                if isinstance(result, UserError):
                    raise result.error
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
        except ChildDied as error:  # what happened, and what to do
            return UserError(
                ChildDied(f"{error}; your layers are untouched. Press Predict to start again.")
            )
        except SegDLError as error:
            yield LayerFailed(job.layer, UserError(error))
            continue
        if result == "cancelled":
            return "cancelled"
        yield LayerPredicted(
            job.layer,
            result.labels,
            result.scores,
            number,
            len(work),
            result.uncertainty,
            result.places,
            result.engine,
        )
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
