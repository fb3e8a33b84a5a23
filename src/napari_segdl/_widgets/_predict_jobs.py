"""The Predict dock's work: one layer after another on a Keras thread, as typed events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from napari.qt.threading import thread_worker

from ..core.errors import SegDLError
from ._common import UserError, keras_progress, keras_result


@dataclass(frozen=True)
class LayerFailed:
    """Bad input in one layer: it is reported, the others go on."""

    layer: Any
    error: UserError


@dataclass(frozen=True)
class LayerPredicted:
    """The labels (and probabilities, or None) of one layer, ``number`` of ``total``."""

    layer: Any
    labels: Any
    scores: Any
    number: int
    total: int


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
    from ..core.bundle import load_model

    return keras_result(load_model, path)


def _predict_layer(model, image, cancel, maps: bool, on_tile, **options):
    """Labels (and probabilities when ``maps``) of one layer; runs on a Keras thread."""
    from ..core.infer.predict import labels_and_probabilities, predict

    def guarded(done, total):
        if cancel.is_set():
            raise Cancelled
        on_tile(done, total)

    if not maps:
        return predict(model, image, on_tile=guarded, **options), None
    return labels_and_probabilities(model, image, on_tile=guarded, **options)


@thread_worker
def predict_worker(model, jobs: list[PredictJob], cancel, maps: bool, options: dict):
    """Predict every job in turn, yielding :class:`Progress`, :class:`LayerFailed` and
    :class:`LayerPredicted`; returns "completed" or "cancelled"."""
    for number, job in enumerate(jobs, 1):
        try:
            labels, scores = yield from keras_progress(
                _predict_layer,
                model,
                job.image,
                cancel,
                maps,
                name=f"image layer '{job.layer.name}'",
                preprocess=job.preprocess,
                **options,
            )
        except Cancelled:
            return "cancelled"
        except SegDLError as error:
            yield LayerFailed(job.layer, UserError(error))
            continue
        yield LayerPredicted(job.layer, labels, scores, number, len(jobs))
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
