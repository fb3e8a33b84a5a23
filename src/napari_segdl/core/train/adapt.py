"""Adapting an instance model to a user's corrections without a gradient step: the seed and
extent levels of its post-processing and the scale at which it sees the images, fitted to the
corrected objects (F1 at IoU 0.5). Seconds, where fine-tuning takes minutes; it also runs
before every fine-tuning, so training starts from the best the model already does."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence

import numpy as np

from ..errors import SegDLError
from .levels import EXTENT_LEVELS, SEED_LEVELS, f1_at_50

#: Scales tried besides the one that brings the corrected objects to the learned size.
SCALE_RANGE = (0.25, 4.0)


def adapt(model, images, labels, *, sources: Sequence[tuple[str, str]] | None = None):
    """A copy of the instance ``model`` whose post-processing levels and prediction scale fit
    the corrected ``labels`` of ``images`` best (F1 at IoU 0.5); ``model`` is not changed.

    The scale tried besides 1 brings the corrected objects' median diameter to the one the
    model learned. ``training["adapted"]`` of the copy records the F1 before and after.

    Raises
    ------
    SegDLError
        For a model that is not an instance model, a 3D model, stacks, or corrections without
        any object (naming the labels).
    """
    from ..infer.engine import instance_options
    from ..labels.instances import instances_from_probabilities, object_diameter
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
    learned = model.info.training.get("object_diameter")
    fitted = learned / object_diameter(truths) if learned else 1.0
    scales = sorted({1.0, float(np.clip(round(fitted, 2), *SCALE_RANGE))})
    current = model.info.training.get("scale", 1.0)
    start = instance_options(model)
    tried = {}
    for scale in scales:
        scores = [_probabilities(model, image, scale) for image in images]
        smallest = max(1, round(start["min_size"] / scale**2))
        for seed, extent in itertools.product(SEED_LEVELS, EXTENT_LEVELS):
            predictions = (
                instances_from_probabilities(s, smallest, "uint32", seed, extent) for s in scores
            )
            tried[scale, seed, extent] = f1_at_50(zip(predictions, truths, strict=True))
    before = tried.get((current, start["seed"], start["extent"]))
    best = max(tried, key=lambda key: (tried[key], key[0] == current))
    adapted = copy.copy(model)
    adapted.info = copy.deepcopy(model.info)
    training = adapted.info.training
    training["instance_levels"] = {**training.get("instance_levels", {}), "seed": best[1]}
    training["instance_levels"]["extent"] = best[2]
    if best[0] != 1.0:
        training["scale"] = best[0]
    else:
        training.pop("scale", None)
    training["adapted"] = {
        "images": len(images),
        "scale": best[0],
        "seed": best[1],
        "extent": best[2],
        "f1_50_before": None if before is None else round(before, 4),
        "f1_50_after": round(tried[best], 4),
    }
    return adapted


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
    scale = model.info.training.get("scale")
    if not scale:
        return images, labels
    from skimage.transform import rescale

    def resize(array, order):
        channels = -1 if np.ndim(array) == 3 else None
        out = rescale(np.asarray(array), scale, order=order, preserve_range=True,
                      anti_aliasing=False, channel_axis=channels)  # fmt: skip
        return out.astype(np.asarray(array).dtype)

    return [resize(im, 1) for im in images], [resize(lab, 0) for lab in labels]


def _probabilities(model, image, scale: float) -> np.ndarray:
    """The class scores of ``image`` predicted at ``scale``, back at the image's size."""
    from ..infer.predict import predict

    return predict(model, image, probabilities=True, scale=scale)  # 1.0: as it is
