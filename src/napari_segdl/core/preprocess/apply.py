"""Applying a recipe to images and stacks (numpy or dask), and mapping results back."""

from __future__ import annotations

import numpy as np

from ..errors import SegDLError
from ..images import MAX_CHANNELS
from .ops import resize, resize_shape
from .recipe import Recipe


def looks_multichannel(image) -> bool:
    """Guess whether the last axis holds channels: (Y, X, C) with at most 8 channels."""
    return image.ndim >= 3 and image.shape[-1] <= MAX_CHANNELS


def plan(recipe: Recipe, shape: tuple[int, ...], dtype, channels: bool, labels: bool, name: str):
    """Check every step against the image before any work; return the output slice shape/dtype.

    Raises
    ------
    SegDLError
        A colour step on a grey image, a step that would invent label values, channel indices
        the image does not have, ...
    """
    height, width = shape[-3:-1] if channels else shape[-2:]
    count = shape[-1] if channels else None
    dtype = np.dtype(dtype)
    for number, step in enumerate(recipe.steps, start=1):
        op, where = step.operation, f"Step {number} ('{step.op}')"
        if labels and not op.geometric:
            raise SegDLError(
                f"{where} would change the label values of {name}: labels only take resize "
                "steps (nearest neighbour, IDs kept). Apply it to an image layer instead."
            )
        if op.needs_colour and count not in (3, 4):
            what = "grey" if count is None else f"{count}-channel"
            raise SegDLError(f"{where} needs an RGB(A) image, but {name} is {what}.")
        if op.grey_or_rgb and count not in (None, 3, 4):
            raise SegDLError(
                f"{where} takes grey or RGB(A) images, but {name} has {count} channels: "
                "pick the channel to segment first (pick_channels), or train a model on "
                f"{count}-channel images."
            )
        if op.needs_grey and count is not None:
            raise SegDLError(f"{where} needs a grey image, but {name} has {count} channels.")
        picked = step.params.get("order", ()) if step.op == "pick_channels" else ()
        if picked and (count is None or max(picked) >= count):
            raise SegDLError(
                f"{where} picks channels {list(picked)}, but {name} has "
                f"{count or 'no'} channel(s) (numbered from 0)."
            )
        if op.name == "resize":
            height, width = resize_shape(height, width, step.params)
        count = op.channels_out(count, step.params)
        dtype = dtype if op.keeps_dtype or labels else np.dtype(np.float32)
    return (height, width, *(() if count is None else (count,))), dtype


def _run(recipe: Recipe, pixels: np.ndarray, labels: bool, name: str) -> np.ndarray:
    pixels = np.asarray(pixels)
    if np.issubdtype(pixels.dtype, np.floating) and np.isnan(pixels).any():
        raise SegDLError(
            f"{name} contains NaN (not-a-number) pixels; fill or mask them first "
            "(for example numpy.nan_to_num)."
        )
    for step in recipe.steps:
        if step.op == "resize":
            pixels = resize(pixels, **step.params, labels=labels)
        else:
            try:
                pixels = step.operation.func(pixels, **step.params)
            except SegDLError as error:  # what the step refused, named with the image
                raise SegDLError(f"{name}: {step.operation.title}: {error}") from error
    return pixels


def preprocess(
    image, recipe, *, channels: bool | None = None, labels: bool = False, name: str = "image"
):
    """Apply ``recipe`` to an image, a stack, or labels (resize steps only).

    Parameters
    ----------
    image : numpy or dask array
        (Y, X), (Y, X, C), or stacks (Z/T, Y, X[, C]); each 2D slice is processed on its own.
    recipe : Recipe, dict, list of step dicts, or path of a recipe JSON file
    channels : bool, optional
        Whether the last axis holds channels (colour). Guessed when omitted: an axis of at
        most 8 after two or more others.
    labels : bool
        The array holds labels: only geometric steps are allowed, with nearest neighbour.
    name : str
        The layer or file, for error messages.

    Returns
    -------
    numpy or dask array
        numpy for numpy input; a lazy dask array (one task per slice) for dask input.
    """
    recipe = Recipe.coerce(recipe)
    channels = looks_multichannel(image) if channels is None else channels
    if image.ndim < (3 if channels else 2):
        raise SegDLError(f"{name} must be 2D (Y, X) or (Y, X, C); received shape {image.shape}.")
    out_shape, out_dtype = plan(recipe, image.shape, image.dtype, channels, labels, name)
    leading = image.shape[: image.ndim - (3 if channels else 2)]
    if not recipe:
        return image
    if not hasattr(image, "dask"):
        slices = [_run(recipe, image[i], labels, name) for i in np.ndindex(*leading)]
        return np.stack(slices).reshape(*leading, *out_shape).astype(out_dtype, copy=False)
    import dask
    import dask.array as da

    run = dask.delayed(_run, pure=True)
    slices = [
        da.from_delayed(run(recipe, image[i], labels, name), out_shape, out_dtype)
        for i in np.ndindex(*leading)
    ]
    return da.stack(slices).reshape(*leading, *out_shape)


def restore(result: np.ndarray, raw_yx: tuple[int, int], *, labels: bool = True) -> np.ndarray:
    """Map a prediction made on a resized image back to the raw (rows, columns).

    Labels are resized with nearest neighbour (IDs kept), probabilities bilinearly.
    """
    if tuple(result.shape[:2]) == tuple(raw_yx):
        return result
    return resize(result, height=raw_yx[0], width=raw_yx[1], labels=labels)
