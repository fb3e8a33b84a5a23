"""Instance mode: one ID per object in, object/boundary targets for training, IDs out.

Training learns three classes per pixel: background (0), object interior (1) and object
boundary (2, the inner rim of every object, so that touching objects are parted by it); with
the ``distance`` head also each object's distance to its border, 0 at the rim and 1 at its
centre. Prediction turns the scores back into objects with a seeded watershed (scikit-image):
seeds are connected interiors (or distance peaks) above the *seed* level, the extent is the
foreground above the *extent* level, and objects smaller than a size learned from the training
objects are dropped; IDs are 1..N.
"""

from __future__ import annotations

import numpy as np

from ..errors import SegDLError
from .flows import MAX_ERROR
from .objects import MIN_SIZE, finished

CLASS_NAMES = ("background", "object", "boundary")
#: Share of the image above which a single object is taken for a mask, not an instance.
_ONE_BIG_OBJECT = 0.5


def check_instance_labels(labels: np.ndarray, name: str = "labels") -> None:
    """Refuse what is not one ID per object: nothing painted, one big object, a semantic mask."""
    from ..evaluate.instances import check_instances

    ids, areas = np.unique(labels[labels > 0], return_counts=True)
    if not len(ids):
        raise SegDLError(
            f"{name}: no objects. Instance mode needs each object painted with its own ID."
        )
    if len(ids) == 1 and areas[0] > _ONE_BIG_OBJECT * labels.size:
        raise SegDLError(
            f"{name} hold one object (ID {ids[0]}) covering {areas[0] / labels.size:.0%} of the "
            f"image: instance mode needs one ID per object. {NUMBER_OBJECTS_HINT}"
        )
    try:
        check_instances(labels, name)
    except SegDLError as error:
        raise SegDLError(f"{error} {NUMBER_OBJECTS_HINT}") from error


#: What to do with a mask (0/255) in instance mode.
NUMBER_OBJECTS_HINT = (
    "To number the separate objects of a mask, train with label_components=True "
    "(--label-components; the Train dock's 'number the objects of a mask'), or train in dense "
    "mode."
)


def number_objects(labels: np.ndarray, volume: bool = False) -> np.ndarray:
    """Each connected object of a mask numbered 1..N, slice by slice in a stack (uint32), or
    through the whole (Z, Y, X) ``volume`` for 3D networks."""
    from skimage.measure import label

    labels = np.asarray(labels)
    if volume:
        return label(labels > 0, connectivity=1).astype(np.uint32)
    numbered = np.zeros(labels.shape, np.uint32)
    for index in np.ndindex(*labels.shape[:-2]):
        numbered[index] = label(labels[index] > 0, connectivity=1)
    return numbered


def instance_targets(labels: np.ndarray) -> np.ndarray:
    """Class indices (int32): 0 background, 1 object interior, 2 object boundary."""
    from skimage.segmentation import find_boundaries

    targets = (labels > 0).astype(np.int32)
    targets[find_boundaries(labels, mode="inner") & (labels > 0)] = 2
    return targets


def object_diameter(labels: list[np.ndarray]) -> float:
    """The median equivalent diameter of the painted objects, in pixels (the size a model
    learned: prediction's ``diameter`` scales other images to it)."""
    areas = np.concatenate([np.unique(lab[lab > 0], return_counts=True)[1] for lab in labels])
    return round(float(np.median(np.sqrt(4 * areas / np.pi))), 2) if areas.size else 0.0


def diameter_range(labels: list[np.ndarray]) -> list[float]:
    """The 5th and 95th percentiles of the objects' equivalent diameters (pixels): the size
    range a model learned from them."""
    areas = np.concatenate([np.unique(lab[lab > 0], return_counts=True)[1] for lab in labels])
    if not areas.size:
        return [0.0, 0.0]
    low, high = np.percentile(np.sqrt(4 * areas / np.pi), [5, 95])
    return [round(float(low), 2), round(float(high), 2)]


def min_object_size(labels: list[np.ndarray]) -> int:
    """Objects smaller than this are noise: a fifth of the smallest tenth of training objects."""
    areas = np.concatenate([np.unique(lab[lab > 0], return_counts=True)[1] for lab in labels])
    return max(4, int(np.percentile(areas, 10) / 5)) if areas.size else 4


def distance_targets(labels: np.ndarray) -> np.ndarray:
    """Each object's distance to its border, scaled to 1 at its most central pixel (float32).

    Touching objects are parted by their boundary rim, which gets 0 like the background.
    """
    from scipy import ndimage as ndi
    from skimage.segmentation import find_boundaries

    inside = (labels > 0) & ~find_boundaries(labels, mode="inner")
    distance = ndi.distance_transform_edt(inside).astype(np.float32)
    ids, index = np.unique(labels, return_inverse=True)
    peaks = np.asarray(ndi.maximum(distance, labels, ids), dtype=np.float32)
    peaks[peaks == 0] = 1.0  # objects without an inside (1-2 pixels wide) and the background
    return distance / peaks[index.reshape(labels.shape)]


