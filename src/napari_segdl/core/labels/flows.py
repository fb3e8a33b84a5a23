"""Flow fields as an instance representation (the idea of cellpose, Stringer et al. 2021),
written here with numpy, SciPy and scikit-image.

Each object pixel learns the direction (a unit vector) in which heat spreading from the
object's centre rises: the gradient of a diffusion inside the object, so that any shape, convex
or not, has one sink. Prediction lets every pixel likely to be inside an object follow the
predicted field for a number of steps; pixels that end at the same place form one object.
"""

from __future__ import annotations

import numpy as np

from .objects import MIN_SIZE, finished

#: Default levels of the post-processing: object probability, the fewest pixels ending at a
#: place for it to be an object's centre.
DEFAULT_LEVELS = {"prob": 0.5, "gather": 10}
#: An object whose predicted field differs from its own shape's flows by more than this (the
#: mean over its pixels of the squared difference of the unit vectors, dy and dx summed) is
#: dropped: cellpose's flow-error check with its default threshold, which a model's own level
#: replaces once tuned on its validation data (``PostProcessing.flow_error``). It removes the
#: pieces a field does not describe as one object, such as fragments of a cytoplasm.
MAX_ERROR = 0.4
#: Steps each pixel takes along the predicted field, at most.
STEPS = 200
#: A walking pixel that moved less than ``STILL`` pixels in the last ``CHECK`` steps has
#: arrived at its object's centre.
CHECK, STILL = 16, 1.0


