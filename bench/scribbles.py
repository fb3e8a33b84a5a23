"""Simulated scribbles: sparse labels drawn from dense ones, for samples and benchmarks."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.measure import label as connected_components
from skimage.morphology import skeletonize


def scribbles_from_dense(
    labels: np.ndarray,
    fraction: float = 0.02,
    width: int = 3,
    erosion: int = 3,
    piece: int = 24,
    seed: int = 0,
) -> np.ndarray:
    """Thin strokes inside each class of a dense label image, as a user would paint them.

    Each class's region is eroded and skeletonised, the skeleton is cut into pieces
    about ``piece`` pixels long and widened to ``width``; pieces are then kept at
    random until each class has its share of the ``fraction`` budget.

    Parameters
    ----------
    labels : numpy.ndarray
        Dense 2D labels, one value per class (0 = background).
    fraction : float
        Largest share of all pixels that the scribbles may cover.
    width, erosion, piece : int
        Stroke width, distance kept from class borders, and stroke length (pixels).
    seed : int
        Random seed for the choice of strokes.

    Returns
    -------
    numpy.ndarray
        Sparse labels (uint16): 0 = unlabelled, class value ``v`` painted as ``v + 1``.
    """
    rng = np.random.default_rng(seed)
    values = np.unique(labels)
    budget = fraction * labels.size / len(values)
    scribbles = np.zeros(labels.shape, dtype=np.uint16)
    cut = np.zeros(labels.shape, dtype=bool)
    cut[::piece, :] = cut[:, ::piece] = True
    cut = ndi.binary_dilation(cut, iterations=width // 2)
    for value in values:
        region = labels == value
        core = ndi.binary_erosion(region, iterations=erosion) if erosion else region
        skeleton = skeletonize(core)
        strokes = ndi.binary_dilation(skeleton, iterations=width // 2) & core & ~cut
        pieces = connected_components(strokes)
        sizes = np.bincount(pieces.ravel())[1:]
        keep, used = [], 0
        for index in rng.permutation(len(sizes)):
            if used + sizes[index] > budget:
                continue
            keep.append(index + 1)
            used += sizes[index]
        scribbles[np.isin(pieces, keep)] = int(value) + 1
    return scribbles
