"""Prediction of any image size in memory: seamless tiles, stacks slice by slice, options."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ..bundle import SegModel, load_model
from ..errors import SegDLError
from ..images import as_channels_last
from ..stacks import move_channels, stack_shape
from .chunks import is_lazy
from .engine import (
    check_channels,
    check_levels,
    check_threshold,
    labels_from_probabilities,
    predict_probabilities,
)
from .lazy import predict_lazy
from .runners import check_engine, resolve, with_engine
from .scale import check_scaled_size, input_recipe, scale_for
from .tiles import check_tile


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
    scale: float | None = None,
    diameter: float | None = None,
    seed_level: float | None = None,
    extent_level: float | None = None,
    link_slices: float | None = None,
    allow_code: bool = False,
    engine: str | None = None,
):
    """Segment an image or a stack with a trained model.

    Parameters
    ----------
    model : SegModel, path or name
        A trained model, the path of a saved bundle, or a bundled model's name ("nuclei"); or
        a BioImage Model Zoo package (``.zip`` or ``rdf.yaml``), run with its own pre- and
        postprocessing (``bioimageio.core``): labels when its output is class probabilities
        or a mask, else (and with ``probabilities``) its first output.
    image : array
        (Y, X) or (Y, X, C), any size and numeric dtype; channels must match the model.
        Stacks (Z/T, Y, X[, C]) are predicted slice by slice by 2D models; 3D models predict
        volumes (Z, Y, X[, C]) whole (in 3D tiles), and series (T, Z, Y, X[, C]) volume by
        volume. numpy arrays are predicted in
        memory; dask arrays, zarr arrays and memory-mapped files lazily, chunk by chunk (see
        :func:`napari_segdl.core.infer.lazy.predict_lazy`), and the result is a dask array.
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
    scale : float, optional
        Resize the image by this factor before the network (0.5 for objects twice the size
        the model learned); the result comes back at the image's size.
    diameter : float, optional
        The objects' typical diameter in pixels, for instance models: the image is scaled so
        that they match the objects the model learned (cellpose's ``diameter``).
    seed_level, extent_level : float, optional
        Instance models: override the post-processing levels the model tuned (seeds: object
        interiors above ``seed_level``; objects: foreground above ``extent_level``).
    link_slices : float, optional
        Instance models on stacks: objects of neighbouring slices that overlap with at least
        this IoU become one object with one ID through the stack (3D IDs from a 2D model).
    engine : {"auto", "tensorflow", "onnxruntime", "openvino", "openvino-bf16"}, optional
        What runs the network: ``auto`` (the default) is OpenVINO in float32 when it is
        installed and the image has at least a megapixel, else TensorFlow (see
        :mod:`napari_segdl.core.infer.runners`).
    allow_code : bool
        Model Zoo packages: allow ``pytorch_state_dict`` weights, whose network is Python code
        from the package (only for packages you trust).

    Returns
    -------
    numpy.ndarray or dask.array.Array
        Labels in the training label values and dtype (instance IDs for instance models),
        or probabilities, of the shape of ``image`` (stacks: (Z/T, Y, X) and
        (Z/T, Y, X, K)); a dask array for lazy input.
    """
    from ..interop.zoo import ZooModel, is_zoo_package

    if isinstance(model, ZooModel) or is_zoo_package(model):
        return _predict_zoo(model, image, probabilities, name, allow_code)
    if not isinstance(model, SegModel):
        model = load_model(model)
    model = with_engine(model, resolve(check_engine(engine), int(np.size(image))))
    check_threshold(model, threshold)
    levels = _given_levels(seed_level, extent_level)
    check_levels(model, levels)
    check_tile(tile, model.geometry)
    options_3d = {"tile": tile, "probabilities": probabilities, "threshold": threshold, "tta": tta}
    if model.geometry.dims == 3:
        _check_3d(model, scale, diameter, link_slices)
        options_3d["levels"] = levels
    image = move_channels(image, channel_axis, name)
    if model.geometry.dims == 3:
        return _predict_3d(model, image, name, on_tile, preprocess, scheduler, **options_3d)
    factor = scale_for(model, scale, diameter)
    recipe = input_recipe(model, preprocess, factor)
    options = {
        "tile": tile,
        "probabilities": probabilities,
        "threshold": threshold,
        "tta": tta,
        "levels": levels,
    }
    leading = stack_shape(np.shape(image), model.info.channels)
    _check_linking(model, link_slices, leading, is_lazy(image) or scheduler is not None, name)
    if is_lazy(image) or scheduler is not None:
        return predict_lazy(model, image, name=name, recipe=recipe, scheduler=scheduler, **options)
    check_scaled_size(model, np.shape(image)[len(leading) : len(leading) + 2], factor, name)
    if not leading:
        return _predict_2d(model, image, name, on_tile, recipe, **options)
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
                recipe,
                **options,
            )
        )
        if on_tile is not None:
            on_tile(done + 1, len(slices))
    results = np.stack(results).reshape(*leading, *results[0].shape)
    if link_slices is not None and not probabilities:
        from ..labels.instances import link_slices as link

        results = link(results, link_slices).astype(
            np.promote_types(results.dtype, np.uint32), copy=False
        )
    return results


def _predict_zoo(model, image, probabilities: bool, name: str, allow_code: bool):
    """A Model Zoo package on one image: its labels, or its first output."""
    from ..interop.zoo import ZooModel, labels_from_outputs, load_zoo_model, predict_zoo

    if not isinstance(model, ZooModel):
        model = load_zoo_model(model, allow_code=allow_code)
    outputs = predict_zoo(model, image, name)
    labels = None if probabilities else labels_from_outputs(model, outputs)
    return labels if labels is not None else next(iter(outputs.values()))


def _check_3d(model, scale, diameter, link_slices) -> None:
    """Options of 2D models that a 3D model refuses."""
    for option, value in (("scale", scale), ("diameter", diameter), ("link_slices", link_slices)):
        if value is not None:
            why = "its objects are 3D already" if option == "link_slices" else "resizing is 2D"
            raise SegDLError(f"{option} is for 2D models ({why}); this is a 3D model.")


def _predict_3d(model, image, name, on_tile, preprocess, scheduler, **options):
    """A volume (or a series of volumes) through a 3D model, in memory or lazily."""
    from .volume import predict_volume, predict_volume_lazy

    recipe = input_recipe(model, preprocess, None)
    if is_lazy(image) or scheduler is not None:
        return predict_volume_lazy(
            model, image, name=name, recipe=recipe, scheduler=scheduler, **options
        )
    return predict_volume(model, image, name, on_tile, recipe, **options)


def _given_levels(seed_level, extent_level) -> dict | None:
    """The post-processing levels a caller gave (None when neither)."""
    levels = {"seed": seed_level, "extent": extent_level}
    return {key: value for key, value in levels.items() if value is not None} or None


def _check_linking(model, link_slices, leading, lazy: bool, name: str) -> None:
    """Linking slices is for instance models, stacks in memory and IoUs in (0, 1]."""
    if link_slices is None:
        return
    if model.class_map.mode != "instance":
        raise SegDLError(f"Linking slices is for instance models; this is {model.class_map.mode}.")
    if not leading:
        raise SegDLError(f"Linking slices needs a stack (Z, Y, X); {name} is one 2D image.")
    if lazy:
        raise SegDLError(
            f"Linking slices needs the predicted stack in memory; {name} is lazy (dask, zarr): "
            "load it (numpy.asarray) or leave link_slices out."
        )
    if not 0.0 < float(link_slices) <= 1.0:
        raise SegDLError(f"link_slices is an IoU in (0, 1]; received {link_slices!r}.")


def labels_and_probabilities(
    model,
    image,
    *,
    threshold: float | None = None,
    seed_level: float | None = None,
    extent_level: float | None = None,
    link_slices: float | None = None,
    **options,
):
    """Labels and class probabilities of one image or stack, as :func:`predict` gives them.

    In memory the network runs once and the labels come from its probabilities; lazy input
    (or a cluster) gets two graphs, since each is computed where and when it is needed.
    """
    if not isinstance(model, SegModel):
        model = load_model(model)
    labels_options = {
        "threshold": threshold,
        "seed_level": seed_level,
        "extent_level": extent_level,
        "link_slices": link_slices,
    }
    scores = predict(model, image, probabilities=True, link_slices=link_slices, **options)
    if is_lazy(image) or options.get("scheduler") is not None:
        return predict(model, image, **labels_options, **options), scores
    overrides = _given_levels(seed_level, extent_level)
    check_levels(model, overrides)
    labels = labels_from_probabilities(model, scores, threshold, overrides)
    if link_slices is not None:
        from ..labels.instances import link_slices as link

        labels = link(labels, link_slices)
    return labels, scores


def _predict_2d(
    model, image, name, on_tile, recipe, *, tile, probabilities, threshold, tta, levels
):
    """Labels or probabilities of one 2D image (Y, X[, C]), ``recipe`` applied first."""
    from ..preprocess import preprocess as apply_recipe
    from ..preprocess import restore

    raw_yx = np.shape(image)[:2]
    if recipe:
        image = apply_recipe(np.asarray(image), recipe, channels=np.ndim(image) == 3, name=name)
    array = as_channels_last(image, name)
    array = check_channels(model, array, name)
    scores = predict_probabilities(model, array, tile, on_tile=on_tile, tta=tta)
    if probabilities:
        return restore(scores, raw_yx, labels=False)
    return restore(labels_from_probabilities(model, scores, threshold, levels), raw_yx)
