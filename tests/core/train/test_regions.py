"""Training only where the user checked: corrected parts of a prediction, not the rest."""

import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import SegDLError, train
from napari_segdl.core.labels.modes import IGNORE
from napari_segdl.core.train.pairs import prepare_pairs


def test_pixels_outside_the_checked_regions_are_left_out():
    image, labels = make_blobs()
    region = np.zeros(labels.shape, bool)
    region[:, :64] = True
    pairs = prepare_pairs([image], [labels], "dense", regions=[region])
    target = pairs.targets[0]
    assert np.all(target[:, 64:] == IGNORE) and np.all(target[:, :64] != IGNORE)
    assert pairs.extra["checked_pixels"] == region.sum()


def test_regions_follow_the_slices_of_a_stack():
    image, labels = make_blobs()
    stack, stack_labels = np.stack([image] * 3), np.zeros((3, *labels.shape), labels.dtype)
    stack_labels[1] = labels  # slice 1 painted
    region = np.zeros(stack_labels.shape, bool)
    region[2, :10, :10] = True  # slice 2 checked: its background is verified
    region[1, 40:, :] = True
    pairs = prepare_pairs([stack], [stack_labels], "dense", regions=[region])
    assert len(pairs.targets) == 2 and pairs.extra["slices"] == {"trained": 2, "total": 3}
    assert np.all(pairs.targets[0][:40] == IGNORE) and np.all(pairs.targets[0][40:] != IGNORE)
    assert (pairs.targets[1] != IGNORE).sum() == 100


@pytest.mark.parametrize(
    ("mode", "region", "message"),
    [
        (
            "dense",
            np.zeros((96, 128), bool),
            "The checked regions cover nothing painted in labels 0",
        ),
        ("dense", np.zeros((10, 10), bool), r"have shape \(10, 10\) but the labels have shape"),
    ],
)
def test_regions_that_cover_nothing_painted_are_refused(mode, region, message):
    image, labels = make_blobs()
    with pytest.raises(SegDLError, match=message):
        prepare_pairs([image], [labels], mode, regions=[region])


def test_one_region_per_pair():
    image, labels = make_blobs()
    with pytest.raises(SegDLError, match="2 checked regions for 1 pairs"):
        prepare_pairs([image], [labels], "dense", regions=[None, None])


def test_sparse_regions_over_unpainted_pixels_cover_nothing():
    image, labels = make_blobs()
    scribbles = np.zeros_like(labels)
    scribbles[:5, :5], scribbles[90:, 120:] = 1, 2
    region = np.zeros(labels.shape, bool)
    region[50:60, 50:60] = True
    with pytest.raises(SegDLError, match="cover nothing painted"):
        prepare_pairs([image], [scribbles], "sparse", regions=[region])


@pytest.mark.slow
def test_training_with_checked_regions_records_them():
    image, labels = make_blobs()
    region = np.zeros(labels.shape, bool)
    region[:, :64] = True
    model = train(image, labels, regions=[region], epochs=1, **TINY)
    assert model.info.training["checked_pixels"] == region.sum()
