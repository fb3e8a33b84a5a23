"""Star-convex polygons as an instance representation (the idea of StarDist, Schmidt et al.
2018), written here with numpy and scikit-image.

Each object pixel learns two things: how central it is in its object (the object probability,
1 at the centre, 0 at the rim and outside) and its distance to the object's border along
``n_rays`` directions spread evenly round the circle. Prediction draws the polygon of every
pixel likely enough to be a centre and keeps, most probable first, the polygons that overlap no
kept one by more than an IoU of ``nms``: touching objects stay apart, however tightly packed,
as long as each is star-shaped seen from its centre.

Ray ``k`` points along the angle ``2 pi k / n_rays``, measured from the x axis (columns)
towards the y axis (rows): its step is ``(dy, dx) = (sin, cos)``.
"""

from __future__ import annotations

import numpy as np

from .instances import distance_targets
from .objects import MIN_SIZE, finished

#: Rays per pixel (StarDist's default for 2D).
RAYS = 32
#: Default levels of the post-processing: object probability, polygon overlap.
DEFAULT_LEVELS = {"prob": 0.5, "nms": 0.4}


def ray_steps(n_rays: int = RAYS) -> np.ndarray:
    """The unit step ``(dy, dx)`` of each ray, shape (n_rays, 2)."""
    angles = 2 * np.pi * np.arange(n_rays) / n_rays
    return np.stack([np.sin(angles), np.cos(angles)], axis=1)


def star_distances(labels: np.ndarray, n_rays: int = RAYS) -> np.ndarray:
    """Each object pixel's distance along every ray to the first pixel outside its object (the
    image border counts as outside); 0 on the background. Shape (Y, X, n_rays), float32."""
    labels = np.asarray(labels)
    if n_rays < 4 or n_rays % 4:
        raise ValueError(f"n_rays must be a multiple of 4, at least 4. Received: {n_rays}")
    distances = np.zeros((*labels.shape, n_rays), np.float32)
    ys, xs = np.nonzero(labels)
    own = labels[ys, xs]
    height, width = labels.shape
    for ray, (dy, dx) in enumerate(ray_steps(n_rays)):
        active = np.arange(len(ys))
        step = 0
        while active.size:
            step += 1
            y = np.round(ys[active] + step * dy).astype(np.intp)
            x = np.round(xs[active] + step * dx).astype(np.intp)
            inside = (y >= 0) & (y < height) & (x >= 0) & (x < width)
            same = np.zeros(active.size, bool)
            same[inside] = labels[y[inside], x[inside]] == own[active[inside]]
            ended = active[~same]
            distances[ys[ended], xs[ended], ray] = np.hypot(step * dy, step * dx)
            active = active[same]
    return distances


def star_targets(labels: np.ndarray, n_rays: int = RAYS) -> np.ndarray:
    """Training targets (Y, X, 1 + n_rays), float32: the object probability (each object's
    distance to its border, 1 at its centre, 0 on its rim) and the ray distances."""
    probability = distance_targets(np.asarray(labels))[..., None]
    return np.concatenate([probability, star_distances(labels, n_rays)], axis=-1)


def rotate_targets(targets: np.ndarray, k: int) -> np.ndarray:
    """``np.rot90(targets, k)`` with the rays turned with the image: after a quarter turn,
    ray m of the result is ray m + n/4 of the input."""
    n_rays = targets.shape[-1] - 1
    order = (np.arange(n_rays) + k * n_rays // 4) % n_rays
    turned = np.rot90(targets, k, axes=(0, 1))
    return np.concatenate([turned[..., :1], turned[..., 1:][..., order]], axis=-1)


def flip_targets(targets: np.ndarray, axis: int) -> np.ndarray:
    """``np.flip(targets, axis)`` with the rays mirrored: rows turn angle a into -a, columns
    into pi - a."""
    n_rays = targets.shape[-1] - 1
    m = np.arange(n_rays)
    order = (-m) % n_rays if axis == 0 else (n_rays // 2 - m) % n_rays
    flipped = np.flip(targets, axis)
    return np.concatenate([flipped[..., :1], flipped[..., 1:][..., order]], axis=-1)


def instances_from_stars(
    probability: np.ndarray,
    distances: np.ndarray,
    prob: float = DEFAULT_LEVELS["prob"],
    nms: float = DEFAULT_LEVELS["nms"],
    min_size: int = MIN_SIZE,
    dtype: str = "uint16",
) -> np.ndarray:
    """Instance IDs 1..N (0 background) from the object probability (Y, X) and the ray
    distances (Y, X, n_rays).

    Pixels above ``prob`` are candidate centres, most probable first. A candidate that lies in
    an object already kept is suppressed at once (its polygon nearly always overlaps that
    object); the others draw their polygon, which is kept when its IoU with every kept object
    (the pixels that object holds) is at most ``nms``, and takes the pixels no kept object holds
    yet. Objects under ``min_size`` pixels are dropped.
    """
    from skimage.draw import polygon

    probability = np.asarray(probability, np.float32)
    shape = probability.shape
    steps = ray_steps(distances.shape[-1])
    ys, xs = np.nonzero(probability > prob)
    order = np.argsort(-probability[ys, xs], kind="stable")
    objects = np.zeros(shape, np.int32)
    areas = [0]
    for y, x in zip(ys[order], xs[order], strict=True):
        if objects[y, x]:
            continue
        rays = distances[y, x, :, None] * steps
        rows, cols = polygon(y + rays[:, 0], x + rays[:, 1], shape)
        if rows.size < min_size:
            continue
        held = objects[rows, cols]
        owners, overlaps = np.unique(held[held > 0], return_counts=True)
        if owners.size:
            union = rows.size + np.asarray(areas)[owners] - overlaps
            if np.max(overlaps / union) > nms:
                continue
        free = held == 0
        objects[rows[free], cols[free]] = len(areas)
        areas.append(int(free.sum()))
    return finished(objects, min_size, dtype)
