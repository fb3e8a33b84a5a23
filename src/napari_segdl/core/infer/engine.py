"""The network on images in memory: batches, seamless tiles, test-time augmentation, and the
labels (or instance IDs) from its class probabilities."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import numpy as np

from ..backend import load_keras
from ..bundle import SegModel
from ..errors import SegDLError
from ..labels.heads import head_of, turn_vectors
from .runners import network_for
from .tiles import auto_tile, auto_tile_volume, plan_axis


def predict_batch(network, batch: np.ndarray) -> np.ndarray:
    """``network`` on a batch; padded (the last item repeated) to split evenly over devices.

    A network trained on several devices (``TrainConfig.distribute``) needs a batch that is a
    multiple of their count; on one device nothing is padded.
    """
    count, devices = len(batch), replicas(network)
    if count % devices:
        extra = devices - count % devices
        batch = np.concatenate([batch, np.repeat(batch[-1:], extra, axis=0)])
    return np.asarray(network.predict_on_batch(batch), dtype=np.float32)[:count]


def replicas(network) -> int:
    """How many devices share a batch of ``network`` (1 unless training is distributed)."""

    distribution = load_keras().distribution.distribution()
    if distribution is not None:
        return int(np.prod(distribution.device_mesh.shape))
    strategy = getattr(network, "distribute_strategy", None)
    return int(getattr(strategy, "num_replicas_in_sync", 1))


def predict_probabilities(
    model: SegModel,
    image: np.ndarray,
    tile: int | None = None,
    batch_size: int | None = None,
    on_tile: Callable[[int, int], None] | None = None,
    limits=None,
    tta: bool = False,
) -> np.ndarray:
    """Class probabilities (Y, X, K) of a validated (Y, X, C) image, in seamless tiles; for a
    3D model, (Z, Y, X, K) of a (Z, Y, X, C) volume, tiled along every axis.

    ``tile`` is the largest tile side (None: from the free memory); ``limits`` the
    normalisation limits of the whole image when ``image`` is a part of it; ``tta`` averages
    the predictions of the 8 flips and 90° rotations of every tile (in-plane for volumes).
    """
    geometry = model.geometry
    space = image.shape[: geometry.dims]
    sizes, auto_batch = tile_sizes(geometry, space, tile)
    batch_size = batch_size or (auto_batch if tile is None else 1)
    plans = [
        plan_axis(n, size, margin, grid)
        for n, size, margin, grid in zip(
            space, sizes, geometry.margins, geometry.multiples, strict=True
        )
    ]
    data = model.normalization.scale(image, limits or model.normalization.limits(image))
    pad = [(0, plan.padded - n) for plan, n in zip(plans, space, strict=True)]
    data = np.pad(data, [*pad, (0, 0)], mode="symmetric")
    corners = list(itertools.product(*(range(len(plan.starts)) for plan in plans)))
    num_classes = model.keras_model.output_shape[-1]
    flows = head_of(model.info.arch_params) == "flow"
    total = np.zeros((*data.shape[:-1], num_classes), dtype=np.float32)
    weight = np.zeros(total.shape[:-1], dtype=np.float32)
    network = network_for(model)  # Keras, or the ONNX Runtime / OpenVINO copy: once a call
    for first in range(0, len(corners), batch_size):
        chunk = corners[first : first + batch_size]
        windows = [
            tuple(
                slice(plan.starts[i], plan.starts[i] + plan.tile)
                for plan, i in zip(plans, index, strict=True)
            )
            for index in chunk
        ]
        batch = np.stack([data[where] for where in windows])
        scores = _augmented(network, batch, flows) if tta else predict_batch(network, batch)
        for index, where, score in zip(chunk, windows, scores, strict=True):
            w = functools.reduce(
                np.multiply.outer, [plan.weights(i) for plan, i in zip(plans, index, strict=True)]
            )
            total[where] += score * w[..., None]
            weight[where] += w
        if on_tile is not None:
            on_tile(min(first + batch_size, len(corners)), len(corners))
    return (total / weight[..., None])[tuple(slice(0, n) for n in space)]


def tile_sizes(geometry, space: tuple[int, ...], tile):
    """The largest tile along each spatial axis and the tiles per batch: ``tile`` in-plane (or
    as the free memory allows), and for volumes a depth that the memory allows; a tuple gives
    the size along each axis."""
    if isinstance(tile, tuple):
        return tile, 1
    if geometry.dims == 2:
        side, batch = auto_tile(geometry)
        return (tile or side,) * 2, batch
    return auto_tile_volume(geometry, space[0], tile)


def _augmented(network, batch: np.ndarray, flows: bool = False) -> np.ndarray:
    """Test-time augmentation: the mean prediction over the 8 in-plane flips and rotations
    (with ``flows``, the last two output channels are a flow, turned back as vectors)."""
    plane = (batch.ndim - 3, batch.ndim - 2)  # (B, [Z,] Y, X, C)
    total = 0.0
    for k in range(4):
        for flip in (False, True):
            view = np.rot90(batch, k, axes=plane)
            view = np.flip(view, plane[1]) if flip else view
            scores = predict_batch(network, np.ascontiguousarray(view))
            scores = np.flip(scores, plane[1]) if flip else scores
            if flows:
                scores = turn_vectors(scores, 0, flip)
            scores = np.rot90(scores, -k, axes=plane)
            total = total + (turn_vectors(scores, -k, False) if flows else scores)
    return total / 8


def check_levels(model: SegModel, levels: dict | None) -> None:
    """Seed and extent levels are for instance models, and between 0 and 1; the flow check
    for flow-head models."""
    if not levels:
        return
    if model.class_map.mode != "instance":
        raise SegDLError(
            f"Seed and extent levels are for instance models; this is a {model.class_map.mode} "
            "model (leave them out)."
        )
    if "flow_error" in levels and head_of(model.info.arch_params) != "flow":
        raise SegDLError(
            f"The flow check is for models with the flow head; this model has the "
            f"{head_of(model.info.arch_params)} head (leave flow_error out)."
        )
    for name, value in levels.items():
        if name != "flow_error" and not 0.0 < float(value) < 1.0:
            raise SegDLError(f"the {name} level must be between 0 and 1; received {value!r}.")


def check_threshold(model: SegModel, threshold: float | None) -> None:
    """A threshold is for models of two classes, and between 0 and 1."""
    if threshold is None:
        return
    if model.class_map.mode == "instance" or model.class_map.num_classes != 2:
        raise SegDLError(
            f"A threshold is for models of two classes; this {model.class_map.mode} model has "
            f"{model.class_map.num_classes} (leave the threshold out)."
        )
    if not 0.0 < float(threshold) < 1.0:
        raise SegDLError(f"threshold must be between 0 and 1; received {threshold!r}.")


def check_channels(model: SegModel, array: np.ndarray, name: str) -> np.ndarray:
    """``array`` with the model's channels: an RGBA image with a constant alpha goes to an
    RGB model as RGB; other differences are refused."""
    if array.shape[-1] == 4 and model.info.channels == 3 and isinstance(array, np.ndarray):
        from ..images import drop_alpha

        array = drop_alpha(array)[0]
    if array.shape[-1] != model.info.channels:
        raise SegDLError(
            f"{name} has {array.shape[-1]} channel(s) but the model was trained on "
            f"{model.info.channels}; convert the image (for example RGB to grey) first."
        )
    return array


def labels_from_probabilities(
    model: SegModel,
    scores: np.ndarray,
    threshold: float | None = None,
    levels: dict | None = None,
) -> np.ndarray:
    """Labels (..., Y, X) from class probabilities (..., Y, X, K): the training label values,
    or separated instance IDs 1..N (in every slice, or every volume of a 3D model) for
    instance models."""
    if model.class_map.mode == "instance":
        from ..labels.instances import instances_from_probabilities

        space = model.geometry.dims + 1  # one 2D image or one volume at a time, with classes
        if scores.ndim > space:
            parts = [
                labels_from_probabilities(model, s, levels=levels)
                for s in scores.reshape(-1, *scores.shape[-space:])
            ]
            return np.stack(parts).reshape(scores.shape[:-1])
        return instances_from_probabilities(scores, **instance_options(model, levels))
    classes = scores[..., : model.class_map.num_classes]
    if threshold is not None:
        return model.class_map.decode((classes[..., 1] >= threshold).astype(np.int64))
    return model.class_map.decode(classes.argmax(-1))


def instance_options(model: SegModel, levels: dict | None = None) -> dict:
    """The post-processing of an instance model: its smallest object size, its seed and
    extent levels and its flow check (given ``levels`` first, then those tuned on its
    validation data after training, then the defaults), and how a flow head groups its
    pixels (as tuned)."""
    recorded = model.info.postprocessing
    given = levels or {}
    return {
        "min_size": recorded.min_size,
        "dtype": model.class_map.dtype,
        "seed": float(given.get("seed", recorded.seed)),
        "extent": float(given.get("extent", recorded.extent)),
        "max_error": float(given.get("flow_error", recorded.flow_error)),
        "group": recorded.group,
    }
