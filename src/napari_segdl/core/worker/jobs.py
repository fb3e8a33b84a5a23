"""The docks' Keras jobs, run in the worker process: training, adapting, prediction, loading,
export.

Each is a plain function of picklable arguments; models travel as their bundle's path
(:class:`~napari_segdl.core.bundle.SegModel` pickles so), events as small dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SegDLError
from . import child

#: The name (with the run's id) under which the viewer sends the image the preview predicts.
PREVIEW = "preview"
#: What a job returns when Cancel ended it before its end.
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` parts of a job (tiles, slices)."""

    done: int
    total: int


@dataclass(frozen=True)
class Preview:
    """A prediction of the slice on screen after an epoch, for the preview layer."""

    epoch: int
    labels: np.ndarray


@dataclass(frozen=True)
class InfoOnly:
    """What a training event carries of its model to the viewer: the metadata, no network."""

    info: Any


@dataclass(frozen=True)
class ModelLoaded:
    """A bundled model, loaded on first use, for the dock to keep."""

    model: Any


class Cancelled(Exception):
    """Cancel was pressed: prediction stops at the next tile."""


def loaded(model):
    """``model``, or the bundled model of that name (its network read in this process)."""
    if isinstance(model, str):
        from ..bundle import load_model

        return load_model(model)
    return model


def file_backed(model):
    """``model`` as it travels back to the viewer: its metadata and its bundle's path."""
    from ..bundle import SegModel

    return SegModel(None, model.info, model.path)


def train(data_file, config, options: dict, preview, model_file):
    """Train on the run's data; events after every step and epoch, and with ``preview``
    ``(key, (name, image))`` a :class:`Preview` after each epoch of the newest image the
    viewer sent under ``key`` (at first ``image``); the model is written to ``model_file``
    and comes back file-backed."""
    from ..bundle import SegModel
    from ..train.api import iter_training
    from ..train.rundata import load_run_data

    data = load_run_data(data_file)
    options = {**options, "regions": data.regions, "initial": loaded(options.get("initial"))}
    events = iter_training(data.images, data.labels, config, stop=child.stop_requested, **options)
    while True:
        try:
            event = next(events)
        except StopIteration as finished:
            model = finished.value
            break
        light = InfoOnly(event.model.info) if event.kind != "step" else None
        yield replace(event, model=light)
        if preview is not None and event.kind == "epoch":
            key, first = preview
            shown = _preview(event, child.latest(key, first))
            if shown is not None:
                yield shown
    model.save(model_file)
    return SegModel(None, model.info, Path(model_file))


def _preview(event, source) -> Preview | None:
    from ..infer.predict import predict

    if source is None:
        return None
    name, image = source
    try:
        return Preview(event.epoch, predict(event.model, image, name=name, preprocess=False))
    except SegDLError:  # e.g. a slice too unlike the training images: no preview
        return None


@dataclass(frozen=True)
class LayerResult:
    """What predicting one image gives: its labels, probabilities (when asked for, else None),
    uncertainty map and least certain places (when asked for, else None), and the engine
    that ran the network."""

    labels: Any
    scores: Any
    uncertainty: Any
    places: list | None
    engine: str
    advice: tuple[str, ...] = ()


def predict_layer(model, image, options, name: str, preprocess: bool) -> LayerResult:
    """Labels, probabilities (``options.probabilities``), and uncertainty and its ranked places
    (``options.uncertainty``) of one image, with :class:`Progress` events, and the advice of
    prediction's warnings (objects far from the learned size); Cancel raises
    :class:`Cancelled`. The options are checked for the model here, once."""
    import warnings

    from ..infer.scale import ObjectSizeWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ObjectSizeWarning)
        result = _layer_result(model, image, options, name, preprocess)
    advice = tuple(str(w.message) for w in caught if issubclass(w.category, ObjectSizeWarning))
    for other in (w for w in caught if not issubclass(w.category, ObjectSizeWarning)):
        warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    return replace(result, advice=advice)


def _layer_result(model, image, options, name: str, preprocess: bool) -> LayerResult:
    from ..infer.predict import labels_and_probabilities, run
    from ..infer.uncertainty import rank_uncertain, uncertainty_map

    def on_tile(done, total):
        if child.stop_requested():
            raise Cancelled
        child.emit(Progress(done, total))

    options = options.check_for(model).resolved(model, image)
    engine, maps, doubt = options.engine, options.probabilities, options.uncertainty
    if not (maps or doubt):
        return LayerResult(run(model, image, options, name, on_tile, preprocess), None, None, None, engine)  # fmt: skip
    labels, scores = labels_and_probabilities(model, image, options, name, on_tile, preprocess)
    if not doubt or not isinstance(labels, np.ndarray):  # lazy results stay lazy
        return LayerResult(labels, scores if maps else None, None, None, engine)
    classes = model.class_map
    doubt_map = uncertainty_map(scores, classes.num_classes)
    background = 0 if classes.mode == "instance" else classes.values[0]
    places = rank_uncertain(labels, doubt_map, background)
    return LayerResult(labels, scores if maps else None, doubt_map, places, engine)


def predict_one(model, image, options, name: str, preprocess: bool):
    """:func:`predict_layer` in the worker process: a :class:`ModelLoaded` event first for a
    bundled model given by name; returns :data:`CANCELLED` when Cancel was pressed."""
    if isinstance(model, str):
        model = loaded(model)
        yield ModelLoaded(file_backed(model))
    try:
        return predict_layer(model, image, options, name, preprocess)
    except Cancelled:
        return CANCELLED


def load(path):
    """A model bundle, checked by reading its network here; comes back file-backed."""
    from ..bundle import load_model

    return file_backed(load_model(path))


def adapt(model, images, labels, sources):
    """``model`` adapted to the corrected pairs (levels and scale, no training); it comes back
    file-backed: its network is the start's, its metadata the adapted one."""
    from ..train.adapt import adapt as fit

    return file_backed(fit(loaded(model), images, labels, sources=sources))


def export(model, path, image, options: dict):
    """Write ``model`` as a Model Zoo package (the converters trace the network here)."""
    from ..interop import export_bioimageio

    return export_bioimageio(loaded(model), path, image=image, overwrite=True, **options)
