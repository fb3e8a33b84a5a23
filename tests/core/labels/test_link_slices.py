"""Objects whole across slices: a 2D model's per-slice IDs linked into 3D IDs by overlap."""

import numpy as np
import pytest

from helpers import TINY
from napari_segdl import SegDLError, predict, train
from napari_segdl.core.labels.instances import link_slices


def _drifting_stack():
    """Three slices: an object drifting by one pixel, and a second one from slice 1 on; IDs
    numbered independently per slice (as a 2D model gives them)."""
    stack = np.zeros((3, 24, 24), np.uint16)
    stack[0, 2:8, 2:8] = 5
    stack[1, 3:9, 3:9], stack[1, 12:18, 12:18] = 1, 2
    stack[2, 4:10, 4:10], stack[2, 12:18, 12:18] = 7, 3
    return stack


def test_overlapping_objects_share_one_id_through_the_stack():
    linked = link_slices(_drifting_stack())
    assert linked.dtype == np.uint32
    assert [sorted(np.unique(s[s > 0]).tolist()) for s in linked] == [[1], [1, 2], [1, 2]]
    assert linked[0, 5, 5] == linked[1, 6, 6] == linked[2, 7, 7]


def test_a_stricter_iou_keeps_objects_apart():
    linked = link_slices(_drifting_stack(), min_iou=0.9)
    assert len(np.unique(linked[linked > 0])) == 4  # the drifting object: 3 pieces; the other: 1


def test_time_points_are_linked_separately():
    movie = np.stack([_drifting_stack()] * 2)
    linked = link_slices(movie)
    np.testing.assert_array_equal(linked[0], linked[1])


def test_a_single_image_cannot_be_linked():
    with pytest.raises(SegDLError, match="needs a stack"):
        link_slices(np.zeros((8, 8), np.uint8))


@pytest.mark.slow
def test_predict_links_the_slices_of_an_instance_model(tmp_path):
    image = np.zeros((64, 64), np.float32)
    labels = np.zeros((64, 64), np.uint16)
    for number, (y, x) in enumerate([(14, 14), (14, 46), (46, 24), (48, 50)], 1):
        labels[y - 7 : y + 7, x - 7 : x + 7] = number
        image[labels == number] = 100
    model = train(image, labels, mode="instance", epochs=8, **TINY)
    stack = np.stack([image, np.roll(image, 1, axis=1), np.roll(image, 2, axis=1)])
    per_slice = predict(model, stack)
    linked = predict(model, stack, link_slices=0.5)
    assert linked.shape == stack.shape
    assert len(np.unique(linked[linked > 0])) <= len(np.unique(per_slice[0][per_slice[0] > 0]))
    with pytest.raises(SegDLError, match="needs a stack"):
        predict(model, image, link_slices=0.5)
    with pytest.raises(SegDLError, match=r"link_slices must be between 0\.01 and 1"):
        predict(model, stack, link_slices=1.5)