def object_flows(labels: np.ndarray) -> np.ndarray:
    """Unit vectors (Y, X, 2) as (dy, dx) towards each object's centre along the gradient of
    heat diffused from it inside the object; 0 on the background (float32).

    The centre is the object pixel nearest the median of its pixels' coordinates; heat is
    released there and spreads for twice the object's height plus width steps (its box with a
    margin of one), each pixel taking the mean of its 3 x 3 neighbourhood, the outside held at
    0. Objects of about one size diffuse together, as a stack.
    """
    from scipy import ndimage as ndi

    labels = np.asarray(labels)
    flows = np.zeros((*labels.shape, 2), np.float32)
    stacks: dict[int, list] = {}
    for index, box in enumerate(ndi.find_objects(labels), start=1):
        if box is not None:
            side = max(box[0].stop - box[0].start, box[1].stop - box[1].start) + 2
            stacks.setdefault(-(-side // 8) * 8, []).append((index, box))
    for side, members in stacks.items():
        members.sort(key=lambda m: -(m[1][0].stop - m[1][0].start + m[1][1].stop - m[1][1].start))
        _diffuse_stack(labels, members, side, flows)
    return flows


def _diffuse_stack(labels, members, side: int, flows: np.ndarray) -> None:
    """:func:`object_flows` of the objects ``members`` ((ID, box), the longest-diffusing
    first), each in a ``side``-square crop with a margin of one, written into ``flows``."""
    from scipy import ndimage as ndi

    crops = np.zeros((len(members), side, side), bool)
    centres = np.zeros((len(members), 2), np.intp)
    steps = np.zeros(len(members), np.intp)
    for n, (index, box) in enumerate(members):
        height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
        crops[n, 1 : height + 1, 1 : width + 1] = labels[box] == index
        rows, cols = np.nonzero(crops[n])
        middle = np.argmin((rows - np.median(rows)) ** 2 + (cols - np.median(cols)) ** 2)
        centres[n] = rows[middle], cols[middle]
        steps[n] = 2 * (height + width + 4)
    heat = np.zeros(crops.shape, np.float64)
    for step in range(int(steps.max())):
        going = int((steps > step).sum())  # a prefix: the longest-diffusing come first
        heat[np.arange(going), centres[:going, 0], centres[:going, 1]] += 1.0
        heat[:going] = ndi.uniform_filter(heat[:going], (1, 3, 3), mode="constant")
        heat[:going] *= crops[:going]
    heat = np.log1p(heat)
    dy, dx = np.zeros_like(heat), np.zeros_like(heat)
    dy[:, 1:-1] = heat[:, 2:] - heat[:, :-2]
    dx[:, :, 1:-1] = heat[:, :, 2:] - heat[:, :, :-2]
    norm = np.hypot(dy, dx)
    norm[norm < 1e-9] = np.inf  # the centre of a symmetric object: no direction
    for n, (_, box) in enumerate(members):
        height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
        inside = crops[n, 1 : height + 1, 1 : width + 1]
        ys, xs = np.nonzero(inside)
        for axis, d in enumerate((dy, dx)):
            field = (d[n] / norm[n])[1 : height + 1, 1 : width + 1]
            flows[box[0].start + ys, box[1].start + xs, axis] = field[inside]


def flow_targets(labels: np.ndarray) -> np.ndarray:
    """Training targets (Y, X, 3), float32: the flow (dy, dx) and whether the pixel is inside
    an object (1) or not (0)."""
    labels = np.asarray(labels)
    inside = (labels > 0).astype(np.float32)[..., None]
    return np.concatenate([object_flows(labels), inside], axis=-1)


def rotate_targets(targets: np.ndarray, k: int) -> np.ndarray:
    """``np.rot90(targets, k)`` with the vectors turned with the image: a quarter turn takes a
    step (dy, dx) to (-dx, dy)."""
    turned = np.rot90(targets, k, axes=(0, 1)).copy()
    for _ in range(k % 4):
        dy, dx = turned[..., 0].copy(), turned[..., 1].copy()
        turned[..., 0], turned[..., 1] = -dx, dy
    return turned


def flip_targets(targets: np.ndarray, axis: int) -> np.ndarray:
    """``np.flip(targets, axis)`` with the vector component along ``axis`` negated."""
    flipped = np.flip(targets, axis).copy()
    flipped[..., axis] *= -1
    return flipped


def follow(flows: np.ndarray, mask: np.ndarray, steps: int = STEPS) -> np.ndarray:
    """Where each pixel of ``mask`` ends after up to ``steps`` unit steps along ``flows``
    (bilinear interpolation, positions kept inside the image): (N, 2) float32 positions (y, x).

    Every :data:`CHECK` steps, the pixels that moved less than :data:`STILL` pixels since the
    last check have arrived (they circle their object's centre) and stop there: most pixels
    arrive within their object's radius, so the walk costs a few of its steps, not all.
    """
    height, width = mask.shape
    fields = np.pad(flows[..., :2].astype(np.float32), [(0, height < 2), (0, width < 2), (0, 0)])
    stride = fields.shape[1]
    dy_field, dx_field = fields[..., 0].ravel(), fields[..., 1].ravel()
    ends = np.stack(np.nonzero(mask), axis=1).astype(np.float32)
    walking, points = np.arange(len(ends)), ends.copy()
    high = np.array([height - 1, width - 1], np.float32)
    last = points.copy()
    for step in range(1, steps + 1):
        if not len(points):
            break
        row = np.minimum(points[:, 0].astype(np.intp), fields.shape[0] - 2)
        col = np.minimum(points[:, 1].astype(np.intp), stride - 2)
        down, right = points[:, 0] - row, points[:, 1] - col
        at = row * stride + col
        corners = ((at, (1 - down) * (1 - right)), (at + 1, (1 - down) * right),
                   (at + stride, down * (1 - right)), (at + stride + 1, down * right))  # fmt: skip
        move = np.stack([sum(f[i] * w for i, w in corners) for f in (dy_field, dx_field)], 1)
        points = np.clip(points + move, 0, high)
        if step % CHECK == 0:
            moving = np.abs(points - last).max(axis=1) >= STILL
            ends[walking[~moving]] = points[~moving]
            walking, points = walking[moving], points[moving]
            last = points.copy()
    ends[walking] = points
    return ends


def instances_from_flows(
    flows: np.ndarray,
    probability: np.ndarray,
    prob: float = DEFAULT_LEVELS["prob"],
    gather: int = DEFAULT_LEVELS["gather"],
    min_size: int = MIN_SIZE,
    dtype: str = "uint16",
    steps: int = STEPS,
    max_error: float | None = MAX_ERROR,
    cut: bool = False,
) -> np.ndarray:
    """Instance IDs 1..N (0 background) from the predicted flows (Y, X, 2) and the object
    probability (Y, X).

    Pixels above ``prob`` follow the flows; the places where at least ``gather`` pixels end
    (local maxima of the count in a 5 x 5 window) are the centres, the count around each is
    split between them by a watershed, and every pixel takes the object of the place it ended
    at; pieces of one object that do not touch become objects of their own (the flows of an
    untrained network gather distant pixels). Objects under ``min_size`` pixels are dropped,
    and those whose flows disagree with their own shape's by more than ``max_error``
    (:func:`consistent`; None keeps them; with ``cut`` the arrays are a piece of a larger
    image, a chunk or a patch, and objects at its edges are kept: their flows point to a
    centre outside it).
    """
    found = instances_at_levels(
        flows, probability, [prob], gather, min_size, dtype, steps, max_error, cut
    )
    return found[prob]


def instances_at_levels(
    flows: np.ndarray,
    probability: np.ndarray,
    levels,
    gather: int = DEFAULT_LEVELS["gather"],
    min_size: int = MIN_SIZE,
    dtype: str = "uint16",
    steps: int = STEPS,
    max_error: float | None = MAX_ERROR,
    cut: bool = False,
) -> dict[float, np.ndarray]:
    """:func:`instances_from_flows` at each probability level of ``levels``, with one walk:
    a pixel ends where it ends whichever other pixels walk, so the pixels above the lowest
    level walk once and each level groups its own."""
    found = instances_by_checks(
        flows, probability, levels, [max_error], gather, min_size, dtype, steps, cut
    )
    return {level: found[level, max_error] for level in levels}


def instances_by_checks(
    flows: np.ndarray,
    probability: np.ndarray,
    levels,
    errors,
    gather: int = DEFAULT_LEVELS["gather"],
    min_size: int = MIN_SIZE,
    dtype: str = "uint16",
    steps: int = STEPS,
    cut: bool = False,
) -> dict[tuple, np.ndarray]:
    """:func:`instances_from_flows` for each probability level of ``levels`` and each flow
    error of ``errors``, keyed by the pair (one walk, one error map per level)."""
    lowest = np.asarray(probability) > min(levels)
    ends = follow(flows, lowest, steps) if lowest.any() else np.zeros((0, 2), np.float32)
    found = {}
    for level in levels:
        mask = np.asarray(probability) > level
        objects = group(ends[mask[lowest]], mask, gather, min_size, dtype)
        checked = consistent_by(objects, flows, errors, cut)
        found.update({(level, error): checked[error] for error in errors})
    return found


def consistent(
    labels: np.ndarray, flows: np.ndarray, max_error: float | None = MAX_ERROR, cut: bool = False
) -> np.ndarray:
    """``labels`` without the objects whose predicted ``flows`` (Y, X, 2) differ from the flows
    of their own shape (:func:`object_flows`) by more than ``max_error``, renumbered 1..N; with
    ``cut``, objects touching the edges are kept whatever their flows."""
    return consistent_by(labels, flows, [max_error], cut)[max_error]


def consistent_by(labels: np.ndarray, flows: np.ndarray, errors, cut: bool = False) -> dict:
    """:func:`consistent` for each of ``errors`` (None: no check), keyed by it: the objects'
    flows are computed once."""
    checked = {error: labels for error in errors if error is None}
    if not labels.any() or len(checked) == len(errors):
        return {error: labels for error in errors}
    from scipy import ndimage as ndi

    error_map = np.sum((np.asarray(flows, np.float32) - object_flows(labels)) ** 2, axis=-1)
    index = np.arange(1, int(labels.max()) + 1)
    means = np.asarray(ndi.mean(error_map, labels, index))
    edges = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]) if cut else []
    for error in errors:
        if error is None:
            continue
        wrong = np.setdiff1d(index[means > error], edges)
        checked[error] = (
            finished(np.where(np.isin(labels, wrong), 0, labels), 0, labels.dtype)
            if len(wrong)
            else labels
        )
    return checked


def group(
    ends: np.ndarray,
    mask: np.ndarray,
    gather: int = DEFAULT_LEVELS["gather"],
    min_size: int = MIN_SIZE,
    dtype: str = "uint16",
) -> np.ndarray:
    """Instance IDs from where the pixels of ``mask`` ended (:func:`follow`): see
    :func:`instances_from_flows`."""
    from scipy import ndimage as ndi
    from skimage.measure import label
    from skimage.segmentation import watershed

    objects = np.zeros(mask.shape, np.int32)
    if len(ends):
        ends = np.round(ends).astype(np.intp)
        counts = np.zeros(mask.shape, np.float32)
        np.add.at(counts, (ends[:, 0], ends[:, 1]), 1.0)
        spread = ndi.uniform_filter(counts, 3) * 9
        peaks = (spread == ndi.maximum_filter(spread, 5)) & (spread >= gather)
        basins = watershed(-spread, markers=label(peaks), mask=spread > 0)
        objects[mask] = basins[ends[:, 0], ends[:, 1]]
        objects = label(objects, background=0, connectivity=1)  # apart: objects of their own
    return finished(objects, min_size, dtype)
