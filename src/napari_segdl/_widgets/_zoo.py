"""BioImage Model Zoo packages in the Predict dock: loaded (their test tensors reproduced) and
run on image layers, giving a Labels layer and one Image layer per output channel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from napari.qt.threading import thread_worker

from ..core.errors import SegDLError
from ._common import image_data, keras_result, outcome_of
from ._predict_jobs import LayerFailed, PredictRun


@dataclass(frozen=True)
class ZooPredicted:
    """The outputs (and labels) of a package for one layer."""

    layer: object
    outputs: dict
    labels: np.ndarray | None


@thread_worker
def zoo_worker(model, layers):
    """Each layer through the package on a Keras thread, yielding :class:`ZooPredicted` or,
    for a layer that fails, :class:`~._predict_jobs.LayerFailed`; returns an
    :class:`~._common.Ended`."""
    return (yield from outcome_of(_zoo_all(model, layers)))


def _zoo_all(model, layers):
    from ..core.interop.zoo import labels_from_outputs, predict_zoo

    for layer in layers:
        name = f"image layer '{layer.name}'"
        try:
            outputs = keras_result(predict_zoo, model, image_data(layer), name)
        except SegDLError as error:
            yield LayerFailed(layer, error)
            continue
        yield ZooPredicted(layer, outputs, labels_from_outputs(model, outputs))
    return "completed"


def zoo_layers(event: ZooPredicted, model, model_name: str) -> list[tuple]:
    """napari layer data for a package's outputs on one layer, on the image's grid."""
    layer = event.layer
    spatial = event.labels.ndim if event.labels is not None else layer.ndim
    place = {
        "scale": list(layer.scale[-spatial:]),
        "translate": list(layer.translate[-spatial:]),
    }
    record = {
        "model": model_name,
        "bioimageio": model.name,
        "weight_format": model.weight_format,
        "source": layer.name,
    }
    out = []
    if event.labels is not None:
        meta = {"napari_segdl": record}
        out.append(
            (
                event.labels,
                {"name": f"{layer.name} prediction", **place, "metadata": meta},
                "labels",
            )
        )
    for output, data in event.outputs.items():
        channels = [data] if data.ndim == spatial else list(np.moveaxis(data, -1, 0))
        for k, channel in enumerate(channels):
            suffix = f"{output}[{k}]" if len(channels) > 1 else output
            out.append(
                (channel, {"name": f"{layer.name} {suffix}", "visible": False, **place}, "image")
            )
    return out


def start_zoo_prediction(dock, model, layers) -> None:
    """A Model Zoo package on the dock's chosen layers, with its own processing."""
    name = dock.model.value
    dock.job = PredictRun(name, model)

    def add(event) -> None:
        if isinstance(event, LayerFailed):
            dock.layer_failed(event)
            return
        for data, kwargs, kind in zoo_layers(event, model, name):
            getattr(dock.viewer, f"add_{kind}")(data, **kwargs)
            dock.job.added.append(kwargs["name"])

    dock.run(
        zoo_worker(model, layers),
        message=f"Predicting {len(layers)} layer(s) with {model}...",
        on_event=add,
        on_result=dock.done,
    )
