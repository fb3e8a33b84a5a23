"""Training pairs: validated, stacks cut into painted slices, labels encoded as targets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..errors import SegDLError
from ..images import as_channels_last, drop_alpha
from ..labels.modes import IGNORE, ClassMap, as_label_array
from ..stacks import training_slices


class Pairs(NamedTuple):
    """2D images (Y, X, C), their targets, the class map, the channel count, what the bundle
    records about the data, and (for instance mode's distance or flow head) the head's extra
    targets (Y, X, k) of each image."""

    images: list[np.ndarray]
    targets: list[np.ndarray]
    class_map: ClassMap
    channels: int
    extra: dict
    head_targets: list[np.ndarray] | None = None


def prepare_pairs(
    images: Sequence,
    labels: Sequence,
    mode: str,
    sources=None,
    class_names=None,
    class_map=None,
    channel_axis: int | None = None,
    head: str = "boundary",
    regions: Sequence | None = None,
) -> Pairs:
    """Validate the pairs and encode their labels as training targets.

    Stacks become their painted 2D slices. A given ``class_map`` (continuing a model) is kept:
    label values outside it are refused. ``head`` adds instance mode's extra targets of that
    head (:mod:`~napari_segdl.core.labels.heads`). ``regions`` (one boolean mask or None per pair, the
    labels' shape) limit training to the pixels a user checked: the others are left out.
    """
    sources, regions = check_pairs(images, labels, sources, regions, "image")
    slices, checked, total = [], [], 0
    for image, label, region, names in zip(images, labels, regions, sources, strict=True):
        pairs, count = _slices(image, label, region, mode, names, channel_axis)
        slices += [(im, lab, where) for im, lab, where, _ in pairs]
        checked += [mask for *_, mask in pairs]
        total += count
    sources = [names for _, _, names in slices]
    arrays, alpha = [], set()
    for im, _, (name, _) in slices:  # a constant alpha carries nothing: RGBA trains as RGB
        array, note = drop_alpha(as_channels_last(im, name))
        arrays.append(array)
        if note:
            alpha.add(note)
    label_arrays = [as_label_array(lab, name) for _, lab, (_, name) in slices]
    for image, label, (image_name, label_name) in zip(arrays, label_arrays, sources, strict=True):
        if image.shape[:2] != label.shape:
            raise SegDLError(
                f"{image_name} has shape {image.shape[:2]} but {label_name} has shape "
                f"{label.shape}; paint the labels on the same grid as the image."
            )
        if mode == "sparse" and not label.any():
            raise SegDLError(
                f"{label_name}: nothing is painted; paint some pixels or leave this pair out."
            )
    channels = {a.shape[-1] for a in arrays}
    if len(channels) > 1:
        raise SegDLError(f"The images have different channel counts {sorted(channels)}.")
    class_map = class_map or ClassMap.from_labels(label_arrays, mode, class_names)
    targets = [
        class_map.encode(lab, name) for lab, (_, name) in zip(label_arrays, sources, strict=True)
    ]
    extra = {"slices": {"trained": len(slices), "total": total}}
    if alpha:
        extra["alpha"] = sorted(alpha)
    if any(mask is not None for mask in checked):
        targets = only_checked(targets, checked, sources)
        kept = sum(int((t != IGNORE).sum()) for t in targets)
        extra["checked_pixels"] = kept
    if mode == "instance":  # predictions drop objects much smaller than the painted ones
        from ..labels.instances import diameter_range, min_object_size, object_diameter

        extra["instance_min_size"] = min_object_size(label_arrays)
        extra["object_diameter"] = object_diameter(label_arrays)
        extra["diameter_range"] = diameter_range(label_arrays)
    extras = None
    if mode == "instance" and head != "boundary":
        from ..labels.heads import head_targets

        extras = [head_targets(lab, head) for lab in label_arrays]
    return Pairs(arrays, targets, class_map, channels.pop(), extra, extras)


def check_pairs(images, labels, sources, regions, kind: str):
    """Refuse no data, unpaired lists or a region list of another length; returns each pair's
    names and checked region (None: all of it). ``kind`` is "image" or "volume"."""
    if len(images) == 0:
        raise SegDLError(f"No training data: give at least one ({kind}, labels) pair.")
    if len(images) != len(labels):
        raise SegDLError(
            f"{len(images)} {kind}s but {len(labels)} label {kind}s; give them in pairs."
        )
    sources = sources or [(f"{kind} {i}", f"labels {i}") for i in range(len(images))]
    regions = list(regions) if regions is not None else [None] * len(images)
    if len(regions) != len(images):
        raise SegDLError(
            f"{len(regions)} checked regions for {len(images)} pairs: give one mask (or None) "
            "per pair."
        )
    return sources, regions


def _slices(image, label, region, mode, names, channel_axis):
    """The painted 2D slices of a pair, each with its slice of the checked region (or None).

    The region rides through the slicing packed into the labels (value * 2 + checked), so a
    slice counts as painted where something is painted or checked.
    """
    if region is None:
        pairs, count = training_slices(image, label, mode, names, channel_axis)
        return [(*pair, None) for pair in pairs], count
    label = np.asarray(label)
    region = np.asarray(region, dtype=bool)
    if region.shape != label.shape:
        raise SegDLError(
            f"The checked regions of {names[1]} have shape {region.shape} but the labels have "
            f"shape {label.shape}: draw them on the labels' grid."
        )
    packed = label.astype(np.int64) * 2 + region
    pairs, count = training_slices(image, packed, mode, names, channel_axis)
    return [
        (im, (lab // 2).astype(label.dtype), where, lab % 2 == 1) for im, lab, where in pairs
    ], count


def only_checked(targets, checked, sources) -> list[np.ndarray]:
    """Targets left out (``IGNORE``) outside the checked regions; a pair whose regions cover
    nothing painted is refused."""
    kept = [
        target if mask is None else np.where(mask, target, IGNORE).astype(target.dtype)
        for target, mask in zip(targets, checked, strict=True)
    ]
    if not any((t != IGNORE).any() for t in kept):
        names = ", ".join(sorted({name.split(" slice ")[0] for _, name in sources}))
        raise SegDLError(
            f"The checked regions cover nothing painted in {names}: draw them over the "
            "corrected parts of the labels (or train without checked regions)."
        )
    return kept


def through_recipe(images, labels, initial, sources, channel_axis):
    """Raw images (and their labels' geometry) through the recipe of the model continued, as
    prediction treats raw images; returns them with no channel axis left to move."""
    from ..preprocess import Recipe, preprocess
    from ..stacks import move_channels

    recipe = Recipe.coerce(initial.info.recipe)
    sources = sources or [(f"image {i}", f"labels {i}") for i in range(len(images))]
    moved = [
        move_channels(im, channel_axis, names[0])
        for im, names in zip(images, sources, strict=True)
    ]
    images = [
        preprocess(im, recipe, name=names[0]) for im, names in zip(moved, sources, strict=True)
    ]
    geometric = recipe.geometric()
    if geometric:
        labels = [
            preprocess(lab, geometric, labels=True, name=names[1])
            for lab, names in zip(labels, sources, strict=True)
        ]
    return images, labels, None
