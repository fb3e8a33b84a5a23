"""Prediction with 3D networks: whole volumes (Z, Y, X[, C]) in 3D tiles, in memory or lazily.

A 3D model sees context along z, so a volume is never cut into slices: it is tiled along every
axis with the network's receptive margin in each (:func:`.engine.predict_probabilities`). Lazy
volumes (dask, zarr) are cut into chunks in-plane only, each with the whole depth and the
in-plane margin; instance IDs are joined across chunk borders in 3D (:mod:`.stitch`). Leading
axes before Z (time) are predicted one volume at a time.
"""

from __future__ import annotations

import numpy as np

from ..bundle import SegModel
from ..errors import SegDLError
from .engine import check_channels, labels_from_probabilities, predict_probabilities


def volume_axes(model: SegModel, shape: tuple[int, ...], name: str) -> tuple[tuple, bool]:
    """The leading (time) axes of ``shape`` for a 3D model and whether it has channels; a 2D
    image is refused."""
    channels = model.info.channels > 1 or (len(shape) >= 4 and shape[-1] == 1)
    spatial = len(shape) - channels
    if spatial < 3:
        raise SegDLError(
            f"{name} is a 2D image (shape {tuple(shape)}) but this is a 3D model: it predicts "
            "volumes (Z, Y, X). Open the z-stack, or use a 2D model."
        )
    return tuple(shape[: spatial - 3]), channels


def predict_volume(model, image, options, name, on_tile, recipe):
    """Labels or probabilities of a volume (or a series of volumes), ``recipe`` applied to
    every slice first and undone after; ``options`` are :class:`~.options.PredictOptions`."""
    probabilities, threshold, levels = options.probabilities, options.threshold, options.levels
    leading, channels = volume_axes(model, np.shape(image), name)
    results = []
    for done, index in enumerate(np.ndindex(*leading)):
        volume = np.asarray(image[index])
        where = f"{name} volume {', '.join(map(str, index))}" if leading else name
        raw_yx = volume.shape[1:3]
        volume = _through_recipe(volume, recipe, channels, where)
        volume = check_channels(model, volume, where)
        scores = predict_probabilities(
            model, volume, options.tile, on_tile=None if leading else on_tile, tta=options.tta
        )
        out = (
            scores
            if probabilities
            else labels_from_probabilities(model, scores, threshold, levels)
        )
        results.append(_restored(out, raw_yx, labels=not probabilities))
        if leading and on_tile is not None:
            on_tile(done + 1, int(np.prod(leading)))
    return np.stack(results).reshape(*leading, *results[0].shape)


def _through_recipe(volume: np.ndarray, recipe, channels: bool, name: str) -> np.ndarray:
    """The volume (Z, Y, X, C) after the recipe, slice by slice."""
    from ..images import as_channels_last

    if recipe:
        from ..preprocess import preprocess

        volume = preprocess(volume, recipe, channels=channels, name=name)
        channels = channels or volume.ndim == 4
    volume = volume if channels else volume[..., np.newaxis]
    if volume.shape[0] < 1 or min(volume.shape[1:3]) < 1:
        raise SegDLError(f"{name}: the volume is empty (shape {volume.shape}).")
    as_channels_last(volume[0], name)  # the pixel type checks of 2D images
    return volume


def _restored(result: np.ndarray, raw_yx, *, labels: bool) -> np.ndarray:
    from ..preprocess import restore

    if tuple(result.shape[1:3]) == tuple(raw_yx):
        return result
    return np.stack([restore(s, raw_yx, labels=labels) for s in result])


def predict_volume_lazy(model: SegModel, image, options, *, name: str = "image", recipe=None):
    """A lazy (dask) volume predicted in in-plane chunks of the whole depth; a dask array back
    (numpy with ``options.scheduler``); ``options`` are :class:`~.options.PredictOptions`."""
    tile, probabilities, threshold = options.tile, options.probabilities, options.threshold
    tta, scheduler, levels = options.tta, options.scheduler, options.levels
    from . import chunks
    from .lazy import assembled, predict_locked
    from .tiles import MAX_CHUNK_MEMORY

    x = chunks.as_dask(image)
    leading, channels = volume_axes(model, x.shape, name)
    if recipe:
        raise SegDLError(
            f"{name}: this 3D model has a preprocessing recipe, which lazy prediction does not "
            "apply to volumes: load the volume (numpy.asarray) or preprocess it first."
        )
    x = x if channels else x[..., np.newaxis]
    x = check_channels(model, x, name)
    geometry = model.geometry
    grid, margin, lead = geometry.size_multiple, geometry.margin, len(leading)
    voxels = MAX_CHUNK_MEMORY / geometry.bytes_per_pixel / max(x.shape[lead], 1)
    side = tile or max(int(np.sqrt(voxels)), 4 * margin)
    chunk = max(grid, (side - 2 * margin) // grid * grid)
    x = x.rechunk(
        (
            *((1,) * n for n in leading),
            (x.shape[lead],),
            chunks.grid_chunks(x.shape[lead + 1], chunk, margin),
            chunks.grid_chunks(x.shape[lead + 2], chunk, margin),
            (x.shape[-1],),
        )
    )
    norm = model.normalization
    limits = {i: chunks.exact_limits(x[i], norm.low, norm.high) for i in np.ndindex(*leading)}
    dy, dx = (margin if x.numblocks[axis] > 1 else 0 for axis in (lead + 1, lead + 2))
    extended = chunks.overlap_yx(x, lead + 1, dy, dx, boundary="none")
    ref = chunks.ModelRef(model)
    keep_scores = probabilities or model.class_map.mode == "instance"

    def block(data, block_info=None):
        where = tuple(block_info[0]["chunk-location"][:lead])
        rows, columns = chunks.inner_slices(block_info[0], lead + 1, dy, dx)
        net = ref.get()
        lo, hi = limits[where]
        out = []
        for index in np.ndindex(*data.shape[:lead]):
            scores = predict_locked(net, data[index], (lo, hi), tta)
            scores = scores[:, rows, columns]
            out.append(
                scores
                if keep_scores
                else labels_from_probabilities(net, scores, threshold, levels)
            )
        return np.stack(out).reshape(*data.shape[:lead], *out[0].shape)

    result = assembled(model, extended, x, block, probabilities, levels, scheduler, volume=True)
    if scheduler is not None:
        return chunks.compute_on(scheduler, result)
    return result
