"""Prediction of any image size in memory: seamless tiles, stacks slice by slice, options."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from .bundle import SegModel, load_model
from .errors import SegDLError
from .images import as_channels_last
from .stacks import move_channels, stack_shape
from .tiling import auto_tile, check_tile, plan_axis, receptive_margin


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
    from .backend import load_keras

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
    depth = int(model.info.arch_params["depth"])
    grid = model.size_multiple
    auto_side, auto_batch = auto_tile(int(model.info.arch_params.get("filters", 32)), depth)
    tile, batch_size = tile or auto_side, batch_size or (auto_batch if tile is None else 1)
    height, width = image.shape[:2]
    plans = [plan_axis(n, tile, receptive_margin(depth), grid) for n in (height, width)]
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


def predict(
    model: SegModel | str | os.PathLike,
    image,
    *,
    tile: int | None = None,
    probabilities: bool = False,
    threshold: float | None = None,
    tta: bool = False,
    name: str = "image",
    on_tile: Callable[[int, int], None] | None = None,
    preprocess: bool = True,
    channel_axis: int | None = None,
    scheduler: str | None = None,
):
    """Segment an image or a stack with a trained model.

    Parameters
    ----------
    model : SegModel or path
        A trained model, or the path of a saved bundle.
    image : array
        (Y, X) or (Y, X, C), any size and numeric dtype; channels must match the model.
        Stacks (Z/T, Y, X[, C]) are predicted slice by slice. numpy arrays are predicted in
        memory; dask arrays, zarr arrays and memory-mapped files lazily, chunk by chunk (see
        :func:`napari_segdl.core.lazy.predict_lazy`), and the result is a dask array.
    tile : int, optional
        Largest tile side; bigger images are predicted in seamless overlapping tiles. By
        default chosen from the free memory.
    probabilities : bool
        Return class probabilities (..., Y, X, K) instead of labels.
    threshold : float, optional
        For models of two classes: the second class where its probability is at least this
        (instead of the more probable class).
    tta : bool
        Test-time augmentation: average the predictions of the 8 flips and 90° rotations.
    name : str
        Name of the layer or file, used in error messages.
    on_tile : callable, optional
        Called as ``on_tile(done, total)`` after each batch of tiles; for stacks, after
        each slice.
    preprocess : bool
        Apply the model's preprocessing recipe first (the image is raw) and map the result
        back to the image's shape; False when the image is already preprocessed.
    channel_axis : int, optional
        The image's channel axis when it is not the last one (e.g. 0 for (C, Y, X)).
    scheduler : str, optional
        Address of a ``dask.distributed`` scheduler (``tcp://host:8786``): the lazy
        prediction runs on that cluster and the result comes back as numpy.

    Returns
    -------
    numpy.ndarray or dask.array.Array
        Labels in the training label values and dtype (instance IDs for instance models),
        or probabilities, of the shape of ``image`` (stacks: (Z/T, Y, X) and
        (Z/T, Y, X, K)); a dask array for lazy input.
    """
    if not isinstance(model, SegModel):
        model = load_model(model)
    if tile is not None and (isinstance(tile, bool) or not isinstance(tile, int) or tile < 1):
        raise SegDLError(f"tile must be a number of pixels >= 1; received {tile!r}.")
    check_threshold(model, threshold)
    check_tile(tile, int(model.info.arch_params["depth"]))
    image = move_channels(image, channel_axis, name)
    options = {"tile": tile, "probabilities": probabilities, "threshold": threshold, "tta": tta}
    from .lazy import is_lazy

    if is_lazy(image) or scheduler is not None:
        from .lazy import predict_lazy

        return predict_lazy(
            model, image, name=name, preprocess=preprocess, scheduler=scheduler, **options
        )
    leading = stack_shape(np.shape(image), model.info.channels)
    if not leading:
        return _predict_2d(model, image, name, on_tile, preprocess, **options)
    slices = list(np.ndindex(*leading))
    results = []
    for done, index in enumerate(slices):
        where = ", ".join(str(i) for i in index)
        results.append(
            _predict_2d(
                model,
                np.asarray(image[index]),
                f"{name} slice {where}",
                None,
                preprocess,
                **options,
            )
        )
        if on_tile is not None:
            on_tile(done + 1, len(slices))
    return np.stack(results).reshape(*leading, *results[0].shape)


def labels_and_probabilities(model, image, *, threshold: float | None = None, **options):
    """Labels and class probabilities of one image or stack, as :func:`predict` gives them.

    In memory the network runs once and the labels come from its probabilities; lazy input
    (or a cluster) gets two graphs, since each is computed where and when it is needed.
    """
    from .lazy import is_lazy

    scores = predict(model, image, probabilities=True, **options)
    if is_lazy(image) or options.get("scheduler") is not None:
        return predict(model, image, threshold=threshold, **options), scores
    return labels_from_probabilities(model, scores, threshold), scores


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


def _predict_2d(model, image, name, on_tile, preprocess, *, tile, probabilities, threshold, tta):
    """Labels or probabilities of one 2D image (Y, X[, C])."""
    from .preprocess import Recipe, restore
    from .preprocess import preprocess as apply_recipe

    recipe = Recipe.coerce(model.info.recipe) if preprocess else Recipe()
    raw_yx = np.shape(image)[:2]
    if recipe:
        image = apply_recipe(np.asarray(image), recipe, channels=np.ndim(image) == 3, name=name)
    array = as_channels_last(image, name)
    check_channels(model, array, name)
    scores = predict_probabilities(model, array, tile, on_tile=on_tile, tta=tta)
    if probabilities:
        return restore(scores, raw_yx, labels=False)
    return restore(labels_from_probabilities(model, scores, threshold), raw_yx)


def check_channels(model: SegModel, array: np.ndarray, name: str) -> None:
    if array.shape[-1] != model.info.channels:
        raise SegDLError(
            f"{name} has {array.shape[-1]} channel(s) but the model was trained on "
            f"{model.info.channels}; convert the image (for example RGB to grey) first."
        )


def labels_from_probabilities(
    model: SegModel, scores: np.ndarray, threshold: float | None = None
) -> np.ndarray:
    """Labels (..., Y, X) from class probabilities (..., Y, X, K): the training label values,
    or separated instance IDs 1..N (in every slice) for instance models."""
    if model.class_map.mode == "instance":
        from .instance_mode import instances_from_probabilities

        min_size = int(model.info.training.get("instance_min_size", 4))
        if scores.ndim > 3:
            slices = [
                labels_from_probabilities(model, s) for s in scores.reshape(-1, *scores.shape[-3:])
            ]
            return np.stack(slices).reshape(scores.shape[:-1])
        return instances_from_probabilities(scores, min_size, model.class_map.dtype)
    if threshold is not None:
        return model.class_map.decode((scores[..., 1] >= threshold).astype(np.int64))
    return model.class_map.decode(scores.argmax(-1))
