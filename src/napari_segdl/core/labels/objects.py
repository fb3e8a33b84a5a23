"""The last step shared by every instance post-processing: small objects dropped, the others
numbered."""

from __future__ import annotations

import numpy as np

#: Objects smaller than this (pixels) are dropped unless a model recorded its own smallest
#: size (``instance_min_size``, from its training labels).
MIN_SIZE = 4


def finished(objects: np.ndarray, min_size: int, dtype: str) -> np.ndarray:
    """Objects under ``min_size`` pixels dropped, the others numbered 1..N, in ``dtype`` (or a
    wider type when N needs it): the last step of every instance post-processing."""
    from skimage.segmentation import relabel_sequential

    sizes = np.bincount(objects.ravel())  # (remove_small_objects renamed its argument in 0.26)
    small = sizes < min_size
    small[0] = False
    objects = np.where(small[objects], 0, objects)
    objects = relabel_sequential(objects)[0]
    count = int(objects.max())
    return objects.astype(np.promote_types(dtype, np.min_scalar_type(max(count, 1))))
