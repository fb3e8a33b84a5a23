"""Instance mode: targets with boundaries, separated objects out, bad instance labels."""

import numpy as np
import pytest
from skimage.draw import disk

from helpers import TINY
from napari_segdl import SegDLError, evaluate, load_model, predict, train
from napari_segdl.core.labels.instances import (
    instance_targets,
    instances_from_probabilities,
    min_object_size,
)


def touching_cells(shape=(96, 128), seed=0):
    """Pairs of touching discs, each with its own ID, on a noisy background."""
    rng = np.random.default_rng(seed)
    image = rng.normal(30, 6, shape).astype(np.float32)
    labels = np.zeros(shape, np.uint16)
    next_id = 1
    for cy in range(16, shape[0] - 12, 32):
        for cx in range(18, shape[1] - 24, 44):
            for dx in (0, 16):  # two discs of radius 8 whose rims touch
                rr, cc = disk((cy, cx + dx), 8, shape=shape)
                labels[rr, cc] = next_id
                image[rr, cc] = 90 + rng.normal(0, 6, len(rr))
                next_id += 1
            labels[cy - 1 : cy + 2, cx + 8] = 0  # a dark line where they touch, as in cells
            image[cy - 1 : cy + 2, cx + 8] = 40
    return image, labels


def test_targets_mark_the_rim_of_every_object_so_touching_ones_part():
    labels = np.zeros((8, 12), np.uint16)
    labels[1:7, 1:6], labels[1:7, 6:11] = 1, 2  # touching at columns 5 | 6
    targets = instance_targets(labels)
    assert targets[0].max() == 0 and targets[3, 3] == 1
    assert (targets[1:7, 5] == 2).all() and (targets[1:7, 6] == 2).all()
    assert set(np.unique(targets)) == {0, 1, 2}


def test_probabilities_to_separated_instances_with_small_ones_dropped():
    scores = np.zeros((20, 30, 3), np.float32)
    scores[..., 0] = 1
    for x0 in (2, 12):  # two interiors in one foreground blob, parted by a boundary
        scores[5:15, x0 : x0 + 8] = (0, 1, 0)
    scores[4:16, 10:12] = (0, 0, 1)
    scores[18, 25] = (0, 1, 0)  # a one-pixel speck
    objects = instances_from_probabilities(scores, min_size=4)
    assert objects.max() == 2 and objects[18, 25] == 0
    assert objects[10, 5] != objects[10, 15] and objects.dtype == np.uint16
    assert min_object_size([np.ones((10, 10), np.uint8)]) == 20


@pytest.mark.slow
def test_instance_model_separates_touching_cells(tmp_path):
    image, labels = touching_cells()
    model = train(image, labels, mode="instance", epochs=12, **{**TINY, "patch": 48})
    assert model.class_map.mode == "instance" and model.class_map.names[2] == "boundary"
    objects = predict(load_model(model.save(tmp_path / "cells.keras")), image)
    assert objects.shape == labels.shape and objects.min() == 0
    scores = evaluate(objects, labels, instance=True)
    assert scores["ap50"] > 0.5, scores["per_threshold"]["0.50"]  # touching pairs come apart


@pytest.mark.slow
@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.pad(np.ones((60, 60), np.uint8), 2), "one object .* covering 88%"),
        (np.zeros((20, 20), np.uint8), "no objects"),
        (np.kron(np.eye(3, dtype=np.uint8), np.ones((6, 6), np.uint8)), "looks semantic"),
    ],
    ids=["one-big-object", "empty", "semantic-mask"],
)
def test_labels_that_are_not_instances_are_refused(labels, message):
    image = np.random.default_rng(0).normal(size=labels.shape).astype(np.float32)
    with pytest.raises(SegDLError, match=message):
        train(image, labels, mode="instance", epochs=1, **{**TINY, "patch": 16})