#: Default seed and extent levels of the post-processing (tuned per model after training).
DEFAULT_LEVELS = {"seed": 0.5, "extent": 0.5}
#: How a flow head's pixels are grouped into objects: by following its flows, or (where its
#: flows have not yet converged, after short training) by its classes alone, as the boundary
#: head's are; tuned on validation data with the levels.
GROUPS = ("flows", "classes")


def instances_from_probabilities(
    scores: np.ndarray,
    min_size: int = MIN_SIZE,
    dtype: str = "uint16",
    seed: float = DEFAULT_LEVELS["seed"],
    extent: float = DEFAULT_LEVELS["extent"],
    cut: bool = False,
    max_error: float | None = MAX_ERROR,
    group: str = "flows",
) -> np.ndarray:
    """Instance IDs 1..N (0 background) from (Y, X, 3) background/object/boundary scores,
    (Y, X, 4) with the distance to the border last, or (Y, X, 5) with a flow (dy, dx) last
    (:mod:`.heads`).

    Extent: interior + boundary (1 - background) above ``extent``; objects under ``min_size``
    pixels are dropped. Seeds: connected object interiors (or distances) above ``seed``,
    grown by a watershed over the extent; with a flow, each pixel of the extent follows it and
    the pixels that end together are one object (:func:`.flows.instances_from_flows`; ``seed``
    is not used; ``cut``: the scores are a chunk or patch of a larger image, whose objects at
    the edges keep whatever their flows; ``max_error``: the flow check's level
    (:func:`.flows.consistent`), None for no check; ``group="classes"``: a flow head's
    objects grow from its classes' seeds instead, its flows unused).
    """
    from skimage.measure import label
    from skimage.segmentation import watershed

    if group not in GROUPS:
        raise SegDLError(f"Unknown grouping {group!r}; choose one of {', '.join(GROUPS)}.")
    if scores.shape[-1] == 5 and group == "classes":
        scores = scores[..., :3]
    foreground = 1.0 - scores[..., 0]
    if scores.shape[-1] == 5:
        from .flows import instances_from_flows

        return instances_from_flows(scores[..., 3:], foreground, extent, min_size=min_size,
                                    dtype=dtype, max_error=max_error, cut=cut)  # fmt: skip
    peaks = scores[..., 3] if scores.shape[-1] > 3 else scores[..., 1]
    mask = foreground > extent
    seeds = label((peaks > seed) & mask, connectivity=1)
    return finished(watershed(-peaks, markers=seeds, mask=mask), min_size, dtype)


def instances_by_levels(
    scores: np.ndarray,
    min_size: int,
    dtype: str,
    levels,
    cut: bool = False,
    max_error: float | None = MAX_ERROR,
) -> dict:
    """:func:`instances_from_probabilities` for each (seed, extent) pair of ``levels``, keyed
    by the pair; with a flow head the pixels walk once for all of them."""
    if scores.shape[-1] == 5:
        from .flows import instances_at_levels

        extents = sorted({extent for _, extent in levels})
        found = instances_at_levels(scores[..., 3:], 1.0 - scores[..., 0], extents,
                                    min_size=min_size, dtype=dtype, max_error=max_error,
                                    cut=cut)  # fmt: skip
        return {(seed, extent): found[extent] for seed, extent in levels}
    return {
        (seed, extent): instances_from_probabilities(scores, min_size, dtype, seed, extent, cut)
        for seed, extent in levels
    }


def link_slices(stack: np.ndarray, min_iou: float = 0.5) -> np.ndarray:
    """One ID per object across the slices of a stack (..., Z, Y, X) of per-slice objects.

    An object takes the ID of the object in the slice before it that it overlaps best (one to
    one, IoU at least ``min_iou``: cellpose's ``stitch_threshold``); the others get new IDs.
    Leading axes before Z (time) are linked separately. Returns uint32 IDs 1..N per volume.
    """
    from ..evaluate.instances import match

    stack = np.asarray(stack)
    if stack.ndim < 3:
        raise SegDLError(f"Linking slices needs a stack (Z, Y, X); received shape {stack.shape}.")
    linked = np.zeros(stack.shape, np.uint32)
    for index in np.ndindex(*stack.shape[:-3]):
        volume, out = stack[index], linked[index]
        next_id = 1
        for z, plane in enumerate(volume):
            ids = np.unique(plane[plane > 0])
            lookup = np.zeros(int(plane.max()) + 1, np.uint32)
            if z:
                earlier, current, ious, _, _ = match(plane, out[z - 1])
                for old, new, iou in zip(earlier, current, ious, strict=True):
                    if iou >= min_iou:
                        lookup[new] = old
            fresh = [i for i in ids if not lookup[i]]
            lookup[fresh] = np.arange(next_id, next_id + len(fresh))
            next_id += len(fresh)
            out[z] = lookup[plane]
    return linked
