"""Training data for 3D networks: volumes, spacing, painted slices, 3D patches and augmentation."""

import numpy as np
import pytest

from helpers import make_balls
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.labels.modes import IGNORE
from napari_segdl.core.train import augment
from napari_segdl.core.train.config import TrainConfig
from napari_segdl.core.train.sampling import PatchSampler, split_validation, training_patch
from napari_segdl.core.train.volumes import check_patch_z, check_spacing, prepare_volumes, z_ratio


def test_volumes_become_targets_with_channels_last():
    image, labels = make_balls()
    pairs = prepare_volumes([image], [labels > 0], "dense")
    assert pairs.images[0].shape == (*image.shape, 1)
    assert pairs.targets[0].shape == image.shape
    assert pairs.extra["volumes"] == 1 and pairs.extra["voxels"] == labels.size
    colour = np.stack([image] * 2, -1)
    assert prepare_volumes([colour], [labels > 0], "dense").channels == 2


def test_instance_volumes_get_3d_targets():
    image, labels = make_balls()
    pairs = prepare_volumes([image], [labels], "instance", head="distance")
    assert set(np.unique(pairs.targets[0])) == {0, 1, 2}
    assert pairs.head_targets[0].shape == (*image.shape, 1) and pairs.head_targets[0].max() == 1.0
    assert pairs.extra["instance_min_size"] >= 4


def test_a_2d_image_is_refused_for_a_3d_network():
    with pytest.raises(SegDLError, match=r"2D image.*3D network.*dims=2"):
        prepare_volumes([np.zeros((32, 32))], [np.ones((32, 32), np.uint8)], "dense")


def test_a_series_of_volumes_is_refused_with_the_time_axis_named():
    image, labels = make_balls()
    series = np.stack([image, image])
    with pytest.raises(SegDLError, match=r"series of volumes \(T, Z, Y, X.*one time point"):
        prepare_volumes([series], [labels], "instance")


def test_labels_on_one_slice_train_sparse_but_not_dense():
    image, _ = make_balls()
    one = np.zeros(image.shape, np.uint8)
    one[5, 10:20, 10:20], one[5, 30:40, 30:40] = 1, 2
    for mode in ("dense", "instance"):
        with pytest.raises(SegDLError, match=r"only slice 5 of 12 is painted.*sparse mode"):
            prepare_volumes([image], [one], mode)
    pairs = prepare_volumes([image], [one], "sparse")
    assert (pairs.targets[0] != IGNORE).sum() == 200


def test_nothing_painted_and_mismatched_shapes_are_refused():
    image, labels = make_balls()
    with pytest.raises(SegDLError, match="nothing is painted"):
        prepare_volumes([image], [np.zeros_like(labels)], "sparse")
    with pytest.raises(SegDLError, match="paint the labels on the volume's grid"):
        prepare_volumes([image], [labels[:, :40]], "dense")


@pytest.mark.parametrize("spacing", [(0, 1, 1), (2, -1, 1), (1, 1), ("a", 1, 1), (np.nan, 1, 1)])
def test_spacing_missing_or_zero_is_refused(spacing):
    with pytest.raises(SegDLError, match="three positive numbers"):
        check_spacing(spacing)


def test_spacing_gives_the_z_ratio():
    assert check_spacing(None) is None and z_ratio(None) == 1.0
    assert z_ratio(check_spacing([2.5, 0.5, 0.5])) == pytest.approx(5.0)


def test_patch_depth_must_fit_the_z_grid():
    check_patch_z(16, 4)
    with pytest.raises(SegDLError, match=r"patch_z 6 .* z grid 4; use 4 or 8"):
        check_patch_z(6, 4)


def test_3d_patches_are_sampled_and_held_out_in_3d():
    image, labels = make_balls(shape=(16, 64, 64))
    pairs = prepare_volumes([image], [labels > 0], "dense")
    config = TrainConfig(dims=3, patch=32, patch_z=8, depth=2, filters=4)
    patch = training_patch(config)
    assert patch == (8, 32, 32)
    data = split_validation(pairs.images, pairs.targets, patch, 0.2, np.random.default_rng(0))
    assert data.val_images.shape[1:] == (8, 32, 32, 1)
    held = (data.targets[0] == IGNORE).sum()
    assert held == len(data.val_images) * 8 * 32 * 32  # whole blocks left out of training
    sampler = PatchSampler(data, patch, 3, seed=1, augment=True, deform=True, intensity=True)
    x, y = sampler.batch_at(1, 0)
    assert x.shape == (3, 8, 32, 32, 1) and y.shape == (3, 8, 32, 32)
    again = sampler.batch_at(1, 0)
    assert np.array_equal(again[1], y)  # batches depend on (seed, epoch, step) only


def test_3d_augmentation_moves_image_and_labels_alike():
    rng = np.random.default_rng(3)
    volume = rng.random((6, 10, 10, 1)).astype(np.float32)
    labels = (volume[..., 0] * 1000).astype(np.int32)  # labels that are the image itself
    for _ in range(10):
        x, y = augment.flip_rotate(volume, labels, rng)
        assert np.array_equal((x[..., 0] * 1000).astype(np.int32), y)
    x, y = augment.deform(volume, labels, rng)
    assert x.shape == volume.shape and y.shape == labels.shape
    assert set(np.unique(y)) <= set(np.unique(labels))  # nearest neighbour: painted values only
