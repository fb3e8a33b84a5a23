"""Z/T stacks trained as painted 2D slices and predicted slice by slice; channel axes."""

import dask.array as da
import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import predict, train
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.stacks import move_channels, stack_shape, training_slices


def _stack(depth=4, seed=0):
    pairs = [make_blobs(seed=seed + z) for z in range(depth)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def test_only_painted_slices_train_in_sparse_mode():
    image, dense = _stack(5)
    scribbles = np.zeros(dense.shape, np.uint8)
    scribbles[1, 10:14, :] = 1
    scribbles[3, 40:44, :] = 2
    pairs, total = training_slices(image, scribbles, "sparse", ("img", "lab"))
    assert total == 5
    assert [names for _, _, names in pairs] == [
        ("img slice 1", "lab slice 1"),
        ("img slice 3", "lab slice 3"),
    ]
    np.testing.assert_array_equal(pairs[0][0], image[1])
    np.testing.assert_array_equal(pairs[1][1], scribbles[3])


def test_time_and_z_axes_both_become_slices():
    image, labels = _stack(6)
    image, labels = image.reshape(2, 3, *image.shape[1:]), labels.reshape(2, 3, *labels.shape[1:])
    labels[1, 2] = 0  # not painted yet
    pairs, total = training_slices(image, labels, "dense", ("img", "lab"))
    assert total == 6 and len(pairs) == 5
    assert pairs[-1][2] == ("img slice 1, 1", "lab slice 1, 1")


def test_channel_axis_is_moved_last_and_rgb_stacks_keep_colour():
    image, labels = make_blobs()
    channels_first = np.stack([image, image / 2])
    pairs, total = training_slices(channels_first, labels, "dense", ("img", "lab"), 0)
    assert total == 1 and pairs[0][0].shape == (*labels.shape, 2)
    rgb_stack = np.stack([np.dstack([image] * 3)] * 2)
    pairs, _ = training_slices(rgb_stack, np.stack([labels] * 2), "dense", ("img", "lab"))
    assert len(pairs) == 2 and pairs[0][0].shape == (*labels.shape, 3)
    with pytest.raises(SegDLError, match="img: channel axis 3 does not exist"):
        move_channels(channels_first, 3, "img")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("one_slice", r"lab covers one slice \(shape \(96, 128\)\) but img is a stack"),
        ("nothing", "lab: no slice of the stack is painted"),
        ("mismatch", r"img has shape \(4, 96, 128\) but lab has shape \(3, 96, 128\)"),
    ],
)
def test_bad_stacks_are_refused_clearly(case, message):
    image, labels = _stack(4)
    if case == "one_slice":
        labels = labels[0]
    elif case == "nothing":
        labels = np.zeros_like(labels)
    elif case == "mismatch":
        labels = labels[:3]
    with pytest.raises(SegDLError, match=message):
        training_slices(image, labels, "dense", ("img", "lab"))


def test_stack_shape_tells_stacks_from_single_images():
    assert stack_shape((64, 64), 1) == ()
    assert stack_shape((64, 64, 1), 1) == ()
    assert stack_shape((64, 64, 3), 1) == ()  # RGB for a grey model: refused for channels
    assert stack_shape((5, 64, 64), 1) == (5,)
    assert stack_shape((2, 5, 64, 64), 1) == (2, 5)
    assert stack_shape((64, 64, 3), 3) == ()
    assert stack_shape((5, 64, 64, 3), 3) == (5,)


@pytest.mark.slow
def test_a_stack_with_one_painted_slice_trains_and_predicts_slice_by_slice():
    image, labels = _stack(3)
    sparse = np.zeros(labels.shape, np.uint8)
    sparse[1] = np.where(labels[1] > 0, 2, 1)  # only the middle slice is painted
    model = train(image, sparse, mode="sparse", epochs=2, **TINY)
    assert model.info.training["slices"] == {"trained": 1, "total": 3}
    assert model.info.training["pairs"] == 1
    prediction = predict(model, da.from_array(image, chunks=(1, 96, 128))).compute()
    assert prediction.shape == image.shape and set(np.unique(prediction)) <= {1, 2}
    probabilities = predict(model, image, probabilities=True)
    assert probabilities.shape == (*image.shape, 2)
    np.testing.assert_allclose(probabilities[1], predict(model, image[1], probabilities=True))
    done = []
    predict(model, image, on_tile=lambda i, n: done.append((i, n)))
    assert done == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.slow
def test_channels_first_images_with_channel_axis():
    image, labels = make_blobs()
    two = np.stack([image, image[::-1]])
    model = train(two, labels, channel_axis=0, epochs=1, **TINY)
    assert model.info.channels == 2
    assert predict(model, two, channel_axis=0).shape == labels.shape
    with pytest.raises(SegDLError, match=r"image: shape \(2, 96, 128\) is not a 2D image"):
        predict(model, two)  # without the axis, (2, Y, X) is no image of 2 channels
