"""Prediction of images larger than memory: dask chunks with a receptive margin, on any scheduler.

The image (dask, zarr or a memory-mapped file) is cut into chunks on the network's pooling
grid; every chunk is extended by the receptive margin with ``dask.array.overlap`` and predicted,
and the margin is cut off again, so the result equals in-memory prediction away from the image
border while only a few chunks are in memory at once. Normalisation needs the percentiles of the
whole image: for integer images they are computed exactly from per-chunk histograms.
"""

from __future__ import annotations

import threading

import numpy as np

from ..bundle import SegModel
from ..errors import SegDLError
from ..stacks import has_channels
from .chunks import (
    ModelRef,
    as_dask,
    compute_on,
    exact_limits,
    grid_chunks,
    inner_slices,
    overlap_yx,
)
from .engine import (
    check_channels,
    instance_options,
    labels_from_probabilities,
    predict_probabilities,
)
from .tiles import MAX_CHUNK_MEMORY, auto_tile

#: One network call at a time per process: the backend uses every core for one call already,
#: and memory then holds one chunk's activations, not one per thread.
_NETWORK_LOCK = threading.Lock()


def _prepared(model: SegModel, image, name: str, recipe):
    """The image as a dask array (..., Y, X, C) after ``recipe``; its raw (Y, X)."""
    from ..preprocess import preprocess as apply_recipe

    x = as_dask(image)
    colour = has_channels(x.shape, model.info.channels)
    raw_yx = tuple(x.shape[-3:-1]) if colour else tuple(x.shape[-2:])
    if recipe:
        x = apply_recipe(x, recipe, channels=colour, name=name)
    if not colour:
        x = x[..., np.newaxis]
    x = check_channels(model, x, name)
    if min(x.shape[-3:-1]) < 1:
        raise SegDLError(f"{name}: the image is empty (shape {image.shape}).")
    return x, raw_yx


def predict_lazy(model: SegModel, image, options=None, *, name: str = "image", recipe=None):
    """Predict a dask/zarr/memory-mapped image chunk by chunk; returns a lazy dask array.

    Chunks are ``options.tile`` pixels on a side (by default from the free memory), extended
    by the network's receptive margin (``dask.array.overlap``), so chunk borders leave no
    trace. Instance models get IDs that are consistent across chunks (see :mod:`.stitch`).
    With ``options.scheduler`` the work runs on that ``dask.distributed`` cluster and the
    result is returned as numpy. ``recipe`` is applied to the image first (see
    :func:`~napari_segdl.core.infer.scale.input_recipe`; by default the model's). ``options``
    are :class:`~.options.PredictOptions` (the defaults when None).
    """
    from .options import PredictOptions

    options = options or PredictOptions()
    tile, probabilities, threshold = options.tile, options.probabilities, options.threshold
    tta, scheduler, levels = options.tta, options.scheduler, options.levels
    if recipe is None:
        from .scale import input_recipe

        recipe = input_recipe(model, preprocess=True, scale=None)
    x, raw_yx = _prepared(model, image, name, recipe)
    geometry = model.geometry
    grid, margin = geometry.size_multiple, geometry.margin
    side = tile or auto_tile(geometry, largest=MAX_CHUNK_MEMORY)[0]
    chunk = max(grid, (side - 2 * margin) // grid * grid)
    leading = x.ndim - 3
    x = x.rechunk(
        (
            *((1,) * n for n in x.shape[:leading]),
            grid_chunks(x.shape[leading], chunk, margin),
            grid_chunks(x.shape[leading + 1], chunk, margin),
            (x.shape[-1],),
        )
    )
    limits = _slice_limits(model, x)
    # one chunk along an axis needs no neighbours: the network pads it. At the image border
    # nothing is added, so border chunks see what in-memory tiles see there (the network's
    # own padding), and lazy prediction equals in-memory prediction up to float round-off
    dy, dx = (margin if x.numblocks[axis] > 1 else 0 for axis in (leading, leading + 1))
    extended = overlap_yx(x, leading, dy, dx, boundary="none")
    ref = ModelRef(model)
    keep_scores = probabilities or model.class_map.mode == "instance"

    def block(data, block_info=None):
        where = block_info[0]["chunk-location"][:leading]
        rows, columns = inner_slices(block_info[0], leading, dy, dx)
        net = ref.get()
        results = []
        for index in np.ndindex(*data.shape[:leading]):
            scores = predict_locked(net, data[index], limits[tuple(where)], tta)
            scores = scores[rows, columns]
            results.append(
                scores
                if keep_scores
                else labels_from_probabilities(net, scores, threshold, levels)
            )
        return np.stack(results).reshape(*data.shape[:leading], *results[0].shape)

    result = assembled(model, extended, x, block, probabilities, levels, scheduler)
    if tuple(result.shape[leading : leading + 2]) != tuple(raw_yx):
        result = _restore_lazy(result, raw_yx, labels=not probabilities, leading=leading)
    if scheduler is not None:
        return compute_on(scheduler, result)
    return result


def assembled(model, extended, x, block, probabilities, levels, scheduler, volume=False):
    """The chunks' results as one lazy array: class scores (for probabilities, and for instance
    models until their IDs are joined across chunk borders, in 3D for ``volume``) or labels."""
    if probabilities or model.class_map.mode == "instance":
        num_classes = model.keras_model.output_shape[-1]
        result = extended.map_blocks(
            block, dtype=np.float32, chunks=(*x.chunks[:-1], (num_classes,))
        )
    else:
        result = extended.map_blocks(
            block, dtype=model.class_map.dtype, chunks=x.chunks[:-1], drop_axis=x.ndim - 1
        )
    if model.class_map.mode == "instance" and not probabilities:
        from .stitch import stitch_instances

        result = stitch_instances(
            result, instance_options(model, levels), scheduler, volume=volume
        )
    return result


def predict_locked(model, data, limits, tta):
    """Class scores of one chunk, one network call at a time in this process."""
    with _NETWORK_LOCK:
        return predict_probabilities(model, data, None, limits=(limits[0], limits[1]), tta=tta)


def _slice_limits(model: SegModel, x) -> np.ndarray:
    """Normalisation limits of every 2D slice: (..., 2, C), computed in one pass."""
    norm = model.normalization
    leading = x.shape[:-3]
    limits = np.zeros((*leading, 2, x.shape[-1]))
    for index in np.ndindex(*leading):
        limits[index] = exact_limits(x[index], norm.low, norm.high)
    return limits


def _restore_lazy(result, raw_yx, *, labels: bool, leading: int):
    """Map a result made on a resized image back to the raw (Y, X), one slice per task."""
    from ..preprocess import restore

    whole = result.rechunk({leading: -1, leading + 1: -1})

    def back(block):
        out = [
            restore(block[i], raw_yx, labels=labels) for i in np.ndindex(*block.shape[:leading])
        ]
        return np.stack(out).reshape(*block.shape[:leading], *out[0].shape)

    chunks = (*whole.chunks[:leading], (raw_yx[0],), (raw_yx[1],), *whole.chunks[leading + 2 :])
    return whole.map_blocks(back, chunks=chunks, dtype=result.dtype)
