"""Prediction of any image size: padding, overlapping tiles and blending."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from .bundle import SegModel, load_model
from .errors import SegDLError
from .images import as_channels_last

#: Default overlap between neighbouring tiles, in pixels.
DEFAULT_OVERLAP = 64


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``tile`` covering ``length`` with at least ``overlap``."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    return [*starts, length - tile]


def _ramp(size: int, overlap: int, at_start: bool, at_end: bool) -> np.ndarray:
    """1D blending weights: linear ramps over the overlap on sides that meet another tile."""
    weights = np.ones(size, dtype=np.float32)
    ramp = np.arange(1, overlap + 1, dtype=np.float32) / (overlap + 1)
    if overlap and not at_start:
        weights[:overlap] = ramp
    if overlap and not at_end:
        weights[size - overlap :] = np.minimum(weights[size - overlap :], ramp[::-1])
    return weights


def predict_probabilities(
    model: SegModel,
    image: np.ndarray,
    tile: int = 1024,
    overlap: int = DEFAULT_OVERLAP,
    batch_size: int = 4,
    on_tile: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Class probabilities (Y, X, K) of a validated (Y, X, C) image."""
    multiple = model.size_multiple
    height, width = image.shape[:2]
    tile = max(multiple, tile // multiple * multiple)
    overlap = min(overlap, tile // 2)
    padded_shape = [-(-n // multiple) * multiple for n in (height, width)]
    data = model.normalization.apply(image)
    data = np.pad(
        data,
        [(0, padded_shape[0] - height), (0, padded_shape[1] - width), (0, 0)],
        mode="symmetric",
    )
    tile_y, tile_x = (min(tile, n) for n in padded_shape)
    corners = [
        (y, x)
        for y in tile_starts(padded_shape[0], tile_y, overlap)
        for x in tile_starts(padded_shape[1], tile_x, overlap)
    ]
    num_classes = model.keras_model.output_shape[-1]
    total = np.zeros((*padded_shape, num_classes), dtype=np.float32)
    weight = np.zeros(padded_shape, dtype=np.float32)
    for first in range(0, len(corners), batch_size):
        chunk = corners[first : first + batch_size]
        batch = np.stack([data[y : y + tile_y, x : x + tile_x] for y, x in chunk])
        scores = np.asarray(model.keras_model.predict_on_batch(batch), dtype=np.float32)
        for (y, x), score in zip(chunk, scores, strict=True):
            w = np.outer(
                _ramp(tile_y, overlap, y == 0, y + tile_y == padded_shape[0]),
                _ramp(tile_x, overlap, x == 0, x + tile_x == padded_shape[1]),
            )
            total[y : y + tile_y, x : x + tile_x] += score * w[..., None]
            weight[y : y + tile_y, x : x + tile_x] += w
        if on_tile is not None:
            on_tile(min(first + batch_size, len(corners)), len(corners))
    return (total / weight[..., None])[:height, :width]


def predict(
    model: SegModel | str | os.PathLike,
    image,
    *,
    tile: int = 1024,
    overlap: int = DEFAULT_OVERLAP,
    probabilities: bool = False,
    name: str = "image",
    on_tile: Callable[[int, int], None] | None = None,
    preprocess: bool = True,
) -> np.ndarray:
    """Segment a 2D image with a trained model.

    Parameters
    ----------
    model : SegModel or path
        A trained model, or the path of a saved bundle.
    image : array
        (Y, X) or (Y, X, C), any size and numeric dtype; channels must match the model.
    tile : int
        Largest tile side; bigger images are predicted in overlapping tiles and blended.
    overlap : int
        Overlap between neighbouring tiles in pixels.
    probabilities : bool
        Return class probabilities (Y, X, K) instead of labels.
    name : str
        Name of the layer or file, used in error messages.
    on_tile : callable, optional
        Called as ``on_tile(done, total)`` after each batch of tiles.
    preprocess : bool
        Apply the model's preprocessing recipe first (the image is raw) and map the result
        back to the image's shape; False when the image is already preprocessed.

    Returns
    -------
    numpy.ndarray
        Labels (Y, X) in the training label values and dtype, or probabilities, of the
        shape of ``image``.
    """
    from .preprocess import Recipe, restore
    from .preprocess import preprocess as apply_recipe

    if not isinstance(model, SegModel):
        model = load_model(model)
    recipe = Recipe.coerce(model.info.recipe) if preprocess else Recipe()
    raw_yx = np.shape(image)[:2]
    if recipe:
        image = apply_recipe(np.asarray(image), recipe, channels=np.ndim(image) == 3, name=name)
    array = as_channels_last(image, name)
    if array.shape[-1] != model.info.channels:
        raise SegDLError(
            f"{name} has {array.shape[-1]} channel(s) but the model was trained on "
            f"{model.info.channels}; convert the image (for example RGB to grey) first."
        )
    if tile < 1 or overlap < 0:
        raise SegDLError(
            f"tile must be >= 1 and overlap >= 0; received tile={tile}, overlap={overlap}."
        )
    scores = predict_probabilities(model, array, tile, overlap, on_tile=on_tile)
    if probabilities:
        return restore(scores, raw_yx, labels=False)
    if model.class_map.mode == "instance":
        from .instance_mode import instances_from_probabilities

        min_size = int(model.info.training.get("instance_min_size", 4))
        labels = instances_from_probabilities(scores, min_size, model.class_map.dtype)
    else:
        labels = model.class_map.decode(scores.argmax(-1))
    return restore(labels, raw_yx)
