"""Stacks (Z/T, Y, X[, C]) as 2D slices: painted slices for training, every slice for prediction."""

from __future__ import annotations

import numpy as np

from .errors import SegDLError
from .images import MAX_CHANNELS


def move_channels(image, channel_axis: int | None, name: str = "image"):
    """Move the channel axis of ``image`` last (numpy or dask); None leaves it as it is."""
    if channel_axis is None:
        return image
    ndim = np.ndim(image)
    if not -ndim <= channel_axis < ndim:
        raise SegDLError(
            f"{name}: channel axis {channel_axis} does not exist in an image of shape "
            f"{np.shape(image)}."
        )
    return np.moveaxis(image, channel_axis, -1)


def training_slices(image, labels, mode: str, names: tuple[str, str], channel_axis=None):
    """Split one (image, labels) pair into the 2D slices that carry labels.

    ``labels`` is (Y, X) for one image or (..., Y, X) for a stack (Z, T or both); ``image`` has
    the same shape, plus a trailing channel axis for colour or multichannel images (another
    channel axis is named by ``channel_axis``). Slices whose labels are all 0 are not painted
    yet and are left out (in sparse mode 0 is unlabelled; in a dense or instance stack a slice
    of only 0 is taken as not painted rather than as all background).

    Returns
    -------
    list of (image slice, label slice, (image name, labels name)), and the stack's slice count.
    """
    image_name, labels_name = names
    image = move_channels(image, channel_axis, image_name)
    labels = np.asarray(labels)
    shape, label_shape = tuple(np.shape(image)), labels.shape
    if labels.ndim == 2:
        if len(shape) >= 3 and shape[-2:] == label_shape and shape[:2] != label_shape:
            raise SegDLError(
                f"{labels_name} covers one slice (shape {label_shape}) but {image_name} is a "
                f"stack of shape {shape}: paint in a labels layer of the image's shape "
                "(Layers ▸ New Labels Layer with the image selected), or if the first axis is "
                "channels, choose it as the channel axis."
            )
        return [(np.asarray(image), labels, names)], 1
    if shape[: labels.ndim] != label_shape or len(shape) > labels.ndim + 1:
        raise SegDLError(
            f"{image_name} has shape {shape} but {labels_name} has shape {label_shape}; paint "
            "the labels on the same grid as the image (a trailing channel axis aside)."
        )
    leading = label_shape[:-2]
    pairs = []
    for index in np.ndindex(*leading):
        if labels[index].any():
            where = ", ".join(str(i) for i in index)
            pairs.append(
                (
                    np.asarray(image[index]),
                    labels[index],
                    (f"{image_name} slice {where}", f"{labels_name} slice {where}"),
                )
            )
    if not pairs:
        raise SegDLError(
            f"{labels_name}: no slice of the stack is painted; paint some pixels in at least "
            "one slice."
        )
    return pairs, int(np.prod(leading))


def stack_shape(shape: tuple[int, ...], channels: int) -> tuple[int, ...]:
    """The leading (stack) axes of an image for a model with ``channels`` input channels.

    (Y, X) and (Y, X, C) are single images (returns ``()``); (..., Y, X) and (..., Y, X, C)
    are stacks predicted slice by slice. A last axis of at most ``MAX_CHANNELS`` is read as
    channels (so an RGB image given to a grey model is refused for its channels, not taken
    for a stack of 3-pixel-wide slices); colour models always have channels last.
    """
    return tuple(shape[:-3]) if has_channels(shape, channels) else tuple(shape[:-2])


def has_channels(shape: tuple[int, ...], channels: int) -> bool:
    """Whether the last axis of an image of ``shape`` holds channels, for such a model."""
    if len(shape) < 3:
        return False
    return channels > 1 or shape[-1] <= MAX_CHANNELS
