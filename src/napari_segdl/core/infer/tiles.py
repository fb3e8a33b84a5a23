"""Seamless tiles: a margin of context the network's receptive field needs, smooth blending.

A pixel's prediction depends on the input within the network's receptive field only, and tiles
start on the pooling grid of the whole image, so a tile predicts every pixel at least
``margin`` away from its edges as the whole image does. Neighbouring tiles overlap by
``2 * margin + ramp``: each gives weight 0 to its outer ``margin`` pixels and the two cross-fade
linearly over the ``ramp`` between, so the result equals whole-image prediction away from the
image border (to float precision) and no seam can show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import SegDLError
from ..models.geometry import Geometry

#: Largest tile side chosen automatically; bigger tiles gain little and hold much memory.
MAX_AUTO_TILE = 4096
#: Memory the tiles of one batch may take, at most (bytes), when the tile size is automatic.
MAX_TILE_MEMORY = 2 * 1024**3
#: The same for the 3D tiles of volumes: a tile must hold the receptive margin along every
#: axis, so small 3D tiles spend most of their work on overlap (a 512x512x128 volume takes
#: 36 tiles at 2 GiB, 9 at 4 GiB for a 16-filter depth-3 U-Net).
MAX_VOLUME_TILE_MEMORY = 4 * 1024**3
#: The same for the chunks of lazy (larger than memory) prediction, which keeps the whole
#: process, TensorFlow included, within about 2 GiB.
MAX_CHUNK_MEMORY = 768 * 1024**2


@dataclass(frozen=True)
class TilePlan:
    """Where the tiles of one axis start, their size, and the blending of their overlaps."""

    length: int  # of the image along this axis
    tile: int
    starts: tuple[int, ...]
    margin: int
    ramp: int

    @property
    def padded(self) -> int:
        """The length the image is padded to (mirrored) so that the last tile fits."""
        return self.starts[-1] + self.tile

    def weights(self, index: int) -> np.ndarray:
        """Blending weights of tile ``index``: 0 on the margin, a ramp, then 1."""
        weights = np.ones(self.tile, dtype=np.float32)
        fade = (np.arange(self.ramp, dtype=np.float32) + 0.5) / self.ramp
        edge = np.concatenate([np.zeros(self.margin, np.float32), fade])
        if index > 0:
            weights[: edge.size] = edge
        if index < len(self.starts) - 1:
            weights[self.tile - edge.size :] = np.minimum(
                weights[self.tile - edge.size :], edge[::-1]
            )
        return weights


def blend_ramp(grid: int) -> int:
    """Width of the cross-fade between neighbouring tiles: 32 pixels, on the pooling grid."""
    return grid * max(1, 32 // grid)


def check_tile(tile: int | None, geometry: Geometry) -> None:
    """Refuse a tile that is not a whole number of pixels, or no larger than the overlap tiles
    need for a network of ``geometry``."""
    if tile is None:
        return
    if isinstance(tile, bool) or not isinstance(tile, int) or tile < 1:
        raise SegDLError(f"tile must be a number of pixels >= 1; received {tile!r}.")
    _check_size(tile, geometry.margin, blend_ramp(geometry.size_multiple))


def _check_size(tile: int, margin: int, ramp: int) -> None:
    overlap = 2 * margin + ramp
    if tile < overlap + ramp:
        raise SegDLError(
            f"tile {tile} is too small for this model: tiles must be larger than their "
            f"overlap of {overlap} pixels (twice the network's receptive margin of {margin} "
            f"plus a {ramp}-pixel blend); use a tile of at least {2 * overlap}."
        )


def plan_axis(length: int, largest: int, margin: int, grid: int) -> TilePlan:
    """Tiles of at most ``largest`` pixels covering ``length``, as few and as even as can be.

    Tile sizes and starts are multiples of ``grid`` (the network's pooling grid). One tile
    covers an image that fits; otherwise neighbours overlap by ``2 * margin + ramp``.
    """
    ramp = blend_ramp(grid)
    overlap = 2 * margin + ramp
    largest = largest // grid * grid
    whole = -(-length // grid) * grid
    if whole <= largest:
        return TilePlan(length, whole, (0,), margin, ramp)
    _check_size(largest, margin, ramp)
    count = math.ceil((length - overlap) / (largest - overlap))
    tile = -(-(length + (count - 1) * overlap) // (count * grid)) * grid
    stride = tile - overlap
    return TilePlan(length, tile, tuple(i * stride for i in range(count)), margin, ramp)


def auto_tile(
    geometry: Geometry, available: int | None = None, largest: int = MAX_TILE_MEMORY
) -> tuple[int, int]:
    """A tile side and batch size that fit in memory: (tile, batch).

    A tile takes ``geometry.bytes_per_pixel`` per pixel at its peak; a batch of tiles may take
    a quarter of the available memory, at most ``largest`` bytes.
    """
    if available is None:
        import psutil

        available = psutil.virtual_memory().available
    budget = min(available // 4, largest)
    per_pixel = geometry.bytes_per_pixel
    grid = geometry.size_multiple
    side = int(math.sqrt(budget / per_pixel)) // grid * grid
    tile = int(np.clip(side, 16 * grid, MAX_AUTO_TILE))
    batch = max(1, int(budget // (tile * tile * per_pixel)))
    return tile, min(batch, 8)


def auto_tile_volume(
    geometry: Geometry, depth: int, side: int | None = None, available: int | None = None
) -> tuple[tuple[int, int, int], int]:
    """Tile sizes (Z, Y, X) for a 3D network and one tile per batch.

    The whole depth when the memory allows a tile of at least the smallest useful side in-plane
    (tiling along z as well costs its margin twice); the in-plane side from the rest of the
    memory budget, or ``side`` when given.
    """
    if available is None:
        import psutil

        available = psutil.virtual_memory().available
    budget = min(available // 4, MAX_VOLUME_TILE_MEMORY)
    voxels = budget / geometry.bytes_per_pixel
    grid, z_grid = geometry.size_multiple, geometry.z_multiple
    smallest = 2 * geometry.margin + 2 * blend_ramp(grid) + 4 * grid  # a side worth tiling
    whole_z = -(-depth // z_grid) * z_grid
    deepest = int(voxels / smallest**2) // z_grid * z_grid
    least_z = 2 * geometry.z_margin + 2 * blend_ramp(z_grid) + z_grid
    tile_z = whole_z if whole_z <= max(deepest, least_z) else max(deepest, least_z)
    if side is None:
        side = int(math.sqrt(voxels / tile_z)) // grid * grid
        side = int(np.clip(side, smallest, MAX_AUTO_TILE))
    return (tile_z, side, side), 1
