"""The Predict dock's work: one layer after another on a Keras thread, as typed events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from napari.qt.threading import thread_worker

from ..core.errors import SegDLError
from ._common import UserError, keras_progress, keras_result, loaded_model


@dataclass(frozen=True)
class LayerFailed:
    """Bad input in one layer: it is reported, the others go on."""

    layer: Any
    error: UserError


@dataclass(frozen=True)
class LayerPredicted:
    """The labels (and probabilities, or None) of one layer, ``number`` of ``total``; with
    ``doubt`` also its uncertainty map and its least certain places (or None)."""

    layer: Any
    labels: Any
    scores: Any
    number: int
    total: int
    uncertainty: Any = None
    places: list | None = None


@dataclass(frozen=True)
class ModelLoaded:
    """A bundled model, loaded on first use, for the dock to keep."""

    model: Any


@dataclass(frozen=True)
class PredictJob:
    """One layer to predict: its data (numpy copied, dask kept lazy) and whether to apply the
    model's recipe (False for a layer the Preprocess dock made with it)."""

    layer: Any
    image: Any
    preprocess: bool


class Cancelled(Exception):
    """Cancel was pressed: prediction stops at the next tile."""


@thread_worker
def load_worker(path):
    """A model bundle, or a Model Zoo package (its test tensors reproduced first)."""
    from ..core.bundle import load_model
    from ..core.interop.zoo import is_zoo_package, load_zoo_model

    return keras_result(load_zoo_model if is_zoo_package(path) else load_model, path)


def _predict_layer(model, image, cancel, maps: bool, doubt: bool, on_tile, **options):
    """Labels, probabilities (when ``maps``), and uncertainty and its ranked places (when
    ``doubt``, for images in memory) of one layer; runs on a Keras thread."""
    from ..core.infer.predict import labels_and_probabilities, predict
    from ..core.infer.uncertainty import rank_uncertain, uncertainty_map

    def guarded(done, total):
        if cancel.is_set():
            raise Cancelled
        on_tile(done, total)

    if not (maps or doubt):
        return predict(model, image, on_tile=guarded, **options), None, None, None
    labels, scores = labels_and_probabilities(model, image, on_tile=guarded, **options)
    if not doubt or not isinstance(labels, np.ndarray):  # lazy results stay lazy
        return labels, scores if maps else None, None, None
    classes = model.class_map
    doubt_map = uncertainty_map(scores, classes.num_classes)
    background = 0 if classes.mode == "instance" else classes.values[0]
    places = rank_uncertain(labels, doubt_map, background)
    return labels, scores if maps else None, doubt_map, places


@thread_worker
def predict_worker(model, jobs: list[PredictJob], cancel, maps: bool, options: dict, doubt=False):
    """Predict every job in turn, yielding :class:`Progress`, :class:`LayerFailed` and
    :class:`LayerPredicted` (after :class:`ModelLoaded` for a bundled model loaded first);
    returns "completed", "cancelled", or the UserError of a model that did not load."""
    if isinstance(model, str):
        model = keras_result(loaded_model, model)
        if isinstance(model, UserError):
            return model
        yield ModelLoaded(model)
    for number, job in enumerate(jobs, 1):
        try:
            labels, scores, uncertainty, places = yield from keras_progress(
                _predict_layer,
                model,
                job.image,
                cancel,
                maps,
                doubt,
                name=f"image layer '{job.layer.name}'",
                preprocess=job.preprocess,
                **options,
            )
        except Cancelled:
            return "cancelled"
        except SegDLError as error:
            yield LayerFailed(job.layer, UserError(error))
            continue
        yield LayerPredicted(job.layer, labels, scores, number, len(jobs), uncertainty, places)
    return "completed"


def result_layers(layer, labels, scores, model, record: dict, channel_axis) -> list[tuple]:
    """napari layer data ``(data, kwargs, kind)`` for a layer's prediction: Labels with the
    image's scale and translate, and one Image per class for the probabilities."""
    spatial = list(range(layer.ndim))
    if channel_axis is not None and len(spatial) > labels.ndim:  # the channel axis is gone
        del spatial[channel_axis]
    if "engine" in record:  # the engine that ran, not "auto"
        from ..core.infer.runners import resolve

        record = {**record, "engine": resolve(record["engine"], int(labels.size))}
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


def recipe_of(model) -> dict:
    """A model's recipe; for a bundled model not loaded yet, from its metadata (no TensorFlow)."""
    if not isinstance(model, str):
        return model.info.recipe
    from ..core.bundle import read_metadata
    from ..core.models.bundled import BUNDLED

    return read_metadata(BUNDLED.path(model)).get("recipe") or {}
