"""The network on images in memory: batches, seamless tiles, test-time augmentation, and the
labels (or instance IDs) from its class probabilities."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..backend import load_keras
from ..bundle import SegModel
from ..errors import SegDLError
from .tiles import auto_tile, plan_axis


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
    """Class probabilities (Y, X, K) of a validated (Y, X, C) image, in seamless tiles.

    ``tile`` is the largest tile side (None: from the free memory); ``limits`` the
    normalisation limits of the whole image when ``image`` is a part of it; ``tta`` averages
    the predictions of the 8 flips and 90° rotations of every tile.
    """
    geometry = model.geometry
    auto_side, auto_batch = auto_tile(geometry)
    tile, batch_size = tile or auto_side, batch_size or (auto_batch if tile is None else 1)
    height, width = image.shape[:2]
    plans = [plan_axis(n, tile, geometry.margin, geometry.size_multiple) for n in (height, width)]
    data = model.normalization.scale(image, limits or model.normalization.limits(image))
    data = np.pad(
        data,
        [(0, plans[0].padded - height), (0, plans[1].padded - width), (0, 0)],
        mode="symmetric",
    )
    corners = [(i, j) for i in range(len(plans[0].starts)) for j in range(len(plans[1].starts))]
    num_classes = model.keras_model.output_shape[-1]
    total = np.zeros((plans[0].padded, plans[1].padded, num_classes), dtype=np.float32)
    weight = np.zeros(total.shape[:2], dtype=np.float32)
    size_y, size_x = plans[0].tile, plans[1].tile
    for first in range(0, len(corners), batch_size):
        chunk = corners[first : first + batch_size]
        starts = [(plans[0].starts[i], plans[1].starts[j]) for i, j in chunk]
        batch = np.stack([data[y : y + size_y, x : x + size_x] for y, x in starts])
        scores = (
            _augmented(model.keras_model, batch)
            if tta
            else predict_batch(model.keras_model, batch)
        )
        for (i, j), (y, x), score in zip(chunk, starts, scores, strict=True):
            w = np.outer(plans[0].weights(i), plans[1].weights(j))
            total[y : y + size_y, x : x + size_x] += score * w[..., None]
            weight[y : y + size_y, x : x + size_x] += w
        if on_tile is not None:
            on_tile(min(first + batch_size, len(corners)), len(corners))
    return (total / weight[..., None])[:height, :width]


def _augmented(network, batch: np.ndarray) -> np.ndarray:
    """Test-time augmentation: the mean prediction over the 8 flips and rotations."""
    total = 0.0
    for k in range(4):
        for flip in (False, True):
            view = np.rot90(batch, k, axes=(1, 2))
            view = view[:, :, ::-1] if flip else view
            scores = predict_batch(network, np.ascontiguousarray(view))
            scores = scores[:, :, ::-1] if flip else scores
            total = total + np.rot90(scores, -k, axes=(1, 2))
    return total / 8


def check_levels(model: SegModel, levels: dict | None) -> None:
    """Seed and extent levels are for instance models, and between 0 and 1."""
    if not levels:
        return
    if model.class_map.mode != "instance":
        raise SegDLError(
            f"Seed and extent levels are for instance models; this is a {model.class_map.mode} "
            "model (leave them out)."
        )
    for name, value in levels.items():
        if not 0.0 < float(value) < 1.0:
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


def check_channels(model: SegModel, array: np.ndarray, name: str) -> None:
    if array.shape[-1] != model.info.channels:
        raise SegDLError(
            f"{name} has {array.shape[-1]} channel(s) but the model was trained on "
            f"{model.info.channels}; convert the image (for example RGB to grey) first."
        )


def labels_from_probabilities(
    model: SegModel,
    scores: np.ndarray,
    threshold: float | None = None,
    levels: dict | None = None,
) -> np.ndarray:
    """Labels (..., Y, X) from class probabilities (..., Y, X, K): the training label values,
    or separated instance IDs 1..N (in every slice) for instance models."""
    if model.class_map.mode == "instance":
        from ..labels.instances import instances_from_probabilities

        if scores.ndim > 3:
            slices = [
                labels_from_probabilities(model, s, levels=levels)
                for s in scores.reshape(-1, *scores.shape[-3:])
            ]
            return np.stack(slices).reshape(scores.shape[:-1])
        return instances_from_probabilities(scores, **instance_options(model, levels))
    classes = scores[..., : model.class_map.num_classes]
    if threshold is not None:
        return model.class_map.decode((classes[..., 1] >= threshold).astype(np.int64))
    return model.class_map.decode(classes.argmax(-1))


def instance_options(model: SegModel, levels: dict | None = None) -> dict:
    """The post-processing of an instance model: its smallest object size and its seed and
    extent levels (given ``levels`` first, then those tuned on its validation data after
    training, then the defaults)."""
    from ..labels.instances import DEFAULT_LEVELS

    training = model.info.training
    tuned = {**(training.get("instance_levels") or {}), **(levels or {})}
    levels = {key: float(tuned.get(key, value)) for key, value in DEFAULT_LEVELS.items()}
    return {
        "min_size": int(training.get("instance_min_size", 4)),
        "dtype": model.class_map.dtype,
        **levels,
    }
