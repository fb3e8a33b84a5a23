"""Instance IDs that agree across chunk borders, for images predicted chunk by chunk.

Every chunk finds its objects on the chunk plus ``overlap`` pixels of its neighbours. Two
neighbouring chunks then both see the band of ``2 * overlap`` pixels around their shared
border; objects that cover each other there (IoU >= 0.5) are one object cut by the border and
get one ID (union-find), while touching but different objects do not match. A second pass
labels every chunk again and writes the joined IDs, numbered 1..N in every 2D slice.
"""

from __future__ import annotations

import numpy as np

#: Pixels of context beyond each chunk border, for finding and matching objects.
STITCH_OVERLAP = 32
#: Smallest IoU in the border band for two pieces to be one object.
MATCH_IOU = 0.5


def stitch_instances(
    scores,
    options: dict | None = None,
    scheduler: str | None = None,
    overlap: int = STITCH_OVERLAP,
    volume: bool = False,
):
    """Lazy instance labels (..., Y, X) from lazy background/object/boundary scores.

    ``scores`` is a dask array (..., Y, X, 3 or 4) chunked in Y and X; ``options`` are those of
    :func:`~napari_segdl.core.labels.instances.instances_from_probabilities` (``min_size``,
    ``dtype``: labels have at least that dtype, ``seed``, ``extent``). With ``volume`` the
    scores are (..., Z, Y, X, K) with the whole depth in each chunk: objects are found in 3D
    and numbered 1..N per volume.
    """
    import dask

    from ..labels.instances import MIN_SIZE, instances_from_probabilities

    options = {"min_size": MIN_SIZE, "dtype": "uint16", **(options or {})}
    dtype = options["dtype"]
    from .chunks import overlap_yx

    leading = scores.ndim - 3
    if scheduler is None and scores.nbytes < 2**29:
        scores = scores.persist()  # small enough: the network runs once for both passes
    oy, ox = (
        min(overlap, *scores.chunks[axis]) if scores.numblocks[axis] > 1 else 0
        for axis in (leading, leading + 1)
    )
    extended = overlap_yx(scores, leading, oy, ox)

    space = 4 if volume else 3  # the axes one call of the post-processing takes

    def local(block):
        return instances_from_probabilities(
            block.reshape(block.shape[-space:]), **{**options, "dtype": "uint32"}, cut=True
        )

    def centre(labels):  # (Z,) Y, X: the chunk without its overlap
        return labels[..., oy : labels.shape[-2] - oy, ox : labels.shape[-1] - ox]

    def summary(block):
        labels = local(block)
        height, width = labels.shape[-2:]
        middle_rows = labels[..., oy : height - oy, :]
        middle_columns = labels[..., ox : width - ox]
        present = np.unique(centre(labels))
        return {
            "count": int(labels.max()),
            "present": present[present > 0],
            "right": middle_rows[..., width - 2 * ox :],
            "left": middle_rows[..., : 2 * ox],
            "bottom": middle_columns[..., height - 2 * oy :, :],
            "top": middle_columns[..., : 2 * oy, :],
        }

    blocks = extended.to_delayed()
    grid = blocks.shape[: leading + 2]
    parts = [dask.delayed(summary)(blocks[(*index, 0)]) for index in np.ndindex(*grid)]
    if scheduler is None:
        summaries = dask.compute(*parts)
    else:
        from .chunks import connect

        with connect(scheduler) as client:
            summaries = client.gather(client.compute(list(parts)))
    table = _joined_ids(dict(zip(np.ndindex(*grid), summaries, strict=True)), grid, leading)
    offsets = {index: start for index, (start, _) in table["offsets"].items()}
    final = table["final"]

    def relabel(block, block_info=None):
        index = tuple(block_info[0]["chunk-location"][: leading + 2])
        labels = centre(local(block))
        ids = np.where(labels > 0, labels.astype(np.int64) + offsets[index], 0)
        return final[ids].astype(dtype).reshape(*block.shape[:-3], *labels.shape[-2:])

    dtype = np.promote_types(dtype, np.min_scalar_type(max(int(final.max()), 1)))
    return extended.map_blocks(
        relabel, dtype=dtype, chunks=scores.chunks[:-1], drop_axis=scores.ndim - 1
    )


def _joined_ids(summaries: dict, grid: tuple, leading: int) -> dict:
    """Global IDs of every chunk's objects, joined across borders and numbered per slice."""
    offsets, total = {}, 0
    for index in np.ndindex(*grid):
        offsets[index] = (total, summaries[index]["count"])
        total += summaries[index]["count"]
    parent = np.arange(total + 1)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for index in np.ndindex(*grid):
        for axis, (near, far) in ((leading + 1, ("right", "left")), (leading, ("bottom", "top"))):
            neighbour = list(index)
            neighbour[axis] += 1
            neighbour = tuple(neighbour)
            if neighbour[axis] >= grid[axis]:
                continue
            for a, b in _matches(summaries[index][near], summaries[neighbour][far]):
                ra, rb = root(a + offsets[index][0]), root(b + offsets[neighbour][0])
                parent[max(ra, rb)] = min(ra, rb)
    final = np.zeros(total + 1, dtype=np.int64)
    for slice_index in np.ndindex(*grid[:leading]):
        roots: dict[int, int] = {}
        for index in np.ndindex(*grid[leading:]):
            chunk = (*slice_index, *index)
            for i in summaries[chunk]["present"] + offsets[chunk][0]:  # IDs shown in the chunk
                final[i] = roots.setdefault(root(int(i)), len(roots) + 1)
    return {"offsets": offsets, "final": final}


def _matches(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of IDs (a's, b's) that cover each other in the same band (IoU >= MATCH_IOU)."""
    both = (a > 0) & (b > 0)
    if not both.any():
        return []
    pairs, inter = np.unique(np.stack([a[both], b[both]]), axis=1, return_counts=True)
    size_a = dict(zip(*np.unique(a[a > 0], return_counts=True), strict=True))
    size_b = dict(zip(*np.unique(b[b > 0], return_counts=True), strict=True))
    return [
        (int(i), int(j))
        for (i, j), n in zip(pairs.T, inter, strict=True)
        if n / (size_a[i] + size_b[j] - n) >= MATCH_IOU
    ]
