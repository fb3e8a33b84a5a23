"""Training volumes for 3D networks: whole (Z, Y, X[, C]) volumes, their spacing, their targets.

A 2D network learns from the painted slices of a stack (:mod:`.pairs`); a 3D network learns from
the volume itself, so the context along z counts. Sparse labels (0 = unlabelled) may cover a few
painted slices; dense and instance labels take 0 as background, so a volume painted on a single
slice would teach that everything else is background and is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import SegDLError
from ..labels.modes import ClassMap, as_label_array
from ..stacks import move_channels
from .pairs import Pairs, check_pairs, only_checked


def check_spacing(spacing, name: str = "the images") -> tuple[float, float, float] | None:
    """Voxel spacing (z, y, x) as three positive numbers, or None when not known."""
    if spacing is None:
        return None
    try:
        values = tuple(float(s) for s in spacing)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3 or not all(math.isfinite(v) and v > 0 for v in values):
        raise SegDLError(
            f"The voxel spacing of {name} must be three positive numbers (z, y, x); received "
            f"{spacing!r}. Set the layer's scale (or the file's spacing), or leave it out to "
            "take the voxels as cubes."
        )
    return values


def z_ratio(spacing) -> float:
    """How much coarser z is than the x-y plane (1 when the spacing is not known)."""
    if spacing is None:
        return 1.0
    z, y, x = spacing
    return z / math.sqrt(y * x)


def check_patch_z(patch_z: int, multiple: int) -> None:
    """The patch depth must be a multiple of the 3D network's z grid."""
    if patch_z < multiple or patch_z % multiple:
        lower = max(multiple, patch_z // multiple * multiple)
        raise SegDLError(
            f"patch_z {patch_z} is not a multiple of this 3D network's z grid {multiple}; use "
            f"{lower} or {lower + multiple}."
        )


def prepare_volumes(
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
    """Validate (volume, labels) pairs for a 3D network and encode their labels as targets.

    Volumes are (Z, Y, X) or (Z, Y, X, C); labels (Z, Y, X). Arguments as
    :func:`~napari_segdl.core.train.pairs.prepare_pairs`.
    """
    sources, regions = check_pairs(images, labels, sources, regions, "volume")
    volumes, label_arrays = [], []
    for image, label, (image_name, label_name) in zip(images, labels, sources, strict=True):
        volume, label = _volume(image, label, image_name, label_name, channel_axis)
        _check_painted(label, mode, label_name)
        volumes.append(volume)
        label_arrays.append(label)
    channels = {v.shape[-1] for v in volumes}
    if len(channels) > 1:
        raise SegDLError(f"The volumes have different channel counts {sorted(channels)}.")
    class_map = class_map or ClassMap.from_labels(label_arrays, mode, class_names)
    targets = [
        class_map.encode(lab, name) for lab, (_, name) in zip(label_arrays, sources, strict=True)
    ]
    extra = {"volumes": len(volumes), "voxels": int(sum(t.size for t in targets))}
    if any(region is not None for region in regions):
        checked = [
            _region(r, lab, n)
            for r, lab, (_, n) in zip(regions, label_arrays, sources, strict=True)
        ]
        targets = only_checked(targets, checked, sources)
    if mode == "instance":
        from ..labels.instances import min_object_size

        extra["instance_min_size"] = min_object_size(label_arrays)
    extras = None
    if mode == "instance" and head != "boundary":
        from ..labels.heads import head_targets

        extras = [head_targets(lab, head) for lab in label_arrays]
    return Pairs(volumes, targets, class_map, channels.pop(), extra, extras)


def _volume(image, label, image_name: str, label_name: str, channel_axis):
    """The volume (Z, Y, X, C) and its labels (Z, Y, X), or a SegDLError saying what is off."""
    image = np.asarray(move_channels(image, channel_axis, image_name))
    label = np.asarray(label)
    if label.ndim == 2 or image.ndim == 2:
        raise SegDLError(
            f"{image_name} is a 2D image (shape {image.shape}) but a 3D network learns from "
            "volumes (Z, Y, X): open a z-stack, or train a 2D network (dims=2)."
        )
    if label.ndim != 3:
        raise SegDLError(
            f"{label_name} has shape {label.shape}: a 3D network takes one volume (Z, Y, X) per "
            "pair; choose one time point (or channel) of a 4D image first."
        )
    if image.shape == label.shape:
        image = image[..., np.newaxis]
    if image.ndim == 4 and image.shape[1:] == label.shape and image.shape[-1] != label.shape[-1]:
        pass  # (Z, Y, X, C) whose channel count happens to equal Y's: handled below
    elif image.ndim == 4 and image.shape[1:] == label.shape:
        raise SegDLError(
            f"{image_name} is a series of volumes (T, Z, Y, X = {image.shape}) but "
            f"{label_name} is one volume: a 3D network trains on one volume per pair; choose "
            "one time point (e.g. image[t]) for each pair."
        )
    if image.shape[:3] != label.shape or image.ndim != 4:
        raise SegDLError(
            f"{image_name} has shape {image.shape} but {label_name} has shape {label.shape}; "
            "paint the labels on the volume's grid (a trailing channel axis aside)."
        )
    return image, as_label_array(label, label_name, ndim=3)


def _check_painted(label: np.ndarray, mode: str, name: str) -> None:
    painted = np.flatnonzero(label.reshape(label.shape[0], -1).any(axis=1))
    if not painted.size:
        raise SegDLError(f"{name}: nothing is painted; paint some voxels or leave it out.")
    if mode != "sparse" and painted.size == 1 and label.shape[0] > 1:
        raise SegDLError(
            f"{name}: only slice {painted[0]} of {label.shape[0]} is painted. In {mode} mode 0 "
            "is background, so a 3D network would learn that every other slice is empty: "
            "paint the objects through the volume, or train in sparse mode (0 = unlabelled, "
            "paint the background as its own value), where a few painted slices train a 3D "
            "network."
        )


def _region(region, label: np.ndarray, name: str):
    if region is None:
        return None
    region = np.asarray(region, dtype=bool)
    if region.shape != label.shape:
        raise SegDLError(
            f"The checked regions of {name} have shape {region.shape} but the labels have "
            f"shape {label.shape}: draw them on the labels' grid."
        )
    return region
