"""Adapting an instance model to a user's corrections without a gradient step: the seed and
extent levels of its post-processing and the scale at which it sees the images, fitted to the
corrected objects (F1 at IoU 0.5). Seconds, where fine-tuning takes minutes; it also runs
before every fine-tuning, so training starts from the best the model already does."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..errors import SegDLError
from .levels import f1_at_50, level_grid

#: Scales tried besides the one that brings the corrected objects to the learned size.
SCALE_RANGE = (0.25, 4.0)
#: Corrected objects within this factor of the learned size keep the model's scale.
SAME_SIZE = 1.25
#: How much better (mean F1 at IoU 0.5 of the corrected images) a fit must be to replace the
#: start's: on a few images, smaller gains are chance and do not carry to unseen images.
MARGIN = 0.02


def adapt(model, images, labels, *, sources: Sequence[tuple[str, str]] | None = None):
    """A copy of the instance ``model`` whose post-processing levels and prediction scale fit
    the corrected ``labels`` of ``images`` best (F1 at IoU 0.5); ``model`` is not changed.

    The scale tried besides 1 brings the corrected objects' median diameter to the one the
    model learned (when they differ by more than :data:`SAME_SIZE`). Each image counts the
    same; a fit replaces the start's levels and scale only when it beats them by
    :data:`MARGIN` and, with two images or more, when fitting on all but one image gains on
    the one left out (on average over the images): a few images must not pick settings that
    help one of them a lot and the rest not at all. A single image has none to hold out: its
    fit must beat the start by 1/sqrt(n) for its n objects (a chance difference of F1 on n
    objects: the fit is chosen on the objects it is judged on), 0.17 for 34 nuclei. ``info.run.adapted`` of the copy
    records the mean F1 before and after, and that held-out gain.

    Raises
    ------
    SegDLError
        For a model that is not an instance model, a 3D model, stacks, or corrections without
        any object (naming the labels).
    """
    from ..infer.engine import instance_options
    from ..labels.instances import (
        check_instance_labels,
        instances_by_levels,
        object_diameter,
    )
    from .pairs import check_pairs

    if model.class_map.mode != "instance" or model.geometry.dims != 2:
        raise SegDLError(
            "Adapting fits the post-processing of 2D instance models; this model is a "
            f"{model.geometry.dims}D {model.class_map.mode} model: fine-tune it instead."
        )
    if not isinstance(images, (list, tuple)):
        images, labels = [images], [labels]
    sources, _ = check_pairs(images, labels, sources, None, "image")
    truths = [np.asarray(lab) for lab in labels]
    for truth, (image_name, label_name) in zip(truths, sources, strict=True):
        if truth.ndim != 2:
            raise SegDLError(f"{label_name}: adapting takes 2D corrections; received a stack.")
        if not truth.any():
            raise SegDLError(
                f"{label_name}: holds no object; correct some objects of {image_name} first, "
                "or leave this pair out."
            )
        check_instance_labels(truth, label_name)  # a semantic mask: the offer to number it
    recorded = model.info.postprocessing
    learned = recorded.object_diameter
    fitted = learned / object_diameter(truths) if learned else 1.0
    fitted = float(np.clip(round(fitted, 2), *SCALE_RANGE))
    current = recorded.scale or 1.0
    scales = sorted({1.0, current, fitted if max(fitted, 1 / fitted) > SAME_SIZE else 1.0})
    start = instance_options(model)
    tried = {}
    for scale in scales:
        scores = [
            _probabilities(model, image, scale, names[0])
            for image, names in zip(images, sources, strict=True)
        ]
        if start["group"] == "classes":  # a flow head grouping by its classes: those alone
            scores = [s[..., :3] for s in scores]
        smallest = max(1, round(start["min_size"] / scale**2))
        grid = sorted({*level_grid(scores[0]), (start["seed"], start["extent"])})
        found = [
            instances_by_levels(s, smallest, "uint32", grid, max_error=start["max_error"])
            for s in scores
        ]
        for seed, extent in grid:  # per image: each image counts the same
            tried[scale, seed, extent] = [
                f1_at_50([(objects[seed, extent], t)])
                for objects, t in zip(found, truths, strict=True)
            ]
    kept = (current, start["seed"], start["extent"])
    margin = MARGIN
    if len(images) == 1:  # nothing to hold out: a gain must beat chance on its n objects
        margin = max(MARGIN, 1 / math.sqrt(len(np.unique(truths[0])) - 1))
    best = _fit(tried, kept, range(len(images)), margin)
    held_out = _held_out_gain(tried, kept, len(images))
    if held_out is not None and held_out <= 0:  # it would not carry to an unseen image
        best = kept
    adapted = copy.copy(model)
    adapted.info = copy.deepcopy(model.info)
    scale = best[0] if best[0] != 1.0 else None
    adapted.info.postprocessing = replace(recorded, seed=best[1], extent=best[2], scale=scale)
    adapted.info.training["adapted"] = {
        "images": len(images),
        "scale": best[0],
        "seed": best[1],
        "extent": best[2],
        "f1_50_before": round(float(np.mean(tried[kept])), 4),
        "f1_50_after": round(float(np.mean(tried[best])), 4),
        "held_out_gain": None if held_out is None else round(held_out, 4),
    }
    return adapted


def _fit(tried: dict, kept: tuple, images, margin: float = MARGIN) -> tuple:
    """The setting with the best mean F1 over ``images``, if it beats ``kept`` by ``margin``."""

    def mean(key):
        return float(np.mean([tried[key][k] for k in images]))

    best = max(tried, key=lambda key: (mean(key), key == kept))
    return best if mean(best) >= mean(kept) + margin else kept


def _held_out_gain(tried: dict, kept: tuple, count: int) -> float | None:
    """Leave-one-out: the mean gain on each image of the setting fitted on the others, over
    ``kept`` (None for a single image). Adapting pays only where this is positive: one image
    that gains a lot must not choose the levels for all the others."""
    if count < 2:
        return None
    gains = []
    for left_out in range(count):
        fitted = _fit(tried, kept, [k for k in range(count) if k != left_out])
        gains.append(tried[fitted][left_out] - tried[kept][left_out])
    return float(np.mean(gains))


def adapted_start(initial, images, labels, regions, recipe, sources):
    """Continuing a 2D instance model on raw corrected images: ``initial`` adapted to them
    first, and the pairs at its adapted scale; otherwise all three as given."""
    if initial is None or recipe or not adaptable(initial, images, labels, regions):
        return initial, images, labels
    initial = adapt(initial, images, labels, sources=sources)
    return (initial, *at_scale(initial, images, labels))


def adaptable(model, images, labels, regions) -> bool:
    """Whether a continued model is adapted first: a 2D instance model, 2D corrections, each
    with an object, and no checked regions (whose masks would need the same scale)."""
    return (
        model.class_map.mode == "instance"
        and model.geometry.dims == 2
        and regions is None
        and all(np.ndim(lab) == 2 and np.any(lab) for lab in labels)
        and all(np.ndim(im) in (2, 3) and np.shape(im)[:2] == np.shape(lab)
                for im, lab in zip(images, labels, strict=False))
    )  # fmt: skip


def at_scale(model, images, labels):
    """The pairs resized by the scale the model was adapted to, so that fine-tuning sees the
    objects at the size its predictions will (labels by nearest neighbour)."""
    scale = model.info.postprocessing.scale
    if not scale:
        return images, labels
    from skimage.transform import rescale

    def resize(array, order):
        channels = -1 if np.ndim(array) == 3 else None
        out = rescale(np.asarray(array), scale, order=order, preserve_range=True,
                      anti_aliasing=False, channel_axis=channels)  # fmt: skip
        return out.astype(np.asarray(array).dtype)

    return [resize(im, 1) for im in images], [resize(lab, 0) for lab in labels]


def _probabilities(model, image, scale: float, name: str) -> np.ndarray:
    """The class scores of ``image`` predicted at ``scale``, back at the image's size."""
    from ..infer.predict import predict

    return predict(model, image, probabilities=True, scale=scale, name=name)  # 1.0: as it is
