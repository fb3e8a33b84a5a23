"""Augmentation: one geometry for image and labels, intensity for images only."""

import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import train
from napari_segdl.core.train import augment
from napari_segdl.core.train.sampling import PatchSampler, split_validation


def _pair():
    _, labels = make_blobs(shape=(64, 64), count=6)
    return labels.astype(np.float32)[..., None], labels.astype(np.int32)


@pytest.mark.slow
def test_flips_and_rotations_move_image_and_labels_alike():
    x, y = _pair()
    for seed in range(8):
        ax, ay = augment.flip_rotate(x, y, np.random.default_rng(seed))
        np.testing.assert_array_equal(ax[..., 0], ay)


def test_deformation_moves_image_and_labels_alike_and_keeps_values():
    x, y = _pair()
    changed = False
    for seed in range(6):
        ax, ay = augment.deform(x, y, np.random.default_rng(seed))
        assert ax.shape == x.shape and ay.shape == y.shape and ay.dtype == y.dtype
        assert set(np.unique(ay)) <= set(np.unique(y))  # nearest neighbour: painted values
        agree = np.mean(np.abs(ax[..., 0] - ay) < 128)  # linear vs nearest differ at edges only
        assert agree > 0.97
        changed |= not np.array_equal(ay, y)
    assert changed


def test_intensity_changes_the_image_only_within_bounds():
    x, _ = _pair()
    x = x / 255
    ax = augment.intensity(x, np.random.default_rng(1))
    assert ax.shape == x.shape and ax.dtype == np.float32
    assert not np.allclose(ax, x)
    assert ax.min() > -0.5 and ax.max() < 2.0


def test_sampler_with_every_augmentation_keeps_ignored_pixels_ignored():
    x, y = _pair()
    y[:, :20] = -1  # unlabelled
    data = split_validation([x / 255], [y], 32, 0.0, np.random.default_rng(0))
    sampler = PatchSampler(data, 32, 4, 0, True, intensity=True, deform=True)
    for step in range(5):
        bx, by = sampler.batch_at(1, step)
        assert bx.shape == (4, 32, 32, 1) and by.shape == (4, 32, 32)
        assert set(np.unique(by)) <= {-1, 0, 255}


@pytest.mark.slow
def test_training_with_intensity_and_deformation(blobs):
    image, labels = blobs
    model = train(image, labels, epochs=1, augment_intensity=True, augment_deform=True, **TINY)
    assert model.info.training["augment_deform"] and model.info.training["augment_intensity"]
