"""Training data: padding, a validation split by held-out blocks, and patch sampling.

Images are (Y, X, C) with targets (Y, X), or volumes (Z, Y, X, C) with targets (Z, Y, X) for 3D
networks; a patch is a side (2D) or a shape per spatial axis.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..labels.heads import EXTRA_CHANNELS
from ..labels.modes import IGNORE
from . import augment


@dataclass
class TrainingData:
    """Normalised images (Y, X, C) float32 with int32 targets, ready for patch sampling."""

    images: list[np.ndarray]
    targets: list[np.ndarray]
    val_images: np.ndarray  # (N, *patch, C); N = 0 without validation
    val_targets: np.ndarray  # (N, *patch)


def patch_shape(patch, ndim: int) -> tuple[int, ...]:
    """The patch's size along each of ``ndim`` spatial axes (a side is the same on each)."""
    return tuple(int(p) for p in patch) if isinstance(patch, (tuple, list)) else (patch,) * ndim


def training_patch(config) -> tuple[int, ...]:
    """The shape of a run's training patches: (patch, patch), or (patch_z, patch, patch) for a
    3D network."""
    return (config.patch_z,) * (config.dims == 3) + (config.patch,) * 2


def _window(corner, shape) -> tuple[slice, ...]:
    return tuple(slice(c, c + n) for c, n in zip(corner, shape, strict=True))


def pad_to_patch(image: np.ndarray, target: np.ndarray, patch):
    """Pad an image (mirrored) and its target (``IGNORE``) to at least ``patch`` on each side."""
    shape = patch_shape(patch, target.ndim)
    pad = [(0, max(0, p - n)) for n, p in zip(target.shape, shape, strict=True)]
    if not any(p for _, p in pad):
        return image, target
    image = np.pad(image, [*pad, (0, 0)], mode="symmetric")
    target = np.pad(target, pad, constant_values=IGNORE)
    return image, target


def labelled_blocks(targets: list[np.ndarray], shape) -> list[tuple[int, tuple]]:
    """The ``shape``-sized blocks of a grid over each target that hold a labelled pixel:
    (target index, window)."""
    return [
        (i, _window(corner, shape))
        for i, t in enumerate(targets)
        for corner in itertools.product(
            *(range(0, n - p + 1, p) for n, p in zip(t.shape, shape, strict=True))
        )
        if (t[_window(corner, shape)] != IGNORE).any()
    ]


def split_validation(
    images: list[np.ndarray],
    targets: list[np.ndarray],
    patch,
    fraction: float,
    rng: np.random.Generator,
) -> TrainingData:
    """Hold out whole ``patch``-sized blocks of labelled pixels for validation.

    Their labels are removed from the training targets, so validation never sees
    pixels the loss was trained on. With a single labelled block, a random share
    of its labelled pixels is held out instead.
    """
    channels = images[0].shape[-1]
    shape = patch_shape(patch, targets[0].ndim)
    empty = TrainingData(
        images,
        targets,
        np.zeros((0, *shape, channels), np.float32),
        np.zeros((0, *shape), np.int32),
    )
    if fraction <= 0:
        return empty
    blocks = labelled_blocks(targets, shape)
    targets = [t.copy() for t in targets]
    if len(blocks) >= 2:
        count = min(len(blocks) - 1, max(1, round(fraction * len(blocks))))
        chosen = [blocks[k] for k in sorted(rng.choice(len(blocks), count, replace=False))]
        val_y = np.stack([targets[i][where].copy() for i, where in chosen])
        for i, where in chosen:
            targets[i][where] = IGNORE
    elif blocks:
        i, where = blocks[0]
        window = targets[i][where]  # a view: edits reach targets[i]
        held = (window != IGNORE) & (rng.random(window.shape) < fraction)
        val_y = np.where(held, window, IGNORE)[np.newaxis]
        window[held] = IGNORE
        chosen = [blocks[0]]
    else:
        return empty
    val_x = np.stack([images[i][where] for i, where in chosen])
    return TrainingData(images, targets, val_x, val_y.astype(np.int32))


#: Continuing a model: the share of its corrected blocks held out to judge it by (at least).
GUARD_FRACTION = 0.25


