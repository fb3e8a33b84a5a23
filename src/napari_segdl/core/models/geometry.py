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
    dims : int
        2 for networks of images, 3 for networks of volumes (Z, Y, X).
    z_multiple, z_margin : int
        3D networks: the input depth's multiple and the context along z (1 and 0 in 2D).
    """

    size_multiple: int
    margin: int
    bytes_per_pixel: int
    dims: int = 2
    z_multiple: int = 1
    z_margin: int = 0

    @property
    def multiples(self) -> tuple[int, ...]:
        """The size multiple of every spatial axis ((Z,) Y, X)."""
        return (self.z_multiple,) * (self.dims - 2) + (self.size_multiple,) * 2

    @property
    def margins(self) -> tuple[int, ...]:
        """The receptive margin along every spatial axis ((Z,) Y, X)."""
        return (self.z_margin,) * (self.dims - 2) + (self.margin,) * 2


def receptive_margin(depth: int) -> int:
    """Pixels of context on each side that an encoder-decoder of ``depth`` poolings sees.

    The receptive field of two 3x3 convolutions per level, ``depth`` 2x2 poolings, the
    bottleneck and the decoder is ``14 * 2**depth - 9`` pixels wide; half of it, rounded up to
    the pooling grid ``2**depth``.
    """
    grid = 2**depth
    radius = (14 * grid - 9) // 2 + 1
    return math.ceil(radius / grid) * grid


def axis_margin(factors: list[int]) -> int:
    """Context on each side along one axis whose levels pool by ``factors`` (1: not pooled).

    The receptive width of two 3-wide convolutions per encoder level, the pooling, the
    bottleneck and two convolutions per decoder level (up-convolutions add none); half of it,
    rounded up to the axis' pooling grid. Pooled at every level, it equals
    :func:`receptive_margin`.
    """
    width, jump = 1, 1
    for factor in factors:
        width += 4 * jump + (factor - 1) * jump  # two convolutions, then the pooling
        jump *= factor
    grid = jump
    width += 4 * jump  # the bottleneck
    jump_up = 1
    for factor in factors:  # the decoder's convolutions, at each level's resolution
        width += 4 * jump_up
        jump_up *= factor
    radius = width // 2 + 1
    return math.ceil(radius / grid) * grid


def encoder_decoder(
    depth: int = 4, filters: int = 32, dims: int = 2, z_skip: int = 0, **_
) -> Geometry:
    """U-Net and SegNet: ``depth`` 2x2 poolings, two 3x3 convolutions per level.

    Prediction memory is taken as ``24 * filters`` bytes per pixel (float32 activations of the
    first level, skip copies and outputs): 384 for 16 filters, in line with the about 300
    measured; volumes hold the same per voxel. A 3D network pools along z from level ``z_skip`` on only.
    """
    depth, dims, z_skip = int(depth), int(dims), int(z_skip)
    z_factors = [1 if level < z_skip else 2 for level in range(depth)] if dims == 3 else []
    return Geometry(
        size_multiple=2**depth,
        margin=receptive_margin(depth),
        bytes_per_pixel=24 * max(int(filters), 8),
        dims=dims,
        z_multiple=2 ** (depth - z_skip) if dims == 3 else 1,
        z_margin=axis_margin(z_factors) if dims == 3 else 0,
    )


def z_skip_for(ratio: float, depth: int) -> int:
    """Levels that pool in-plane only for a z spacing ``ratio`` times the x-y spacing: each
    halves the in-plane resolution, until the voxels are about cubic (nnU-Net's rule of
    pooling an axis only when its spacing is within twice the finest)."""
    skip = 0
    while skip < depth - 1 and ratio / 2**skip >= 2:
        skip += 1
    return skip
