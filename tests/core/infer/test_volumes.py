"""3D models on volumes: 3D tiles, lazy chunks, thin volumes, series, 3D objects, refusals."""

import dask.array as da
import numpy as np
import pytest

from napari_segdl import evaluate, predict
from napari_segdl.core.bundle import ModelInfo, SegModel
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.infer.engine import labels_from_probabilities, predict_probabilities
from napari_segdl.core.infer.stitch import stitch_instances
from napari_segdl.core.models import build_model


def model_3d(mode="dense", depth=2, z_skip=0, seed=0):
    """An untrained 3D U-Net (random weights predict varied classes) with its bundle metadata."""
    import keras

    keras.utils.set_random_seed(seed)
    classes = 3 if mode == "instance" else 2
    params = {"depth": depth, "filters": 4, "dims": 3, "z_skip": z_skip}
    values = [0, 1, 2] if mode == "instance" else [0, 1]
    info = ModelInfo(
        arch="unet",
        arch_params=params,
        classes={"mode": mode, "values": values, "names": [str(v) for v in values]},
        channels=1,
        normalization={"method": "percentile", "low": 1.0, "high": 99.8},
        patch=32,
    )
    return SegModel(build_model("unet", 1, classes, **params), info)


VOLUME = np.random.default_rng(0).random((10, 40, 44)).astype(np.float32)


def test_a_volume_is_predicted_whole_with_the_input_shape():
    model = model_3d()
    labels = predict(model, VOLUME)
    assert labels.shape == VOLUME.shape and set(np.unique(labels)) <= {0, 1}
    scores = predict(model, VOLUME, probabilities=True)
    assert scores.shape == (*VOLUME.shape, 2)
    assert np.array_equal(labels, scores.argmax(-1))


def test_3d_tiles_along_every_axis_equal_the_whole_volume():
    model = model_3d()
    volume = np.random.default_rng(1).random((120, 24, 176)).astype(np.float32)
    image = volume[..., None]  # sizes whose tiles need no padding: the same borders as whole
    whole = predict_probabilities(model, image, (128, 24, 184))
    tiled = predict_probabilities(model, image, (112, 24, 160))  # 2 tiles in z and in x
    assert np.abs(whole - tiled).max() < 1e-5


def test_lazy_volumes_equal_volumes_in_memory():
    model = model_3d()
    volume = np.random.default_rng(2).random((8, 200, 64)).astype(np.float32)
    expected = predict(model, volume, probabilities=True)
    lazy = predict(model, da.from_array(volume, chunks=(8, 100, 64)), probabilities=True, tile=160)
    assert isinstance(lazy, da.Array) and lazy.numblocks[1] > 1
    assert np.abs(lazy.compute() - expected).max() < 1e-5


def test_a_volume_thinner_than_the_network_is_padded():
    model = model_3d(depth=2)  # z grid 4
    assert predict(model, VOLUME[:3]).shape == (3, 40, 44)
    assert predict(model, VOLUME[:1]).shape == (1, 40, 44)


def test_a_series_of_volumes_is_predicted_volume_by_volume():
    model = model_3d()
    series = np.stack([VOLUME, VOLUME[::-1]])
    done = []
    labels = predict(model, series, on_tile=lambda d, t: done.append((d, t)))
    assert labels.shape == series.shape and done[-1] == (2, 2)
    assert np.array_equal(labels[0], predict(model, VOLUME))


def test_a_3d_model_refuses_2d_images_and_2d_options():
    model = model_3d()
    with pytest.raises(SegDLError, match=r"'slice' is a 2D image .* 3D model"):
        predict(model, VOLUME[0], name="'slice'")
    for option in ({"scale": 0.5}, {"diameter": 20.0}):
        with pytest.raises(SegDLError, match=r"for 2D models .* 3D model"):
            predict(model, VOLUME, **option)
    with pytest.raises(SegDLError, match="link_slices is for 2D models"):
        predict(model_3d("instance"), VOLUME, link_slices=0.5)


def _ball_scores(shape=(10, 40, 44), centres=((5, 20, 12), (5, 20, 32))):
    """Background/object/boundary scores of two balls that each span most slices."""
    zz, yy, xx = np.indices(shape)
    scores = np.zeros((*shape, 3), np.float32)
    scores[..., 0] = 1
    for c in centres:
        r = np.sqrt(((zz - c[0]) / 1.5) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2)
        scores[r < 9] = (0, 0, 1)
        scores[r < 7] = (0, 1, 0)
    return scores


def test_instances_of_a_3d_model_are_3d_objects():
    model = model_3d("instance")
    labels = labels_from_probabilities(model, _ball_scores())
    assert labels.max() == 2  # two objects, each one ID through all its slices
    column = labels[:, 20, 12]
    assert len(np.unique(labels[5])) == 3 and column.min() > 0 and len(np.unique(column)) == 1


def test_lazy_3d_instances_are_joined_across_chunks():
    scores = _ball_scores((10, 40, 90), ((5, 20, 44), (5, 20, 70)))
    lazy = da.from_array(scores, chunks=(10, 40, 45, 3))  # the first ball is cut by the border
    labels = stitch_instances(lazy, {"min_size": 4}, volume=True, overlap=16).compute()
    whole = labels_from_probabilities(model_3d("instance"), scores)
    assert labels.max() == 2 == whole.max()
    assert evaluate(labels, whole, instance=True)["f1_50"] == 1.0


def test_3d_objects_are_matched_by_3d_iou():
    truth = np.zeros((6, 20, 20), np.uint16)
    truth[1:5, 2:8, 2:8], truth[1:5, 10:18, 10:18] = 1, 2
    shifted = np.roll(truth, 1, axis=0)  # the first slice of each object missing, one more after
    scores = evaluate(shifted, truth, instance=True)
    assert scores["f1_50"] == 1.0 and scores["mean_matched_iou"] == pytest.approx(3 / 5)
    per_slice = truth.copy()
    per_slice[3:5][per_slice[3:5] > 0] += 10  # each object cut in two along z
    assert evaluate(per_slice, truth, instance=True)["f1_50"] < 1.0