def split_for_guard(images, targets, patch, fraction: float, rng, multiple: int) -> TrainingData:
    """The validation split of a continued 2D run: blocks of half the patch side (when that stays
    a multiple of ``multiple``), at least a quarter of them held out, so that the start and
    every epoch are judged on corrected pixels no step trained on. A single block is not split
    (scattered pixels judge objects badly): :func:`check_patches` then scores training blocks."""
    shape = patch_shape(patch, targets[0].ndim)
    half = tuple(p // 2 if (p // 2) % multiple == 0 else p for p in shape)
    if fraction <= 0 or len(labelled_blocks(targets, half)) < 2:
        return split_validation(images, targets, patch, 0.0, rng)
    return split_validation(images, targets, half, max(fraction, GUARD_FRACTION), rng)


def check_patches(data: TrainingData, patch, limit: int = 16) -> TrainingData:
    """``data`` with patches to score a continued model by: its validation patches, or, when it
    has none (a few small corrected images), up to ``limit`` labelled training blocks — seen by
    the loss, yet the same for the starting model and every epoch, so that the best-epoch
    choice can still keep the start."""
    if len(data.val_images):
        return data
    blocks = labelled_blocks(data.targets, patch_shape(patch, data.targets[0].ndim))[:limit]
    if not blocks:
        return data
    val_x = np.stack([data.images[i][where] for i, where in blocks])
    val_y = np.stack([data.targets[i][where] for i, where in blocks]).astype(np.int32)
    return TrainingData(data.images, data.targets, val_x, val_y)


class PatchSampler:
    """Random training patches centred on labelled pixels, augmented as asked.

    ``augment``: flips and 90° rotations; ``deform``: a small affine and elastic deformation
    (half the patches); ``intensity``: contrast, brightness, gamma and noise of the image.
    ``head`` (instance mode, :mod:`~napari_segdl.core.labels.heads`): the images' last channels
    are that head's targets (a distance, or a flow turned with the image), moved like the
    image and returned after the class targets as y (B, P, P, 1 + k) float32.

    Half the patches are centred on a labelled pixel drawn uniformly, half on a pixel
    of a class drawn uniformly, so rare classes and sparse scribbles are seen often.
    Batches depend only on ``(seed, epoch, step)``: training is reproducible and a
    batch can be made in another thread.
    """

    def __init__(
        self,
        data: TrainingData,
        patch: int,
        batch: int,
        seed: int,
        augment: bool,
        intensity: bool = False,
        deform: bool = False,
        head: str = "boundary",
    ):
        self.images, self.targets = data.images, data.targets
        self.extra = EXTRA_CHANNELS[head]
        self.vectors = head == "flow"
        self.patch = patch_shape(patch, self.targets[0].ndim)
        self.batch, self.seed = batch, seed
        self.augment, self.intensity, self.deform = augment, intensity, deform
        self._labelled = [np.flatnonzero(t != IGNORE) for t in self.targets]
        self._by_class: dict[int, list[tuple[int, np.ndarray]]] = {}
        for i, target in enumerate(self.targets):
            flat = target.ravel()
            for c in np.unique(flat[self._labelled[i]]):
                self._by_class.setdefault(int(c), []).append(
                    (i, self._labelled[i][flat[self._labelled[i]] == c])
                )
        self._weights = np.array([len(s) for s in self._labelled], dtype=float)
        self._weights /= self._weights.sum()

    def _centre(self, rng: np.random.Generator) -> tuple[int, int]:
        """An image and the flat index of a labelled pixel in it."""
        if rng.random() < 0.5:
            image = int(rng.choice(len(self.images), p=self._weights))
            pixels = self._labelled[image]
        else:
            options = self._by_class[int(rng.choice(list(self._by_class)))]
            image, pixels = options[int(rng.integers(len(options)))]
        return image, int(pixels[rng.integers(len(pixels))])

    def batch_at(self, epoch: int, step: int) -> tuple[np.ndarray, np.ndarray]:
        """The batch ``(x, y)`` for one step: x (B, *patch, C) float32, y (B, *patch) int32."""
        rng = np.random.default_rng([self.seed, epoch, step])
        xs, ys = [], []
        for _ in range(self.batch):
            image, flat = self._centre(rng)
            shape = self.targets[image].shape
            centre = np.unravel_index(flat, shape)
            corner = [
                int(np.clip(c - rng.integers(p), 0, n - p))
                for c, p, n in zip(centre, self.patch, shape, strict=True)
            ]
            where = _window(corner, self.patch)
            x, y = self.images[image][where], self.targets[image][where]
            if self.augment:
                x, y = augment.flip_rotate(x, y, rng, self.vectors)
            if self.deform and rng.random() < 0.5:
                x, y = augment.deform(x, y, rng, self.vectors)
            if self.extra:
                y = np.concatenate([y[..., None], x[..., -self.extra :]], -1).astype(np.float32)
                x = x[..., : -self.extra]
            if self.intensity:
                x = augment.intensity(x, rng)
            xs.append(x)
            ys.append(y)
        return np.stack(xs).astype(np.float32, copy=False), np.stack(ys)
