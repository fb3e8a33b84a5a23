"""What tiling and chunked prediction need to know about a network, without building it.

Each architecture in the registry (:mod:`napari_segdl.core.models`) names a function here that
gives its :class:`Geometry` from its parameters; tiles, chunks, patch checks and memory budgets
read it through ``SegModel.geometry`` or :func:`napari_segdl.core.models.geometry`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Geometry:
    """A network's input grid, the context it sees, and its prediction memory.

    Attributes
    ----------
    size_multiple : int
        Input height and width must be multiples of this (the pooling grid).
    margin : int
        Pixels of context on each side that an output pixel depends on, rounded up to the
        pooling grid so that tiles stay aligned with it.
    bytes_per_pixel : int
        Peak memory of prediction per input pixel (activations, skip copies, outputs).
    """

    size_multiple: int
    margin: int
    bytes_per_pixel: int


def receptive_margin(depth: int) -> int:
    """Pixels of context on each side that an encoder-decoder of ``depth`` poolings sees.

    The receptive field of two 3x3 convolutions per level, ``depth`` 2x2 poolings, the
    bottleneck and the decoder is ``14 * 2**depth - 9`` pixels wide; half of it, rounded up to
    the pooling grid ``2**depth``.
    """
    grid = 2**depth
    radius = (14 * grid - 9) // 2 + 1
    return math.ceil(radius / grid) * grid


def encoder_decoder(depth: int = 4, filters: int = 32, **_) -> Geometry:
    """U-Net and SegNet: ``depth`` 2x2 poolings, two 3x3 convolutions per level.

    Prediction memory was measured at about 300 bytes per pixel for 16 filters (float32
    activations of the first level, skip copies and outputs): ``24 * filters``.
    """
    depth = int(depth)
    return Geometry(
        size_multiple=2**depth,
        margin=receptive_margin(depth),
        bytes_per_pixel=24 * max(int(filters), 8),
    )
