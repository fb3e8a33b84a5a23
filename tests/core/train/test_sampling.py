import numpy as np

from napari_segdl.core.labels.modes import IGNORE
from napari_segdl.core.train.sampling import PatchSampler, pad_to_patch, split_validation


def _targets(shape=(64, 96), sparse=False):
    target = np.zeros(shape, np.int32)
    target[:, shape[1] // 2 :] = 1
    if sparse:
        keep = np.zeros(shape, bool)
        keep[5, :] = keep[40, :] = True
        target[~keep] = IGNORE
    return target


def test_validation_blocks_are_removed_from_training():
    image = np.random.default_rng(0).random((64, 96, 1)).astype(np.float32)
    data = split_validation([image], [_targets()], 32, 0.3, np.random.default_rng(0))
    assert data.val_images.shape[1:] == (32, 32, 1)
    assert len(data.val_targets) == 2  # 30 % of 6 blocks
    held_out = (data.targets[0] == IGNORE).sum()
    assert held_out == 2 * 32 * 32
    assert (data.val_targets != IGNORE).all()


def test_single_block_falls_back_to_held_out_pixels():
    image = np.zeros((32, 32, 1), np.float32)
    target = _targets((32, 32))
    data = split_validation([image], [target], 32, 0.2, np.random.default_rng(0))
    val = data.val_targets[0] != IGNORE
    assert 0.1 < val.mean() < 0.3
    assert np.all(data.targets[0][val] == IGNORE)
    assert np.all(target != IGNORE)  # the caller's array is untouched


def test_pad_to_patch():
    image, target = pad_to_patch(np.ones((10, 40, 2)), np.zeros((10, 40), np.int32), 32)
    assert image.shape == (32, 40, 2) and target.shape == (32, 40)
    assert np.all(target[10:] == IGNORE)


def test_sparse_patches_contain_paint_and_are_reproducible():
    image = np.random.default_rng(1).random((64, 96, 1)).astype(np.float32)
    data = split_validation([image], [_targets(sparse=True)], 16, 0.0, np.random.default_rng(0))
    sampler = PatchSampler(data, patch=16, batch=8, seed=3, augment=True)
    x, y = sampler.batch_at(0, 0)
    assert x.shape == (8, 16, 16, 1) and y.shape == (8, 16, 16)
    assert all((patch != IGNORE).any() for patch in y)
    assert {0, 1} <= set(np.unique(y))
    x2, _y2 = sampler.batch_at(0, 0)
    np.testing.assert_array_equal(x, x2)
    assert not np.array_equal(sampler.batch_at(0, 1)[0], x)
