"""Training data: padding, a validation split by held-out blocks, and patch sampling."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..labels.modes import IGNORE
from . import augment


@dataclass
class TrainingData:
    """Normalised images (Y, X, C) float32 with int32 targets, ready for patch sampling."""

    images: list[np.ndarray]
    targets: list[np.ndarray]
    val_images: np.ndarray  # (N, patch, patch, C); N = 0 without validation
    val_targets: np.ndarray  # (N, patch, patch)


def pad_to_patch(image: np.ndarray, target: np.ndarray, patch: int):
    """Pad an image (mirrored) and its target (``IGNORE``) to at least ``patch`` on each side."""
    pad = [(0, max(0, patch - n)) for n in target.shape]
    if not any(p for _, p in pad):
        return image, target
    image = np.pad(image, [*pad, (0, 0)], mode="symmetric")
    target = np.pad(target, pad, constant_values=IGNORE)
    return image, target


def split_validation(
    images: list[np.ndarray],
    targets: list[np.ndarray],
    patch: int,
    fraction: float,
    rng: np.random.Generator,
) -> TrainingData:
    """Hold out whole ``patch``-sized blocks of labelled pixels for validation.

    Their labels are removed from the training targets, so validation never sees
    pixels the loss was trained on. With a single labelled block, a random share
    of its labelled pixels is held out instead.
    """
    channels = images[0].shape[-1]
    empty = TrainingData(
        images,
        targets,
        np.zeros((0, patch, patch, channels), np.float32),
        np.zeros((0, patch, patch), np.int32),
    )
    if fraction <= 0:
        return empty
    blocks = [
        (i, y, x)
        for i, t in enumerate(targets)
        for y in range(0, t.shape[0] - patch + 1, patch)
        for x in range(0, t.shape[1] - patch + 1, patch)
        if (t[y : y + patch, x : x + patch] != IGNORE).any()
    ]
    targets = [t.copy() for t in targets]
    if len(blocks) >= 2:
        count = min(len(blocks) - 1, max(1, round(fraction * len(blocks))))
        chosen = [blocks[k] for k in sorted(rng.choice(len(blocks), count, replace=False))]
        val_y = np.stack([targets[i][y : y + patch, x : x + patch].copy() for i, y, x in chosen])
        for i, y, x in chosen:
            targets[i][y : y + patch, x : x + patch] = IGNORE
    elif blocks:
        i, y, x = blocks[0]
        window = targets[i][y : y + patch, x : x + patch]  # a view: edits reach targets[i]
        held = (window != IGNORE) & (rng.random(window.shape) < fraction)
        val_y = np.where(held, window, IGNORE)[np.newaxis]
        window[held] = IGNORE
        chosen = [blocks[0]]
    else:
        return empty
    val_x = np.stack([images[i][y : y + patch, x : x + patch] for i, y, x in chosen])
    return TrainingData(images, targets, val_x, val_y.astype(np.int32))


class PatchSampler:
    """Random training patches centred on labelled pixels, augmented as asked.

    ``augment``: flips and 90° rotations; ``deform``: a small affine and elastic deformation
    (half the patches); ``intensity``: contrast, brightness, gamma and noise of the image.
    ``distance``: the images' last channel is the distance target, moved like the image and
    returned with the class targets as y (B, P, P, 2) float32.

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
        distance: bool = False,
    ):
        self.images, self.targets = data.images, data.targets
        self.distance = distance
        self.patch, self.batch, self.seed = patch, batch, seed
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
        if rng.random() < 0.5:
            image = int(rng.choice(len(self.images), p=self._weights))
            pixels = self._labelled[image]
        else:
            options = self._by_class[int(rng.choice(list(self._by_class)))]
            image, pixels = options[int(rng.integers(len(options)))]
        return image, int(pixels[rng.integers(len(pixels))])

    def batch_at(self, epoch: int, step: int) -> tuple[np.ndarray, np.ndarray]:
        """The batch ``(x, y)`` for one step: x (B, P, P, C) float32, y (B, P, P) int32."""
        rng = np.random.default_rng([self.seed, epoch, step])
        xs, ys = [], []
        for _ in range(self.batch):
            image, flat = self._centre(rng)
            height, width = self.targets[image].shape
            cy, cx = divmod(flat, width)
            y0 = int(np.clip(cy - rng.integers(self.patch), 0, height - self.patch))
            x0 = int(np.clip(cx - rng.integers(self.patch), 0, width - self.patch))
            x = self.images[image][y0 : y0 + self.patch, x0 : x0 + self.patch]
            y = self.targets[image][y0 : y0 + self.patch, x0 : x0 + self.patch]
            if self.augment:
                x, y = augment.flip_rotate(x, y, rng)
            if self.deform and rng.random() < 0.5:
                x, y = augment.deform(x, y, rng)
            if self.distance:
                x, y = x[..., :-1], np.dstack([y, x[..., -1]]).astype(np.float32)
            if self.intensity:
                x = augment.intensity(x, rng)
            xs.append(x)
            ys.append(y)
        return np.stack(xs).astype(np.float32, copy=False), np.stack(ys)
