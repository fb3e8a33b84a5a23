"""Prediction of any image size in memory: seamless tiles, stacks slice by slice, options."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..bundle import SegModel, load_model
from ..errors import SegDLError
from ..images import as_channels_last
from ..stacks import move_channels, stack_shape
from .chunks import is_lazy
from .engine import check_channels, labels_from_probabilities, predict_probabilities
from .lazy import predict_lazy
from .options import PredictOptions
from .runners import with_engine
from .scale import ObjectSizeWarning, check_scaled_size, input_recipe, scale_for, size_advice


def predict(
    model: SegModel | str | os.PathLike,
    image,
    options: PredictOptions | None = None,
    *,
    name: str = "image",
    on_tile: Callable[[int, int], None] | None = None,
    preprocess: bool = True,
    **keywords,
):
    """Segment an image or a stack with a trained model.

    Parameters
    ----------
    model : SegModel, path or name
        A trained model, the path of a saved bundle, or a bundled model's name ("nuclei").
        (The public ``napari_segdl.predict`` also runs BioImage Model Zoo packages: see
        :func:`napari_segdl.core.interop.predicting.predict`.)
    image : array
        (Y, X) or (Y, X, C), any size and numeric dtype; channels must match the model.
        Stacks (Z/T, Y, X[, C]) are predicted slice by slice by 2D models; 3D models predict
        volumes (Z, Y, X[, C]) whole (in 3D tiles), and series (T, Z, Y, X[, C]) volume by
        volume. numpy arrays are predicted in memory; dask arrays, zarr arrays and
        memory-mapped files lazily, chunk by chunk (see
        :func:`napari_segdl.core.infer.lazy.predict_lazy`), and the result is a dask array.
    options : PredictOptions, optional
        How to predict: tile, engine, threshold, scale or diameter, seed and extent levels,
        link_slices, tta, probabilities (return the class probabilities (..., Y, X, K) instead
        of labels), channel_axis, scheduler, allow_code; see
        :class:`napari_segdl.core.infer.options.PredictOptions` for each one's meaning, range
        and default.
    name : str
        Name of the layer or file, used in error messages.
    on_tile : callable, optional
        Called as ``on_tile(done, total)`` after each batch of tiles; for stacks, after
        each slice.
    preprocess : bool
        Apply the model's preprocessing recipe first (the image is raw) and map the result
        back to the image's shape; False when the image is already preprocessed.
    **keywords
        Any option by name (``tile=512, tta=True``), over ``options``.

    Returns
    -------
    numpy.ndarray or dask.array.Array
        Labels in the training label values and dtype (instance IDs for instance models),
        or probabilities, of the shape of ``image`` (stacks: (Z/T, Y, X) and
        (Z/T, Y, X, K)); a dask array for lazy input.
    """
    options = PredictOptions.of(options, **keywords)
    if options.uncertainty:
        raise SegDLError(
            "uncertainty is an output of the Predict dock and of predict_files; here, give "
            "probabilities=True and pass them to core.infer.uncertainty.uncertainty_map."
        )
    if not isinstance(model, SegModel):
        model = load_model(model)
    return run(model, image, options.check_for(model), name, on_tile, preprocess)


def run(model: SegModel, image, options: PredictOptions, name: str, on_tile=None, preprocess=True):
    """:func:`predict` with ``options`` already checked for ``model`` (:meth:`check_for`)."""
    options = options.resolved(model, image)
    model = with_engine(model, options.engine)
    image = move_channels(image, options.channel_axis, name)
    scheduler = options.scheduler
    if model.geometry.dims == 3:
        return _predict_3d(model, image, options, name, on_tile, preprocess)
    factor = scale_for(model, options.scale, options.diameter)
    recipe = input_recipe(model, preprocess, factor)
    leading = stack_shape(np.shape(image), model.info.channels)
    link_slices = options.link_slices
    _check_linking(link_slices, leading, is_lazy(image) or scheduler is not None, name)
    if is_lazy(image) or scheduler is not None:
        return predict_lazy(model, image, options, name=name, recipe=recipe)
    check_scaled_size(model, np.shape(image)[len(leading) : len(leading) + 2], factor, name)
    if not leading:
        return _predict_2d(model, image, options, name, on_tile, recipe)
    slices = list(np.ndindex(*leading))
    results = []
    for done, index in enumerate(slices):
        where = ", ".join(str(i) for i in index)
        results.append(
            _predict_2d(
                model, np.asarray(image[index]), options, f"{name} slice {where}", None, recipe
            )
        )
        if on_tile is not None:
            on_tile(done + 1, len(slices))
    results = np.stack(results).reshape(*leading, *results[0].shape)
    if link_slices is not None and not options.probabilities:
        from ..labels.instances import link_slices as link

        results = link(results, link_slices).astype(
            np.promote_types(results.dtype, np.uint32), copy=False
        )
    return results


def _predict_3d(model, image, options: PredictOptions, name, on_tile, preprocess):
    """A volume (or a series of volumes) through a 3D model, in memory or lazily."""
    from .volume import predict_volume, predict_volume_lazy

    recipe = input_recipe(model, preprocess, None)
    if is_lazy(image) or options.scheduler is not None:
        return predict_volume_lazy(model, image, options, name=name, recipe=recipe)
    return predict_volume(model, image, options, name, on_tile, recipe)


def _check_linking(link_slices, leading, lazy: bool, name: str) -> None:
    """Linking slices needs a stack in memory (the model and the IoU are checked before)."""
    if link_slices is None:
        return
    if not leading:
        raise SegDLError(f"Linking slices needs a stack (Z, Y, X); {name} is one 2D image.")
    if lazy:
        raise SegDLError(
            f"Linking slices needs the predicted stack in memory; {name} is lazy (dask, zarr): "
            "load it (numpy.asarray) or leave link_slices out."
        )


def labels_and_probabilities(
    model: SegModel, image, options: PredictOptions, name: str, on_tile=None, preprocess=True
):
    """Labels and class probabilities of one image or stack, as :func:`predict` gives them,
    with ``options`` already checked for ``model`` (:meth:`PredictOptions.check_for`).

    In memory the network runs once and the labels come from its probabilities; lazy input
    (or a cluster) gets two graphs, since each is computed where and when it is needed.
    """
    options = options.resolved(model, image)
    scores = run(model, image, replace(options, probabilities=True), name, on_tile, preprocess)
    if is_lazy(image) or options.scheduler is not None:
        labels = run(model, image, replace(options, probabilities=False), name, None, preprocess)
        return labels, scores
    labels = labels_from_probabilities(model, scores, options.threshold, options.levels)
    if options.link_slices is not None:
        from ..labels.instances import link_slices as link

        labels = link(labels, options.link_slices)
    _advise(model, labels, options, name)
    return labels, scores


def _predict_2d(model, image, options: PredictOptions, name, on_tile, recipe):
    """Labels or probabilities of one 2D image (Y, X[, C]), ``recipe`` applied first."""
    from ..preprocess import preprocess as apply_recipe
    from ..preprocess import restore

    raw_yx = np.shape(image)[:2]
    if recipe:
        image = apply_recipe(np.asarray(image), recipe, channels=np.ndim(image) == 3, name=name)
    array = as_channels_last(image, name)
    array = check_channels(model, array, name)
    scores = predict_probabilities(model, array, options.tile, on_tile=on_tile, tta=options.tta)
    if options.probabilities:
        return restore(scores, raw_yx, labels=False)
    labels = labels_from_probabilities(model, scores, options.threshold, options.levels)
    labels = restore(labels, raw_yx)
    _advise(model, labels, options, name)
    return labels


def _advise(model: SegModel, labels, options: PredictOptions, name: str) -> None:
    """Warn (:class:`~.scale.ObjectSizeWarning`) when the objects of one 2D image are far
    outside the sizes the model learned and the user chose no size."""
    if options.diameter is None and options.scale is None and np.ndim(labels) == 2:
        advice = size_advice(model, labels, name)
        if advice:
            warnings.warn(advice, ObjectSizeWarning, stacklevel=3)
