"""Where to correct next: how uncertain a prediction is, per pixel and per object.

ilastik shows an uncertainty layer; MONAI Label ranks samples by it. Here the per-pixel
uncertainty is the entropy of the class probabilities scaled to [0, 1] (1: all classes equally
likely), and objects (predicted objects, and uncertain patches outside them that may be missed
objects) are ranked by their mean uncertainty, so that a few corrections go where they count.
"""

from __future__ import annotations

import numpy as np

#: Pixels above this uncertainty outside predicted objects form "uncertain regions".
UNCERTAIN = 0.5


def uncertainty_map(scores: np.ndarray, num_classes: int) -> np.ndarray:
    """Entropy of the class probabilities (..., Y, X, K[+extra]) over log K: (..., Y, X) in [0, 1].

    Channels after the first ``num_classes`` (a distance head) are not probabilities and are
    left out.
    """
    p = np.clip(np.asarray(scores, dtype=np.float32)[..., :num_classes], 1e-7, 1.0)
    p = p / p.sum(-1, keepdims=True)
    entropy = -(p * np.log(p)).sum(-1)
    return (entropy / np.log(max(num_classes, 2))).astype(np.float32)


def rank_uncertain(
    labels: np.ndarray, uncertainty: np.ndarray, background=0, top: int = 20, min_size: int = 9
) -> list[dict]:
    """The ``top`` least certain places of a prediction, most uncertain first.

    Places are predicted objects (connected regions of each non-background value, or instance
    IDs) and connected patches above :data:`UNCERTAIN` outside them; each is a dict with its
    ``kind`` ("object" or "region"), ``label`` value, ``slice`` (leading index of a stack, or
    ``()``), ``centre`` (y, x), ``pixels`` and mean ``uncertainty``.
    """
    from skimage.measure import label as connected
    from skimage.measure import regionprops

    places = []
    leading = labels.shape[:-2]
    for index in np.ndindex(*leading):
        plane, doubt = labels[index], uncertainty[index]
        # connected pieces of each non-background value: touching instance IDs stay apart
        pieces = [("object", r) for r in regionprops(connected(plane, background=background))]
        outside = connected((doubt > UNCERTAIN) & (plane == background), connectivity=1)
        pieces += [("region", r) for r in regionprops(outside)]
        for kind, region in pieces:
            if region.area < min_size:
                continue
            rows, cols = region.coords[:, 0], region.coords[:, 1]
            places.append(
                {
                    "kind": kind,
                    "label": int(plane[rows[0], cols[0]]),
                    "slice": tuple(int(i) for i in index),
                    "centre": tuple(round(float(c), 1) for c in region.centroid),
                    "pixels": int(region.area),
                    "uncertainty": round(float(doubt[rows, cols].mean()), 4),
                }
            )
    places.sort(key=lambda place: -place["uncertainty"])
    return places[:top]
